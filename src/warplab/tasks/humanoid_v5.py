"""``Humanoid-v5``: Gymnasium's Humanoid-v5 on warplab, for a like-for-like comparison.

The same model file (Gymnasium's ``humanoid.xml``), the same 348-value observation, reward,
termination, frame skip (5) and reset noise (+-0.01 on every qpos and qvel entry). MuJoCo Warp has
no PGS solver, so the model uses the Newton solver; everything else is Gymnasium's.
"""

from __future__ import annotations

import os

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
from warplab.tasks.registry import register_task

HEALTHY_Z = (1.0, 2.0)
"""Torso heights (m) between which the humanoid is healthy."""


def humanoid_xml_path() -> str:
    """Path of Gymnasium's ``humanoid.xml``."""
    import gymnasium

    return os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets", "humanoid.xml")


def humanoid_spec() -> mujoco.MjSpec:
    """Gymnasium's humanoid with the Newton solver (MuJoCo Warp has no PGS)."""
    spec = mujoco.MjSpec.from_file(humanoid_xml_path())
    spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
    return spec


# ---------------------------------------------------------------- observation terms
def qpos_without_xy(env) -> torch.Tensor:
    """``[num_envs, nq - 2]`` joint positions without the torso's x and y, as Gymnasium excludes them."""
    return env.sim.qpos[:, 2:]


def qvel(env) -> torch.Tensor:
    """``[num_envs, nv]`` joint velocities."""
    return env.sim.qvel


def com_inertia(env) -> torch.Tensor:
    """``[num_envs, (nbody - 1) * 10]`` composite inertias of bodies in the centre-of-mass frame (cinert)."""
    return env.sim.cinert[:, 1:].flatten(1)


def com_velocity(env) -> torch.Tensor:
    """``[num_envs, (nbody - 1) * 6]`` centre-of-mass based velocities of bodies (cvel: rot, lin)."""
    return env.sim.cvel[:, 1:].flatten(1)


def actuator_forces(env) -> torch.Tensor:
    """``[num_envs, nv - 6]`` actuator forces on the non-root joints (qfrc_actuator)."""
    return env.sim.qfrc_actuator[:, 6:]


def external_contact_forces(env) -> torch.Tensor:
    """``[num_envs, (nbody - 1) * 6]`` external forces on bodies (cfrc_ext: torque, force)."""
    return env.sim.cfrc_ext[:, 1:].flatten(1)


# ---------------------------------------------------------------- reward terms
def healthy(env) -> torch.Tensor:
    """1 while the torso height is inside the healthy range."""
    z = env.sim.qpos[:, 2]
    return ((z > HEALTHY_Z[0]) & (z < HEALTHY_Z[1])).float()


class forward_velocity:  # noqa: N801 - a term class reads like a function in configs
    """Forward (x) velocity of the centre of mass over the last policy step, m/s.

    Like Gymnasium, it differences the centre of mass MuJoCo reports after the step and before it
    (the whole model's centre of mass, ``subtree_com`` of the world body).
    """

    def __init__(self, cfg, env):
        self.com_x_before = env.sim.subtree_com[:, 0, 0].clone()

    def __call__(self, env) -> torch.Tensor:
        com_x = env.sim.subtree_com[:, 0, 0]
        velocity = (com_x - self.com_x_before) / env.policy_dt
        self.com_x_before.copy_(com_x)
        return velocity

    def reset(self, env, mask: torch.Tensor) -> None:
        self.com_x_before.copy_(torch.where(mask, env.sim.subtree_com[:, 0, 0], self.com_x_before))


def ctrl_l2(env) -> torch.Tensor:
    """Sum of squared controls."""
    return torch.sum(torch.square(env.sim.ctrl), dim=1)


def contact_cost(env, weight: float = 5e-7, max_cost: float = 10.0) -> torch.Tensor:
    """``min(weight * sum(cfrc_ext^2), max_cost)``: Gymnasium's clipped contact cost (already weighted)."""
    return torch.clamp(weight * torch.sum(torch.square(env.sim.cfrc_ext), dim=(1, 2)), max=max_cost)


# ---------------------------------------------------------------- termination and reset
def unhealthy(env) -> torch.Tensor:
    """True when the torso height leaves the healthy range."""
    return healthy(env) == 0.0


def reset_with_uniform_noise(env, mask: torch.Tensor, scale: float = 1e-2) -> None:
    """Initial qpos and qvel plus uniform noise in [-scale, scale] on every entry (Gymnasium's reset)."""
    sim = env.sim
    n = env.num_envs
    qpos = (
        sim.init_qpos
        + (2.0 * torch.rand(n, sim.qpos.shape[1], generator=env.rng, device=env.device) - 1.0) * scale
    )
    qvel = (
        sim.init_qvel
        + (2.0 * torch.rand(n, sim.qvel.shape[1], generator=env.rng, device=env.device) - 1.0) * scale
    )
    sim.qpos.copy_(torch.where(mask[:, None], qpos, sim.qpos))
    sim.qvel.copy_(torch.where(mask[:, None], qvel, sim.qvel))


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
            "reset_noise": EventTermCfg(func=reset_with_uniform_noise, mode="reset", params={"scale": 1e-2})
        },
        viewer=ViewerCfg(track_body="torso", distance=4.0, elevation=-15.0, azimuth=90.0),
    )


def make_humanoid_v5_agent_cfg():
    """PPO settings for 4,096 worlds on one GPU."""
    from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg

    return RunnerCfg(
        experiment_name="Humanoid-v5",
        max_iterations=1000,
        ppo=PpoCfg(
            num_steps_per_env=32, learning_rate=3e-4, entropy_coef=0.0, num_mini_batches=4, gamma=0.99
        ),
        policy=PolicyCfg(
            actor_hidden_dims=[256, 256, 128], critic_hidden_dims=[256, 256, 128], init_noise_std=0.5
        ),
    )


register_task(
    "Humanoid-v5",
    make_humanoid_v5_env_cfg,
    make_humanoid_v5_agent_cfg,
    "Gymnasium's Humanoid-v5 (same model, observation, reward), Newton solver; run forward.",
)
