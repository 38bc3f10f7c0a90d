"""``FetchPickAndPlace-v4``: Gymnasium-Robotics' Fetch pick-and-place task on warplab.

The package's own model (``fetch/pick_and_place.xml``, loaded from the installed package, with the
mocap weld as its envs set it), and its semantics with the arguments it registers the task with
(``pick_and_place.py``: sparse reward, ``max_episode_steps=50``):

- control: 4 actions in [-1, 1]: the gripper moved by up to 5 cm a step along x, y, z (a mocap body
  welded to it) and the fingers' servo targets set to their positions plus the fourth action (m);
  20 physics steps of 2 ms per policy step (``n_substeps``), 40 ms;
- observation: one ``policy`` group of 31 values, the package's dict in its order: ``observation``
  (25: grip position, block position, block minus grip, the two finger positions, the block's Euler
  angles, block minus grip linear velocity, block angular velocity, grip velocity, finger
  velocities, each velocity times the 40 ms step), ``achieved_goal`` (3: the block's position) and
  ``desired_goal`` (3);
- goal: drawn at each reset around the start's grip position (``target_range`` 0.15 m), at the
  table's height, lifted by up to 0.45 m in half of the draws; never again within the episode;
- reward: sparse, -1 until the block is within 5 cm of the goal, 0 there (the ``Dense`` variant:
  minus the distance, m); success: within 5 cm;
- episodes: never terminated, truncated after 50 steps (2 s); each starts from the state the
  package's setup settles to (``fetch_mdp.fetch_start``), the block placed within 0.15 m of the
  grip but not within 0.1 m.
"""

from __future__ import annotations

from typing import Literal

from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    CommandTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.tasks.gym_robotics import fetch_mdp
from warplab.tasks.gym_robotics import mdp as hand_mdp
from warplab.tasks.gym_robotics.assets import fetch_pick_and_place_spec

N_SUBSTEPS = 20
"""Physics steps of 2 ms per policy step, the package's ``n_substeps``."""
MAX_EPISODE_STEPS = 50
"""``max_episode_steps`` the package registers ``FetchPickAndPlace-v4`` with."""
DISTANCE_THRESHOLD = 0.05
"""Success: the block within this distance of the goal, m."""
GRIP_SITE, OBJECT_SITE, OBJECT_JOINT = "robot0:grip", "object0", "object0:joint"
FINGER_JOINTS = "robot0:(r|l)_gripper_finger_joint"
"""The last two of the package's ``robot*`` joints, in model order: right finger, then left."""
PICK_AND_PLACE_START = {
    "initial_qpos": {
        "robot0:slide0": [0.405],
        "robot0:slide1": [0.48],
        "robot0:slide2": [0.0],
        "object0:joint": [1.25, 0.53, 0.4, 1.0, 0.0, 0.0, 0.0],
    },
    "gripper_extra_height": 0.2,
    "settle_steps": 10,
    "substeps": N_SUBSTEPS,
}
"""The package's ``initial_qpos`` and ``gripper_extra_height`` for pick-and-place, and its setup's
10 steps of ``n_substeps`` (``fetch_mdp.fetch_start``)."""


def make_fetch_pick_and_place_env_cfg(
    play: bool = False, reward_type: Literal["sparse", "dense"] = "sparse"
) -> RlEnvCfg:
    """Gymnasium-Robotics' ``FetchPickAndPlace-v4`` (``reward_type="dense"``: the
    ``FetchPickAndPlaceDense-v4`` variant). ``play`` changes nothing: the task has no curriculum."""
    del play
    goal = {"command": "goal", "site": OBJECT_SITE}
    success = {**goal, "distance_threshold": DISTANCE_THRESHOLD}
    site = fetch_mdp.site_pos
    obs_terms = {
        "grip_pos": ObservationTermCfg(func=site, params={"site": GRIP_SITE}),
        "object_pos": ObservationTermCfg(func=site, params={"site": OBJECT_SITE}),
        "object_rel_pos": ObservationTermCfg(
            func=fetch_mdp.site_rel_pos, params={"site": OBJECT_SITE, "origin": GRIP_SITE}
        ),
        "gripper_state": ObservationTermCfg(func=hand_mdp.joint_qpos, params={"joints": FINGER_JOINTS}),
        "object_rot": ObservationTermCfg(func=fetch_mdp.site_euler, params={"site": OBJECT_SITE}),
        "object_velp": ObservationTermCfg(
            func=fetch_mdp.site_lin_vel_per_step, params={"site": OBJECT_SITE, "relative_to": GRIP_SITE}
        ),
        "object_velr": ObservationTermCfg(func=fetch_mdp.site_ang_vel_per_step, params={"site": OBJECT_SITE}),
        "grip_velp": ObservationTermCfg(func=fetch_mdp.site_lin_vel_per_step, params={"site": GRIP_SITE}),
        "gripper_vel": ObservationTermCfg(
            func=fetch_mdp.joint_qvel_per_step, params={"joints": FINGER_JOINTS}
        ),
        "achieved_goal": ObservationTermCfg(func=site, params={"site": OBJECT_SITE}),
        "desired_goal": ObservationTermCfg(func=fetch_mdp.goal_position, params={"command": "goal"}),
    }
    if reward_type == "sparse":
        rewards = {"goal": RewardTermCfg(func=fetch_mdp.sparse_goal_reward, weight=1.0, params=success)}
    elif reward_type == "dense":
        rewards = {"goal": RewardTermCfg(func=fetch_mdp.goal_distance, weight=-1.0, params=goal)}
    else:
        raise ValueError(f"reward_type must be 'sparse' or 'dense', got {reward_type!r}")
    return RlEnvCfg(
        scene=fetch_pick_and_place_spec,
        decimation=N_SUBSTEPS,
        episode_length_s=MAX_EPISODE_STEPS * N_SUBSTEPS * 0.002,
        scale_rewards_by_dt=False,
        # The package runs a forward pass after its reset; the observations read poses and
        # velocities only (no forces or accelerations), which the cheaper pass recomputes.
        reset_forward="positions_velocities",
        observations={"policy": ObservationGroupCfg(terms=obs_terms)},
        actions={"gripper": ActionTermCfg(func=fetch_mdp.MocapDeltaAction)},
        commands={
            # Drawn at resets only: the timer (1e9 s) outlasts any episode.
            "goal": CommandTermCfg(
                func=fetch_mdp.FetchGoal,
                params={
                    "start": PICK_AND_PLACE_START,
                    "target_range": 0.15,
                    "target_offset": 0.0,
                    "target_in_the_air": True,
                },
                resampling_time_range_s=(1e9, 1e9),
            )
        },
        rewards=rewards,
        terminations={
            "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
            "success": TerminationTermCfg(func=fetch_mdp.success_at_time_out, time_out=True, params=success),
        },
        events={
            "start": EventTermCfg(
                func=fetch_mdp.FetchStartStates,
                mode="reset",
                params={"start": PICK_AND_PLACE_START, "object_joint": OBJECT_JOINT, "obj_range": 0.15},
            )
        },
        viewer=ViewerCfg(track_body="robot0:gripper_link", distance=1.5, elevation=-14.0, azimuth=132.0),
    )


def make_fetch_pick_and_place_dense_env_cfg(play: bool = False) -> RlEnvCfg:
    """``FetchPickAndPlaceDense-v4``: the same task with the dense reward (minus the distance, m)."""
    return make_fetch_pick_and_place_env_cfg(play, reward_type="dense")
