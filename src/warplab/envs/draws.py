"""Random draws from an env's generator that ``torch.compile`` can trace, with the same numbers.

Every random draw of an env comes from its ``torch.Generator`` (``env.rng``), so that one seed
decides a rollout and the step's CUDA graph advances the generator at each replay. TorchDynamo
cannot put a call that takes a ``generator=`` argument into a graph (torch 2.13: "Failed to
convert args/kwargs to proxy", a graph break at every draw), which would cut a compiled manager
into dozens of pieces (``RlEnvCfg.compile_managers``).

These helpers call ``torch.rand``/``randn``/``randint`` directly when run eagerly. Under
compilation they call a custom operator that runs the same call on the same generator (looked up
by a registry index, given by ``register_generator``). The compiled code must keep every draw, in
program order, even two with identical arguments or one whose result is unused. To the compiler
the operator is a pure function of its inputs, so the order is written into the data:

- each draw takes the previous draw of the compiled function as an input it does not read, so no
  scheduler can move one draw ahead of another and no two draws have the same inputs (none is
  merged with another);
- the compiled function returns the last draw of each chain beside its own result
  (``chain_ends``), so every draw is an ancestor of an output and none is dropped as dead code.

An earlier version also declared the operator ordered (an effect). The effect alone did not keep
the order (Inductor moved a draw of the reset events ahead of two others, torch 2.13), and it made
Inductor refuse its on-disk cache for every graph holding a draw ("Can't cache HigherOrderOperator:
with_effects"), so each process compiled three of the step's four phases from scratch.

So a compiled step draws exactly the numbers the eager step draws. A compiled function must call
``restart_chain()`` first and return ``chain_ends()`` (``warplab.envs.compiled`` does both), so
that its first draw depends on nothing from an earlier function and its last one is kept; it calls
``restart_chain()`` again before returning, so that no draw stays referenced between calls.

The registry index, not the generator's ``id``, is what the compiled graph holds: it is the same
number in every process that registers its generators in the same order, so a second run finds
the graphs of the first in Inductor's cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

_GENERATORS: list[torch.Generator] = []
"""Registered generators; compiled draws name one by its index here."""
_INDEX: dict[int, int] = {}
"""``id(generator)`` -> its index in ``_GENERATORS``. The list keeps each registered generator
alive, so no other object can take over its ``id``."""
_LAST_DRAW: dict[int, torch.Tensor] = {}
"""The latest draw of each generator in the function being compiled (the next one waits for it)."""


def restart_chain() -> None:
    """Starts a new chain of draws: call at the top of each function passed to ``torch.compile``."""
    _LAST_DRAW.clear()


def chain_ends() -> tuple[torch.Tensor, ...]:
    """The last draw of each generator since ``restart_chain()``: return these from the compiled
    function beside its result, so that the compiler keeps every draw (see the module docstring)."""
    return tuple(_LAST_DRAW.values())


def register_generator(generator: torch.Generator) -> int:
    """Makes ``generator`` reachable from compiled code (call once, eagerly, before compiling);
    returns its registry index. Registering it again returns the same index."""
    if id(generator) not in _INDEX:
        _INDEX[id(generator)] = len(_GENERATORS)
        _GENERATORS.append(generator)
    return _INDEX[id(generator)]


_UNREGISTERED = (
    "a compiled draw names a generator that was never registered; call "
    "warplab.envs.draws.register_generator(env.rng) before compiling"
)


def _generator(index: int) -> torch.Generator:
    if not 0 <= index < len(_GENERATORS):
        raise KeyError(_UNREGISTERED)
    return _GENERATORS[index]


def _define_draw_op(name: str = "warplab::draw"):
    """The draw operator ``name``, or None with the reason where this torch cannot define it.

    Only compiled steps need it; the plain step calls torch's draws directly, so a torch without
    ``torch.library.custom_op`` still runs every env, just not ``compile_managers``.
    """
    try:

        @torch.library.custom_op(name, mutates_args=())
        def draw_op(
            after: torch.Tensor | None,
            generator_index: int,
            kind: str,
            shape: list[int],
            device: torch.device,
            low: int,
            high: int,
        ) -> torch.Tensor:
            # ``after`` is only there to order the draws (see the module docstring).
            generator = _generator(generator_index)
            if kind == "rand":
                return torch.rand(shape, generator=generator, device=device)
            if kind == "randn":
                return torch.randn(shape, generator=generator, device=device)
            return torch.randint(low, high, shape, generator=generator, device=device)

        @draw_op.register_fake
        def _(after, generator_index, kind, shape, device, low, high):
            dtype = torch.long if kind == "randint" else torch.float32
            return torch.empty(shape, dtype=dtype, device=device)

    except (ImportError, AttributeError, RuntimeError, TypeError) as error:
        return None, f"torch {torch.__version__} cannot define a custom operator ({error!r})"
    return draw_op, None


_DRAW_OP, COMPILED_DRAWS_UNAVAILABLE = _define_draw_op()
"""``COMPILED_DRAWS_UNAVAILABLE``: None, or why compiled steps cannot draw on this torch."""


def _shape(shape: int | Sequence[int]) -> list[int]:
    return [int(shape)] if isinstance(shape, int) else [int(s) for s in shape]


def _compiled_draw(generator, kind: str, shape, device, low: int = 0, high: int = 0) -> torch.Tensor:
    index = _INDEX.get(id(generator))
    if index is None:
        raise KeyError(_UNREGISTERED)
    out = torch.ops.warplab.draw(
        _LAST_DRAW.get(index), index, kind, _shape(shape), torch.device(device), int(low), int(high)
    )
    _LAST_DRAW[index] = out
    return out


def rand(shape: int | Sequence[int], generator: torch.Generator, device) -> torch.Tensor:
    """``torch.rand(shape, generator=generator, device=device)``: uniform in [0, 1), float32."""
    if torch.compiler.is_compiling():
        return _compiled_draw(generator, "rand", shape, device)
    return torch.rand(shape, generator=generator, device=device)


def randn(shape: int | Sequence[int], generator: torch.Generator, device) -> torch.Tensor:
    """``torch.randn(shape, generator=generator, device=device)``: standard normal, float32."""
    if torch.compiler.is_compiling():
        return _compiled_draw(generator, "randn", shape, device)
    return torch.randn(shape, generator=generator, device=device)


def randint(
    low: int, high: int, shape: int | Sequence[int], generator: torch.Generator, device
) -> torch.Tensor:
    """``torch.randint(low, high, shape, ...)``: integers in [low, high), int64."""
    if torch.compiler.is_compiling():
        return _compiled_draw(generator, "randint", shape, device, low, high)
    return torch.randint(low, high, _shape(shape), generator=generator, device=device)
