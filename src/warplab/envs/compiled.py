"""The torch phases of an env step, run as they are or compiled with ``torch.compile``.

An env step is MuJoCo Warp's kernels (physics, the reset of finished worlds' state, ``forward``)
with the managers' torch work between them: a few hundred small operations per step for a humanoid
(``benchmarks/NOTES.md``), each a kernel launch of a few microseconds on a GPU, which the step's
CUDA graph replays one after the other. With ``RlEnvCfg.compile_managers`` each stretch of torch
work between two Warp calls is one compiled function, so Inductor fuses its operations into a few
kernels:

1. ``act``: the action terms (validated action stored, controls written);
2. ``after_physics``: divergence guard, terminations, rewards, commands, interval events, the
   observations before the reset, episode statistics, curricula;
3. ``reset_events``: the reset events (state and model-field draws of finished worlds);
4. ``after_reset``: the managers' resets, the observations after the reset, merged.

Warp calls stay outside: TorchDynamo cannot trace them. Random draws go through
``warplab.envs.draws``, which compiles them without changing a number. Each phase runs eagerly at
its first call (terms do their one-time host work then) and is compiled at its second, in the
env's eager warm-up steps, before the step's CUDA graph is captured (``graph_warmup_steps`` >= 3);
the compiled code is then recorded into that graph like any other kernels. Mode ``default``:
``reduce-overhead`` would capture CUDA graphs of its own inside the env's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from warplab.envs.draws import COMPILED_DRAWS_UNAVAILABLE, chain_ends, register_generator, restart_chain
from warplab.envs.managers.term import ConfigError

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


@dataclasses.dataclass
class StepPhases:
    """The torch phases of ``RlEnv._step_core``, plain or compiled (see the module docstring)."""

    act: Callable
    process_actions: Callable
    after_physics: Callable
    reset_events: Callable
    after_reset: Callable


MIN_RECOMPILE_LIMIT = 256
"""Dynamo's ``recompile_limit`` while compiled envs exist: room for dozens of envs in one process."""


def step_phases(env: RlEnv, compiled: bool) -> StepPhases:
    """``env``'s step phases; with ``compiled``, each wrapped in ``torch.compile`` (compiled at its
    first call)."""
    phases = StepPhases(
        act=env._act,
        process_actions=env.action_manager.process,
        after_physics=env._after_physics,
        reset_events=env._reset_events,
        after_reset=env._after_reset,
    )
    if not compiled:
        return phases
    if COMPILED_DRAWS_UNAVAILABLE:
        raise ConfigError(f"RlEnvCfg.compile_managers=True: {COMPILED_DRAWS_UNAVAILABLE}; set it to False")
    register_generator(env.rng)
    # Every phase of every env compiles the same function (``_traced``) with another ``fn``: Dynamo
    # keeps an entry per phase and env under that one code object and, past ``recompile_limit``
    # (8), runs the phase eagerly without a word. A process with a few compiled envs (a training
    # env and an evaluation env, or the bench's variants) reached it.
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, MIN_RECOMPILE_LIMIT)
    return StepPhases(
        **{
            field.name: _CompiledAfterFirstCall(getattr(phases, field.name))
            for field in dataclasses.fields(phases)
        }
    )


def _traced(fn: Callable, *args):
    restart_chain()
    result = fn(*args)
    # The chain's last draws are returned too, so that Inductor keeps every draw (warplab.envs.draws).
    ends = chain_ends()
    # Emptied again before returning: Dynamo replays the chain's dict after each compiled call, and a
    # non-empty one fails the guard it holds on that dict at the next phase's entry (a recompile).
    restart_chain()
    return result, ends


class _CompiledAfterFirstCall:
    """Runs ``fn`` eagerly at its first call and compiled from the second.

    Terms do one-time host work at their first call (names looked up in the model, model checks,
    index tensors made and cached: ``SceneIndex``); traced, that work would read the MuJoCo model
    and cut the graph. After one eager call they only read their caches.
    """

    def __init__(self, fn: Callable):
        self._fn = fn
        self._compiled = torch.compile(functools.partial(_traced, fn), dynamic=False)
        self._called = False

    def __call__(self, *args):
        if self._called:
            result, _draws = self._compiled(*args)
            return result
        self._called = True
        return self._fn(*args)
