"""Observation groups: terms computed, corrupted, clipped, scaled, stacked in history, concatenated."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from warplab.envs import draws
from warplab.envs.config import ObservationGroupCfg, ObservationTermCfg
from warplab.envs.managers.base import BoundTerm, Manager
from warplab.envs.managers.term import ConfigError, prefixed

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class _History:
    """A ring of the last ``length`` values of one term, allocated once; oldest first when read."""

    def __init__(self, length: int, like: torch.Tensor):
        self.buffer = like.unsqueeze(1).repeat(1, length, *([1] * (like.ndim - 1))).clone()
        self._fresh = torch.ones(like.shape[0], dtype=torch.bool, device=like.device)

    def push(self, value: torch.Tensor, fresh_only: bool = False) -> torch.Tensor:
        """Appends ``value``; a world that just reset fills its whole history with its first value.

        With ``fresh_only`` the other worlds keep their history as it is (used for the observation
        computed again after a reset, when only the reset worlds have a new state).
        """
        fresh = self._fresh.view(-1, *([1] * value.ndim))
        if fresh_only:
            kept = self.buffer
        else:
            kept = torch.roll(self.buffer, shifts=-1, dims=1)
            kept[:, -1] = value
        filled = value.unsqueeze(1).expand_as(self.buffer)
        self.buffer.copy_(torch.where(fresh, filled, kept))
        self._fresh.zero_()
        return self.buffer.flatten(1)

    def restate(self, value: torch.Tensor, newest: torch.Tensor, whole: torch.Tensor) -> torch.Tensor:
        """Puts ``value`` in place of the newest entry of the worlds in ``newest`` and in every entry
        of the worlds in ``whole`` (bool masks ``[num_envs]``); the others keep their history. Used
        after a world's physical state was set: its latest observation is replaced, not appended."""
        rows = (-1, *([1] * value.ndim))
        replaced = self.buffer.clone()
        replaced[:, -1] = value
        filled = value.unsqueeze(1).expand_as(self.buffer)
        self.buffer.copy_(
            torch.where(whole.view(rows), filled, torch.where(newest.view(rows), replaced, self.buffer))
        )
        return self.buffer.flatten(1)

    def reset(self, mask: torch.Tensor) -> None:
        self._fresh |= mask

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """``buffer [num_envs, length, ...]`` and ``fresh [num_envs]`` (worlds whose next value
        fills the whole history)."""
        return {"buffer": self.buffer, "fresh": self._fresh}


class ObservationManager(Manager):
    """Computes every observation group. ``compute()`` returns ``{group: [num_envs, dim]}``."""

    section = "observations"
    noun = "observation term"

    def __init__(self, groups: dict[str, ObservationGroupCfg], env: RlEnv):
        if "policy" not in groups:
            raise ConfigError(f"observations must have a 'policy' group; it has {sorted(groups)}")
        super().__init__(env)
        self._group_bound: dict[str, list[BoundTerm]] = {}
        # Per group: (name, config, the term's callable: env, **params -> [num_envs, ...]).
        self._groups: dict[str, list[tuple[str, ObservationTermCfg, Callable[..., torch.Tensor]]]] = {}
        self._histories: dict[tuple[str, str], _History] = {}
        self._corrupt = {g: cfg.enable_corruption for g, cfg in groups.items()}
        self._group_history = {g: cfg.history_length for g, cfg in groups.items()}
        for g, gcfg in groups.items():
            if not gcfg.terms:
                raise ConfigError(f"observations.{g}.terms is empty")
            bound = []
            for name, tcfg in gcfg.terms.items():
                where = f"observations.{g}.terms.{name}"
                if tcfg.noise is not None and tcfg.noise.kind not in ("uniform", "gaussian"):
                    raise ConfigError(
                        f"{where}.noise.kind must be 'uniform' or 'gaussian', got {tcfg.noise.kind!r}"
                    )
                if tcfg.history_length < 0:
                    raise ConfigError(f"{where}.history_length must be >= 0, got {tcfg.history_length}")
                term = self.bind(name, tcfg, path=where, state_key=f"{g}.{name}")
                bound.append((name, tcfg, term.term))
                self._group_bound.setdefault(g, []).append(term)
            self._groups[g] = bound
        self.term_dims: dict[str, dict[str, int]] = {}

    def group_terms(self, group: str) -> tuple[BoundTerm, ...]:
        """The bound terms of observation group ``group``, in the order of its vector."""
        if group not in self._group_bound:
            raise KeyError(
                f"no observation group {group!r}; this task's groups are {sorted(self._group_bound)}"
            )
        return tuple(self._group_bound[group])

    def history_length(self, group: str, tcfg: ObservationTermCfg) -> int:
        """How many past values of a term of ``group`` are stacked (the group's setting, when it has
        one, overrides the term's); 0: none."""
        override = self._group_history[group]
        return tcfg.history_length if override is None else override

    def compute(
        self, after_reset: bool = False, state_set: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """All groups, ``{group: [num_envs, dim]}`` float32.

        ``after_reset``: the second computation of a step, after some worlds were reset; histories
        then change only for those worlds.

        ``state_set``: bool ``[num_envs]``, the worlds whose physical state was just set
        (``RlEnv.set_physical_state``). Their histories take the new value in place of the newest
        entry (the observation of the state they left), or in every entry for a world that has not
        stepped in its episode yet (as after a reset); other worlds' histories stay as they are.
        """
        out = {}
        for g, terms in self._groups.items():
            parts = []
            dims = {}
            for name, tcfg, fn in terms:
                value = self._term(g, name, tcfg, fn, after_reset, state_set)
                parts.append(value)
                dims[name] = value.shape[1]
            self.term_dims[g] = dims
            # Always a new tensor: a lone term may be a view of live state (a slice of qpos, a history
            # ring) that the reset or the next step overwrites, which would corrupt ``final_obs``.
            out[g] = torch.cat(parts, dim=1)
        return out

    def _term(self, group, name, tcfg, fn, after_reset, state_set=None) -> torch.Tensor:
        env = self._env
        value = fn(env, **tcfg.params).float()
        if value.ndim == 1:
            value = value.unsqueeze(1)
        value = value.reshape(value.shape[0], -1)
        if self._corrupt[group] and tcfg.noise is not None and tcfg.noise.scale > 0:
            if tcfg.noise.kind == "uniform":
                noise = (2.0 * draws.rand(value.shape, env.rng, env.device) - 1.0) * tcfg.noise.scale
            else:
                noise = draws.randn(value.shape, env.rng, env.device) * tcfg.noise.scale
            value = value + noise
        if tcfg.clip is not None:
            value = value.clamp(tcfg.clip[0], tcfg.clip[1])
        if tcfg.scale != 1.0:
            value = value * tcfg.scale
        length = self.history_length(group, tcfg)
        if length > 0:
            key = (group, name)
            hist = self._histories.get(key)
            if hist is None:
                hist = self._histories[key] = _History(length, value)
            if state_set is None:
                value = hist.push(value, fresh_only=after_reset)
            else:
                value = hist.restate(value, state_set, state_set & (env.episode_length_buf == 0))
        return value

    def term_values(self) -> dict[str, torch.Tensor]:
        """Each term's value as its function returns it, before noise, clipping, scaling and history:
        ``{"<group>.terms.<term>": [num_envs, ...]}`` (copies). Adds no noise, so the manager itself draws
        nothing from ``env.rng``; a term class may change its own state (callers that must not
        change the env save and restore it, as ``warplab.envs.reset_forward`` does)."""
        return {
            f"{g}.terms.{name}": fn(self._env, **tcfg.params).clone()
            for g, terms in self._groups.items()
            for name, tcfg, fn in terms
        }

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: ``history.<group>.<term>.buffer``/``.fresh`` of each
        term with a history, and ``terms.<group>.<term>.<attr>`` of each term class."""
        out = {}
        for (group, name), hist in self._histories.items():
            out.update(prefixed(f"history.{group}.{name}", hist.state_tensors()))
        out.update(self.term_state_tensors())
        return out

    def reset(self, mask: torch.Tensor) -> None:
        for hist in self._histories.values():
            hist.reset(mask)
        self.reset_terms(mask)

    def active_terms(self) -> dict[str, list[str]]:
        return {g: [name for name, _, _ in terms] for g, terms in self._groups.items()}
