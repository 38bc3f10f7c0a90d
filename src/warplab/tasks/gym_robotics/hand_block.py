"""``HandManipulateBlockRotateXYZ-v1``: Gymnasium-Robotics' Shadow hand block task on warplab.

The package's own model (``hand/manipulate_block.xml``, loaded from the installed package), and
its semantics with the arguments it registers the task with (``target_position="ignore"``,
``target_rotation="xyz"``, sparse reward, ``max_episode_steps=100``):

- control: 20 absolute position targets, action in [-1, 1] mapped onto each actuator's ctrlrange;
  20 physics steps of 2 ms per policy step (``n_substeps``), 40 ms;
- observation: one ``policy`` group of 75 values, the package's dict in its order:
  ``observation`` (61: the 24 hand joint positions and velocities, the block's qvel, the block's
  qpos), ``achieved_goal`` (7: the block's qpos again) and ``desired_goal`` (7: the goal pose);
- goal: drawn at each reset (angle uniform in [-pi, pi], axis uniform in [-1, 1]^3; position the
  block's, ignored), never again within the episode;
- reward: sparse, -1 until the block is within 0.1 rad of the goal orientation, 0 there (the
  ``Dense`` variant: minus that angle); success: within 0.1 rad;
- episodes: never terminated, truncated after 100 steps (4 s); the start states are the
  package's (see ``mdp.SettledStartStates``).
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
from warplab.tasks.gym_robotics import mdp as hand_mdp
from warplab.tasks.gym_robotics.assets import hand_block_spec

N_SUBSTEPS = 20
"""Physics steps of 2 ms per policy step, the package's ``n_substeps``."""
MAX_EPISODE_STEPS = 100
"""``max_episode_steps`` the package registers ``HandManipulateBlockRotateXYZ-v1`` with (its docstring
says 50, its registration 100: the registration is what ``gymnasium.make`` uses)."""
ROTATION_THRESHOLD = 0.1
"""Success: the block within this angle of the goal orientation, rad."""
OBJECT_JOINT = "object:joint"
ROBOT_JOINTS = "robot0:.*"
"""The joints the package observes: every joint whose name starts with ``robot``, in model order."""


def make_hand_block_rotate_xyz_env_cfg(
    play: bool = False, reward_type: Literal["sparse", "dense"] = "sparse"
) -> RlEnvCfg:
    """Gymnasium-Robotics' ``HandManipulateBlockRotateXYZ-v1`` (``reward_type="dense"``: the
    ``HandManipulateBlockRotateXYZDense-v1`` variant). ``play``: one round of settled starts."""
    goal = {"command": "goal", "object_joint": OBJECT_JOINT}
    success = {**goal, "rotation_threshold": ROTATION_THRESHOLD}
    obs_terms = {
        # The package's ``observation``: robot_get_obs (joints named robot*), the block's qvel, qpos.
        "robot_qpos": ObservationTermCfg(func=hand_mdp.joint_qpos, params={"joints": ROBOT_JOINTS}),
        "robot_qvel": ObservationTermCfg(func=hand_mdp.joint_qvel, params={"joints": ROBOT_JOINTS}),
        "object_qvel": ObservationTermCfg(func=hand_mdp.free_joint_qvel, params={"joint": OBJECT_JOINT}),
        "object_qpos": ObservationTermCfg(func=hand_mdp.free_joint_qpos, params={"joint": OBJECT_JOINT}),
        "achieved_goal": ObservationTermCfg(func=hand_mdp.free_joint_qpos, params={"joint": OBJECT_JOINT}),
        "desired_goal": ObservationTermCfg(func=hand_mdp.goal_pose, params={"command": "goal"}),
    }
    if reward_type == "sparse":
        rewards = {"goal": RewardTermCfg(func=hand_mdp.sparse_goal_reward, weight=1.0, params=success)}
    elif reward_type == "dense":
        # -(10 * d_pos + d_rot) with the position ignored (d_pos = 0): minus the angle to the goal.
        rewards = {"goal": RewardTermCfg(func=hand_mdp.goal_rotation_distance, weight=-1.0, params=goal)}
    else:
        raise ValueError(f"reward_type must be 'sparse' or 'dense', got {reward_type!r}")
    return RlEnvCfg(
        scene=hand_block_spec,
        decimation=N_SUBSTEPS,
        episode_length_s=MAX_EPISODE_STEPS * N_SUBSTEPS * 0.002,
        scale_rewards_by_dt=False,
        # Nothing read after a reset derives from qpos and qvel by a forward pass (the observations,
        # the goal and success read qpos, qvel and the goal): the env checks it when built.
        reset_forward="none",
        observations={"policy": ObservationGroupCfg(terms=obs_terms)},
        actions={"joint_targets": ActionTermCfg(func=hand_mdp.CtrlRangePositionAction)},
        commands={
            # Drawn at resets only: the timer (1e9 s) outlasts any episode.
            "goal": CommandTermCfg(
                func=hand_mdp.BlockGoal,
                params={"object_joint": OBJECT_JOINT},
                resampling_time_range_s=(1e9, 1e9),
            )
        },
        rewards=rewards,
        terminations={
            "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
            "success": TerminationTermCfg(func=hand_mdp.success_at_time_out, time_out=True, params=success),
        },
        events={
            "settled_start": EventTermCfg(
                func=hand_mdp.SettledStartStates,
                mode="reset",
                params={
                    "object_joint": OBJECT_JOINT,
                    "rounds": 1 if play else 4,
                    "settle_substeps": 10 * N_SUBSTEPS,
                    "position_std": 0.005,
                    "on_palm_height": 0.04,
                },
            )
        },
        viewer=ViewerCfg(track_body="robot0:palm", distance=0.5, elevation=-25.0, azimuth=55.0),
    )


def make_hand_block_rotate_xyz_dense_env_cfg(play: bool = False) -> RlEnvCfg:
    """``HandManipulateBlockRotateXYZDense-v1``: the same task with the dense reward."""
    return make_hand_block_rotate_xyz_env_cfg(play, reward_type="dense")
