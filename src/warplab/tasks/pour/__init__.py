"""The pour family: an arm holding a cup of small spheres pours them into a bowl on the table.

- ``env_cfg``: ``make_arm_pour_env_cfg`` (``arm-pour``, the project's arm) with ``PourRandomizationCfg``;
- ``mdp``: the terms only this task uses (spheres counted in the containers, the cup's lip and tilt,
  the reset with the cup in the gripper);
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.pour.env_cfg import PourRandomizationCfg, make_arm_pour_env_cfg, pour_scene
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["PourRandomizationCfg", "make_arm_pour_env_cfg", "pour_scene"]


# Imported when asked for: building an env config must not load the learner.
def _arm_pour_agent_cfg() -> RunnerCfg:
    from warplab.tasks.pour.agent_cfg import make_arm_pour_agent_cfg

    return make_arm_pour_agent_cfg()


register_task(
    "arm-pour",
    make_arm_pour_env_cfg,
    _arm_pour_agent_cfg,
    "The project's arm holds a cup of small spheres and pours them into a bowl placed per world on the table.",
)
