"""``hand-grasp-lift``: the project's arm with its four-finger hand on the flange grasps the object
in front of it on the table, lifts it and holds it at a goal position drawn in its base frame.

``arm-lift`` (``warplab.tasks.lift``) with the hand in place of the parallel gripper: the same table
and object of a per-world shape, size, mass and friction, the same goal command, lift and
goal-tracking rewards, curriculum and terminations, imported from there. What differs:

- actions: the seven arm joints as ``arm-lift``'s (``home + 0.5 * action`` rad), then the hand's 16
  joints as the reorientation task drives them (``HomeCenteredPositionAction``: ``home + scale *
  action``, the scale reaching each joint's whole range): 23 values;
- reaching is measured from the grasp centre (the mean of the palm's centre and the four
  fingertips), and a grasp reward pays while the thumb and a finger touch the object
  (``hand_grasp.mdp``);
- the objects are a little larger than ``arm-lift``'s (``HAND_OBJECT_SIZE_RANGES``), sized for the
  hand's span rather than the gripper's 8 cm stroke;
- observations add the fingertips' positions in the base frame (and, for the critic, the touch
  sensors).

``docs/tasks/manipulation.md`` has the tables of terms and weights.
"""

from __future__ import annotations

import functools

import mujoco

from warplab.assets.robots.arm import ARM_JOINT_NAMES, HAND_PREFIX, TABLE_HEIGHT, TIMESTEP
from warplab.assets.robots.hand import HAND_JOINT_NAMES, TIP_SITES, TOUCH_SENSORS
from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    CommandTermCfg,
    CurriculumTermCfg,
    EventTermCfg,
    NoiseCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.sim.simulation import SimCfg
from warplab.tasks.arm_common import arm_actions_cfg
from warplab.tasks.hand_grasp import mdp as grasp_mdp
from warplab.tasks.lift import mdp as lift_mdp
from warplab.tasks.lift.env_cfg import (
    BASE,
    DECIMATION,
    DROP_HEIGHT_M,
    EPISODE_LENGTH_S,
    GOAL,
    GOAL_RANGES,
    JOINT_RESET_NOISE_RAD,
    LIFT_CLEARANCE_M,
    OBJECT,
    OBJECT_POS,
    OBJECT_POS_RANGE,
    OBJECT_SHAPES,
    LiftRandomizationCfg,
    Range,
    lift_scene,
)
from warplab.tasks.reorient.mdp import HomeCenteredPositionAction

HAND_JOINTS = tuple(HAND_PREFIX + name for name in HAND_JOINT_NAMES)
"""The hand's 16 joints (and actuators) on the arm, in the hand's action order."""
HAND_TIP_SITES = tuple(HAND_PREFIX + name for name in TIP_SITES)
"""Fingertip sites: index, middle, ring, thumb."""
HAND_TOUCH_SENSORS = tuple(HAND_PREFIX + name for name in TOUCH_SENSORS)
"""Touch sensors on the distal links, N: index, middle, ring, thumb."""
PALM_SITE = HAND_PREFIX + "palm_center"
GRASP_SITES = (PALM_SITE, *HAND_TIP_SITES)
"""The sites whose mean is the grasp centre."""
HAND_OBJECT_SIZE_RANGES: dict[str, tuple[Range, ...]] = {
    # A 5-6 cm box, a 5-7 cm ball, an upright can 5-7 cm across and 6-10 cm tall, a capsule 5-6 cm
    # across and 8-12 cm tall: within the hand's span, small enough for the thumb to oppose a finger.
    "box": ((0.025, 0.03),) * 3,
    "sphere": ((0.025, 0.035),),
    "cylinder": ((0.025, 0.035), (0.03, 0.05)),
    "capsule": ((0.025, 0.03), (0.015, 0.03)),
}
"""MuJoCo sizes per shape, (low, high) m per dimension (radius, half length for the round ones)."""
GRASP_MIN_FORCE_N = 0.5
"""A fingertip touches when its touch sensor reads more than this, N."""
GRASP_MAX_DISTANCE_M = 0.08
"""The grasp reward needs the object's origin within this of the grasp centre, m: a 7 cm ball held
at the fingertips is about 5 cm from it."""
# Contact capacity, measured per world after each policy step (CPU, 2026-12, 8 worlds, every shape):
# 150 steps of uniform random actions, the second half three times as large and pushed down towards
# the table, used at most 14 contacts and 70 constraint rows; the scripted grasp and lift of
# tests/tasks/test_hand_grasp_lift.py 13 and 65. The hand has some 20 colliding shapes (five per finger
# and the palm) where the gripper has four, so a hand pressed flat on the table, which no run above
# did, can hold far more: these are 4.5 and 4.1 times what was seen.
NCONMAX = 64
NJMAX = 288


def hand_lift_scene(object_shapes: tuple[str, ...] = OBJECT_SHAPES) -> mujoco.MjSpec:
    """``lift_scene`` with the hand on the arm and ``HAND_OBJECT_SIZE_RANGES``."""
    return lift_scene(object_shapes, HAND_OBJECT_SIZE_RANGES, hand=True, model_name="warplab_hand_grasp_lift")


def make_hand_grasp_lift_env_cfg(
    play: bool = False, randomization: LiftRandomizationCfg | None = None
) -> RlEnvCfg:
    """The grasp-and-lift task for the arm with the hand.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``LiftRandomizationCfg()``, every term on); its
        ``kp`` and ``kd`` apply to the arm's servos.
    """
    dr = randomization or LiftRandomizationCfg()
    arm = list(ARM_JOINT_NAMES)
    joints = [*arm, *HAND_JOINTS]
    obj = {"object": OBJECT, "frame_body": BASE}
    lifted = {"object": OBJECT, "surface_height": TABLE_HEIGHT, "min_clearance": LIFT_CLEARANCE_M}
    noise_factor = 0.0 if play else (dr.observation_noise or 0.0)

    def noise(scale: float) -> NoiseCfg | None:
        return NoiseCfg("uniform", scale * noise_factor) if noise_factor > 0 else None

    def measured(noisy: bool) -> dict[str, ObservationTermCfg]:
        n = noise if noisy else (lambda scale: None)
        terms = {
            "joint_pos": ObservationTermCfg(func=mdp.joint_pos_rel, params={"joints": joints}, noise=n(0.01)),
            "joint_vel": ObservationTermCfg(
                func=mdp.joint_vel, params={"joints": joints}, noise=n(0.5), scale=0.1
            ),
            "object_pos": ObservationTermCfg(func=mdp.object_pos_in_frame, params=obj, noise=n(0.005)),
            "object_quat": ObservationTermCfg(func=mdp.object_quat_in_frame, params=obj, noise=n(0.02)),
            "goal_pos": ObservationTermCfg(func=mdp.generated_commands, params={"command_name": GOAL}),
            # The fingertips from the joint encoders through the arm's and hand's kinematics.
            "fingertip_pos": ObservationTermCfg(
                func=mdp.fingertip_positions,
                params={"sites": list(HAND_TIP_SITES), "frame_body": BASE},
                noise=n(0.005),
            ),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }
        if dr.object_shape:
            terms["object_shape"] = ObservationTermCfg(
                func=mdp.object_shape_onehot, params={"object": OBJECT}
            )
        return terms

    critic = measured(False)
    critic["object_lin_vel"] = ObservationTermCfg(func=mdp.object_lin_vel_in_frame, params=obj)
    critic["object_ang_vel"] = ObservationTermCfg(func=mdp.object_ang_vel_in_frame, params=obj, scale=0.1)
    critic["touch"] = ObservationTermCfg(
        func=mdp.touch_sensors, params={"sensors": list(HAND_TOUCH_SENSORS)}, scale=0.1
    )
    critic["clearance"] = ObservationTermCfg(
        func=lift_mdp.object_clearance, params={"object": OBJECT, "surface_height": TABLE_HEIGHT}
    )

    goal = {"command_name": GOAL, **lifted}
    rewards = {
        "reaching_object": RewardTermCfg(
            func=grasp_mdp.grasp_centre_object_distance_tanh,
            weight=1.0,
            params={"object": OBJECT, "sites": list(GRASP_SITES), "std": 0.1},
        ),
        "grasping_object": RewardTermCfg(
            func=grasp_mdp.fingertip_grasp,
            weight=2.0,
            params={
                "object": OBJECT,
                "sites": list(GRASP_SITES),
                "thumb_sensor": HAND_TOUCH_SENSORS[-1],
                "finger_sensors": list(HAND_TOUCH_SENSORS[:-1]),
                "min_force_n": GRASP_MIN_FORCE_N,
                "max_distance": GRASP_MAX_DISTANCE_M,
            },
        ),
        "lifting_object": RewardTermCfg(func=lift_mdp.object_lifted, weight=15.0, params=lifted),
        "object_goal_tracking": RewardTermCfg(
            func=lift_mdp.object_goal_distance_tanh, weight=16.0, params={**goal, "std": 0.3}
        ),
        "object_goal_tracking_fine_grained": RewardTermCfg(
            func=lift_mdp.object_goal_distance_tanh, weight=5.0, params={**goal, "std": 0.05}
        ),
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-1e-4),
        "joint_vel": RewardTermCfg(func=mdp.joint_vel_l2, weight=-1e-4, params={"joints": joints}),
    }
    terminations = {
        "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
        "object_dropping": TerminationTermCfg(
            func=mdp.object_dropped, params={"object": OBJECT, "min_height": DROP_HEIGHT_M}
        ),
    }

    events: dict[str, EventTermCfg] = {}
    # Startup draws that need set_const: the mass before the shape (which keeps the drawn mass).
    if dr.friction is not None:
        events["friction"] = EventTermCfg(
            func=mdp.randomize_friction, mode="startup", params={"ranges": dr.friction}
        )
    if dr.object_mass is not None:
        events["object_mass"] = EventTermCfg(
            func=mdp.randomize_mass, mode="startup", params={"ranges": dr.object_mass, "bodies": OBJECT}
        )
    if dr.object_shape:
        events["object_shape"] = EventTermCfg(
            func=mdp.randomize_object_shape, mode="startup", params={"object": OBJECT}
        )
    events["reset_robot"] = EventTermCfg(
        func=mdp.reset_joints_by_offset,
        mode="reset",
        params={"position_range": (-JOINT_RESET_NOISE_RAD, JOINT_RESET_NOISE_RAD), "joints": joints},
    )
    events["reset_object"] = EventTermCfg(
        func=mdp.reset_object_pose,
        mode="reset",
        params={
            "object": OBJECT,
            "frame_body": BASE,
            "position": (*OBJECT_POS, 0.0),
            "position_range": OBJECT_POS_RANGE,
            "rotation": "z",
            "on_surface": True,
        },
    )
    if dr.kp is not None or dr.kd is not None:
        events["pd_gains"] = EventTermCfg(
            func=mdp.randomize_pd_gains,
            mode="reset",
            params={"kp_range": dr.kp or (1.0, 1.0), "kd_range": dr.kd or (1.0, 1.0), "actuators": arm},
        )

    return RlEnvCfg(
        scene=hand_lift_scene if dr.object_shape else functools.partial(hand_lift_scene, OBJECT_SHAPES[:1]),
        init_keyframe="home",
        timestep=TIMESTEP,
        decimation=DECIMATION,
        episode_length_s=EPISODE_LENGTH_S,
        scale_rewards_by_dt=True,
        observations={
            "policy": ObservationGroupCfg(terms=measured(not play), enable_corruption=not play),
            "critic": ObservationGroupCfg(terms=critic),
        },
        actions={
            "arm": arm_actions_cfg()["arm"],
            "hand": ActionTermCfg(func=HomeCenteredPositionAction, params={"actuators": list(HAND_JOINTS)}),
        },
        commands={
            GOAL: CommandTermCfg(
                # Success (Command/object_pose/success): the object's origin within 5 cm of the goal
                # for 10 policy steps in a row; it ends nothing and rewards nothing.
                func=lift_mdp.HeldGoalCommand,
                params={
                    **GOAL_RANGES,
                    "frame_body": BASE,
                    "object": OBJECT,
                    "criterion": "distance",
                    "tolerance": lift_mdp.SUCCESS_RADIUS_M,
                    "success_steps": lift_mdp.SUCCESS_HOLD_STEPS,
                },
                resampling_time_range_s=(EPISODE_LENGTH_S, EPISODE_LENGTH_S),
            )
        },
        rewards=rewards,
        terminations=terminations,
        curriculum={
            "penalties": CurriculumTermCfg(
                func=lift_mdp.RewardWeightStep,
                params={"rewards": ["action_rate", "joint_vel"], "num_steps": 10_000, "factor": 1000.0},
            )
        },
        events=events,
        sim=SimCfg(nconmax=NCONMAX, njmax=NJMAX),
        viewer=ViewerCfg(track_body=BASE, distance=1.6, elevation=-25.0, azimuth=150.0),
        # The reach and grasp rewards and the fingertip observations read sites that a forward pass
        # derives from qpos, and the critic reads touch sensors (contact forces): a reset world's
        # first observation needs them all recomputed.
        reset_forward="full",
    )
