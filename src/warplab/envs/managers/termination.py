"""Terminations: conditions that end an episode, with time-outs kept apart from failures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.config import TerminationTermCfg
from warplab.envs.managers.base import Manager

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class TerminationManager(Manager):
    """``compute()`` returns ``(terminated [num_envs], truncated [num_envs])``, both bool.

    A world whose physics diverged is terminated (and counted), whatever the terms say. A world that
    is both terminated and timed out counts as terminated: the learner must not bootstrap it.
    """

    section = "terminations"
    noun = "termination term"

    def __init__(self, terms: dict[str, TerminationTermCfg], env: RlEnv):
        super().__init__(env)
        self._terms = [(name, cfg, self.bind(name, cfg).term) for name, cfg in terms.items()]
        self.names = [n for n, _, _ in self._terms] + ["nan"]
        n = env.num_envs
        self.terminated = torch.zeros(n, dtype=torch.bool, device=env.device)
        self.truncated = torch.zeros(n, dtype=torch.bool, device=env.device)
        self.term_flags = torch.zeros(n, len(self.names), dtype=torch.bool, device=env.device)
        """Which term fired in the last step ``[num_envs, num_terms + 1]`` (the last column: divergence)."""

    def compute(self) -> tuple[torch.Tensor, torch.Tensor]:
        env = self._env
        self.terminated.zero_()
        self.truncated.zero_()
        for i, (_, cfg, fn) in enumerate(self._terms):
            flag = fn(env, **cfg.params).bool()
            self.term_flags[:, i] = flag
            (self.truncated if cfg.time_out else self.terminated).logical_or_(flag)
        self.term_flags[:, -1] = env.sim.diverged
        self.terminated |= env.sim.diverged
        self.truncated &= ~self.terminated
        return self.terminated, self.truncated

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: the last step's ``terminated``, ``truncated``,
        ``term_flags``, and ``terms.<name>.<attr>`` of each term class."""
        out = {"terminated": self.terminated, "truncated": self.truncated, "term_flags": self.term_flags}
        out.update(self.term_state_tensors())
        return out
