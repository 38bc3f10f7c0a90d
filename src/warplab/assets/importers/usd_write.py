"""A MuJoCo model written as USD with USD Physics schemas: what ``load_usd`` reads back.

Each body becomes an ``Xform`` prim nested as in MuJoCo's tree, posed as in ``qpos0``, with
``RigidBodyAPI`` and ``MassAPI`` (mass, centre of mass, diagonal inertia, principal axes). Its joint
becomes a ``RevoluteJoint``, ``PrismaticJoint`` or ``SphericalJoint`` (a ``FixedJoint`` for a body
without joints, none for a free joint) whose frames put the joint axis on the frame's x; limits
are in degrees where USD wants them. A position actuator becomes the joint's ``DriveAPI``. Each
geom becomes a ``Cube`` (scaled), ``Sphere`` (scaled unevenly for an ellipsoid), ``Capsule``,
``Cylinder``, ``Plane`` or ``Mesh`` prim; colliding geoms get ``CollisionAPI`` and a physics
material with their sliding friction. What USD Physics cannot say is kept in ``warplab:``
attributes (joint damping, armature, dry friction and spring, collision bits, the time step,
integrator, solver and friction cone).

Refused, because USD Physics has no such thing: a body with several joints, tendons, equality
constraints, actuators other than position servos on one joint, height fields and SDFs.
Cameras, lights, sites and sensors are left out.
"""

from __future__ import annotations

import math
import os
from typing import Any

import mujoco
import numpy as np

from warplab.assets.importers.files import AssetError
from warplab.assets.importers.usd import pxr_modules, quat_mul, quat_rotate


def _quat_x_to(axis: np.ndarray) -> np.ndarray:
    """The smallest rotation taking (1, 0, 0) onto the unit vector ``axis``."""
    x = np.array([1.0, 0, 0])
    axis = axis / np.linalg.norm(axis)
    cross, dot = np.cross(x, axis), float(np.dot(x, axis))
    if dot < -1 + 1e-12:
        return np.array([0.0, 0, 0, 1.0])  # half a turn about z
    q = np.array([1.0 + dot, *cross])
    return q / np.linalg.norm(q)


def write_usd(model: mujoco.MjModel | mujoco.MjSpec, path: str | os.PathLike) -> None:
    """Writes ``model`` (compiled here if a spec) to ``path`` (``.usda`` text or ``.usd``/``.usdc``).

    Raises:
      ImportError: ``usd-core`` is missing.
      AssetError: the model holds what USD Physics cannot express (see the module's docstring).
    """
    Usd, UsdGeom, UsdPhysics, UsdShade, Gf, Sdf = pxr_modules()
    m = model.compile() if isinstance(model, mujoco.MjSpec) else model
    _check_expressible(m)
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)
    world = UsdGeom.Xform.Define(stage, "/World").GetPrim()
    stage.SetDefaultPrim(world)
    scene = UsdPhysics.Scene.Define(stage, "/World/PhysicsScene")
    g = np.array(m.opt.gravity, float)
    if np.linalg.norm(g) > 0:
        scene.CreateGravityDirectionAttr(_gf(Gf.Vec3f, (g / np.linalg.norm(g))))
    scene.CreateGravityMagnitudeAttr(float(np.linalg.norm(g)))
    scene.GetPrim().CreateAttribute("warplab:timestep", Sdf.ValueTypeNames.Double).Set(float(m.opt.timestep))
    for option, enum in (
        ("integrator", mujoco.mjtIntegrator),
        ("solver", mujoco.mjtSolver),
        ("cone", mujoco.mjtCone),
    ):
        value = enum(getattr(m.opt, option)).name.split("_", 1)[1].lower()
        scene.GetPrim().CreateAttribute(f"warplab:{option}", Sdf.ValueTypeNames.Token).Set(value)

    taken: set = {Sdf.Path("/World/PhysicsScene"), Sdf.Path("/World/PhysicsMaterials")}

    def child(parent, kind: mujoco.mjtObj | None, i: int, fallback: str):
        # Prim names are unique among siblings only: a body, its geoms and child bodies share a parent.
        base = _valid((kind is not None and mujoco.mj_id2name(m, kind, i)) or f"{fallback}{i}")
        path, k = parent.AppendChild(base), 1
        while path in taken:
            path, k = parent.AppendChild(f"{base}_{k}"), k + 1
        taken.add(path)
        return path

    paths = {0: Sdf.Path("/World")}
    for b in range(1, m.nbody):
        paths[b] = child(paths[m.body_parentid[b]], mujoco.mjtObj.mjOBJ_BODY, b, "body")
        xform = UsdGeom.Xform.Define(stage, paths[b])
        xform.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(_gf(Gf.Vec3d, m.body_pos[b]))
        xform.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(_gf(Gf.Quatd, m.body_quat[b]))
        prim = xform.GetPrim()
        body = UsdPhysics.RigidBodyAPI.Apply(prim)
        if m.body_mocapid[b] >= 0:
            body.CreateKinematicEnabledAttr(True)
        mass = UsdPhysics.MassAPI.Apply(prim)
        mass.CreateMassAttr(float(m.body_mass[b]))
        mass.CreateCenterOfMassAttr(_gf(Gf.Vec3f, m.body_ipos[b]))
        mass.CreateDiagonalInertiaAttr(_gf(Gf.Vec3f, m.body_inertia[b]))
        mass.CreatePrincipalAxesAttr(_gf(Gf.Quatf, m.body_iquat[b]))
        _write_joint(stage, m, b, paths, child, UsdPhysics, Gf, Sdf)
    # Friction -> the Sdf.Path of its physics material (pxr is imported at run time, so the
    # annotation cannot name Sdf.Path).
    materials: dict[float, Any] = {}
    for i in range(m.ngeom):
        _write_geom(
            stage, m, i, child(paths[m.geom_bodyid[i]], mujoco.mjtObj.mjOBJ_GEOM, i, "geom"), materials
        )
    stage.GetRootLayer().Save()


def _gf(kind, values):
    """A ``Gf`` vector or quaternion (w, x, y, z) from any sequence of numbers."""
    return kind(*(float(v) for v in values))


def _valid(name: str) -> str:
    from pxr import Tf

    return Tf.MakeValidIdentifier(name)


def _check_expressible(m: mujoco.MjModel) -> None:
    problems = []
    for b in range(1, m.nbody):
        if m.body_jntnum[b] > 1:
            problems.append(
                f"body {m.body(b).name or b!r} has {m.body_jntnum[b]} joints (USD Physics joins "
                "two bodies by one joint)"
            )
        jnt = m.body_jntadr[b]
        if (
            m.body_jntnum[b] == 1
            and m.jnt_type[jnt] == mujoco.mjtJoint.mjJNT_FREE
            and m.body_parentid[b] != 0
        ):
            problems.append(f"body {m.body(b).name or b!r} floats on a free joint inside another body")
    if np.any(m.dof_dampingpoly) or np.any(m.jnt_stiffnesspoly):
        problems.append("nonlinear joint damping or stiffness (dampingpoly, stiffnesspoly)")
    if m.ntendon:
        problems.append(f"{m.ntendon} tendons")
    if m.neq:
        problems.append(f"{m.neq} equality constraints")
    for a in range(m.nu):
        position = (
            m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT
            and m.actuator_biastype[a] == mujoco.mjtBias.mjBIAS_AFFINE
            and m.actuator_gaintype[a] == mujoco.mjtGain.mjGAIN_FIXED
            and np.isclose(m.actuator_gainprm[a, 0], -m.actuator_biasprm[a, 1])
            and m.actuator_gear[a, 0] == 1
            and m.actuator_dyntype[a] == mujoco.mjtDyn.mjDYN_NONE
        )
        if not position:
            problems.append(f"actuator {m.actuator(a).name or a!r} is not a position servo on one joint")
    for i in range(m.ngeom):
        if int(m.geom_type[i]) in (mujoco.mjtGeom.mjGEOM_HFIELD, mujoco.mjtGeom.mjGEOM_SDF):
            problems.append(f"geom {m.geom(i).name or i!r} is a {mujoco.mjtGeom(m.geom_type[i]).name}")
    if problems:
        raise AssetError("cannot write this model to USD Physics: " + "; ".join(problems))


def _write_joint(stage, m: mujoco.MjModel, b: int, paths: dict, child, UsdPhysics, Gf, Sdf) -> None:
    J = mujoco.mjtJoint
    if m.body_jntnum[b] == 1 and m.jnt_type[m.body_jntadr[b]] == J.mjJNT_FREE:
        jnt = m.body_jntadr[b]
        if m.jnt(jnt).name:
            stage.GetPrimAtPath(paths[b]).CreateAttribute("warplab:freejoint", Sdf.ValueTypeNames.String).Set(
                m.jnt(jnt).name
            )
        return
    if m.body_mocapid[b] >= 0:
        return
    if m.body_jntnum[b] == 0:
        joint = UsdPhysics.FixedJoint.Define(stage, child(paths[b], None, b, "weld"))
        jpos, q_axis, kind = np.zeros(3), np.array([1.0, 0, 0, 0]), None
    else:
        jnt = m.body_jntadr[b]
        kind = J(m.jnt_type[jnt])
        schema = {
            J.mjJNT_HINGE: UsdPhysics.RevoluteJoint,
            J.mjJNT_SLIDE: UsdPhysics.PrismaticJoint,
            J.mjJNT_BALL: UsdPhysics.SphericalJoint,
        }[kind]
        joint = schema.Define(stage, child(paths[b], mujoco.mjtObj.mjOBJ_JOINT, jnt, "joint"))
        jpos, q_axis = m.jnt_pos[jnt], _quat_x_to(m.jnt_axis[jnt])
        joint.CreateAxisAttr("X")
        _joint_attributes(m, jnt, joint, kind, J, Sdf)
    parent = m.body_parentid[b]
    if parent:
        joint.CreateBody0Rel().SetTargets([paths[parent]])
    joint.CreateBody1Rel().SetTargets([paths[b]])
    # The joint frame in the parent, where it sits in the model's reference pose.
    pos0 = m.body_pos[b] + quat_rotate(m.body_quat[b], jpos)
    rot0 = quat_mul(m.body_quat[b], q_axis)
    joint.CreateLocalPos0Attr(_gf(Gf.Vec3f, pos0))
    joint.CreateLocalRot0Attr(_gf(Gf.Quatf, rot0))
    joint.CreateLocalPos1Attr(_gf(Gf.Vec3f, jpos))
    joint.CreateLocalRot1Attr(_gf(Gf.Quatf, q_axis))
    if kind is not None:
        _write_drive(m, m.body_jntadr[b], joint, kind, UsdPhysics)


def _joint_attributes(m, jnt: int, joint, kind, J, Sdf) -> None:
    prim = joint.GetPrim()
    limited = bool(m.jnt_limited[jnt])
    lo, hi = m.jnt_range[jnt]
    if kind == J.mjJNT_BALL:
        cone = math.degrees(hi) if limited else -1.0
        joint.CreateConeAngle0LimitAttr(cone)
        joint.CreateConeAngle1LimitAttr(cone)
    elif limited:
        scale = 180.0 / math.pi if kind == J.mjJNT_HINGE else 1.0
        joint.CreateLowerLimitAttr(float(lo * scale))
        joint.CreateUpperLimitAttr(float(hi * scale))
    dof = m.jnt_dofadr[jnt]
    for attr, value in (
        ("damping", m.dof_damping[dof]),
        ("armature", m.dof_armature[dof]),
        ("frictionloss", m.dof_frictionloss[dof]),
        ("stiffness", m.jnt_stiffness[jnt]),
    ):
        if value:
            prim.CreateAttribute(f"warplab:{attr}", Sdf.ValueTypeNames.Double).Set(float(value))


def _write_drive(m: mujoco.MjModel, jnt: int, joint, kind, UsdPhysics) -> None:
    for a in range(m.nu):
        if m.actuator_trntype[a] != mujoco.mjtTrn.mjTRN_JOINT or m.actuator_trnid[a, 0] != jnt:
            continue
        if kind not in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
            raise AssetError(f"actuator {m.actuator(a).name!r} drives a ball joint; USD drives need one axis")
        angular = kind == mujoco.mjtJoint.mjJNT_HINGE
        per_degree = math.pi / 180.0 if angular else 1.0
        drive = UsdPhysics.DriveAPI.Apply(joint.GetPrim(), "angular" if angular else "linear")
        drive.CreateTypeAttr("force")
        drive.CreateStiffnessAttr(float(m.actuator_gainprm[a, 0] * per_degree))
        drive.CreateDampingAttr(float(-m.actuator_biasprm[a, 2] * per_degree))
        drive.CreateTargetPositionAttr(0.0)
        if m.actuator_forcelimited[a]:
            drive.CreateMaxForceAttr(float(max(abs(v) for v in m.actuator_forcerange[a])))


def _write_geom(stage, m: mujoco.MjModel, i: int, path, materials: dict) -> None:
    _, UsdGeom, UsdPhysics, UsdShade, Gf, Sdf = pxr_modules()
    G = mujoco.mjtGeom
    kind, size = G(m.geom_type[i]), m.geom_size[i]
    scale = None
    if kind == G.mjGEOM_BOX:
        shape = UsdGeom.Cube.Define(stage, path)
        shape.CreateSizeAttr(2.0)
        scale = size
    elif kind in (G.mjGEOM_SPHERE, G.mjGEOM_ELLIPSOID):
        shape = UsdGeom.Sphere.Define(stage, path)
        shape.CreateRadiusAttr(1.0 if kind == G.mjGEOM_ELLIPSOID else float(size[0]))
        scale = size if kind == G.mjGEOM_ELLIPSOID else None
    elif kind in (G.mjGEOM_CAPSULE, G.mjGEOM_CYLINDER):
        shape = (UsdGeom.Capsule if kind == G.mjGEOM_CAPSULE else UsdGeom.Cylinder).Define(stage, path)
        shape.CreateRadiusAttr(float(size[0]))
        shape.CreateHeightAttr(float(2 * size[1]))
        shape.CreateAxisAttr("Z")
    elif kind == G.mjGEOM_PLANE:
        shape = UsdGeom.Plane.Define(stage, path)
        shape.CreateWidthAttr(float(2 * size[0]))
        shape.CreateLengthAttr(float(2 * size[1]))
        shape.CreateAxisAttr("Z")
    elif kind == G.mjGEOM_MESH:
        mesh = m.geom_dataid[i]
        va, vn = m.mesh_vertadr[mesh], m.mesh_vertnum[mesh]
        fa, fn = m.mesh_faceadr[mesh], m.mesh_facenum[mesh]
        shape = UsdGeom.Mesh.Define(stage, path)
        shape.CreatePointsAttr([_gf(Gf.Vec3f, v) for v in m.mesh_vert[va : va + vn]])
        shape.CreateFaceVertexCountsAttr([3] * int(fn))
        shape.CreateFaceVertexIndicesAttr([int(k) for k in m.mesh_face[fa : fa + fn].reshape(-1)])
        shape.CreateSubdivisionSchemeAttr("none")
    else:
        raise AssetError(f"geom {m.geom(i).name or i!r}: type {G(kind).name} has no USD shape here")
    shape.AddTranslateOp(UsdGeom.XformOp.PrecisionDouble).Set(_gf(Gf.Vec3d, m.geom_pos[i]))
    shape.AddOrientOp(UsdGeom.XformOp.PrecisionDouble).Set(_gf(Gf.Quatd, m.geom_quat[i]))
    if scale is not None:
        shape.AddScaleOp(UsdGeom.XformOp.PrecisionDouble).Set(_gf(Gf.Vec3d, scale))
    shape.CreateDisplayColorAttr([_gf(Gf.Vec3f, m.geom_rgba[i, :3])])
    shape.CreateDisplayOpacityAttr([float(m.geom_rgba[i, 3])])
    prim = shape.GetPrim()
    if not (m.geom_contype[i] or m.geom_conaffinity[i]):
        return
    UsdPhysics.CollisionAPI.Apply(prim)
    if kind == G.mjGEOM_MESH:
        UsdPhysics.MeshCollisionAPI.Apply(prim).CreateApproximationAttr("convexHull")
    for attr in ("contype", "conaffinity"):
        value = int(getattr(m, f"geom_{attr}")[i])
        if value != 1:
            prim.CreateAttribute(f"warplab:{attr}", Sdf.ValueTypeNames.Int).Set(value)
    friction = float(m.geom_friction[i, 0])
    if friction not in materials:
        material_path = Sdf.Path(f"/World/PhysicsMaterials/friction{len(materials)}")
        material = UsdShade.Material.Define(stage, material_path)
        api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
        api.CreateDynamicFrictionAttr(friction)
        api.CreateStaticFrictionAttr(friction)
        materials[friction] = material_path
    UsdShade.MaterialBindingAPI.Apply(prim).Bind(
        UsdShade.Material(stage.GetPrimAtPath(materials[friction])),
        UsdShade.Tokens.weakerThanDescendants,
        "physics",
    )
