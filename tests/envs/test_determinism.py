"""Same seed, same rollout (bitwise, on the CPU); another seed, another rollout."""

from __future__ import annotations

import torch

from warplab.envs import (
    EventTermCfg,
    NoiseCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnv,
    mdp,
)

from ._cfgs import cartpole_cfg, time_out_cfg


def _rollout(seed: int, steps: int = 15):
    cfg = cartpole_cfg(
        seed=seed,
        episode_length_s=0.1,  # several resets in the rollout
        terminations={"time_out": time_out_cfg()},
        rewards={"vel": RewardTermCfg(func=mdp.joint_vel_l2, weight=-0.1)},
        events={
            "reset": EventTermCfg(
                func=mdp.reset_joints_by_offset,
                mode="reset",
                params={"position_range": (-0.1, 0.1), "velocity_range": (-0.1, 0.1)},
            ),
            "friction": EventTermCfg(
                func=mdp.randomize_friction, mode="reset", params={"ranges": (0.5, 1.5)}
            ),
        },
        observations={
            "policy": ObservationGroupCfg(
                terms={"pos": ObservationTermCfg(func=mdp.joint_pos, noise=NoiseCfg("gaussian", 0.01))},
                enable_corruption=True,
            )
        },
    )
    env = RlEnv(cfg)
    actions = torch.Generator().manual_seed(123)  # the same actions for every rollout
    obs, rewards = [env.observations["policy"].clone()], []
    for _ in range(steps):
        o, r, *_ = env.step(2 * torch.rand(2, 1, generator=actions) - 1)
        obs.append(o["policy"].clone())
        rewards.append(r.clone())
    return torch.stack(obs), torch.stack(rewards), env


def test_same_seed_same_rollout_and_another_seed_differs():
    obs_a, rew_a, env_a = _rollout(seed=7)
    obs_b, rew_b, env_b = _rollout(seed=7)
    assert torch.equal(obs_a, obs_b) and torch.equal(rew_a, rew_b)
    assert torch.equal(env_a.sim.model_field("geom_friction"), env_b.sim.model_field("geom_friction"))
    obs_c, rew_c, _ = _rollout(seed=8)
    assert not torch.equal(obs_a, obs_c) and not torch.equal(rew_a, rew_c)


def test_reset_with_a_seed_replays_the_episode():
    _, _, env = _rollout(seed=7, steps=1)
    first, _ = env.reset(seed=11)
    first = first["policy"].clone()
    step = env.step(torch.full((2, 1), 0.3))[0]["policy"].clone()
    again, _ = env.reset(seed=11)
    assert torch.equal(again["policy"], first)
    assert torch.equal(env.step(torch.full((2, 1), 0.3))[0]["policy"], step)
