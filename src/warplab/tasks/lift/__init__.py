"""The lift family: an arm grasps an object on a table, lifts it and holds it at a goal position.

- ``env_cfg``: ``make_arm_lift_env_cfg`` (``arm-lift``, the project's arm) with ``LiftRandomizationCfg``;
- ``mdp``: the terms only this task uses (the goal in the base frame, reaching, lifting, tracking);
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.lift.env_cfg import LiftRandomizationCfg, lift_scene, make_arm_lift_env_cfg
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["LiftRandomizationCfg", "lift_scene", "make_arm_lift_env_cfg"]


# Imported when asked for: building an env config must not load the learner.
def _arm_lift_agent_cfg() -> RunnerCfg:
    from warplab.tasks.lift.agent_cfg import make_arm_lift_agent_cfg

    return make_arm_lift_agent_cfg()


register_task(
    "arm-lift",
    make_arm_lift_env_cfg,
    _arm_lift_agent_cfg,
    "The project's arm grasps an object of a per-world shape on a table, lifts it and holds it at a goal.",
)
