"""URDF through load_robot: the compiled model holds the file's own numbers; bad files fail clearly.

Each test writes a small ROS-style package into ``tmp_path``: ``mybot/package.xml``,
``mybot/urdf/mybot.urdf`` and meshes under ``mybot/meshes`` named by ``package://`` URIs.
"""

from __future__ import annotations

import math
import re

import mujoco
import numpy as np
import pytest
from importer_files import CUBE_OBJ, binary_stl  # noqa: I001 (tests/assets is on the path)

from warplab.assets import ActuatorGroupCfg, RobotCfg, build_robot_spec
from warplab.assets.importers import AssetError, ImportLimits, load_robot

# Masses, inertias (with off-diagonal terms and a rotated inertial frame), axes and limits that the
# tests read back from the compiled model.
LINKS = {
    "base": dict(
        mass=3.0,
        xyz=(0.01, -0.02, 0.03),
        rpy=(0.1, -0.2, 0.3),
        inertia=(0.05, 0.002, -0.001, 0.06, 0.003, 0.07),
    ),
    "thigh": dict(mass=1.2, xyz=(0, 0, -0.1), rpy=(0, 0, 0), inertia=(0.01, 0, 0, 0.012, 0, 0.003)),
    "shin": dict(mass=0.8, xyz=(0, 0, -0.12), rpy=(0, 0, 0.5), inertia=(0.006, 0.0005, 0, 0.007, 0, 0.002)),
    "slider": dict(mass=0.3, xyz=(0, 0, 0), rpy=(0, 0, 0), inertia=(0.001, 0, 0, 0.001, 0, 0.001)),
    "foot": dict(mass=0.2, xyz=(0.02, 0, 0), rpy=(0, 0, 0), inertia=(0.0002, 0, 0, 0.0004, 0, 0.0005)),
}
JOINTS = {
    # name: (type, parent, child, origin xyz, origin rpy, axis, (lower, upper) or None)
    "hip": ("revolute", "base", "thigh", (0, 0.1, -0.05), (0.2, 0, 0), (0, 1, 0), (-1.2, 0.8)),
    "knee": ("continuous", "thigh", "shin", (0, 0, -0.3), (0, 0, 0), (0.6, 0.8, 0), None),
    "extend": ("prismatic", "shin", "slider", (0, 0, -0.2), (0, 0, 0), (0, 0, 1), (-0.05, 0.04)),
    "ankle": ("fixed", "slider", "foot", (0, 0, -0.05), (0, 0, 0), None, None),
}


def _inertial(name: str) -> str:
    link = LINKS[name]
    ixx, ixy, ixz, iyy, iyz, izz = link["inertia"]
    return (
        f'<inertial><origin xyz="{" ".join(map(str, link["xyz"]))}" rpy="{" ".join(map(str, link["rpy"]))}"/>'
        f'<mass value="{link["mass"]}"/><inertia ixx="{ixx}" ixy="{ixy}" ixz="{ixz}" iyy="{iyy}" iyz="{iyz}" izz="{izz}"/></inertial>'
    )


def _urdf(mesh_uri: str = "package://mybot/meshes/cube.obj", extra: str = "") -> str:
    links = []
    for name in LINKS:
        geometry = '<box size="0.2 0.1 0.1"/>' if name == "base" else '<cylinder radius="0.03" length="0.2"/>'
        if name == "foot":
            geometry = f'<mesh filename="{mesh_uri}"/>'
        links.append(
            f'<link name="{name}">{_inertial(name)}'
            f'<visual><geometry><mesh filename="package://mybot/meshes/shell.stl"/></geometry></visual>'
            f"<collision><geometry>{geometry}</geometry></collision></link>"
        )
    joints = []
    for name, (kind, parent, child, xyz, rpy, axis, limit) in JOINTS.items():
        body = f'<parent link="{parent}"/><child link="{child}"/>'
        body += f'<origin xyz="{" ".join(map(str, xyz))}" rpy="{" ".join(map(str, rpy))}"/>'
        if axis:
            body += f'<axis xyz="{" ".join(map(str, axis))}"/>'
        if limit:
            body += f'<limit lower="{limit[0]}" upper="{limit[1]}" effort="30" velocity="10"/>'
        joints.append(f'<joint name="{name}" type="{kind}">{body}</joint>')
    return (
        f'<?xml version="1.0"?>\n<robot name="mybot">\n{"".join(links)}\n{"".join(joints)}\n{extra}</robot>\n'
    )


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "mybot"
    (root / "urdf").mkdir(parents=True)
    (root / "meshes").mkdir()
    (root / "package.xml").write_text("<package><name>mybot</name></package>")
    (root / "meshes" / "cube.obj").write_text(CUBE_OBJ)
    binary_stl(root / "meshes" / "shell.stl", 4)
    (root / "urdf" / "mybot.urdf").write_text(_urdf())
    return root


def _rpy(r: float, p: float, y: float) -> np.ndarray:
    cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p), math.sin(p), math.cos(y), math.sin(y)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx  # URDF: fixed-axis roll, then pitch, then yaw


def _quat_mat(q: np.ndarray) -> np.ndarray:
    out = np.zeros(9)
    mujoco.mju_quat2Mat(out, q)
    return out.reshape(3, 3)


def test_urdf_numbers_reach_the_model(package, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # meshes resolve from the package, not the working directory
    model = load_robot(package / "urdf" / "mybot.urdf").compile()
    for name, link in LINKS.items():
        b = model.body(name)
        assert b.mass[0] == pytest.approx(link["mass"], rel=1e-12), name
        np.testing.assert_allclose(b.ipos, link["xyz"], atol=1e-12, err_msg=name)
        ixx, ixy, ixz, iyy, iyz, izz = link["inertia"]
        urdf_tensor = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
        expected = _rpy(*link["rpy"]) @ urdf_tensor @ _rpy(*link["rpy"]).T  # in the link's frame
        rot = _quat_mat(b.iquat)
        np.testing.assert_allclose(rot @ np.diag(b.inertia) @ rot.T, expected, atol=1e-9, err_msg=name)
    for name, (kind, _, child, xyz, rpy, axis, limit) in JOINTS.items():
        body = model.body(child)
        np.testing.assert_allclose(body.pos, xyz, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(_quat_mat(body.quat), _rpy(*rpy), atol=1e-12, err_msg=name)
        if kind == "fixed":
            assert body.jntnum[0] == 0, "a fixed joint leaves the link a body of its own, without a joint"
            continue
        joint = model.joint(name)
        np.testing.assert_allclose(joint.axis, np.array(axis) / np.linalg.norm(axis), atol=1e-12)
        assert joint.type[0] == (
            mujoco.mjtJoint.mjJNT_SLIDE if kind == "prismatic" else mujoco.mjtJoint.mjJNT_HINGE
        )
        assert bool(joint.limited[0]) == (limit is not None), name
        if limit:
            np.testing.assert_allclose(joint.range, limit, atol=1e-12, err_msg=name)
    # Collision geometry is kept and collides; the visual shells do not, and carry no mass.
    colliding = [g for g in range(model.ngeom) if model.geom_contype[g] or model.geom_conaffinity[g]]
    assert len(colliding) == len(LINKS)
    foot = [g for g in colliding if model.geom_bodyid[g] == model.body("foot").id]
    assert model.geom_type[foot[0]] == mujoco.mjtGeom.mjGEOM_MESH
    assert model.mesh_vertnum[model.geom_dataid[foot[0]]] == 8
    assert model.ngeom - len(colliding) == len(LINKS)
    assert all(model.geom_group[g] == 1 for g in range(model.ngeom) if g not in colliding)


def test_floating_and_fixed_base(package):
    fixed = load_robot(package / "urdf" / "mybot.urdf").compile()
    floating = load_robot(package / "urdf" / "mybot.urdf", floating_base=True).compile()
    assert fixed.body("base").jntnum[0] == 0 and fixed.nq == 3
    base_joint = floating.body("base").jntadr[0]
    assert floating.jnt_type[base_joint] == mujoco.mjtJoint.mjJNT_FREE and floating.nq == 10
    # Floating, the robot falls under gravity; fixed, its base stays put.
    for model, falls in ((fixed, False), (floating, True)):
        data = mujoco.MjData(model)
        for _ in range(50):
            mujoco.mj_step(model, data)
        moved = np.linalg.norm(data.xpos[model.body("base").id] - model.body("base").pos)
        assert (moved > 1e-3) == falls


def test_robot_cfg_adds_actuators_to_a_urdf_robot(package):
    robot = RobotCfg(
        name="mybot",
        spec=lambda: load_robot(package / "urdf" / "mybot.urdf", floating_base=True),
        joint_names=("hip", "knee", "extend"),
        default_joint_pos={"hip": 0.3},
        base_body="base",
        feet_bodies=("foot",),
        actuators=(
            ActuatorGroupCfg(joints="hip|knee", kp=40.0, kd=1.0, effort_limit=30.0),
            ActuatorGroupCfg(joints="extend", kp=500.0, kd=5.0, effort_limit=100.0),
        ),
    )
    model = build_robot_spec(robot).compile()
    assert [model.actuator(a).name for a in range(model.nu)] == ["hip", "knee", "extend"]
    assert model.actuator("extend").gainprm[0] == 500.0
    np.testing.assert_allclose(model.actuator("hip").forcerange, [-30.0, 30.0])
    assert model.key("home").qpos[model.jnt_qposadr[model.joint("hip").id]] == 0.3


def test_package_paths_option_finds_a_package_elsewhere(tmp_path, package):
    # The URDF refers to a package that is not among its ancestors.
    other = tmp_path / "shared" / "parts"
    other.mkdir(parents=True)
    (other / "wheel.obj").write_text(CUBE_OBJ)
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf("package://parts/wheel.obj"))
    with pytest.raises(
        FileNotFoundError, match=r"(?s)package://parts/wheel.obj.*tried.*parts/wheel.obj.*package_paths"
    ):
        load_robot(urdf)
    model = load_robot(urdf, package_paths={"parts": other}).compile()
    assert model.nmesh == 2
    assert load_robot(urdf, package_paths=[tmp_path / "shared"]).compile().nmesh == 2


def test_missing_mesh_names_the_path_tried(package):
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf("package://mybot/meshes/nope.stl"))
    with pytest.raises(FileNotFoundError, match=re.escape(str(package / "meshes" / "nope.stl"))):
        load_robot(urdf)
    urdf.write_text(_urdf("../meshes/nope.obj"))
    with pytest.raises(
        FileNotFoundError,
        match=r"'\.\./meshes/nope\.obj' not found: tried " + re.escape(str(package / "meshes" / "nope.obj")),
    ):
        load_robot(urdf)


@pytest.mark.parametrize(
    "uri", ["../../../../../../../../etc/hostname", "package://mybot/../outside.obj", "file:///etc/hostname"]
)
def test_paths_out_of_the_asset_folder_are_refused(package, tmp_path, uri):
    (tmp_path / "outside.obj").write_text(CUBE_OBJ)
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf(uri))
    with pytest.raises(AssetError, match=r"outside the asset folder .*refusing to read it"):
        load_robot(urdf)
    # Named as the asset folder, the same file loads (where it is a mesh).
    if "outside" in uri:
        assert load_robot(urdf, asset_root=tmp_path).compile().nmesh == 2


def test_huge_meshes_are_refused(package):
    urdf = package / "urdf" / "mybot.urdf"
    binary_stl(package / "meshes" / "big.stl", 5000)
    urdf.write_text(_urdf("package://mybot/meshes/big.stl"))
    with pytest.raises(
        AssetError,
        match=r"big\.stl.* has 5000 faces, over the limit of 1000 \(ImportLimits\.max_mesh_faces\)",
    ):
        load_robot(urdf, limits=ImportLimits(max_mesh_faces=1000))
    with pytest.raises(
        AssetError, match=r"250084 bytes, over the limit of 100000 \(ImportLimits\.max_mesh_bytes\)"
    ):
        load_robot(urdf, limits=ImportLimits(max_mesh_bytes=100_000))
    # Under the default limits the same mesh loads, with every face counted in the header.
    assert load_robot(urdf).compile().mesh_facenum.max() == 5000


def test_broken_and_foreign_files_name_file_and_line(package):
    urdf = package / "urdf" / "mybot.urdf"
    text = _urdf().replace("</joint>", "</joint_oops>", 1)
    urdf.write_text(text)
    line = text[: text.index("</joint_oops>")].count("\n") + 1
    with pytest.raises(AssetError, match=rf"mybot\.urdf:{line}:\d+: broken XML: mismatched tag"):
        load_robot(urdf)
    urdf.write_text("<mujoco/>")
    with pytest.raises(AssetError, match="not a URDF: the root element is <mujoco>"):
        load_robot(urdf)
    urdf.write_text(_urdf(extra='<link name="loose"/>'))
    with pytest.raises(AssetError, match=r"mybot\.urdf: a URDF has one root link .*\['base', 'loose'\]"):
        load_robot(urdf)
    urdf.write_text(_urdf().replace('<parent link="slider"/>', '<parent link="ghost"/>'))
    with pytest.raises(AssetError, match=r"mybot\.urdf: joint 'ankle': parent link 'ghost' is not a link"):
        load_robot(urdf)
    with pytest.raises(AssetError, match=r"unknown robot file type '\.sdf'; warplab reads .*\.urdf"):
        load_robot(package / "robot.sdf")
