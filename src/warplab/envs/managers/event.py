"""Events: functions that change worlds at startup, on reset, or on per-world timers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs import draws
from warplab.envs.config import EventTermCfg
from warplab.envs.managers.base import Manager
from warplab.envs.managers.term import ConfigError, prefixed

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

_MODES = ("startup", "reset", "interval")


class EventManager(Manager):
    """Runs event terms by mode; every term receives a bool mask ``[num_envs]`` of the worlds to change."""

    section = "events"
    noun = "event"

    def __init__(self, terms: dict[str, EventTermCfg], env: RlEnv):
        super().__init__(env)
        self._by_mode: dict[str, list] = {m: [] for m in _MODES}
        self._timers: dict[str, torch.Tensor] = {}
        for name, cfg in terms.items():
            where = f"events.{name}"
            if cfg.mode not in _MODES:
                raise ConfigError(f"{where}.mode must be one of {_MODES}, got {cfg.mode!r}")
            if cfg.mode == "interval":
                lo, hi = cfg.interval_range_s
                if not 0 < lo <= hi:
                    raise ConfigError(
                        f"{where}.interval_range_s must satisfy 0 < low <= high, got {cfg.interval_range_s}"
                    )
                self._timers[name] = torch.zeros(env.num_envs, device=env.device)
            self._by_mode[cfg.mode].append((name, cfg, self.bind(name, cfg).term))

    def has(self, mode: str) -> bool:
        return bool(self._by_mode[mode])

    def apply(self, mode: str, mask: torch.Tensor) -> None:
        """Runs the ``startup`` or ``reset`` terms on the masked worlds."""
        for _, cfg, fn in self._by_mode[mode]:
            fn(self._env, mask, **cfg.params)

    def step_interval(self, dt: float) -> None:
        """Advances the interval timers by ``dt`` s and fires the terms whose timers ran out."""
        for name, cfg, fn in self._by_mode["interval"]:
            timer = self._timers[name]
            timer -= dt
            due = timer <= 0.0
            fn(self._env, due, **cfg.params)
            self._draw(name, cfg, due)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``timers.<name>`` of interval events (s left) and
        ``terms.<name>.<attr>`` of each event term class."""
        out = prefixed("timers", self._timers)
        out.update(self.term_state_tensors())
        return out

    def reset(self, mask: torch.Tensor) -> None:
        """Restarts the interval timers of reset worlds, then calls the terms' ``reset`` hooks."""
        for name, cfg, _ in self._by_mode["interval"]:
            self._draw(name, cfg, mask)
        self.reset_terms(mask)

    def _draw(self, name: str, cfg: EventTermCfg, mask: torch.Tensor) -> None:
        env = self._env
        lo, hi = cfg.interval_range_s
        fresh = lo + (hi - lo) * draws.rand(env.num_envs, env.rng, env.device)
        timer = self._timers[name]
        timer.copy_(torch.where(mask, fresh, timer))
