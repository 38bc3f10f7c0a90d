"""Command generators: classes built as ``cls(cfg, env)`` with ``command [num_envs, dim]`` and ``resample(mask)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from warplab.envs import draws
from warplab.envs.managers.protocols import CommandTerm
from warplab.envs.mdp.math import uniform

if TYPE_CHECKING:
    from warplab.envs.config import CommandTermCfg
    from warplab.envs.rl_env import RlEnv


class UniformVelocityCommand(CommandTerm):
    """Base velocity targets ``(v_x m/s, v_y m/s, w_z rad/s)`` in the base frame, drawn uniformly.

    Params: ``lin_vel_x``, ``lin_vel_y``, ``ang_vel_z`` ranges; ``rel_standing_envs``: fraction of
    draws that command standing still (all zero).
    """

    components = ("lin_vel_x", "lin_vel_y", "ang_vel_z")
    ranges: Sequence[tuple[float, float]]
    """Always uniform ranges here: ``(low, high)`` of each column."""

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        p = cfg.params
        self._env = env
        self.ranges = [tuple(p.get(k, (0.0, 0.0))) for k in ("lin_vel_x", "lin_vel_y", "ang_vel_z")]
        for k, (lo, hi) in zip(("lin_vel_x", "lin_vel_y", "ang_vel_z"), self.ranges, strict=True):
            if lo > hi:
                raise ValueError(f"range {k} must have low <= high, got {(lo, hi)}")
        self.rel_standing_envs = float(p.get("rel_standing_envs", 0.0))
        if not 0.0 <= self.rel_standing_envs <= 1.0:
            raise ValueError(f"rel_standing_envs must be in [0, 1], got {self.rel_standing_envs}")
        self.command = torch.zeros(env.num_envs, 3, device=env.device)

    def resample(self, mask: torch.Tensor) -> None:
        env = self._env
        n = env.num_envs
        draw = torch.stack([uniform(lo, hi, (n,), env.rng, env.device) for lo, hi in self.ranges], dim=1)
        standing = draws.rand(n, env.rng, env.device) < self.rel_standing_envs
        draw = draw * ~standing[:, None]
        self.command.copy_(torch.where(mask[:, None], draw, self.command))
