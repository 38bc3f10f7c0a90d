"""Event terms for objects: ``f(env, mask [num_envs] bool, **params)``, changing the masked worlds only.

A reset that places an object in a hand or on a surface, a per-world size, and a per-world colour
(a per-world shape: ``object_shapes.randomize_object_shape``).
An object's mass and friction are ``mdp.randomize_mass(bodies=object)`` and
``mdp.randomize_friction(geoms=...)``; a hand's servo gains, joint damping, action delay and
observation noise are ``mdp.randomize_pd_gains``, ``mdp.randomize_joint_damping``,
``mdp.DelayedJointPositionAction`` and ``NoiseCfg``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import mujoco
import torch

from warplab.assets.object_shapes import PARKED_MARGIN
from warplab.envs import draws
from warplab.envs.mdp.events import _rows, _set_const
from warplab.envs.mdp.math import (
    quat_canonical,
    quat_from_axis_angle,
    quat_mul,
    quat_normalize,
    quat_rotate,
    random_quat_uniform,
    uniform,
)
from warplab.envs.mdp.object_shapes import object_extent_below
from warplab.envs.mdp.objects import frame_pose_w, object_free_joint

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names

Range = tuple[float, float]
_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
_ROTATIONS = ("fixed", "xyz", "x", "y", "z")


def reset_object_pose(
    env: RlEnv,
    mask: torch.Tensor,
    object: str,
    frame_body: str | None = None,
    frame_site: str | None = None,
    position: Sequence[float] = (0.0, 0.0, 0.0),
    position_range: dict[str, Range] | None = None,
    rotation: str = "fixed",
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    on_surface: bool = False,
) -> None:
    """Places the object at a pose relative to a robot body or site (the world when neither is
    named), at rest.

    Position: ``position`` (m, in the frame's axes from its origin) plus uniform offsets
    ``position_range = {"x": (low, high), ...}`` (m, frame axes; missing axes 0). Orientation in the
    frame: ``quat`` (w, x, y, z) with ``rotation="fixed"``; uniform over all rotations with
    ``"xyz"``; ``quat`` turned by a uniform angle in [-pi, pi) about the frame's x, y or z axis with
    ``"x"``, ``"y"``, ``"z"`` (a cube on a table keeps a face down). Linear and angular velocities
    are zeroed. The frame's pose is that of the last forward pass (exact for a palm fixed in the
    world; reset events run before the forward pass of the reset worlds).

    With ``on_surface=True`` the drawn position's z is the height of a surface whose normal is the
    frame's z axis (a floor, a table top, a palm facing up), and the object is lifted by its extent
    below its origin in the drawn orientation (``object_extent_below``: its active shape at this
    world's size), so it touches the surface, neither in it nor dropping onto it.
    """
    if rotation not in _ROTATIONS:
        raise ValueError(f"rotation must be one of {list(_ROTATIONS)}, got {rotation!r}")
    unknown = set(position_range or {}) - set(_AXES)
    if unknown:
        raise ValueError(f"position_range has keys {sorted(unknown)}; allowed: x, y, z")
    n, dev = env.num_envs, env.device
    centre, base, axis = env.index.once(
        ("object_pose_constants", tuple(position), tuple(quat), rotation),
        lambda: _pose_constants(position, quat, rotation, dev),
    )
    pos = centre + position_offsets(env, position_range)
    if rotation == "xyz":
        local = random_quat_uniform((n,), env.rng, dev)
    elif rotation == "fixed":
        local = base.expand(n, 4)
    else:
        angle = uniform(-math.pi, math.pi, (n,), env.rng, dev)
        local = quat_mul(quat_from_axis_angle(axis.expand(n, 3), angle), base.expand(n, 4))
    place_object_at_rest(env, mask, object, pos, local, frame_body, frame_site, on_surface)


def position_offsets(env: RlEnv, position_range: dict[str, Range] | None) -> torch.Tensor:
    """``[num_envs, 3]`` offsets drawn uniformly from ``position_range = {"x": (low, high), ...}`` (m;
    missing axes 0), one draw per axis in x, y, z order from the env's generator."""
    ranges = position_range or {}
    n, dev = env.num_envs, env.device
    return torch.stack([uniform(*ranges.get(k, (0.0, 0.0)), (n,), env.rng, dev) for k in _AXES], dim=1)


def place_object_at_rest(
    env: RlEnv,
    mask: torch.Tensor,
    object: str,
    pos: torch.Tensor,
    quat: torch.Tensor,
    frame_body: str | None = None,
    frame_site: str | None = None,
    on_surface: bool = False,
) -> None:
    """Writes the object's free joint in the worlds of ``mask``: position ``pos`` [num_envs, 3] (m)
    and orientation ``quat`` [num_envs, 4] (w, x, y, z) given in the frame of a robot body or site
    (the world when neither is named), velocities zero. The frame's pose is the last forward pass's.

    ``on_surface``: ``pos`` is a point of a surface whose normal is the frame's z axis, and the
    object's origin goes above it by the object's extent below its origin in orientation ``quat``
    (``object_extent_below``: the active shape of a multi-shape object, each world's size), so
    its lowest point rests on the surface.
    """
    q, v = object_free_joint(env, object)
    if on_surface:
        lift = object_extent_below(env, object, quat_normalize(quat))
        pos = torch.cat([pos[:, :2], pos[:, 2:] + lift[:, None]], dim=1)
    frame = frame_pose_w(env, frame_body, frame_site)
    if frame is not None:
        frame_pos, frame_quat = frame
        pos = frame_pos + quat_rotate(frame_quat, pos)
        quat = quat_mul(frame_quat, quat)
    sim = env.sim
    pose = torch.cat([pos, quat_canonical(quat_normalize(quat))], dim=1)
    sim.qpos[:, q : q + 7] = _rows(mask, pose, sim.qpos[:, q : q + 7])
    sim.qvel[:, v : v + 6] = _rows(mask, torch.zeros_like(sim.qvel[:, v : v + 6]), sim.qvel[:, v : v + 6])


def _pose_constants(
    position: Sequence[float], quat: Sequence[float], rotation: str, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    centre = torch.as_tensor(position, dtype=torch.float32, device=device)
    base = torch.as_tensor(quat, dtype=torch.float32, device=device)
    if centre.shape != (3,):
        raise ValueError(f"position must be (x, y, z) in m, got {position}")
    if base.shape != (4,) or not 0.75 < float(base.norm()) < 1.25:
        raise ValueError(f"quat must be a unit quaternion (w, x, y, z), got {quat}")
    axis = torch.as_tensor(_AXES.get(rotation, (0.0, 0.0, 1.0)), dtype=torch.float32, device=device)
    return centre, quat_normalize(base), axis


def scale_body_inertia(env: RlEnv, mask: torch.Tensor, body: int, scale: torch.Tensor) -> None:
    """Sets the inertia of ``body`` (its id) in the worlds of ``mask`` to that of the body scaled by
    ``scale [num_envs, 1]`` (no unit) in every length at its present mass: ``inertia0 * (mass / mass0) *
    s**2``, from the compiled model's ``inertia0`` and ``mass0`` (a similar body: inertia grows with mass
    and with the square of length). The caller scales the geoms and runs ``set_const`` afterwards."""
    mass = env.sim.model_field("body_mass")[:, body]
    mass0 = env.sim.fields.default("body_mass")[body]
    inertia = env.sim.model_field("body_inertia")
    inertia0 = env.sim.fields.default("body_inertia")[body]
    ratio = (mass / mass0.clamp(min=1e-12))[:, None] * scale**2
    inertia[:, body] = _rows(mask, inertia0 * ratio, inertia[:, body])


def randomize_object_size(env: RlEnv, mask: torch.Tensor, object: str, scale_range: Range) -> None:
    """Scales every dimension of the object's geoms by one uniform factor per world (no unit) from
    their nominal size, keeping its mass: ``geom_size = size0 * s``, ``body_inertia = inertia0 *
    (mass / mass0) * s**2`` (a uniform solid), then the bounds and constants that follow
    (``set_const``: contacts use the new size at once). Run it after ``randomize_mass`` of the same
    body, whose inertia it keeps; costly: use at startup.

    Raises:
      ValueError: a geom of the body is a mesh (its vertices do not scale per world) or sits away
        from the body's origin (its position would have to scale too), or the object has several
        shapes (``ObjectCfg.shapes``: ``randomize_object_shape`` draws its sizes).
    """
    geoms = env.index.once(("object_geoms", object), lambda: _primitive_geoms(env, object))
    (body,) = env.index.ids("body", object)[:1]
    size, size0 = env.sim.model_field("geom_size"), env.sim.fields.default("geom_size")
    scale = uniform(scale_range[0], scale_range[1], (env.num_envs, 1), env.rng, env.device)
    size[:, geoms] = _rows(mask, size0[geoms] * scale[..., None], size[:, geoms])
    scale_body_inertia(env, mask, body, scale)
    _set_const(env, mask)


def _primitive_geoms(env: RlEnv, object: str) -> torch.Tensor:
    m = env.mj_model
    (body,) = env.index.ids("body", object)[:1]
    geoms = [g for g in range(m.ngeom) if int(m.geom_bodyid[g]) == body]
    bad = [
        env.index.names["geom"][g] or str(g)
        for g in geoms
        if int(m.geom_type[g])
        in (mujoco.mjtGeom.mjGEOM_MESH, mujoco.mjtGeom.mjGEOM_SDF, mujoco.mjtGeom.mjGEOM_HFIELD)
        or abs(m.geom_pos[g]).max() > 1e-9
    ]
    if not geoms or bad:
        raise ValueError(
            f"randomize_object_size scales primitive geoms at the origin of body {object!r}; "
            f"these are meshes or offset: {bad or 'the body has no geom'}"
        )
    if any(m.geom_margin[g] == PARKED_MARGIN for g in geoms):
        raise ValueError(
            f"randomize_object_size: object {object!r} has several shapes (ObjectCfg.shapes); "
            "randomize_object_shape draws its size with its shape, from ObjectCfg.shape_size_ranges"
        )
    return torch.as_tensor(geoms, dtype=torch.long, device=env.device)


def randomize_geom_color(
    env: RlEnv,
    mask: torch.Tensor,
    geoms: Names,
    colors: Sequence[Sequence[float]] | None = None,
    rgb_range: Range = (0.0, 1.0),
) -> None:
    """Gives the named geoms a colour per world (one for all of them in a world), for cameras: one of
    ``colors`` (each (r, g, b, a) in [0, 1]) picked uniformly, or without ``colors`` red, green and
    blue drawn uniformly from ``rgb_range`` and alpha kept. Writes ``geom_rgba``, which MuJoCo Warp's
    renderer reads per world; a geom with a material shows the material's colour instead. A geom
    of alpha 0 keeps it (a parked shape of a multi-shape object stays hidden), so a palette's alpha
    applies to the geoms that are drawn."""
    ids = env.index.tensor("geom", geoms)
    rgba = env.sim.model_field("geom_rgba")
    n = env.num_envs
    if colors is None:
        rgb = uniform(rgb_range[0], rgb_range[1], (n, 1, 3), env.rng, env.device).expand(n, len(ids), 3)
        new = torch.cat([rgb, rgba[:, ids, 3:]], dim=-1)
    else:
        key = tuple(tuple(float(x) for x in c) for c in colors)
        palette = env.index.once(("geom_colors", key), lambda: _palette(colors, env.device))
        pick = draws.randint(0, palette.shape[0], (n,), env.rng, env.device)
        new = palette[pick][:, None, :].expand(n, len(ids), 4)
        hidden = rgba[:, ids, 3:] == 0.0
        new = torch.cat([new[..., :3], torch.where(hidden, 0.0, new[..., 3:])], dim=-1)
    rgba[:, ids] = _rows(mask, new, rgba[:, ids])


def _palette(colors: Sequence[Sequence[float]], device: torch.device) -> torch.Tensor:
    palette = torch.as_tensor([list(c) for c in colors], dtype=torch.float32, device=device)
    if palette.ndim != 2 or palette.shape[1] != 4 or palette.shape[0] == 0:
        raise ValueError(f"colors must be a list of (r, g, b, a), got {colors}")
    return palette
