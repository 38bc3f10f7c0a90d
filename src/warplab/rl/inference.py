"""Loading a trained policy for acting only (play, video, evaluation), without the optimizer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from warplab.rl.checkpoint import CheckpointError, check_model_state, load_checkpoint
from warplab.rl.config import runner_cfg_from_dict, to_plain
from warplab.rl.networks import ActorCritic


class TrainedPolicy:
    """A trained actor-critic in evaluation mode, with what it was trained on.

    Attributes:
      model: the ``ActorCritic`` (normalizers included).
      obs_shapes: ``{group: shape}`` it was trained with.
      action_dim: size of its actions.
    """

    def __init__(self, model: ActorCritic, obs_shapes: Mapping[str, Sequence[int]], action_dim: int):
        self.model = model.eval()
        self.obs_shapes = {k: tuple(v) for k, v in obs_shapes.items()}
        self.action_dim = action_dim

    def act_inference(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Deterministic actions ``[num_envs, action_dim]`` (the mean of the Gaussian)."""
        return self.model.act_inference(obs)

    def check_compatible(
        self, obs_shapes: Mapping[str, Sequence[int]], action_dim: int, source: Path | str
    ) -> None:
        """Raises ``CheckpointError`` when an env's observations or actions differ from training."""
        shapes = {k: tuple(v) for k, v in obs_shapes.items()}
        needed = {k: v for k, v in self.obs_shapes.items() if k in ("policy", "critic")}
        for group, shape in needed.items():
            if group == "critic" and group not in shapes:
                continue
            if shapes.get(group) != shape:
                raise CheckpointError(
                    f"checkpoint {source}: the policy was trained on '{group}' observations of shape {list(shape)}, "
                    f"but this env gives {list(shapes[group]) if group in shapes else 'none'}"
                )
        if action_dim != self.action_dim:
            raise CheckpointError(
                f"checkpoint {source}: the policy outputs {self.action_dim} actions, but this env takes {action_dim}"
            )


def load_policy(path: str | Path, device: str | torch.device = "cpu") -> tuple[TrainedPolicy, str | None]:
    """Loads the policy of a checkpoint written by the runner.

    Returns:
      the policy, and the name of the task it was trained on (the run's experiment name) or None.

    Raises:
      CheckpointError: the file is missing, corrupt, or its weights do not fit its own config.
    """
    checkpoint = load_checkpoint(path)
    for key in ("config", "model", "obs_shapes", "action_dim"):
        if key not in checkpoint:
            raise CheckpointError(
                f"checkpoint {path}: missing '{key}'; it was not written by warplab's runner"
            )
    obs_shapes = checkpoint["obs_shapes"]
    try:
        cfg = runner_cfg_from_dict(checkpoint["config"])
        model = ActorCritic(obs_shapes, int(checkpoint["action_dim"]), cfg.policy)
    except (ValueError, TypeError, RuntimeError) as error:
        # A config edited by hand or from another version: say which file, not only what failed.
        raise CheckpointError(
            f"checkpoint {path}: its saved config does not build a policy ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:300]})"
        ) from error
    check_model_state(path, checkpoint, model, to_plain(cfg.policy))
    model.load_state_dict(checkpoint["model"])
    model.to(torch.device(device))
    return TrainedPolicy(model, obs_shapes, int(checkpoint["action_dim"])), cfg.experiment_name or None
