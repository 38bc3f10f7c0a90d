"""``AdroitHandDoor-v1`` and ``AdroitHandRelocate-v1``: Gymnasium-Robotics' Adroit tasks on warplab.

The package's own scenes (``adroit_hand/adroit_door.xml``, ``adroit_relocate.xml``, loaded from the
installed package with the actuator gains its envs set, ``assets.adroit_spec``) and the semantics
of gymnasium-robotics 1.4.2 with the arguments it registers the tasks with (``reward_type="dense"``
for ``...-v1``, ``"sparse"`` for ``...Sparse-v1``; ``max_episode_steps=200``):

- control: one absolute position target per actuator (28 for the door, 30 for relocation), the
  action clipped to [-1, 1] and mapped linearly onto each actuator's ``ctrlrange``
  (``ctrl = mean + action * half_range``); 5 physics steps of 2 ms per policy step
  (``frame_skip``), 10 ms;
- observations: one ``policy`` group of 39 values in the package's order (see the factories);
- rewards: the package's, per step, unscaled (the dense rewards as gymnasium-robotics 1.2.1 and
  later compute them: the package warns that they changed in 1.2.1 without a version change, and
  in 1.4.2 the "get to the handle / ball" term is ``+0.1`` times the palm's distance, a bonus for
  being far, where its docstring and D4RL say a penalty);
- episodes: never terminated, truncated after 200 steps (2 s); each reset puts every joint at 0
  at rest and draws the door's or the ball's and target's place (model fields, per world).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import mujoco

from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.tasks.gym_robotics import adroit_mdp
from warplab.tasks.gym_robotics import mdp as hand_mdp
from warplab.tasks.gym_robotics.assets import adroit_door_spec, adroit_relocate_spec

FRAME_SKIP = 5
"""Physics steps of 2 ms per policy step, the package's ``frame_skip``."""
MAX_EPISODE_STEPS = 200
"""``max_episode_steps`` the package registers its Adroit tasks with (its docstrings say 50 and 200;
the registration is what ``gymnasium.make`` uses)."""
PALM = "S_grasp"
"""The palm's site."""
DOOR_HINGE = "door_hinge"
DOOR_SUCCESS_ANGLE = 1.35
"""Success: the door's hinge at this angle or more, rad."""
HANDLE = "S_handle"
BALL = "body:Object"
"""The ball: its body's origin, which is where the package measures it."""
TARGET = "target"
"""The relocation target's site."""
BALL_SUCCESS_DISTANCE = 0.1
"""Success: the ball closer than this to the target, m."""
BALL_LIFTED_HEIGHT = 0.04
"""The ball counts as off the table above this height, m."""


def _common(
    scene: Callable[[], mujoco.MjSpec],
    obs_terms: dict[str, ObservationTermCfg],
    rewards: dict[str, RewardTermCfg],
    success: dict[str, Any],
) -> dict[str, Any]:
    """The settings both tasks share, as keyword arguments of ``RlEnvCfg``."""
    return dict(
        scene=scene,
        decimation=FRAME_SKIP,
        episode_length_s=MAX_EPISODE_STEPS * FRAME_SKIP * 0.002,
        scale_rewards_by_dt=False,
        observations={"policy": ObservationGroupCfg(terms=obs_terms)},
        actions={"joint_targets": ActionTermCfg(func=hand_mdp.CtrlRangePositionAction)},
        rewards=rewards,
        terminations={
            "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
            "success": TerminationTermCfg(func=adroit_mdp.success_at_time_out, time_out=True, params=success),
        },
    )


def make_adroit_door_env_cfg(
    play: bool = False, reward_type: Literal["dense", "sparse"] = "dense"
) -> RlEnvCfg:
    """Gymnasium-Robotics' ``AdroitHandDoor-v1`` (``reward_type="sparse"``: ``AdroitHandDoorSparse-v1``).

    Observation (39): ``qpos[1:-2]`` (27: the arm's three hinges and the 24 hand joints, the arm's
    slide left out), the latch's angle, the hinge's angle, the palm's position, the handle's, the
    palm minus the handle (m, world) and ``door_open`` (1 past 1 rad, else -1). Dense reward:
    ``0.1 |palm - handle| - 0.1 (hinge - 1.57)² - 1e-5 |qvel|²`` plus 2, 8 and 10 past 0.2, 1.0 and
    1.35 rad; sparse: 10 at success, else -0.1. Success: the hinge at 1.35 rad or more. At each
    reset the door's frame is placed uniformly in x [-0.3, -0.2], y [0.25, 0.35], z [0.252,
    0.35] m. ``play`` changes nothing (the task has no training-only settings)."""
    del play
    hinge = {"joint": DOOR_HINGE}
    obs_terms = {
        "qpos": ObservationTermCfg(func=adroit_mdp.qpos_columns, params={"start": 1, "stop": -2}),
        "latch": ObservationTermCfg(func=adroit_mdp.joint_pos_column, params={"joint": "latch"}),
        "door_hinge": ObservationTermCfg(func=adroit_mdp.joint_pos_column, params=hinge),
        "palm_pos": ObservationTermCfg(func=adroit_mdp.point_pos, params={"point": PALM}),
        "handle_pos": ObservationTermCfg(func=adroit_mdp.point_pos, params={"point": HANDLE}),
        "palm_to_handle": ObservationTermCfg(func=adroit_mdp.point_offset, params={"a": PALM, "b": HANDLE}),
        "door_open": ObservationTermCfg(func=adroit_mdp.joint_above_sign, params={**hinge, "threshold": 1.0}),
    }
    success = {"success": "joint_at_least", **hinge, "threshold": DOOR_SUCCESS_ANGLE}
    if reward_type == "dense":
        rewards = {
            # +0.1, as gymnasium-robotics 1.4.2 computes it (module docstring).
            "palm_handle_distance": RewardTermCfg(
                func=adroit_mdp.point_distance, weight=0.1, params={"a": PALM, "b": HANDLE}
            ),
            "open_door": RewardTermCfg(
                func=adroit_mdp.joint_error_sq, weight=-0.1, params={**hinge, "target": 1.57}
            ),
            "velocity": RewardTermCfg(func=adroit_mdp.qvel_sq_sum, weight=-1e-5),
            "opening_bonus": RewardTermCfg(
                func=adroit_mdp.joint_past_bonus,
                params={**hinge, "bonuses": ((0.2, 2.0), (1.0, 8.0), (DOOR_SUCCESS_ANGLE, 10.0))},
            ),
        }
    elif reward_type == "sparse":
        rewards = {
            "success": RewardTermCfg(
                func=adroit_mdp.joint_success_reward, params={**hinge, "threshold": DOOR_SUCCESS_ANGLE}
            )
        }
    else:
        raise ValueError(f"reward_type must be 'dense' or 'sparse', got {reward_type!r}")
    return RlEnvCfg(
        **_common(adroit_door_spec, obs_terms, rewards, success),
        events={
            "door_place": EventTermCfg(
                func=adroit_mdp.place_body_uniform,
                mode="reset",
                params={
                    "body": "frame",
                    "ranges": {"x": (-0.3, -0.2), "y": (0.25, 0.35), "z": (0.252, 0.35)},
                },
            )
        },
        viewer=ViewerCfg(track_body=None, distance=1.5, elevation=-20.0, azimuth=90.0),
    )


def make_adroit_door_sparse_env_cfg(play: bool = False) -> RlEnvCfg:
    """``AdroitHandDoorSparse-v1``: the door with the sparse reward."""
    return make_adroit_door_env_cfg(play, reward_type="sparse")


def make_adroit_relocate_env_cfg(
    play: bool = False, reward_type: Literal["dense", "sparse"] = "dense"
) -> RlEnvCfg:
    """Gymnasium-Robotics' ``AdroitHandRelocate-v1`` (``"sparse"``: ``AdroitHandRelocateSparse-v1``).

    Observation (39): ``qpos[:-6]`` (30: the arm's three slides and three hinges, the 24 hand
    joints), the palm minus the ball, the palm minus the target, the ball minus the target (m,
    world). Dense reward: ``0.1 |palm - ball|``; with the ball above 0.04 m, ``+1 - 0.5 |palm -
    target| - 0.5 |ball - target|``; plus 10 and 20 with the ball within 0.1 and 0.05 m of the
    target; sparse: 10 at success, else -0.1. Success: the ball within 0.1 m of the target. At
    each reset the ball is placed uniformly in x [-0.15, 0.15], y [-0.15, 0.3] m on the table and
    the target in x, y [-0.2, 0.2], z [0.15, 0.35] m. ``play`` changes nothing."""
    del play
    obs_terms = {
        "qpos": ObservationTermCfg(func=adroit_mdp.qpos_columns, params={"start": 0, "stop": -6}),
        "palm_to_ball": ObservationTermCfg(func=adroit_mdp.point_offset, params={"a": PALM, "b": BALL}),
        "palm_to_target": ObservationTermCfg(func=adroit_mdp.point_offset, params={"a": PALM, "b": TARGET}),
        "ball_to_target": ObservationTermCfg(func=adroit_mdp.point_offset, params={"a": BALL, "b": TARGET}),
    }
    near = {"a": BALL, "b": TARGET}
    success = {"success": "points_within", **near, "distance": BALL_SUCCESS_DISTANCE}
    lifted = {"body": "Object", "height": BALL_LIFTED_HEIGHT}
    if reward_type == "dense":
        rewards = {
            # +0.1, as gymnasium-robotics 1.4.2 computes it (module docstring).
            "palm_ball_distance": RewardTermCfg(
                func=adroit_mdp.point_distance, weight=0.1, params={"a": PALM, "b": BALL}
            ),
            "lifted": RewardTermCfg(func=adroit_mdp.body_lifted, params=lifted),
            "palm_target_distance": RewardTermCfg(
                func=adroit_mdp.distance_while_lifted, weight=-0.5, params={"a": PALM, "b": TARGET, **lifted}
            ),
            "ball_target_distance": RewardTermCfg(
                func=adroit_mdp.distance_while_lifted, weight=-0.5, params={**near, **lifted}
            ),
            "near_target_bonus": RewardTermCfg(
                func=adroit_mdp.points_near_bonus, params={**near, "bonuses": ((0.1, 10.0), (0.05, 20.0))}
            ),
        }
    elif reward_type == "sparse":
        rewards = {
            "success": RewardTermCfg(
                func=adroit_mdp.points_success_reward, params={**near, "distance": BALL_SUCCESS_DISTANCE}
            )
        }
    else:
        raise ValueError(f"reward_type must be 'dense' or 'sparse', got {reward_type!r}")
    return RlEnvCfg(
        **_common(adroit_relocate_spec, obs_terms, rewards, success),
        events={
            "ball_place": EventTermCfg(
                func=adroit_mdp.place_body_uniform,
                mode="reset",
                params={"body": "Object", "ranges": {"x": (-0.15, 0.15), "y": (-0.15, 0.3)}},
            ),
            "target_place": EventTermCfg(
                func=adroit_mdp.place_site_uniform,
                mode="reset",
                params={"site": TARGET, "ranges": {"x": (-0.2, 0.2), "y": (-0.2, 0.2), "z": (0.15, 0.35)}},
            ),
        },
        viewer=ViewerCfg(track_body=None, distance=1.5, elevation=-20.0, azimuth=90.0),
    )


def make_adroit_relocate_sparse_env_cfg(play: bool = False) -> RlEnvCfg:
    """``AdroitHandRelocateSparse-v1``: relocation with the sparse reward."""
    return make_adroit_relocate_env_cfg(play, reward_type="sparse")
