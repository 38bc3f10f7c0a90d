"""warplab.integrations.rsl_rl: the VecEnv contract, and rsl_rl's OnPolicyRunner on cartpole-balance."""

from __future__ import annotations

import copy
import glob
import importlib
import importlib.util
import os
import sys

import pytest
import torch

pytest.importorskip("rsl_rl")
from rsl_rl.env import VecEnv  # noqa: E402
from rsl_rl.runners import OnPolicyRunner  # noqa: E402
from tensordict import TensorDict  # noqa: E402

import warplab  # noqa: E402
from warplab.integrations.rsl_rl import RslRlVecEnv  # noqa: E402
from warplab.tasks import get_task  # noqa: E402

from .helpers import example_module  # noqa: E402

TASK = "cartpole-balance"


def train_cfg(num_steps_per_env: int = 16) -> dict:
    """A small rsl_rl 5.x runner config for cartpole (obs groups: warplab's "policy" for both)."""
    mlp = {
        "class_name": "MLPModel",
        "hidden_dims": [32, 32],
        "activation": "elu",
        "obs_normalization": True,
    }
    return {
        "num_steps_per_env": num_steps_per_env,
        "save_interval": 2,
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]},
        "actor": {**mlp, "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": 0.5}},
        "critic": dict(mlp),
        "algorithm": {
            "class_name": "PPO",
            "num_learning_epochs": 5,
            "num_mini_batches": 4,
            "learning_rate": 3e-3,
            "schedule": "adaptive",
            "desired_kl": 0.01,
            "gamma": 0.99,
            "lam": 0.95,
            "entropy_coef": 0.0,
        },
        "logger": "tensorboard",
    }


def test_step_contract_and_time_outs():
    # Episodes of 5 steps: every world is truncated at steps 5, 10, 15, ... unless its pole falls.
    env = RslRlVecEnv(
        warplab.make(TASK, num_envs=4, device="cpu", seed=3, episode_length_s=0.1), log_interval=5
    )
    assert isinstance(env, VecEnv)
    assert (env.num_envs, env.num_actions, env.max_episode_length) == (4, 1, 5)
    assert env.device == torch.device("cpu") and env.cfg is env.env.cfg

    obs = env.get_observations()
    assert isinstance(obs, TensorDict) and obs.batch_size == torch.Size([4])
    assert list(obs.keys()) == ["policy"] and obs["policy"].shape == (4, 4)

    previous = obs["policy"].clone()
    for t in range(1, 11):
        obs, rewards, dones, extras = env.step(torch.zeros(4, 1))
        assert rewards.shape == (4,) and rewards.dtype == torch.float32
        assert dones.shape == (4,) and dones.dtype == torch.bool
        # Still balanced after so few steps with no push: only the time limit ends episodes.
        assert torch.equal(extras["time_outs"], torch.full((4,), t % 5 == 0))
        assert torch.equal(dones, extras["time_outs"])
        # The statistics are read every log_interval steps, never in between.
        assert ("log" in extras) == (t % 5 == 0)
        # The returned observations are new tensors: the previous step's are not overwritten
        # (rsl_rl keeps them until it records the transition after the next step).
        assert not torch.equal(previous, obs["policy"])
        previous = obs["policy"].clone()
    assert extras["log"]["Episode/length"] == 5.0 and extras["log"]["Episode_Termination/time_out"] == 1.0

    # rsl_rl's init_at_random_ep_len assigns the buffer; the env's own buffer must see it.
    env.episode_length_buf = torch.tensor([0, 1, 2, 3])
    assert torch.equal(env.env.episode_length_buf, torch.tensor([0, 1, 2, 3]))
    _, _, dones, extras = env.step(torch.zeros(4, 1))
    assert extras["time_outs"].tolist() == [False, False, False, False]
    _, _, dones, extras = env.step(torch.zeros(4, 1))
    _, _, dones, extras = env.step(torch.zeros(4, 1))
    assert extras["time_outs"].tolist() == [False, False, True, False]  # 2 + 3 steps = 5


def test_termination_is_not_a_time_out():
    # A pole pushed hard one way falls (terminated) long before the 10 s time limit.
    env = RslRlVecEnv(warplab.make(TASK, num_envs=4, device="cpu", seed=0))
    fell = torch.zeros(4, dtype=torch.bool)
    for _ in range(60):
        _, _, dones, extras = env.step(torch.ones(4, 1))
        assert not extras["time_outs"].any()
        fell |= dones
    assert fell.all()


def test_on_policy_runner_trains_logs_and_saves(tmp_path):
    env = RslRlVecEnv(warplab.make(TASK, num_envs=4, device="cpu", seed=1), log_interval=16)
    runner = OnPolicyRunner(env, train_cfg(16), log_dir=str(tmp_path), device="cpu")
    before = copy.deepcopy(runner.alg.actor.state_dict())
    runner.learn(num_learning_iterations=3, init_at_random_ep_len=True)

    after = runner.alg.actor.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "PPO did not change the actor"
    saved = sorted(os.path.basename(p) for p in glob.glob(str(tmp_path / "model_*.pt")))
    assert saved == ["model_0.pt", "model_2.pt"]
    checkpoint = torch.load(tmp_path / "model_2.pt", weights_only=False)
    assert checkpoint["iter"] == 2
    # The warplab statistics reached rsl_rl's tensorboard log.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"Episode/return", "Episode_Reward/alive", "Env/nan_resets", "Train/mean_reward"} <= tags


@pytest.mark.slow
def test_on_policy_runner_learns_cartpole():
    # 16 worlds, 32 steps per iteration, 20 iterations (about 12 s here). rsl_rl draws from torch's
    # global generator: seeded, the run is the same each time. Seeds 0 and 1 both went from a
    # training return near 20 (a random policy keeps the pole up for about 25 steps) to a mean
    # above 100 over iterations 15-19.
    torch.manual_seed(0)
    # The adapter never reads the statistics here (log_interval beyond the run): the test does,
    # once per iteration.
    env = RslRlVecEnv(warplab.make(TASK, num_envs=16, device="cpu", seed=0), log_interval=10**9)
    runner = OnPolicyRunner(env, train_cfg(32), log_dir=None, device="cpu")
    returns = []
    for _ in range(20):
        runner.learn(num_learning_iterations=1)
        returns.append(env.env.pop_episode_stats()["Episode/return"])
    first, last = returns[0], sum(returns[-5:]) / 5
    assert first < 60.0, f"the untrained policy already returns {first:.1f}"
    assert last > 4 * first, f"training returns per iteration: {[round(r, 1) for r in returns]}"


def test_train_cfg_from_warplab_and_the_example(tmp_path):
    # examples/rsl_rl_ppo.py: the task's registered settings, translated, for two iterations.
    with example_module("rsl_rl_ppo.py") as example:
        args = example.Args(num_envs=4, iterations=2, num_steps_per_env=8, log_dir=str(tmp_path))
        runner = example.main(args)
    ppo = get_task(TASK).agent_cfg_factory().ppo
    assert runner.alg.num_learning_epochs == ppo.num_learning_epochs and runner.alg.gamma == ppo.gamma
    assert runner.cfg["num_steps_per_env"] == 8
    assert len(glob.glob(str(tmp_path / TASK / "*" / "model_1.pt"))) == 1


def test_missing_library_names_the_extra(monkeypatch):
    # None in sys.modules is what `import rsl_rl...` meets when the library is not installed.
    for name in [n for n in sys.modules if n == "rsl_rl" or n.startswith("rsl_rl.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "rsl_rl", None)
    monkeypatch.delitem(sys.modules, "warplab.integrations.rsl_rl")
    with pytest.raises(ImportError, match=r'pip install "warplab\[integrations\]"'):
        importlib.import_module("warplab.integrations.rsl_rl")
