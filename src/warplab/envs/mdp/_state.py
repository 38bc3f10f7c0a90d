"""Shared reads of the floating base and joints, in the frames terms need."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.math import quat_rotate_inverse

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


def _root(env: RlEnv) -> tuple[int, int]:
    adr = env.index.root_adr
    if adr is None:
        raise ValueError("this term needs a floating base (a free joint), and the model has none")
    return adr


def root_pos_w(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` position of the floating base in the world frame, m."""
    q, _ = _root(env)
    return env.sim.qpos[:, q : q + 3]


def root_quat_w(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 4]`` orientation (w, x, y, z) of the floating base in the world frame."""
    q, _ = _root(env)
    return env.sim.qpos[:, q + 3 : q + 7]


def root_lin_vel_w(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` linear velocity of the base origin in the world frame, m/s (MuJoCo's free-joint qvel)."""
    _, v = _root(env)
    return env.sim.qvel[:, v : v + 3]


def root_ang_vel_b(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` angular velocity of the base in its own frame, rad/s (MuJoCo's free-joint qvel)."""
    _, v = _root(env)
    return env.sim.qvel[:, v + 3 : v + 6]


def root_lin_vel_b(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` linear velocity of the base in its own frame, m/s."""
    return quat_rotate_inverse(root_quat_w(env), root_lin_vel_w(env))


def gravity_b(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` unit gravity direction in the base frame ((0, 0, -1) when upright)."""
    quat = root_quat_w(env)
    return quat_rotate_inverse(quat, _world_down(env))


def _world_down(env: RlEnv) -> torch.Tensor:
    """``[num_envs, 3]`` (0, 0, -1) for every world, made once per env: a tensor built from Python
    values at each step would be a host-to-device copy, which synchronizes the stream. Kept in the env's
    ``SceneIndex.once`` cache with the other constants terms derive once."""
    return env.index.once(("world_down", env.num_envs), lambda: _down(env.num_envs, env.device))


def _down(num_envs: int, device: torch.device) -> torch.Tensor:
    down = torch.zeros(num_envs, 3, device=device)
    down[:, 2] = -1.0
    return down


def default_joint_pos(env: RlEnv, joints: Names = None) -> torch.Tensor:
    """``[num_joints]`` default positions (the reset pose) of hinge/slide joints ``joints``."""
    return env.sim.init_qpos[env.index.joint_qpos_ids(joints)]


def body_contact_force(env: RlEnv, bodies: Names) -> torch.Tensor:
    """``[num_envs, num_bodies]`` magnitude of the external (mostly contact) force on each body, N."""
    ids = env.index.tensor("body", bodies)
    return torch.linalg.vector_norm(env.sim.cfrc_ext[:, ids, 3:6], dim=-1)
