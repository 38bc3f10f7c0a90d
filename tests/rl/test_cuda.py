"""The runner on a CUDA device: no host sync while collecting, and exact resume. Skipped without CUDA."""

from __future__ import annotations

import pytest
import torch

from warplab.rl import OnPolicyRunner

from .helpers import assert_same_tensors, small_cfg
from .toy_env import ToyEnv, ToyEnvCfg

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _runner() -> OnPolicyRunner:
    env = ToyEnv(ToyEnvCfg(num_envs=256, critic_group=True), device="cuda")
    return OnPolicyRunner(env, small_cfg())


def test_collection_never_syncs_with_the_host():
    runner = _runner()
    runner.learn(1)  # Reset, first allocations and lazy CUDA initialization happen here.
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        runner.collect_rollout()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert runner.storage.rewards.is_cuda


def test_resume_continues_exactly_on_cuda(tmp_path):
    straight = _runner()
    straight.learn(5)
    first = _runner()
    first.learn(3)
    first.save(tmp_path / "model_3.pt")
    resumed = _runner()
    resumed.load(tmp_path / "model_3.pt")
    resumed.learn(2)
    assert_same_tensors(resumed.policy.state_dict(), straight.policy.state_dict())
    assert_same_tensors(resumed.env.get_state(), straight.env.get_state())
