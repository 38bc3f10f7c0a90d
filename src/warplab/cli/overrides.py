"""``--env.a.b VALUE`` and ``--agent.a.b VALUE`` overrides from the command line.

Task configs hold functions and dicts of terms, which no argument parser can build, so overrides
are parsed here: each dotted path must name an existing field (or dict entry), and the text is
converted to the type of the value it replaces. A wrong path or value names itself and what would
be right.
"""

from __future__ import annotations

import json
from typing import Any

from warplab.envs.managers.term import ConfigError


def split_overrides(
    unknown: list[str], prefixes: tuple[str, ...] = ("env", "agent")
) -> dict[str, dict[str, str]]:
    """Groups ``--env.x 1 --agent.y=2`` into ``{"env": {"x": "1"}, "agent": {"y": "2"}}``."""
    out: dict[str, dict[str, str]] = {p: {} for p in prefixes}
    i = 0
    while i < len(unknown):
        arg = unknown[i]
        if not arg.startswith("--"):
            raise ConfigError(f"unexpected argument {arg!r}")
        key, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(unknown):
                raise ConfigError(f"{arg} needs a value")
            value = unknown[i + 1]
            i += 1
        head, _, path = key.replace("-", "_").partition(".")
        if head not in out or not path:
            raise ConfigError(
                f"unknown option {arg!r}; options that change the task's config look like "
                f"--env.episode_length_s 10 or --agent.ppo.learning_rate 3e-4"
            )
        out[head][path] = value
        i += 1
    return out


def _coerce(current: Any, text: str, path: str) -> Any:
    def fail(expected: str) -> ConfigError:
        return ConfigError(f"{path}: cannot read {text!r} as {expected} (the current value is {current!r})")

    if isinstance(current, bool):
        low = text.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise fail("true or false")
    if isinstance(current, int):
        try:
            return int(text)
        except ValueError:
            raise fail("an integer") from None
    if isinstance(current, float):
        try:
            return float(text)
        except ValueError:
            raise fail("a number") from None
    if isinstance(current, (tuple, list)):
        try:
            items = (
                json.loads(text)
                if text.strip().startswith("[")
                else [t for t in text.split(",") if t.strip()]
            )
            like = current[0] if current else 0.0
            values = [_coerce(like, str(t).strip(), path) for t in items]
        except (ValueError, ConfigError):
            raise fail("a comma-separated list") from None
        return type(current)(values)
    if current is None:
        if text.lower() == "none":
            return None
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text
    if isinstance(current, str):
        return text
    raise ConfigError(f"{path} holds a {type(current).__name__}, which cannot be set from the command line")


def apply_text_overrides(cfg: Any, overrides: dict[str, str], root: str) -> Any:
    """Applies ``{"a.b": "text"}`` to a nested dataclass/dict config, converting each text to the
    type of the value it replaces (``tasks.registry.apply_overrides`` walks the names)."""
    from warplab.tasks.registry import apply_overrides

    return apply_overrides(cfg, overrides, where=f"--{root}", convert=_coerce)


CLI_OWNED = {"num_envs": "--num-envs", "seed": "--seed", "device": "--device"}
"""``RlEnvCfg`` fields that ``warplab train`` sets from its own options, after the overrides."""


def refuse_cli_owned_fields(env_overrides: dict[str, str], owned: dict[str, str] | None = None) -> None:
    """Refuses ``--env.num_envs`` and the like, which the command would overwrite with its own option
    (silently, before this check): the message names the option to use instead."""
    for field, option in (CLI_OWNED if owned is None else owned).items():
        if field in env_overrides:
            raise ConfigError(
                f"--env.{field} is set by the command's own option: use {option} {env_overrides[field]}"
            )
