"""The pick-up-dropped family: an object is dropped onto the table in front of an arm, tumbles to
rest, and the arm picks it up and holds it at a goal height.

- ``env_cfg``: ``make_arm_pick_up_dropped_env_cfg`` (``arm-pick-up-dropped``, the project's arm),
  built on ``arm-lift``'s config (``warplab.tasks.lift``);
- ``mdp``: the terms only this task uses (the drop, the held goal and its success, holding at the
  end, out of reach);
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.pick_up_dropped.env_cfg import make_arm_pick_up_dropped_env_cfg, pick_up_dropped_scene
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["make_arm_pick_up_dropped_env_cfg", "pick_up_dropped_scene"]


# Imported when asked for: building an env config must not load the learner.
def _arm_pick_up_dropped_agent_cfg() -> RunnerCfg:
    from warplab.tasks.pick_up_dropped.agent_cfg import make_arm_pick_up_dropped_agent_cfg

    return make_arm_pick_up_dropped_agent_cfg()


register_task(
    "arm-pick-up-dropped",
    make_arm_pick_up_dropped_env_cfg,
    _arm_pick_up_dropped_agent_cfg,
    "An object of a per-world shape is dropped onto the table; the project's arm picks it up and holds it at a goal height.",
)
