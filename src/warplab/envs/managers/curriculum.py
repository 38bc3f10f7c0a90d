"""Curricula: functions run on reset that make the task harder as the policy improves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.config import CurriculumTermCfg
from warplab.envs.managers.term import bind_term

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

    def apply(self, mask: torch.Tensor) -> None:
        for name, cfg, fn in self._terms:
            value = fn(self._env, mask, **cfg.params)
            if value is not None:
                self.state[name] = torch.as_tensor(value, device=self._env.device, dtype=torch.float32)
