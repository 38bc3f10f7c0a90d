"""``arm-lift``: the project's arm grasps the object in front of it on the table, lifts it and
holds it at a goal position drawn in its base frame.

The contract is Isaac Lab's Franka lift task (``isaaclab_tasks/manager_based/manipulation/lift/
lift_env_cfg.py`` and ``config/franka/joint_pos_env_cfg.py``), so results compare with the field's:

- actions: joint position targets for the seven arm joints, ``home + 0.5 * action`` rad, and one
  binary gripper action (below 0 closes, else opens);
- commands: a goal position uniform in x 0.4-0.6, y -0.25-0.25, z 0.25-0.5 m of the base frame,
  drawn once an episode (Isaac Lab: every 5 s, the episode's length);
- rewards, scaled by the policy step (Isaac Lab's manager multiplies by dt): reaching
  ``1 - tanh(d_ee / 0.1)`` x 1, lifted x 15, goal tracking ``lifted * (1 - tanh(d_goal / 0.3))`` x 16
  and ``... / 0.05`` x 5, action rate x -1e-4, joint velocity x -1e-4 (both x -1e-1 after 10,000
  policy steps, a curriculum);
- terminations: the 5 s time-out, and the object dropped below the table top (Isaac Lab: its origin
  below -0.05 m, the table top being at 0);
- observations: joint positions and velocities relative to home, the object's position (and here
  also orientation) in the base frame, the goal, the last action (and here the object's shape).

What differs, and why: the object's shape, size, mass and friction vary per world
(``ObjectCfg(shapes=...)``), so the object's shape one-hot is observed and "lifted" is judged on
the object's lowest point over the table (``LIFT_CLEARANCE_M``), which means the same lift for a
flat box and an upright cylinder; a privileged critic group adds the object's velocities and the
gripper's position. ``docs/tasks/manipulation.md`` has the tables of terms and weights.

The arm's action term is ``cfg.actions["arm"]``: replace it (a differential-IK term, say) and
keep ``cfg.actions["gripper"]``; the observations read the last action whatever its size.
"""

from __future__ import annotations

import dataclasses
import functools

import mujoco

from warplab.assets.robots.arm import (
    ARM_JOINT_NAMES,
    ARM_ROBOT_CFG,
    ARM_WITH_HAND_ROBOT_CFG,
    EE_SITE,
    FINGERTIP_SITES,
    GRIPPER_JOINT,
    TABLE_CENTER_X,
    TABLE_HALF_SIZE,
    TABLE_HEIGHT,
    TIMESTEP,
    arm_spec,
    arm_with_hand_spec,
)
from warplab.assets.scene import ObjectCfg, Scene
from warplab.envs import mdp
from warplab.envs.config import (
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
from warplab.tasks.lift import mdp as lift_mdp

Range = tuple[float, float]

OBJECT = "object"
"""The object's body name; its geoms are ``object_<shape>``."""
GOAL = "object_pose"
"""The goal command's name (Isaac Lab's)."""
BASE = "link0"
"""The arm's base body: the frame of the goal and of the object observations."""
OBJECT_SHAPES = ("box", "sphere", "cylinder", "capsule")
OBJECT_SIZE_RANGES: dict[str, tuple[Range, ...]] = {
    # Half extents up to 2.5 cm: a box turned any way about z spans at most 7.1 cm, within the
    # gripper's 8 cm. Cylinders and capsules stand upright (their axis along z).
    "box": ((0.015, 0.025),) * 3,
    "sphere": ((0.02, 0.03),),
    "cylinder": ((0.015, 0.03), (0.02, 0.04)),
    "capsule": ((0.015, 0.025), (0.01, 0.03)),
}
"""MuJoCo sizes per shape, (low, high) m per dimension (radius, half length for the round ones)."""
OBJECT_MASS = 0.1
"""Nominal mass, kg (randomized per world by ``LiftRandomizationCfg.object_mass``)."""
OBJECT_POS = (0.5, 0.0)
"""The centre of the object's start positions, (x, y) in the base frame, m (Isaac Lab's)."""
OBJECT_POS_RANGE = {"x": (-0.1, 0.1), "y": (-0.25, 0.25)}
"""Uniform offsets of the start position, m (Isaac Lab's)."""
GOAL_RANGES = {"x": (0.4, 0.6), "y": (-0.25, 0.25), "z": (0.25, 0.5)}
"""The goal position's ranges in the base frame, m (Isaac Lab's); z over the table top."""
LIFT_CLEARANCE_M = 0.04
"""The object counts as lifted when its lowest point is this far over the table, m (Isaac Lab: its
origin 0.04 m over the table, about 1.6 cm of lift for its cube; here 4 cm for every shape)."""
DROP_HEIGHT_M = TABLE_HEIGHT - 0.05
"""The object has dropped when its origin is below this height (world z, m): off the table."""
DECIMATION = 4
"""Four 5 ms physics steps per policy step: a 50 Hz policy, as Isaac Lab's (2 x 10 ms)."""
EPISODE_LENGTH_S = 5.0
JOINT_RESET_NOISE_RAD = 0.05
"""Reset: each arm joint at home plus a uniform offset within this, rad."""
# Contact capacity, measured per world after each policy step (CPU, 2026-12, 16 worlds, every shape,
# the probe's sizing lifted to 200 and 800 so nothing was cut): 150 steps of uniform random actions
# used at most 4 contacts and 22 constraint rows (the gripper stays over the table); random actions
# three times as large, biased down towards the table, 9 and 39; the scripted grasp and lift of
# tests/tasks/test_arm_lift.py 8 and 36; the gripper driven 2-3 cm into the table top on and beside
# the object, open and closed (what an exploring policy does), 22 and 84. These are 2.2 and 2.1 times
# that worst case, as the probe's own factor of 2 (SimCfg.capacity_headroom).
NCONMAX = 48
NJMAX = 176


@dataclasses.dataclass
class LiftRandomizationCfg:
    """What the task randomizes per world in training; None turns a term off. Ranges are factors on
    the nominal value unless said otherwise."""

    object_shape: bool = True
    """A shape of ``OBJECT_SHAPES`` and a size from ``OBJECT_SIZE_RANGES`` per world, at startup."""
    object_mass: Range | None = (0.5, 1.5)
    """The object's mass (inertia alike), at startup."""
    friction: Range | None = (0.7, 1.3)
    """Sliding friction of every geom, one factor per world, at startup (a contact takes the larger
    of its two geoms' coefficients, so scaling the object's alone would not reach the pads')."""
    kp: Range | None = (0.8, 1.2)
    """Each arm servo's position gain, at every reset."""
    kd: Range | None = (0.8, 1.2)
    """Each arm servo's velocity gain, at every reset."""
    observation_noise: float | None = 1.0
    """Multiplies the policy's observation noise (None: none); never in play mode."""

    @classmethod
    def off(cls) -> LiftRandomizationCfg:
        """No randomization: the nominal arm, a nominal box in every world, exact observations."""
        return cls(False, None, None, None, None, None)


def lift_scene(
    object_shapes: tuple[str, ...] = OBJECT_SHAPES,
    size_ranges: dict[str, tuple[Range, ...]] | None = None,
    hand: bool = False,
    model_name: str = "warplab_arm_lift",
) -> mujoco.MjSpec:
    """The arm on the table (``arm_with_table_and_object_spec``'s layout: base at the table top's
    height, the table's top spanning x -0.3 to 0.9 m) with a free object of several shapes, the
    first active in the compiled model, resting at ``OBJECT_POS``; a floor catches a dropped one.

    Args:
      object_shapes: the object's shapes (``ObjectCfg.shapes``); one shape makes a plain object.
      size_ranges: MuJoCo sizes per shape, (low, high) m per dimension (None: ``OBJECT_SIZE_RANGES``).
      hand: the arm carries the four-finger hand (``ARM_WITH_HAND_ROBOT_CFG``, ``arm_with_hand_spec``)
        instead of the gripper (``ARM_ROBOT_CFG``, ``arm_spec``).
      model_name: the compiled model's name.
    """
    robot_cfg, robot_spec = (
        (ARM_WITH_HAND_ROBOT_CFG, arm_with_hand_spec) if hand else (ARM_ROBOT_CFG, arm_spec)
    )
    robot = dataclasses.replace(
        robot_cfg, spec=functools.partial(robot_spec, base_pos=(0.0, 0.0, TABLE_HEIGHT))
    )
    table = ObjectCfg(
        "table",
        "box",
        size=(*TABLE_HALF_SIZE, TABLE_HEIGHT / 2),
        pos=(TABLE_CENTER_X, 0.0, TABLE_HEIGHT / 2),
        fixed=True,
        friction=1.0,
        rgba=(0.55, 0.45, 0.35, 1.0),
    )
    all_ranges = OBJECT_SIZE_RANGES if size_ranges is None else size_ranges
    ranges = {shape: all_ranges[shape] for shape in object_shapes}
    first = object_shapes[0]
    size = tuple((lo + hi) / 2 for lo, hi in ranges[first])
    thing = ObjectCfg(
        OBJECT,
        first,
        size=size,
        pos=(*OBJECT_POS, TABLE_HEIGHT + 0.05),
        mass=OBJECT_MASS,
        friction=1.0,
        rgba=(0.85, 0.45, 0.15, 1.0),
        shapes=object_shapes if len(object_shapes) > 1 else (),
        shape_size_ranges=ranges if len(object_shapes) > 1 else {},
    )
    spec = Scene(robot=robot, terrain="flat", objects=(table, thing)).build()
    spec.modelname = model_name
    return spec


def make_arm_lift_env_cfg(play: bool = False, randomization: LiftRandomizationCfg | None = None) -> RlEnvCfg:
    """The lift task for the project's arm.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``LiftRandomizationCfg()``, every term on).
    """
    dr = randomization or LiftRandomizationCfg()
    arm = list(ARM_JOINT_NAMES)
    joints = [*arm, GRIPPER_JOINT]
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
    critic["fingertip_pos"] = ObservationTermCfg(
        func=mdp.fingertip_positions, params={"sites": list(FINGERTIP_SITES), "frame_body": BASE}
    )
    critic["clearance"] = ObservationTermCfg(
        func=lift_mdp.object_clearance, params={"object": OBJECT, "surface_height": TABLE_HEIGHT}
    )

    goal = {"command_name": GOAL, **lifted}
    rewards = {
        "reaching_object": RewardTermCfg(
            func=lift_mdp.ee_object_distance_tanh,
            weight=1.0,
            params={"object": OBJECT, "ee_site": EE_SITE, "std": 0.1},
        ),
        "lifting_object": RewardTermCfg(func=lift_mdp.object_lifted, weight=15.0, params=lifted),
        "object_goal_tracking": RewardTermCfg(
            func=lift_mdp.object_goal_distance_tanh, weight=16.0, params={**goal, "std": 0.3}
        ),
        "object_goal_tracking_fine_grained": RewardTermCfg(
            func=lift_mdp.object_goal_distance_tanh, weight=5.0, params={**goal, "std": 0.05}
        ),
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-1e-4),
        "joint_vel": RewardTermCfg(func=mdp.joint_vel_l2, weight=-1e-4, params={"joints": arm}),
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
    events["reset_arm"] = EventTermCfg(
        func=mdp.reset_joints_by_offset,
        mode="reset",
        params={"position_range": (-JOINT_RESET_NOISE_RAD, JOINT_RESET_NOISE_RAD), "joints": arm},
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
        scene=lift_scene if dr.object_shape else functools.partial(lift_scene, OBJECT_SHAPES[:1]),
        init_keyframe="home",
        timestep=TIMESTEP,
        decimation=DECIMATION,
        episode_length_s=EPISODE_LENGTH_S,
        scale_rewards_by_dt=True,
        observations={
            "policy": ObservationGroupCfg(terms=measured(not play), enable_corruption=not play),
            "critic": ObservationGroupCfg(terms=critic),
        },
        actions=arm_actions_cfg(),
        commands={
            # Drawn at each reset; the timer is the episode's length, so one goal an episode.
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
            # Isaac Lab's: the smoothness penalties x 1000 (-1e-4 to -1e-1) after 10,000 policy steps.
            "penalties": CurriculumTermCfg(
                func=lift_mdp.RewardWeightStep,
                params={"rewards": ["action_rate", "joint_vel"], "num_steps": 10_000, "factor": 1000.0},
            )
        },
        events=events,
        sim=SimCfg(nconmax=NCONMAX, njmax=NJMAX),
        viewer=ViewerCfg(track_body=BASE, distance=1.6, elevation=-25.0, azimuth=150.0),
        # The reaching reward and the critic read sites (the TCP, the pads) that a forward pass
        # derives from qpos: a reset world's first observation needs its positions recomputed.
        reset_forward="positions_velocities",
    )
