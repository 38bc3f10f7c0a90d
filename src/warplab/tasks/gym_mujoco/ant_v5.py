"""``Ant-v5``: Gymnasium's Ant-v5 on warplab, for a like-for-like comparison.

Gymnasium's ``ant.xml`` (already on the Newton solver), the 105-value observation (qpos without x
and y, qvel, contact forces of the 13 bodies clipped to [-1, 1]), the reward (healthy 1, forward
velocity of the torso, control cost 0.5 * |action|^2, contact cost 5e-4 * |clipped forces|^2), the
termination (torso height outside [0.2, 1] m or a non-finite state), frame skip 5 and the reset
noise (uniform +-0.1 on qpos, normal with std 0.1 on qvel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco
import torch

from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.tasks.gym_mujoco.mdp import (
    external_contact_forces,
    forward_velocity,
    gym_asset_spec,
    qpos_without_xy,
    qvel,
    reset_with_noise,
)

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

HEALTHY_Z = (0.2, 1.0)
"""Torso heights (m), inclusive, between which the ant is healthy."""


def ant_spec() -> mujoco.MjSpec:
    """Gymnasium's ant."""
    return gym_asset_spec("ant.xml")


def healthy(env: RlEnv) -> torch.Tensor:
    """1 while the torso height is inside [0.2, 1] m and the state is finite."""
    z = env.sim.qpos[:, 2]
    finite = torch.isfinite(env.sim.qpos).all(dim=1) & torch.isfinite(env.sim.qvel).all(dim=1)
    return (finite & (z >= HEALTHY_Z[0]) & (z <= HEALTHY_Z[1])).float()


def unhealthy(env: RlEnv) -> torch.Tensor:
    """True when the ant is not healthy."""
    return healthy(env) == 0.0


def contact_cost(env: RlEnv, clip: float = 1.0) -> torch.Tensor:
    """Sum of squared external forces, each clipped to [-clip, clip] (Gymnasium's contact cost before its weight)."""
    return torch.sum(torch.square(env.sim.cfrc_ext.clamp(-clip, clip)), dim=(1, 2))


def make_ant_v5_env_cfg(play: bool = False) -> RlEnvCfg:
    """Gymnasium's Ant-v5: 1,000 steps of 50 ms, 8 torques, a 105-value observation."""
    return RlEnvCfg(
        scene=ant_spec,
        decimation=5,
        episode_length_s=1000 * 5 * 0.01,
        scale_rewards_by_dt=False,
        observations={
            "policy": ObservationGroupCfg(
                terms={
                    "qpos": ObservationTermCfg(func=qpos_without_xy),
                    "qvel": ObservationTermCfg(func=qvel),
                    "cfrc_ext": ObservationTermCfg(func=external_contact_forces, params={"clip": 1.0}),
                }
            )
        },
        actions={"torques": ActionTermCfg(func=mdp.JointEffortAction, params={"scale": 1.0})},
        rewards={
            "healthy": RewardTermCfg(func=healthy, weight=1.0),
            "forward": RewardTermCfg(func=forward_velocity, weight=1.0, params={"body": "torso"}),
            "ctrl": RewardTermCfg(func=mdp.action_l2, weight=-0.5),
            "contact": RewardTermCfg(func=contact_cost, weight=-5e-4),
        },
        terminations={
            "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
            "unhealthy": TerminationTermCfg(func=unhealthy),
        },
        events={
            "reset_noise": EventTermCfg(
                func=reset_with_noise,
                mode="reset",
                params={"qpos_scale": 0.1, "qvel_scale": 0.1, "qvel_normal": True},
            )
        },
        viewer=ViewerCfg(track_body="torso", distance=5.0, elevation=-25.0, azimuth=90.0),
    )
