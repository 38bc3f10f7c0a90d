"""USD Physics import: a MuJoCo model written to USD and read back steps like the original in
MuJoCo's C engine; a stage authored by hand reaches MuJoCo with its own numbers; bad stages fail
clearly."""

from __future__ import annotations

import math
import re

import mujoco
import numpy as np
import pytest

from warplab.assets.importers import AssetError, ImportLimits, load_robot, write_usd

pytest.importorskip("pxr", reason='USD import needs usd-core: pip install "warplab[usd]"')
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics  # noqa: E402

# A free base carrying a chain of a hinge, a slide and a ball joint, a welded tool, every primitive
# MuJoCo has a USD shape for, a mesh, position servos, joint damping, armature and dry friction,
# and a floor with its own friction.
ROBOT_XML = """
<mujoco model="roundtrip">
  <option timestep="0.002"/>
  <asset><mesh name="wedge" vertex="0 0 0  0.1 0 0  0 0.08 0  0 0 0.06  0.07 0.05 0.04"/></asset>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.1" friction="0.8 0.005 0.0001"/>
    <body name="base" pos="0 0 0.5" quat="0.9 0.1 0.2 0.1">
      <freejoint name="root"/>
      <geom name="torso" type="box" size="0.1 0.08 0.05" mass="2"/>
      <geom name="belly" type="ellipsoid" size="0.03 0.04 0.05" pos="0.1 0 0" mass="0.2"/>
      <body name="arm" pos="0 0.1 0" euler="0.3 0 0.2">
        <joint name="hinge" type="hinge" axis="0.3 1 0.2" range="-40 40" damping="0.1" armature="0.01"/>
        <geom name="upper" type="capsule" fromto="0 0 0 0 0.2 0" size="0.02" mass="0.4"/>
        <body name="slider" pos="0 0.2 0">
          <joint name="slide" type="slide" axis="0 1 0" range="-0.05 0.1" frictionloss="0.01"/>
          <geom name="cyl" type="cylinder" size="0.02 0.05" mass="0.3" friction="1.2"/>
          <body name="wrist" pos="0 0.05 0">
            <joint name="ball" type="ball" damping="0.02"/>
            <geom name="hand" type="mesh" mesh="wedge" mass="0.1"/>
            <body name="tool" pos="0.05 0 0"><geom name="tip" type="sphere" size="0.02" mass="0.05"/></body>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <position name="hinge" joint="hinge" kp="20" kv="1" forcerange="-5 5"/>
    <position name="slide" joint="slide" kp="100" kv="2"/>
  </actuator>
</mujoco>
"""


def _world_vertices(model: mujoco.MjModel, geom: int) -> np.ndarray:
    """Vertices of a mesh geom in its body's frame, for comparing shapes whatever their mesh frame."""
    mesh = model.geom_dataid[geom]
    verts = model.mesh_vert[model.mesh_vertadr[mesh] : model.mesh_vertadr[mesh] + model.mesh_vertnum[mesh]]
    rot = np.zeros(9)
    mujoco.mju_quat2Mat(rot, model.geom_quat[geom])
    return verts @ rot.reshape(3, 3).T + model.geom_pos[geom]


def test_round_trip_gives_the_same_dynamics(tmp_path):
    original = mujoco.MjModel.from_xml_string(ROBOT_XML)
    write_usd(original, tmp_path / "robot.usda")
    model = load_robot(tmp_path / "robot.usda").compile()

    # The same tree, names and parameters, to the float32 precision USD stores them in.
    for kind, count in (
        (mujoco.mjtObj.mjOBJ_BODY, "nbody"),
        (mujoco.mjtObj.mjOBJ_JOINT, "njnt"),
        (mujoco.mjtObj.mjOBJ_GEOM, "ngeom"),
    ):
        names = [mujoco.mj_id2name(original, kind, i) for i in range(getattr(original, count))]
        assert names == [mujoco.mj_id2name(model, kind, i) for i in range(getattr(model, count))]
    assert (model.nq, model.nv, model.nu) == (original.nq, original.nv, original.nu)
    for field in (
        "body_mass",
        "body_inertia",
        "body_ipos",
        "body_pos",
        "jnt_pos",
        "jnt_axis",
        "jnt_range",
        "jnt_limited",
        "dof_damping",
        "dof_armature",
        "dof_frictionloss",
        "actuator_gainprm",
        "actuator_biasprm",
        "actuator_forcerange",
        "geom_friction",
        "geom_type",
        "qpos0",
    ):
        np.testing.assert_allclose(
            getattr(model, field), getattr(original, field), rtol=1e-6, atol=1e-7, err_msg=field
        )
    # Quaternions up to sign; the plane's third size only sets MuJoCo's rendering grid.
    for field in ("body_quat", "body_iquat"):
        a, b = getattr(model, field), getattr(original, field)
        np.testing.assert_allclose(
            a * np.sign(np.sum(a * b, axis=1, keepdims=True)), b, atol=1e-6, err_msg=field
        )
    np.testing.assert_allclose(model.geom_size[1:], original.geom_size[1:], rtol=1e-6)
    hand = original.geom("hand").id
    # The same points, in whatever order: every point has a twin in the other set.
    gaps = np.linalg.norm(
        _world_vertices(model, hand)[:, None] - _world_vertices(original, hand)[None], axis=2
    )
    assert gaps.shape == (5, 5) and gaps.min(axis=0).max() < 1e-6 and gaps.min(axis=1).max() < 1e-6

    # From identical states (in contact with the floor), MuJoCo's C engine steps both alike.
    rng = np.random.default_rng(0)
    for trial in range(3):
        qpos = original.qpos0.copy()
        qpos[2] = 0.1 + 0.02 * trial
        qvel, ctrl = rng.uniform(-1, 1, original.nv), rng.uniform(-0.5, 0.5, original.nu)
        runs = []
        for m in (original, model):
            d = mujoco.MjData(m)
            d.qpos[:], d.qvel[:], d.ctrl[:] = qpos, qvel, ctrl
            for _ in range(100):
                mujoco.mj_step(m, d)
            runs.append(d)
        assert runs[0].ncon == runs[1].ncon > 0
        np.testing.assert_allclose(runs[1].qpos, runs[0].qpos, atol=2e-6, err_msg=f"trial {trial}")
        np.testing.assert_allclose(runs[1].qvel, runs[0].qvel, atol=5e-5, err_msg=f"trial {trial}")


def _stage(path, up: str = "Z", meters: float = 1.0):
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, up)
    UsdGeom.SetStageMetersPerUnit(stage, meters)
    stage.SetDefaultPrim(UsdGeom.Xform.Define(stage, "/World").GetPrim())
    return stage


def _body(stage, path: str, pos=(0, 0, 0)):
    xform = UsdGeom.Xform.Define(stage, path)
    xform.AddTranslateOp().Set(Gf.Vec3d(*pos))
    UsdPhysics.RigidBodyAPI.Apply(xform.GetPrim())
    return xform.GetPrim()


def test_hand_authored_stage_in_centimetres_y_up(tmp_path):
    # A pendulum as another tool would author it: centimetres, y up, a revolute joint about x with
    # limits in degrees and a drive per degree, a body whose mass is given without its inertia.
    path = tmp_path / "pendulum.usda"
    stage = _stage(path, up="Y", meters=0.01)
    UsdPhysics.Scene.Define(stage, "/World/physics")
    post = _body(stage, "/World/post", (0, 100, 0))
    UsdPhysics.MassAPI.Apply(post).CreateMassAttr(2.0)
    cube = UsdGeom.Cube.Define(stage, "/World/post/block")
    cube.CreateSizeAttr(10.0)
    cube.AddScaleOp().Set(Gf.Vec3f(1, 2, 1))
    UsdPhysics.CollisionAPI.Apply(cube.GetPrim())
    bob = _body(stage, "/World/bob", (0, 50, 0))
    mass = UsdPhysics.MassAPI.Apply(bob)
    mass.CreateMassAttr(1.5)
    mass.CreateDiagonalInertiaAttr(Gf.Vec3f(200, 300, 400))  # kg cm²
    sphere = UsdGeom.Sphere.Define(stage, "/World/bob/ball")
    sphere.CreateRadiusAttr(5.0)
    UsdPhysics.CollisionAPI.Apply(sphere.GetPrim())
    hinge = UsdPhysics.RevoluteJoint.Define(stage, "/World/hinge")
    hinge.CreateBody0Rel().SetTargets([post.GetPath()])
    hinge.CreateBody1Rel().SetTargets([bob.GetPath()])
    hinge.CreateLocalPos0Attr(Gf.Vec3f(0, -50, 0))
    hinge.CreateLocalPos1Attr(Gf.Vec3f(0, 0, 0))
    hinge.CreateAxisAttr("X")
    hinge.CreateLowerLimitAttr(-30.0)
    hinge.CreateUpperLimitAttr(60.0)
    drive = UsdPhysics.DriveAPI.Apply(hinge.GetPrim(), "angular")
    drive.CreateStiffnessAttr(2.0)  # kg cm² / s² per degree
    drive.CreateDampingAttr(0.5)
    fix = UsdPhysics.FixedJoint.Define(stage, "/World/anchor")
    fix.CreateBody1Rel().SetTargets([post.GetPath()])
    fix.CreateLocalPos0Attr(Gf.Vec3f(0, 100, 0))
    stage.GetRootLayer().Save()

    model = load_robot(path).compile()
    np.testing.assert_allclose(model.opt.gravity, [0, -9.81, 0])
    assert model.nq == 1 and model.body("post").jntnum[0] == 0
    np.testing.assert_allclose(model.body("post").pos, [0, 1.0, 0], atol=1e-7)
    np.testing.assert_allclose(model.body("bob").pos, [0, -0.5, 0], atol=1e-7)  # relative to the post
    # The post's 2 kg spread over its 0.1 x 0.2 x 0.1 m block; the bob's inertia converted to kg m².
    assert model.body("post").mass[0] == pytest.approx(2.0, rel=1e-6)
    np.testing.assert_allclose(model.geom("block").size, [0.05, 0.1, 0.05], rtol=1e-6)
    np.testing.assert_allclose(sorted(model.body("bob").inertia), [0.02, 0.03, 0.04], rtol=1e-6)
    np.testing.assert_allclose(model.geom("ball").size[0], 0.05, rtol=1e-6)
    np.testing.assert_allclose(model.joint("hinge").axis, [1, 0, 0])
    np.testing.assert_allclose(model.joint("hinge").range, [math.radians(-30), math.radians(60)], rtol=1e-6)
    # Stiffness per degree in kg cm²: times 180/pi per radian, times 1e-4 for m².
    np.testing.assert_allclose(model.actuator("hinge").gainprm[0], 2.0 * 180 / math.pi * 1e-4, rtol=1e-6)
    np.testing.assert_allclose(-model.actuator("hinge").biasprm[2], 0.5 * 180 / math.pi * 1e-4, rtol=1e-6)


def test_stages_warplab_cannot_read_fail_clearly(tmp_path):
    plain = tmp_path / "visual.usda"
    stage = _stage(plain)
    UsdGeom.Cube.Define(stage, "/World/box")
    stage.GetRootLayer().Save()
    with pytest.raises(
        AssetError, match=r"visual\.usda: no USD Physics in this stage: no prim has UsdPhysics\.RigidBodyAPI"
    ):
        load_robot(plain)

    def two_bodies(name: str, joint_type):
        path = tmp_path / f"{name}.usda"
        stage = _stage(path)
        a, b = _body(stage, "/World/a"), _body(stage, "/World/b", (0, 0, 1))
        for prim in (a, b):
            UsdPhysics.CollisionAPI.Apply(
                UsdGeom.Sphere.Define(stage, prim.GetPath().AppendChild("s")).GetPrim()
            )
        joint = joint_type.Define(stage, "/World/j")
        joint.CreateBody0Rel().SetTargets([a.GetPath()])
        joint.CreateBody1Rel().SetTargets([b.GetPath()])
        return path, stage, joint

    path, stage, _ = two_bodies("d6", UsdPhysics.Joint)
    stage.GetRootLayer().Save()
    with pytest.raises(
        AssetError, match=r"d6\.usda: /World/j \(PhysicsJoint\): unsupported joint type PhysicsJoint"
    ):
        load_robot(path)
    path, stage, _ = two_bodies("distance", UsdPhysics.DistanceJoint)
    stage.GetRootLayer().Save()
    with pytest.raises(AssetError, match=r"/World/j \(PhysicsDistanceJoint\): unsupported joint type"):
        load_robot(path)
    path, stage, joint = two_bodies("cone", UsdPhysics.SphericalJoint)
    joint.CreateConeAngle0LimitAttr(30.0)
    joint.CreateConeAngle1LimitAttr(45.0)
    stage.GetRootLayer().Save()
    with pytest.raises(AssetError, match=r"cone limits \[30\.0, 45\.0\] \(degrees\) differ"):
        load_robot(path)
    path, stage, _ = two_bodies("loop", UsdPhysics.RevoluteJoint)
    second = UsdPhysics.RevoluteJoint.Define(stage, "/World/j2")
    second.CreateBody0Rel().SetTargets([Sdf.Path("/World/b")])
    second.CreateBody1Rel().SetTargets([Sdf.Path("/World/a")])
    stage.GetRootLayer().Save()
    with pytest.raises(AssetError, match=r"/World/j2 .*closes a kinematic loop"):
        load_robot(path)
    path, stage, _ = two_bodies("cone_shape", UsdPhysics.FixedJoint)
    UsdPhysics.CollisionAPI.Apply(UsdGeom.Cone.Define(stage, "/World/b/cone").GetPrim())
    stage.GetRootLayer().Save()
    with pytest.raises(AssetError, match=r"/World/b/cone \(Cone\): unsupported collision shape Cone"):
        load_robot(path)


def test_a_usd_syntax_error_names_file_line_and_column_without_usds_internals(tmp_path, capsys):
    from importer_files import inspect_error

    broken = tmp_path / "broken.usda"
    broken.write_text('#usda 1.0\ndef Xform "a" {\n  float3 b = (1, 2\n}\n')
    with pytest.raises(AssetError) as e:
        load_robot(broken)
    # usd-core's text named its C++ namespace, function and source file around the reason.
    assert str(e.value).startswith(f"{broken}: cannot open as USD: {broken}:4:1: parse error")
    assert "pxrInternal" not in str(e.value) and "Error in '" not in str(e.value)
    assert f"{broken}:4:1: parse error" in inspect_error(capsys, str(broken))


def test_hostile_usd_files(tmp_path):
    broken = tmp_path / "broken.usda"
    broken.write_text('#usda 1.0\ndef Xform "World" {\n  double3 xformOp:translate = (0, 0\n}\n')
    with pytest.raises(AssetError, match=r"broken\.usda: cannot open as USD"):
        load_robot(broken)
    # A layer that pulls in a file from outside the asset folder.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_usd(mujoco.MjModel.from_xml_string(ROBOT_XML), outside / "robot.usda")
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / "scene.usda").write_text("#usda 1.0\n(\n    subLayers = [@../elsewhere/robot.usda@]\n)\n")
    with pytest.raises(AssetError, match=r"scene\.usda: .*robot\.usda.* outside the asset folder"):
        load_robot(folder / "scene.usda")
    assert load_robot(folder / "scene.usda", asset_root=tmp_path).compile().nbody == 6
    # A mesh over the face limit.
    with pytest.raises(
        AssetError,
        match=r"/World/base/arm/slider/wrist/hand \(Mesh\): mesh of 6 triangles is over the limit of 5",
    ):
        load_robot(outside / "robot.usda", limits=ImportLimits(max_mesh_faces=5))


def test_writer_refuses_what_usd_physics_cannot_hold(tmp_path):
    xml = """<mujoco><worldbody><body><joint axis="1 0 0"/><joint axis="0 1 0"/><geom size="0.1"/></body></worldbody>
      <actuator><motor joint="joint0"/></actuator></mujoco>""".replace(
        '<joint axis="1 0 0"/>', '<joint name="joint0" axis="1 0 0"/>'
    )
    with pytest.raises(
        AssetError,
        match=r"cannot write this model to USD Physics: body .* has 2 joints.*actuator .* is not a position servo",
    ):
        write_usd(mujoco.MjModel.from_xml_string(xml), tmp_path / "x.usda")


def test_the_project_humanoid_round_trips(tmp_path):
    from warplab.assets import build_robot_spec
    from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
    from warplab.assets.terrain import add_flat_ground

    original = add_flat_ground(build_robot_spec(HUMANOID_ROBOT_CFG)).compile()
    write_usd(original, tmp_path / "humanoid.usda")
    model = load_robot(tmp_path / "humanoid.usda").compile()
    assert (model.opt.integrator, model.opt.timestep) == (original.opt.integrator, original.opt.timestep)
    np.testing.assert_array_equal(model.geom_contype, original.geom_contype)  # its collision bits
    home = original.key("home")
    runs = []
    for m in (original, model):
        d = mujoco.MjData(m)
        d.qpos[:], d.ctrl[:] = home.qpos, home.ctrl
        for _ in range(200):  # one second standing on its servos, feet on the floor
            mujoco.mj_step(m, d)
        runs.append(d)
    assert runs[0].ncon == runs[1].ncon > 0
    np.testing.assert_allclose(runs[1].qpos, runs[0].qpos, atol=1e-5)


# ---------------------------------------------------------------------------- impossible numbers
HINGE = "/World/base/arm/hinge"
BAD_USD = {
    # name: (prim, attribute, value, the error's words after the file's name)
    "lower above upper": (
        HINGE,
        "physics:lowerLimit",
        60.0,
        r"/World/base/arm/hinge \(PhysicsRevoluteJoint\): lowerLimit 60 is above upperLimit 40",
    ),
    "NaN limit": (
        HINGE,
        "physics:upperLimit",
        math.nan,
        r"/World/base/arm/hinge \(PhysicsRevoluteJoint\): physics:upperLimit is NaN",
    ),
    "NaN drive": (
        HINGE,
        "drive:angular:physics:stiffness",
        math.nan,
        r"/World/base/arm/hinge \(PhysicsRevoluteJoint\): drive:angular:physics:stiffness is NaN",
    ),
    "negative force": (
        HINGE,
        "drive:angular:physics:maxForce",
        -5.0,
        r"/World/base/arm/hinge \(PhysicsRevoluteJoint\): drive:angular:physics:maxForce = -5 is below 0",
    ),
    "negative damping": (
        HINGE,
        "warplab:damping",
        -0.1,
        r"/World/base/arm/hinge \(PhysicsRevoluteJoint\): warplab:damping = -0\.1 is below 0",
    ),
    "negative mass": (
        "/World/base/arm",
        "physics:mass",
        -0.4,
        r"/World/base/arm \(Xform\): physics:mass = -0\.4 is below 0",
    ),
    "NaN gravity": (
        "/World/PhysicsScene",
        "physics:gravityMagnitude",
        math.nan,
        r"/World/PhysicsScene \(PhysicsScene\): physics:gravityMagnitude is NaN",
    ),
    "NaN time step": (
        "/World/PhysicsScene",
        "warplab:timestep",
        math.nan,
        r"option: timestep nan is not finite",
    ),
    "NaN mass": (
        "/World/base/arm",
        "physics:mass",
        math.nan,
        r"/World/base/arm \(Xform\): physics:mass is NaN",
    ),
}


@pytest.mark.parametrize("fault", BAD_USD)
def test_impossible_usd_values_are_refused(tmp_path, fault, capsys):
    from importer_files import inspect_error

    prim_path, attr, value, expected = BAD_USD[fault]
    path = tmp_path / "robot.usda"
    write_usd(mujoco.MjModel.from_xml_string(ROBOT_XML), path)
    stage = Usd.Stage.Open(str(path))
    stage.GetPrimAtPath(prim_path).GetAttribute(attr).Set(value)
    stage.GetRootLayer().Save()
    with pytest.raises(AssetError, match=re.escape(f"{path}: ") + expected):
        load_robot(path)
    assert re.search(re.escape(f"{path}: ") + expected, inspect_error(capsys, str(path)))


# ---------------------------------------------------------------------------- layers from outside the folder
@pytest.mark.parametrize(
    "arc", ["absolute sublayer", "reference", "payload", "symlinked layer", "missing layer"]
)
def test_layers_out_of_the_folder_are_refused_before_usd_reads_them(tmp_path, arc, capsys):
    from importer_files import inspect_error

    outside = tmp_path / "outside"
    outside.mkdir()
    write_usd(mujoco.MjModel.from_xml_string(ROBOT_XML), outside / "robot.usda")
    folder = tmp_path / "assets"
    folder.mkdir()
    scene = folder / "scene.usda"
    robot = outside / "robot.usda"
    if arc == "absolute sublayer":
        text, ref = f"#usda 1.0\n(\n    subLayers = [@{robot}@]\n)\n", str(robot)
    elif arc in ("reference", "payload"):
        ref = "../outside/robot.usda"
        kind = "references" if arc == "reference" else "payload"
        text = f'#usda 1.0\ndef Xform "World" (\n    {kind} = @{ref}@</World>\n)\n{{\n}}\n'
    elif arc == "symlinked layer":
        (folder / "robot.usda").symlink_to(robot)
        ref = "./robot.usda"
        text = f"#usda 1.0\n(\n    subLayers = [@{ref}@]\n)\n"
    else:
        ref = "./nowhere.usda"
        text = f"#usda 1.0\n(\n    subLayers = [@{ref}@]\n)\n"
    scene.write_text(text)
    if arc == "missing layer":
        expected, error = (
            rf"scene\.usda: layer '\./nowhere\.usda' not found: tried {re.escape(str(folder / 'nowhere.usda'))}",
            FileNotFoundError,
        )
    else:
        expected, error = (
            rf"scene\.usda: '{re.escape(ref)}' resolves to {re.escape(str(robot))}, outside the asset folder",
            AssetError,
        )
    with pytest.raises(error, match=expected):
        load_robot(scene)
    assert re.search(expected, inspect_error(capsys, str(scene)))
    if arc != "missing layer":  # named as the asset folder, the same stage loads
        assert load_robot(scene, asset_root=tmp_path).compile().nbody == 6
