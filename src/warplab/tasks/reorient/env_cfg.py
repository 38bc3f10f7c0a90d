"""In-hand reorientation of a cube for any hand: turn the cube on the palm to each sampled target
orientation, one after another.

``make_reorient_env_cfg(hand)`` builds the task from a ``ReorientHandCfg`` (the robot, its palm
frame, fingertips, touch sensors, the cube and the timing). Semantics are those of Isaac Lab's
Shadow-hand reorientation (itself after OpenAI's "Learning Dexterous In-Hand Manipulation"), so
results compare with the field's:

- success: the cube's orientation within ``tolerance_rad`` of the goal (0.1 rad; 0.4 rad in the
  "OpenAI" variant); a new goal, uniform over all rotations, at once on success;
- episode: ends on a drop (the cube farther than ``fall_distance_m`` from the palm: a terminal
  failure) and is truncated at the 50th success or after ``goal_time_limit_s`` without one (Isaac
  Lab's OpenAI variant resets its episode timer at each success: its episode length is the time
  allowed per goal);
- reward, per policy step and not scaled by it (Isaac Lab's numbers): -10 x distance to the goal
  position (m), 1 / (rotation error + 0.1), -0.0002 x |action|^2, +250 on a success, -50 on a drop;
- the policy sees what a real hand measures (joint encoders, a tracker's pose of the cube, the
  goal, its last action), with noise in training; the critic sees that without noise plus the
  cube's velocities, the fingertip positions, the touch sensors and the goal counters.

``docs/tasks/dexterous.md`` describes each term, its weight and the randomization ranges.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np

from warplab.assets.robot_cfg import RobotCfg, build_robot_spec
from warplab.assets.scene import ObjectCfg, Scene
from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    CommandTermCfg,
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
from warplab.tasks.reorient import mdp as reorient_mdp

Range = tuple[float, float]

CUBE = "cube"
"""The object's body (and geom) name."""
GOAL = "goal"
"""The goal command's name."""
MAX_SUCCESSES = 50
"""Goals reached after which an episode is complete (truncated), as OpenAI and Isaac Lab's OpenAI variant."""
SUCCESS_TOLERANCE_RAD = 0.1
"""Isaac Lab's success tolerance of the Shadow-hand task."""
OPENAI_SUCCESS_TOLERANCE_RAD = 0.4
"""Isaac Lab's tolerance of its "OpenAI" variant (OpenAI's own hand work used 0.4 rad)."""


@dataclasses.dataclass
class ReorientHandCfg:
    """A hand for the reorientation task: the robot, where its palm is, and the cube it turns."""

    name: str
    """Names the scene (``<name>_reorient_cube``)."""
    robot: RobotCfg
    """The hand (its ``joint_names`` are the actions, in that order; its home pose holds the cube)."""
    palm_body: str | None = None
    """The palm frame as a body of the robot; give this or ``palm_site``."""
    palm_site: str | None = None
    """The palm frame as a site of the robot."""
    palm_normal: tuple[float, float, float] = (0.0, 0.0, 1.0)
    """The palm face's outward normal in the palm frame (up, where the cube rests on it)."""
    fingertip_sites: tuple[str, ...] = ()
    """Sites at the fingertips, for the critic (m, palm frame)."""
    touch_sensors: tuple[str, ...] = ()
    """Touch sensors of the fingertips, for the critic (N); none on a hand without them."""
    cube_half_size: float = 0.03
    """Half edge of the cube, m."""
    cube_mass: float = 0.1
    """Mass of the cube, kg."""
    cube_friction: float = 1.0
    """Sliding friction of the cube (a contact takes the larger of its two geoms')."""
    cube_condim: int = 3
    """Contact dimensionality of the cube's geom (4 adds torsional friction)."""
    cube_rest_pos: tuple[float, float, float] = (0.0, 0.0, 0.03)
    """Where the cube's centre rests on the palm, face down, in the palm frame, m: the goal position
    of the distance reward, and the centre of the start positions (raised off the palm, below)."""
    start_position_noise_m: float = 0.01
    """Start positions are drawn uniformly within this of ``cube_rest_pos`` along the palm's two
    in-plane axes, m (Isaac Lab: 0.01)."""
    timestep: float = 0.005
    """Physics timestep, s."""
    decimation: int = 4
    """Physics steps per policy step."""
    goal_time_limit_s: float = 10.0
    """Time allowed to reach each goal, s (Isaac Lab: 10 s; 8 s in its OpenAI variant)."""
    fall_distance_m: float = 0.24
    """The cube counts as dropped farther than this from the palm frame's origin, m (Isaac Lab: 0.24)."""
    fall_min_height_m: float | None = None
    """Also dropped when the cube's centre is below this height in the world, m (a hand mounted close
    to the floor, where a cube on the floor is nearer the palm than ``fall_distance_m``)."""
    joint_reset_noise_rad: float = 0.05
    """Reset: each joint at home plus a uniform offset within this, rad, clamped to its range."""
    nconmax: int | None = None
    """Contacts per world (None: the probe's sizing); see the hands' configs for their numbers."""
    njmax: int | None = None
    """Constraint rows per world (None: the probe's sizing)."""
    edit_scene: Callable[[mujoco.MjSpec], None] | None = None
    """Changes the built scene in place (solver options of a model that needs them)."""


@dataclasses.dataclass
class ReorientRandomizationCfg:
    """What the task randomizes per world in training, and how much; None turns a term off. Ranges
    are factors on the nominal value. ``docs/tasks/dexterous.md`` gives the reasons."""

    object_mass: Range | None = (0.5, 1.5)
    """The cube's mass (inertia scaled alike), at startup (Isaac Lab: 0.5-1.5)."""
    friction: Range | None = (0.7, 1.3)
    """Sliding friction of every geom, one factor per world, at startup (Isaac Lab: 0.7-1.3)."""
    object_size: Range | None = (0.95, 1.05)
    """The cube's edge, one factor per world (mass kept), at startup."""
    kp: Range | None = (0.75, 1.5)
    """Each finger servo's position gain, at every reset (Isaac Lab: stiffness 0.75-1.5)."""
    kd: Range | None = (0.5, 2.0)
    """Each finger servo's velocity gain, at every reset (a factor of 0 changes nothing on a servo without one)."""
    joint_damping: Range | None = (0.5, 2.0)
    """Each finger joint's viscous damping, at every reset."""
    observation_noise: float | None = 1.0
    """Multiplies the policy's observation noise (None: none); never in play mode."""

    @classmethod
    def off(cls) -> ReorientRandomizationCfg:
        """No randomization at all: the nominal hand and cube, exact observations."""
        return cls(None, None, None, None, None, None, None)


def _palm_pose_at_home(hand: ReorientHandCfg) -> tuple[np.ndarray, np.ndarray]:
    """The palm frame's position (m) and rotation matrix in the world, with the hand at home."""
    model = build_robot_spec(hand.robot).compile()
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    if hand.palm_site is not None:
        site = model.site(hand.palm_site).id
        return data.site_xpos[site].copy(), data.site_xmat[site].reshape(3, 3).copy()
    body = model.body(hand.palm_body).id
    return data.xpos[body].copy(), data.xmat[body].reshape(3, 3).copy()


def reorient_scene(hand: ReorientHandCfg) -> mujoco.MjSpec:
    """The hand, a floor and the cube resting face down at ``cube_rest_pos`` on the palm (the model's
    initial state, and the goal position); the hand's ``home`` keyframe holds the cube there too."""
    palm_pos, palm_rot = _palm_pose_at_home(hand)
    rest = palm_pos + palm_rot @ np.asarray(hand.cube_rest_pos, dtype=np.float64)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, palm_rot.ravel())
    cube = ObjectCfg(
        CUBE,
        "box",
        size=(hand.cube_half_size,) * 3,
        pos=(float(rest[0]), float(rest[1]), float(rest[2])),
        quat=(float(quat[0]), float(quat[1]), float(quat[2]), float(quat[3])),
        mass=hand.cube_mass,
        friction=hand.cube_friction,
        rgba=(0.85, 0.45, 0.15, 1.0),
    )
    spec = Scene(robot=hand.robot, terrain="flat", objects=(cube,)).build()
    spec.modelname = f"{hand.name}_reorient_cube"
    spec.geom(CUBE).condim = hand.cube_condim
    if hand.edit_scene is not None:
        hand.edit_scene(spec)
    return spec


def _start_pose(hand: ReorientHandCfg, size_factor: float) -> tuple[tuple[float, ...], dict[str, Range]]:
    """The start position in the palm frame and its noise: the rest position raised along the palm
    normal by what the largest cube adds to its half edge, plus 1 mm, so that no cube starts inside
    the palm; drawn within ``start_position_noise_m`` along the two in-plane axes."""
    normal = np.asarray(hand.palm_normal, dtype=np.float64)
    normal /= np.linalg.norm(normal)
    lift = hand.cube_half_size * (max(size_factor, 1.0) - 1.0) + 0.001
    start = np.asarray(hand.cube_rest_pos, dtype=np.float64) + lift * normal
    noise = hand.start_position_noise_m
    ranges = {axis: (-noise, noise) for axis, n in zip("xyz", normal, strict=True) if abs(n) < 0.5}
    return tuple(float(v) for v in start), ranges


def make_reorient_env_cfg(
    hand: ReorientHandCfg,
    play: bool = False,
    tolerance_rad: float = SUCCESS_TOLERANCE_RAD,
    randomization: ReorientRandomizationCfg | None = None,
) -> RlEnvCfg:
    """The reorientation task for ``hand``.

    Args:
      hand: the hand, its palm, the cube and the timing.
      play: no observation noise (videos, evaluation); the model randomization stays, as in the
        other tasks' play mode.
      tolerance_rad: success tolerance on the orientation error, rad.
      randomization: what to randomize (None: ``ReorientRandomizationCfg()``, every term on).
    """
    if (hand.palm_body is None) == (hand.palm_site is None):
        raise ValueError(
            f"ReorientHandCfg {hand.name!r}: give palm_body or palm_site (one of them), "
            f"got {hand.palm_body!r} and {hand.palm_site!r}"
        )
    dr = randomization or ReorientRandomizationCfg()
    frame: dict[str, Any] = (
        {"frame_body": hand.palm_body} if hand.palm_body else {"frame_site": hand.palm_site}
    )
    joints = list(hand.robot.joint_names)
    cube = {"object": CUBE, **frame}
    goal = {"command_name": GOAL}
    if not (hand.timestep > 0 and hand.decimation >= 1 and hand.goal_time_limit_s > 0):
        raise ValueError(
            f"ReorientHandCfg {hand.name!r}: timestep ({hand.timestep} s), decimation ({hand.decimation}) and "
            f"goal_time_limit_s ({hand.goal_time_limit_s}) must be positive"
        )
    goal_steps = round(hand.goal_time_limit_s / (hand.timestep * hand.decimation))
    noise_factor = 0.0 if play else (dr.observation_noise or 0.0)

    def noise(scale: float) -> NoiseCfg | None:
        return NoiseCfg("uniform", scale * noise_factor) if noise_factor > 0 else None

    def measured(noisy: bool) -> dict[str, ObservationTermCfg]:
        """What a real hand measures: its encoders, a tracker's pose of the cube, the goal, its action."""
        n = noise if noisy else (lambda scale: None)
        return {
            "joint_pos": ObservationTermCfg(
                func=mdp.joint_pos_normalized, params={"joints": joints}, noise=n(0.02)
            ),
            # Scaled by 0.2 as Isaac Lab's vel_obs_scale; noise in rad/s before the scale.
            "joint_vel": ObservationTermCfg(
                func=mdp.joint_vel, params={"joints": joints}, noise=n(0.5), scale=0.2
            ),
            "object_pos": ObservationTermCfg(func=mdp.object_pos_in_frame, params=cube, noise=n(0.002)),
            "object_quat": ObservationTermCfg(func=mdp.object_quat_in_frame, params=cube, noise=n(0.01)),
            "goal_quat": ObservationTermCfg(func=mdp.goal_quat_in_frame, params={**goal, **frame}),
            "goal_quat_diff": ObservationTermCfg(func=mdp.goal_quat_diff, params=goal, noise=n(0.01)),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }

    critic = measured(False)
    critic["object_lin_vel"] = ObservationTermCfg(func=mdp.object_lin_vel_in_frame, params=cube)
    critic["object_ang_vel"] = ObservationTermCfg(func=mdp.object_ang_vel_in_frame, params=cube, scale=0.2)
    if hand.fingertip_sites:
        critic["fingertip_pos"] = ObservationTermCfg(
            func=mdp.fingertip_positions, params={"sites": list(hand.fingertip_sites), **frame}
        )
    if hand.touch_sensors:
        # Newtons, scaled to about unit size for a firm grasp (a few N per fingertip).
        critic["touch"] = ObservationTermCfg(
            func=mdp.touch_sensors, params={"sensors": list(hand.touch_sensors)}, scale=0.1
        )
    critic["goal_error"] = ObservationTermCfg(func=mdp.goal_orientation_error, params=goal)
    critic["goal_progress"] = ObservationTermCfg(
        func=reorient_mdp.goal_progress,
        params={**goal, "max_successes": MAX_SUCCESSES, "max_steps": goal_steps},
    )

    drop = {**cube, "max_distance": hand.fall_distance_m, "min_height": hand.fall_min_height_m}
    rewards = {
        "object_distance": RewardTermCfg(func=mdp.object_goal_distance, weight=-10.0, params=goal),
        "rotation": RewardTermCfg(func=mdp.rotation_alignment, weight=1.0, params={**goal, "eps": 0.1}),
        "action": RewardTermCfg(func=mdp.action_l2, weight=-0.0002),
        "goal_reached": RewardTermCfg(func=mdp.goal_reached_bonus, weight=250.0, params=goal),
        "dropped": RewardTermCfg(func=mdp.object_dropped_penalty, weight=-50.0, params=drop),
    }
    terminations = {
        "dropped": TerminationTermCfg(func=mdp.object_dropped, params=drop),
        "success_cap": TerminationTermCfg(
            func=mdp.success_cap, params={**goal, "max_successes": MAX_SUCCESSES}, time_out=True
        ),
        "no_progress": TerminationTermCfg(
            func=mdp.no_progress, params={**goal, "max_steps": goal_steps}, time_out=True
        ),
    }

    size_high = dr.object_size[1] if dr.object_size else 1.0
    start, start_range = _start_pose(hand, size_high)
    events: dict[str, EventTermCfg] = {}
    # Startup draws that need set_const, the mass before the size (the size keeps the drawn mass).
    if dr.friction is not None:
        events["friction"] = EventTermCfg(
            func=mdp.randomize_friction, mode="startup", params={"ranges": dr.friction}
        )
    if dr.object_mass is not None:
        events["object_mass"] = EventTermCfg(
            func=mdp.randomize_mass, mode="startup", params={"ranges": dr.object_mass, "bodies": CUBE}
        )
    if dr.object_size is not None:
        events["object_size"] = EventTermCfg(
            func=mdp.randomize_object_size,
            mode="startup",
            params={"object": CUBE, "scale_range": dr.object_size},
        )
    events["reset_joints"] = EventTermCfg(
        func=reorient_mdp.reset_joints_in_range,
        mode="reset",
        params={
            "joints": joints,
            "position_range": (-hand.joint_reset_noise_rad, hand.joint_reset_noise_rad),
        },
    )
    events["reset_cube"] = EventTermCfg(
        func=reorient_mdp.reset_cube_face_down,
        mode="reset",
        params={**cube, "normal": hand.palm_normal, "position": start, "position_range": start_range},
    )
    if dr.kp is not None or dr.kd is not None:
        events["pd_gains"] = EventTermCfg(
            func=mdp.randomize_pd_gains,
            mode="reset",
            params={"kp_range": dr.kp or (1.0, 1.0), "kd_range": dr.kd or (1.0, 1.0), "actuators": joints},
        )
    if dr.joint_damping is not None:
        events["joint_damping"] = EventTermCfg(
            func=mdp.randomize_joint_damping,
            mode="reset",
            params={"ranges": dr.joint_damping, "joints": joints},
        )

    return RlEnvCfg(
        scene=lambda: reorient_scene(hand),
        init_keyframe="home",
        timestep=hand.timestep,
        decimation=hand.decimation,
        # The episode ends at the 50th goal at the latest, each within goal_time_limit_s (the
        # terminations above truncate it); no separate time limit is needed.
        episode_length_s=MAX_SUCCESSES * hand.goal_time_limit_s,
        scale_rewards_by_dt=False,
        observations={
            "policy": ObservationGroupCfg(terms=measured(not play), enable_corruption=not play),
            "critic": ObservationGroupCfg(terms=critic),
        },
        actions={
            "joint_pos": ActionTermCfg(
                func=reorient_mdp.HomeCenteredPositionAction, params={"actuators": joints}
            )
        },
        commands={
            # Goals change on success (and at resets), never on the manager's timer.
            GOAL: CommandTermCfg(
                func=mdp.OrientationGoalCommand,
                params={"object": CUBE, "tolerance_rad": tolerance_rad, "rotation": "xyz"},
                resampling_time_range_s=(1e9, 1e9),
            )
        },
        rewards=rewards,
        terminations=terminations,
        events=events,
        sim=SimCfg(nconmax=hand.nconmax, njmax=hand.njmax),
        viewer=ViewerCfg(track_body=hand.palm_body, distance=0.6, elevation=-35.0, azimuth=150.0),
        # The fingertip sites read poses a forward pass derives from qpos: a reset world's first
        # observation needs positions and velocities recomputed. Touch sensors (critic only) keep
        # the pre-reset reading for that one observation; a full forward would cost about one more
        # physics substep every step.
        reset_forward="positions_velocities",
    )
