"""Registers the tasks that ship with warplab: importing each family's package registers its tasks."""

from warplab.tasks import (  # noqa: F401
    cartpole,
    door,
    drawer,
    gym_mujoco,
    gym_robotics,
    hand_grasp,
    lift,
    pick_place,
    pick_up_dropped,
    pour,
    recovery,
    reorient,
    velocity,
)
