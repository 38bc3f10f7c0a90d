"""Gymnasium-Robotics' environments on warplab, for like-for-like comparisons: the Shadow hand's
``HandManipulateBlockRotateXYZ-v1`` (and its ``Dense`` variant), with the package's own model file,
observation, goal, reward, success and episode length.

The models are read from the installed ``gymnasium-robotics`` package when a scene is built
(``pip install "warplab[robotics]"``); building configs and listing tasks work without it.

- ``assets``: where the package's model files are, the block scene and the hand alone;
- ``shadow_hand``: the Shadow hand as a ``RobotCfg`` for other tasks;
- ``mdp``: the task's terms (action mapping, goal, settled starts, success, rewards);
- ``hand_block``: the task's environment config;
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.gym_robotics.assets import (
    RoboticsNotInstalledError,
    hand_block_spec,
    robotics_assets_dir,
    shadow_hand_spec,
)
from warplab.tasks.gym_robotics.hand_block import (
    make_hand_block_rotate_xyz_dense_env_cfg,
    make_hand_block_rotate_xyz_env_cfg,
)
from warplab.tasks.gym_robotics.shadow_hand import shadow_hand_robot_cfg
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = [
    "RoboticsNotInstalledError",
    "hand_block_spec",
    "make_hand_block_rotate_xyz_dense_env_cfg",
    "make_hand_block_rotate_xyz_env_cfg",
    "robotics_assets_dir",
    "shadow_hand_robot_cfg",
    "shadow_hand_spec",
]


# The agent config is imported when asked for, not above: building an env config must not load the
# learner (tests/tasks/test_task_imports.py checks it).
def _hand_block_agent_cfg() -> RunnerCfg:
    from warplab.tasks.gym_robotics.agent_cfg import make_hand_block_agent_cfg

    return make_hand_block_agent_cfg()


def _hand_block_dense_agent_cfg() -> RunnerCfg:
    from warplab.tasks.gym_robotics.agent_cfg import make_hand_block_agent_cfg

    return make_hand_block_agent_cfg("HandManipulateBlockRotateXYZDense-v1")


register_task(
    "HandManipulateBlockRotateXYZ-v1",
    make_hand_block_rotate_xyz_env_cfg,
    _hand_block_agent_cfg,
    "Gymnasium-Robotics' Shadow hand turns a block to a random orientation (sparse reward); needs warplab[robotics].",
)
register_task(
    "HandManipulateBlockRotateXYZDense-v1",
    make_hand_block_rotate_xyz_dense_env_cfg,
    _hand_block_dense_agent_cfg,
    "HandManipulateBlockRotateXYZ-v1 with the package's dense reward (minus the angle to the goal).",
)
