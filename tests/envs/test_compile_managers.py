"""``RlEnvCfg.compile_managers``: the compiled step gives what the plain step gives, draws included,
and compiles without graph breaks (``warplab.envs.compiled``, ``warplab.envs.draws``)."""

from __future__ import annotations

import functools
import sys

import pytest
import torch
from torch._dynamo.utils import counters

from warplab.envs import draws
from warplab.envs.compiled import _traced
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg

from ._cfgs import assert_steps_agree, task_env_pair


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_compiled_draws_keep_every_draw_in_order(backend):
    """Draws with identical arguments, unused draws (the last one too), and draws of several shapes
    come out of a compiled function as they come out of the plain one, and the generator ends in the
    same state: Inductor neither merges, reorders nor drops a draw."""
    gen = torch.Generator().manual_seed(0)
    draws.register_generator(gen)
    state = torch.zeros(6)

    def f(x):
        a = draws.rand((6,), gen, "cpu")
        b = draws.rand((6,), gen, "cpu")  # same arguments as a: must not be merged with it
        draws.randn((3,), gen, "cpu")  # unused: must still be drawn
        c = draws.randint(0, 5, 6, gen, "cpu")
        state.copy_(torch.where(x > 0, a, state))
        draws.rand((2,), gen, "cpu")  # unused and last: kept only through chain_ends()
        return 2.0 * a - 1.0 + 0.5 * b, c

    x = torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0, 1.0])
    gen.manual_seed(0)
    expected = [f(x) for _ in range(3)]
    expected_state, expected_gen = state.clone(), gen.get_state()
    state.zero_()
    gen.manual_seed(0)
    # As warplab.envs.compiled wraps a phase: a fresh chain, and the chain's ends returned.
    compiled = torch.compile(functools.partial(_traced, f), fullgraph=True, backend=backend)
    got = [compiled(x)[0] for _ in range(3)]
    for e, g in zip(expected, got, strict=True):
        assert torch.equal(e[0], g[0]) and torch.equal(e[1], g[1])
    assert torch.equal(expected_state, state)
    assert torch.equal(expected_gen, gen.get_state())


def test_compiled_draws_are_cached_by_inductor():
    """A function that draws compiles into Inductor's on-disk cache and is found there the next
    time (as in a second process, after ``torch._dynamo.reset()``): the draw operator carries no
    effect (Inductor bypassed its cache for every graph with one) and names its generator by a
    registry index that does not change between processes, not by ``id``."""
    gen = torch.Generator().manual_seed(1)
    index = draws.register_generator(gen)
    assert draws.register_generator(gen) == index  # registering again changes nothing

    def f(x):
        return x * draws.rand((5,), gen, "cpu") + draws.randn((5,), gen, "cpu")

    x = torch.ones(5)
    torch._dynamo.reset()
    counters.clear()
    torch.compile(functools.partial(_traced, f), fullgraph=True)(x)
    assert counters["inductor"]["fxgraph_cache_bypass"] == 0
    hits = counters["inductor"]["fxgraph_cache_hit"]
    torch._dynamo.reset()
    torch.compile(functools.partial(_traced, f), fullgraph=True)(x)
    assert counters["inductor"]["fxgraph_cache_hit"] == hits + 1
    assert counters["inductor"]["fxgraph_cache_bypass"] == 0


def _pair(task: str, num_envs: int):
    """A plain and a compiled env of ``task`` on the CPU, resetting every 5 steps."""
    return task_env_pair(task, num_envs, "cpu", "compile_managers", episode_length_s=0.1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "task",
    [
        "humanoid-velocity-flat-dr",
        "Humanoid-v5",
        "humanoid-velocity-rough",
        "humanoid-getup",
        "humanoid-push-recovery",
    ],
)
def test_compiled_step_matches_the_plain_step(task):
    """Same seed, same actions: observations, rewards, dones and terminal observations agree to
    float rounding through resets, observation noise, randomization and pushes, and the random
    streams stay identical. Each phase compiles as one graph (Inductor's C++ backend, tens of
    seconds cold; cached on disk after that)."""
    # Dynamo guards a compiled phase on types and shapes, not on which env it belongs to, so a phase
    # compiled for an earlier test's env of the same make serves this one too: start from none.
    torch._dynamo.reset()
    counters.clear()
    plain, compiled = _pair(task, 4)
    gen = torch.Generator().manual_seed(0)
    finished = 0
    for i in range(12):
        action = torch.rand(4, plain.action_dim, generator=gen) * 2 - 1
        out_p, out_c = plain.step(action), compiled.step(action)
        assert_steps_agree(out_p, out_c, atol=1e-4, rtol=1e-5, step=i)
        finished += int((out_p[2] | out_p[3]).sum())
        assert torch.equal(plain.rng.get_state(), compiled.rng.get_state()), f"draws differ at step {i}"
    assert finished >= 4, "every world should have gone through a reset"
    assert not counters["graph_break"], dict(counters["graph_break"])
    # act, evaluate, reset_events, finish_reset, and start_reset where the task has curricula
    # (process_actions and apply_actions serve per-substep actions only)
    assert counters["stats"]["unique_graphs"] == 4 + bool(plain.cfg.curriculum)


def test_many_compiled_envs_in_one_process_all_compile():
    # Each compiled env adds Dynamo cache entries under one code object; past the default limit of 8
    # (reached by the bench's third compiled variant on an H100) the phases ran eagerly, silently.

    from warplab.envs.compiled import COMPILED_DRAWS_UNAVAILABLE

    if COMPILED_DRAWS_UNAVAILABLE:
        pytest.skip(COMPILED_DRAWS_UNAVAILABLE)
    graphs_before = counters["stats"]["unique_graphs"]
    limit_hits_before = sum(v for k, v in counters["unimplemented"].items() if "recompile limit" in k)
    for _ in range(10):
        cfg = make_env_cfg("cartpole-balance")
        cfg.num_envs, cfg.device, cfg.compile_managers = 2, "cpu", True
        env = RlEnv(cfg)
        for _ in range(3):  # eager, then compiled
            env.step(torch.zeros(2, env.action_dim))
    limit_hits = sum(v for k, v in counters["unimplemented"].items() if "recompile limit" in k)
    assert limit_hits == limit_hits_before
    assert counters["stats"]["unique_graphs"] - graphs_before >= 10


def test_compile_flag_without_the_draw_operator_is_a_config_error(monkeypatch):
    """On a torch that cannot define the draw operator, the plain step still works and the flag is
    refused with the reason, instead of compiling a step cut at every draw."""
    from warplab.envs import compiled
    from warplab.envs.managers.term import ConfigError

    monkeypatch.setattr(compiled, "COMPILED_DRAWS_UNAVAILABLE", "torch 0.0 cannot define ...")
    cfg = make_env_cfg("cartpole-balance")
    cfg.num_envs, cfg.device = 2, "cpu"
    env = RlEnv(cfg)  # plain step: unaffected
    env.step(torch.zeros(2, env.action_dim))
    cfg.compile_managers = True
    with pytest.raises(ConfigError, match="compile_managers=True: torch 0.0"):
        RlEnv(cfg)


def test_draw_operator_draws_what_torch_draws():
    """Called directly, the operator draws from the registered generator exactly what torch's own
    draw gives with that generator; an index nobody registered is refused."""
    assert draws.COMPILED_DRAWS_UNAVAILABLE is None
    op, why = draws._define_draw_op("warplab_test::draw")
    assert why is None
    gen = torch.Generator().manual_seed(5)
    index = draws.register_generator(gen)
    got = op(None, index, "randn", [4, 3], torch.device("cpu"), 0, 0)
    torch.testing.assert_close(got, torch.randn(4, 3, generator=torch.Generator().manual_seed(5)))
    with pytest.raises(KeyError, match="never registered"):
        op(None, 10_000, "rand", [2], torch.device("cpu"), 0, 0)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (True, True),
        (False, False),
        ("auto", None),
        ("Auto", None),
        ("true", True),
        ("OFF", False),
        (" on ", True),
    ],
)
def test_compile_setting_words(setting, expected):
    """The setting as Python gives it and as a command line gives it (``--env.compile_managers true``)."""
    from warplab.envs.compiled import parse_compile_managers

    assert parse_compile_managers(setting) is expected


def test_auto_compiles_on_cuda_only():
    from warplab.envs.compiled import compiles_managers

    assert compiles_managers("auto", torch.device("cuda", 0))
    assert not compiles_managers("auto", torch.device("cpu"))
    assert not compiles_managers("auto", torch.device("cuda", 0), debug=True)  # debug mode stays plain
    assert compiles_managers(True, torch.device("cpu")) and not compiles_managers(False, torch.device("cuda"))
    assert compiles_managers(True, torch.device("cuda"), debug=True)


def test_default_env_on_the_cpu_runs_plain():
    cfg = make_env_cfg("cartpole-balance")
    cfg.num_envs, cfg.device = 2, "cpu"
    assert cfg.compile_managers == "auto"
    env = RlEnv(cfg)
    assert env.compiles_managers is False
    assert not hasattr(env._phases.act, "_compiled")


def test_an_unknown_setting_is_refused_before_anything_is_built(monkeypatch):
    from warplab.envs import rl_env
    from warplab.envs.managers.term import ConfigError

    def must_not_build(*args, **kwargs):
        raise AssertionError("the model was built before the config was checked")

    monkeypatch.setattr(rl_env, "Simulation", must_not_build)
    cfg = make_env_cfg("cartpole-balance")
    cfg.compile_managers = "sometimes"
    with pytest.raises(
        ConfigError, match=r"RlEnvCfg.compile_managers must be True, False or 'auto', got 'sometimes'"
    ):
        RlEnv(cfg)


def test_play_configs_do_not_compile_unless_asked():
    assert make_env_cfg("humanoid-velocity-flat", play=True).compile_managers is False
    assert make_env_cfg("cartpole-balance", play=True).compile_managers is False
    assert make_env_cfg("humanoid-velocity-flat").compile_managers == "auto"
    assert make_env_cfg("cartpole-balance", play=True, compile_managers=True).compile_managers is True


def _failing_compile(monkeypatch):
    """``torch.compile`` with a backend that always fails, as on a machine without a working compiler."""

    def failing_backend(graph_module, example_inputs):
        raise RuntimeError("no working compiler on this machine")

    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: real_compile(fn, backend=failing_backend, **kw))


def _compiling_on_the_cpu(monkeypatch, setting):
    """A cart-pole env with ``compile_managers=setting`` that compiles on the CPU as it would on CUDA
    (``"auto"`` included)."""
    from warplab.envs import rl_env

    monkeypatch.setattr(rl_env, "compiles_managers", lambda setting, device, debug=False: True)
    cfg = make_env_cfg("cartpole-balance")
    cfg.num_envs, cfg.device, cfg.compile_managers = 2, "cpu", setting
    return RlEnv(cfg)


def test_the_compiler_probe_reports_a_failing_compiler(monkeypatch):
    from warplab.envs.compiled import _compiler_fails_on

    assert _compiler_fails_on.__wrapped__(torch.device("cpu")) is None
    _failing_compile(monkeypatch)
    why = _compiler_fails_on.__wrapped__(torch.device("cpu"))
    assert why == "torch.compile fails on cpu: RuntimeError: no working compiler on this machine"


def test_auto_runs_plain_where_the_compiler_fails(monkeypatch):
    """Under the default setting a machine whose compiler fails costs one warning, not the run."""
    from warplab.envs import compiled

    monkeypatch.setattr(
        compiled, "_compiler_fails_on", lambda device: "torch.compile fails on cpu: RuntimeError: x"
    )
    with pytest.warns(
        UserWarning, match=r"compile_managers='auto': the managers run uncompiled \(torch.compile fails"
    ):
        env = _compiling_on_the_cpu(monkeypatch, "auto")
    assert not hasattr(env._phases.act, "_compiled")
    env.step(torch.zeros(2, env.action_dim))


def test_a_phase_that_fails_to_compile_names_itself_and_the_setting(monkeypatch):
    _failing_compile(monkeypatch)
    env = _compiling_on_the_cpu(monkeypatch, True)
    action = torch.zeros(2, env.action_dim)
    env.step(action)  # each phase's first call runs eagerly
    with pytest.raises(torch._dynamo.exc.BackendCompilerFailed, match="no working compiler") as raised:
        env.step(action)
    notes = getattr(raised.value, "__notes__", [])
    if sys.version_info >= (3, 11):
        assert any("phase 'act'" in n and "--env.compile_managers false" in n for n in notes), notes


def test_auto_without_the_draw_operator_warns_and_runs_plain(monkeypatch):
    from warplab.envs import compiled

    monkeypatch.setattr(compiled, "COMPILED_DRAWS_UNAVAILABLE", "torch 0.0 cannot define ...")
    with pytest.warns(UserWarning, match=r"the managers run uncompiled \(torch 0.0"):
        env = _compiling_on_the_cpu(monkeypatch, "auto")
    assert not hasattr(env._phases.act, "_compiled")
    env.step(torch.zeros(2, env.action_dim))
