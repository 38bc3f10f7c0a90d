"""``arm-pick-up-dropped``: an object is dropped onto the table in front of the project's arm, tumbles
to rest, and the arm must find it (its pose is observed), pick it up and hold it at a goal height.

Built on ``make_arm_lift_env_cfg`` (``arm-lift``), edited here as a copy: the scene (the object's
shape, size, mass and friction drawn per world), the actions, the goal's ranges, the reaching,
lifting and goal-tracking rewards and the drop-off-the-table termination are arm-lift's. What differs:

- reset (``drop_object``): the object's lowest point ``DROP_HEIGHT_RANGE`` = 0.1-0.5 m over the table
  top, over arm-lift's start area (x 0.4-0.6, y -0.25-0.25 m of the base frame), in an orientation
  uniform over all rotations, with a velocity uniform in ``DROP_VELOCITY_RANGE`` (up to 0.3 m/s across,
  3 rad/s about each axis): it falls for up to 0.32 s, bounces, rolls, and rests within about 1 s,
  so the policy's first steps see it falling;
- the object rolls on the table against ``ROLLING_FRICTION`` (condim 6): without rolling resistance a
  sphere or a cylinder on its side, once rolling, would roll on to the table's edge;
- the floor: the arm cannot reach it. The table (1.2 x 1.2 m, from x -0.3 to 0.9 m, |y| <= 0.6 m in
  the base frame) is 0.75 m high, so the nearest floor beside it is at least 1.08 m below and 0.3 m
  aside from the shoulder (0.333 m over the base): 1.12 m, beyond the arm's 0.855 m reach
  (docs/robots/arm.md). Every drop is onto the table;
- success (``HeldGoalCommand`` with ``criterion="height"``, logged as ``Command/object_pose/success``):
  the object's origin at the goal's height (no lower than ``HEIGHT_TOLERANCE_M`` under it) for
  ``SUCCESS_HOLD_S`` = 1 s in a row; it does not end the episode, which goes on to reward holding;
- rewards: arm-lift's (reach x 1, lifted x 15, goal tracking x 16 and x 5, action rate and joint
  velocity x -1e-4 with arm-lift's curriculum) and holding at the goal's height during the
  episode's last ``HOLD_WINDOW_S`` s x 10;
- terminations: the 6 s time-out; the object fallen off the table (arm-lift's: its origin 5 cm
  below the table top); the object out of reach, its origin more than ``REACH_LIMIT_M`` from the base
  in the table's plane (a terminal failure: no top grasp follows it there);
- observations: arm-lift's, and the object's linear and angular velocity in the base frame in the
  policy group too (arm-lift's critic has them): the policy must tell a falling or rolling object
  from one at rest; the critic adds how long the object has been held.
"""

from __future__ import annotations

import functools

import mujoco

from warplab.assets.robots.arm import TIMESTEP
from warplab.envs import mdp
from warplab.envs.config import (
    CommandTermCfg,
    EventTermCfg,
    NoiseCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
)
from warplab.sim.simulation import SimCfg
from warplab.tasks.lift.env_cfg import (
    BASE,
    DECIMATION,
    GOAL,
    GOAL_RANGES,
    OBJECT,
    OBJECT_POS,
    OBJECT_POS_RANGE,
    OBJECT_SHAPES,
    LiftRandomizationCfg,
    lift_scene,
    make_arm_lift_env_cfg,
)
from warplab.tasks.pick_up_dropped import mdp as drop_mdp

Range = tuple[float, float]

EPISODE_LENGTH_S = 6.0
DROP_HEIGHT_RANGE: Range = (0.1, 0.5)
"""The height of the object's lowest point over the table top when it is let go, m."""
DROP_VELOCITY_RANGE: dict[str, Range] = {
    "x": (-0.3, 0.3),
    "y": (-0.3, 0.3),
    "z": (-0.2, 0.2),
    "roll": (-3.0, 3.0),
    "pitch": (-3.0, 3.0),
    "yaw": (-3.0, 3.0),
}
"""The object's velocity when let go: m/s along, rad/s about the world's axes."""
ROLLING_FRICTION = (0.02, 0.004)
"""The object's torsional and rolling friction, m (MuJoCo's ``friction[1:]``, condim 6): a rolling
sphere of 2-3 cm radius slows by about 1 m/s², as on a rubber mat, and stops within about 0.5 s."""
HEIGHT_TOLERANCE_M = 0.02
"""The object is at the goal's height when its origin is at most this under the goal's z, m."""
SUCCESS_HOLD_S = 1.0
"""Seconds in a row at the goal's height that count as success."""
HOLD_WINDOW_S = 2.0
"""The last part of the episode in which holding at the goal's height is rewarded, s."""
REACH_LIMIT_M = 0.8
"""Farther than this from the base in the table's plane (m) the object is out of reach: with the
TCP pointing down 2-3 cm over the table the flange is 0.2 m under the shoulder, which reaches
0.855 m, so 0.83 m across, less the wrist's offset."""
# Contact capacity, measured per world after each policy step (CPU, 2026-12, 16 worlds, every shape,
# the sizing lifted to 200 and 800 so nothing was cut). The object's contacts are condim 6, 10 rows
# each with the pyramidal cone where a condim-3 contact takes 4, so this sizing is arm-lift's with more
# rows. The drop and tumble with the arm at home used at most 4 contacts and 32 rows; 150 steps of
# random actions three times as large, biased down towards the table, 9 and 46; the scripted wait,
# grasp and lift of tests/tasks/test_arm_pick_up_dropped.py 12 and 80; the gripper driven onto and
# 1 cm into the table top on and beside the resting object, open and closed, 25 and 129. These are
# 2.2 and 2.1 times that worst case, as the probe's own factor of 2 (SimCfg.capacity_headroom).
NCONMAX = 56
NJMAX = 272


def pick_up_dropped_scene(object_shapes: tuple[str, ...] = OBJECT_SHAPES) -> mujoco.MjSpec:
    """arm-lift's scene (``lift_scene``) with rolling resistance on the object's geoms (condim 6,
    ``ROLLING_FRICTION``), so that a dropped object comes to rest on the table."""
    spec = lift_scene(object_shapes)
    spec.modelname = "warplab_arm_pick_up_dropped"
    for geom in spec.body(OBJECT).geoms:
        geom.condim = 6
        geom.friction[1:] = ROLLING_FRICTION
    return spec


def make_arm_pick_up_dropped_env_cfg(
    play: bool = False, randomization: LiftRandomizationCfg | None = None
) -> RlEnvCfg:
    """The pick-up-a-dropped-object task for the project's arm.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``LiftRandomizationCfg()``, every term on).
    """
    dr = randomization or LiftRandomizationCfg()
    cfg = make_arm_lift_env_cfg(play=play, randomization=dr)
    cfg.scene = (
        pick_up_dropped_scene
        if dr.object_shape
        else functools.partial(pick_up_dropped_scene, OBJECT_SHAPES[:1])
    )
    cfg.episode_length_s = EPISODE_LENGTH_S
    cfg.sim = SimCfg(nconmax=NCONMAX, njmax=NJMAX)

    cfg.commands = {
        # arm-lift's name and ranges, so its goal observation and tracking rewards read this one.
        GOAL: CommandTermCfg(
            func=drop_mdp.HeldGoalCommand,
            params={
                **GOAL_RANGES,
                "frame_body": BASE,
                "object": OBJECT,
                "criterion": "height",
                "tolerance": HEIGHT_TOLERANCE_M,
                "success_steps": round(SUCCESS_HOLD_S / (TIMESTEP * DECIMATION)),
            },
            resampling_time_range_s=(EPISODE_LENGTH_S, EPISODE_LENGTH_S),
        )
    }

    noise_factor = 0.0 if play else (dr.observation_noise or 0.0)
    obj = {"object": OBJECT, "frame_body": BASE}

    def noise(scale: float) -> NoiseCfg | None:
        return NoiseCfg("uniform", scale * noise_factor) if noise_factor > 0 else None

    policy = cfg.observations["policy"].terms
    policy["object_lin_vel"] = ObservationTermCfg(
        func=mdp.object_lin_vel_in_frame, params=obj, noise=noise(0.05)
    )
    policy["object_ang_vel"] = ObservationTermCfg(
        func=mdp.object_ang_vel_in_frame, params=obj, scale=0.1, noise=noise(0.5)
    )
    cfg.observations["critic"].terms["held_s"] = ObservationTermCfg(
        func=drop_mdp.held_steps_s, params={"command_name": GOAL}
    )

    cfg.rewards["holding_at_end"] = RewardTermCfg(
        func=drop_mdp.held_at_goal_height_late,
        weight=10.0,
        params={"command_name": GOAL, "window_s": HOLD_WINDOW_S},
    )
    cfg.terminations["object_out_of_reach"] = TerminationTermCfg(
        func=drop_mdp.object_beyond_reach, params={**obj, "max_distance": REACH_LIMIT_M}
    )

    del cfg.events["reset_object"]
    cfg.events["drop_object"] = EventTermCfg(
        func=drop_mdp.drop_object,
        mode="reset",
        params={
            **obj,
            "position": OBJECT_POS,
            "position_range": OBJECT_POS_RANGE,
            "height_range": DROP_HEIGHT_RANGE,
            "velocity_range": DROP_VELOCITY_RANGE,
        },
    )
    return cfg
