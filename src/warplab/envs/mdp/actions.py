"""Action terms: classes built once as ``cls(cfg, env)``; each owns a slice of the action vector.

``process(action)`` receives the slice ``[num_envs, action_dim]`` once per policy step;
``apply()`` writes controls before the physics substeps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

import torch

from warplab.envs import draws
from warplab.envs.managers.protocols import ActionTerm, ActuatorTargets

if TYPE_CHECKING:
    from warplab.envs.config import ActionTermCfg
    from warplab.envs.rl_env import RlEnv


class _ActuatorAction(ActionTerm):
    """``ctrl[actuators] = offset + scale * clip(action)``, written once per policy step."""

    control: ClassVar[Literal["position", "effort"] | None] = None
    """What the actuators take: position targets or efforts (declared for export)."""

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        self._env = env
        self.actuator_ids = env.index.tensor("actuator", p.get("actuators"))
        self.action_dim = len(self.actuator_ids)
        scale = p.get("scale", 1.0)
        self.scale = (
            torch.as_tensor(scale, dtype=torch.float32, device=env.device).expand(self.action_dim).clone()
        )
        self.clip = p.get("clip")
        self.offset = torch.zeros(self.action_dim, device=env.device)
        self.target = torch.zeros(env.num_envs, self.action_dim, device=env.device)
        """Controls written at the next ``apply`` ``[num_envs, action_dim]``."""

    def process(self, action: torch.Tensor) -> None:
        if self.clip is not None:
            action = action.clamp(self.clip[0], self.clip[1])
        torch.addcmul(self.offset, action, self.scale, out=self.target)

    def apply(self) -> None:
        self._env.sim.ctrl[:, self.actuator_ids] = self.target

    def actuator_targets(self) -> ActuatorTargets:
        return ActuatorTargets(self.actuator_ids, self.scale, self.offset, self.clip, self.control)


class JointPositionAction(_ActuatorAction):
    """Position targets for position actuators: ``ctrl = default_joint_pos + scale * action`` (rad or m).

    Params: ``actuators`` (names or regex; None: all), ``scale`` (float or per-actuator list),
    ``use_default_offset`` (True: offset by the joint's default position), ``clip`` (on the raw action).
    """

    control = "position"

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        super().__init__(cfg, env)
        if cfg.params.get("use_default_offset", True):
            joints = env.index.actuator_joint_ids(
                [env.index.names["actuator"][i] for i in self.actuator_ids.tolist()]
            )
            qadr = torch.as_tensor(env.mj_model.jnt_qposadr[joints], dtype=torch.long, device=env.device)
            self.offset = env.sim.init_qpos[qadr].clone()


class JointEffortAction(_ActuatorAction):
    """Torques or forces through motor actuators: ``ctrl = scale * action`` (MuJoCo clamps to ctrlrange).

    Params: ``actuators``, ``scale``, ``clip``.
    """

    control = "effort"


class DelayedJointPositionAction(JointPositionAction):
    """Position targets, as ``JointPositionAction``, that reach the actuators some policy steps late.

    At every reset each world draws its delay, a whole number of policy steps in
    ``{min_delay_steps, ..., max_delay_steps}``, and until its next reset applies the target it was
    given that many policy steps ago (latency of the robot's computer, network and motor drivers).
    Early in an episode, before that many targets exist, it applies the oldest one it has: the
    episode's first. ``max_delay_steps=0`` is ``JointPositionAction`` exactly.

    Params: those of ``JointPositionAction``, plus ``max_delay_steps`` (k, policy steps) and
    ``min_delay_steps`` (default 0).
    """

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        super().__init__(cfg, env)
        low = cfg.params.get("min_delay_steps", 0)
        high = cfg.params.get("max_delay_steps", 0)
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
            raise ValueError(
                f"min_delay_steps and max_delay_steps must be integers with 0 <= min <= max, got {low} and {high}"
            )
        self._delay_range = (low, high)
        n, device = env.num_envs, env.device
        self.history = torch.zeros(n, high + 1, self.action_dim, device=device)
        """Targets of the last ``max_delay_steps + 1`` policy steps ``[num_envs, k + 1, action_dim]``,
        a ring whose slot ``head`` holds the newest."""
        self.head = torch.zeros(1, dtype=torch.long, device=device)
        """Slot of the newest target in ``history`` ``[1]`` (a tensor, so the step never syncs)."""
        self.delay = torch.full((n,), low, dtype=torch.long, device=device)
        """Each world's delay for its current episode, policy steps ``[num_envs]``."""
        self.fresh = torch.ones(n, dtype=torch.bool, device=device)
        """Worlds whose next target is their episode's first: it fills their whole history."""
        self._latest = torch.zeros(n, self.action_dim, device=device)
        self._worlds = torch.arange(n, device=device)

    def process(self, action: torch.Tensor) -> None:
        if self.clip is not None:
            action = action.clamp(self.clip[0], self.clip[1])
        torch.addcmul(self.offset, action, self.scale, out=self._latest)
        slots = self.history.shape[1]
        self.head.add_(1).remainder_(slots)
        fresh = self.fresh.view(-1, 1, 1)
        self.history.copy_(torch.where(fresh, self._latest.unsqueeze(1), self.history))
        self.history.index_copy_(1, self.head, self._latest.unsqueeze(1))
        self.fresh.zero_()
        slot = torch.remainder(self.head - self.delay, slots)
        self.target.copy_(self.history[self._worlds, slot])

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """Draws a new delay for the reset worlds; their next target fills their history."""
        self.fresh |= mask
        low, high = self._delay_range
        if high > low:
            env = self._env
            drawn = draws.randint(low, high + 1, env.num_envs, env.rng, env.device)
            self.delay.copy_(torch.where(mask, drawn, self.delay))
