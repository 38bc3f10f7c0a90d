"""The torch phases of an env step, run as they are or compiled with ``torch.compile``.

An env step is MuJoCo Warp's kernels (physics, the reset of finished worlds' state, ``forward``)
with the managers' torch work between them: a few hundred small operations per step for a humanoid
(``benchmarks/NOTES.md``), each a kernel launch of a few microseconds on a GPU, which the step's
CUDA graph replays one after the other. With ``RlEnvCfg.compile_managers`` each phase of that
torch work (``warplab.envs.step_phases``: ``act``, ``evaluate``, ``start_reset``, ``reset_events``,
``finish_reset``, and for per-substep action terms ``process_actions`` and ``apply_actions``) is one
compiled function, so Inductor fuses its operations into a few kernels.

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
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from warplab.envs.draws import COMPILED_DRAWS_UNAVAILABLE, chain_ends, register_generator, restart_chain
from warplab.envs.managers.term import ConfigError
from warplab.envs.step_phases import StepPhases

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


MIN_RECOMPILE_LIMIT = 256
"""Dynamo's ``recompile_limit`` while compiled envs exist: room for dozens of envs in one process."""

_SETTING_WORDS = {"true": True, "on": True, "false": False, "off": False, "auto": None}


def parse_compile_managers(setting: bool | str) -> bool | None:
    """``RlEnvCfg.compile_managers`` as ``True``, ``False`` or ``None`` for ``"auto"``. Words as a
    command line gives them (``"true"``, ``"off"``, ``"Auto"``) are read too; anything else is a
    ``ConfigError`` that names the field and its values."""
    if isinstance(setting, bool):
        return setting
    if isinstance(setting, str) and setting.strip().lower() in _SETTING_WORDS:
        return _SETTING_WORDS[setting.strip().lower()]
    raise ConfigError(f"RlEnvCfg.compile_managers must be True, False or 'auto', got {setting!r}")


def compiles_managers(setting: bool | str, device: torch.device, debug: bool = False) -> bool:
    """Whether an env on ``device`` compiles its step phases under ``RlEnvCfg.compile_managers =
    setting``: ``"auto"`` compiles on CUDA only, and not in debug mode (``RlEnvCfg.debug``), whose
    host checks would cut the compiled phases and whose tracebacks should name the plain code (see
    ``RlEnvCfg.compile_managers`` for the rest)."""
    parsed = parse_compile_managers(setting)
    return device.type == "cuda" and not debug if parsed is None else parsed


def compile_phases(phases: StepPhases, env: RlEnv, fall_back: bool = False) -> StepPhases:
    """``phases`` (``env``'s plain step phases) each wrapped in ``torch.compile`` (compiled at its
    second call).

    ``fall_back`` (``compile_managers="auto"``): where compiling cannot work on this machine (a torch
    without the draw operator, or an Inductor that fails to compile a one-line function for the
    env's device: no C compiler for Triton's launcher, say) the env warns once and runs its phases
    plain, so the default setting never stops a run that the plain step can do. With
    ``compile_managers=True`` both raise. A phase that fails to compile raises in either case, with
    a note that names the phase and the setting."""
    reason = COMPILED_DRAWS_UNAVAILABLE
    if reason is None and fall_back:
        reason = _compiler_fails_on(env.device)
    if reason:
        if fall_back:
            warnings.warn(
                f"RlEnvCfg.compile_managers='auto': the managers run uncompiled ({reason})", stacklevel=3
            )
            return phases
        raise ConfigError(f"RlEnvCfg.compile_managers=True: {reason}; set it to False")
    register_generator(env.rng)
    # Every phase of every env compiles the same function (``_traced``) with another ``fn``: Dynamo
    # keeps an entry per phase and env under that one code object and, past ``recompile_limit``
    # (8), runs the phase eagerly without a word. A process with a few compiled envs (a training
    # env and an evaluation env, or the bench's variants) reached it.
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, MIN_RECOMPILE_LIMIT)
    # A phase with no term to run stays plain. Compiled, it would trace to an empty graph, and
    # TorchDynamo then skips the code it traced: the wrapper every phase shares, so every later
    # phase would be compiled piecewise, one graph per function it calls.
    empty = {"start_reset": not env.cfg.curriculum, "reset_events": not env.event_manager.has("reset")}
    return StepPhases(
        **{
            field.name: (
                getattr(phases, field.name)
                if empty.get(field.name, False)
                else _CompiledAfterFirstCall(getattr(phases, field.name), field.name)
            )
            for field in dataclasses.fields(phases)
        }
    )


@functools.cache
def _compiler_fails_on(device: torch.device) -> str | None:
    """Why Inductor cannot compile for ``device`` on this machine (its error, in one line), or None
    when it can: a one-line function compiled and run once per device and process (from Inductor's
    disk cache after the first time)."""

    def probe(x):
        return x * 2.0 + 1.0

    try:
        torch.compile(probe, dynamic=False)(torch.zeros(2, device=device))
    except Exception as error:  # noqa: BLE001 - any failure means: do not compile here
        cause = getattr(error, "inner_exception", None) or error
        first_line = (str(cause).strip().splitlines() or [""])[0]
        return f"torch.compile fails on {device}: {type(cause).__name__}: {first_line}"
    return None


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

    def __init__(self, fn: Callable, name: str):
        self._fn = fn
        self._name = name
        self._compiled = torch.compile(functools.partial(_traced, fn), dynamic=False)
        self._called = False

    def __call__(self, *args):
        if not self._called:
            self._called = True
            return self._fn(*args)
        try:
            result, _draws = self._compiled(*args)
        except torch._dynamo.exc.TorchDynamoException as error:
            if hasattr(error, "add_note"):  # Python 3.11+
                error.add_note(
                    f"warplab: this came from compiling the env step's phase {self._name!r} "
                    "(RlEnvCfg.compile_managers); set it to False (--env.compile_managers false) to run "
                    "the managers uncompiled."
                )
            raise
        return result
