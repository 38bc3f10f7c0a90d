"""The runner on a CUDA device: no host sync while collecting or updating, exact resume, and resume
across devices. Skipped without CUDA."""

from __future__ import annotations

import pytest
import torch

from warplab.rl import OnPolicyRunner, PpoCfg, adapt_learning_rate
from warplab.rl.ppo import adapt_learning_rate_

from .helpers import assert_same_tensors, small_cfg
from .toy_env import ToyEnv, ToyEnvCfg

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _runner(device: str = "cuda", **cfg_overrides) -> OnPolicyRunner:
    env = ToyEnv(ToyEnvCfg(num_envs=256, critic_group=True), device=device)
    return OnPolicyRunner(env, small_cfg(**cfg_overrides))


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


@pytest.mark.parametrize("schedule", ["adaptive", "fixed"])
def test_ppo_update_never_syncs_with_the_host(schedule):
    """The whole update (20 mini-batches here, as in the velocity tasks' config: 5 epochs of 4),
    the adaptive learning rate, fused Adam, the shuffling and the normalizers, is queued without
    the host waiting for the device once."""
    ppo = PpoCfg(num_steps_per_env=8, num_learning_epochs=5, num_mini_batches=4, schedule=schedule)
    runner = _runner(ppo=ppo)
    runner.learn(1)  # Adam's state and the pinned-memory pool are created here.
    runner.collect_rollout()
    before = runner.ppo.learning_rate
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        losses = runner.update()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(group["fused"] for group in runner.ppo.optimizer.param_groups)
    assert all(value.is_cuda for value in losses.values())
    if schedule == "fixed":
        assert runner.ppo.learning_rate == before
    # Adam reads the float32 copy of the rate; it must follow the float64 rate.
    assert (
        runner.ppo.optimizer.param_groups[0]["lr"].item()
        == torch.tensor(runner.ppo.learning_rate).float().item()
    )


def test_device_rule_on_cuda_is_the_float_rule():
    cfg = PpoCfg(desired_kl=0.01)
    for lr in (1e-5, 3e-4, 1e-3, 9e-3):
        for kl in (0.0, 0.004, 0.005, 0.01, 0.02, 0.03, 1.0):
            rate = torch.full((), lr, dtype=torch.float64, device="cuda")
            kl32 = torch.tensor(kl, dtype=torch.float32, device="cuda")
            adapt_learning_rate_(rate, kl32, cfg)
            assert rate.item() == adapt_learning_rate(lr, kl32.item(), cfg), (lr, kl)


@pytest.mark.parametrize(("saved_on", "loaded_on"), [("cuda", "cpu"), ("cpu", "cuda")])
def test_optimizer_state_moves_across_devices(tmp_path, saved_on, loaded_on):
    """Adam's state moves between the fused CUDA implementation and the CPU one (as a checkpoint
    loads it: onto the CPU first), and the loaded groups read the new PPO's rate tensor."""
    first = _runner(saved_on)
    first.learn(2)
    torch.save(first.ppo.optimizer.state_dict(), tmp_path / "adam.pt")
    state = torch.load(tmp_path / "adam.pt", map_location="cpu", weights_only=True)
    second = _runner(loaded_on)
    second.policy.load_state_dict(first.policy.state_dict())
    second.ppo.load_optimizer_state(state, first.ppo.learning_rate)
    assert second.ppo.learning_rate == first.ppo.learning_rate
    for group in second.ppo.optimizer.param_groups:
        assert bool(group["fused"]) == (loaded_on == "cuda")
        assert group["lr"].device.type == loaded_on
    second.learn(1)
    assert all(torch.isfinite(p).all() for p in second.policy.parameters())


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
