"""The drawer family: an arm grasps a drawer's knob and pulls the drawer out to a target travel.

- ``env_cfg``: ``make_arm_open_drawer_env_cfg`` (``arm-open-drawer``, the project's arm) with
  ``DrawerRandomizationCfg``;
- ``mdp``: the terms only this task uses (the target travel, the grasp test, the opening rewards);
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.drawer.env_cfg import DrawerRandomizationCfg, drawer_scene, make_arm_open_drawer_env_cfg
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["DrawerRandomizationCfg", "drawer_scene", "make_arm_open_drawer_env_cfg"]


# Imported when asked for: building an env config must not load the learner.
def _arm_open_drawer_agent_cfg() -> RunnerCfg:
    from warplab.tasks.drawer.agent_cfg import make_arm_open_drawer_agent_cfg

    return make_arm_open_drawer_agent_cfg()


register_task(
    "arm-open-drawer",
    make_arm_open_drawer_env_cfg,
    _arm_open_drawer_agent_cfg,
    "The project's arm grasps a drawer's knob and pulls the drawer out to a target travel.",
)
