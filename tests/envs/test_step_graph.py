"""The env step is free of host syncs (so it can be captured), and on CUDA the captured step
replays exactly what the eager step computes."""

from __future__ import annotations

import traceback

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from warplab.envs.managers import ObservationTerm
from warplab.envs.rl_env import RlEnv
from warplab.tasks import list_tasks, make_env_cfg

from ._cfgs import assert_steps_agree, task_env_pair

# Operators that read a device value on the host (a sync) or copy host data to the device.
_HOST_SYNC_OPS = {
    "_local_scalar_dense",  # .item(), float(t), bool(t)
    "nonzero",
    "nonzero_static",
    "masked_select",
    "is_nonzero",
    "equal",
    "lift_fresh",  # torch.tensor(python data): a host-to-device copy on every call
}


class _HostSyncRecorder(TorchDispatchMode):
    """Records every operator of ``_HOST_SYNC_OPS`` (and indexing by a bool mask) with the warplab
    lines that called it."""

    def __init__(self):
        super().__init__()
        self.hits: dict[tuple, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        bool_index = name == "index" and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in (args[1] or [])
        )
        if name in _HOST_SYNC_OPS or bool_index:
            where = tuple(
                f"{f.filename.split('warplab/')[-1]}:{f.lineno}"
                for f in traceback.extract_stack()
                if "/warplab/" in f.filename and "/tests/" not in f.filename
            )
            key = (name, where[-3:])
            self.hits[key] = self.hits.get(key, 0) + 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("task", list_tasks())
def test_env_step_has_no_host_sync(task):
    """Every registered task's step, with and without resets, reads nothing back to the host."""
    cfg = make_env_cfg(task)
    cfg.num_envs = 2
    env = RlEnv(cfg)
    action = torch.zeros(2, env.action_dim, device=env.device)
    env.step(action)
    with _HostSyncRecorder() as recorder:
        env.step(action)
        env.episode_length_buf.fill_(env.max_episode_length)  # both worlds time out: the reset path
        env.step(action)
    assert not recorder.hits, f"host syncs in {task}'s step: {recorder.hits}"


def test_recorder_sees_a_sync():
    """The recorder itself catches what it is meant to (else the test above could not fail)."""
    x = torch.arange(4.0)
    with _HostSyncRecorder() as recorder:
        x.sum().item()
        _ = x[x > 1]
        torch.tensor([1.0, 2.0])
    names = sorted({name for name, _ in recorder.hits})
    assert names == ["_local_scalar_dense", "index", "lift_fresh"]


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _pair(task: str, num_envs: int):
    """An eager and a captured env of ``task`` on CUDA, resetting every 30 steps."""
    return task_env_pair(task, num_envs, "cuda", "graph_step", episode_length_s=0.6)


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("task", ["humanoid-velocity-flat-dr", "humanoid-push-recovery", "Humanoid-v5"])
def test_graph_step_replays_the_eager_step(task):
    """From the same state (generator included), the captured step gives what the eager step gives,
    through resets, observation noise, randomization and pushes. States are re-synced before every
    step: MuJoCo Warp sums contact forces with atomics on a GPU, so two eager envs also drift apart
    by rounding over many steps."""
    from warplab.envs.env_state import live_tensors

    eager, graphed = _pair(task, 64)
    gen = torch.Generator(device="cuda").manual_seed(0)
    for i in range(12):
        graphed.set_state(eager.get_state())
        action = torch.rand(64, eager.action_dim, generator=gen, device="cuda") * 2 - 1
        assert_steps_agree(eager.step(action), graphed.step(action), atol=1e-3, rtol=1e-4, step=i)
        live_e, live_g = live_tensors(eager), live_tensors(graphed)
        for name, t in live_e.items():
            # The solver's warm start is its first guess: rounding-sensitive, and the outputs above
            # already show the solves agree. NaN is a real value here (a survival rate before any
            # pushed episode has ended), so NaN must meet NaN.
            if t.dtype.is_floating_point and name != "sim.data.qacc_warmstart":
                torch.testing.assert_close(
                    t, live_g[name], atol=1e-3, rtol=1e-4, equal_nan=True, msg=f"{name} at step {i}"
                )
    assert graphed._step_graph.captured, graphed._step_graph.failed
    assert eager._step_graph is None
    # Each replay draws new numbers: the same state with the generator moved on gives other noise.
    state = graphed.get_state()
    zero = torch.zeros(64, graphed.action_dim, device="cuda")
    first = graphed.step(zero)[0]["policy"]
    graphed.set_state(state)
    torch.rand(1, generator=graphed.rng, device="cuda")
    second = graphed.step(zero)[0]["policy"]
    if task != "Humanoid-v5":  # the Gymnasium task has no observation noise
        assert not torch.equal(first, second), "the captured step repeats its random draws"


class _BaseHeightUnsafeToCapture(ObservationTerm):
    """An observation term that declares ``graph_safe = False`` (a user's term not yet checked)."""

    graph_safe = False

    def __init__(self, cfg, env):
        pass

    def __call__(self, env, **_):
        return env.sim.qpos[:, 2:3]


def _with_unsafe_term(device: str, num_envs: int) -> RlEnv:
    from warplab.envs.config import ObservationTermCfg

    cfg = make_env_cfg("cartpole-balance")
    cfg.num_envs, cfg.device = num_envs, device
    cfg.observations["policy"].terms["unsafe"] = ObservationTermCfg(func=_BaseHeightUnsafeToCapture)
    return RlEnv(cfg)


def test_graph_unsafe_terms_names_the_term():
    from warplab.envs.step_graph import graph_unsafe_terms

    assert graph_unsafe_terms(_with_unsafe_term("cpu", 2)) == ["observations.policy.terms.unsafe"]
    cfg = make_env_cfg("humanoid-velocity-rough")  # the height scan is captured since 2026-11-25
    cfg.num_envs, cfg.device = 2, "cpu"
    assert graph_unsafe_terms(RlEnv(cfg)) == []


@pytest.mark.gpu
@cuda
def test_a_term_unsafe_to_capture_keeps_the_step_eager():
    """A term that declares itself unsafe to capture keeps its env's step eager."""
    env = _with_unsafe_term("cuda", 4)
    env.step(torch.zeros(4, env.action_dim, device="cuda"))
    assert env._step_graph is None


@pytest.mark.gpu
@cuda
def test_graph_step_outputs_are_not_overwritten():
    """What one step returned stays as it was after the next (the graph's buffers are copied)."""
    _, env = _pair("humanoid-velocity-flat", 16)
    action = torch.zeros(16, env.action_dim, device="cuda")
    for _ in range(5):
        obs, reward, *_ = env.step(action)
    kept_obs, kept_reward = obs["policy"].clone(), reward.clone()
    env.step(action + 0.5)
    assert env._step_graph.captured
    assert torch.equal(obs["policy"], kept_obs) and torch.equal(reward, kept_reward)


def test_a_replayed_step_keeps_no_autograd_history_of_the_actions():
    # The replay copies each action into the graph's input. From an action that requires grad (a
    # policy's output stepped outside no_grad), copy_ made that input part of autograd, each step's
    # copy holding the one before and every earlier step's policy graph. No CUDA here: a stand-in
    # for the captured graph, whose replay is beside the point; the copy into its input is tested.
    from types import SimpleNamespace

    from warplab.envs.step_graph import StepGraph

    cfg = make_env_cfg("cartpole-balance")
    cfg.num_envs = 2
    env = RlEnv(cfg)
    graph = StepGraph(env, env._step_worlds)
    graph.graph, graph.outputs, graph._generation = (
        SimpleNamespace(replay=lambda: None),
        (),
        env.sim.graph_generation,
    )
    assert graph.captured
    weight = torch.ones(env.action_dim, requires_grad=True)
    for value in (0.25, 0.5):
        graph.step(torch.full((2, env.action_dim), value) * weight)
    assert not graph.action.requires_grad and graph.action.grad_fn is None
    assert graph.action.flatten().tolist() == [0.5, 0.5]
