"""The managers that turn term configs into the pieces of an environment step."""

from warplab.envs.managers.action import ActionManager
from warplab.envs.managers.command import CommandManager
from warplab.envs.managers.curriculum import CurriculumManager
from warplab.envs.managers.event import EventManager
from warplab.envs.managers.observation import ObservationManager
from warplab.envs.managers.reward import RewardManager
from warplab.envs.managers.termination import TerminationManager

__all__ = [
    "ActionManager",
    "CommandManager",
    "CurriculumManager",
    "EventManager",
    "ObservationManager",
    "RewardManager",
    "TerminationManager",
]
