"""URDF through load_robot: the compiled model holds the file's own numbers; bad files fail clearly.

Each test writes a small ROS-style package into ``tmp_path``: ``mybot/package.xml``,
``mybot/urdf/mybot.urdf`` and meshes under ``mybot/meshes`` named by ``package://`` URIs.
"""

from __future__ import annotations

import math
import pathlib
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


# ---------------------------------------------------------------------------- impossible numbers and trees
def _joint_limit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


HIP_LIMIT = '<limit lower="-1.2" upper="0.8" effort="30" velocity="10"/>'
THIGH_MASS = '<mass value="1.2"/>'
THIGH_INERTIA = 'ixx="0.01" ixy="0" ixz="0" iyy="0.012" iyz="0" izz="0.003"'

# name: (what replaces what in the good file, the error's words after "mybot.urdf: ")
BAD_URDF = {
    "lower above upper": (
        (HIP_LIMIT, '<limit lower="0.8" upper="-1.2" effort="30" velocity="10"/>'),
        r"joint 'hip': <limit lower='0\.8' upper='-1\.2'>: lower is above upper .*give lower < upper",
    ),
    "NaN limit": (
        (HIP_LIMIT, '<limit lower="nan" upper="0.8" effort="30" velocity="10"/>'),
        r"joint 'hip': <limit lower='nan'> is not finite",
    ),
    "infinite limit": (
        (HIP_LIMIT, '<limit lower="-1.2" upper="inf" effort="30" velocity="10"/>'),
        r"joint 'hip': <limit upper='inf'> is not finite",
    ),
    "effort not a number": (
        (HIP_LIMIT, '<limit lower="-1.2" upper="0.8" effort="lots" velocity="10"/>'),
        r"joint 'hip': <limit effort='lots'> is not a number",
    ),
    "negative effort": (
        (HIP_LIMIT, '<limit lower="-1.2" upper="0.8" effort="-30" velocity="10"/>'),
        r"joint 'hip': <limit effort='-30'> is below 0",
    ),
    "NaN velocity": (
        (HIP_LIMIT, '<limit lower="-1.2" upper="0.8" effort="30" velocity="nan"/>'),
        r"joint 'hip': <limit velocity='nan'> is not finite",
    ),
    "negative damping": (
        (HIP_LIMIT, HIP_LIMIT + '<dynamics damping="-0.5"/>'),
        r"joint 'hip': <dynamics damping='-0\.5'> is below 0; a negative value feeds energy",
    ),
    "NaN origin": (
        ('<origin xyz="0 0.1 -0.05"', '<origin xyz="0 nan -0.05"'),
        r"joint 'hip': <origin xyz='0 nan -0\.05'> is not finite",
    ),
    "zero axis": (
        ('<axis xyz="0 1 0"/>', '<axis xyz="0 0 0"/>'),
        r"joint 'hip': <axis xyz='0 0 0'> has zero length",
    ),
    "negative mass": (
        (THIGH_MASS, '<mass value="-1.2"/>'),
        r"link 'thigh': <mass value='-1\.2'> is below 0",
    ),
    "NaN mass": ((THIGH_MASS, '<mass value="nan"/>'), r"link 'thigh': <mass value='nan'> is not finite"),
    "zero mass on a moving link": (
        (THIGH_MASS, '<mass value="0"/>'),
        r"link 'thigh': moves on joint 'hip' but has no mass",
    ),
    "negative inertia": (
        (THIGH_INERTIA, 'ixx="-0.01" ixy="0" ixz="0" iyy="0.012" iyz="0" izz="0.003"'),
        r"link 'thigh': <inertia ixx=-0\.01 .*> is not positive semi-definite",
    ),
    "inertia not positive definite": (
        (THIGH_INERTIA, 'ixx="0.01" ixy="0.02" ixz="0" iyy="0.012" iyz="0" izz="0.003"'),
        r"link 'thigh': <inertia ixx=0\.01 ixy=0\.02 .*> is not positive semi-definite",
    ),
    "inertia no body has": (
        (THIGH_INERTIA, 'ixx="0.01" ixy="0" ixz="0" iyy="0.012" iyz="0" izz="0.05"'),
        r"link 'thigh': <inertia .*>: principal moments .* break the triangle inequality",
    ),
    "a joint of the same name": (
        ('<joint name="knee"', '<joint name="hip"'),
        r"joint 'hip': the name is given twice",
    ),
    "a link of the same name": (
        ('<link name="shin">', '<link name="thigh">'),
        r"link 'thigh': the name is given twice",
    ),
    "missing child link": (
        ('<child link="shin"/>', '<child link="calf"/>'),
        r"joint 'knee': child link 'calf' is not a link of this file",
    ),
    "a link with two parents": (
        ('<parent link="shin"/><child link="slider"/>', '<parent link="base"/><child link="shin"/>'),
        r"joint 'extend': link 'shin' is already the child of joint 'knee'",
    ),
    "a cycle": (
        ('<parent link="base"/><child link="thigh"/>', '<parent link="foot"/><child link="thigh"/>'),
        r"link 'thigh': its chain of parent joints loops back on itself; a URDF is a tree",
    ),
    "a joint to itself": (
        ('<parent link="thigh"/><child link="shin"/>', '<parent link="shin"/><child link="shin"/>'),
        r"joint 'knee': joins link 'shin' to itself",
    ),
    "unknown joint type": (
        ('type="continuous"', 'type="spiral"'),
        r"joint 'knee': type 'spiral' is not a URDF joint",
    ),
    "zero box": (
        ('<box size="0.2 0.1 0.1"/>', '<box size="0.2 0 0.1"/>'),
        r"link 'base' <collision>: <box size='0\.2 0 0\.1'>: sizes must be positive",
    ),
}


@pytest.mark.parametrize("fault", BAD_URDF)
def test_impossible_urdf_values_are_refused_naming_file_element_and_value(package, fault, capsys):
    from importer_files import inspect_error

    (old, new), expected = BAD_URDF[fault]
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_joint_limit(_urdf(), old, new))
    with pytest.raises(AssetError, match=re.escape(f"{urdf}: ") + expected):
        load_robot(urdf)
    # The command line gives the same message on one line, with exit status 2 and no traceback.
    line = inspect_error(capsys, str(urdf), "--floating-base")
    assert re.search(re.escape(f"{urdf}: ") + expected, line), line


def test_a_cycle_without_a_root_and_the_good_file_itself(package):
    urdf = package / "urdf" / "mybot.urdf"
    loop = (
        '<robot name="loop"><link name="a"/><link name="b"/>'
        '<joint name="ab" type="fixed"><parent link="a"/><child link="b"/></joint>'
        '<joint name="ba" type="fixed"><parent link="b"/><child link="a"/></joint></robot>'
    )
    urdf.write_text(loop)
    with pytest.raises(
        AssetError, match=r"mybot\.urdf: links: every link is some joint's child: the joints form a cycle"
    ):
        load_robot(urdf)
    # The good file passes every check: the checks refuse only what is wrong.
    urdf.write_text(_urdf())
    assert load_robot(urdf).compile().njnt == 3
    # An inertia no body has is MuJoCo's to round where the file asks it to.
    bad = (THIGH_INERTIA, 'ixx="0.01" ixy="0" ixz="0" iyy="0.012" iyz="0" izz="0.05"')
    balanced = '<robot name="mybot"><mujoco><compiler balanceinertia="true"/></mujoco>'
    urdf.write_text(_urdf().replace(*bad).replace('<robot name="mybot">', balanced))
    assert load_robot(urdf).compile().body("thigh").inertia.max() < 0.05


def test_a_visual_of_size_zero_is_left_out_not_refused(package):
    # Robots ship placeholders that draw nothing (Laikago's toe links: a visual sphere of radius 0
    # beside a collision sphere). They loaded with keep_visual=False and must still: the visual is
    # dropped with a warning naming the link, with or without visuals kept.
    import warnings

    urdf = package / "urdf" / "mybot.urdf"
    placeholder = '<visual><geometry><sphere radius="0.0"/></geometry></visual>'
    urdf.write_text(_urdf().replace('<link name="foot">', '<link name="foot">' + placeholder))
    for keep_visual in (True, False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = load_robot(urdf, keep_visual=keep_visual).compile()
        assert model.body("foot").geomnum[0] == (2 if keep_visual else 1)
        assert any(
            "<visual> of size 0 (it draws nothing) left out in links ['foot']" in str(w.message)
            for w in caught
        )
    # A negative or NaN visual size is still an error, and so is a collision shape of size 0.
    for bad in ('<sphere radius="-0.1"/>', '<sphere radius="nan"/>'):
        urdf.write_text(
            _urdf().replace(
                '<link name="foot">', f'<link name="foot"><visual><geometry>{bad}</geometry></visual>'
            )
        )
        with pytest.raises(AssetError, match=r"link 'foot' <visual>: <sphere radius="):
            load_robot(urdf, keep_visual=False)
    urdf.write_text(_urdf().replace('<cylinder radius="0.03"', '<cylinder radius="0"', 1))
    with pytest.raises(
        AssetError, match=r"link 'thigh' <collision>: <cylinder radius='0'>: sizes must be positive"
    ):
        load_robot(urdf)


def test_a_urdf_without_links_says_so(package):
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text('<robot name="torus"><deformable name="torus"/></robot>')
    with pytest.raises(
        AssetError, match=r"mybot\.urdf: no <link> in <robot>; a URDF robot has at least one link"
    ):
        load_robot(urdf)


def test_equal_limits_are_the_unlimited_joint_mujoco_makes_of_them(package):
    # URDF exporters write lower="0" upper="0" for joints they know no limit of; MuJoCo leaves
    # such a joint unlimited (and `warplab inspect` warns about it), as documented.
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf().replace(HIP_LIMIT, '<limit effort="30" velocity="10"/>'))
    model = load_robot(urdf).compile()
    assert not model.joint("hip").limited[0]


# ---------------------------------------------------------------------------- where meshes may come from
def test_package_etc_passwd_never_reaches_mujoco(package, capsys):
    from importer_files import inspect_error

    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf("package://etc/passwd"))
    with pytest.raises(
        FileNotFoundError, match=r"mybot\.urdf: mesh 'package://etc/passwd' not found; tried"
    ) as e:
        load_robot(urdf)
    # Only folders inside the robot's package were tried: the root's /etc is no package of it.
    tried = str(e.value).split("tried ")[1].split(". Pass")[0].split(", ")
    assert tried and all(pathlib.Path(t).is_relative_to(package) for t in tried), tried
    line = inspect_error(capsys, str(urdf))
    assert "package://etc/passwd" in line and "package_paths" in line


def test_a_package_named_like_an_ancestor_folder_is_not_found_there(tmp_path, capsys):
    from importer_files import inspect_error

    # The robot lives in <tmp>/secret/robots/mybot; a folder above its package is named "secret"
    # and holds a readable mesh. The URDF names it as a package.
    secret = tmp_path / "secret"
    root = secret / "robots" / "mybot"
    (root / "urdf").mkdir(parents=True)
    (root / "meshes").mkdir()
    (root / "package.xml").write_text("<package><name>mybot</name></package>")
    (root / "meshes" / "cube.obj").write_text(CUBE_OBJ)
    binary_stl(root / "meshes" / "shell.stl", 4)
    (secret / "private.obj").write_text(CUBE_OBJ)
    urdf = root / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf("package://secret/private.obj"))
    with pytest.raises(FileNotFoundError, match=r"mesh 'package://secret/private\.obj' not found; tried "):
        load_robot(urdf)
    assert "package://secret/private.obj" in inspect_error(capsys, str(urdf))
    # The user may name the folder: as the package, or as the asset folder that holds the tree.
    assert load_robot(urdf, package_paths={"secret": secret}).compile().nmesh == 2
    assert load_robot(urdf, package_paths=[secret]).compile().nmesh == 2
    assert load_robot(urdf, asset_root=secret).compile().nmesh == 2


def test_ros_package_path_is_searched(tmp_path, package, monkeypatch):
    other = tmp_path / "ws" / "parts"
    other.mkdir(parents=True)
    (other / "wheel.obj").write_text(CUBE_OBJ)
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf("package://parts/wheel.obj"))
    monkeypatch.setenv("ROS_PACKAGE_PATH", str(tmp_path / "ws"))
    assert load_robot(urdf).compile().nmesh == 2


def test_another_package_of_the_ros_workspace_is_found_by_its_package_xml(tmp_path):
    # ws/src/mybot's URDF names a mesh of ws/src/gripper (a package beside it), with no
    # ROS_PACKAGE_PATH set: ROS finds it by its package.xml, and so does warplab. A folder beside it
    # that bears the name but is no package (no package.xml naming it) is not taken for one.
    src = tmp_path / "ws" / "src"
    root = src / "mybot"
    (root / "urdf").mkdir(parents=True)
    (root / "meshes").mkdir()
    (root / "package.xml").write_text("<package><name>mybot</name></package>")
    binary_stl(root / "meshes" / "shell.stl", 4)
    gripper = src / "gripper"
    (gripper / "meshes").mkdir(parents=True)
    (gripper / "package.xml").write_text(
        '<?xml version="1.0"?>\n<package format="3">\n  <name>gripper</name>\n</package>'
    )
    (gripper / "meshes" / "finger.obj").write_text(CUBE_OBJ)
    urdf = root / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf("package://gripper/meshes/finger.obj"))
    assert load_robot(urdf).compile().nmesh == 2
    (gripper / "package.xml").write_text("<package><name>other</name></package>")
    with pytest.raises(FileNotFoundError, match=r"mesh 'package://gripper/meshes/finger\.obj' not found"):
        load_robot(urdf)


def test_a_package_folder_without_package_xml_above_the_urdf_is_named_in_the_error(tmp_path, capsys):
    from importer_files import inspect_error

    # robot_description/urdf/r.urdf and robot_description/meshes, copied without their package.xml:
    # the folder bears the package's name but lies above the asset folder (the URDF's), so it is not
    # searched; the error names it and the option that reads it.
    root = tmp_path / "robot_description"
    (root / "urdf").mkdir(parents=True)
    (root / "meshes").mkdir()
    (root / "meshes" / "cube.obj").write_text(CUBE_OBJ)
    binary_stl(root / "meshes" / "shell.stl", 4)
    urdf = root / "urdf" / "r.urdf"
    urdf.write_text(_urdf().replace("package://mybot/", "package://robot_description/"))
    with pytest.raises(FileNotFoundError) as e:
        load_robot(urdf)
    assert f"{root} bears its name but lies above the asset folder and has no package.xml naming it" in str(
        e.value
    )
    assert f"package_paths={{'robot_description': '{root}'}}" in str(e.value)
    line = inspect_error(capsys, str(urdf))
    assert f"{root} bears its name" in line
    assert load_robot(urdf, package_paths={"robot_description": root}).compile().nmesh == 2


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_symlink_out_of_the_package_is_refused(package, tmp_path, link, capsys):
    from importer_files import inspect_error

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "cube.obj").write_text(CUBE_OBJ)
    if link == "file":
        (package / "meshes" / "linked.obj").symlink_to(outside / "cube.obj")
        refs = ["package://mybot/meshes/linked.obj", "../meshes/linked.obj"]
    else:
        (package / "meshes" / "more").symlink_to(outside, target_is_directory=True)
        refs = ["package://mybot/meshes/more/cube.obj", "../meshes/more/cube.obj"]
    urdf = package / "urdf" / "mybot.urdf"
    for ref in refs:
        urdf.write_text(_urdf(ref))
        expected = (
            rf"mybot\.urdf: mesh '{re.escape(ref)}' resolves to {re.escape(str(outside / 'cube.obj'))}, outside the asset folder"
            if ref.startswith("package")
            else rf"mybot\.urdf: '{re.escape(ref)}' resolves to {re.escape(str(outside / 'cube.obj'))}, outside the asset folder"
        )
        with pytest.raises(AssetError, match=expected + r".*refusing to read it.*asset_root="):
            load_robot(urdf)
        assert re.search(expected, inspect_error(capsys, str(urdf), "--floating-base"))
        # Trusted by the user, the folder is read.
        assert load_robot(urdf, asset_root=tmp_path).compile().nmesh == 2


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("package://../mybot/meshes/cube.obj", r"'\.\.' is not a package name"),
        ("http://example.com/cube.obj", r"http:// paths are not read"),
    ],
)
def test_references_that_are_no_package_or_file_are_refused(package, ref, expected):
    urdf = package / "urdf" / "mybot.urdf"
    urdf.write_text(_urdf(ref))
    with pytest.raises(AssetError, match=rf"mybot\.urdf: mesh '{re.escape(ref)}': {expected}"):
        load_robot(urdf)


def test_a_urdf_cannot_point_mujoco_at_another_mesh_folder(package, tmp_path):
    # strippath cuts the checked folder off a mesh path, and meshdir puts the file's own in its
    # place: MuJoCo would read <tmp>/evil/cube.obj (a tetrahedron) instead of the package's cube.
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "cube.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n")
    urdf = package / "urdf" / "mybot.urdf"
    extension = f'<mujoco><compiler strippath="true" meshdir="{evil}/" assetdir="{evil}/"/></mujoco>'
    urdf.write_text(_urdf().replace('<robot name="mybot">', '<robot name="mybot">' + extension))
    model = load_robot(urdf).compile()
    foot = [
        g
        for g in range(model.ngeom)
        if model.geom_bodyid[g] == model.body("foot").id and model.geom_conaffinity[g]
    ]
    assert model.mesh_vertnum[model.geom_dataid[foot[0]]] == 8  # the package's cube, not the tetrahedron
