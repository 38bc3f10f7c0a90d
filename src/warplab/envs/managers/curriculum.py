"""Curricula: functions run on reset that make the task harder as the policy improves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.config import CurriculumTermCfg
from warplab.envs.managers.term import bind_term, notify_state_set, prefixed, term_state_tensors

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class CurriculumManager:
    """Calls each curriculum term with the mask of reset worlds; keeps what it returns for logging."""

    def __init__(self, terms: dict[str, CurriculumTermCfg], env: RlEnv):
        self._env = env
        self._terms = [
            (name, cfg, bind_term(f"curriculum.{name}", cfg.func, cfg, env)) for name, cfg in terms.items()
        ]
        self.state: dict[str, torch.Tensor] = {}
        """The latest value each term returned (a level, a range...), for logging."""

    def term(self, name: str):
        """The bound term ``name``: its function, or the instance of its term class (to read its state)."""
        for term_name, _, fn in self._terms:
            if term_name == name:
                return fn
        raise KeyError(
            f"no curriculum term named {name!r}; this task's curriculum terms are {[n for n, _, _ in self._terms]}"
        )

    def apply(self, mask: torch.Tensor) -> None:
        for name, cfg, fn in self._terms:
            value = fn(self._env, mask, **cfg.params)
            if value is None:
                continue
            value = torch.as_tensor(value, device=self._env.device, dtype=torch.float32)
            kept = self.state.get(name)
            if kept is not None and kept.shape == value.shape:
                kept.copy_(value)  # in place: the step's CUDA graph keeps writing the same buffer
            else:
                self.state[name] = value

    def on_state_set(self, mask: torch.Tensor) -> None:
        """The masked worlds' physical state was set: tells the terms (levels and counts stay)."""
        for _, _, fn in self._terms:
            notify_state_set(fn, self._env, mask)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``values.<name>`` (the latest value of each term, logged)
        and ``terms.<name>.<attr>`` of each term class (a level per world, say)."""
        out = prefixed("values", self.state)
        for name, _, fn in self._terms:
            out.update(prefixed(f"terms.{name}", term_state_tensors(fn)))
        return out
