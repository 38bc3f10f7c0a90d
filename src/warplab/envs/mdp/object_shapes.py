"""Objects whose shape differs between worlds: the event that draws each world's shape, the
observation that tells it, and the object's extent below its origin (to set it down on a surface).

A multi-shape object (``ObjectCfg(shapes=...)``) holds one geom per shape in its body; in each
world one is active and the others are parked (``warplab.assets.object_shapes``): margin
``PARKED_MARGIN`` (no contact), alpha 0 (not drawn, not hit by rays). The per-world margins are
the record of which shape is active, so a saved simulation state (its per-world model fields)
holds it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from warplab.assets.object_shapes import PARKED_MARGIN, SHAPE_DIMS, size_range_name
from warplab.envs import draws
from warplab.envs.mdp.events import _rows, _set_const
from warplab.envs.mdp.math import quat_rotate_inverse
from warplab.term_export import ObservationExport, declares

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

_BOX, _SPHERE, _CAPSULE, _CYLINDER, _ELLIPSOID = (
    int(SHAPE_DIMS[s][0]) for s in ("box", "sphere", "capsule", "cylinder", "ellipsoid")
)
_SHAPE_OF_TYPE = {int(kind): name for name, (kind, _) in SHAPE_DIMS.items()}


@dataclasses.dataclass(frozen=True)
class _ShapeSet:
    """The geoms of a multi-shape object, as device tensors made once per env."""

    body: int
    geoms: torch.Tensor
    """[K] geom ids, model order (the order of ``ObjectCfg.shapes``)."""
    types: torch.Tensor
    """[K] MuJoCo geom types."""
    low: torch.Tensor
    """[K, 3] lowest size per dimension, m (0 for unused dimensions)."""
    width: torch.Tensor
    """[K, 3] high - low per dimension, m."""
    margin: float
    """Margin of the active geom, m (the compiled model's active one's)."""


def randomize_object_shape(env: RlEnv, mask: torch.Tensor, object: str) -> None:
    """Gives the object one of its shapes per world, uniformly, with a size drawn uniformly per
    dimension from that shape's ranges; parks the other shapes.

    Writes, in the worlds of ``mask``: ``geom_size`` of the active geom (the parked ones keep their
    compiled size), ``geom_margin`` (the active geom's compiled margin, ``PARKED_MARGIN`` for the
    others), the alpha of ``geom_rgba`` (the world's visible alpha on the active geom, 0 on the
    others; red, green and blue are kept) and ``body_inertia``: a uniform solid of the active
    shape and size with the body's current mass (kg, per world), about its centre, which is the
    body's origin for every shape; then the bounds and constants that follow (``set_const``).

    The size ranges are those of ``ObjectCfg.shape_size_ranges``, which the compiled model holds
    as custom numeric fields (``warplab.assets.object_shapes.size_range_name``); a shape without one
    keeps its compiled size. Run it after ``randomize_mass`` of the same body (whose mass it keeps
    and whose inertia it replaces), before a reset that places the object (``reset_object_pose``
    with ``on_surface=True`` reads the drawn size), and before ``randomize_geom_color`` when a
    palette sets alpha. Costly (``set_const``): at startup, or at reset for a new shape every
    episode.

    Raises:
      ValueError: ``object`` is not a multi-shape object (``ObjectCfg(shapes=...)``).
    """
    shapes = _shape_set(env, object)
    n, count = env.num_envs, int(shapes.geoms.shape[0])
    pick = draws.randint(0, count, (n,), env.rng, env.device)
    size_drawn = shapes.low[pick] + shapes.width[pick] * draws.rand((n, 3), env.rng, env.device)
    active = torch.nn.functional.one_hot(pick, count).bool()
    sim, geoms = env.sim, shapes.geoms

    size = sim.model_field("geom_size")
    size0 = sim.fields.default("geom_size")[geoms]
    new_size = torch.where(active[..., None], size_drawn[:, None, :], size0)
    size[:, geoms] = _rows(mask, new_size, size[:, geoms])
    margin = sim.model_field("geom_margin")
    new_margin = torch.where(active, shapes.margin, PARKED_MARGIN)
    margin[:, geoms] = _rows(mask, new_margin, margin[:, geoms])
    rgba = sim.model_field("geom_rgba")
    alpha = rgba[:, geoms, 3]
    new_alpha = torch.where(active, alpha.amax(dim=1, keepdim=True), 0.0)
    rgba[:, geoms, 3] = _rows(mask, new_alpha, alpha)
    mass = sim.model_field("body_mass")[:, shapes.body]
    inertia = sim.model_field("body_inertia")
    new_inertia = solid_inertia(shapes.types[pick], size_drawn, mass)
    inertia[:, shapes.body] = _rows(mask, new_inertia, inertia[:, shapes.body])
    _set_const(env, mask)


def _shape_export(params: Mapping[str, Any]) -> dict[str, Any]:
    """The object whose shape the robot is told (``Policy`` signal ``object_shape``)."""
    return {"object": params["object"]}


@declares(ObservationExport("object_shape", extra=_shape_export))
def object_shape_onehot(env: RlEnv, object: str) -> torch.Tensor:
    """``[num_envs, num_shapes]`` 1.0 at the object's active shape in each world, 0.0 elsewhere;
    columns in the order of ``ObjectCfg.shapes`` (the geoms' model order). For a critic (or a
    policy whose robot is told the object's shape: the deploy signal ``object_shape``).

    Raises:
      ValueError: ``object`` is not a multi-shape object.
    """
    geoms = _shape_set(env, object).geoms
    return (env.sim.model_field("geom_margin")[:, geoms] > 0.5 * PARKED_MARGIN).float()


def solid_inertia(types: torch.Tensor, size: torch.Tensor, mass: torch.Tensor) -> torch.Tensor:
    """``[N, 3]`` principal moments of inertia (kg m^2, about the centre, along the geom's axes) of
    uniform solids of MuJoCo geom types ``types [N]``, sizes ``size [N, 3]`` (MuJoCo's, m) and masses
    ``mass [N]`` (kg): box and ellipsoid of half extents (a, b, c), sphere of radius r, cylinder and
    capsule of radius r and half length h along z (a capsule's mass split between its cylinder and
    its two hemispheres by volume), as MuJoCo's compiler computes them."""
    a, b, c = size.unbind(-1)
    m = mass
    box = torch.stack([b * b + c * c, a * a + c * c, a * a + b * b], dim=-1) * (m / 3.0)[:, None]
    ellipsoid = box * 0.6  # m / 5 where a box has m / 3
    sphere = (0.4 * m * a * a)[:, None].expand(-1, 3)
    r, h = a, b
    cyl_axial = 0.5 * m * r * r
    cyl_side = m * (3.0 * r * r + 4.0 * h * h) / 12.0
    cylinder = torch.stack([cyl_side, cyl_side, cyl_axial], dim=-1)
    cyl_volume, ball_volume = 2.0 * math.pi * r * r * h, 4.0 / 3.0 * math.pi * r**3
    m_ball = m * ball_volume / (cyl_volume + ball_volume)
    m_cyl = m - m_ball
    # Each hemisphere: 2/5 m r^2 about its flat face, its centroid 3r/8 from that face, the face h
    # from the centre; the parallel-axis theorem gives the two hemispheres 2/5 r^2 + h^2 + 3/4 h r.
    cap_side = m_cyl * (3.0 * r * r + 4.0 * h * h) / 12.0 + m_ball * (0.4 * r * r + h * h + 0.75 * h * r)
    cap_axial = 0.5 * m_cyl * r * r + 0.4 * m_ball * r * r
    capsule = torch.stack([cap_side, cap_side, cap_axial], dim=-1)
    t = types[:, None]
    out = torch.where(t == _BOX, box, torch.where(t == _ELLIPSOID, ellipsoid, sphere))
    out = torch.where(t == _CYLINDER, cylinder, out)
    return torch.where(t == _CAPSULE, capsule, out)


def object_extent_below(env: RlEnv, object: str, quat: torch.Tensor) -> torch.Tensor:
    """``[num_envs]`` how far the object reaches below its origin, m, when turned by ``quat``
    ``[num_envs, 4]`` (w, x, y, z) relative to a frame whose z axis points up: the largest
    ``-z`` over the points of its active geoms, at each world's sizes. Setting the object's
    origin this far above a surface (normal along z) puts it on the surface.

    Raises:
      ValueError: a geom of the body is not a box, sphere, capsule, cylinder or ellipsoid.
    """
    body = env.index.once(("object_body_geoms", object), lambda: _body_geoms(env, object))
    geoms, types, pos, gquat, down, has_parked = body
    n, count = env.num_envs, int(geoms.shape[0])
    u = quat_rotate_inverse(quat, down.expand(n, 3))  # "down" in the body's axes, [N, 3]
    d = quat_rotate_inverse(gquat.expand(n, count, 4), u[:, None, :].expand(n, count, 3))
    size = env.sim.model_field("geom_size")[:, geoms]
    reach = (u[:, None, :] * pos).sum(-1) + _support(types, size, d)
    if has_parked:
        active = env.sim.model_field("geom_margin")[:, geoms] > 0.5 * PARKED_MARGIN
        reach = torch.where(active, reach, -torch.inf)
    return reach.amax(dim=1)


def _support(types: torch.Tensor, size: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """``[N, K]`` support distance of each geom along unit directions ``d [N, K, 3]`` in its own axes:
    the largest ``d . p`` over its points ``p``, m."""
    a = size[..., 0]
    axial = size[..., 1] * d[..., 2].abs()
    radial = a * torch.sqrt((d[..., 0] ** 2 + d[..., 1] ** 2).clamp(min=0.0))
    box = (size * d.abs()).sum(-1)
    ellipsoid = torch.sqrt(((size * d) ** 2).sum(-1))
    t = types[None, :]
    out = torch.where(t == _BOX, box, torch.where(t == _ELLIPSOID, ellipsoid, a))  # a sphere: r
    out = torch.where(t == _CYLINDER, axial + radial, out)
    return torch.where(t == _CAPSULE, axial + a, out)


def _shape_set(env: RlEnv, object: str) -> _ShapeSet:
    return env.index.once(("object_shape_set", object), lambda: _find_shape_set(env, object))


def _find_shape_set(env: RlEnv, object: str) -> _ShapeSet:
    m = env.mj_model
    (body,) = env.index.ids("body", object)[:1]
    geoms = [g for g in range(m.ngeom) if int(m.geom_bodyid[g]) == body]
    names = [env.index.names["geom"][g] or str(g) for g in geoms]
    parked = [g for g in geoms if m.geom_margin[g] == PARKED_MARGIN]
    if not parked:
        raise ValueError(
            f"object {object!r} has one shape (no parked geom in its body); a shape per world needs "
            "ObjectCfg(shapes=..., shape_size_ranges=...)"
        )
    _check_primitives_at_origin(env, object, geoms)
    active = [g for g in geoms if g not in parked]
    if len(active) != 1:
        raise ValueError(
            f"object {object!r}: exactly one of its shape geoms {names} must be active (not parked) in the "
            f"compiled model, found {len(active)}"
        )
    low, width = np.zeros((len(geoms), 3)), np.zeros((len(geoms), 3))
    for k, g in enumerate(geoms):
        shape = _SHAPE_OF_TYPE[int(m.geom_type[g])]
        dims = SHAPE_DIMS[shape][1]
        try:
            bounds = np.asarray(m.numeric(size_range_name(object, shape)).data).reshape(-1, 2)
        except KeyError:
            bounds = np.repeat(m.geom_size[g, :dims, None], 2, axis=1)  # no range: the compiled size
        if bounds.shape != (dims, 2):
            raise ValueError(
                f"custom numeric {size_range_name(object, shape)!r} must hold {dims} (low, high) pairs "
                f"for a {shape}, got {bounds.size} numbers"
            )
        low[k, :dims], width[k, :dims] = bounds[:, 0], bounds[:, 1] - bounds[:, 0]

    def device(x) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x), dtype=torch.float32, device=env.device)

    return _ShapeSet(
        body=body,
        geoms=torch.as_tensor(geoms, dtype=torch.long, device=env.device),
        types=torch.as_tensor([int(m.geom_type[g]) for g in geoms], dtype=torch.long, device=env.device),
        low=device(low),
        width=device(width),
        margin=float(m.geom_margin[active[0]]),
    )


def _check_primitives_at_origin(env: RlEnv, object: str, geoms: list[int]) -> None:
    m = env.mj_model
    bad = [
        env.index.names["geom"][g] or str(g)
        for g in geoms
        if int(m.geom_type[g]) not in _SHAPE_OF_TYPE
        or np.abs(m.geom_pos[g]).max() > 1e-9
        or np.abs(m.geom_quat[g] - np.array([1.0, 0.0, 0.0, 0.0])).max() > 1e-9
    ]
    if bad:
        raise ValueError(
            f"object {object!r}: a shape per world needs primitive geoms ({sorted(SHAPE_DIMS)}) at the body's "
            f"origin, unrotated; these are not: {bad}"
        )


def _body_geoms(env: RlEnv, object: str):
    """The body's geoms for ``object_extent_below``: ids, types, positions and orientations in the body
    (device tensors), the frame's down direction (made here once: a tensor built from Python numbers
    in the step would be a copy to the device at every reset) and whether any geom is parked."""
    m = env.mj_model
    (body,) = env.index.ids("body", object)[:1]
    geoms = [g for g in range(m.ngeom) if int(m.geom_bodyid[g]) == body]
    bad = [env.index.names["geom"][g] or str(g) for g in geoms if int(m.geom_type[g]) not in _SHAPE_OF_TYPE]
    if not geoms or bad:
        raise ValueError(
            f"object {object!r}: its extent below its origin is known for primitive geoms ({sorted(SHAPE_DIMS)}); "
            f"{'these are not: ' + str(bad) if bad else 'the body has no geom'}"
        )
    dev = env.device
    return (
        torch.as_tensor(geoms, dtype=torch.long, device=dev),
        torch.as_tensor([int(m.geom_type[g]) for g in geoms], dtype=torch.long, device=dev),
        torch.as_tensor(m.geom_pos[geoms], dtype=torch.float32, device=dev),
        torch.as_tensor(m.geom_quat[geoms], dtype=torch.float32, device=dev),
        torch.tensor([0.0, 0.0, -1.0], device=dev),
        any(m.geom_margin[g] == PARKED_MARGIN for g in geoms),
    )


__all__ = [
    "object_extent_below",
    "object_shape_onehot",
    "randomize_object_shape",
    "solid_inertia",
]
