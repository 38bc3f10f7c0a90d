"""Random draws from an env's generator that ``torch.compile`` can trace, with the same numbers.

Every random draw of an env comes from its ``torch.Generator`` (``env.rng``), so that one seed
decides a rollout and the step's CUDA graph advances the generator at each replay. TorchDynamo
cannot put a call that takes a ``generator=`` argument into a graph (torch 2.13: "Failed to
convert args/kwargs to proxy", a graph break at every draw), which would cut a compiled manager
into dozens of pieces (``RlEnvCfg.compile_managers``).

These helpers call ``torch.rand``/``randn``/``randint`` directly when run eagerly. Under
compilation they call a custom operator that runs the same call on the same generator (looked up
by the generator's ``id``, registered with ``register_generator``). The compiled code must keep
every draw, in program order, even two with identical arguments or one whose result is unused:

- the operator is declared *ordered* (an effect), so it is never dropped or merged;
- each draw takes the previous draw of the compiled function as an input it does not read. The
  effect alone did not keep the order: Inductor moved a draw of the reset events ahead of two
  others (torch 2.13), and the model fields of reset worlds came out different. A data
  dependency is an order no scheduler may change.

So a compiled step draws exactly the numbers the eager step draws. A compiled function must call
``restart_chain()`` first (``warplab.envs.compiled`` does), so that its first draw depends on
nothing from an earlier function.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

_GENERATORS: dict[int, torch.Generator] = {}
_LAST_DRAW: dict[int, torch.Tensor] = {}
"""The latest draw of each generator in the function being compiled (the next one waits for it)."""


def restart_chain() -> None:
    """Starts a new chain of draws: call at the top of each function passed to ``torch.compile``."""
    _LAST_DRAW.clear()


def register_generator(generator: torch.Generator) -> None:
    """Makes ``generator`` reachable from compiled code (call once, eagerly, before compiling)."""
    _GENERATORS[id(generator)] = generator


def _generator(generator_id: int) -> torch.Generator:
    generator = _GENERATORS.get(generator_id)
    if generator is None:
        raise KeyError(
            "a compiled draw names a generator that was never registered; call "
            "warplab.envs.draws.register_generator(env.rng) before compiling"
        )
    return generator


def _mark_ordered(op, use_register_effect: bool = True) -> None:
    """Declares the custom operator ``op`` ordered (an effect): compiled code keeps each call and
    their order, though the operator looks pure to the compiler. Recent torch has
    ``CustomOpDef.register_effect``; before it, the effects table of ``torch._higher_order_ops``
    takes the operator's overload (``use_register_effect=False`` takes that path on any torch)."""
    if use_register_effect and hasattr(op, "register_effect"):
        from torch._library.effects import EffectType

        op.register_effect(EffectType.ORDERED)
        return
    from torch._higher_order_ops import effects

    effects._register_effectful_op(op._opoverload, effects._EffectType.ORDERED)


def _define_draw_op(name: str = "warplab::draw", use_register_effect: bool = True):
    """The draw operator ``name``, or None with the reason where this torch cannot define it.

    Only compiled steps need it; the plain step calls torch's draws directly, so an older torch
    (effects on custom operators are recent) still runs every env, just not ``compile_managers``.
    """
    try:

        @torch.library.custom_op(name, mutates_args=())
        def draw_op(
            after: torch.Tensor | None,
            generator_id: int,
            kind: str,
            shape: list[int],
            device: torch.device,
            low: int,
            high: int,
        ) -> torch.Tensor:
            # ``after`` is only there to order the draws (see the module docstring).
            generator = _generator(generator_id)
            if kind == "rand":
                return torch.rand(shape, generator=generator, device=device)
            if kind == "randn":
                return torch.randn(shape, generator=generator, device=device)
            return torch.randint(low, high, shape, generator=generator, device=device)

        @draw_op.register_fake
        def _(after, generator_id, kind, shape, device, low, high):
            dtype = torch.long if kind == "randint" else torch.float32
            return torch.empty(shape, dtype=dtype, device=device)

        _mark_ordered(draw_op, use_register_effect)
    except (ImportError, AttributeError, RuntimeError, TypeError) as error:
        return None, f"torch {torch.__version__} cannot define an ordered custom operator ({error!r})"
    return draw_op, None


_DRAW_OP, COMPILED_DRAWS_UNAVAILABLE = _define_draw_op()
"""``COMPILED_DRAWS_UNAVAILABLE``: None, or why compiled steps cannot draw on this torch."""


def _shape(shape: int | Sequence[int]) -> list[int]:
    return [int(shape)] if isinstance(shape, int) else [int(s) for s in shape]


def _compiled_draw(generator, kind: str, shape, device, low: int = 0, high: int = 0) -> torch.Tensor:
    key = id(generator)
    out = torch.ops.warplab.draw(
        _LAST_DRAW.get(key), key, kind, _shape(shape), torch.device(device), int(low), int(high)
    )
    _LAST_DRAW[key] = out
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
