"""Velocity tracking for legged robots: follow commanded forward, lateral and yaw velocities.

``make_velocity_env_cfg(robot)`` builds the task for any ``RobotCfg``; robots register their own
variants (``humanoid-velocity-flat`` for the project's humanoid). The policy sees what a robot's
sensors give (IMU angular velocity, gravity direction, joint positions and velocities, the command,
its last action), with noise; the critic also sees the true base velocity, without noise.

Domain randomization is chosen with a ``DomainRandomizationCfg``: its defaults are those of
``humanoid-velocity-flat`` (floor friction, pushes, observation noise); ``DomainRandomizationCfg.full()``
adds the robot's masses, centres of mass, PD gains, motor strength, joint damping, armature and an
action delay (``humanoid-velocity-flat-dr``). ``docs/domain_randomization.md`` explains the ranges.

Rewards follow what the field uses for humanoid walking: exponential tracking of the commanded
planar velocity and yaw rate; penalties on vertical and roll/pitch motion, tilt, action rate, torques,
joint limits and deviation of the arms and waist from their default; a reward for steps of useful
length (feet air time) and a penalty on feet slipping while in contact; a penalty for falling.
"""

from __future__ import annotations

import dataclasses
import math

from warplab.assets.robot_cfg import RobotCfg, build_robot_spec
from warplab.assets.terrain import add_flat_ground
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
from warplab.tasks.velocity.mdp import joint_deviation_l1


@dataclasses.dataclass
class VelocityRanges:
    """Ranges of the commanded velocities, drawn uniformly."""

    lin_vel_x: tuple[float, float] = (-1.0, 1.0)
    """Forward speed, m/s."""
    lin_vel_y: tuple[float, float] = (-0.5, 0.5)
    """Lateral speed, m/s."""
    ang_vel_z: tuple[float, float] = (-1.0, 1.0)
    """Yaw rate, rad/s."""


Range = tuple[float, float]


@dataclasses.dataclass
class DomainRandomizationCfg:
    """What the velocity task randomizes, per world, and how much; None turns a term off.

    The defaults are ``humanoid-velocity-flat``'s, unchanged; ``full()`` turns on the rest.
    Masses, centres of mass and armature are drawn once, at startup (they need ``set_const``, which
    recomputes the whole model); gains, motor strength and damping again at every reset (cheap).
    """

    friction: Range | None = (0.4, 1.2)
    """Factor on the sliding friction of every geom, floor and robot, drawn at startup."""
    friction_per_geom: bool = True
    """True: each geom draws its own factor, so a foot's contact takes the larger of its own and
    the floor's draw (the task as first trained and measured). False: one factor per world for all
    geoms, so the draw is the friction under both feet (``mdp.randomize_friction``)."""
    push_velocity_mps: Range | None = (-0.5, 0.5)
    """Velocity added to the base along x and along y (world frame) by a push, m/s; not in play mode."""
    push_interval_s: Range = (5.0, 10.0)
    """Time between pushes in each world, drawn uniformly, s."""
    observation_noise: float | None = 1.0
    """Multiplies the uniform noise of each policy observation term (None: no noise); not in play mode."""
    mass: Range | None = None
    """Factor on the mass (and inertia) of each robot body, drawn at startup."""
    com_offset_m: Range | None = None
    """Offset of the centre of mass of the base and torso along each axis, m, drawn at startup."""
    pd_gains: Range | None = None
    """Factor on each actuator's kp, and separately on its kd, drawn at every reset."""
    motor_strength: Range | None = None
    """Factor on each actuator's torque (kp, kd and torque limit), drawn at every reset."""
    joint_damping: Range | None = None
    """Factor on each joint's viscous damping, drawn at every reset."""
    armature: Range | None = None
    """Factor on each joint's armature (reflected rotor inertia), drawn at startup."""
    action_delay_steps: int | None = None
    """Largest delay of the joint targets, policy steps; each world draws 0 to this at every reset."""

    @classmethod
    def full(cls) -> DomainRandomizationCfg:
        """Every term on, with the ranges ``docs/domain_randomization.md`` justifies."""
        return cls(
            friction_per_geom=False,
            mass=(0.85, 1.15),
            com_offset_m=(-0.02, 0.02),
            pd_gains=(0.9, 1.1),
            motor_strength=(0.9, 1.1),
            joint_damping=(0.5, 1.5),
            armature=(0.8, 1.2),
            action_delay_steps=1,
        )


def randomization_events(
    robot: RobotCfg, randomization: DomainRandomizationCfg, play: bool
) -> dict[str, EventTermCfg]:
    """The event terms ``randomization`` turns on for ``robot`` (no pushes in play mode)."""
    dr = randomization
    joints = list(robot.joint_names)
    events: dict[str, EventTermCfg] = {}
    if dr.friction is not None:
        events["friction"] = EventTermCfg(
            func=mdp.randomize_friction,
            mode="startup",
            params={"ranges": dr.friction, "per_geom": dr.friction_per_geom},
        )
    if dr.mass is not None:
        events["mass"] = EventTermCfg(func=mdp.randomize_mass, mode="startup", params={"ranges": dr.mass})
    if dr.com_offset_m is not None:
        bodies = list(dict.fromkeys([robot.base_body, robot.torso_body or robot.base_body]))
        events["com"] = EventTermCfg(
            func=mdp.randomize_com, mode="startup", params={"ranges": dr.com_offset_m, "bodies": bodies}
        )
    if dr.armature is not None:
        events["armature"] = EventTermCfg(
            func=mdp.randomize_armature, mode="startup", params={"ranges": dr.armature, "joints": joints}
        )
    # Both write kp and kd; each keeps the other's factor, so their order does not matter.
    if dr.pd_gains is not None:
        events["pd_gains"] = EventTermCfg(
            func=mdp.randomize_pd_gains,
            mode="reset",
            params={"kp_range": dr.pd_gains, "kd_range": dr.pd_gains, "actuators": joints},
        )
    if dr.motor_strength is not None:
        events["motor_strength"] = EventTermCfg(
            func=mdp.randomize_motor_strength,
            mode="reset",
            params={"ranges": dr.motor_strength, "actuators": joints},
        )
    if dr.joint_damping is not None:
        events["joint_damping"] = EventTermCfg(
            func=mdp.randomize_joint_damping,
            mode="reset",
            params={"ranges": dr.joint_damping, "joints": joints},
        )
    if dr.push_velocity_mps is not None and not play:
        events["push"] = EventTermCfg(
            func=mdp.push_by_setting_velocity,
            mode="interval",
            interval_range_s=dr.push_interval_s,
            params={"velocity_range": {"x": dr.push_velocity_mps, "y": dr.push_velocity_mps}},
        )
    return events


def make_velocity_env_cfg(
    robot: RobotCfg,
    play: bool = False,
    ranges: VelocityRanges | None = None,
    randomization: DomainRandomizationCfg | None = None,
) -> RlEnvCfg:
    """Velocity tracking on flat ground for ``robot``.

    Args:
      robot: the robot; its joints in ``joint_names`` are the actions, in that order.
      play: no observation noise, no pushes (for videos and evaluation); the model randomization
        and the action delay stay.
      ranges: commanded velocity ranges.
      randomization: what to randomize (None: ``DomainRandomizationCfg()``, the defaults).
    """
    ranges = ranges or VelocityRanges()
    randomization = randomization or DomainRandomizationCfg()
    noise_factor = randomization.observation_noise or 0.0
    joints = list(robot.joint_names)
    feet = list(robot.feet_bodies)
    scales = robot.action_scales().tolist()

    def scene():
        spec = add_flat_ground(build_robot_spec(robot))
        # Newton converges in a few iterations on legged robots; capping them bounds the GPU's work per
        # step (the field's practice for humanoid training).
        spec.option.iterations = 10
        spec.option.ls_iterations = 20
        return spec

    def policy_terms(noisy: bool) -> dict[str, ObservationTermCfg]:
        def noise(scale: float) -> NoiseCfg | None:
            return NoiseCfg("uniform", scale * noise_factor) if noisy and noise_factor > 0 else None

        return {
            "base_ang_vel": ObservationTermCfg(func=mdp.base_ang_vel_b, noise=noise(0.2), scale=0.25),
            "projected_gravity": ObservationTermCfg(func=mdp.projected_gravity_b, noise=noise(0.05)),
            "command": ObservationTermCfg(
                func=mdp.generated_commands, params={"command_name": "base_velocity"}
            ),
            "joint_pos": ObservationTermCfg(
                func=mdp.joint_pos_rel, params={"joints": joints}, noise=noise(0.01)
            ),
            "joint_vel": ObservationTermCfg(
                func=mdp.joint_vel, params={"joints": joints}, noise=noise(1.5), scale=0.05
            ),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }

    critic_terms = {"base_lin_vel": ObservationTermCfg(func=mdp.base_lin_vel_b), **policy_terms(False)}
    critic_terms["base_height"] = ObservationTermCfg(func=mdp.base_height)
    critic_terms["feet_contact_force"] = ObservationTermCfg(
        func=mdp.contact_forces, params={"bodies": feet}, scale=1.0 / 400.0
    )

    action_term: type = mdp.JointPositionAction
    action_params = {"actuators": joints, "scale": scales, "use_default_offset": True}
    if randomization.action_delay_steps:
        action_term = mdp.DelayedJointPositionAction
        action_params["max_delay_steps"] = randomization.action_delay_steps

    upper_body = [j for j in joints if any(k in j for k in ("waist", "shoulder", "elbow", "wrist"))]
    hip_yaw_roll = [j for j in joints if "hip_yaw" in j or "hip_roll" in j]
    rewards = {
        "track_lin_vel_xy": RewardTermCfg(
            func=mdp.track_lin_vel_xy_exp, weight=1.0, params={"std": 0.5, "command_name": "base_velocity"}
        ),
        "track_ang_vel_z": RewardTermCfg(
            func=mdp.track_ang_vel_z_exp, weight=1.0, params={"std": 0.5, "command_name": "base_velocity"}
        ),
        "lin_vel_z": RewardTermCfg(func=mdp.lin_vel_z_l2, weight=-1.0),
        "ang_vel_xy": RewardTermCfg(func=mdp.ang_vel_xy_l2, weight=-0.05),
        "flat_orientation": RewardTermCfg(func=mdp.flat_orientation_l2, weight=-2.0),
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-0.01),
        "joint_torques": RewardTermCfg(func=mdp.joint_torques_l2, weight=-1e-5),
        "joint_limits": RewardTermCfg(func=mdp.joint_pos_limits, weight=-1.0, params={"joints": joints}),
        "feet_air_time": RewardTermCfg(
            func=mdp.feet_air_time,
            weight=0.25,
            params={"bodies": feet, "threshold_s": 0.4, "command_name": "base_velocity"},
        ),
        "feet_slide": RewardTermCfg(func=mdp.feet_slide, weight=-0.25, params={"bodies": feet}),
        "terminated": RewardTermCfg(func=mdp.is_terminated, weight=-200.0),
    }
    if upper_body:
        rewards["upper_body_deviation"] = RewardTermCfg(
            func=joint_deviation_l1, weight=-0.1, params={"joints": upper_body}
        )
    if hip_yaw_roll:
        rewards["hip_deviation"] = RewardTermCfg(
            func=joint_deviation_l1, weight=-0.1, params={"joints": hip_yaw_roll}
        )

    terminations = {
        "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
        "fell": TerminationTermCfg(
            func=mdp.root_height_below, params={"minimum_height": 0.5 * robot.base_height}
        ),
        "tilted": TerminationTermCfg(
            func=mdp.bad_orientation, params={"limit_angle_rad": math.radians(60.0)}
        ),
    }
    if robot.illegal_contact_bodies:
        terminations["illegal_contact"] = TerminationTermCfg(
            func=mdp.illegal_contact,
            params={"bodies": list(robot.illegal_contact_bodies), "contact_force_n": 1.0},
        )

    events = {
        "reset_base": EventTermCfg(
            func=mdp.reset_root_state_uniform,
            mode="reset",
            params={
                "pose_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5), "yaw": (-math.pi, math.pi)},
                "velocity_range": {k: (-0.2, 0.2) for k in ("x", "y", "z", "roll", "pitch", "yaw")},
            },
        ),
        "reset_joints": EventTermCfg(
            func=mdp.reset_joints_by_offset,
            mode="reset",
            params={"position_range": (-0.1, 0.1), "velocity_range": (-0.1, 0.1), "joints": joints},
        ),
    }
    events.update(randomization_events(robot, randomization, play))

    return RlEnvCfg(
        scene=scene,
        init_keyframe="home",
        timestep=0.005,
        decimation=4,
        episode_length_s=20.0,
        observations={
            "policy": ObservationGroupCfg(terms=policy_terms(not play), enable_corruption=not play),
            "critic": ObservationGroupCfg(terms=critic_terms),
        },
        actions={"joint_pos": ActionTermCfg(func=action_term, params=action_params)},
        commands={
            "base_velocity": CommandTermCfg(
                func=mdp.UniformVelocityCommand,
                resampling_time_range_s=(10.0, 10.0),
                params={
                    "lin_vel_x": ranges.lin_vel_x,
                    "lin_vel_y": ranges.lin_vel_y,
                    "ang_vel_z": ranges.ang_vel_z,
                    "rel_standing_envs": 0.1,
                },
            )
        },
        rewards=rewards,
        terminations=terminations,
        events=events,
        viewer=ViewerCfg(track_body=robot.base_body, distance=3.0, elevation=-15.0, azimuth=120.0),
        # Every observation and manager reset reads qpos, qvel and the managers' own buffers, so the
        # forward pass after resets changes nothing the step returns: skip it (checked when the env
        # is built; warplab.envs.reset_forward). A task that adds a term reading poses (the rough
        # task's height scan) sets "positions_velocities"; on an H100 (4,096 worlds, 2026-11-25)
        # that alone took the env step from 0.70 to 0.82 of raw physics against "full".
        reset_forward="none",
    )
