"""The manager-based RL environment and its configuration."""

from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    CommandTermCfg,
    CurriculumTermCfg,
    EventTermCfg,
    NoiseCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.envs.env_state import EnvStateError
from warplab.envs.managers.term import ConfigError
from warplab.envs.rl_env import RlEnv

__all__ = [
    "ActionTermCfg",
    "CommandTermCfg",
    "ConfigError",
    "CurriculumTermCfg",
    "EnvStateError",
    "EventTermCfg",
    "NoiseCfg",
    "ObservationGroupCfg",
    "ObservationTermCfg",
    "RewardTermCfg",
    "RlEnv",
    "RlEnvCfg",
    "TerminationTermCfg",
    "ViewerCfg",
    "mdp",
]
