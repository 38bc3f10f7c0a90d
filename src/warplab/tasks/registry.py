"""The task registry: names to config factories, and ``make`` to build an environment by name."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from warplab.envs.config import RlEnvCfg
from warplab.envs.managers.term import ConfigError


class UnknownTaskError(KeyError):
    """No task is registered under that name."""

    def __str__(self) -> str:  # KeyError quotes its message; this one reads as a sentence.
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """A registered task."""

    name: str
    env_cfg_factory: Callable[..., RlEnvCfg]
    """Returns a fresh ``RlEnvCfg`` (accepts ``play: bool`` when the task has a play mode)."""
    agent_cfg_factory: Callable[[], Any] | None
    """Returns the learner's config for this task (``warplab.rl.RunnerCfg``), or None."""
    description: str = ""
    num_envs_gpu: int = 4096
    """Worlds ``warplab train`` uses on a GPU unless told otherwise."""
    num_envs_cpu: int = 16
    """Worlds ``warplab train`` uses on a CPU unless told otherwise."""


_TASKS: dict[str, TaskSpec] = {}


def register_task(
    name: str,
    env_cfg_factory: Callable[..., RlEnvCfg],
    agent_cfg_factory: Callable[[], Any] | None = None,
    description: str = "",
    num_envs_gpu: int = 4096,
    num_envs_cpu: int = 16,
) -> None:
    """Registers a task under ``name``. Registering a name twice is an error.

    Args:
      env_cfg_factory: returns a fresh ``RlEnvCfg``; may take ``play: bool``.
      agent_cfg_factory: returns the PPO runner config (``warplab.rl.RunnerCfg``) for this task.
      description: one line for ``warplab list``.
      num_envs_gpu, num_envs_cpu: default world counts for training on each kind of device.
    """
    if name in _TASKS:
        raise ValueError(f"a task named {name!r} is already registered")
    _TASKS[name] = TaskSpec(name, env_cfg_factory, agent_cfg_factory, description, num_envs_gpu, num_envs_cpu)


def list_tasks() -> list[str]:
    """Names of the registered tasks, sorted."""
    _load_builtin()
    return sorted(_TASKS)


def get_task(name: str) -> TaskSpec:
    """The registered task ``name``; an unknown name lists the known ones."""
    _load_builtin()
    spec = _TASKS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(_TASKS), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownTaskError(f"unknown task {name!r}.{hint} Registered tasks: {', '.join(sorted(_TASKS))}")
    return spec


def apply_overrides(
    cfg: Any,
    overrides: Mapping[str, Any],
    where: str = "RlEnvCfg",
    convert: Callable[[Any, Any, str], Any] | None = None,
) -> Any:
    """Sets fields of a (nested) dataclass or dict config from ``{"a.b": value}`` keys, checking
    each name on the way; the one walker of ``make_env_cfg``'s overrides and the command line's.

    Args:
      where: how errors name the root (``RlEnvCfg``; ``--env`` on the command line).
      convert: ``(current value, given value, full name) -> value to store``; None stores the given
        value as it is (the command line passes its reader of text).

    Raises:
      ConfigError: a name that is not a field or entry there, with the names that are.
    """
    for key, value in overrides.items():
        parts = key.split(".")
        target = cfg
        for i, part in enumerate(parts):
            name = f"{where}.{'.'.join(parts[: i + 1])}"
            if isinstance(target, dict):
                if part not in target:
                    raise ConfigError(f"{name}: no such entry; there are {sorted(target)}")
                current = target[part]
            else:
                names = (
                    [f.name for f in dataclasses.fields(target)] if dataclasses.is_dataclass(target) else []
                )
                if part not in names:
                    raise ConfigError(f"{name}: no such field; valid fields there are {names}")
                current = getattr(target, part)
            if i < len(parts) - 1:
                target = current
                continue
            new = value if convert is None else convert(current, value, name)
            if isinstance(target, dict):
                target[part] = new
            else:
                setattr(target, part, new)
    return cfg


def make_env_cfg(task: str, play: bool = False, **overrides: Any) -> RlEnvCfg:
    """A fresh config of ``task`` with ``overrides`` applied (``"sim.njmax": 200`` for nested fields).

    ``play``: the task's play mode where it has one, and in every task no compiled managers
    (``compile_managers=False``): playing, recording or evaluating a policy is too short a run to
    repay the compile. An override still sets it."""
    spec = get_task(task)
    # Asked of the signature, not learnt from a TypeError: a TypeError raised inside a factory
    # that takes `play` is a bug in it and must surface, not be retried without `play`.
    cfg = spec.env_cfg_factory(play=play) if _takes_play(spec.env_cfg_factory) else spec.env_cfg_factory()
    if play:
        cfg.compile_managers = False
    return apply_overrides(cfg, {k.replace("__", "."): v for k, v in overrides.items()})


def make(task: str, num_envs: int, device: str = "auto", seed: int = 0, play: bool = False, **overrides: Any):
    """Builds the environment of a registered task.

    Args:
      task: a registered name (see ``warplab.list_tasks()``).
      num_envs: number of worlds.
      device: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
      seed: seeds every random draw of the env.
      play: the task's play mode (no observation noise, no pushes) where it has one.
      overrides: fields of the task's ``RlEnvCfg`` to change, e.g. ``episode_length_s=10`` or
        ``**{"sim.njmax": 200}``.
    """
    from warplab.envs.rl_env import RlEnv

    cfg = make_env_cfg(task, play=play, **overrides)
    cfg.num_envs, cfg.device, cfg.seed = num_envs, device, seed
    return RlEnv(cfg)


_loaded = False


def _load_builtin() -> None:
    # Importing the task modules registers them; done lazily so importing warplab stays light.
    global _loaded
    if not _loaded:
        _loaded = True
        import warplab.tasks.builtin  # noqa: F401


def _takes_play(factory) -> bool:
    """Whether ``factory`` accepts a ``play`` keyword (by name or through ``**kwargs``)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # a callable without a readable signature: call it plainly
        return False
    return any(
        p.name == "play" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) or p.kind is p.VAR_KEYWORD
        for p in parameters
    )
