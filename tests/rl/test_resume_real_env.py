"""Exact resume on a real environment: cartpole-balance on MuJoCo Warp (CPU), not the toy env.

3 iterations, save, a fresh env and runner load and train 2 more: bit for bit the weights,
normalizers, optimizer and env state of 5 uninterrupted iterations. This needs ``RlEnv``'s
``get_state``/``set_state``; without them the runner would reset the worlds on load and differ.
"""

from __future__ import annotations

import dataclasses
import warnings

import warplab
from warplab.rl import OnPolicyRunner
from warplab.tasks import get_task

from .helpers import assert_same_training_state


def _runner(log_dir=None) -> OnPolicyRunner:
    env = warplab.make("cartpole-balance", num_envs=8, device="cpu")
    cfg = get_task("cartpole-balance").agent_cfg_factory()
    cfg.console = "off"
    cfg.save_interval = 100
    cfg.ppo = dataclasses.replace(cfg.ppo, num_steps_per_env=8, num_learning_epochs=2, num_mini_batches=2)
    return OnPolicyRunner(env, cfg, log_dir=log_dir)


def test_resume_on_cartpole_continues_exactly(tmp_path):
    straight = _runner()
    straight.learn(5)

    first = _runner(log_dir=tmp_path)
    first.learn(3)
    first.close()
    resumed = _runner()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the inexact fallback warns; it must not be taken
        resumed.load(tmp_path / "model_3.pt")
    assert resumed.iteration == 3
    resumed.learn(2)

    assert straight.iteration == 5
    assert_same_training_state(resumed, straight)
    # The logged losses and episode statistics too (timings aside).
    logged = [
        {k: v for k, v in r.last_scalars.items() if not k.startswith("Perf/")} for r in (resumed, straight)
    ]
    assert logged[0] == logged[1]
