"""Terms only ``arm-pick-up-dropped`` uses: the drop that starts each episode, the goal command that
also counts how long the object has been held at the goal's height (the success), the reward for
holding it there at the end of the episode, and the termination for an object that rolled out of
reach. Reaching, lifting and goal tracking are arm-lift's (``warplab.tasks.lift.mdp``), and so is the
goal command's class, ``HeldGoalCommand`` (with ``criterion="height"`` here), re-exported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.events import _rows
from warplab.envs.mdp.math import quat_rotate_inverse, uniform
from warplab.envs.mdp.object_events import reset_object_pose
from warplab.envs.mdp.objects import object_free_joint, object_pos_in_frame
from warplab.tasks.lift.mdp import HeldGoalCommand

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

Range = tuple[float, float]
_VEL_KEYS = ("x", "y", "z", "roll", "pitch", "yaw")


def drop_object(
    env: RlEnv,
    mask: torch.Tensor,
    object: str,
    frame_body: str,
    position: Sequence[float],
    position_range: dict[str, Range],
    height_range: Range,
    velocity_range: dict[str, Range],
) -> None:
    """Puts the object in the air over a surface and lets it go: its lowest point ``height_range``
    (m, uniform) over the surface through the frame's origin (the base stands on the table top, so
    the table top), at x, y ``position`` plus uniform ``position_range`` offsets (m, frame axes),
    turned uniformly over all rotations, with a uniform velocity ``velocity_range`` (keys ``x, y, z``
    in m/s and ``roll, pitch, yaw`` in rad/s, world axes; missing keys 0), so it lands anywhere in its
    area, bounces and rolls. Worlds outside ``mask`` are left alone.
    """
    unknown = set(velocity_range) - set(_VEL_KEYS)
    if unknown:
        raise ValueError(f"drop_object velocity_range has keys {sorted(unknown)}; allowed: {list(_VEL_KEYS)}")
    if set(position_range) - {"x", "y"}:
        raise ValueError(f"drop_object position_range takes x and y (m), got {sorted(position_range)}")
    lo, hi = height_range
    if not 0.0 < lo <= hi:
        raise ValueError(f"drop_object height_range must be 0 < low <= high (m), got {height_range}")
    # The surface point lifted by the drawn height; ``on_surface`` then adds the object's extent
    # below its origin in the drawn orientation, so the height is that of its lowest point.
    reset_object_pose(
        env,
        mask,
        object,
        frame_body=frame_body,
        position=(float(position[0]), float(position[1]), 0.0),
        position_range={**position_range, "z": (lo, hi)},
        rotation="xyz",
        on_surface=True,
    )
    n, dev = env.num_envs, env.device
    vel = torch.stack([uniform(*velocity_range.get(k, (0.0, 0.0)), (n,), env.rng, dev) for k in _VEL_KEYS], 1)
    q, v = object_free_joint(env, object)
    qvel = env.sim.qvel
    # A free joint's angular velocity is in the body's own axes: turn the world-axes draw into them.
    quat = env.sim.qpos[:, q + 3 : q + 7]
    ang_b = _rotate_inverse(quat, vel[:, 3:])
    qvel[:, v : v + 6] = _rows(mask, torch.cat([vel[:, :3], ang_b], dim=1), qvel[:, v : v + 6])


def _rotate_inverse(quat: torch.Tensor, vec: torch.Tensor) -> torch.Tensor:
    return quat_rotate_inverse(quat / torch.linalg.vector_norm(quat, dim=1, keepdim=True), vec)


def held_goal(env: RlEnv, command_name: str) -> HeldGoalCommand:
    """The env's command ``command_name``, checked to be a ``HeldGoalCommand``."""
    term = env.command_manager.term(command_name)
    if not isinstance(term, HeldGoalCommand):
        raise ValueError(f"command {command_name!r} is a {type(term).__name__}, not a HeldGoalCommand")
    return term


def held_at_goal_height_late(env: RlEnv, command_name: str, window_s: float) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the object is at the goal's height (``HeldGoalCommand.at_goal_height``)
    during the episode's last ``window_s`` s, else 0.0: the task is to still hold it at the end."""
    window_steps = round(window_s / env.policy_dt)
    late = env.episode_length_buf >= env.max_episode_length - window_steps
    return (late & held_goal(env, command_name).at_goal_height()).float()


def held_steps_s(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, 1]`` how long the object has been held at the goal's height, s (for the critic)."""
    return held_goal(env, command_name).held_steps.float()[:, None] * env.policy_dt


def object_beyond_reach(env: RlEnv, object: str, frame_body: str, max_distance: float) -> torch.Tensor:
    """``[num_envs]`` True where the object's origin is more than ``max_distance`` m from the frame's
    origin in the frame's x-y plane (the base's: horizontally, on the table): it rolled where a top
    grasp cannot follow. A terminal failure: ``time_out=False``."""
    xy = object_pos_in_frame(env, object, frame_body=frame_body)[:, :2]
    return torch.linalg.vector_norm(xy, dim=1) > max_distance


__all__ = [
    "HeldGoalCommand",
    "drop_object",
    "held_at_goal_height_late",
    "held_goal",
    "held_steps_s",
    "object_beyond_reach",
]
