"""Recovery tasks for the project's humanoid: ``humanoid-push-recovery`` and ``humanoid-getup``.

``humanoid-push-recovery``: velocity tracking (with 30% of commands asking to stand still) while
the base is pushed in random horizontal directions every 3 to 6 s; the push strength follows a
curriculum on the survival rate of pushed episodes. Success is not falling.

``humanoid-getup``: every episode starts with the robot lying on its back, front or side in a random
posture; it must stand up and stay up. Only a time-out ends an episode (and a diverged simulation).
Success is standing at the end of the episode.

Both are built for any ``RobotCfg`` from ``make_velocity_env_cfg`` (same scene, actions and
observations, edited copies); ``docs/tasks/humanoid_recovery.md`` describes them.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

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
from warplab.envs.mdp import recovery
from warplab.envs.mdp.curricula import RewardWeightCurriculum
from warplab.tasks.registry import register_task
from warplab.tasks.velocity import make_velocity_agent_cfg, make_velocity_env_cfg

PushKind = Literal["velocity", "force"]


@dataclasses.dataclass(frozen=True)
class PushSchedule:
    """Push strengths of one kind of push, in its unit (m/s for velocity pushes, N for forces)."""

    initial: float
    """Strength training starts from."""
    step: float
    """Change per curriculum decision."""
    limits: tuple[float, float]
    """Lowest and highest strength the curriculum reaches."""
    play: float
    """Fixed strength of play mode (evaluation)."""


PUSH_SCHEDULES: dict[str, PushSchedule] = {
    # Velocity kicks: 0.5 m/s is what walking policies see in training anyway; 2 to 3 m/s knocks over
    # any humanoid of this size that does not step.
    "velocity": PushSchedule(initial=0.5, step=0.1, limits=(0.1, 3.0), play=1.0),
    # Forces for 0.2 s on the torso: 100 N * 0.2 s on 35 kg is a 0.6 m/s change of the centre of mass.
    "force": PushSchedule(initial=100.0, step=20.0, limits=(20.0, 600.0), play=200.0),
}

PUSH_INTERVAL_S = (3.0, 6.0)
"""Time between pushes, s: room to recover from one before the next."""
FORCE_DURATION_S = 0.2
"""How long a force push lasts, s."""
SURVIVAL_WINDOW = 256
"""Pushed episodes per logged survival rate in training (play mode counts them all)."""


def make_push_recovery_env_cfg(
    robot: RobotCfg,
    play: bool = False,
    push_kind: PushKind = "velocity",
    push_strength: float | None = None,
) -> RlEnvCfg:
    """Velocity tracking under random pushes whose strength grows with a curriculum.

    Args:
      robot: the robot (see ``make_velocity_env_cfg``).
      play: no observation noise; pushes of one fixed strength (no curriculum), every push exactly
        that strong, and the survival rate of pushed episodes counted over the whole run.
      push_kind: ``"velocity"`` kicks the base (strength in m/s); ``"force"`` pushes the torso with
        a force for 0.2 s through ``xfrc_applied`` (strength in N).
      push_strength: the fixed strength of play mode, or the initial one of training; None takes
        ``PUSH_SCHEDULES[push_kind]``.
    """
    if push_kind not in PUSH_SCHEDULES:
        raise ValueError(f"push_kind must be one of {sorted(PUSH_SCHEDULES)}, got {push_kind!r}")
    schedule = PUSH_SCHEDULES[push_kind]
    if push_strength is None:
        push_strength = schedule.play if play else schedule.initial
    base = make_velocity_env_cfg(robot, play=play)

    command = base.commands["base_velocity"]
    commands = {
        **base.commands,
        "base_velocity": dataclasses.replace(command, params={**command.params, "rel_standing_envs": 0.3}),
    }
    events = {name: term for name, term in base.events.items() if name != "push"}
    events["push"] = EventTermCfg(
        func=recovery.RandomPush,
        mode="interval",
        interval_range_s=PUSH_INTERVAL_S,
        params={
            "kind": push_kind,
            "strength": float(push_strength),
            "min_ratio": 1.0 if play else 0.5,
            "body": robot.torso_body or robot.base_body,
            "duration_s": FORCE_DURATION_S,
        },
    )
    curriculum = {
        "push_strength": CurriculumTermCfg(
            func=recovery.PushStrengthCurriculum,
            params={
                "event_name": "push",
                "window": None,
                "raise_above": 0.8,
                "lower_below": 0.5,
                "step": schedule.step,
                "limits": schedule.limits,
                "adaptive": not play,
            },
        ),
        "push_survival_rate": CurriculumTermCfg(
            func=recovery.PushedSurvivalRate,
            params={"event_name": "push", "window": None if play else SURVIVAL_WINDOW},
        ),
    }
    rewards = {
        **base.rewards,
        "alive": RewardTermCfg(func=mdp.is_alive, weight=1.0),
        "upright": RewardTermCfg(func=mdp.upright, weight=0.5),
        "base_height": RewardTermCfg(
            func=recovery.base_height_exp, weight=0.5, params={"target_height": robot.base_height, "std": 0.1}
        ),
    }
    return dataclasses.replace(base, commands=commands, events=events, curriculum=curriculum, rewards=rewards)


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


# ---------------------------------------------------------------------------- the humanoid
def make_humanoid_push_recovery_env_cfg(
    play: bool = False, push_kind: PushKind = "velocity", push_strength: float | None = None
) -> RlEnvCfg:
    """The humanoid under velocity pushes from 0.5 m/s up to 3 m/s (play: 1 m/s fixed); 20 s episodes."""
    return make_push_recovery_env_cfg(HUMANOID_ROBOT_CFG, play, push_kind, push_strength)


def make_humanoid_getup_env_cfg(play: bool = False) -> RlEnvCfg:
    """The humanoid gets up from lying on its back, front or side; 10 s episodes."""
    return make_getup_env_cfg(HUMANOID_ROBOT_CFG, play)


# PPO settings as the field uses them for humanoid locomotion and getting up (rsl_rl defaults with
# wider networks). Untested here on a GPU so far: no training run has confirmed them yet.
def make_humanoid_push_recovery_agent_cfg():
    """The velocity task's settings, with more iterations: the push curriculum needs time to climb.
    A policy trained on ``humanoid-velocity-flat`` has the same observations and actions, so it is a
    good starting point."""
    return dataclasses.replace(make_velocity_agent_cfg("humanoid-push-recovery"), max_iterations=5000)


def make_humanoid_getup_agent_cfg():
    """Longer rollouts (32 steps) and more exploration (entropy 0.01) for a task whose reward comes
    from large, coordinated motions."""
    from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg

    return RunnerCfg(
        experiment_name="humanoid-getup",
        max_iterations=6000,
        save_interval=250,
        ppo=PpoCfg(
            num_steps_per_env=32,
            learning_rate=1e-3,
            entropy_coef=0.01,
            num_mini_batches=4,
            gamma=0.99,
            lam=0.95,
        ),
        policy=PolicyCfg(
            actor_hidden_dims=(512, 256, 128), critic_hidden_dims=(512, 256, 128), init_noise_std=1.0
        ),
    )


register_task(
    "humanoid-push-recovery",
    make_humanoid_push_recovery_env_cfg,
    make_humanoid_push_recovery_agent_cfg,
    "The humanoid walks or stands at commanded velocities and must not fall under pushes of growing strength.",
)
register_task(
    "humanoid-getup",
    make_humanoid_getup_env_cfg,
    make_humanoid_getup_agent_cfg,
    "The humanoid starts lying on its back, front or side, stands up and stays up.",
)
