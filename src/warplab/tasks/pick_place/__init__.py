"""The pick-and-place family: an arm grasps an object on a table, carries it to a goal on the table
and releases it there.

- ``env_cfg``: ``make_arm_pick_place_env_cfg`` (``arm-pick-place``, the project's arm), built on
  ``arm-lift``'s config (``warplab.tasks.lift``);
- ``mdp``: the terms only this task uses (the goal on the table, carrying, placing, success);
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.pick_place.env_cfg import make_arm_pick_place_env_cfg, pick_place_scene
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["make_arm_pick_place_env_cfg", "pick_place_scene"]


# Imported when asked for: building an env config must not load the learner.
def _arm_pick_place_agent_cfg() -> RunnerCfg:
    from warplab.tasks.pick_place.agent_cfg import make_arm_pick_place_agent_cfg

    return make_arm_pick_place_agent_cfg()


register_task(
    "arm-pick-place",
    make_arm_pick_place_env_cfg,
    _arm_pick_place_agent_cfg,
    "The project's arm grasps an object of a per-world shape, carries it to a goal on the table and releases it.",
)
