"""The recovery family: the humanoid withstands pushes (``humanoid-push-recovery``) and gets up
from the ground (``humanoid-getup``).

- ``push_env_cfg``: ``make_push_recovery_env_cfg(robot)`` and the humanoid's task;
- ``getup_env_cfg``: ``make_getup_env_cfg(robot)`` and the humanoid's task;
- ``mdp``: the terms only these tasks use (pushes and their curriculum, lying resets, standing);
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.

``docs/tasks/humanoid_recovery.md`` describes both tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.recovery.getup_env_cfg import make_getup_env_cfg, make_humanoid_getup_env_cfg
from warplab.tasks.recovery.push_env_cfg import (
    FORCE_DURATION_S,
    PUSH_INTERVAL_S,
    PUSH_SCHEDULES,
    SURVIVAL_WINDOW,
    PushKind,
    PushSchedule,
    make_humanoid_push_recovery_env_cfg,
    make_push_recovery_env_cfg,
)
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = [
    "FORCE_DURATION_S",
    "PUSH_INTERVAL_S",
    "PUSH_SCHEDULES",
    "SURVIVAL_WINDOW",
    "PushKind",
    "PushSchedule",
    "make_getup_env_cfg",
    "make_humanoid_getup_env_cfg",
    "make_humanoid_push_recovery_env_cfg",
    "make_push_recovery_env_cfg",
]


# Each agent config is imported when asked for, not above: building an env config must not load
# the learner (tests/tasks/test_task_imports.py checks it).
def _humanoid_push_recovery_agent_cfg() -> RunnerCfg:
    from warplab.tasks.recovery.agent_cfg import make_humanoid_push_recovery_agent_cfg

    return make_humanoid_push_recovery_agent_cfg()


def _humanoid_getup_agent_cfg() -> RunnerCfg:
    from warplab.tasks.recovery.agent_cfg import make_humanoid_getup_agent_cfg

    return make_humanoid_getup_agent_cfg()


register_task(
    "humanoid-push-recovery",
    make_humanoid_push_recovery_env_cfg,
    _humanoid_push_recovery_agent_cfg,
    "The humanoid walks or stands at commanded velocities and must not fall under pushes of growing strength.",
)
register_task(
    "humanoid-getup",
    make_humanoid_getup_env_cfg,
    _humanoid_getup_agent_cfg,
    "The humanoid starts lying on its back, front or side, stands up and stays up.",
)
