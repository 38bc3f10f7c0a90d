"""USD files with USD Physics schemas, read with ``usd-core`` into an ``MjSpec``.

What is read, and how it becomes MuJoCo:

- a prim with ``UsdPhysics.RigidBodyAPI`` is a body; joints (``RevoluteJoint``, ``PrismaticJoint``,
  ``SphericalJoint``, ``FixedJoint``) join them into trees rooted at the world. A tree that no joint
  fixes to the world floats on a free joint, from the body carrying ``ArticulationRootAPI`` (else its
  first body). A kinematic body without joints becomes a mocap body.
- a body's pose relative to its parent is that of the joint at zero (``localPos0``/``localRot0`` and
  ``localPos1``/``localRot1`` made to coincide), as USD Physics defines a joint's position.
- ``MassAPI`` on a body gives its mass, centre of mass, diagonal inertia and principal axes; without
  them the mass comes from the collision shapes' density (``MassAPI.density`` on a shape, else
  1000 kg/m³), scaled to the body's ``mass`` where only that is given.
- a gprim with ``CollisionAPI`` is a collision geom (``Cube``, ``Sphere`` (scaled unevenly: an
  ellipsoid), ``Capsule``, ``Cylinder``, ``Plane``, ``Mesh``); other gprims are visual geoms
  (group 1, no contacts, no mass). Friction is the ``dynamicFriction`` of the bound physics material.
- joint limits (degrees in USD), and a ``DriveAPI`` (``angular`` or ``linear``, type ``force``)
  becomes a position actuator named like the joint (a velocity actuator when only damping is set).
- USD Physics has no joint damping, armature, dry friction or spring, nor a time step: attributes
  ``warplab:damping``, ``warplab:armature``, ``warplab:frictionloss``, ``warplab:stiffness`` on a joint
  and ``warplab:timestep`` (``integrator``, ``solver``, ``cone``) on the ``PhysicsScene`` carry them, as
  ``write_usd`` writes them.

Units follow the stage's ``metersPerUnit`` and ``kilogramsPerUnit``.
"""

from __future__ import annotations

import math
import os
import pathlib
import re
from typing import Any

import mujoco
import numpy as np

from warplab.assets.importers.files import (
    DEFAULT_LIMITS,
    AssetError,
    ImportLimits,
    check_file,
    inside,
    mujoco_reason,
)
from warplab.assets.importers.spec_checks import check_spec

INSTALL_HINT = 'pip install "warplab[usd]"'
"""How to install the optional ``usd-core`` package."""

_AXES = {"X": np.array([1.0, 0, 0]), "Y": np.array([0, 1.0, 0]), "Z": np.array([0, 0, 1.0])}
# Rotations taking MuJoCo's z (the axis of capsules, cylinders and a plane's normal) onto a USD axis.
_Z_TO = {
    "X": np.array([0.5**0.5, 0, 0.5**0.5, 0]),
    "Y": np.array([0.5**0.5, -(0.5**0.5), 0, 0]),
    "Z": np.array([1.0, 0, 0, 0]),
}


def pxr_modules():
    """``(Usd, UsdGeom, UsdPhysics, UsdShade, Gf, Sdf)`` from ``usd-core``, or an ImportError with the fix."""
    try:
        from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade
    except ImportError as e:
        raise ImportError(f"reading and writing USD needs the usd-core package: {INSTALL_HINT}") from e
    return Usd, UsdGeom, UsdPhysics, UsdShade, Gf, Sdf


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros(4)
    mujoco.mju_mulQuat(out, np.asarray(a, float), np.asarray(b, float))
    return out


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = np.zeros(3)
    mujoco.mju_rotVecQuat(out, np.asarray(v, float), np.asarray(q, float))
    return out


def quat_inv(q: np.ndarray) -> np.ndarray:
    return np.array([q[0], -q[1], -q[2], -q[3]]) / np.dot(q, q)


def _mat_to_quat(rot: np.ndarray) -> np.ndarray:
    out = np.zeros(4)
    mujoco.mju_mat2Quat(out, np.ascontiguousarray(rot, dtype=float).reshape(9))
    return out


def _quat(gf_quat) -> np.ndarray:
    """A ``Gf.Quat*`` as (w, x, y, z), normalized; an all-zero quaternion (USD's "unset") is identity."""
    q = np.array([gf_quat.GetReal(), *gf_quat.GetImaginary()], dtype=float)
    n = np.linalg.norm(q)
    return q / n if n > 0 else np.array([1.0, 0, 0, 0])


def _matrix(gf_matrix) -> np.ndarray:
    """A USD row-vector 4x4 matrix as a column-vector one (``p' = A @ [p, 1]``)."""
    return np.array(gf_matrix, dtype=float).T


class _Reader:
    def __init__(self, path: pathlib.Path, stage, limits: ImportLimits):
        self.Usd, self.UsdGeom, self.UsdPhysics, self.UsdShade, _, _ = pxr_modules()
        self.path, self.stage, self.limits = path, stage, limits
        self.m = self.UsdGeom.GetStageMetersPerUnit(stage)
        self.kg = self.UsdPhysics.GetStageKilogramsPerUnit(stage)
        self.cache = self.UsdGeom.XformCache()
        self.spec = mujoco.MjSpec()
        self.spec.compiler.degree = False  # every angle below is in radians
        self.spec.modelname = path.stem
        self.names: dict[str, set[str]] = {"body": set(), "geom": set(), "joint": set(), "mesh": set()}

    def error(self, prim, message: str) -> AssetError:
        where = f"{prim.GetPath()} ({prim.GetTypeName() or 'untyped'})" if prim is not None else ""
        return AssetError(f"{self.path}: {where}: {message}" if where else f"{self.path}: {message}")

    def unique(self, kind: str, name: str) -> str:
        taken = self.names[kind]
        out, i = name, 1
        while out in taken:
            out, i = f"{name}_{i}", i + 1
        taken.add(out)
        return out

    # ------------------------------------------------------------------ frames
    def world(self, prim) -> np.ndarray:
        a = _matrix(self.cache.GetLocalToWorldTransform(prim))
        a[:3, 3] *= self.m
        return a

    def body_frame(self, prim) -> tuple[np.ndarray, np.ndarray]:
        """(pos, quat) of a body in the world; its transform may not scale."""
        a = self.world(prim)
        scale = np.linalg.norm(a[:3, :3], axis=0)
        if np.any(np.abs(scale - 1.0) > 1e-5):
            raise self.error(
                prim,
                f"a rigid body's transform scales by {scale.round(6).tolist()}; "
                "scale the shapes under it instead, so that joint frames keep their meaning",
            )
        return a[:3, 3].copy(), _mat_to_quat(a[:3, :3])

    def relative(self, prim, body) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pos, quat, scale) of ``prim`` in the frame of ``body`` (None: the world)."""
        a = self.world(prim)
        if body is not None:
            pos, quat = self.body_frame(body)
            inv = np.eye(4)
            rot = np.zeros(9)
            mujoco.mju_quat2Mat(rot, quat)
            inv[:3, :3] = rot.reshape(3, 3).T
            inv[:3, 3] = -inv[:3, :3] @ pos
            a = inv @ a
        scale = np.linalg.norm(a[:3, :3], axis=0)
        if np.any(scale < 1e-12):
            raise self.error(prim, "its transform scales an axis to zero")
        rot = a[:3, :3] / scale
        if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-5) or np.linalg.det(rot) < 0:
            raise self.error(
                prim,
                "its transform shears or mirrors the shape; MuJoCo geoms need a "
                "rotation and a scale along their own axes",
            )
        return a[:3, 3].copy(), _mat_to_quat(rot), scale

    def joint_frame(self, joint, side: int) -> tuple[np.ndarray, np.ndarray]:
        pos = np.array(joint.GetAttribute(f"physics:localPos{side}").Get() or (0, 0, 0), float) * self.m
        rot = joint.GetAttribute(f"physics:localRot{side}").Get()
        return pos, (_quat(rot) if rot is not None else np.array([1.0, 0, 0, 0]))

    # ------------------------------------------------------------------ read
    def attr(self, prim, name: str, default=None):
        attr = prim.GetAttribute(name)
        return attr.Get() if attr and attr.HasAuthoredValue() else default

    def number(self, prim, name: str, default: float, minimum: float | None = None, why: str = "") -> float:
        """A number attribute that is not NaN (and not below ``minimum``); infinities are left to the caller."""
        value = self.attr(prim, name, default)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise self.error(prim, f"{name} = {value!r} is not a number") from None
        if math.isnan(value):
            raise self.error(prim, f"{name} is NaN; give a real value")
        if minimum is not None and value < minimum:
            raise self.error(prim, f"{name} = {value:g} is below {minimum:g}; {why}")
        return value


def load_usd(
    path: str | os.PathLike,
    *,
    asset_root: str | os.PathLike | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> mujoco.MjSpec:
    """A USD stage with USD Physics schemas as an editable ``MjSpec`` (see the module's docstring).

    Args:
      path: a ``.usd``, ``.usda``, ``.usdc`` or ``.usdz`` file.
      asset_root: the folder every layer the stage composes (sublayers, references, payloads) must
        lie in; None: the file's folder.
      limits: size limits of the file and of each mesh (faces).

    Raises:
      ImportError: ``usd-core`` is missing.
      FileNotFoundError: the file is missing.
      AssetError: the file cannot be opened, composes a layer outside ``asset_root``, has no USD
        Physics prims, or has what MuJoCo cannot represent (the message names the prim): a joint type
        other than revolute, prismatic, spherical or fixed, a closed kinematic loop, a scaled rigid
        body, an unsupported collision shape, a mesh over ``limits``.
    """
    Usd = pxr_modules()[0]
    path = pathlib.Path(path).absolute()
    check_file(path, limits, "USD file")
    root = pathlib.Path(asset_root).absolute() if asset_root is not None else path.parent
    check_layers(path, [root], limits)
    try:
        stage = Usd.Stage.Open(str(path))
    except Exception as e:  # usd-core raises Tf.ErrorException, whose text holds the reason
        raise AssetError(f"{path}: cannot open as USD: {usd_reason(e)}") from None
    if stage is None:
        raise AssetError(f"{path}: cannot open as USD")
    for layer in stage.GetUsedLayers():
        real = layer.realPath
        if real:
            inside(pathlib.Path(_outer(real)), [root], path, layer.identifier)
    _check_clips(path, stage, [root])
    reader = _Reader(path, stage, limits)
    return check_spec(_build(reader), path)


def usd_reason(error: Exception | str) -> str:
    """usd-core's error text on one line: the message of each of its ``Error in 'FUNCTION' at line N
    in file SOURCE : 'MESSAGE'`` blocks, without usd-core's own function and source names."""
    text = re.sub(r"pxrInternal_v\w+?__pxrReserved__::", "", str(error))
    messages = re.findall(
        r"Error in '[^']*' at line \d+ in file \S+ : '(.*?)'\s*(?=Error in '|$)", text, re.S
    )
    return "; ".join(" ".join(m.split()) for m in messages) or mujoco_reason(text)


def _outer(path: str) -> str:
    """The file of a path, without the part inside a package (``robot.usdz[part.usdc]``)."""
    from pxr import Ar

    return Ar.SplitPackageRelativePathOuter(path)[0] if "[" in path else path


def check_layers(path: pathlib.Path, roots: list[pathlib.Path], limits: ImportLimits) -> None:
    """Checks every layer the stage at ``path`` composes (sublayers, references, payloads), before
    USD opens it: inside ``roots`` after links and ``..``, present, and within ``limits``.

    Raises:
      AssetError: a layer outside ``roots``, over the size limit, or not readable as USD.
      FileNotFoundError: a layer that is missing (USD would drop it with a warning).
    """
    from pxr import Ar, Sdf

    seen: set[str] = set()
    pending = [str(path)]
    while pending:
        identifier = pending.pop()
        if identifier in seen:
            continue
        seen.add(identifier)
        try:
            layer = Sdf.Layer.FindOrOpen(identifier)
        except Exception as e:  # usd-core raises Tf.ErrorException, whose text holds the reason
            raise AssetError(f"{identifier}: cannot open as USD: {usd_reason(e)}") from None
        if layer is None:
            raise AssetError(f"{identifier}: cannot open as USD")
        source = pathlib.Path(_outer(layer.realPath or identifier))
        for asset in layer.GetCompositionAssetDependencies():
            anchored = Sdf.ComputeAssetPathRelativeToLayer(layer, asset)
            resolved = str(Ar.GetResolver().Resolve(anchored))
            # A path USD cannot find is checked where it would be: beside the layer naming it.
            where = _outer(resolved or anchored)
            where = where if pathlib.Path(where).is_absolute() else str(source.parent / where)
            inside(pathlib.Path(where), roots, source, asset)
            if not resolved:
                raise FileNotFoundError(f"{source}: layer {asset!r} not found: tried {where}")
            check_file(pathlib.Path(_outer(resolved)), limits, "USD layer")
            pending.append(resolved)


def _check_clips(path: pathlib.Path, stage, roots: list[pathlib.Path]) -> None:
    # Value clips name more layers, which USD opens only when a value is read: check them first.
    Usd = pxr_modules()[0]
    for prim in stage.Traverse():
        if not prim.HasAuthoredMetadata("clips"):
            continue
        clips = Usd.ClipsAPI(prim)
        for clip_set in clips.GetClipSets() or []:
            for asset in clips.ComputeClipAssetPaths(clip_set):
                where = asset.resolvedPath or asset.path
                inside(pathlib.Path(_outer(where)), roots, path, asset.path)


def _build(r: _Reader) -> mujoco.MjSpec:
    """The MjSpec of the reader's stage."""
    U, UsdGeom = r.UsdPhysics, r.UsdGeom
    bodies, shapes, joints, scene = {}, [], [], None
    for prim in r.stage.Traverse():
        if prim.HasAPI(U.RigidBodyAPI) and r.attr(prim, "physics:rigidBodyEnabled", True):
            bodies[prim.GetPath()] = prim
        if prim.IsA(U.Joint):
            joints.append(prim)
        elif prim.IsA(U.Scene):
            scene = prim
        elif prim.IsA(UsdGeom.Gprim):
            if prim.HasAPI(U.CollisionAPI):
                if r.attr(prim, "physics:collisionEnabled", True):
                    shapes.append((prim, True))
            elif UsdGeom.Imageable(prim).ComputeVisibility() != "invisible" and UsdGeom.Imageable(
                prim
            ).ComputePurpose() in ("default", "render"):
                shapes.append((prim, False))
    if not bodies and not joints and not any(c for _, c in shapes):
        raise AssetError(
            f"{r.path}: no USD Physics in this stage: no prim has UsdPhysics.RigidBodyAPI or CollisionAPI, "
            "and there are no physics joints. It may be a visual-only export: apply RigidBodyAPI (and "
            "MassAPI) to each body, CollisionAPI to its collision shapes, and join bodies with "
            "UsdPhysics joints"
        )
    _scene_options(r, scene)
    parents = _tree(r, bodies, joints)
    children: dict = {}
    for child, (parent, _, _) in parents.items():
        children.setdefault(parent, []).append(child)
    # The shapes under each body's path (None: under no body, attached to the world).
    owner: dict[Any, list[tuple[Any, bool]]] = {}
    for prim, collision in shapes:
        p = prim
        while p.IsValid() and p.GetPath() not in bodies:
            p = p.GetParent()
        owner.setdefault(p.GetPath() if p.IsValid() else None, []).append((prim, collision))
    for prim, collision in owner.get(None, []):
        _add_shape(r, r.spec.worldbody, prim, None, collision)
    order = {path: i for i, path in enumerate(bodies)}
    mass_only = []

    def add(parent_spec, path):
        prim = bodies[path]
        parent, joint, flipped = parents[path]
        body = parent_spec.add_body(name=r.unique("body", prim.GetName()))
        _place_body(r, body, prim, parent, joint, flipped)
        if _mass(r, body, prim):
            mass_only.append((body, prim))
        for shape, collision in owner.get(path, []):
            _add_shape(r, body, shape, prim, collision)
        for child in sorted(children.get(path, []), key=order.__getitem__):
            add(body, child)

    for root in sorted(children.get(None, []), key=order.__getitem__):
        add(r.spec.worldbody, root)
    if mass_only:
        _scale_to_mass(r, mass_only)
    return r.spec


def _scene_options(r: _Reader, scene) -> None:
    up = r.UsdGeom.GetStageUpAxis(r.stage)
    direction = -_AXES["Y" if up == "Y" else "Z"]
    magnitude = 9.81
    if scene is not None:
        d = np.array(r.attr(scene, "physics:gravityDirection", (0, 0, 0)), float)
        if not np.all(np.isfinite(d)):
            raise r.error(scene, f"gravityDirection {d.tolist()} is not finite")
        if np.linalg.norm(d) > 0:
            direction = d / np.linalg.norm(d)
        # USD Physics writes "earth's gravity" as a negative infinity; a NaN is no magnitude at all.
        g = r.number(scene, "physics:gravityMagnitude", -math.inf)
        if math.isfinite(g) and g >= 0:
            magnitude = g * r.m
        timestep = r.attr(scene, "warplab:timestep")
        if timestep is not None:
            r.spec.option.timestep = float(timestep)
        for option, enum, prefix in (
            ("integrator", mujoco.mjtIntegrator, "mjINT_"),
            ("solver", mujoco.mjtSolver, "mjSOL_"),
            ("cone", mujoco.mjtCone, "mjCONE_"),
        ):
            value = r.attr(scene, f"warplab:{option}")
            if value is not None:
                if not hasattr(enum, prefix + str(value).upper()):
                    names = [n[len(prefix) :].lower() for n in enum.__members__]
                    raise r.error(scene, f"warplab:{option} {value!r} is not one of {names}")
                setattr(r.spec.option, option, getattr(enum, prefix + str(value).upper()))
    r.spec.option.gravity = (direction * magnitude).tolist()


_JOINT_TYPES = {
    "PhysicsRevoluteJoint": mujoco.mjtJoint.mjJNT_HINGE,
    "PhysicsPrismaticJoint": mujoco.mjtJoint.mjJNT_SLIDE,
    "PhysicsSphericalJoint": mujoco.mjtJoint.mjJNT_BALL,
    "PhysicsFixedJoint": None,
}


def _target(r: _Reader, joint, name: str, bodies: dict):
    targets = joint.GetRelationship(name).GetTargets() if joint.GetRelationship(name) else []
    if len(targets) > 1:
        raise r.error(joint, f"{name} names {len(targets)} prims; a joint joins one body to one other")
    if not targets:
        return None, None
    prim = r.stage.GetPrimAtPath(targets[0])
    if not prim.IsValid():
        raise r.error(joint, f"{name} names {targets[0]}, which is not in the stage")
    # A prim without a rigid body is static: the joint fixes its other body to the world there.
    return (targets[0], prim) if targets[0] in bodies else (None, prim)


def _tree(r: _Reader, bodies: dict, joints: list) -> dict:
    """``{body path: (parent path or None, joint prim or None, flipped)}`` spanning every body."""
    edges = []
    for joint in joints:
        if not r.attr(joint, "physics:jointEnabled", True):
            continue
        kind = joint.GetTypeName()
        if kind not in _JOINT_TYPES:
            raise r.error(
                joint,
                f"unsupported joint type {kind or 'PhysicsJoint (generic D6)'}; warplab reads "
                "RevoluteJoint, PrismaticJoint, SphericalJoint and FixedJoint",
            )
        if r.attr(joint, "physics:excludeFromArticulation", False):
            raise r.error(
                joint,
                "a joint excluded from the articulation closes a kinematic loop, which "
                "MuJoCo trees cannot hold; remove it or model the loop as a constraint",
            )
        (b0, a0), (b1, a1) = (
            _target(r, joint, "physics:body0", bodies),
            _target(r, joint, "physics:body1", bodies),
        )
        if b0 is None and b1 is None:
            raise r.error(joint, "joins no rigid body: body0 and body1 are both empty or static")
        if b0 == b1:
            raise r.error(joint, f"joins body {b0} to itself")
        edges.append((joint, b0, b1, a0 if b0 is None else None, a1 if b1 is None else None))
    parents: dict = {}
    used = [False] * len(edges)

    def grow(start):
        queue = [start]
        while queue:
            node = queue.pop(0)
            for i, (joint, b0, b1, _, _) in enumerate(edges):
                if used[i] or node not in (b0, b1):
                    continue
                used[i] = True
                other, flipped = (b1, False) if node == b0 else (b0, True)
                if other in parents:
                    raise r.error(
                        joint,
                        f"closes a kinematic loop: {other} is already joined to "
                        f"{parents[other][0] or 'the world'}; MuJoCo bodies form trees",
                    )
                parents[other] = (node, i, flipped)
                queue.append(other)

    grow(None)
    roots = sorted(bodies, key=lambda p: not bodies[p].HasAPI(r.UsdPhysics.ArticulationRootAPI))
    for path in roots:
        if path not in parents:
            parents[path] = (None, None, False)
            grow(path)
    return {
        child: (parent, None if i is None else edges[i], flipped)
        for child, (parent, i, flipped) in parents.items()
    }


def _place_body(r: _Reader, body, prim, parent, edge, flipped: bool) -> None:
    if edge is None:  # a floating (or kinematic) root
        body.pos, body.quat = (v.tolist() for v in r.body_frame(prim))
        if r.attr(prim, "physics:kinematicEnabled", False):
            body.mocap = True
        else:
            name = r.attr(prim, "warplab:freejoint") or f"{prim.GetName()}_freejoint"
            body.add_freejoint(name=r.unique("joint", name))
        return
    joint, _, _, static0, static1 = edge
    if r.attr(prim, "physics:kinematicEnabled", False):
        raise r.error(
            prim,
            "a kinematic body joined to another body; MuJoCo moves only root bodies kinematically (mocap)",
        )
    p0, q0 = r.joint_frame(joint, 1 if flipped else 0)  # the frame on the parent's side
    p1, q1 = r.joint_frame(joint, 0 if flipped else 1)  # the frame on this body's side
    static = static1 if flipped else static0
    if parent is None and static is not None:
        sp, sq = r.body_frame(static)
        p0, q0 = sp + quat_rotate(sq, p0), quat_mul(sq, q0)
    # The body's pose in its parent with the joint at zero: both joint frames coincide.
    q = quat_mul(q0, quat_inv(q1))
    body.quat = q.tolist()
    body.pos = (p0 - quat_rotate(q, p1)).tolist()
    kind = _JOINT_TYPES[joint.GetTypeName()]
    if kind is None:
        return
    axis_token = r.attr(joint, "physics:axis", "X")
    axis = quat_rotate(q1, _AXES[axis_token]) * (-1.0 if flipped else 1.0)
    j = body.add_joint(
        name=r.unique("joint", joint.GetName()), type=kind, pos=p1.tolist(), axis=axis.tolist()
    )
    _joint_limits(r, joint, j, kind)
    for attr, field in (
        ("damping", "damping"),
        ("armature", "armature"),
        ("frictionloss", "frictionloss"),
        ("stiffness", "stiffness"),
    ):
        value = r.attr(joint, f"warplab:{attr}")
        if value is not None:
            value = r.number(joint, f"warplab:{attr}", 0.0, 0.0, "it would feed energy into the joint")
            # Damping and stiffness are polynomials in MuJoCo's spec: the first term is the linear one.
            setattr(j, field, [float(value), 0, 0] if field in ("damping", "stiffness") else float(value))
    _drive(r, joint, j, kind)


def _joint_limits(r: _Reader, joint, j, kind) -> None:
    if kind == mujoco.mjtJoint.mjJNT_BALL:
        cones = [r.number(joint, f"physics:coneAngle{i}Limit", -1.0) for i in (0, 1)]
        if all(c < 0 for c in cones):
            return
        if abs(cones[0] - cones[1]) > 1e-6:
            raise r.error(
                joint,
                f"cone limits {cones} (degrees) differ; a MuJoCo ball joint limits one "
                "angle: set coneAngle0Limit = coneAngle1Limit",
            )
        j.limited, j.range = mujoco.mjtLimited.mjLIMITED_TRUE, [0.0, math.radians(cones[0])]
        return
    # USD Physics writes a missing limit as an infinity; a NaN is no limit of any kind.
    lo, hi = r.number(joint, "physics:lowerLimit", -math.inf), r.number(joint, "physics:upperLimit", math.inf)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        if math.isfinite(lo) or math.isfinite(hi):
            raise r.error(joint, f"limits [{lo}, {hi}] bound one side only; MuJoCo limits both or none")
        j.limited = mujoco.mjtLimited.mjLIMITED_FALSE
        return
    if lo > hi:
        raise r.error(joint, f"lowerLimit {lo:g} is above upperLimit {hi:g}; give lowerLimit < upperLimit")
    scale = math.pi / 180.0 if kind == mujoco.mjtJoint.mjJNT_HINGE else r.m
    j.limited, j.range = mujoco.mjtLimited.mjLIMITED_TRUE, [lo * scale, hi * scale]


def _drive(r: _Reader, joint, j, kind) -> None:
    drives = [s.split(":", 1)[1] for s in joint.GetAppliedSchemas() if s.startswith("PhysicsDriveAPI:")]
    if not drives:
        return
    wanted = {mujoco.mjtJoint.mjJNT_HINGE: "angular", mujoco.mjtJoint.mjJNT_SLIDE: "linear"}.get(kind)
    if drives != [wanted]:
        raise r.error(
            joint,
            f"drives {drives} on a {joint.GetTypeName()}; warplab reads one 'angular' "
            "drive on a revolute joint or one 'linear' drive on a prismatic joint",
        )
    ns = f"drive:{wanted}:physics:"
    if r.attr(joint, ns + "type", "force") != "force":
        raise r.error(joint, f"{ns}type is 'acceleration'; MuJoCo actuators apply forces: use type 'force'")
    # In stage units a force is kg·m/s² and a torque kg·m²/s²; an angular drive's gains are per
    # degree. Stiffness is force per unit of motion, so a linear drive's loses one length.
    torque = r.kg * r.m**2 if wanted == "angular" else r.kg * r.m
    per_motion = 180.0 / math.pi if wanted == "angular" else 1.0 / r.m
    why = "a drive's gains and force are at least 0"
    kp = r.number(joint, ns + "stiffness", 0.0, 0.0, why) * torque * per_motion
    kv = r.number(joint, ns + "damping", 0.0, 0.0, why) * torque * per_motion
    max_force = r.number(joint, ns + "maxForce", math.inf, 0.0, why)
    if math.isinf(kp) or math.isinf(kv):
        raise r.error(joint, f"{ns}stiffness or damping is infinite; give the drive's real gains")
    if kp == 0 and kv == 0:
        return
    act = r.spec.add_actuator(name=j.name, target=j.name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
    if kp > 0:
        act.set_to_position(kp=kp, kv=kv)
    else:
        act.set_to_velocity(kv=kv)
    if math.isfinite(max_force):
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-max_force * torque, max_force * torque]


def _mass(r: _Reader, body, prim) -> bool:
    """Sets an explicit inertia from ``MassAPI``; True when only the mass is given (scale the shapes)."""
    if not prim.HasAPI(r.UsdPhysics.MassAPI):
        return False
    mass = r.number(prim, "physics:mass", 0.0, 0.0, "a mass is at least 0") * r.kg
    inertia = np.array(r.attr(prim, "physics:diagonalInertia", (0, 0, 0)), float) * r.kg * r.m**2
    if not (math.isfinite(mass) and np.all(np.isfinite(inertia))) or np.any(inertia < 0):
        raise r.error(
            prim,
            f"MassAPI mass {mass:g} kg, diagonalInertia {inertia.tolist()} kg·m²: give a finite mass and "
            "inertia, none negative",
        )
    if mass == 0:
        return False  # USD Physics: a zero mass is "not given", the shapes' density decides
    if np.all(inertia == 0):
        return True
    if np.any(inertia == 0):
        raise r.error(prim, f"diagonalInertia {inertia.tolist()} has a zero entry; give all three (kg·m²)")
    com = np.array(r.attr(prim, "physics:centerOfMass", (0, 0, 0)), float)
    body.explicitinertial = True
    body.mass = mass
    body.inertia = inertia.tolist()
    body.ipos = (com * r.m if np.all(np.isfinite(com)) else np.zeros(3)).tolist()
    axes = r.attr(prim, "physics:principalAxes")
    body.iquat = (_quat(axes) if axes is not None else np.array([1.0, 0, 0, 0])).tolist()
    return False


def _scale_to_mass(r: _Reader, bodies: list) -> None:
    # USD Physics: a body's mass without its inertia scales the inertia its shapes would give.
    try:
        model = r.spec.compile()
    except ValueError as e:
        raise AssetError(f"{r.path}: MuJoCo cannot compile this stage: {mujoco_reason(e)}") from None
    for body, prim in bodies:
        computed = model.body(body.name).mass[0]
        if computed <= 0:
            raise r.error(
                prim,
                "MassAPI gives a mass but no inertia, and the body has no collision "
                "shapes to take one from; give diagonalInertia",
            )
        factor = r.attr(prim, "physics:mass") * r.kg / computed
        for geom in body.geoms:
            if not math.isnan(geom.mass):
                geom.mass *= factor
            else:
                geom.density *= factor


def _triangles(r: _Reader, prim) -> tuple[np.ndarray, np.ndarray]:
    mesh = r.UsdGeom.Mesh(prim)
    points = np.array(mesh.GetPointsAttr().Get() or [], float).reshape(-1, 3)
    if not np.all(np.isfinite(points)):
        raise r.error(prim, "mesh points hold NaN or infinite coordinates")
    counts = np.array(mesh.GetFaceVertexCountsAttr().Get() or [], int)
    indices = np.array(mesh.GetFaceVertexIndicesAttr().Get() or [], int)
    triangles = int(np.sum(np.maximum(counts - 2, 0)))
    if triangles > r.limits.max_mesh_faces:
        raise r.error(
            prim,
            f"mesh of {triangles} triangles is over the limit of {r.limits.max_mesh_faces} "
            "(ImportLimits.max_mesh_faces); decimate it or raise the limit",
        )
    if len(points) < 4 or triangles < 1:
        raise r.error(
            prim,
            f"mesh has {len(points)} points and {triangles} triangles; a collision mesh "
            "needs at least 4 points not in one plane",
        )
    if counts.sum() != len(indices) or np.any(counts < 3):
        raise r.error(prim, "faceVertexCounts do not match faceVertexIndices (or a face has < 3 corners)")
    if indices.min() < 0 or indices.max() >= len(points):
        raise r.error(prim, f"faceVertexIndices reach {indices.max()}, but the mesh has {len(points)} points")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # A polygon is split into a fan of triangles about its first corner.
    first = np.repeat(starts, counts - 2)
    offsets = np.concatenate([np.arange(1, n - 1) for n in counts])
    faces = np.stack([indices[first], indices[first + offsets], indices[first + offsets + 1]], axis=1)
    return points * r.m, faces


def _add_shape(r: _Reader, body, prim, owner, collision: bool) -> None:
    G = mujoco.mjtGeom
    kind = prim.GetTypeName()
    pos, quat, scale = r.relative(prim, owner)
    geom: dict[str, Any] = {"pos": pos, "quat": quat}
    if kind == "Cube":
        geom.update(type=G.mjGEOM_BOX, size=r.attr(prim, "size", 2.0) * r.m / 2 * scale)
    elif kind == "Sphere":
        radius = r.attr(prim, "radius", 1.0) * r.m
        uneven = not np.allclose(scale, scale[0], rtol=1e-6)
        size = radius * scale if uneven else np.array([radius * scale[0], 0, 0])
        geom.update(type=G.mjGEOM_ELLIPSOID if uneven else G.mjGEOM_SPHERE, size=size)
    elif kind in ("Capsule", "Cylinder", "Plane"):
        axis = r.attr(prim, "axis", "Z")
        k = "XYZ".index(axis)
        radial = np.delete(scale, k)
        geom["quat"] = quat_mul(quat, _Z_TO[axis])
        if kind == "Plane":
            half = np.array([r.attr(prim, "width", 2.0), r.attr(prim, "length", 2.0)]) * r.m / 2 * radial
            geom.update(type=G.mjGEOM_PLANE, size=[*half, 0.05])
        else:
            if not np.isclose(radial[0], radial[1], rtol=1e-6):
                raise r.error(
                    prim,
                    f"scale {scale.tolist()} is uneven across the {kind.lower()}'s round "
                    "section; MuJoCo's are circular",
                )
            radius = r.attr(prim, "radius", 0.5 if kind == "Capsule" else 1.0) * r.m * radial[0]
            geom.update(
                type=getattr(G, f"mjGEOM_{kind.upper()}"),
                size=[
                    radius,
                    r.attr(prim, "height", 1.0 if kind == "Capsule" else 2.0) * r.m / 2 * scale[k],
                    0,
                ],
            )
    elif kind == "Mesh":
        points, faces = _triangles(r, prim)
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, quat)
        points = (points * scale) @ rot.reshape(3, 3).T + pos
        name = r.unique("mesh", prim.GetName())
        r.spec.add_mesh(name=name, uservert=points.reshape(-1).tolist(), userface=faces.reshape(-1).tolist())
        geom.update(type=G.mjGEOM_MESH, meshname=name, pos=np.zeros(3), quat=np.array([1.0, 0, 0, 0]))
    elif collision:
        raise r.error(
            prim,
            f"unsupported collision shape {kind}; warplab reads Cube, Sphere, Capsule, "
            "Cylinder, Plane and Mesh",
        )
    else:
        return  # a visual-only shape MuJoCo has no geom for (a cone, a curve...)
    g = body.add_geom(name=r.unique("geom", prim.GetName()))
    for key, value in geom.items():
        setattr(g, key, value.tolist() if isinstance(value, np.ndarray) else value)
    color = r.UsdGeom.Gprim(prim).GetDisplayColorAttr().Get()
    if color:
        opacity = r.UsdGeom.Gprim(prim).GetDisplayOpacityAttr().Get()
        g.rgba = [*color[0], opacity[0] if opacity else 1.0]
    if not collision:
        g.contype, g.conaffinity, g.group, g.density = 0, 0, 1, 0.0
        return
    g.contype = int(r.attr(prim, "warplab:contype", 1))
    g.conaffinity = int(r.attr(prim, "warplab:conaffinity", 1))
    if prim.HasAPI(r.UsdPhysics.MassAPI):
        why = "a mass or density is at least 0 (0: not given)"
        mass = r.number(prim, "physics:mass", 0.0, 0.0, why)
        density = r.number(prim, "physics:density", 0.0, 0.0, why)
        if mass > 0:
            g.mass = mass * r.kg
        elif density > 0:
            g.density = density * r.kg / r.m**3
    material, _ = r.UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial("physics")
    if material and material.GetPrim().HasAPI(r.UsdPhysics.MaterialAPI):
        friction = r.attr(material.GetPrim(), "physics:dynamicFriction")
        if friction is not None:
            g.friction = [float(friction), *list(g.friction)[1:]]
