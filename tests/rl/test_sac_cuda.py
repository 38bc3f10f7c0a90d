"""SAC/TD3 on a CUDA device: the graphed sample+update equals the eager one from the same state,
neither syncs with the host, and the off-policy runner resumes exactly. Skipped without CUDA."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
import torch

from warplab.rl import OffPolicyRunner, RunnerCfg, SacCfg, SacPolicyCfg
from warplab.rl.off_policy_networks import OffPolicyActorCritic
from warplab.rl.replay import ReplayBuffer
from warplab.rl.sac import SAC

from .helpers import assert_same_tensors
from .toy_env import ToyEnv, ToyEnvCfg

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

SHAPES = {"policy": (6,), "critic": (9,)}
A, N = 3, 64
CFG = SacCfg(
    batch_size=256,
    num_atoms=51,
    v_min=-10.0,
    v_max=10.0,
    policy_delay=2,
    max_grad_norm=1.0,
    n_step=3,
    tf32_matmul=False,
    graph_update=False,
)


@contextlib.contextmanager
def _no_host_sync():
    """Raises inside the block if torch synchronizes the host with the device."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def _setup(cfg: SacCfg, algorithm: str) -> tuple[SAC, ReplayBuffer]:
    torch.manual_seed(0)
    policy = SacPolicyCfg(actor_hidden_dims=(64, 64), critic_hidden_dims=(64, 64), action_scale=0.5)
    model = OffPolicyActorCritic(SHAPES, A, policy, cfg, algorithm == "td3").cuda()
    replay = ReplayBuffer(32, N, SHAPES, A, "cuda", n_step=cfg.n_step, gamma=cfg.gamma)
    return SAC(model, cfg, algorithm, seed=3), replay


def _add(replay: ReplayBuffer, g: torch.Generator) -> None:
    def obs():
        return {name: torch.randn(N, *shape, generator=g).cuda() for name, shape in SHAPES.items()}

    replay.add(
        obs(),
        (torch.rand(N, A, generator=g) - 0.5).cuda(),
        torch.randn(N, generator=g).cuda(),
        obs(),
        (torch.rand(N, generator=g) < 0.05).cuda(),
        (torch.rand(N, generator=g) < 0.05).cuda(),
    )


def _train(cfg: SacCfg, algorithm: str, updates: int = 14, load_optimizer_after: int | None = None):
    """Updates on a buffer that grows by a step every other update (so a replay must see the new
    fill level); records the weights, the statistics and log(alpha) after each."""
    agent, replay = _setup(cfg, algorithm)
    g = torch.Generator().manual_seed(1)
    for _ in range(4):
        _add(replay, g)
    records = []
    for i in range(updates):
        if i % 2 == 0:
            _add(replay, g)
        if load_optimizer_after is not None and i == load_optimizer_after:
            agent.load_optimizer_state(agent.optimizer_state())
        stats = agent.train_step(replay)
        records.append(
            (
                {k: v.clone() for k, v in agent.model.state_dict().items()},
                {k: v.clone() for k, v in stats.items()},
                agent.log_alpha.detach().clone(),
            )
        )
    return agent, records


def _assert_close_records(graphed, eager, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    assert len(graphed) == len(eager)
    for i, ((params_g, stats_g, alpha_g), (params_e, stats_e, alpha_e)) in enumerate(
        zip(graphed, eager, strict=True)
    ):
        # Capturable Adam (graphed) and the eager one differ in rounding only.
        for name, value in params_e.items():
            torch.testing.assert_close(params_g[name], value, atol=atol, rtol=rtol, msg=f"{name}, update {i}")
        assert stats_g.keys() == stats_e.keys(), f"update {i}"
        for key, value in stats_e.items():
            torch.testing.assert_close(stats_g[key], value, atol=atol, rtol=rtol, msg=f"{key}, update {i}")
        torch.testing.assert_close(alpha_g, alpha_e, atol=atol / 10, rtol=rtol / 10)


@pytest.mark.parametrize("algorithm", ["sac", "td3"])
@pytest.mark.parametrize("distributional", [True, False])
def test_graphed_updates_equal_eager_updates(algorithm, distributional):
    """14 updates: 3 warm-ups and a capture of each of the two graphs (with and without the actor
    step), then replays of both, while the buffer fills: the same weights, statistics, temperature
    and random stream as the eager updates from the same state."""
    cfg = dataclasses.replace(CFG, distributional=distributional)
    eager, eager_records = _train(cfg, algorithm)
    graphed, graphed_records = _train(dataclasses.replace(cfg, graph_update=True), algorithm)
    assert graphed.critic_optimizer.defaults["capturable"]
    assert not eager.critic_optimizer.defaults["capturable"]
    graph = graphed._graph
    assert graph is not None and graph.failed is None
    assert set(graph.graphs) == {True, False}
    _assert_close_records(graphed_records, eager_records)
    # The graphs drew from SAC's generator as the eager updates did, and advanced it as far.
    assert torch.equal(graphed.generator.get_state(), eager.generator.get_state())


@pytest.mark.parametrize("algorithm", ["sac", "td3"])
def test_graphed_bf16_updates_equal_eager_bf16_updates(algorithm):
    """``bf16_autocast``: the captured graphs run the same bfloat16 kernels as the eager updates
    (autocast, its cache off, is in force while recording), so they agree as the float32 ones do.
    The tolerance is ten times the float32 test's: a last-bit difference of capturable Adam can
    move a weight across a bfloat16 rounding boundary (a step of 2^-8, 0.4%, in that product).
    The graphed run must also be nearer the eager bf16 run than the eager float32 one: a capture
    that dropped autocast would be nearer float32."""
    cfg = dataclasses.replace(CFG, bf16_autocast=True)
    eager, eager_records = _train(cfg, algorithm)
    graphed, graphed_records = _train(dataclasses.replace(cfg, graph_update=True), algorithm)
    _, float32_records = _train(CFG, algorithm)
    graph = graphed._graph
    assert graph is not None and graph.failed is None
    assert set(graph.graphs) == {True, False}
    _assert_close_records(graphed_records, eager_records, atol=1e-4, rtol=1e-3)
    assert torch.equal(graphed.generator.get_state(), eager.generator.get_state())

    def critic_losses(records) -> torch.Tensor:
        return torch.stack([stats["Loss/critic"] for _, stats, _ in records])

    to_bf16 = (critic_losses(graphed_records) - critic_losses(eager_records)).abs().sum()
    to_float32 = (critic_losses(graphed_records) - critic_losses(float32_records)).abs().sum()
    assert to_bf16 < to_float32, (to_bf16, to_float32)
    for parameter in graphed.model.parameters():
        assert parameter.dtype == torch.float32


@pytest.mark.parametrize("algorithm", ["sac", "td3"])
def test_graphed_compiled_updates_equal_eager_updates(algorithm):
    """``compile_networks``: the warm-up updates compile the networks' forwards (Inductor's Triton
    kernels) and the captured graphs replay those kernels; the updates agree with the eager,
    uncompiled ones as the plain graphed updates do, and draw the same random stream."""
    torch._dynamo.reset()
    eager, eager_records = _train(CFG, algorithm)
    graphed, graphed_records = _train(
        dataclasses.replace(CFG, graph_update=True, compile_networks=True), algorithm
    )
    graph = graphed._graph
    assert graph is not None and graph.failed is None
    assert set(graph.graphs) == {True, False}
    _assert_close_records(graphed_records, eager_records)
    assert torch.equal(graphed.generator.get_state(), eager.generator.get_state())


def test_graphed_and_eager_updates_never_sync_with_the_host():
    for graph_update in (False, True):
        agent, replay = _setup(dataclasses.replace(CFG, graph_update=graph_update), "sac")
        g = torch.Generator().manual_seed(1)
        for _ in range(4):
            _add(replay, g)
        for _ in range(10):  # warm-ups and captures; Adam's state is created here
            agent.train_step(replay)
        with _no_host_sync():
            for _ in range(4):
                agent.train_step(replay)
        assert all(group["fused"] for group in agent.critic_optimizer.param_groups)
        if graph_update:
            assert set(agent._graph.graphs) == {True, False}


def test_loading_optimizer_state_records_the_graphs_again():
    """Adam's state tensors are replaced by a load: the old graphs would step the old ones."""
    _, eager_records = _train(CFG, "sac", load_optimizer_after=9)
    graphed, graphed_records = _train(
        dataclasses.replace(CFG, graph_update=True), "sac", load_optimizer_after=9
    )
    _assert_close_records(graphed_records, eager_records)


def test_a_failed_capture_warns_once_and_updates_eagerly(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("capture refused")

    monkeypatch.setattr(torch.cuda, "graph", refuse)
    _, eager_records = _train(CFG, "sac", updates=10)
    with pytest.warns(UserWarning, match="could not be captured") as caught:
        graphed, graphed_records = _train(dataclasses.replace(CFG, graph_update=True), "sac", updates=10)
    assert sum("could not be captured" in str(w.message) for w in caught) == 1
    assert graphed._graph.failed is not None and not graphed._graph.graphs
    _assert_close_records(graphed_records, eager_records)


# The off-policy runner on CUDA --------------------------------------------------------------------


def _cuda_runner(graph_update: bool, tf32_matmul: bool = False) -> OffPolicyRunner:
    env = ToyEnv(ToyEnvCfg(num_envs=256, critic_group=True, max_episode_length=20), device="cuda")
    sac = SacCfg(
        num_steps_per_env=6,
        replay_size_per_env=32,
        batch_size=512,
        replay_ratio=3.0,
        learning_starts=2,
        random_steps=3,
        n_step=2,
        num_atoms=21,
        v_min=-5.0,
        v_max=25.0,
        save_replay=True,
        graph_update=graph_update,
        tf32_matmul=tf32_matmul,
    )
    cfg = RunnerCfg(
        algorithm="sac",
        console="off",
        seed=7,
        sac=sac,
        sac_policy=SacPolicyCfg(actor_hidden_dims=(32, 32), critic_hidden_dims=(32, 32)),
    )
    return OffPolicyRunner(env, cfg)


@pytest.mark.parametrize("graph_update", [False, True])
def test_runner_collects_and_updates_without_host_sync(graph_update):
    runner = _cuda_runner(graph_update)
    runner.learn(3)  # reset, warm-up, the graphs' warm-ups and captures, Adam's state
    assert runner.agent.num_updates > 2 * 2 * 3
    with _no_host_sync():
        for _ in range(4):
            runner.collect_step()
            for _ in range(runner.updates_due()):
                runner.agent.train_step(runner.replay)
    assert runner.replay.rewards.is_cuda
    assert "Perf/torch_memory_allocated_mib" in runner.last_scalars
    assert 0.0 < runner.last_scalars["Perf/update_share"] < 1.0


@pytest.mark.parametrize("tf32_matmul", [False, True])
@pytest.mark.parametrize("graph_update", [False, True])
def test_runner_resume_continues_exactly_on_cuda(tmp_path, graph_update, tf32_matmul):
    """Resumed after 2 iterations, a run ends where the uninterrupted one does: the sampling
    generator (registered with the graphs), the replay buffer and the counters cross the save. With
    graphs, the resumed run warms up and records its graphs again where the uninterrupted one
    replays: the graphs must compute what the eager updates compute."""
    straight = _cuda_runner(graph_update, tf32_matmul)
    straight.learn(4)
    first = _cuda_runner(graph_update, tf32_matmul)
    first.learn(2)
    first.save(tmp_path / "model_2.pt")
    resumed = _cuda_runner(graph_update, tf32_matmul)
    resumed.load(tmp_path / "model_2.pt")
    resumed.learn(2)
    assert resumed.agent.num_updates == straight.agent.num_updates
    assert_same_tensors(resumed.policy.state_dict(), straight.policy.state_dict())
    assert torch.equal(resumed.agent.log_alpha, straight.agent.log_alpha)
    assert torch.equal(resumed.agent.generator.get_state(), straight.agent.generator.get_state())
    assert_same_tensors(resumed.replay.state_dict(), straight.replay.state_dict())
    assert_same_tensors(resumed.env.get_state(), straight.env.get_state())
