"""The project's own robots, written for warplab: the humanoid, the four-finger hand and the arm."""

from warplab.assets.robots.arm import (
    ARM_ROBOT_CFG,
    ARM_WITH_HAND_ROBOT_CFG,
    arm_spec,
    arm_with_hand_spec,
    arm_with_table_and_object_spec,
)
from warplab.assets.robots.hand import HAND_ROBOT_CFG, hand_spec, hand_with_cube_spec
from warplab.assets.robots.humanoid import (
    HUMANOID_ROBOT,
    HUMANOID_ROBOT_CFG,
    humanoid_robot_spec,
    humanoid_spec,
)

__all__ = [
    "ARM_ROBOT_CFG",
    "ARM_WITH_HAND_ROBOT_CFG",
    "HAND_ROBOT_CFG",
    "HUMANOID_ROBOT",
    "HUMANOID_ROBOT_CFG",
    "arm_spec",
    "arm_with_hand_spec",
    "arm_with_table_and_object_spec",
    "hand_spec",
    "hand_with_cube_spec",
    "humanoid_robot_spec",
    "humanoid_spec",
]
