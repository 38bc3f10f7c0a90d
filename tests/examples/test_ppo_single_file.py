"""examples/ppo_single_file.py: a short run end to end, and its GAE against numbers worked out by hand."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "ppo_single_file.py"


@pytest.fixture(scope="module")
def ppo():
    # The example is a script, not a package module: load it from its path.
    spec = importlib.util.spec_from_file_location("ppo_single_file", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building Args.
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(autouse=True)
def _keep_torch_threads():
    # main() sets torch's thread count from Args.torch_threads; leave the process as we found it.
    previous = torch.get_num_threads()
    yield
    torch.set_num_threads(previous)


def test_gae_by_hand(ppo):
    # gamma = lam = 0.5, so gamma * lam = 0.25. Two steps of four worlds; every reward is 1,
    # values are 2 at t=0 and 4 at t=1, the value after the rollout is 8 and V(final_obs) is 10
    # everywhere (GAE must read it only where a world timed out).
    # World 0, never done:
    #   t=1: delta = 1 + 0.5 * 8 - 4 = 1                        A = 1
    #   t=0: delta = 1 + 0.5 * 4 - 2 = 1                        A = 1 + 0.25 * 1 = 1.25
    # World 1, truncated at t=0: bootstraps from V(final_obs) = 10, not from values[1] (a new
    # episode), and carries no advantage back from t=1:
    #   t=1: A = 1 (as world 0)
    #   t=0: delta = 1 + 0.5 * 10 - 2 = 4                       A = 4
    # World 2, terminated at t=0: nothing after a termination:
    #   t=0: delta = 1 + 0 - 2 = -1                             A = -1
    # World 3, terminated and truncated at t=0: counts as terminated, A = -1 as world 2.
    # Returns = A + V.
    rewards = torch.ones(2, 4)
    values = torch.tensor([[2.0] * 4, [4.0] * 4])
    terminated = torch.tensor([[False, False, True, True], [False] * 4])
    truncated = torch.tensor([[False, True, False, True], [False] * 4])
    final_values = torch.full((2, 4), 10.0)
    advantages, returns = ppo.compute_gae(
        rewards, values, terminated, truncated, final_values, torch.full((4,), 8.0), gamma=0.5, lam=0.5
    )
    torch.testing.assert_close(advantages, torch.tensor([[1.25, 4.0, -1.0, -1.0], [1.0, 1.0, 1.0, 1.0]]))
    torch.testing.assert_close(returns, torch.tensor([[3.25, 6.0, 1.0, 1.0], [5.0, 5.0, 5.0, 5.0]]))


def test_short_run_completes_with_finite_losses(ppo, tmp_path):
    args = ppo.Args(
        task="cartpole-balance",
        num_envs=4,
        device="cpu",
        seed=0,
        iterations=3,
        num_steps=8,
        tensorboard_dir=str(tmp_path / "tb"),
    )
    history = ppo.main(args)
    assert len(history) == 3
    for scalars in history:
        for key in ("Loss/surrogate", "Loss/value", "Loss/entropy", "Policy/kl", "Perf/steps_per_s"):
            assert math.isfinite(scalars[key]), (key, scalars[key])
        assert args.min_learning_rate <= scalars["Policy/learning_rate"] <= args.max_learning_rate
    # A random cart-pole policy drops the pole within about 25 steps, so episodes end in 24 steps.
    assert any("Episode/return" in scalars for scalars in history)
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
