"""Props built in code: a drawer cabinet, a hinged door, a cabinet door, a table, a shelf, a bin, a cup
and a bowl. Each ``add_<prop>(spec, pos, quat, name=..., <dimensions>)`` adds one body, named as the
prop, to ``spec``'s world at that pose and returns it; ``mujoco.MjSpec()`` gives a prop on its own.

The prop's body frame is its footprint: the origin at the centre of its underside, z up, its front
(the side a drawer or a door opens to) facing +x; ``pos`` (m) and ``quat`` (w, x, y, z) place that
frame in the world. Element names start with the prop's name, so props of different names stand side
by side (a name already in the spec is refused). Articulated props carry sites for a policy's
observations and rewards:

* ``<name>_handle``: the handle's grasp point, on the moving part (the bar's centre, the knob's centre);
* ``<name>_joint``: the joint's reference, on the fixed part at the joint's anchor with its z axis along
  the joint's axis, so the opening is the handle's travel in that site's frame.

Shapes are boxes, capsules, spheres and cylinders only (MuJoCo Warp collides them with its primitive
routines, no mesh). A fixed prop is welded to the world, and MuJoCo does not filter contacts between
a body and a parent welded to the world: a moving part therefore keeps a clearance to its fixed part,
so a drawer or door makes no contacts with its cabinet or frame, and its joint's range, not a
collision, stops it. The containers (bin, cup, bowl) are walls of boxes around a flat bottom: a cup's
or bowl's wall is a ring of ``segments`` boxes whose inner faces overlap, so nothing slips between.

Per world (checked with MuJoCo Warp 4.0, ``tests/assets/test_props.py``), a prop's joint damping
(``dof_damping``), friction loss (``dof_frictionloss``), spring stiffness (``jnt_stiffness``), spring
rest position (``qpos_spring``) and range (``jnt_range``: MuJoCo Warp reads it per world; whether a
joint is limited, ``jnt_limited``, is shared, and every prop's joint is compiled limited) can vary, and
so can a handle's size and place (``geom_size``, ``geom_pos``, with its site's ``site_pos``), through the
environment's events ``mdp.randomize_joint_damping``, ``randomize_joint_frictionloss``,
``randomize_joint_stiffness``, ``randomize_joint_springref``, ``randomize_geom_size``,
``randomize_geom_pos`` and, for a range, ``randomize_field(field="jnt_range")``. The shapes, their
number and kinds, and a joint's type stay those compiled (docs/scene.md, "Props").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mujoco
import numpy as np

_WOOD = (0.62, 0.45, 0.30, 1.0)
_PANEL = (0.80, 0.74, 0.62, 1.0)
_METAL = (0.70, 0.72, 0.75, 1.0)
_PLASTIC = (0.25, 0.45, 0.70, 1.0)
_CERAMIC = (0.92, 0.90, 0.86, 1.0)

HANDLES = ("bar", "knob")
"""Handle shapes: ``bar``, a capsule held off the face by two posts; ``knob``, a sphere on a stem."""


# ------------------------------------------------------------------------------------------ helpers
def _check_positive(fn: str, **values: float) -> None:
    for key, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{fn}: {key} must be a positive number, got {value!r}")


def _new_prop(
    fn: str, spec: mujoco.MjSpec, name: str, pos: Sequence[float], quat: Sequence[float]
) -> mujoco.MjsBody:
    if not name:
        raise ValueError(f"{fn}: a prop needs a non-empty name")
    if spec.body(name) is not None:
        raise ValueError(f"{fn}: the spec already has a body named {name!r}; give the prop another name")
    if len(pos) != 3 or len(quat) != 4 or not np.all(np.isfinite([*pos, *quat])) or np.linalg.norm(quat) == 0:
        raise ValueError(
            f"{fn}: pose of {name!r} needs pos (x, y, z) and a non-zero quat (w, x, y, z), got {pos}, {quat}"
        )
    return spec.worldbody.add_body(name=name, pos=list(pos), quat=list(quat))


def _quat_yz(angle_y: float, angle_z: float) -> list[float]:
    """The rotation about z by ``angle_z`` of a rotation about y by ``angle_y`` (rad), as (w, x, y, z)."""
    qy = np.array([math.cos(angle_y / 2), 0.0, math.sin(angle_y / 2), 0.0])
    qz = np.array([math.cos(angle_z / 2), 0.0, 0.0, math.sin(angle_z / 2)])
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, qz, qy)
    return out.tolist()


def _box(
    body: mujoco.MjsBody,
    name: str,
    half: Sequence[float],
    pos: Sequence[float],
    rgba: Sequence[float],
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
) -> mujoco.MjsGeom:
    return body.add_geom(
        name=name,
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=list(half),
        pos=list(pos),
        quat=list(quat),
        rgba=list(rgba),
    )


def _volume(geom: mujoco.MjsGeom) -> float:
    s = geom.size
    if geom.type == mujoco.mjtGeom.mjGEOM_BOX:
        return 8.0 * s[0] * s[1] * s[2]
    if geom.type == mujoco.mjtGeom.mjGEOM_SPHERE:
        return 4.0 / 3.0 * math.pi * s[0] ** 3
    if geom.type == mujoco.mjtGeom.mjGEOM_CYLINDER:
        return 2.0 * math.pi * s[0] ** 2 * s[1]
    if geom.type == mujoco.mjtGeom.mjGEOM_CAPSULE:
        return 2.0 * math.pi * s[0] ** 2 * s[1] + 4.0 / 3.0 * math.pi * s[0] ** 3
    raise ValueError(f"geom {geom.name!r}: no volume rule for type {geom.type}")


def _share_mass(geoms: Sequence[mujoco.MjsGeom], mass: float) -> None:
    """Gives the geoms one density so that together they weigh ``mass`` kg: the body's mass is then
    exactly ``mass`` (MuJoCo sums its geoms'), its inertia that of a uniform material."""
    density = mass / sum(_volume(g) for g in geoms)
    for g in geoms:
        g.mass = density * _volume(g)


def _add_handle(
    body: mujoco.MjsBody,
    name: str,
    handle: str,
    face_pos: Sequence[float],
    length: float,
    radius: float,
    offset: float,
    vertical: bool,
) -> list[mujoco.MjsGeom]:
    """A handle on a face whose outward normal is +x, centred at ``face_pos`` on it. A bar lies along
    y (or z when ``vertical``) ``offset`` m out from the face; a knob's centre is ``offset`` m out.
    The grasp site ``<name>_handle`` is at the bar's or knob's centre. Returns the geoms."""
    if handle not in HANDLES:
        raise ValueError(f"{name}: handle {handle!r} is not one of {list(HANDLES)}")
    x, y, z = face_pos
    centre = [x + offset, y, z]
    body.add_site(name=f"{name}_handle", pos=centre, size=[0.005, 0.0, 0.0], rgba=[1.0, 0.2, 0.2, 1.0])
    post_radius = 0.6 * radius
    if handle == "knob":
        knob = body.add_geom(
            name=f"{name}_handle", type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[radius, 0, 0], pos=centre
        )
        stem = body.add_geom(
            name=f"{name}_handle_stem",
            type=mujoco.mjtGeom.mjGEOM_CYLINDER,
            size=[post_radius, offset / 2, 0],
            pos=[x + offset / 2, y, z],
            quat=_quat_yz(math.pi / 2, 0.0),
        )
        geoms = [knob, stem]
    else:
        bar = body.add_geom(
            name=f"{name}_handle",
            type=mujoco.mjtGeom.mjGEOM_CAPSULE,
            size=[radius, length / 2, 0],
            pos=centre,
            # A capsule's axis is its z: a vertical bar keeps it, a horizontal one turns it onto y.
            quat=[1.0, 0.0, 0.0, 0.0] if vertical else [math.sqrt(0.5), math.sqrt(0.5), 0.0, 0.0],
        )
        geoms = [bar]
        for side, sign in (("a", -1.0), ("b", 1.0)):
            along = sign * (length / 2 - radius)
            geoms.append(
                body.add_geom(
                    name=f"{name}_handle_post_{side}",
                    type=mujoco.mjtGeom.mjGEOM_CYLINDER,
                    size=[post_radius, offset / 2, 0],
                    pos=[x + offset / 2, y, z + along] if vertical else [x + offset / 2, y + along, z],
                    quat=_quat_yz(math.pi / 2, 0.0),
                )
            )
    for g in geoms:
        g.rgba = list(_METAL)
    return geoms


def _add_joint_site(body: mujoco.MjsBody, name: str, pos: Sequence[float], quat: Sequence[float]) -> None:
    body.add_site(name=f"{name}_joint", pos=list(pos), quat=list(quat), size=[0.005, 0.0, 0.0])


def _add_carcass(body: mujoco.MjsBody, name: str, depth: float, width: float, height: float, wall: float):
    """An open-fronted box (bottom, top, sides, back) on the footprint, its front at x = depth / 2."""
    d, w, h = depth / 2, width / 2, height / 2
    _box(body, f"{name}_bottom", (d, w, wall / 2), (0, 0, wall / 2), _WOOD)
    _box(body, f"{name}_top", (d, w, wall / 2), (0, 0, height - wall / 2), _WOOD)
    for side, sign in (("left", -1.0), ("right", 1.0)):
        _box(body, f"{name}_{side}", (d, wall / 2, h - wall), (0, sign * (w - wall / 2), h), _WOOD)
    _box(body, f"{name}_back", (wall / 2, w - wall, h - wall), (-d + wall / 2, 0, h), _WOOD)


def _add_hinged_panel(
    parent: mujoco.MjsBody,
    name: str,
    hinge_pos: Sequence[float],
    width: float,
    height: float,
    thickness: float,
    mass: float,
    open_angle: float,
    stiffness: float,
    springref: float,
    damping: float,
    frictionloss: float,
    handle: str,
    handle_length: float,
    handle_radius: float,
    handle_offset: float,
    handle_height: float,
    degrees: bool,
) -> mujoco.MjsBody:
    """A door panel in the y-z plane hinged on its -y edge at ``hinge_pos`` (its front face's edge),
    opening toward +x as the angle grows; the handle near the +y edge, ``handle_height`` m above the
    panel's bottom."""
    panel = parent.add_body(name=f"{name}_panel", pos=list(hinge_pos))
    # The spec's compiler reads a hinge's range and spring angle in degrees unless told radians (an
    # MjSpec's default is degrees); this module's arguments are radians either way.
    unit = 180.0 / math.pi if degrees else 1.0
    # The hinge runs along the front face's edge: the panel then swings out of the frame without its
    # back corner sweeping through the post beside the hinge. Axis -z turns the free edge toward +x.
    panel.add_joint(
        name=f"{name}_hinge",
        type=mujoco.mjtJoint.mjJNT_HINGE,
        axis=[0.0, 0.0, -1.0],
        range=[0.0, open_angle * unit],
        limited=mujoco.mjtLimited.mjLIMITED_TRUE,
        stiffness=[stiffness, 0.0, 0.0],
        springref=springref * unit,
        damping=[damping, 0.0, 0.0],
        frictionloss=frictionloss,
    )
    board = _box(
        panel,
        f"{name}_door",
        (thickness / 2, width / 2, height / 2),
        (-thickness / 2, width / 2, height / 2),
        _PANEL,
    )
    inset = max(0.06, 2.0 * handle_radius + 0.02)
    handle_geoms = _add_handle(
        panel,
        name,
        handle,
        (0.0, width - inset, handle_height),
        handle_length,
        handle_radius,
        handle_offset,
        True,
    )
    _share_mass([board, *handle_geoms], mass)
    # The reference site's z is the hinge's axis (-z): half a turn about x.
    _add_joint_site(parent, name, hinge_pos, (0.0, 1.0, 0.0, 0.0))
    return panel


# ------------------------------------------------------------------------------------------ props
def add_drawer_cabinet(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "drawer",
    width: float = 0.40,
    depth: float = 0.40,
    height: float = 0.20,
    wall: float = 0.015,
    travel: float = 0.30,
    drawer_mass: float = 1.0,
    damping: float = 2.0,
    frictionloss: float = 0.5,
    handle: str = "bar",
    handle_length: float = 0.12,
    handle_radius: float = 0.01,
    handle_offset: float = 0.04,
    clearance: float = 0.004,
) -> mujoco.MjsBody:
    """A cabinet (fixed) holding one drawer on a slide joint that pulls out along +x.

    Names: body ``<name>`` (the cabinet), body ``<name>_drawer``, joint ``<name>_slide`` (0 closed,
    ``travel`` fully out), geom ``<name>_handle`` (the bar or knob), sites ``<name>_handle`` and
    ``<name>_joint`` (z along the slide).

    Args:
      width, depth, height: the cabinet's outside, along y, x and z, m.
      wall: thickness of the cabinet's panels, m (the drawer's are 10 mm).
      travel: how far the drawer pulls out, m: the joint's range is [0, travel].
      drawer_mass: the drawer's mass, handle included, kg.
      damping: viscous damping of the slide, N·s/m.
      frictionloss: dry friction of the slide, N.
      handle: ``bar`` or ``knob``; ``handle_length`` (a bar's length, m), ``handle_radius`` (a bar's or
        knob's radius, m), ``handle_offset`` (its centre's distance out from the drawer's front, m).
      clearance: gap between drawer and cabinet, m.

    Raises:
      ValueError: a non-positive size, a drawer that does not fit, or a travel longer than the drawer.
    """
    fn = "add_drawer_cabinet"
    _check_positive(
        fn,
        width=width,
        depth=depth,
        height=height,
        wall=wall,
        travel=travel,
        drawer_mass=drawer_mass,
        handle_length=handle_length,
        handle_radius=handle_radius,
        handle_offset=handle_offset,
        clearance=clearance,
    )
    if damping < 0 or frictionloss < 0:
        raise ValueError(f"{fn}: damping {damping} and frictionloss {frictionloss} must be >= 0")
    panel = 0.01
    inner_w, inner_h = width - 2 * (wall + clearance), height - 2 * (wall + clearance)
    length = depth - wall - clearance
    if min(inner_w, inner_h) <= 2 * panel or length <= 2 * panel:
        raise ValueError(
            f"{fn}: a {width} x {depth} x {height} m cabinet with {wall} m walls has no room for a drawer"
        )
    if travel > length - 2 * panel:
        raise ValueError(f"{fn}: travel {travel} m exceeds the drawer's length {length - 2 * panel:.3f} m")
    cabinet = _new_prop(fn, spec, name, pos, quat)
    _add_carcass(cabinet, name, depth, width, height, wall)
    front, centre_z = depth / 2, height / 2
    drawer = cabinet.add_body(name=f"{name}_drawer", pos=[front - length / 2, 0.0, centre_z])
    drawer.add_joint(
        name=f"{name}_slide",
        type=mujoco.mjtJoint.mjJNT_SLIDE,
        axis=[1.0, 0.0, 0.0],
        range=[0.0, travel],
        limited=mujoco.mjtLimited.mjLIMITED_TRUE,
        damping=[damping, 0.0, 0.0],
        frictionloss=frictionloss,
    )
    hl, hw, hh = length / 2, inner_w / 2, inner_h / 2
    geoms = [
        _box(drawer, f"{name}_drawer_bottom", (hl, hw, panel / 2), (0, 0, -hh + panel / 2), _PANEL),
        _box(drawer, f"{name}_drawer_front", (panel / 2, hw, hh), (hl - panel / 2, 0, 0), _PANEL),
        _box(drawer, f"{name}_drawer_back", (panel / 2, hw, hh), (-hl + panel / 2, 0, 0), _PANEL),
    ]
    for side, sign in (("left", -1.0), ("right", 1.0)):
        geoms.append(
            _box(
                drawer,
                f"{name}_drawer_{side}",
                (hl - panel, panel / 2, hh - panel / 2),
                (0, sign * (hw - panel / 2), panel / 2),
                _PANEL,
            )
        )
    geoms += _add_handle(
        drawer, name, handle, (hl, 0.0, 0.0), handle_length, handle_radius, handle_offset, False
    )
    _share_mass(geoms, drawer_mass)
    # The reference site sits where the closed drawer's grasp point is; its z is the slide's axis (+x).
    _add_joint_site(cabinet, name, (front + handle_offset, 0.0, centre_z), _quat_yz(math.pi / 2, 0.0))
    return cabinet


def add_hinged_door(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "door",
    width: float = 0.80,
    height: float = 2.0,
    thickness: float = 0.04,
    frame: float = 0.06,
    mass: float = 15.0,
    open_angle: float = 1.5,
    stiffness: float = 5.0,
    springref: float = 0.0,
    damping: float = 3.0,
    frictionloss: float = 0.0,
    handle: str = "bar",
    handle_length: float = 0.25,
    handle_radius: float = 0.012,
    handle_offset: float = 0.06,
    handle_height: float = 1.0,
    clearance: float = 0.005,
) -> mujoco.MjsBody:
    """A door in a fixed frame (two posts and a lintel), hinged on its -y edge, opening toward +x.

    Names: body ``<name>`` (the frame), body ``<name>_panel``, joint ``<name>_hinge`` (0 closed,
    ``open_angle`` rad fully open), geoms ``<name>_door`` and ``<name>_handle``, sites ``<name>_handle``
    and ``<name>_joint`` (z along the hinge's axis).

    Args:
      width, height, thickness: the door panel, m; the frame's opening adds ``clearance`` around it.
      frame: the posts' and lintel's square section, m.
      mass: the panel's mass, handle included, kg.
      open_angle: the hinge's range is [0, open_angle], rad (at most pi / 2 + 0.3).
      stiffness: the return spring, N·m/rad, pulling toward ``springref`` (rad; 0: closed).
      damping: N·m·s/rad; frictionloss: N·m.
      handle: ``bar`` (vertical) or ``knob``, ``handle_height`` m above the panel's bottom edge.
    """
    fn = "add_hinged_door"
    _check_positive(
        fn,
        width=width,
        height=height,
        thickness=thickness,
        frame=frame,
        mass=mass,
        open_angle=open_angle,
        handle_length=handle_length,
        handle_radius=handle_radius,
        handle_offset=handle_offset,
        handle_height=handle_height,
        clearance=clearance,
    )
    _check_spring(fn, open_angle, stiffness, damping, frictionloss)
    if handle_height > height:
        raise ValueError(f"{fn}: handle_height {handle_height} m is above the door's top ({height} m)")
    door_frame = _new_prop(fn, spec, name, pos, quat)
    bottom = clearance
    post_h = bottom + height + clearance
    depth = thickness + 0.02
    for side, y in (
        ("left", -width / 2 - clearance - frame / 2),
        ("right", width / 2 + clearance + frame / 2),
    ):
        _box(
            door_frame,
            f"{name}_post_{side}",
            (depth / 2, frame / 2, post_h / 2),
            (-thickness / 2, y, post_h / 2),
            _WOOD,
        )
    span = width / 2 + clearance + frame
    _box(
        door_frame,
        f"{name}_lintel",
        (depth / 2, span, frame / 2),
        (-thickness / 2, 0, post_h + frame / 2),
        _WOOD,
    )
    _add_hinged_panel(
        door_frame,
        name,
        (0.0, -width / 2, bottom),
        width,
        height,
        thickness,
        mass,
        open_angle,
        stiffness,
        springref,
        damping,
        frictionloss,
        handle,
        handle_length,
        handle_radius,
        handle_offset,
        handle_height,
        spec.compiler.degree,
    )
    return door_frame


def add_cabinet_door(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "cabinet",
    width: float = 0.50,
    depth: float = 0.40,
    height: float = 0.70,
    wall: float = 0.018,
    shelves: int = 1,
    door_thickness: float = 0.018,
    door_mass: float = 2.0,
    open_angle: float = 1.5,
    stiffness: float = 0.5,
    springref: float = 0.0,
    damping: float = 0.3,
    frictionloss: float = 0.0,
    handle: str = "knob",
    handle_length: float = 0.12,
    handle_radius: float = 0.015,
    handle_offset: float = 0.035,
    clearance: float = 0.003,
) -> mujoco.MjsBody:
    """A cabinet (fixed, with ``shelves`` inner shelves) closed by a door on its front, hinged on its
    -y edge and opening toward +x. Names as ``add_hinged_door``'s: body ``<name>_panel``, joint
    ``<name>_hinge``, geoms ``<name>_door`` and ``<name>_handle``, sites ``<name>_handle`` and
    ``<name>_joint``. Sizes in m, mass in kg, spring and damping as ``add_hinged_door``; the handle
    sits at the door's mid-height."""
    fn = "add_cabinet_door"
    _check_positive(
        fn,
        width=width,
        depth=depth,
        height=height,
        wall=wall,
        door_thickness=door_thickness,
        door_mass=door_mass,
        open_angle=open_angle,
        handle_length=handle_length,
        handle_radius=handle_radius,
        handle_offset=handle_offset,
        clearance=clearance,
    )
    _check_spring(fn, open_angle, stiffness, damping, frictionloss)
    if not isinstance(shelves, int) or shelves < 0:
        raise ValueError(f"{fn}: shelves must be a count >= 0, got {shelves!r}")
    cabinet = _new_prop(fn, spec, name, pos, quat)
    _add_carcass(cabinet, name, depth, width, height, wall)
    for i in range(shelves):
        z = height * (i + 1) / (shelves + 1)
        _box(
            cabinet,
            f"{name}_shelf{i}",
            (depth / 2 - wall, width / 2 - wall, wall / 2),
            (wall / 2, 0, z),
            _WOOD,
        )
    hinge = (depth / 2 + clearance + door_thickness, -width / 2, 0.0)
    _add_hinged_panel(
        cabinet,
        name,
        hinge,
        width,
        height,
        door_thickness,
        door_mass,
        open_angle,
        stiffness,
        springref,
        damping,
        frictionloss,
        handle,
        handle_length,
        handle_radius,
        handle_offset,
        height / 2,
        spec.compiler.degree,
    )
    return cabinet


def _check_spring(fn: str, open_angle: float, stiffness: float, damping: float, frictionloss: float) -> None:
    if open_angle > math.pi / 2 + 0.3:
        raise ValueError(
            f"{fn}: open_angle {open_angle} rad would swing the door into its frame (<= pi/2 + 0.3)"
        )
    if min(stiffness, damping, frictionloss) < 0:
        raise ValueError(
            f"{fn}: stiffness {stiffness}, damping {damping} and frictionloss {frictionloss} must be >= 0"
        )


def add_table(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "table",
    size: tuple[float, float] = (1.2, 0.8),
    height: float = 0.75,
    top_thickness: float = 0.04,
    leg: float = 0.05,
) -> mujoco.MjsBody:
    """A fixed table: a top of ``size`` (x, y; m), ``height`` m high, on four square legs of side
    ``leg`` m. Site ``<name>_top`` at the centre of the top's surface; geom ``<name>_top``."""
    _check_positive(
        "add_table", length=size[0], width=size[1], height=height, top_thickness=top_thickness, leg=leg
    )
    if height <= top_thickness or 2 * leg >= min(size):
        raise ValueError(f"add_table: a {size} m top {height} m high does not fit its legs ({leg} m)")
    table = _new_prop("add_table", spec, name, pos, quat)
    sx, sy = size[0] / 2, size[1] / 2
    _box(table, f"{name}_top", (sx, sy, top_thickness / 2), (0, 0, height - top_thickness / 2), _WOOD)
    leg_h = (height - top_thickness) / 2
    for i, (x, y) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        _box(
            table,
            f"{name}_leg{i}",
            (leg / 2, leg / 2, leg_h),
            (x * (sx - leg / 2), y * (sy - leg / 2), leg_h),
            _WOOD,
        )
    table.add_site(name=f"{name}_top", pos=[0.0, 0.0, height], size=[0.005, 0.0, 0.0])
    return table


def add_shelf(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "shelf",
    width: float = 0.80,
    depth: float = 0.30,
    height: float = 1.20,
    boards: int = 4,
    thickness: float = 0.02,
) -> mujoco.MjsBody:
    """A fixed open shelf: two sides, a back and ``boards`` boards evenly spaced from the floor to the
    top (the first at the bottom, the last at the top). Sites ``<name>_board<i>`` at the centre of
    each board's upper surface, for placing objects. Sizes in m."""
    _check_positive("add_shelf", width=width, depth=depth, height=height, thickness=thickness)
    if not isinstance(boards, int) or boards < 2:
        raise ValueError(f"add_shelf: boards must be a count >= 2 (bottom and top), got {boards!r}")
    shelf = _new_prop("add_shelf", spec, name, pos, quat)
    d, w, h = depth / 2, width / 2, height / 2
    for side, sign in (("left", -1.0), ("right", 1.0)):
        _box(shelf, f"{name}_{side}", (d, thickness / 2, h), (0, sign * (w - thickness / 2), h), _WOOD)
    _box(shelf, f"{name}_back", (thickness / 2, w - thickness, h), (-d + thickness / 2, 0, h), _WOOD)
    inner = (d - thickness / 2, w - thickness, thickness / 2)
    for i in range(boards):
        z = thickness / 2 + (height - thickness) * i / (boards - 1)
        _box(shelf, f"{name}_board{i}", inner, (thickness / 2, 0, z), _PANEL)
        shelf.add_site(
            name=f"{name}_board{i}", pos=[thickness / 2, 0.0, z + thickness / 2], size=[0.005, 0, 0]
        )
    return shelf


def add_bin(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "bin",
    size: tuple[float, float] = (0.40, 0.30),
    height: float = 0.15,
    wall: float = 0.01,
    mass: float = 1.0,
    free: bool = False,
) -> mujoco.MjsBody:
    """An open box: a bottom and four walls, inside ``size`` (x, y; m) and ``height`` m deep.
    ``free``: on a free joint (``<name>``) with ``mass`` kg; otherwise fixed. Site ``<name>_inside``
    at the centre of the floor's upper surface."""
    _check_positive("add_bin", length=size[0], width=size[1], height=height, wall=wall, mass=mass)
    box = _new_prop("add_bin", spec, name, pos, quat)
    sx, sy = size[0] / 2, size[1] / 2
    geoms = [_box(box, f"{name}_bottom", (sx + wall, sy + wall, wall / 2), (0, 0, wall / 2), _PLASTIC)]
    zc, hz = wall + height / 2, height / 2
    for side, sign in (("front", 1.0), ("back", -1.0)):
        geoms.append(
            _box(box, f"{name}_{side}", (wall / 2, sy + wall, hz), (sign * (sx + wall / 2), 0, zc), _PLASTIC)
        )
    for side, sign in (("left", -1.0), ("right", 1.0)):
        geoms.append(
            _box(box, f"{name}_{side}", (sx, wall / 2, hz), (0, sign * (sy + wall / 2), zc), _PLASTIC)
        )
    _share_mass(geoms, mass)
    if free:
        box.add_freejoint(name=name)
    box.add_site(name=f"{name}_inside", pos=[0.0, 0.0, wall], size=[0.005, 0, 0])
    return box


def _ring_container(
    fn: str,
    spec: mujoco.MjSpec,
    pos: Sequence[float],
    quat: Sequence[float],
    name: str,
    bottom_radius: float,
    top_radius: float,
    height: float,
    wall: float,
    floor: float,
    segments: int,
    mass: float,
    free: bool,
    rgba: Sequence[float],
) -> mujoco.MjsBody:
    """A round open container: a flat cylinder bottom and a ring of ``segments`` boxes whose inner
    faces run from ``bottom_radius`` at the bottom's top to ``top_radius`` at the rim."""
    _check_positive(
        fn,
        bottom_radius=bottom_radius,
        top_radius=top_radius,
        height=height,
        wall=wall,
        floor=floor,
        mass=mass,
    )
    if not isinstance(segments, int) or segments < 6:
        raise ValueError(f"{fn}: segments must be a count >= 6, got {segments!r}")
    if top_radius < bottom_radius:
        raise ValueError(f"{fn}: top_radius {top_radius} m is below bottom_radius {bottom_radius} m")
    body = _new_prop(fn, spec, name, pos, quat)
    bottom = body.add_geom(
        name=f"{name}_bottom",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[bottom_radius + wall, floor / 2, 0.0],
        pos=[0.0, 0.0, floor / 2],
        rgba=list(rgba),
    )
    geoms = [bottom]
    if height <= floor:
        raise ValueError(f"{fn}: height {height} m leaves no wall above the {floor} m bottom")
    rise = height - floor
    slope = math.atan2(top_radius - bottom_radius, rise)
    half_len = 0.5 * math.hypot(rise, top_radius - bottom_radius)
    # Each box must cover its sector's chord at the rim (the widest place), and a little more so that
    # neighbouring inner faces overlap rather than meet at a seam.
    half_width = 1.05 * (top_radius + wall) * math.tan(math.pi / segments)
    mid_r, mid_z = (bottom_radius + top_radius) / 2, floor + rise / 2
    centre_r = mid_r + wall / 2 * math.cos(slope)
    centre_z = mid_z - wall / 2 * math.sin(slope)
    for i in range(segments):
        phi = 2.0 * math.pi * i / segments
        geoms.append(
            _box(
                body,
                f"{name}_wall{i}",
                (wall / 2, half_width, half_len),
                (centre_r * math.cos(phi), centre_r * math.sin(phi), centre_z),
                rgba,
                _quat_yz(slope, phi),
            )
        )
    _share_mass(geoms, mass)
    if free:
        body.add_freejoint(name=name)
    body.add_site(name=f"{name}_inside", pos=[0.0, 0.0, floor], size=[0.005, 0, 0])
    return body


def add_cup(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "cup",
    radius: float = 0.04,
    height: float = 0.10,
    wall: float = 0.005,
    floor: float = 0.012,
    segments: int = 12,
    mass: float = 0.2,
    free: bool = True,
) -> mujoco.MjsBody:
    """A cup: straight walls of ``segments`` boxes around a flat bottom, ``radius`` m inside,
    ``height`` m tall overall, on a free joint (``<name>``, ``mass`` kg) unless ``free`` is False.
    Geoms ``<name>_bottom`` and ``<name>_wall<i>``; site ``<name>_inside`` on the bottom's upper face.
    The bottom is ``floor`` m thick: soft contacts let a small fast object sink into a thin one (a 1 cm
    sphere falling 0.2 m went through a 5 mm bottom in one step of 2 ms), so it is thicker than the wall."""
    return _ring_container(
        "add_cup", spec, pos, quat, name, radius, radius, height, wall, floor, segments, mass, free, _CERAMIC
    )


def add_bowl(
    spec: mujoco.MjSpec,
    pos: Sequence[float] = (0.0, 0.0, 0.0),
    quat: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
    name: str = "bowl",
    bottom_radius: float = 0.05,
    top_radius: float = 0.09,
    height: float = 0.06,
    wall: float = 0.005,
    floor: float = 0.012,
    segments: int = 16,
    mass: float = 0.3,
    free: bool = True,
) -> mujoco.MjsBody:
    """A bowl: walls of ``segments`` boxes flaring from ``bottom_radius`` to ``top_radius`` m (inside),
    ``height`` m tall overall, around a flat bottom; names as ``add_cup``'s."""
    return _ring_container(
        "add_bowl",
        spec,
        pos,
        quat,
        name,
        bottom_radius,
        top_radius,
        height,
        wall,
        floor,
        segments,
        mass,
        free,
        _CERAMIC,
    )
