"""Small runner configs and comparisons shared by the runner and checkpoint tests."""

from __future__ import annotations

from pathlib import Path

import torch

from warplab.rl import OnPolicyRunner, PolicyCfg, PpoCfg, RunnerCfg

from .toy_env import ToyEnv, ToyEnvCfg


def small_cfg(**overrides) -> RunnerCfg:
    """A runner config sized for one CPU core: 8 steps per rollout, tiny networks, no console."""
    policy = overrides.pop("policy", PolicyCfg(actor_hidden_dims=(16, 16), critic_hidden_dims=(16, 16)))
    ppo = overrides.pop("ppo", PpoCfg(num_steps_per_env=8, num_learning_epochs=2, num_mini_batches=2))
    return RunnerCfg(**{"console": "off", "seed": 7, "policy": policy, "ppo": ppo, **overrides})


def make_runner(
    log_dir: Path | None = None,
    env_cls=ToyEnv,
    num_envs: int = 16,
    critic_group: bool = False,
    max_episode_length: int = 50,
    **cfg_overrides,
) -> OnPolicyRunner:
    """A runner on a fresh toy env; `cfg_overrides` go to `small_cfg`."""
    env = env_cls(
        ToyEnvCfg(num_envs=num_envs, critic_group=critic_group, max_episode_length=max_episode_length)
    )
    return OnPolicyRunner(env, small_cfg(**cfg_overrides), log_dir=log_dir)


def assert_same_tensors(a: dict, b: dict) -> None:
    """Bit-for-bit equality of two dicts of tensors (or nested dicts / lists of them)."""
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            assert_same_tensors(x, y)
        elif isinstance(x, torch.Tensor):
            assert torch.equal(x, y), f"{key} differs"
        else:
            assert x == y, f"{key} differs: {x!r} != {y!r}"


def assert_same_training_state(resumed: OnPolicyRunner, straight: OnPolicyRunner) -> None:
    """A resumed run and an uninterrupted one agree bit for bit: iteration, every parameter and
    normalizer buffer, the optimizer's moments, the learning rate and the env's state."""
    assert resumed.iteration == straight.iteration
    assert_same_tensors(resumed.policy.state_dict(), straight.policy.state_dict())
    assert_same_tensors(
        resumed.ppo.optimizer.state_dict()["state"], straight.ppo.optimizer.state_dict()["state"]
    )
    assert resumed.ppo.learning_rate == straight.ppo.learning_rate
    assert_same_tensors(resumed.env.get_state(), straight.env.get_state())
