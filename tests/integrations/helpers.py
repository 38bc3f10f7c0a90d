"""Pieces the adapter tests share: the project's example scripts as modules, and a cart-pole with
an asymmetric critic."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from warplab.envs import mdp
from warplab.envs.config import ObservationGroupCfg, ObservationTermCfg
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@contextlib.contextmanager
def example_module(filename: str) -> Iterator[ModuleType]:
    """``examples/<filename>`` imported as a module, registered in ``sys.modules`` while in use
    (dataclasses look their module up there while building the scripts' ``Args``)."""
    name = Path(filename).stem
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def cartpole_with_critic_group(num_envs: int) -> RlEnv:
    """cartpole-balance on the CPU with a "critic" group that also sees the last action (5 values)."""
    cfg = make_env_cfg("cartpole-balance")
    cfg.observations["critic"] = ObservationGroupCfg(
        terms={
            "joint_pos": ObservationTermCfg(func=mdp.joint_pos),
            "joint_vel": ObservationTermCfg(func=mdp.joint_vel),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }
    )
    cfg.num_envs, cfg.device, cfg.seed = num_envs, "cpu", 0
    return RlEnv(cfg)
