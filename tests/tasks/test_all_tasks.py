"""Every registered task is created with two worlds on the CPU, reset and stepped."""

from __future__ import annotations

import pytest
import torch

import warplab

NUM_ENVS = 2
STEPS = 20


def test_the_builtin_tasks_are_registered():
    assert {"cartpole-balance", "Humanoid-v5"} <= set(warplab.list_tasks())


@pytest.mark.parametrize("task", warplab.list_tasks())
def test_task_creates_resets_and_steps(task):
    env = warplab.make(task, NUM_ENVS, device="cpu", seed=0)
    assert env.num_envs == NUM_ENVS and env.action_dim > 0
    assert "policy" in env.observation_shapes

    def check_obs(obs):
        assert set(obs) == set(env.observation_shapes)
        for group, shape in env.observation_shapes.items():
            assert obs[group].shape == (NUM_ENVS, *shape), group
            assert obs[group].dtype == torch.float32, group
            assert torch.isfinite(obs[group]).all(), group

    obs, info = env.reset(seed=1)
    check_obs(obs)
    assert isinstance(info, dict)
    gen = torch.Generator().manual_seed(0)
    for _ in range(STEPS):
        action = 2 * torch.rand(NUM_ENVS, env.action_dim, generator=gen) - 1
        obs, reward, terminated, truncated, info = env.step(action)
        check_obs(obs)
        check_obs(info["final_obs"])
        assert reward.shape == (NUM_ENVS,) and reward.dtype == torch.float32
        assert torch.isfinite(reward).all()
        for flag in (terminated, truncated):
            assert flag.shape == (NUM_ENVS,) and flag.dtype == torch.bool
        assert not (terminated & truncated).any()
    stats = env.pop_episode_stats()
    assert all(isinstance(v, float) for v in stats.values())
    assert stats["Env/nan_resets"] == 0.0
