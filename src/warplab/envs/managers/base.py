"""What the seven managers share: binding terms from configs, a public read-only view of them, and
the calls into the terms' hooks (reset, state set, saved state)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from warplab.envs.managers.protocols import TERM_BASES, TermBase, overrides
from warplab.envs.managers.term import bind_term, prefixed, term_state_tensors

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


@dataclass(frozen=True)
class BoundTerm:
    """One term as its manager runs it.

    Attributes:
      name: its key in the config dict (``"track_lin_vel"``).
      path: its config path (``"rewards.track_lin_vel"``, ``"observations.policy.terms.joint_pos"``),
        as error messages and ``graph_unsafe_terms`` name it.
      state_key: where its state is saved, under ``terms.`` of its manager's state
        (``"track_lin_vel"``; ``"<group>.<name>"`` for observations).
      cfg: its config (``RewardTermCfg``...), as the env runs it.
      term: the function itself, or the instance of its term class.
    """

    name: str
    path: str
    state_key: str
    cfg: Any
    term: Any


class Manager:
    """The base of every manager: ``bind`` turns a term config into a ``BoundTerm``; ``bound_terms``
    lists them; the hooks a term class overrides are collected once, here, so the step calls only
    those (no look-up per call)."""

    section: ClassVar[str]
    """The ``RlEnvCfg`` field this manager's terms come from (``"rewards"``)."""
    noun: ClassVar[str]
    """What error messages call one of its terms (``"reward term"``)."""

    def __init__(self, env: RlEnv) -> None:
        self._env = env
        self._bound: list[BoundTerm] = []
        self._resets: list[Any] = []
        self._state_set: list[Any] = []

    def bind(self, name: str, cfg: Any, path: str | None = None, state_key: str | None = None) -> BoundTerm:
        """Builds the term of config ``cfg`` (``bind_term``) and records it and its hooks."""
        path = path or f"{self.section}.{name}"
        base = TERM_BASES[self.section]
        term = bind_term(path, cfg.func, cfg, self._env, base)
        bound = BoundTerm(name, path, state_key or name, cfg, term)
        self._bound.append(bound)
        if overrides(term, base, "reset"):
            self._resets.append(term)
        if overrides(term, TermBase, "on_state_set"):
            self._state_set.append(term)
        return bound

    @property
    def bound_terms(self) -> tuple[BoundTerm, ...]:
        """Every bound term, in config order: read them, do not change them."""
        return tuple(self._bound)

    def term(self, name: str) -> Any:
        """The bound term ``name``: its function, or the instance of its term class (to read or set its state)."""
        for bound in self._bound:
            if bound.name == name:
                return bound.term
        names = [b.name for b in self._bound]
        raise KeyError(f"no {self.noun} named {name!r}; this task's {self.noun}s are {names}")

    def graph_unsafe_terms(self) -> list[str]:
        """Config paths of the terms whose class declares ``graph_safe = False``."""
        return [b.path for b in self._bound if isinstance(b.term, TermBase) and not b.term.graph_safe]

    def term_state_tensors(self) -> dict[str, torch.Tensor]:
        """``terms.<state_key>.<attr>`` of every term class, live (``TermBase.state_tensors``)."""
        out: dict[str, torch.Tensor] = {}
        for bound in self._bound:
            out.update(prefixed(f"terms.{bound.state_key}", term_state_tensors(bound.term)))
        return out

    def on_state_set(self, mask: torch.Tensor) -> None:
        """The masked worlds' physical state was set (``RlEnv.set_physical_state``): tells the terms
        that cache a quantity of it (``TermBase.on_state_set``). The manager's own buffers stay."""
        for term in self._state_set:
            term.on_state_set(self._env, mask)

    def reset_terms(self, mask: torch.Tensor) -> None:
        """Calls ``reset(env, mask)`` of the term classes that define it."""
        for term in self._resets:
            term.reset(self._env, mask)
