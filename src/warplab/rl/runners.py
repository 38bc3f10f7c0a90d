"""`make_runner`: the runner of a config's algorithm (PPO on-policy, SAC and TD3 off-policy)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from warplab.rl.config import RunnerCfg
from warplab.rl.env_protocol import VecEnv
from warplab.rl.off_policy_runner import OffPolicyRunner
from warplab.rl.runner import OnPolicyRunner


def make_runner(
    env: VecEnv,
    cfg: RunnerCfg,
    log_dir: str | Path | None = None,
    device: torch.device | str | None = None,
    exporter: Callable[[Any, Path], Any] | None = None,
) -> OnPolicyRunner | OffPolicyRunner:
    """`OnPolicyRunner` for ``cfg.algorithm == "ppo"``, `OffPolicyRunner` for "sac" and "td3"; the
    arguments are theirs.

    Raises:
        ValueError: ``cfg.algorithm`` is none of these (or any other field is invalid).
    """
    if cfg.algorithm == "ppo":
        return OnPolicyRunner(env, cfg, log_dir=log_dir, device=device, exporter=exporter)
    if cfg.algorithm in ("sac", "td3"):
        return OffPolicyRunner(env, cfg, log_dir=log_dir, device=device, exporter=exporter)
    raise ValueError(f"RunnerCfg.algorithm must be one of ('ppo', 'sac', 'td3'), got {cfg.algorithm!r}")
