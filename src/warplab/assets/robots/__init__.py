"""The project's own robots, written for warplab: the humanoid and the four-finger hand."""

from warplab.assets.robots.hand import HAND_ROBOT_CFG, hand_spec, hand_with_cube_spec
from warplab.assets.robots.humanoid import (
    HUMANOID_ROBOT,
    HUMANOID_ROBOT_CFG,
    humanoid_robot_spec,
    humanoid_spec,
)

__all__ = [
    "HAND_ROBOT_CFG",
    "HUMANOID_ROBOT",
    "HUMANOID_ROBOT_CFG",
    "hand_spec",
    "hand_with_cube_spec",
    "humanoid_robot_spec",
    "humanoid_spec",
]
