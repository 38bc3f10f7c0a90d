"""Observation terms: ``f(env, **params) -> [num_envs, dim]`` float tensors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp import _state
from warplab.term_export import ObservationExport, declares

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


def base_lin_vel_b(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` linear velocity of the base in its own frame, m/s."""
    return _state.root_lin_vel_b(env)


@declares(ObservationExport("base_ang_vel"))
def base_ang_vel_b(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` angular velocity of the base in its own frame, rad/s."""
    return _state.root_ang_vel_b(env)


@declares(ObservationExport("projected_gravity"))
def projected_gravity_b(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` gravity direction in the base frame (unit vector; (0, 0, -1) upright)."""
    return _state.gravity_b(env)


def base_height(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 1]`` height of the base origin above z = 0, m."""
    return _state.root_pos_w(env)[:, 2:3]


@declares(ObservationExport("joint_pos", joints=True))
def joint_pos(env: RlEnv, joints: Names = None) -> torch.Tensor:
    """``[num_envs, num_joints]`` positions of hinge/slide joints, rad or m."""
    return env.sim.qpos[:, env.index.joint_qpos_ids(joints)]


@declares(ObservationExport("joint_pos_rel", joints=True, relative_to_default=True))
def joint_pos_rel(env: RlEnv, joints: Names = None) -> torch.Tensor:
    """``[num_envs, num_joints]`` joint positions minus their defaults (the reset pose), rad or m."""
    return joint_pos(env, joints) - _state.default_joint_pos(env, joints)


def joint_limits(env: RlEnv, joints: Names = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(low, high)``, each ``[num_joints]``: the joints' ranges (``jnt_range``), rad or m, looked up
    once per env.

    Raises:
      ValueError: naming the joints that have no range (``high <= low``: an unlimited joint).
    """

    def look_up() -> tuple[torch.Tensor, torch.Tensor]:
        ids = env.index.ids("joint", joints)
        limits = torch.as_tensor(env.mj_model.jnt_range[ids], dtype=torch.float32, device=env.device)
        if not bool((limits[:, 1] > limits[:, 0]).all()):
            names = [
                env.index.names["joint"][i]
                for i, (lo, hi) in zip(ids, limits.tolist(), strict=True)
                if hi <= lo
            ]
            raise ValueError(f"joints {names} have no range (jnt_range); they cannot be normalized")
        return limits[:, 0], limits[:, 1]

    return env.index.once(("joint_limits", str(joints)), look_up)


@declares(ObservationExport("joint_pos_normalized", joints=True, joint_ranges=True))
def joint_pos_normalized(env: RlEnv, joints: Names = None) -> torch.Tensor:
    """``[num_envs, num_joints]`` joint positions mapped linearly from their range onto [-1, 1]:
    ``(2 q - high - low) / (high - low)`` (-1 at the lower limit, +1 at the upper; beyond +-1 past a
    limit). Export writes each joint's range (``params["joint_range"]``, rad or m) for the robot."""
    low, high = joint_limits(env, joints)
    q = env.sim.qpos[:, env.index.joint_qpos_ids(joints)]
    return (2.0 * q - high - low) / (high - low)


@declares(ObservationExport("joint_vel", joints=True))
def joint_vel(env: RlEnv, joints: Names = None) -> torch.Tensor:
    """``[num_envs, num_joints]`` joint velocities, rad/s or m/s."""
    return env.sim.qvel[:, env.index.joint_dof_ids(joints)]


@declares(ObservationExport("last_action"))
def last_action(env: RlEnv) -> torch.Tensor:
    """``[num_envs, action_dim]`` the last action the policy sent (after validation)."""
    return env.action_manager.action


@declares(ObservationExport("command"))
def generated_commands(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, dim]`` the current command of command term ``command_name``."""
    return env.command(command_name)


def contact_forces(env: RlEnv, bodies: Names) -> torch.Tensor:
    """``[num_envs, num_bodies]`` magnitude of the external force on each body, N."""
    return _state.body_contact_force(env, bodies)


def sensor(env: RlEnv, name: str) -> torch.Tensor:
    """``[num_envs, dim]`` the readings of sensor ``name`` (MuJoCo's own units for its type)."""
    return env.sim.sensordata[:, env.index.sensor_slice(name)]
