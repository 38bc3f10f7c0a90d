"""``humanoid-getup``: every episode starts with the robot lying on its back, front or side in a
random posture; it must stand up and stay up. Only a time-out ends an episode (and a diverged
simulation). Success is standing at the end of the episode.

Built for any ``RobotCfg`` from ``make_velocity_env_cfg`` (same scene, actions and observations, an
edited copy); ``docs/tasks/humanoid_recovery.md`` describes it.
"""

from __future__ import annotations

import dataclasses

from warplab.assets.robot_cfg import RobotCfg
from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
from warplab.envs import mdp
from warplab.envs.config import (
    CurriculumTermCfg,
    EventTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
)
from warplab.envs.mdp.curricula import RewardWeightCurriculum
from warplab.tasks.recovery import mdp as recovery
from warplab.tasks.velocity.env_cfg import make_velocity_env_cfg


def make_getup_env_cfg(robot: RobotCfg, play: bool = False, action_scale_factor: float = 2.0) -> RlEnvCfg:
    """Getting up from lying on the back, front or side, and staying up; 10 s episodes.

    Args:
      robot: the robot (see ``make_velocity_env_cfg``); its ``base_height`` is the standing height.
      play: no observation noise.
      action_scale_factor: multiplies the robot's action scales. Getting up takes joint targets far
        from the standing pose (a tucked knee is 2 rad from it), which walking's scale of 0.25 rad
        per unit of action puts many standard deviations of exploration noise away.
    """
    base = make_velocity_env_cfg(robot, play=play)
    action = base.actions["joint_pos"]
    scales = [action_scale_factor * s for s in robot.action_scales().tolist()]
    actions = {
        **base.actions,
        "joint_pos": dataclasses.replace(action, params={**action.params, "scale": scales}),
    }
    joints = list(robot.joint_names)
    standing = {"standing_height": robot.base_height, "height_ratio": 0.9, "min_upright": 0.9}

    # The same observations, without the velocity command.
    observations = {
        group: dataclasses.replace(cfg, terms={k: t for k, t in cfg.terms.items() if k != "command"})
        for group, cfg in base.observations.items()
    }
    # The velocity task's randomization stays; its standing resets and its pushes go.
    events = {
        name: term
        for name, term in base.events.items()
        if name not in ("reset_base", "reset_joints") and term.mode != "interval"
    }
    events["reset_lying"] = EventTermCfg(
        func=recovery.ResetLying,
        mode="reset",
        params={
            "pose_weights": dict.fromkeys(recovery.LYING_POSES, 1.0),
            "tilt_range_rad": (-0.2, 0.2),
            "joint_scale": 0.5,
            "drop_height_range_m": (0.05, 0.15),
            "settle_s": 1.0,
            "pool_rounds": 1,
            "joints": joints,
        },
    )
    rewards = {
        "base_height": RewardTermCfg(
            func=recovery.base_height_progress,
            weight=2.0,
            params={"lying_height": 0.15 * robot.base_height, "standing_height": robot.base_height},
        ),
        "upright": RewardTermCfg(func=mdp.upright, weight=1.0),
        "standing": RewardTermCfg(func=recovery.is_standing, weight=2.0, params=dict(standing)),
        "standing_still": RewardTermCfg(
            func=recovery.joint_vel_l2_when_standing, weight=-1e-3, params={**standing, "joints": joints}
        ),
        "joint_vel": RewardTermCfg(func=mdp.joint_vel_l2, weight=-1e-4, params={"joints": joints}),
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-0.01),
        "joint_torques": RewardTermCfg(func=mdp.joint_torques_l2, weight=-1e-5),
        "joint_limits": RewardTermCfg(func=mdp.joint_pos_limits, weight=-1.0, params={"joints": joints}),
        # Without these two the policy leaps up (measured 2026-11-25: every world left the floor,
        # for 0.44 s on average, base rising at 2.9 m/s): rising fast pays, flight cost nothing.
        # A second of flight now costs more than the standing reward a leap gains (~1 s earlier).
        # They come in with the curriculum "anti_leap" once most episodes end standing: on from the
        # start, no world learned to stand in 7.5 minutes (H100, 2026-11-25).
        "airborne": RewardTermCfg(func=recovery.airborne, weight=-20.0),
        "base_rise_speed": RewardTermCfg(
            func=recovery.base_rise_speed_above, weight=-2.0, params={"limit_m_s": 0.8}
        ),
    }
    if robot.feet_bodies:
        rewards["feet_under_base"] = RewardTermCfg(
            func=recovery.feet_under_base_exp,
            weight=0.5,
            params={"bodies": list(robot.feet_bodies), "std": 0.2},
        )
    terminations = {
        "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
        # Fires only with the time-out, so it ends nothing early: it logs the success rate
        # (Episode_Termination/success_standing, the share of episodes that end standing).
        "success_standing": TerminationTermCfg(
            func=recovery.standing_at_time_out, time_out=True, params=dict(standing)
        ),
    }
    return dataclasses.replace(
        base,
        observations=observations,
        actions=actions,
        commands={},
        events=events,
        curriculum={
            "anti_leap": CurriculumTermCfg(
                func=RewardWeightCurriculum,
                params={
                    "rewards": ["airborne", "base_rise_speed"],
                    "success_term": "success_standing",
                    "window": None,
                    "raise_above": 0.5,
                    "lower_below": 0.25,
                    "step": 0.2,
                    "initial_scale": 0.0,
                    "adaptive": not play,
                },
            )
        },
        rewards=rewards,
        terminations=terminations,
        episode_length_s=10.0,
        # The whole body lies on the ground, and limbs touch each other, far more often than in the
        # capacity probe's one fall: more room for contacts and constraint rows.
        sim=dataclasses.replace(base.sim, capacity_headroom=3.0),
    )


def make_humanoid_getup_env_cfg(play: bool = False) -> RlEnvCfg:
    """The humanoid gets up from lying on its back, front or side; 10 s episodes."""
    return make_getup_env_cfg(HUMANOID_ROBOT_CFG, play)
