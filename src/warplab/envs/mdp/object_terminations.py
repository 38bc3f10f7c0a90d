"""Termination terms of an object and its goal: ``f(env, **params) -> [num_envs]`` bool.

Which are time-outs (``TerminationTermCfg(time_out=True)``): a drop is a failure, a terminal state
(no bootstrap). Reaching the success cap ends an episode that could have gone on collecting
rewards, and the steps without progress are a time limit on one goal: neither state is terminal,
so both are truncations, as Isaac Lab counts its maximum of consecutive successes among the
time-outs; the learner then bootstraps from the value of the last observation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.goals import goal_command
from warplab.envs.mdp.objects import object_pos_in_frame, object_pos_w
from warplab.term_export import DropExport, SuccessCapExport, declares

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


@declares(DropExport())
def object_dropped(
    env: RlEnv,
    object: str,
    frame_body: str | None = None,
    frame_site: str | None = None,
    max_distance: float | None = None,
    min_height: float | None = None,
) -> torch.Tensor:
    """``[num_envs]`` True when the object is farther than ``max_distance`` m from the frame's origin
    (a palm: the hand lost it), or its body origin is lower than ``min_height`` m in the world (it
    fell to the floor), either that is given. A terminal failure: ``time_out=False``."""
    if max_distance is None and min_height is None:
        raise ValueError("object_dropped needs max_distance (m from the frame) or min_height (m), or both")
    dropped = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
    if max_distance is not None:
        offset = object_pos_in_frame(env, object, frame_body, frame_site)
        dropped = dropped | (torch.linalg.vector_norm(offset, dim=1) > max_distance)
    if min_height is not None:
        dropped = dropped | (object_pos_w(env, object)[:, 2] < min_height)
    return dropped


def no_progress(env: RlEnv, command_name: str, max_steps: int) -> torch.Tensor:
    """``[num_envs]`` True at the ``max_steps``-th policy step in a row without reaching the goal
    (counting from the last success or the episode's start): with no success at all, the episode
    lasts ``max_steps`` steps. A time limit on the goal: use ``time_out=True``."""
    goal = goal_command(env, command_name)
    return (goal.steps_since_success + 1 >= max_steps) & ~goal.is_success()


@declares(SuccessCapExport())
def success_cap(env: RlEnv, command_name: str, max_successes: int) -> torch.Tensor:
    """``[num_envs]`` True at the step whose success is the episode's ``max_successes``-th (50 in the
    Shadow-hand tasks): the episode is complete. Not a failure: use ``time_out=True``."""
    goal = goal_command(env, command_name)
    return goal.consecutive_successes + goal.is_success() >= max_successes
