"""``humanoid-push-recovery``: velocity tracking (with 30% of commands asking to stand still) while
the base is pushed in random horizontal directions every 3 to 6 s; the push strength follows a
curriculum on the survival rate of pushed episodes. Success is not falling.

Built for any ``RobotCfg`` from ``make_velocity_env_cfg`` (same scene, actions and observations, an
edited copy); ``docs/tasks/humanoid_recovery.md`` describes it.
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
)
from warplab.tasks.recovery import mdp as recovery
from warplab.tasks.velocity.env_cfg import make_velocity_env_cfg

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


def make_humanoid_push_recovery_env_cfg(
    play: bool = False, push_kind: PushKind = "velocity", push_strength: float | None = None
) -> RlEnvCfg:
    """The humanoid under velocity pushes from 0.5 m/s up to 3 m/s (play: 1 m/s fixed); 20 s episodes."""
    return make_push_recovery_env_cfg(HUMANOID_ROBOT_CFG, play, push_kind, push_strength)
