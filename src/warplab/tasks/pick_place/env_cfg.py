"""``arm-pick-place``: the project's arm grasps the object in front of it on the table, carries it to
a goal drawn on the table and lets go of it there.

The contract is Gymnasium-Robotics FetchPickAndPlace's (``gymnasium_robotics/envs/fetch/
pick_and_place.py``): an object on a table, a goal position in reach, success on the object's
distance to it; made stricter, as a place rather than a pass-through:

- success: the object's rest point (its lowest point's height under its origin, on the table top
  when it rests there, whatever its shape) within ``PLACE_TOLERANCE_M`` = 3 cm of the goal
  (FetchPickAndPlace: 5 cm from the object's origin), the object slow (below ``REST_SPEED`` m/s), the
  gripper open (released), each world's object lifted earlier in the episode, for
  ``SUCCESS_HOLD_STEPS`` policy steps; a truncation (the learner bootstraps) logged as
  ``Episode_Termination/success``;
- commands: the goal on the table top (z = 0 in the base frame), x and y uniform in ``GOAL_RANGES``
  and at least ``GOAL_MIN_DISTANCE_M`` from the object's start, drawn at each reset (FetchPickAndPlace
  draws its goal in the air half the time; here always on the table, since the object is placed);
- rewards, scaled by the policy step, on arm-lift's scale (Isaac Lab's Franka lift weights): reach
  ``1 - tanh(d_ee / 0.1)`` x 1, lifted (until over the goal, ``lifted_until_near_goal``) x 15, carry
  ``1 - tanh(d_goal / 0.3)`` x 16 and ``... / 0.05`` x 5 once lifted, placed and released x 10, action
  rate x -1e-4, joint velocity x -1e-4 (both x -1e-1 after 10,000 policy steps, arm-lift's
  curriculum); FetchPickAndPlace's own reward is the sparse or negative-distance one;
- terminations: the 8 s time-out, the object dropped off the table, success;
- observations: arm-lift's (joint positions and velocities, the object's pose, the goal, the last
  action, the object's shape) and the object-to-goal vector, all in the base frame; the critic adds
  arm-lift's privileged terms and whether the object has been lifted yet.

Everything else is ``make_arm_lift_env_cfg``'s, edited here as a copy: the scene (the object's
shape, size, mass and friction drawn per world), actions, reset events and randomization.
"""

from __future__ import annotations

import functools

import mujoco

from warplab.assets.robots.arm import EE_SITE, GRIPPER_JOINT, GRIPPER_STROKE, TABLE_HEIGHT
from warplab.envs import mdp
from warplab.envs.config import (
    CommandTermCfg,
    NoiseCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
)
from warplab.sim.simulation import SimCfg
from warplab.tasks.lift import mdp as lift_mdp
from warplab.tasks.lift.env_cfg import (
    BASE,
    GOAL,
    LIFT_CLEARANCE_M,
    OBJECT,
    OBJECT_SHAPES,
    LiftRandomizationCfg,
    lift_scene,
    make_arm_lift_env_cfg,
)
from warplab.tasks.pick_place import mdp as place_mdp

Range = tuple[float, float]

GOAL_RANGES: dict[str, Range] = {"x": (0.4, 0.6), "y": (-0.25, 0.25)}
"""The goal's x and y in the base frame, m: the object's own start area (arm-lift's, Isaac Lab's),
where a scripted top grasp reaches the table."""
GOAL_Z = 0.0
"""The goal's height in the base frame, m: the table top (the base stands on it)."""
GOAL_MIN_DISTANCE_M = 0.1
"""The goal is at least this far from the object's start in x-y, m: a carry, not a nudge."""
PLACE_TOLERANCE_M = 0.03
"""Success radius around the goal, m (FetchPickAndPlace's ``distance_threshold`` is 0.05)."""
NEAR_GOAL_M = 0.05
"""Within this of the goal in x-y (m) the lift reward no longer asks for height."""
REST_SPEED = 0.05
"""The object rests when its speed is below this, m/s."""
OPEN_MIN_M = 0.95 * GRIPPER_STROKE
"""The gripper is open (released) when the finger has opened to at least this, m: wider than any
object's grasp (the widest, a box across its diagonal, holds the finger at 3.55 cm of 4)."""
SUCCESS_HOLD_STEPS = 10
"""Policy steps in a row placed and released that count as success (0.2 s): long enough that an
object tipping over after the release (an upright capsule, on its round end) speeds up past
``REST_SPEED`` or leaves the tolerance first."""
EPISODE_LENGTH_S = 8.0
# Contact capacity, measured per world after each policy step (CPU, 2026-12, 16 worlds, every shape,
# the sizing lifted to 200 and 800 so nothing was cut): 150 steps of uniform random actions used at
# most 4 contacts and 21 constraint rows; random actions three times as large, biased forward and down
# towards the table, 17 and 67; the scripted grasp, carry and place of tests/tasks/
# test_arm_pick_place.py 13 and 52; the same set down 2 cm into the table top, squeezing the object
# between pads and table, 24 and 92. These are 2.3 and 2.1 times that worst case, over the probe's
# own factor of 2 (SimCfg.capacity_headroom).
NCONMAX = 56
NJMAX = 192


def pick_place_scene(object_shapes: tuple[str, ...] = OBJECT_SHAPES) -> mujoco.MjSpec:
    """arm-lift's scene (``lift_scene``): the arm on the table, an object of several shapes."""
    spec = lift_scene(object_shapes)
    spec.modelname = "warplab_arm_pick_place"
    return spec


def make_arm_pick_place_env_cfg(
    play: bool = False, randomization: LiftRandomizationCfg | None = None
) -> RlEnvCfg:
    """The pick-and-place task for the project's arm.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``LiftRandomizationCfg()``, every term on).
    """
    dr = randomization or LiftRandomizationCfg()
    cfg = make_arm_lift_env_cfg(play=play, randomization=dr)
    cfg.scene = (
        pick_place_scene if dr.object_shape else functools.partial(pick_place_scene, OBJECT_SHAPES[:1])
    )
    cfg.episode_length_s = EPISODE_LENGTH_S
    cfg.sim = SimCfg(nconmax=NCONMAX, njmax=NJMAX)

    cfg.commands = {
        # The same name as arm-lift's goal, so its goal observation reads this one; one goal an episode.
        GOAL: CommandTermCfg(
            func=place_mdp.PlaceGoalCommand,
            params={
                **GOAL_RANGES,
                "z": GOAL_Z,
                "frame_body": BASE,
                "object": OBJECT,
                "min_distance": GOAL_MIN_DISTANCE_M,
                "surface_height": TABLE_HEIGHT,
                "min_clearance": LIFT_CLEARANCE_M,
                "tolerance": PLACE_TOLERANCE_M,
                "max_speed": REST_SPEED,
                "gripper_joint": GRIPPER_JOINT,
                "min_opening": OPEN_MIN_M,
            },
            resampling_time_range_s=(EPISODE_LENGTH_S, EPISODE_LENGTH_S),
        )
    }

    noise_factor = 0.0 if play else (dr.observation_noise or 0.0)
    to_goal = {"object": OBJECT, "command_name": GOAL}
    cfg.observations["policy"].terms["object_to_goal"] = ObservationTermCfg(
        func=place_mdp.object_goal_offset_in_frame,
        params=to_goal,
        noise=NoiseCfg("uniform", 0.005 * noise_factor) if noise_factor > 0 else None,
    )
    critic = cfg.observations["critic"].terms
    critic["object_to_goal"] = ObservationTermCfg(func=place_mdp.object_goal_offset_in_frame, params=to_goal)
    critic["lifted_once"] = ObservationTermCfg(
        func=place_mdp.object_lifted_once, params={"command_name": GOAL}
    )

    goal = {"command_name": GOAL}
    cfg.rewards = {
        "reaching_object": RewardTermCfg(
            func=lift_mdp.ee_object_distance_tanh,
            weight=1.0,
            params={"object": OBJECT, "ee_site": EE_SITE, "std": 0.1},
        ),
        "lifting_object": RewardTermCfg(
            func=place_mdp.lifted_until_near_goal, weight=15.0, params={**goal, "near_radius": NEAR_GOAL_M}
        ),
        "carrying_object": RewardTermCfg(
            func=place_mdp.carry_distance_tanh, weight=16.0, params={**goal, "std": 0.3}
        ),
        "carrying_object_fine_grained": RewardTermCfg(
            func=place_mdp.carry_distance_tanh, weight=5.0, params={**goal, "std": 0.05}
        ),
        "placing_object": RewardTermCfg(func=place_mdp.object_placed, weight=10.0, params=goal),
        # The names arm-lift's curriculum raises (its ``penalties`` term, kept).
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-1e-4),
        "joint_vel": cfg.rewards["joint_vel"],
    }
    cfg.terminations["success"] = TerminationTermCfg(
        func=place_mdp.place_succeeded, params={**goal, "hold_steps": SUCCESS_HOLD_STEPS}, time_out=True
    )
    return cfg
