"""The managers that turn term configs into the pieces of an environment step, and the term
protocols: the base class a term class of each kind subclasses (``protocols``), and what a term
declares for export and sim-to-sim (``warplab.term_export``)."""

from warplab.envs.managers.action import ActionManager
from warplab.envs.managers.base import BoundTerm, Manager
from warplab.envs.managers.command import CommandManager
from warplab.envs.managers.curriculum import CurriculumManager
from warplab.envs.managers.event import EventManager
from warplab.envs.managers.observation import ObservationManager
from warplab.envs.managers.protocols import (
    ActionTerm,
    ActuatorTargets,
    BinaryTargets,
    CommandTerm,
    CurriculumTerm,
    EventTerm,
    ObservationTerm,
    RewardTerm,
    TermBase,
    TerminationTerm,
)
from warplab.envs.managers.reward import RewardManager
from warplab.envs.managers.termination import TerminationManager
from warplab.term_export import DropExport, FallExport, ObservationExport, SuccessCapExport, declares

__all__ = [
    "ActionManager",
    "ActionTerm",
    "ActuatorTargets",
    "BinaryTargets",
    "BoundTerm",
    "CommandManager",
    "CommandTerm",
    "CurriculumManager",
    "CurriculumTerm",
    "EventManager",
    "EventTerm",
    "DropExport",
    "FallExport",
    "Manager",
    "ObservationExport",
    "ObservationManager",
    "ObservationTerm",
    "RewardManager",
    "RewardTerm",
    "SuccessCapExport",
    "TermBase",
    "TerminationManager",
    "TerminationTerm",
    "declares",
]
