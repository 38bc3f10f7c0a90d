"""The door family: an arm grasps the knob of a cabinet's door and swings the door open past a target
angle.

- ``env_cfg``: ``make_arm_open_door_env_cfg`` (``arm-open-door``, the project's arm) with
  ``DoorRandomizationCfg``;
- ``mdp``: the terms only this task uses (the target angle, the hinge's privileged dynamics); the
  approach, grasp and opening terms are the drawer task's;
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.door.env_cfg import DoorRandomizationCfg, door_scene, make_arm_open_door_env_cfg
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["DoorRandomizationCfg", "door_scene", "make_arm_open_door_env_cfg"]


# Imported when asked for: building an env config must not load the learner.
def _arm_open_door_agent_cfg() -> RunnerCfg:
    from warplab.tasks.door.agent_cfg import make_arm_open_door_agent_cfg

    return make_arm_open_door_agent_cfg()


register_task(
    "arm-open-door",
    make_arm_open_door_env_cfg,
    _arm_open_door_agent_cfg,
    "The project's arm grasps a cabinet door's knob and swings the door open past a target angle.",
)
