"""Commands: targets for the policy (velocities, poses) drawn again on per-world timers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs import draws
from warplab.envs.config import CommandTermCfg
from warplab.envs.managers.term import ConfigError, bind_term, notify_state_set, prefixed, term_state_tensors

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class CommandManager:
    """Holds command generators. Each exposes ``command [num_envs, dim]`` and ``resample(mask)``."""

    def __init__(self, terms: dict[str, CommandTermCfg], env: RlEnv):
        self._env = env
        self._terms = {}
        self._cfgs = terms
        self._timers = {}
        for name, cfg in terms.items():
            lo, hi = cfg.resampling_time_range_s
            if not 0 < lo <= hi:
                raise ConfigError(
                    f"commands.{name}.resampling_time_range_s must satisfy 0 < low <= high, got {(lo, hi)}"
                )
            self._terms[name] = bind_term(f"commands.{name}", cfg.func, cfg, env)
            self._timers[name] = torch.zeros(env.num_envs, device=env.device)

    def get(self, name: str) -> torch.Tensor:
        """The current command ``[num_envs, dim]`` of generator ``name``."""
        term = self._terms.get(name)
        if term is None:
            raise KeyError(f"no command named {name!r}; this task's commands are {sorted(self._terms)}")
        return term.command

    def term(self, name: str):
        return self._terms[name]

    def step(self, dt: float) -> None:
        """Advances timers, draws new commands where they ran out, and lets generators update."""
        for name, term in self._terms.items():
            timer = self._timers[name]
            timer -= dt
            self._resample(name, timer <= 0.0)
            if hasattr(term, "update"):
                term.update(dt)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``timers.<name>`` (s left before the next draw) and
        ``terms.<name>.<attr>`` of each generator (its ``command``, for one)."""
        out = prefixed("timers", self._timers)
        for name, term in self._terms.items():
            out.update(prefixed(f"terms.{name}", term_state_tensors(term)))
        return out

    def on_state_set(self, mask: torch.Tensor) -> None:
        """The masked worlds' physical state was set: tells the generators (commands and timers stay)."""
        for term in self._terms.values():
            notify_state_set(term, self._env, mask)

    def reset(self, mask: torch.Tensor) -> None:
        for name in self._terms:
            self._resample(name, mask)

    def _resample(self, name: str, mask: torch.Tensor) -> None:
        env = self._env
        lo, hi = self._cfgs[name].resampling_time_range_s
        fresh = lo + (hi - lo) * draws.rand(env.num_envs, env.rng, env.device)
        timer = self._timers[name]
        timer.copy_(torch.where(mask, fresh, timer))
        self._terms[name].resample(mask)
