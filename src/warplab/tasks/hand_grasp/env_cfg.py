"""``hand-grasp-lift``: the project's arm with its four-finger hand on the flange grasps the object
in front of it on the table, lifts it and holds it at a goal position drawn in its base frame.

``arm-lift`` (``warplab.tasks.lift``) with the hand in place of the parallel gripper: the same table
and object of a per-world shape, size, mass and friction, the same goal command, lift and
goal-tracking rewards, curriculum and terminations: ``make_arm_lift_env_cfg``'s config, edited here as
a copy. What differs:

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

import dataclasses
import functools
from typing import TypeVar

import mujoco

from warplab.assets.robots.arm import HAND_PREFIX
from warplab.assets.robots.hand import HAND_JOINT_NAMES, TIP_SITES, TOUCH_SENSORS
from warplab.envs import mdp
from warplab.envs.config import ActionTermCfg, NoiseCfg, ObservationTermCfg, RewardTermCfg, RlEnvCfg
from warplab.tasks.hand_grasp import mdp as grasp_mdp
from warplab.tasks.lift.env_cfg import (
    BASE,
    OBJECT,
    OBJECT_SHAPES,
    LiftRandomizationCfg,
    Range,
    lift_scene,
    make_arm_lift_env_cfg,
)
from warplab.tasks.reorient.mdp import HomeCenteredPositionAction

T = TypeVar("T")

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
    cfg = make_arm_lift_env_cfg(play=play, randomization=dr)
    arm = cfg.actions["arm"].params["actuators"]
    joints = [*arm, *HAND_JOINTS]
    cfg.scene = hand_lift_scene if dr.object_shape else functools.partial(hand_lift_scene, OBJECT_SHAPES[:1])
    cfg.actions = {
        "arm": cfg.actions["arm"],
        "hand": ActionTermCfg(func=HomeCenteredPositionAction, params={"actuators": list(HAND_JOINTS)}),
    }
    cfg.sim = dataclasses.replace(cfg.sim, nconmax=NCONMAX, njmax=NJMAX)
    # The reach and grasp rewards and the fingertip observations read sites that a forward pass
    # derives from qpos, and the critic reads touch sensors (contact forces): a reset world's first
    # observation needs them all recomputed.
    cfg.reset_forward = "full"

    noise_factor = 0.0 if play else (dr.observation_noise or 0.0)
    policy, critic = cfg.observations["policy"], cfg.observations["critic"]
    for group in (policy, critic):
        for name in ("joint_pos", "joint_vel"):
            group.terms[name].params = {"joints": joints}

    def fingertips(noisy: bool) -> ObservationTermCfg:
        # The fingertips from the joint encoders through the arm's and hand's kinematics.
        scale = 0.005 * noise_factor
        return ObservationTermCfg(
            func=mdp.fingertip_positions,
            params={"sites": list(HAND_TIP_SITES), "frame_body": BASE},
            noise=NoiseCfg("uniform", scale) if noisy and scale > 0 else None,
        )

    # The hand's fingertips follow the goal in both groups; the touch sensors take the critic's place of
    # the gripper's fingertips.
    policy.terms = _insert_after(policy.terms, "goal_pos", {"fingertip_pos": fingertips(not play)})
    touch = ObservationTermCfg(
        func=mdp.touch_sensors, params={"sensors": list(HAND_TOUCH_SENSORS)}, scale=0.1
    )
    critic.terms = _replace(critic.terms, "fingertip_pos", "touch", touch)
    critic.terms = _insert_after(critic.terms, "goal_pos", {"fingertip_pos": fingertips(False)})

    cfg.rewards["reaching_object"] = RewardTermCfg(
        func=grasp_mdp.grasp_centre_object_distance_tanh,
        weight=1.0,
        params={"object": OBJECT, "sites": list(GRASP_SITES), "std": 0.1},
    )
    grasping = RewardTermCfg(
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
    )
    cfg.rewards = _insert_after(cfg.rewards, "reaching_object", {"grasping_object": grasping})
    cfg.rewards["joint_vel"].params = {"joints": joints}

    # The hand's joints reset around home with the arm's: the event is the robot's, not the arm's.
    reset_arm = cfg.events["reset_arm"]
    reset_robot = dataclasses.replace(reset_arm, params={**reset_arm.params, "joints": joints})
    cfg.events = _replace(cfg.events, "reset_arm", "reset_robot", reset_robot)
    return cfg


def _insert_after(terms: dict[str, T], key: str, new: dict[str, T]) -> dict[str, T]:
    """A copy of ``terms`` with ``new`` right after ``key``: a group's terms are concatenated, and the
    reward terms logged, in their dict's order."""
    if key not in terms:
        raise KeyError(f"no term {key!r} to insert after; there are {sorted(terms)}")
    out: dict[str, T] = {}
    for name, term in terms.items():
        out[name] = term
        if name == key:
            out.update(new)
    return out


def _replace(terms: dict[str, T], key: str, name: str, term: T) -> dict[str, T]:
    """A copy of ``terms`` with ``key``'s entry replaced by ``name: term`` in its place."""
    if key not in terms:
        raise KeyError(f"no term {key!r} to replace; there are {sorted(terms)}")
    return {(name if k == key else k): (term if k == key else v) for k, v in terms.items()}
