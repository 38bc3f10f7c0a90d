"""The runner on a CUDA device: no host sync while collecting or updating, exact resume, and resume
across devices. Skipped without CUDA."""

from __future__ import annotations

import contextlib
import dataclasses

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


@contextlib.contextmanager
def _no_host_sync():
    """Raises inside the block if torch synchronizes the host with the device."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def _runner(device: str = "cuda", **cfg_overrides) -> OnPolicyRunner:
    env = ToyEnv(ToyEnvCfg(num_envs=256, critic_group=True), device=device)
    return OnPolicyRunner(env, small_cfg(**cfg_overrides))


def test_collection_never_syncs_with_the_host():
    runner = _runner()
    runner.learn(1)  # Reset, first allocations and lazy CUDA initialization happen here.
    with _no_host_sync():
        runner.collect_rollout()
    assert runner.storage.rewards.is_cuda


def test_iterations_log_torch_device_memory():
    """Each iteration reports the memory held by torch's allocator, read without a sync; it holds at
    least the rollout storage and does not grow from one iteration to the next."""
    runner = _runner()
    runner.learn(2)
    first = dict(runner.last_scalars)
    runner.learn(3)
    storage_mib = (
        sum(t.numel() * t.element_size() for t in (runner.storage.rewards, runner.storage.actions)) / 2**20
    )
    assert first["Perf/torch_memory_allocated_mib"] >= storage_mib
    assert (
        runner.last_scalars["Perf/torch_memory_reserved_mib"]
        >= runner.last_scalars["Perf/torch_memory_allocated_mib"]
    )
    assert runner.last_scalars["Perf/torch_memory_allocated_mib"] == first["Perf/torch_memory_allocated_mib"]


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
    with _no_host_sync():
        losses = runner.update()
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


@pytest.mark.parametrize("tf32_matmul", [False, True])
@pytest.mark.parametrize("graph_update", [False, True])
def test_resume_continues_exactly_on_cuda(tmp_path, graph_update, tf32_matmul):
    """Resumed after 3 iterations, a run ends where the uninterrupted one does. With the graphed
    update, the resumed run records its graph again (after 3 eager warm-up mini-batches) where the
    uninterrupted one replays: the graph must compute what the eager steps compute. TF32 (the
    default) rounds differently from FP32, but the same way every time."""
    ppo = PpoCfg(
        num_steps_per_env=8,
        num_learning_epochs=2,
        num_mini_batches=2,
        graph_update=graph_update,
        tf32_matmul=tf32_matmul,
    )
    straight = _runner(ppo=ppo)
    straight.learn(5)
    first = _runner(ppo=ppo)
    first.learn(3)
    first.save(tmp_path / "model_3.pt")
    resumed = _runner(ppo=ppo)
    resumed.load(tmp_path / "model_3.pt")
    resumed.learn(2)
    assert_same_tensors(resumed.policy.state_dict(), straight.policy.state_dict())
    assert_same_tensors(resumed.env.get_state(), straight.env.get_state())


# The mini-batch step as a CUDA graph (PpoCfg.graph_update) -------------------------------------

GRAPH_PPO = PpoCfg(
    num_steps_per_env=8, num_learning_epochs=5, num_mini_batches=4, graph_update=False, tf32_matmul=False
)
"""The eager baseline: 2,048 samples (256 worlds x 8 steps) in 4 mini-batches of 512, 20 steps an
update, so that with ``graph_update=True`` the first update warms up (3), records (1) and replays
(16). In FP32, so that the tolerances below measure the graph, not TF32's rounding."""


def _train(ppo: PpoCfg, iterations: int, load_optimizer_after: int | None = None):
    """A fresh runner trained ``iterations`` iterations; returns it and, after each update, its
    parameters, losses and learning rate. One runner at a time: each seeds the global generators
    its actions are sampled from."""
    runner = _runner(ppo=ppo)
    records = []
    for iteration in range(iterations):
        runner.collect_rollout()
        losses = runner.update()
        records.append(
            (
                {k: v.clone() for k, v in runner.policy.state_dict().items()},
                {k: v.clone() for k, v in losses.items()},
                runner.ppo.learning_rate,
            )
        )
        if iteration + 1 == load_optimizer_after:
            runner.ppo.load_optimizer_state(runner.ppo.optimizer.state_dict(), runner.ppo.learning_rate)
    return runner, records


def _assert_close_records(graphed, eager) -> None:
    for iteration, ((params_g, losses_g, lr_g), (params_e, losses_e, lr_e)) in enumerate(
        zip(graphed, eager, strict=True)
    ):
        for name, value in params_e.items():
            torch.testing.assert_close(
                params_g[name], value, atol=1e-5, rtol=1e-4, msg=f"{name}, update {iteration}"
            )
        for key, value in losses_e.items():
            torch.testing.assert_close(
                losses_g[key], value, atol=1e-5, rtol=1e-4, msg=f"{key}, update {iteration}"
            )
        assert lr_g == pytest.approx(lr_e, rel=1e-6)


def test_graphed_update_matches_the_eager_update():
    eager, eager_records = _train(GRAPH_PPO, 3)
    graphed, graphed_records = _train(dataclasses.replace(GRAPH_PPO, graph_update=True), 3)
    assert graphed.ppo.optimizer.defaults["capturable"] and not eager.ppo.optimizer.defaults["capturable"]
    _assert_close_records(graphed_records, eager_records)
    step_graph = graphed.ppo._graph
    assert step_graph is not None and step_graph.failed is None and step_graph.graph is not None


def test_graphed_update_never_syncs_with_the_host():
    runner = _runner(ppo=dataclasses.replace(GRAPH_PPO, graph_update=True))
    runner.learn(1)  # warm-up, capture
    runner.collect_rollout()
    with _no_host_sync():
        runner.update()
    assert runner.ppo._graph.graph is not None


def test_loading_optimizer_state_records_the_graph_again():
    """Adam's state tensors are replaced by a load: the old graph would step the old ones."""
    _, eager_records = _train(GRAPH_PPO, 2, load_optimizer_after=1)
    graphed, graphed_records = _train(
        dataclasses.replace(GRAPH_PPO, graph_update=True), 1, load_optimizer_after=1
    )
    assert graphed.ppo._graph is None
    graphed.collect_rollout()
    losses = graphed.update()
    graphed_records.append(
        ({k: v.clone() for k, v in graphed.policy.state_dict().items()}, losses, graphed.ppo.learning_rate)
    )
    _assert_close_records(graphed_records, eager_records)
    assert graphed.ppo._graph.graph is not None


def test_unequal_mini_batches_update_eagerly_with_a_warning():
    ppo = PpoCfg(num_steps_per_env=8, num_learning_epochs=1, num_mini_batches=3, graph_update=True)
    runner = _runner(ppo=ppo)
    with pytest.warns(UserWarning, match="do not split into 3 equal mini-batches"):
        runner.learn(1)
    assert runner.ppo._graph is None


def test_a_failed_capture_warns_once_and_updates_eagerly(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("capture refused")

    monkeypatch.setattr(torch.cuda, "graph", refuse)
    _, eager_records = _train(GRAPH_PPO, 2)
    with pytest.warns(UserWarning, match="could not be captured") as caught:
        graphed, graphed_records = _train(dataclasses.replace(GRAPH_PPO, graph_update=True), 2)
    assert sum("could not be captured" in str(w.message) for w in caught) == 1
    assert graphed.ppo._graph.failed is not None and graphed.ppo._graph.graph is None
    _assert_close_records(graphed_records, eager_records)
