"""Terms of the recovery tasks only: pushes and their curriculum (``pushes``), getting up
(``getup``). Name them as ``recovery.RandomPush`` after ``from warplab.tasks.recovery import mdp as
recovery``."""

from warplab.tasks.recovery.mdp.getup import (
    LYING_POSES,
    ResetLying,
    airborne,
    base_height_progress,
    base_rise_speed_above,
    feet_under_base_exp,
    is_standing,
    joint_vel_l2_when_standing,
    standing_at_time_out,
)
from warplab.tasks.recovery.mdp.pushes import (
    PushedSurvivalRate,
    PushStrengthCurriculum,
    RandomPush,
    base_height_exp,
    find_event_term,
    find_push_event,
    pushed_episode_outcomes,
)

__all__ = [
    "LYING_POSES",
    "PushStrengthCurriculum",
    "PushedSurvivalRate",
    "RandomPush",
    "ResetLying",
    "airborne",
    "base_height_exp",
    "base_height_progress",
    "base_rise_speed_above",
    "feet_under_base_exp",
    "find_event_term",
    "find_push_event",
    "is_standing",
    "joint_vel_l2_when_standing",
    "pushed_episode_outcomes",
    "standing_at_time_out",
]
