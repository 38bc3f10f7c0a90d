"""Curriculum terms that change the task's rewards as the policy succeeds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from warplab.envs.managers.protocols import CurriculumTerm
from warplab.envs.managers.term import ConfigError

if TYPE_CHECKING:
    from warplab.envs.config import CurriculumTermCfg
    from warplab.envs.rl_env import RlEnv


class SuccessRateWindow:
    """Counts ended episodes and the successful ones, and after every ``window`` of them says which
    way a curriculum should move: +1 when the window's success rate is at least ``raise_above``, -1
    when it is below ``lower_below``, 0 otherwise (and 0 between decisions). The counts start again
    after each decision. Everything stays on the device.

    Params read from ``params``: ``window`` (None: ``num_envs``), ``lower_below``, ``raise_above``
    (rates in [0, 1]); ``episodes_what`` names the episodes in error messages.
    """

    def __init__(
        self, params: dict[str, Any], env: RlEnv, lower_below: float, raise_above: float, episodes_what: str
    ) -> None:
        window = params.get("window")
        self.window = env.num_envs if window is None else int(window)
        if self.window < 1:
            raise ValueError(f"window must be >= 1 {episodes_what}, got {window!r}")
        lower = float(params.get("lower_below", lower_below))
        upper = float(params.get("raise_above", raise_above))
        if not 0.0 <= lower <= upper <= 1.0:
            raise ValueError(
                f"lower_below and raise_above must satisfy 0 <= lower_below <= raise_above <= 1, got {(lower, upper)}"
            )
        self.lower_below, self.raise_above = lower, upper
        self.episodes = torch.zeros((), dtype=torch.long, device=env.device)
        """Episodes counted since the last decision."""
        self.successes = torch.zeros((), dtype=torch.long, device=env.device)
        """Of those, the successful ones."""

    def record(self, counted: torch.Tensor, succeeded: torch.Tensor) -> torch.Tensor:
        """Adds ``counted`` episodes (``[num_envs]`` bool), ``succeeded`` of them; returns the
        direction ``[]`` float: +1, -1, or 0."""
        self.episodes += counted.sum()
        self.successes += succeeded.sum()
        decide = self.episodes >= self.window
        rate = self.successes.float() / self.episodes.clamp(min=1).float()
        direction = torch.where(
            rate >= self.raise_above, 1.0, torch.where(rate < self.lower_below, -1.0, 0.0)
        )
        direction = torch.where(decide, direction, 0.0)
        self.episodes.masked_fill_(decide, 0)
        self.successes.masked_fill_(decide, 0)
        return direction


class RewardWeightCurriculum(CurriculumTerm):
    """Phases reward terms in as the policy succeeds: their weights are multiplied by a scale in
    [0, 1] that grows while episodes succeed and shrinks when they stop succeeding.

    Some behaviour should be shaped only once the task is solved: a getting-up policy finds standing
    by leaping, and a penalty on flight from the first iteration takes that path away before any
    other is found (measured 2026-11-25 on an H100: no world stood after 7.5 minutes with the
    penalties on from the start, where without them 99.8 % stood). With this term the penalties
    start at ``initial_scale`` of their weight and reach their full weight step by step as the
    success rate holds.

    Success is a termination term of the task (one with ``time_out=True`` that fires with the
    time-out when the episode ended well, such as a task's "ended standing" term): after every
    ``window`` ended episodes, the share that ended with it decides: at least ``raise_above``, the
    scale grows by ``step``; below ``lower_below``, it shrinks by ``step``; in between it stays.
    Episodes of diverged worlds and worlds reset by hand do not count. One scale serves all worlds.

    Params:
      rewards: names of the reward terms to scale (their configured weight is the full weight).
      success_term: name of the termination term that marks a successful episode.
      window: ended episodes per decision (None: ``num_envs``).
      raise_above, lower_below: success rates, in [0, 1].
      step: change of the scale per decision.
      initial_scale: the scale at the start, in [0, 1].
      adaptive: False holds the scale at 1 (play and evaluation: the full task).

    Returns (logged as ``Curriculum/<name>``): the current scale ``[]``.
    """

    def __init__(self, cfg: CurriculumTermCfg, env: RlEnv) -> None:
        p = cfg.params
        self.reward_names = list(p.get("rewards") or [])
        if not self.reward_names:
            raise ValueError("RewardWeightCurriculum needs params['rewards']: the reward terms to scale")
        if "success_term" not in p:
            raise ValueError("RewardWeightCurriculum needs params['success_term']: a termination term's name")
        self.success_term = str(p["success_term"])
        self.rate = SuccessRateWindow(
            p, env, lower_below=0.3, raise_above=0.6, episodes_what="ended episodes"
        )
        self.step = float(p.get("step", 0.1))
        if not 0.0 < self.step <= 1.0:
            raise ValueError(f"step must be in (0, 1], got {self.step}")
        self.adaptive = bool(p.get("adaptive", True))
        initial = float(p.get("initial_scale", 0.0)) if self.adaptive else 1.0
        if not 0.0 <= initial <= 1.0:
            raise ValueError(f"initial_scale must be in [0, 1], got {initial}")
        self.scale = torch.full((), initial, device=env.device)
        """The current factor on the terms' weights ``[]``."""
        self._columns: torch.Tensor | None = None
        self._success_column: int | None = None

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The scale and the counts since the last decision."""
        return {"scale": self.scale, "episodes": self.rate.episodes, "succeeded": self.rate.successes}

    def _bind(self, env: RlEnv) -> None:
        # The reward and termination managers are built after the curriculum's (terrain terms read
        # the curriculum): look the names up at the first call, eagerly, before any capture.
        rewards, terminations = env.reward_manager, env.termination_manager
        try:
            columns = [rewards.index(name) for name in self.reward_names]
        except KeyError as error:
            raise ConfigError(f"RewardWeightCurriculum params['rewards']: {error.args[0]}") from None
        if self.success_term not in terminations.names:
            raise ConfigError(
                f"RewardWeightCurriculum params['success_term']: no termination term named "
                f"{self.success_term!r}; this task's are {terminations.names}"
            )
        self._success_column = terminations.names.index(self.success_term)
        self._columns = torch.tensor(columns, device=env.device)

    def __call__(self, env: RlEnv, mask: torch.Tensor, **_: Any) -> torch.Tensor:
        if self._columns is None:
            self._bind(env)
        if self.adaptive:
            ended = mask & (env.episode_length_buf > 0) & ~env.sim.diverged
            ended &= env.termination_manager.terminated | env.termination_manager.truncated
            success = ended & env.termination_manager.term_flags[:, self._success_column]
            direction = self.rate.record(ended, success)
            self.scale.copy_((self.scale + self.step * direction).clamp(0.0, 1.0))
        env.reward_manager.weight_scales.index_put_(
            (self._columns,), self.scale.expand(len(self.reward_names))
        )
        return self.scale.clone()
