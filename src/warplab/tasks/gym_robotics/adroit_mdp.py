"""Terms of Gymnasium-Robotics' Adroit tasks (``AdroitHandDoor-v1``, ``AdroitHandRelocate-v1``), as
the installed package computes them (``gymnasium_robotics/envs/adroit_hand/adroit_door.py`` and
``adroit_relocate.py``, gymnasium-robotics 1.4.2).

Positions are world-frame, m; joint positions rad (hinges) or m (slides). As in the package, the
observations and rewards read MuJoCo's data right after the physics substeps: sites and bodies are
where the last substep's kinematics put them (the state before that substep's integration), in
MuJoCo's C engine and in MuJoCo Warp alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.math import uniform

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


# ---------------------------------------------------------------- scene lookups
def _one(env: RlEnv, kind: str, name: str) -> int:
    """The index of the one element of ``kind`` named ``name``, looked up once."""

    def look_up() -> int:
        ids = env.index.ids(kind, name)
        if len(ids) != 1:
            raise ValueError(f"the scene must have one {kind} named {name!r}, it has {len(ids)}")
        return int(ids[0])

    return int(env.index.once(("adroit", kind, name), look_up))


def site_pos(env: RlEnv, site: str) -> torch.Tensor:
    """``[num_envs, 3]`` the site's position (``site_xpos``), m, world frame."""
    return env.sim.site_xpos[:, _one(env, "site", site)]


def body_pos(env: RlEnv, body: str) -> torch.Tensor:
    """``[num_envs, 3]`` the body's origin (``xpos``), m, world frame."""
    return env.sim.xpos[:, _one(env, "body", body)]


def _point(env: RlEnv, name: str) -> torch.Tensor:
    """A site's position, or a body's for ``body:<name>``: ``[num_envs, 3]``, m, world frame."""
    if name.startswith("body:"):
        return body_pos(env, name[5:])
    return site_pos(env, name)


def joint_pos(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs]`` the position of the hinge or slide joint ``joint`` (rad or m)."""
    # Indexed by the id tensor, not by its element: a 0-d index would be read on the host.
    return env.sim.qpos[:, env.index.joint_qpos_ids(joint)][:, 0]


# ---------------------------------------------------------------- observations
def qpos_columns(env: RlEnv, start: int, stop: int) -> torch.Tensor:
    """``[num_envs, k]`` the columns ``qpos[start:stop]`` (Python's slice, negative ends from the
    back), as the package slices its ``qpos`` (rad or m)."""
    return env.sim.qpos[:, start:stop]


def point_offset(env: RlEnv, a: str, b: str) -> torch.Tensor:
    """``[num_envs, 3]`` position of ``a`` minus that of ``b`` (sites, or ``body:<name>``), m, world."""
    return _point(env, a) - _point(env, b)


def point_pos(env: RlEnv, point: str) -> torch.Tensor:
    """``[num_envs, 3]`` position of ``point`` (a site, or ``body:<name>``), m, world frame."""
    return _point(env, point)


def joint_pos_column(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs, 1]`` the position of the joint ``joint`` (rad or m)."""
    return joint_pos(env, joint)[:, None]


def joint_above_sign(env: RlEnv, joint: str, threshold: float) -> torch.Tensor:
    """``[num_envs, 1]`` 1 where the joint's position is above ``threshold``, -1 elsewhere (the
    door's ``door_open`` flag: the hinge past 1 rad)."""
    above = joint_pos(env, joint) > threshold
    return torch.where(above, 1.0, -1.0)[:, None]


# ---------------------------------------------------------------- rewards and success
def point_distance(env: RlEnv, a: str, b: str) -> torch.Tensor:
    """``[num_envs]`` distance between ``a`` and ``b`` (sites, or ``body:<name>``), m."""
    return torch.linalg.vector_norm(point_offset(env, a, b), dim=1)


def joint_error_sq(env: RlEnv, joint: str, target: float) -> torch.Tensor:
    """``[num_envs]`` squared distance of the joint's position from ``target`` (rad² or m²)."""
    return (joint_pos(env, joint) - target).square()


def qvel_sq_sum(env: RlEnv) -> torch.Tensor:
    """``[num_envs]`` sum of squares of every velocity of the model (``qvel``), (rad/s)² and (m/s)²."""
    return env.sim.qvel.square().sum(dim=1)


def joint_past_bonus(env: RlEnv, joint: str, bonuses: tuple[tuple[float, float], ...]) -> torch.Tensor:
    """``[num_envs]`` sum of the bonuses ``(threshold, amount)`` whose threshold the joint's position
    is strictly above (the door's 2, 8 and 10 past 0.2, 1.0 and 1.35 rad)."""
    q = joint_pos(env, joint)
    total = torch.zeros_like(q)
    for threshold, amount in bonuses:
        total = total + amount * (q > threshold).float()
    return total


def joint_at_least(env: RlEnv, joint: str, threshold: float) -> torch.Tensor:
    """``[num_envs]`` bool: the joint's position is at least ``threshold`` (the door's success,
    hinge at 1.35 rad or more)."""
    return joint_pos(env, joint) >= threshold


def points_within(env: RlEnv, a: str, b: str, distance: float) -> torch.Tensor:
    """``[num_envs]`` bool: ``a`` and ``b`` are closer than ``distance`` m (the ball's success,
    within 0.1 m of the target)."""
    return point_distance(env, a, b) < distance


def points_near_bonus(env: RlEnv, a: str, b: str, bonuses: tuple[tuple[float, float], ...]) -> torch.Tensor:
    """``[num_envs]`` sum of the bonuses ``(distance, amount)`` whose distance ``a`` and ``b`` are
    closer than (the ball's 10 and 20 within 0.1 and 0.05 m of the target)."""
    d = point_distance(env, a, b)
    total = torch.zeros_like(d)
    for within, amount in bonuses:
        total = total + amount * (d < within).float()
    return total


def body_lifted(env: RlEnv, body: str, height: float) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the body's origin is above ``height`` m, else 0 (the ball off the table)."""
    return (body_pos(env, body)[:, 2] > height).float()


def distance_while_lifted(env: RlEnv, a: str, b: str, body: str, height: float) -> torch.Tensor:
    """``[num_envs]`` distance between ``a`` and ``b`` (m) where ``body`` is above ``height`` m, else 0."""
    return point_distance(env, a, b) * body_lifted(env, body, height)


def joint_success_reward(env: RlEnv, joint: str, threshold: float) -> torch.Tensor:
    """``[num_envs]`` the package's sparse reward: 10 at success (``joint_at_least``), else -0.1."""
    return torch.where(joint_at_least(env, joint, threshold), 10.0, -0.1)


def points_success_reward(env: RlEnv, a: str, b: str, distance: float) -> torch.Tensor:
    """``[num_envs]`` the package's sparse reward: 10 at success (``points_within``), else -0.1."""
    return torch.where(points_within(env, a, b, distance), 10.0, -0.1)


def success_at_time_out(env: RlEnv, success: str, **params: object) -> torch.Tensor:
    """``[num_envs]`` bool: the episode times out now in a success state (``success``: the name of
    ``joint_at_least`` or ``points_within``, called with ``params``). A termination with
    ``time_out=True`` that ends nothing early; the episode statistics log the share of episodes
    that end in success (``Episode_Termination/<name>``)."""
    timed_out = env.episode_length_buf >= env.max_episode_length
    return timed_out & SUCCESS_CHECKS[success](env, **params)


SUCCESS_CHECKS: dict[str, Callable[..., torch.Tensor]] = {
    "joint_at_least": joint_at_least,
    "points_within": points_within,
}
"""The success conditions by name, as ``success_at_time_out`` takes them."""


# ---------------------------------------------------------------- resets
def place_body_uniform(
    env: RlEnv, mask: torch.Tensor, body: str, ranges: dict[str, tuple[float, float]]
) -> None:
    """Reset event: the body's place in its parent (``body_pos``, m) drawn uniformly per axis from
    ``ranges`` (``{"x": (low, high), ...}``; axes not named keep their value), in the worlds of
    ``mask``, as the package's ``reset_model`` writes ``model.body_pos`` (the door's frame, the
    ball). A body welded to the world (the door's frame) has its geoms placed by the env's reset
    after the reset events."""
    _field_uniform(env, mask, "body_pos", _one(env, "body", body), ranges)


def place_site_uniform(
    env: RlEnv, mask: torch.Tensor, site: str, ranges: dict[str, tuple[float, float]]
) -> None:
    """Reset event: the site's place in its body (``site_pos``, m) drawn as ``place_body_uniform``
    (the relocation target)."""
    _field_uniform(env, mask, "site_pos", _one(env, "site", site), ranges)


def _field_uniform(
    env: RlEnv, mask: torch.Tensor, field: str, row: int, ranges: dict[str, tuple[float, float]]
) -> None:
    values = env.sim.model_field(field)
    for axis, (low, high) in ranges.items():
        column = "xyz".index(axis)
        draw = uniform(low, high, (env.num_envs,), env.rng, env.device)
        values[:, row, column] = torch.where(mask, draw, values[:, row, column])
