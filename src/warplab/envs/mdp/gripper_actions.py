"""A binary gripper action: one number per world opens or closes a gripper's position servos."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.managers.protocols import ActionTerm

if TYPE_CHECKING:
    from warplab.envs.config import ActionTermCfg
    from warplab.envs.rl_env import RlEnv


class BinaryGripperAction(ActionTerm):
    """Open or close a gripper: ``action [num_envs, 1]``; below 0 writes ``close`` to the gripper's
    position actuators, 0 and above writes ``open`` (m or rad, one value per actuator), as Isaac
    Lab's ``BinaryJointPositionAction`` maps a policy's single gripper output.

    Params: ``actuators`` (names or regex of the gripper's position actuators), ``open`` and
    ``close`` (a number or one per actuator: the targets, in the actuators' units).

    Not affine, so ``actuator_targets()`` is None: ONNX export refuses a policy with it, and the
    action space leaves its entry unbounded (any real number is a valid command).

    Raises:
      ValueError: unknown params, or ``open``/``close`` of the wrong length.
    """

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        known = {"actuators", "open", "close"}
        unknown = sorted(set(cfg.params) - known)
        missing = sorted({"open", "close"} - set(cfg.params))
        if unknown or missing:
            raise ValueError(
                f"BinaryGripperAction params: unknown {unknown}, missing {missing}; it takes {sorted(known)}"
            )
        self._env = env
        self.actuator_ids = env.index.tensor("actuator", cfg.params.get("actuators"))
        count = len(self.actuator_ids)
        self.action_dim = 1

        def targets(name: str) -> torch.Tensor:
            value = torch.as_tensor(cfg.params[name], dtype=torch.float32, device=env.device).reshape(-1)
            if value.numel() not in (1, count):
                raise ValueError(
                    f"BinaryGripperAction params[{name!r}] needs 1 or {count} values (one per actuator), "
                    f"got {value.numel()}"
                )
            return value.expand(count).clone()

        self.open, self.close = targets("open"), targets("close")
        self.target = self.open.expand(env.num_envs, count).clone()
        """Controls written at the next ``apply`` ``[num_envs, num_actuators]``."""

    def process(self, action: torch.Tensor) -> None:
        torch.where(action[:, :1] < 0.0, self.close, self.open, out=self.target)

    def apply(self) -> None:
        self._env.sim.ctrl[:, self.actuator_ids] = self.target


__all__ = ["BinaryGripperAction"]
