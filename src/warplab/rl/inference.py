"""Loading a trained policy for acting only (play, video, evaluation, export), without the optimizer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from warplab.rl.checkpoint import CheckpointError, check_model_state, load_checkpoint
from warplab.rl.config import ALGORITHMS, RunnerCfg, runner_cfg_from_dict, to_plain
from warplab.rl.networks import ActorCritic
from warplab.rl.off_policy_networks import OffPolicyActorCritic


class TrainedPolicy:
    """A trained actor-critic in evaluation mode, with what it was trained on.

    Attributes:
      model: the ``ActorCritic`` (PPO) or ``OffPolicyActorCritic`` (SAC, TD3), normalizers included.
      obs_shapes: ``{group: shape}`` it was trained with.
      action_dim: size of its actions.
      algorithm: "ppo", "sac" or "td3".
    """

    def __init__(
        self,
        model: ActorCritic | OffPolicyActorCritic,
        obs_shapes: Mapping[str, Sequence[int]],
        action_dim: int,
        algorithm: str = "ppo",
    ):
        self.model = model.eval()
        self.obs_shapes = {k: tuple(v) for k, v in obs_shapes.items()}
        self.action_dim = action_dim
        self.algorithm = algorithm

    def act_inference(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Deterministic actions ``[num_envs, action_dim]``: the mean of PPO's Gaussian, or
        ``action_scale * tanh(mean)`` of the SAC and TD3 actors (no sampling, no exploration noise)."""
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
        algorithm = checkpoint_algorithm(checkpoint)
        model = build_model(cfg, algorithm, obs_shapes, int(checkpoint["action_dim"]))
    except (ValueError, TypeError, RuntimeError) as error:
        # A config edited by hand or from another version: say which file, not only what failed.
        raise CheckpointError(
            f"checkpoint {path}: its saved config does not build a policy ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:300]})"
        ) from error
    network_cfg = cfg.policy if algorithm == "ppo" else cfg.sac_policy
    check_model_state(path, checkpoint, model, to_plain(network_cfg))
    model.load_state_dict(checkpoint["model"])
    model.to(torch.device(device))
    policy = TrainedPolicy(model, obs_shapes, int(checkpoint["action_dim"]), algorithm)
    return policy, cfg.experiment_name or None


def build_model(
    cfg: RunnerCfg, algorithm: str, obs_shapes: Mapping[str, Sequence[int]], action_dim: int
) -> ActorCritic | OffPolicyActorCritic:
    """The untrained networks of ``algorithm`` with ``cfg``'s settings (what a checkpoint's
    ``model`` state dict loads into): ``ActorCritic`` for PPO, ``OffPolicyActorCritic`` for SAC
    (Gaussian actor) and TD3 (deterministic actor)."""
    if algorithm == "ppo":
        return ActorCritic(obs_shapes, action_dim, cfg.policy)
    return OffPolicyActorCritic(
        obs_shapes, action_dim, cfg.sac_policy, cfg.sac, deterministic=algorithm == "td3"
    )


def checkpoint_algorithm(checkpoint: Mapping[str, Any]) -> str:
    """The algorithm a loaded checkpoint was trained with: its own ``algorithm`` entry (the
    off-policy runner writes one), else its config's, else "ppo" (a checkpoint written before SAC
    and TD3 existed has neither).

    Raises:
        ValueError: the entry names none of "ppo", "sac", "td3".
    """
    config = checkpoint.get("config")
    saved = checkpoint.get("algorithm") or (config.get("algorithm") if isinstance(config, Mapping) else None)
    algorithm = saved or "ppo"
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    return str(algorithm)
