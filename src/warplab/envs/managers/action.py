"""Actions: the policy's vector split among action terms, validated, then written as controls."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.config import ActionTermCfg
from warplab.envs.managers.base import Manager
from warplab.envs.managers.protocols import ActionTerm
from warplab.envs.managers.term import ConfigError

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class ActionManager(Manager):
    """Holds the action terms (``ActionTerm``), in order. The action vector is their slices concatenated."""

    section = "actions"
    noun = "action term"

    def __init__(self, terms: dict[str, ActionTermCfg], env: RlEnv):
        if not terms:
            raise ConfigError("actions is empty: a task needs at least one action term")
        super().__init__(env)
        self._terms: dict[str, ActionTerm] = {}
        for name, cfg in terms.items():
            term = self.bind(name, cfg).term
            if not isinstance(term, ActionTerm):
                raise ConfigError(
                    f"actions.{name}.func must be a class subclassing warplab.envs.managers.ActionTerm, "
                    f"got the function {cfg.func!r}"
                )
            self._terms[name] = term
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
    def terms(self) -> dict[str, ActionTerm]:
        """``{name: term}`` in action order: read it, do not change it."""
        return self._terms

    @property
    def per_substep(self) -> bool:
        """Whether any term writes different controls at each physics substep (``ActionTerm.per_substep``)."""
        return any(term.per_substep for term in self._terms.values())

    def validate(self, action: torch.Tensor) -> None:
        """Checks what the host knows of a policy action, and nothing else: no device access, so it
        costs nothing on the hot path.

        Accepted: a torch tensor ``[num_envs, action_dim]`` of any floating-point dtype (float16,
        bfloat16 and float64 are converted to float32; a float64 beyond float32's range becomes inf),
        on the env's device. Refused with a ``ValueError`` (``TypeError`` for a non-tensor) that
        names what is wrong and what would be right: another shape, an integer, bool or complex
        dtype, a tensor on another device (moving it would be a hidden copy and sync every step:
        move it once with ``action.to(env.device)``). NaN and inf entries are values on the device,
        not checked here: ``process`` zeroes a world's whole action when any entry is not finite
        and counts it (``nonfinite_count``), or raises in debug mode; they never reach the physics.
        """
        env = self._env
        expected = f"[num_envs={env.num_envs}, action_dim={self.action_dim}]"
        if not isinstance(action, torch.Tensor):
            raise TypeError(
                f"action must be a torch.Tensor of shape [{env.num_envs}, {self.action_dim}] (num_envs, action_dim) "
                f"on {env.device}, got {type(action).__name__}"
            )
        if action.shape != (env.num_envs, self.action_dim):
            raise ValueError(f"action has shape {list(action.shape)}, expected {expected}")
        if not action.is_floating_point():
            raise ValueError(
                f"action must be a floating-point tensor (float32 is used as is), got dtype {action.dtype}"
            )
        if action.device != env.device:
            raise ValueError(
                f"action is on device {action.device}, the env on {env.device}: "
                f"move it once with action.to(env.device) (the env copies nothing between devices)"
            )

    def process(self, action: torch.Tensor) -> None:
        """Stores a validated action (non-finite rows zeroed and counted); ``apply`` writes controls."""
        env = self._env
        # Detached: an action that requires grad (a policy's output outside no_grad) would otherwise
        # tie the env's own buffers to the policy's autograd graph from this step on.
        action = action.detach().to(device=env.device, dtype=torch.float32)
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
        out.update(self.term_state_tensors())
        return out

    def reset(self, mask: torch.Tensor) -> None:
        keep = ~mask[:, None]
        self.action.mul_(keep)
        self.prev_action.mul_(keep)
        self.reset_terms(mask)
