"""The hand-grasp family: the arm with the project's four-finger hand grasps an object on a table,
lifts it and holds it at a goal position.

- ``env_cfg``: ``make_hand_grasp_lift_env_cfg`` (``hand-grasp-lift``), built on ``warplab.tasks.lift``;
- ``mdp``: the terms only this task uses (the grasp centre, its reach reward, the fingertip grasp).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.hand_grasp.env_cfg import hand_lift_scene, make_hand_grasp_lift_env_cfg
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["hand_lift_scene", "make_hand_grasp_lift_env_cfg"]


# Imported when asked for: building an env config must not load the learner.
def _agent_cfg() -> RunnerCfg:
    import dataclasses

    from warplab.tasks.lift.agent_cfg import make_arm_lift_agent_cfg

    # arm-lift's learner (its return range covers this task's extra grasp reward, 2 x 0.02 a step).
    return dataclasses.replace(make_arm_lift_agent_cfg(), experiment_name="hand-grasp-lift")


register_task(
    "hand-grasp-lift",
    make_hand_grasp_lift_env_cfg,
    _agent_cfg,
    "The arm with the project's four-finger hand grasps an object of a per-world shape on a table, "
    "lifts it and holds it at a goal.",
)
