"""Action terms: classes built once as ``cls(cfg, env)``; each owns a slice of the action vector.

``process(action)`` receives the slice ``[num_envs, action_dim]`` once per policy step;
``apply()`` writes controls before the physics substeps.
"""

from __future__ import annotations

import torch


class _ActuatorAction:
    def __init__(self, cfg, env):
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


class JointPositionAction(_ActuatorAction):
    """Position targets for position actuators: ``ctrl = default_joint_pos + scale * action`` (rad or m).

    Params: ``actuators`` (names or regex; None: all), ``scale`` (float or per-actuator list),
    ``use_default_offset`` (True: offset by the joint's default position), ``clip`` (on the raw action).
    """

    def __init__(self, cfg, env):
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
