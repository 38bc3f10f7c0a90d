"""Reward terms: ``f(env, **params) -> [num_envs]``. Penalties are positive; give them negative weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.managers.protocols import RewardTerm
from warplab.envs.mdp import _state

if TYPE_CHECKING:
    from warplab.envs.config import RewardTermCfg
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


def is_alive(env: RlEnv) -> torch.Tensor:
    """1 for worlds that did not terminate this step (time-outs count as alive)."""
    return (~env.termination_manager.terminated).float()


def is_terminated(env: RlEnv) -> torch.Tensor:
    """1 for worlds that terminated this step (not time-outs)."""
    return env.termination_manager.terminated.float()


def track_lin_vel_xy_exp(env: RlEnv, std: float, command_name: str) -> torch.Tensor:
    """``exp(-|v_cmd_xy - v_b_xy|^2 / std^2)``: commanded (x, y) velocity in the base frame, std in m/s."""
    error = torch.sum(
        torch.square(env.command(command_name)[:, :2] - _state.root_lin_vel_b(env)[:, :2]), dim=1
    )
    return torch.exp(-error / std**2)


def track_ang_vel_z_exp(env: RlEnv, std: float, command_name: str) -> torch.Tensor:
    """``exp(-(w_cmd_z - w_b_z)^2 / std^2)``: commanded yaw rate, std in rad/s."""
    error = torch.square(env.command(command_name)[:, 2] - _state.root_ang_vel_b(env)[:, 2])
    return torch.exp(-error / std**2)


def lin_vel_z_l2(env: RlEnv) -> torch.Tensor:
    """Squared vertical velocity of the base in its frame, (m/s)^2."""
    return torch.square(_state.root_lin_vel_b(env)[:, 2])


def ang_vel_xy_l2(env: RlEnv) -> torch.Tensor:
    """Squared roll and pitch rates of the base, (rad/s)^2."""
    return torch.sum(torch.square(_state.root_ang_vel_b(env)[:, :2]), dim=1)


def flat_orientation_l2(env: RlEnv) -> torch.Tensor:
    """Squared horizontal part of gravity in the base frame: 0 upright, 1 on its side."""
    return torch.sum(torch.square(_state.gravity_b(env)[:, :2]), dim=1)


def upright(env: RlEnv) -> torch.Tensor:
    """Cosine of the base's tilt: 1 upright, 0 horizontal, -1 upside down."""
    return -_state.gravity_b(env)[:, 2]


def base_height_l2(env: RlEnv, target_height: float) -> torch.Tensor:
    """Squared error of the base height from ``target_height`` (m), m^2."""
    return torch.square(_state.root_pos_w(env)[:, 2] - target_height)


def action_rate_l2(env: RlEnv) -> torch.Tensor:
    """Squared change of the action since the last step."""
    am = env.action_manager
    return torch.sum(torch.square(am.action - am.prev_action), dim=1)


def action_l2(env: RlEnv) -> torch.Tensor:
    """Squared norm of the action."""
    return torch.sum(torch.square(env.action_manager.action), dim=1)


def joint_torques_l2(env: RlEnv, actuators: Names = None) -> torch.Tensor:
    """Squared actuator forces, N^2 or (N m)^2."""
    ids = env.index.tensor("actuator", actuators)
    return torch.sum(torch.square(env.sim.actuator_force[:, ids]), dim=1)


def joint_vel_l2(env: RlEnv, joints: Names = None) -> torch.Tensor:
    """Squared joint velocities, (rad/s)^2."""
    return torch.sum(torch.square(env.sim.qvel[:, env.index.joint_dof_ids(joints)]), dim=1)


def joint_acc_l2(env: RlEnv, joints: Names = None) -> torch.Tensor:
    """Squared joint accelerations, (rad/s^2)^2."""
    return torch.sum(torch.square(env.sim.qacc[:, env.index.joint_dof_ids(joints)]), dim=1)


class joint_pos_limits(RewardTerm):  # noqa: N801 - a term class reads like a function in configs
    """How far joints are past their soft limits (a fraction ``soft_ratio`` of the range), rad summed."""

    def __init__(self, cfg: RewardTermCfg, env: RlEnv) -> None:
        joints = cfg.params.get("joints")
        soft_ratio = cfg.params.get("soft_ratio", 0.9)
        ids = env.index.ids("joint", joints)
        rng = torch.as_tensor(env.mj_model.jnt_range[ids], dtype=torch.float32, device=env.device)
        limited = torch.as_tensor(env.mj_model.jnt_limited[ids], dtype=torch.bool, device=env.device)
        mid, half = rng.mean(dim=1), 0.5 * (rng[:, 1] - rng[:, 0]) * soft_ratio
        inf = torch.full_like(mid, float("inf"))
        self.low = torch.where(limited, mid - half, -inf)
        self.high = torch.where(limited, mid + half, inf)
        self.qpos_ids = env.index.joint_qpos_ids(joints)

    def __call__(self, env: RlEnv, joints: Names = None, soft_ratio: float = 0.9) -> torch.Tensor:
        q = env.sim.qpos[:, self.qpos_ids]
        below = (self.low - q).clamp(min=0.0)
        above = (q - self.high).clamp(min=0.0)
        return torch.sum(below + above, dim=1)


class feet_air_time(RewardTerm):  # noqa: N801
    """Rewards steps of a useful length: on each touchdown, ``air_time - threshold_s`` summed over feet.

    A foot is in contact when the external force on its body exceeds ``contact_force_n``. Zero when
    the command asks to stand still (speed below 0.1 m/s), so standing is not punished.

    State: ``in_contact [num_envs, n_feet]`` bool, each foot's contact at the end of the last step
    (physical state: taken from the new state when a world's state is set); ``air_time [num_envs,
    n_feet]``, s since each foot left the ground (episode history: kept when a world's state is
    set, except that a foot touching the ground in the new state has none).
    """

    def __init__(self, cfg: RewardTermCfg, env: RlEnv) -> None:
        self.bodies = cfg.params["bodies"]
        self.contact_force_n = float(cfg.params.get("contact_force_n", 1.0))
        n_feet = len(env.index.ids("body", self.bodies))
        self.air_time = torch.zeros(env.num_envs, n_feet, device=env.device)
        self.in_contact = torch.zeros(env.num_envs, n_feet, dtype=torch.bool, device=env.device)

    def __call__(
        self, env: RlEnv, bodies: Names, threshold_s: float, command_name: str, contact_force_n: float = 1.0
    ) -> torch.Tensor:
        contact = _state.body_contact_force(env, bodies) > contact_force_n
        touchdown = contact & ~self.in_contact
        reward = torch.sum((self.air_time - threshold_s) * touchdown, dim=1)
        self.air_time.add_(env.policy_dt).mul_(~contact)
        self.in_contact.copy_(contact)
        # Worlds that just reset start with feet on the ground and no air time.
        fresh = (env.episode_length_buf <= 1)[:, None]
        self.air_time.mul_(~fresh)
        moving = torch.linalg.vector_norm(env.command(command_name)[:, :2], dim=1) > 0.1
        return reward * moving

    def on_state_set(self, env: RlEnv, mask: torch.Tensor) -> None:
        """Contacts from the state just set (after its forward); a foot on the ground has no air time."""
        contact = _state.body_contact_force(env, self.bodies) > self.contact_force_n
        rows = mask[:, None]
        self.in_contact.copy_(torch.where(rows, contact, self.in_contact))
        self.air_time.mul_(~(rows & contact))


def feet_slide(env: RlEnv, bodies: Names, contact_force_n: float = 1.0) -> torch.Tensor:
    """Horizontal speed of feet while they touch the ground, m/s summed over feet."""
    ids = env.index.tensor("body", bodies)
    contact = _state.body_contact_force(env, bodies) > contact_force_n
    # cvel is (rot, lin) expressed at the centre of mass of each body's kinematic tree; shift it to
    # each foot's origin.
    roots = env.index.tensor("body", bodies, "rootid")
    cvel = env.sim.cvel[:, ids]
    offset = env.sim.xpos[:, ids] - env.sim.subtree_com[:, roots]
    lin = cvel[..., 3:6] - torch.cross(offset, cvel[..., 0:3], dim=-1)
    speed = torch.linalg.vector_norm(lin[..., :2], dim=-1)
    return torch.sum(speed * contact, dim=1)


def undesired_contacts(env: RlEnv, bodies: Names, contact_force_n: float = 1.0) -> torch.Tensor:
    """Number of the named bodies touching something with more than ``contact_force_n`` N."""
    return torch.sum(_state.body_contact_force(env, bodies) > contact_force_n, dim=1).float()
