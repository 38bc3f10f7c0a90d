"""Commands: targets for the policy (velocities, poses) drawn again on per-world timers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs import draws
from warplab.envs.config import CommandTermCfg
from warplab.envs.managers.base import Manager
from warplab.envs.managers.protocols import CommandTerm, overrides
from warplab.envs.managers.term import ConfigError, prefixed

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class CommandManager(Manager):
    """Holds command generators (``CommandTerm``): ``command [num_envs, dim]``, ``resample(mask)``."""

    section = "commands"
    noun = "command"

    def __init__(self, terms: dict[str, CommandTermCfg], env: RlEnv):
        super().__init__(env)
        self._terms: dict[str, CommandTerm] = {}
        self._cfgs = terms
        self._timers = {}
        for name, cfg in terms.items():
            lo, hi = cfg.resampling_time_range_s
            if not 0 < lo <= hi:
                raise ConfigError(
                    f"commands.{name}.resampling_time_range_s must satisfy 0 < low <= high, got {(lo, hi)}"
                )
            term = self.bind(name, cfg).term
            if not isinstance(term, CommandTerm):
                raise ConfigError(
                    f"commands.{name}.func must be a class subclassing warplab.envs.managers.CommandTerm, "
                    f"got the function {cfg.func!r}"
                )
            self._terms[name] = term
            self._timers[name] = torch.zeros(env.num_envs, device=env.device)
        # Only generators that override ``update`` are called each step (as before: no empty calls).
        self._updates = [(name, overrides(t, CommandTerm, "update")) for name, t in self._terms.items()]

    def get(self, name: str) -> torch.Tensor:
        """The current command ``[num_envs, dim]`` of generator ``name``."""
        term = self._terms.get(name)
        if term is None:
            raise KeyError(f"no command named {name!r}; this task's commands are {sorted(self._terms)}")
        return term.command

    def step(self, dt: float) -> None:
        """Advances timers, draws new commands where they ran out, and lets generators update."""
        for name, updates in self._updates:
            timer = self._timers[name]
            timer -= dt
            self._resample(name, timer <= 0.0)
            if updates:
                self._terms[name].update(dt)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``timers.<name>`` (s left before the next draw) and
        ``terms.<name>.<attr>`` of each generator (its ``command``, for one)."""
        out = prefixed("timers", self._timers)
        out.update(self.term_state_tensors())
        return out

    def reset(self, mask: torch.Tensor) -> None:
        for name in self._terms:
            self._resample(name, mask)
        self.reset_terms(mask)

    def _resample(self, name: str, mask: torch.Tensor) -> None:
        env = self._env
        lo, hi = self._cfgs[name].resampling_time_range_s
        fresh = lo + (hi - lo) * draws.rand(env.num_envs, env.rng, env.device)
        timer = self._timers[name]
        timer.copy_(torch.where(mask, fresh, timer))
        self._terms[name].resample(mask)
