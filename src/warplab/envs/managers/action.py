"""Actions: the policy's vector split among action terms, validated, then written as controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.config import ActionTermCfg
from warplab.envs.managers.term import ConfigError, bind_term, prefixed, term_state_tensors

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class ActionManager:
    """Holds the action terms, in order. The action vector is their slices concatenated."""

    def __init__(self, terms: dict[str, ActionTermCfg], env: RlEnv):
        if not terms:
            raise ConfigError("actions is empty: a task needs at least one action term")
        self._env = env
        self._terms = {name: bind_term(f"actions.{name}", cfg.func, cfg, env) for name, cfg in terms.items()}
        self.slices: dict[str, slice] = {}
        start = 0
        for name, term in self._terms.items():
            self.slices[name] = slice(start, start + term.action_dim)
            start += term.action_dim
        self.action_dim = start
        self.action = torch.zeros(env.num_envs, start, device=env.device)
        """The last action the policy sent, after validation ``[num_envs, action_dim]``."""
        self.prev_action = torch.zeros_like(self.action)
        """The action before that."""
        self.nonfinite_count = torch.zeros((), dtype=torch.int64, device=env.device)
        """Actions with a NaN or inf entry, zeroed and counted (outside debug mode)."""

    @property
    def terms(self):
        return self._terms

    def validate(self, action: torch.Tensor) -> None:
        """Checks what the host knows of a policy action (type, shape, dtype); no device access."""
        env = self._env
        if not isinstance(action, torch.Tensor):
            raise TypeError(
                f"action must be a torch.Tensor of shape [{env.num_envs}, {self.action_dim}], got {type(action).__name__}"
            )
        if action.shape != (env.num_envs, self.action_dim):
            raise ValueError(
                f"action has shape {list(action.shape)}, expected [num_envs={env.num_envs}, action_dim={self.action_dim}]"
            )
        if not action.is_floating_point():
            raise ValueError(f"action must be a floating-point tensor, got dtype {action.dtype}")

    def process(self, action: torch.Tensor) -> None:
        """Stores a validated action (non-finite rows zeroed and counted); ``apply`` writes controls."""
        env = self._env
        action = action.to(device=env.device, dtype=torch.float32)
        finite = torch.isfinite(action).all(dim=1)
        if env.cfg.debug and not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten()[:8].tolist()
            raise ValueError(
                f"action has NaN or inf entries in worlds {bad} (debug mode raises; otherwise they are zeroed)"
            )
        self.nonfinite_count += (~finite).sum()
        self.prev_action.copy_(self.action)
        self.action.copy_(torch.where(finite[:, None], action, torch.zeros_like(action)))
        for name, term in self._terms.items():
            term.process(self.action[:, self.slices[name]])

    def apply(self) -> None:
        """Writes controls for one physics substep (terms may vary them across substeps)."""
        for term in self._terms.values():
            term.apply()

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``action``, ``prev_action``, ``nonfinite_count`` and
        ``terms.<name>.<attr>`` of each action term (its ``target``, for one)."""
        out = {
            "action": self.action,
            "prev_action": self.prev_action,
            "nonfinite_count": self.nonfinite_count,
        }
        for name, term in self._terms.items():
            out.update(prefixed(f"terms.{name}", term_state_tensors(term)))
        return out

    def reset(self, mask: torch.Tensor) -> None:
        keep = ~mask[:, None]
        self.action.mul_(keep)
        self.prev_action.mul_(keep)
        for term in self._terms.values():
            if hasattr(term, "reset"):
                term.reset(mask)
