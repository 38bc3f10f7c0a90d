"""Velocity tracking for legged robots: follow commanded forward, lateral and yaw velocities.

``make_velocity_env_cfg(robot)`` builds the task for any ``RobotCfg``; robots register their own
variants (``humanoid-velocity-flat`` for the project's humanoid). The policy sees what a robot's
sensors give (IMU angular velocity, gravity direction, joint positions and velocities, the command,
its last action), with noise; the critic also sees the true base velocity, without noise.

Rewards follow what the field uses for humanoid walking: exponential tracking of the commanded
planar velocity and yaw rate; penalties on vertical and roll/pitch motion, tilt, action rate, torques,
joint limits and deviation of the arms and waist from their default; a reward for steps of useful
length (feet air time) and a penalty on feet slipping while in contact; a penalty for falling.
"""

from __future__ import annotations

import dataclasses
import math

import torch

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


@dataclasses.dataclass
class VelocityRanges:
    """Ranges of the commanded velocities, drawn uniformly."""

    lin_vel_x: tuple[float, float] = (-1.0, 1.0)
    """Forward speed, m/s."""
    lin_vel_y: tuple[float, float] = (-0.5, 0.5)
    """Lateral speed, m/s."""
    ang_vel_z: tuple[float, float] = (-1.0, 1.0)
    """Yaw rate, rad/s."""


def joint_deviation_l1(env, joints) -> torch.Tensor:
    """Sum of |joint position - default| over ``joints``, rad ``[num_envs]``."""
    ids = env.index.joint_qpos_ids(joints)
    return torch.sum(torch.abs(env.sim.qpos[:, ids] - env.sim.init_qpos[ids]), dim=1)


def make_velocity_env_cfg(
    robot: RobotCfg, play: bool = False, ranges: VelocityRanges | None = None
) -> RlEnvCfg:
    """Velocity tracking on flat ground for ``robot``.

    Args:
      robot: the robot; its joints in ``joint_names`` are the actions, in that order.
      play: no observation noise, no pushes, longer episodes (for videos and evaluation).
      ranges: commanded velocity ranges.
    """
    ranges = ranges or VelocityRanges()
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
            return NoiseCfg("uniform", scale) if noisy else None

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
        "friction": EventTermCfg(func=mdp.randomize_friction, mode="startup", params={"ranges": (0.4, 1.2)}),
    }
    if not play:
        events["push"] = EventTermCfg(
            func=mdp.push_by_setting_velocity,
            mode="interval",
            interval_range_s=(5.0, 10.0),
            params={"velocity_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5)}},
        )

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
        actions={
            "joint_pos": ActionTermCfg(
                func=mdp.JointPositionAction,
                params={"actuators": joints, "scale": scales, "use_default_offset": True},
            )
        },
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
    )


def make_velocity_agent_cfg(experiment_name: str):
    """PPO settings for velocity tracking with thousands of worlds on one GPU."""
    from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg

    return RunnerCfg(
        experiment_name=experiment_name,
        max_iterations=3000,
        save_interval=250,
        ppo=PpoCfg(num_steps_per_env=24, learning_rate=1e-3, entropy_coef=0.008, num_mini_batches=4),
        policy=PolicyCfg(
            actor_hidden_dims=(512, 256, 128), critic_hidden_dims=(512, 256, 128), init_noise_std=1.0
        ),
    )
