"""Rewards: weights, scaling by the policy step, per-term sums and the episode statistics."""

from __future__ import annotations

import math

import pytest
import torch

from warplab.envs import RewardTermCfg, RlEnv

from ._cfgs import CARTPOLE_DT, Flag, cartpole_cfg, time_out_cfg


def cart_pos_sq(env):
    return env.sim.qpos[:, 0] ** 2


def pole_vel(env):
    return env.sim.qvel[:, 1]


def never_called(env):
    raise AssertionError("a term with weight 0 must not be computed")


REWARDS = {
    "cart": RewardTermCfg(func=cart_pos_sq, weight=2.0),
    "pole": RewardTermCfg(func=pole_vel, weight=-0.5),
    "off": RewardTermCfg(func=never_called, weight=0.0),
}


@pytest.mark.parametrize("scale_by_dt", [False, True])
def test_reward_is_the_weighted_sum_of_terms(scale_by_dt):
    env = RlEnv(cartpole_cfg(rewards=dict(REWARDS), scale_rewards_by_dt=scale_by_dt))
    env.sim.set_state(torch.tensor([[0.3, 0.1], [-0.6, -0.2]]), torch.tensor([[1.0, -2.0], [0.5, 3.0]]))
    dt = 2 * CARTPOLE_DT if scale_by_dt else 1.0
    for _ in range(3):
        _, reward, *_ = env.step(torch.tensor([[0.5], [-1.0]]))
        x = env.sim.qpos[:, 0].double()
        w = env.sim.qvel[:, 1].double()
        terms = torch.stack([2.0 * x**2 * dt, -0.5 * w * dt, torch.zeros_like(x)], dim=1)
        assert reward.dtype == torch.float32 and reward.shape == (2,)
        torch.testing.assert_close(env.reward_manager.step_terms.double(), terms, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(reward.double(), terms.sum(1), rtol=1e-6, atol=1e-7)
    assert env.policy_dt == pytest.approx(0.02)


def test_episode_sums_and_episode_stats_match_a_hand_tally():
    flag = Flag(2)
    # Episodes are truncated after 5 steps (0.1 s at 0.02 s a step); world 0 also fails at step 3.
    cfg = cartpole_cfg(
        rewards=dict(REWARDS),
        terminations={"time_out": time_out_cfg(), "fail": flag.cfg()},
        episode_length_s=0.1,
    )
    env = RlEnv(cfg)
    gen = torch.Generator().manual_seed(3)
    returns, term_sums, length = [0.0, 0.0], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [0, 0]
    finished = []  # (return, length, per-term sums) of each finished episode
    for step in range(1, 13):
        flag.flag[:] = torch.tensor([step == 3, False])
        _, reward, terminated, truncated, _ = env.step(2 * torch.rand(2, 1, generator=gen) - 1)
        terms = env.reward_manager.step_terms
        for w in range(2):
            returns[w] += float(reward[w])
            length[w] += 1
            term_sums[w] = [s + float(t) for s, t in zip(term_sums[w], terms[w].tolist(), strict=True)]
            if not (terminated[w] or truncated[w]):
                torch.testing.assert_close(
                    env.reward_manager.episode_sums[w].double(),
                    torch.tensor(term_sums[w], dtype=torch.float64),
                )
            else:
                finished.append((returns[w], length[w], term_sums[w]))
                returns[w], length[w], term_sums[w] = 0.0, 0, [0.0, 0.0, 0.0]
                assert env.reward_manager.episode_sums[w].abs().sum() == 0
    # World 0: 3 steps, then 5, then (4 left unfinished); world 1: 5, 5, (2 unfinished).
    assert sorted(f[1] for f in finished) == [3, 5, 5, 5]
    stats = env.pop_episode_stats()
    count = len(finished)
    assert stats["Episode/count"] == count
    assert stats["Episode/length"] == pytest.approx(sum(f[1] for f in finished) / count)
    assert stats["Episode/return"] == pytest.approx(sum(f[0] for f in finished) / count, rel=1e-5, abs=1e-6)
    for i, name in enumerate(["cart", "pole", "off"]):
        mean = sum(f[2][i] for f in finished) / count
        assert stats[f"Episode_Reward/{name}"] == pytest.approx(mean, rel=1e-5, abs=1e-6)
    assert stats["Episode_Termination/fail"] == pytest.approx(1 / 4)
    assert stats["Episode_Termination/time_out"] == pytest.approx(3 / 4)
    assert stats["Env/nan_resets"] == 0.0
    # Popped: nothing is reported twice.
    assert "Episode/count" not in env.pop_episode_stats()


def test_a_diverged_world_earns_nothing_and_keeps_the_statistics_finite():
    env = RlEnv(cartpole_cfg(rewards=dict(REWARDS)))
    env.sim.set_state(torch.tensor([[0.3, 0.1], [0.3, 0.1]]), torch.tensor([[math.nan, 0.0], [1.0, 0.0]]))
    obs, reward, terminated, truncated, info = env.step(torch.zeros(2, 1))
    assert terminated.tolist() == [True, False] and not truncated.any()
    assert reward[0].item() == 0.0 and math.isfinite(reward[1].item())
    assert env.reward_manager.step_terms[0].tolist() == [0.0, 0.0, 0.0]
    assert torch.isfinite(obs["policy"]).all() and torch.isfinite(info["final_obs"]["policy"]).all()
    for _ in range(3):
        env.step(torch.zeros(2, 1))
    assert torch.isfinite(env.reward_manager.episode_sums).all()
    stats = env.pop_episode_stats()
    assert stats["Env/nan_resets"] == 1.0
    assert stats["Episode_Termination/nan"] == 1.0
    assert all(math.isfinite(v) for v in stats.values())
