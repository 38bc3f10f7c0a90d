"""Terms of Gymnasium-Robotics' Franka kitchen (``FrankaKitchen-v1``), as the installed package computes
them (``gymnasium_robotics/envs/franka_kitchen/franka_env.py`` and ``kitchen_env.py``,
gymnasium-robotics 1.4.2).

The package's state layout, which the terms follow: ``qpos[:9]`` and ``qvel[:9]`` are the robot's
(7 arm hinges, rad; 2 finger slides, m), the rest the kitchen's props (``qpos[9:]``: 21 values,
the kettle's free joint last; ``qvel[9:]``: 20). Its observation noise is uniform in [-1, 1] times
an amplitude per entry; the amplitudes come from the package's ``franka_config.xml``
(``franka_config``), read when the env is built.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import numpy as np
import torch

from warplab.envs import draws
from warplab.envs.config import ActionTermCfg
from warplab.envs.managers.protocols import ActionTerm
from warplab.tasks.gym_robotics.assets import robotics_asset_path

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

ROBOT_DOF = 9
"""The robot's joints: ``qpos[:9]``, ``qvel[:9]``, actuators 0..8 (one position servo per joint)."""
CONFIG_FILE = "kitchen_franka/franka_assets/franka_config.xml"


@dataclasses.dataclass(frozen=True)
class FrankaConfig:
    """The package's ``franka_config.xml``, one row per degree of freedom of the kitchen (``nv``):
    what ``FrankaRobot._read_specs_from_config`` reads from its entries ``qpos0`` .. ``qpos<nv-1>``."""

    pos_bound: np.ndarray
    """``[nv, 2]`` position bounds (rad or m); the first 9 clip the robot's servo targets."""
    vel_bound: np.ndarray
    """``[nv, 2]`` velocity bounds (rad/s or m/s); the first 9 clip the scaled action."""
    pos_noise_amp: np.ndarray
    """``[nv]`` amplitude of the position noise, before the noise ratio."""
    vel_noise_amp: np.ndarray
    """``[nv]`` amplitude of the velocity noise, before the noise ratio."""


def franka_config(nv: int) -> FrankaConfig:
    """Reads the package's ``franka_config.xml`` for a model of ``nv`` degrees of freedom.

    Raises:
      ValueError: an entry ``qpos<i>`` or one of its attributes is missing (naming the file and entry).
    """
    path = robotics_asset_path(CONFIG_FILE)
    root = ET.parse(path).getroot()
    rows: dict[str, list[list[float]]] = {
        k: [] for k in ("pos_bound", "vel_bound", "pos_noise_amp", "vel_noise_amp")
    }
    for i in range(nv):
        node = root.find(f"qpos{i}")
        if node is None:
            raise ValueError(f"{path}: no entry qpos{i} (the kitchen has {nv} degrees of freedom)")
        for key, values in rows.items():
            text = node.get(key)
            if text is None:
                raise ValueError(f"{path}: entry qpos{i} has no attribute {key}")
            values.append([float(v) for v in text.split()])
    return FrankaConfig(
        pos_bound=np.asarray(rows["pos_bound"]),
        vel_bound=np.asarray(rows["vel_bound"]),
        pos_noise_amp=np.asarray(rows["pos_noise_amp"])[:, 0],
        vel_noise_amp=np.asarray(rows["vel_noise_amp"])[:, 0],
    )


def observation_noise_amplitudes(
    config: FrankaConfig, nq: int, robot_noise_ratio: float, object_noise_ratio: float
) -> np.ndarray:
    """``[9 + 9 + (nq - 9) + (nv - 9)]`` the half-width of the uniform noise on each entry of the
    package's ``observation`` (robot qpos, robot qvel, prop qpos, prop qvel), as its ``_get_obs``
    methods scale it: the robot's entries ``robot_noise_ratio * amp[:9]``; the props' positions
    ``object_noise_ratio * pos_noise_amp[8:]`` (the package's slice starts at 8, not 9: its 21
    amplitudes for the 21 prop coordinates are those of the config's entries 8..28, kept here as
    it computes them) and their velocities ``object_noise_ratio * vel_noise_amp[9:]``."""
    nv = len(config.pos_noise_amp)
    prop_pos = config.pos_noise_amp[8:]
    if len(prop_pos) != nq - ROBOT_DOF:
        raise ValueError(
            f"franka_config: {len(prop_pos)} prop position amplitudes for {nq - ROBOT_DOF} coordinates"
        )
    return np.concatenate(
        [
            robot_noise_ratio * config.pos_noise_amp[:ROBOT_DOF],
            robot_noise_ratio * config.vel_noise_amp[:ROBOT_DOF],
            object_noise_ratio * prop_pos,
            object_noise_ratio * config.vel_noise_amp[ROBOT_DOF:nv],
        ]
    )


# ---------------------------------------------------------------- action
class JointVelocityAction(ActionTerm):
    """The package's Franka action: 9 joint velocities in [-1, 1] (clipped), scaled by 2 (its
    ``act_rng``; rad/s or m/s), clipped to the config's velocity bounds (±10, never reached),
    integrated over one policy step (``env.policy_dt``, 0.08 s) from the robot's joint positions
    *as last observed* (with their noise) and clipped to the config's position bounds: the 9
    position servos' targets (``ctrl``, rad or m), which MuJoCo clamps to their control ranges.

    The package computes the target from its last noisy observation, so this term owns the
    observation noise (``noise``, ``[num_envs, 59]`` in the layout of
    ``observation_noise_amplitudes``): it is drawn for every world after the action used it and
    for each reset world at its reset, and the observation terms (``noisy_state``) add it, so
    that a world's observation and its next action see the same draw. With both noise ratios 0
    (``params``) the task is deterministic.

    Params: ``robot_noise_ratio`` (0.01), ``object_noise_ratio`` (0.0005), the package's defaults.
    """

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        p = cfg.params
        m, device = env.mj_model, env.device
        # The package writes its 9 targets into ctrl[:9] and reads the robot's positions from qpos[:9].
        if m.nu < ROBOT_DOF or any(m.jnt_qposadr[m.actuator_trnid[a, 0]] != a for a in range(ROBOT_DOF)):
            raise ValueError(
                "JointVelocityAction: the scene's first 9 actuators must drive the joints of qpos[0..8] in "
                "order (the kitchen's Franka)"
            )
        self._env = env
        config = franka_config(m.nv)
        amplitude = observation_noise_amplitudes(
            config, m.nq, float(p.get("robot_noise_ratio", 0.01)), float(p.get("object_noise_ratio", 0.0005))
        )
        self.noise_amplitude = torch.as_tensor(amplitude, dtype=torch.float32, device=device)
        """``[59]`` half-width of the uniform observation noise per entry (rad, m, rad/s, m/s)."""
        pos_bound, vel_bound = (
            torch.as_tensor(b[:ROBOT_DOF], dtype=torch.float32, device=device)
            for b in (config.pos_bound, config.vel_bound)
        )
        self.pos_low, self.pos_high = pos_bound[:, 0], pos_bound[:, 1]
        self.vel_low, self.vel_high = vel_bound[:, 0], vel_bound[:, 1]
        self.scale = 2.0
        """The package's ``act_rng`` (its ``act_mid`` is 0): rad/s (m/s) per unit action."""
        self.action_dim = ROBOT_DOF
        self.clip = (-1.0, 1.0)
        self.targets = torch.zeros(env.num_envs, ROBOT_DOF, device=device)
        """Servo targets written at the next ``apply`` ``[N, 9]``, rad (arm) or m (fingers)."""
        self.noise = torch.zeros(env.num_envs, len(amplitude), device=device)
        """Noise of the current observation ``[N, 59]``, in the units of its entries."""
        self._draw(torch.ones(env.num_envs, dtype=torch.bool, device=device))

    def action_range(self) -> tuple[float, float]:
        """The package's action space, [-1, 1]: ``process`` clamps to it."""
        return self.clip

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"targets": self.targets, "noise": self.noise}

    def _draw(self, mask: torch.Tensor) -> None:
        draw = (
            2.0 * draws.rand(tuple(self.noise.shape), self._env.rng, self._env.device) - 1.0
        ) * self.noise_amplitude
        self.noise.copy_(torch.where(mask[:, None], draw, self.noise))

    def process(self, action: torch.Tensor) -> None:
        sim = self._env.sim
        velocity = (self.scale * action.clamp(self.clip[0], self.clip[1])).clamp(self.vel_low, self.vel_high)
        observed = sim.qpos[:, :ROBOT_DOF] + self.noise[:, :ROBOT_DOF]
        torch.clamp(observed + velocity * self._env.policy_dt, self.pos_low, self.pos_high, out=self.targets)
        # The next observation's noise: this step's has been used.
        self._draw(torch.ones_like(self.noise[:, 0], dtype=torch.bool))

    def apply(self) -> None:
        self._env.sim.ctrl[:, :ROBOT_DOF] = self.targets

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        self._draw(mask)


# ---------------------------------------------------------------- observations
def noisy_state(env: RlEnv, part: str, action: str = "joint_velocities") -> torch.Tensor:
    """One part of the package's ``observation`` with the noise the action term ``action`` holds:
    ``part`` ``"robot_qpos"`` ``[num_envs, 9]`` (rad, m), ``"robot_qvel"`` ``[num_envs, 9]``
    (rad/s, m/s), ``"prop_qpos"`` ``[num_envs, nq - 9]``, ``"prop_qvel"`` ``[num_envs, nv - 9]``."""
    term = env.action_manager.term(action)
    if not isinstance(term, JointVelocityAction):
        raise TypeError(
            f"noisy_state: action term {action!r} is a {type(term).__name__}, not a JointVelocityAction"
        )
    sim = env.sim
    nq = sim.qpos.shape[1]
    values, start = {
        "robot_qpos": (sim.qpos[:, :ROBOT_DOF], 0),
        "robot_qvel": (sim.qvel[:, :ROBOT_DOF], ROBOT_DOF),
        "prop_qpos": (sim.qpos[:, ROBOT_DOF:], 2 * ROBOT_DOF),
        "prop_qvel": (sim.qvel[:, ROBOT_DOF:], ROBOT_DOF + nq),
    }[part]
    return values + term.noise[:, start : start + values.shape[1]]


def joint_qpos_columns(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs, k]`` the ``qpos`` entries of the joint ``joint`` (its ``achieved_goal``, no noise)."""
    return env.sim.qpos[:, env.index.joint_qpos_ids(joint)]


def _values(env: RlEnv, value: tuple[float, ...]) -> torch.Tensor:
    """``value`` as a device tensor ``[len(value)]``, made once: a tensor made from Python numbers
    in the step would be a host-to-device copy at every step."""
    return env.index.once(
        ("kitchen", "values", tuple(value)),
        lambda: torch.as_tensor(value, dtype=torch.float32, device=env.device),
    )


def constant(env: RlEnv, value: tuple[float, ...]) -> torch.Tensor:
    """``[num_envs, len(value)]`` the same values in every world (the package's ``desired_goal``)."""
    return _values(env, value).expand(env.num_envs, -1)


# ---------------------------------------------------------------- reward, termination, start
def tasks_completed(env: RlEnv, joint: str, goal: tuple[float, ...], threshold: float) -> torch.Tensor:
    """``[num_envs]`` bool: the joint's ``qpos`` entries are within ``threshold`` (Euclidean) of
    ``goal``, the package's completion of a task (``BONUS_THRESH`` 0.3)."""
    error = joint_qpos_columns(env, joint) - _values(env, goal)
    return torch.linalg.vector_norm(error, dim=1) < threshold


def tasks_completed_count(env: RlEnv, joint: str, goal: tuple[float, ...], threshold: float) -> torch.Tensor:
    """``[num_envs]`` float: the package's reward for one task, 1.0 where it is completed
    (``tasks_completed``), else 0."""
    return tasks_completed(env, joint, goal, threshold).float()


def set_initial_state(env: RlEnv, mask: torch.Tensor, qpos: tuple[float, ...]) -> None:
    """Startup event: the state every reset returns to is ``qpos`` (``[nq]``, the package's
    ``init_qpos``) at rest; ``mask`` is every world at startup.

    Raises:
      ValueError: ``qpos`` does not have the model's ``nq`` entries.
    """
    del mask
    if len(qpos) != env.sim.init_qpos.shape[0]:
        raise ValueError(
            f"set_initial_state: qpos has {len(qpos)} entries, the model's nq is {env.sim.init_qpos.shape[0]}"
        )
    env.sim.init_qpos.copy_(torch.as_tensor(qpos, dtype=torch.float32))
    env.sim.init_qvel.zero_()
