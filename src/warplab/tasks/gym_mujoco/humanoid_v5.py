"""``Humanoid-v5``: Gymnasium's Humanoid-v5 on warplab, for a like-for-like comparison.

The same model file (Gymnasium's ``humanoid.xml``), the same 348-value observation, reward,
termination, frame skip (5) and reset noise (+-0.01 on every qpos and qvel entry). MuJoCo Warp has
no PGS solver, so the model uses the Newton solver; everything else is Gymnasium's.
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

HEALTHY_Z = (1.0, 2.0)
"""Torso heights (m) between which the humanoid is healthy."""


def humanoid_spec() -> mujoco.MjSpec:
    """Gymnasium's humanoid with the Newton solver (MuJoCo Warp has no PGS)."""
    return gym_asset_spec("humanoid.xml")


# ---------------------------------------------------------------- observation terms
def com_inertia(env: RlEnv) -> torch.Tensor:
    """``[num_envs, (nbody - 1) * 10]`` composite inertias of bodies in the centre-of-mass frame (cinert)."""
    return env.sim.cinert[:, 1:].flatten(1)


def com_velocity(env: RlEnv) -> torch.Tensor:
    """``[num_envs, (nbody - 1) * 6]`` centre-of-mass based velocities of bodies (cvel: rot, lin)."""
    return env.sim.cvel[:, 1:].flatten(1)


def actuator_forces(env: RlEnv) -> torch.Tensor:
    """``[num_envs, nv - 6]`` actuator forces on the non-root joints (qfrc_actuator)."""
    return env.sim.qfrc_actuator[:, 6:]


# ---------------------------------------------------------------- reward terms
def healthy(env: RlEnv) -> torch.Tensor:
    """1 while the torso height is inside the healthy range."""
    z = env.sim.qpos[:, 2]
    return ((z > HEALTHY_Z[0]) & (z < HEALTHY_Z[1])).float()


def ctrl_l2(env: RlEnv) -> torch.Tensor:
    """Sum of squared controls."""
    return torch.sum(torch.square(env.sim.ctrl), dim=1)


def contact_cost(env: RlEnv, weight: float = 5e-7, max_cost: float = 10.0) -> torch.Tensor:
    """``min(weight * sum(cfrc_ext^2), max_cost)``: Gymnasium's clipped contact cost (already weighted)."""
    return torch.clamp(weight * torch.sum(torch.square(env.sim.cfrc_ext), dim=(1, 2)), max=max_cost)


# ---------------------------------------------------------------- termination and reset
def unhealthy(env: RlEnv) -> torch.Tensor:
    """True when the torso height leaves the healthy range."""
    return healthy(env) == 0.0


def make_humanoid_v5_env_cfg(play: bool = False) -> RlEnvCfg:
    """Gymnasium's Humanoid-v5: 1,000 steps of 15 ms, 17 torques, a 348-value observation."""
    obs_terms = {
        "qpos": qpos_without_xy,
        "qvel": qvel,
        "cinert": com_inertia,
        "cvel": com_velocity,
        "qfrc_actuator": actuator_forces,
        "cfrc_ext": external_contact_forces,
    }
    return RlEnvCfg(
        scene=humanoid_spec,
        decimation=5,
        episode_length_s=1000 * 5 * 0.003,
        scale_rewards_by_dt=False,
        observations={
            "policy": ObservationGroupCfg(terms={k: ObservationTermCfg(func=f) for k, f in obs_terms.items()})
        },
        actions={"torques": ActionTermCfg(func=mdp.JointEffortAction, params={"scale": 1.0})},
        rewards={
            "healthy": RewardTermCfg(func=healthy, weight=5.0),
            "forward": RewardTermCfg(func=forward_velocity, weight=1.25),
            "ctrl": RewardTermCfg(func=ctrl_l2, weight=-0.1),
            "contact": RewardTermCfg(func=contact_cost, weight=-1.0),
        },
        terminations={
            "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
            "unhealthy": TerminationTermCfg(func=unhealthy),
        },
        events={
            "reset_noise": EventTermCfg(
                func=reset_with_noise, mode="reset", params={"qpos_scale": 1e-2, "qvel_scale": 1e-2}
            )
        },
        viewer=ViewerCfg(track_body="torso", distance=4.0, elevation=-15.0, azimuth=90.0),
    )
