"""An object whose shape differs between worlds, in one MuJoCo model batched over worlds.

MuJoCo Warp shares a geom's type, its collision filter (``contype``/``conaffinity``) and the list
of geom pairs its broadphase tests (``put_model`` builds that list once, from the types and
filters) among all worlds. A geom's size, margin, bounds (``geom_rbound``, ``geom_aabb``) and
colour may differ per world. So an object that is a box in one world and a cylinder in another
holds one geom of each shape in its body, all centred on the body's origin, and in each world all
but one are *parked*:

- margin ``PARKED_MARGIN`` (-10 km): the broadphase tests a pair against the sum of its two
  margins, so a pair with a parked geom fails the plane test (distance <= rbound + margins) and the
  oriented-box test (part of MuJoCo Warp's default filter, PLANE | SPHERE | OBB): it never reaches
  the narrowphase, whose own test (distance < margin) would refuse it too. MuJoCo's C engine
  finds no contact for such a geom either;
- alpha 0: MuJoCo Warp's renderer and its rays skip a geom without colour;
- no mass: the body's mass and inertia are those of the active shape (the compiled model's from
  the first shape's geom; ``mdp.randomize_object_shape`` sets them per world).

``warplab.envs.mdp.randomize_object_shape`` chooses each world's shape and size; the pair list
still holds the parked geoms' pairs, which the broadphase rejects at the cost of one bound test
each (``benchmarks/object_shapes_cost.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mujoco

PARKED_MARGIN = -1.0e4
"""Margin of a parked geom, m: far below any distance two geoms of a scene can have."""

SHAPE_DIMS: dict[str, tuple[mujoco.mjtGeom, int]] = {
    "box": (mujoco.mjtGeom.mjGEOM_BOX, 3),
    "sphere": (mujoco.mjtGeom.mjGEOM_SPHERE, 1),
    "capsule": (mujoco.mjtGeom.mjGEOM_CAPSULE, 2),
    "cylinder": (mujoco.mjtGeom.mjGEOM_CYLINDER, 2),
    "ellipsoid": (mujoco.mjtGeom.mjGEOM_ELLIPSOID, 3),
}
"""The shapes an object may switch between: MuJoCo geom type and how many of MuJoCo's size
values it uses (half extents; radius; radius and half length)."""

Range = tuple[float, float]


def shape_geom_name(object: str, shape: str) -> str:
    """Name of the geom of ``shape`` in the body of a multi-shape object."""
    return f"{object}_{shape}"


def size_range_name(object: str, shape: str) -> str:
    """Name of the custom numeric field (MJCF ``<custom><numeric>``) holding the size ranges of a
    shape: ``(low, high)`` per size dimension, flattened, m."""
    return f"{object}_{shape}_size_range"


def check_shape_ranges(object: str, shapes: Sequence[str], ranges: Mapping[str, Sequence[Range]]) -> None:
    """Raises ``ValueError`` naming the object and shape whose set or size ranges are wrong."""
    unknown = [s for s in shapes if s not in SHAPE_DIMS]
    if unknown or len(set(shapes)) != len(shapes) or len(shapes) < 2:
        raise ValueError(
            f"object {object!r}: shapes {tuple(shapes)} must be two or more distinct shapes of "
            f"{sorted(SHAPE_DIMS)}"
        )
    extra = sorted(set(ranges) - set(shapes))
    if extra:
        raise ValueError(f"object {object!r}: shape_size_ranges has shapes {extra} that are not in shapes")
    for shape in shapes:
        dims = SHAPE_DIMS[shape][1]
        bounds = ranges.get(shape)
        if bounds is None or len(bounds) != dims:
            raise ValueError(
                f"object {object!r}: shape_size_ranges[{shape!r}] must hold {dims} (low, high) ranges "
                f"of MuJoCo's {shape} size, m, got {bounds}"
            )
        for low, high in bounds:
            if not 0 < low <= high:
                raise ValueError(
                    f"object {object!r}: shape_size_ranges[{shape!r}] has ({low}, {high}); "
                    "each range must be (low, high) with 0 < low <= high"
                )


def add_shape_set(
    spec: mujoco.MjSpec,
    body: mujoco.MjsBody,
    object: str,
    shapes: Sequence[str],
    ranges: Mapping[str, Sequence[Range]],
    mass: float,
    rgba: Sequence[float],
    friction: float,
) -> None:
    """Adds one geom per shape to ``body`` (at its origin, sized at the middle of its ranges): the
    first active with ``mass`` (kg), the others parked; and the ranges as custom numeric fields
    (``size_range_name``), which ``mdp.randomize_object_shape`` reads from the compiled model."""
    check_shape_ranges(object, shapes, ranges)
    for k, shape in enumerate(shapes):
        kind, dims = SHAPE_DIMS[shape]
        bounds = [(float(lo), float(hi)) for lo, hi in ranges[shape]]
        size = [0.5 * (lo + hi) for lo, hi in bounds] + [0.0] * (3 - dims)
        geom = body.add_geom(
            name=shape_geom_name(object, shape),
            type=kind,
            size=size,
            mass=mass if k == 0 else 0.0,
            rgba=list(rgba[:3]) + [rgba[3] if k == 0 else 0.0],
            condim=3,
        )
        geom.friction = [friction, 0.005, 0.0001]
        if k:
            geom.margin = PARKED_MARGIN
        spec.add_numeric(name=size_range_name(object, shape), data=[x for pair in bounds for x in pair])
