"""Rewards: weighted terms summed per step, with each term's episode sum kept for logging."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.config import RewardTermCfg
from warplab.envs.managers.base import Manager
from warplab.envs.managers.term import ConfigError

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class RewardManager(Manager):
    """``compute()`` returns ``[num_envs]``: the sum of ``weight * term`` (times ``policy_dt`` if scaled)."""

    section = "rewards"
    noun = "reward term"

    def __init__(self, terms: dict[str, RewardTermCfg], env: RlEnv):
        super().__init__(env)
        self._terms = []
        for name, cfg in terms.items():
            if not isinstance(cfg.weight, (int, float)):
                raise ConfigError(f"rewards.{name}.weight must be a number, got {cfg.weight!r}")
            self._terms.append((name, cfg, self.bind(name, cfg).term))
        self.names = [n for n, _, _ in self._terms]
        n = env.num_envs
        self.reward = torch.zeros(n, device=env.device)
        self.episode_sums = torch.zeros(n, len(self._terms), device=env.device)
        """Each term's weighted sum over the current episode ``[num_envs, num_terms]``."""
        self.step_terms = torch.zeros(n, len(self._terms), device=env.device)
        """Each term's weighted value in the last step ``[num_envs, num_terms]``."""
        self.weight_scales = torch.ones(len(self._terms), device=env.device)
        """``[num_terms]`` factors on the configured weights, 1 unless a curriculum changes them
        (``warplab.envs.mdp.curricula.RewardWeightCurriculum``); on the device, so a captured step
        reads the current value."""

    def compute(self) -> torch.Tensor:
        env = self._env
        scale = env.policy_dt if env.cfg.scale_rewards_by_dt else 1.0
        for i, (_, cfg, fn) in enumerate(self._terms):
            if cfg.weight == 0.0:
                continue
            self.step_terms[:, i] = fn(env, **cfg.params) * (cfg.weight * scale)
        self.step_terms.mul_(self.weight_scales)
        # A diverged world earns nothing (as in ``RlEnv.step``); a NaN kept here would stay in its
        # episode sums and in the logged means for good.
        torch.nan_to_num_(self.step_terms, nan=0.0, posinf=0.0, neginf=0.0)
        self.step_terms.masked_fill_(env.sim.diverged[:, None], 0.0)
        torch.sum(self.step_terms, dim=1, out=self.reward)
        self.episode_sums += self.step_terms
        return self.reward

    def index(self, name: str) -> int:
        """Column of term ``name`` in ``step_terms``, ``episode_sums`` and ``weight_scales``."""
        if name not in self.names:
            raise KeyError(f"no reward term named {name!r}; this task's reward terms are {self.names}")
        return self.names.index(name)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``reward``, ``episode_sums``, ``step_terms`` and
        ``terms.<name>.<attr>`` of each term class (a position before the step, an air time...)."""
        out = {
            "reward": self.reward,
            "episode_sums": self.episode_sums,
            "step_terms": self.step_terms,
            "weight_scales": self.weight_scales,
        }
        out.update(self.term_state_tensors())
        return out

    def reset(self, mask: torch.Tensor) -> None:
        self.episode_sums.masked_fill_(mask[:, None], 0.0)
        # Term classes that keep per-world state (the last position, a contact timer) reset it here.
        self.reset_terms(mask)
