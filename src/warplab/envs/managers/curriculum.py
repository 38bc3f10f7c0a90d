"""Curricula: functions run on reset that make the task harder as the policy improves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.config import CurriculumTermCfg
from warplab.envs.managers.base import Manager
from warplab.envs.managers.term import prefixed

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class CurriculumManager(Manager):
    """Calls each curriculum term with the mask of reset worlds; keeps what it returns for logging."""

    section = "curriculum"
    noun = "curriculum term"

    def __init__(self, terms: dict[str, CurriculumTermCfg], env: RlEnv):
        super().__init__(env)
        self._terms = [(name, cfg, self.bind(name, cfg).term) for name, cfg in terms.items()]
        self.state: dict[str, torch.Tensor] = {}
        """The latest value each term returned (a level, a range...), for logging."""

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

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``values.<name>`` (the latest value of each term, logged)
        and ``terms.<name>.<attr>`` of each term class (a level per world, say)."""
        out = prefixed("values", self.state)
        out.update(self.term_state_tensors())
        return out
