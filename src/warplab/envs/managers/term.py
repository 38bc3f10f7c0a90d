"""Turning a term config into something callable, and checking its parameters early."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


class ConfigError(ValueError):
    """An invalid value in an environment config; the message names the field."""


def bind_term(where: str, func: Any, cfg: Any, env: Any) -> Callable[..., Any]:
    """Returns the callable of a term: the function itself, or an instance of a term class.

    A term class is built once as ``cls(cfg, env)`` (it may resolve names or allocate buffers) and then
    called like a function. Parameters a function does not accept are reported with the term's path.
    """
    if not callable(func):
        raise ConfigError(f"{where}.func must be a function or a class, got {func!r}")
    if inspect.isclass(func):
        try:
            return func(cfg, env)
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
