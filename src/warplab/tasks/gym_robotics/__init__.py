"""Gymnasium-Robotics' environments on warplab, for like-for-like comparisons: the Shadow hand's
``HandManipulateBlockRotateXYZ-v1`` (and its ``Dense`` variant) and the Adroit hand's
``AdroitHandDoor-v1`` and ``AdroitHandRelocate-v1`` (and their ``Sparse`` variants), and the Fetch
robot's ``FetchPickAndPlace-v4`` (and its ``Dense`` variant), and the Franka kitchen's
``FrankaKitchen-v1`` with ``tasks_to_complete=["microwave"]`` (``FrankaKitchenMicrowave-v1``), with
the package's own model files, observations, goals, rewards, success and episode lengths.

The models are read from the installed ``gymnasium-robotics`` package when a scene is built
(``pip install "warplab[robotics]"``); building configs and listing tasks work without it.

- ``assets``: where the package's model files are, the block scene and the hand alone;
- ``shadow_hand``: the Shadow hand as a ``RobotCfg`` for other tasks;
- ``mdp``: the task's terms (action mapping, goal, settled starts, success, rewards);
- ``hand_block``: the task's environment config;
- ``adroit_mdp``, ``adroit``: the Adroit tasks' terms and environment configs;
- ``fetch_mdp``, ``fetch``: the Fetch task's terms (mocap action, goal, start states, observations)
  and environment configs;
- ``kitchen_mdp``, ``kitchen``: the kitchen's terms (the package's joint-velocity action and its
  observation noise, task completion) and the microwave task's environment config;
- ``kitchen_franka``: the kitchen's Franka as a ``RobotCfg`` for other tasks;
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from warplab.tasks.gym_robotics.adroit import (
    make_adroit_door_env_cfg,
    make_adroit_door_sparse_env_cfg,
    make_adroit_relocate_env_cfg,
    make_adroit_relocate_sparse_env_cfg,
)
from warplab.tasks.gym_robotics.assets import (
    RoboticsNotInstalledError,
    adroit_door_spec,
    adroit_relocate_spec,
    fetch_pick_and_place_spec,
    fetch_spec,
    hand_block_spec,
    kitchen_franka_spec,
    kitchen_spec,
    robotics_assets_dir,
    shadow_hand_spec,
)
from warplab.tasks.gym_robotics.fetch import (
    make_fetch_pick_and_place_dense_env_cfg,
    make_fetch_pick_and_place_env_cfg,
)
from warplab.tasks.gym_robotics.hand_block import (
    make_hand_block_rotate_xyz_dense_env_cfg,
    make_hand_block_rotate_xyz_env_cfg,
)
from warplab.tasks.gym_robotics.kitchen import make_kitchen_microwave_env_cfg
from warplab.tasks.gym_robotics.kitchen_franka import kitchen_franka_robot_cfg
from warplab.tasks.gym_robotics.shadow_hand import shadow_hand_robot_cfg
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = [
    "RoboticsNotInstalledError",
    "adroit_door_spec",
    "adroit_relocate_spec",
    "fetch_pick_and_place_spec",
    "fetch_spec",
    "make_adroit_door_env_cfg",
    "make_adroit_door_sparse_env_cfg",
    "make_adroit_relocate_env_cfg",
    "make_adroit_relocate_sparse_env_cfg",
    "hand_block_spec",
    "kitchen_franka_robot_cfg",
    "kitchen_franka_spec",
    "kitchen_spec",
    "make_kitchen_microwave_env_cfg",
    "make_fetch_pick_and_place_dense_env_cfg",
    "make_fetch_pick_and_place_env_cfg",
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


def _adroit_agent_cfg(task: str, v_max: float) -> Callable[[], RunnerCfg]:
    def make() -> RunnerCfg:
        from warplab.tasks.gym_robotics.agent_cfg import make_adroit_agent_cfg

        return make_adroit_agent_cfg(task, v_max)

    return make


_ADROIT_TASKS = (
    (
        "AdroitHandDoor-v1",
        make_adroit_door_env_cfg,
        2500.0,
        "Gymnasium-Robotics' Adroit arm and hand unlatch and open a door (the package's dense reward); "
        "needs warplab[robotics].",
    ),
    (
        "AdroitHandDoorSparse-v1",
        make_adroit_door_sparse_env_cfg,
        1100.0,
        "AdroitHandDoor-v1 with the package's sparse reward (10 at success, else -0.1).",
    ),
    (
        "AdroitHandRelocate-v1",
        make_adroit_relocate_env_cfg,
        3500.0,
        "Gymnasium-Robotics' Adroit arm and hand carry a ball to a target in the air (the package's dense "
        "reward); needs warplab[robotics].",
    ),
    (
        "AdroitHandRelocateSparse-v1",
        make_adroit_relocate_sparse_env_cfg,
        1100.0,
        "AdroitHandRelocate-v1 with the package's sparse reward (10 at success, else -0.1).",
    ),
)
for _name, _factory, _v_max, _description in _ADROIT_TASKS:
    register_task(_name, _factory, _adroit_agent_cfg(_name, _v_max), _description)


def _fetch_agent_cfg(task: str) -> Callable[[], RunnerCfg]:
    def make() -> RunnerCfg:
        from warplab.tasks.gym_robotics.agent_cfg import make_fetch_agent_cfg

        return make_fetch_agent_cfg(task)

    return make


register_task(
    "FetchPickAndPlace-v4",
    make_fetch_pick_and_place_env_cfg,
    _fetch_agent_cfg("FetchPickAndPlace-v4"),
    "Gymnasium-Robotics' Fetch arm picks a block and places it at a goal on the table or in the air "
    "(sparse reward); needs warplab[robotics].",
)
register_task(
    "FetchPickAndPlaceDense-v4",
    make_fetch_pick_and_place_dense_env_cfg,
    _fetch_agent_cfg("FetchPickAndPlaceDense-v4"),
    "FetchPickAndPlace-v4 with the package's dense reward (minus the block's distance to the goal).",
)


def _kitchen_agent_cfg() -> RunnerCfg:
    from warplab.tasks.gym_robotics.agent_cfg import make_kitchen_agent_cfg

    return make_kitchen_agent_cfg()


register_task(
    "FrankaKitchenMicrowave-v1",
    make_kitchen_microwave_env_cfg,
    _kitchen_agent_cfg,
    'Gymnasium-Robotics\' FrankaKitchen-v1 with tasks_to_complete=["microwave"]: the Franka opens the '
    "microwave door (reward 1 and the end of the episode at success); needs warplab[robotics].",
)
