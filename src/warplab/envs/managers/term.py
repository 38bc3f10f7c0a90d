"""Turning a term config into something callable, and checking its parameters early."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import torch


class ConfigError(ValueError):
    """An invalid value in an environment config; the message names the field."""


def bind_term(where: str, func: Any, cfg: Any, env: Any, base: type | None = None) -> Callable[..., Any]:
    """Returns the callable of a term: the function itself, or an instance of a term class.

    A term class is built once as ``cls(cfg, env)`` (it may resolve names or allocate buffers) and then
    called like a function; with ``base`` (its kind's class in ``warplab.envs.managers.protocols``) it
    must subclass it. Parameters a function does not accept are reported with the term's path.
    """
    if not callable(func):
        raise ConfigError(f"{where}.func must be a function or a class, got {func!r}")
    if inspect.isclass(func):
        # Typed as a class of any constructor: inspect.isclass narrows to type[object], whose
        # constructor takes no arguments.
        term_class: type[Any] = func
        if base is not None and not issubclass(term_class, base):
            raise ConfigError(
                f"{where}.func: class {term_class.__qualname__} must subclass warplab.envs.managers.{base.__name__} "
                f"(a term class declares its hooks through its kind's base class; a plain function needs none)"
            )
        try:
            return term_class(cfg, env)
        except (KeyError, ValueError) as e:
            raise ConfigError(f"{where}: {e}") from e
    params = getattr(cfg, "params", {}) or {}
    sig = inspect.signature(func)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    unknown = [k for k in params if k not in sig.parameters and not accepts_any]
    if unknown:
        raise ConfigError(
            f"{where}.params has {unknown}, which {func.__name__}() does not take; it takes "
            f"{[n for n in sig.parameters if n not in ('env', 'mask')]}"
        )
    return func


def term_state_tensors(term: Any) -> dict[str, torch.Tensor]:
    """The live state ``{attribute: tensor}`` of one bound term, for saving an env exactly.

    A plain function keeps none. An instance (of a term class, or a callable object) gives
    ``term.state_tensors()`` when it defines one, else every tensor attribute it holds, so that a
    new term keeping its state in tensors (``self.air_time``) is saved without being listed
    anywhere (``TermBase.state_tensors``). Constants held as tensors (ids, gains) are saved too, which costs little and does no
    harm. State kept in Python numbers or lists is not seen: keep per-world state in tensors.
    """
    from warplab.envs.managers.protocols import TermBase

    if isinstance(term, TermBase):
        return dict(term.state_tensors())
    if inspect.isroutine(term) or not hasattr(term, "__dict__"):
        return {}
    return {name: value for name, value in vars(term).items() if isinstance(value, torch.Tensor)}


@runtime_checkable
class StateSetHook(Protocol):
    """What a term class implements when it keeps a quantity derived from the physical state across
    steps (the position before the step, the contact state of the last step), so that it follows a
    state written by ``RlEnv.set_physical_state``.

    ``on_state_set(env, mask)`` is called by the term's manager after the masked worlds' qpos, qvel
    (and act) were written and MuJoCo's forward pass recomputed everything derived from them (body
    poses, centres of mass, contacts, contact forces, sensors). The term refreshes, for the worlds
    in ``mask`` (bool ``[num_envs]``) only and in place (the step's CUDA graph reads the same
    buffers), every cached value of the physical state from the new state. Episode history (time
    since an event, accumulated sums, past actions) stays as it is. Terms without the method (plain
    functions, classes that cache nothing of the physical state) are left alone: the default does
    nothing.
    """

    def on_state_set(self, env: Any, mask: torch.Tensor) -> None: ...


def notify_state_set(term: Any, env: Any, mask: torch.Tensor) -> None:
    """Calls ``term.on_state_set(env, mask)`` when the bound term has it (``StateSetHook``); else nothing."""
    if isinstance(term, StateSetHook):
        term.on_state_set(env, mask)


def prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``{"a": t}`` -> ``{"<prefix>.a": t}``: how managers name the state of their terms."""
    return {f"{prefix}.{name}": value for name, value in tensors.items()}
