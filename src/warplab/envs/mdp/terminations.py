"""Termination terms: ``f(env, **params) -> [num_envs]`` bool. Divergence (NaN) is always on."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp import _state
from warplab.term_export import FallExport, declares

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


def time_out(env: RlEnv) -> torch.Tensor:
    """True once the episode has lasted ``max_episode_length`` policy steps (use with ``time_out=True``)."""
    return env.episode_length_buf >= env.max_episode_length


@declares(FallExport("min_base_height", param="minimum_height"))
def root_height_below(env: RlEnv, minimum_height: float) -> torch.Tensor:
    """True when the base is lower than ``minimum_height`` m."""
    return _state.root_pos_w(env)[:, 2] < minimum_height


def root_height_outside(env: RlEnv, low: float, high: float) -> torch.Tensor:
    """True when the base height is outside [low, high] m."""
    z = _state.root_pos_w(env)[:, 2]
    return (z < low) | (z > high)


@declares(FallExport("max_tilt_rad", param="limit_angle_rad"))
def bad_orientation(env: RlEnv, limit_angle_rad: float) -> torch.Tensor:
    """True when the base tilts more than ``limit_angle_rad`` from upright."""
    return _state.gravity_b(env)[:, 2] > -math.cos(limit_angle_rad)


def illegal_contact(env: RlEnv, bodies: Names, contact_force_n: float = 1.0) -> torch.Tensor:
    """True when any of the named bodies is pushed by more than ``contact_force_n`` N."""
    return torch.any(_state.body_contact_force(env, bodies) > contact_force_n, dim=1)


@declares(FallExport("joint_range"))
def joint_pos_out_of_range(env: RlEnv, joints: Names, low: float, high: float) -> torch.Tensor:
    """True when any named joint leaves [low, high] (rad or m); e.g. a pole that fell."""
    q = env.sim.qpos[:, env.index.joint_qpos_ids(joints)]
    return torch.any((q < low) | (q > high), dim=1)
