"""Terms of the cart-pole task only: how far the pole leans and the cart strays."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


def pole_angle_l2(env: RlEnv) -> torch.Tensor:
    """Squared pole angle from upright, rad^2 ``[num_envs]``."""
    return torch.square(env.sim.qpos[:, env.index.joint_qpos_ids("hinge")][:, 0])


def cart_pos_l2(env: RlEnv) -> torch.Tensor:
    """Squared cart position from the centre of the rail, m^2 ``[num_envs]``."""
    return torch.square(env.sim.qpos[:, env.index.joint_qpos_ids("slider")][:, 0])
