"""Reward terms of an object and its goal (``OrientationGoalCommand``): ``f(env, **params) -> [num_envs]``.

After Isaac Lab's Shadow-hand reorientation (itself after OpenAI's): a distance to the goal
position, ``1 / (|rotation error| + eps)``, a bonus when the goal is reached and a penalty when the
object drops; the action penalties are ``mdp.action_l2`` and ``mdp.action_rate_l2``. Penalties are
positive here; give them negative weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.goals import goal_command
from warplab.envs.mdp.object_terminations import object_dropped

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


def object_goal_distance(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs]`` distance from the object's body origin to the goal position, m (a penalty)."""
    return goal_command(env, command_name).position_error()


def rotation_alignment(env: RlEnv, command_name: str, eps: float = 0.1) -> torch.Tensor:
    """``[num_envs]`` ``1 / (angle + eps)``, 1/rad, with ``angle`` the object's orientation error to
    the goal in rad: ``1 / eps`` at the goal (10 for the usual 0.1), about 0.31 half a turn away."""
    return 1.0 / (goal_command(env, command_name).orientation_error() + eps)


def goal_reached_bonus(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs]`` 1 where the object is at its goal in this step's state (the success the
    command then counts and answers with a new goal), else 0."""
    return goal_command(env, command_name).is_success().float()


def object_dropped_penalty(
    env: RlEnv,
    object: str,
    frame_body: str | None = None,
    frame_site: str | None = None,
    max_distance: float | None = None,
    min_height: float | None = None,
) -> torch.Tensor:
    """``[num_envs]`` 1 where ``object_dropped`` (same params) holds, else 0 (a penalty)."""
    return object_dropped(env, object, frame_body, frame_site, max_distance, min_height).float()
