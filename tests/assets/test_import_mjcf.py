"""MJCF through load_robot: includes and mesh folders resolve relative to the file; bad files fail clearly."""

from __future__ import annotations

import re

import mujoco
import numpy as np
import pytest
from importer_files import CUBE_OBJ  # noqa: I001 (tests/assets is on the path)

from warplab.assets.importers import AssetError, ImportLimits, load_robot

MAIN_XML = """<mujoco model="arm">
  <compiler angle="radian" meshdir="meshes"/>
  <include file="parts/assets.xml"/>
  <worldbody>
    <body name="link" pos="0 0 1">
      <joint name="hinge" axis="0 1 0" range="-1 1"/>
      <geom type="mesh" mesh="cube" mass="2"/>
      <include file="parts/tool.xml"/>
    </body>
  </worldbody>
</mujoco>
"""


@pytest.fixture
def robot(tmp_path):
    root = tmp_path / "arm"
    (root / "parts").mkdir(parents=True)
    (root / "meshes").mkdir()
    (root / "meshes" / "cube.obj").write_text(CUBE_OBJ)
    (root / "parts" / "assets.xml").write_text(
        '<mujoco><asset><mesh name="cube" file="cube.obj"/></asset></mujoco>'
    )
    (root / "parts" / "tool.xml").write_text(
        '<mujoco><body name="tool" pos="0.2 0 0"><geom type="sphere" size="0.03" mass="0.1"/></body></mujoco>'
    )
    (root / "arm.xml").write_text(MAIN_XML)
    return root


def test_includes_and_meshdir_resolve_relative_to_the_file(robot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = load_robot(robot / "arm.xml").compile()
    assert [model.body(b).name for b in range(model.nbody)] == ["world", "link", "tool"]
    # Includes are relative to the main file, as MuJoCo has them. The mesh: a 0.1 m cube of 2 kg, inertia m a² / 6 about each axis.
    assert model.mesh_vertnum[0] == 8
    np.testing.assert_allclose(
        model.body("link").inertia, [2 * 0.1**2 / 6] * 3, rtol=1e-6
    )  # vertices are float32
    # And the same model MuJoCo itself reads.
    reference = mujoco.MjModel.from_xml_path(str(robot / "arm.xml"))
    np.testing.assert_array_equal(model.body_mass, reference.body_mass)


def test_missing_files_name_the_path_tried(robot):
    (robot / "meshes" / "cube.obj").unlink()
    with pytest.raises(
        FileNotFoundError,
        match=r"mesh 'cube\.obj' not found: tried " + re.escape(str(robot / "meshes" / "cube.obj")),
    ):
        load_robot(robot / "arm.xml")
    (robot / "parts" / "tool.xml").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"included file 'parts/tool\.xml' not found: tried .*parts/tool\.xml"
    ):
        load_robot(robot / "arm.xml")
    with pytest.raises(FileNotFoundError, match="XML file not found"):
        load_robot(robot / "nothing.xml")


def test_escaping_paths_are_refused(robot, tmp_path):
    (tmp_path / "secret.obj").write_text(CUBE_OBJ)
    (robot / "parts" / "assets.xml").write_text(
        '<mujoco><asset><mesh name="cube" file="../../secret.obj"/></asset></mujoco>'
    )
    with pytest.raises(
        AssetError,
        match=r"assets\.xml: '\.\./\.\./secret\.obj' resolves to .*secret\.obj, outside the asset folder",
    ):
        load_robot(robot / "arm.xml")
    assert load_robot(robot / "arm.xml", asset_root=tmp_path).compile().nmesh == 1
    (robot / "arm.xml").write_text(MAIN_XML.replace("parts/tool.xml", "/etc/hostname"))
    with pytest.raises(AssetError, match="outside the asset folder"):
        load_robot(robot / "arm.xml")


# A tetrahedron as a gmsh file (text): the format of flexcomp type="gmsh", with MuJoCo's ".msh" suffix.
GMSH_TETRAHEDRON = """$MeshFormat
4.1 0 8
$EndMeshFormat
$Entities
0 0 0 1
1 0 0 0 1 1 1 0 0
$EndEntities
$Nodes
1 4 1 4
3 1 0 4
1
2
3
4
0 0 0
1 0 0
0 1 0
0 0 1
$EndNodes
$Elements
1 1 1 1
3 1 4 1
1 1 2 3 4
$EndElements
"""


def test_msh_files_of_both_formats_are_counted_only_where_they_are_mujocos(tmp_path):
    # A gmsh file was read as MuJoCo's binary MSH, its text as a face count ("540094004 faces, over
    # the limit"), and a soft body MuJoCo loads was refused.
    import struct

    (tmp_path / "tet.msh").write_text(GMSH_TETRAHEDRON)
    (tmp_path / "soft.xml").write_text(
        '<mujoco><worldbody><flexcomp name="tet" type="gmsh" file="tet.msh" pos="0 0 1" dim="3" mass="1"/>'
        "</worldbody></mujoco>"
    )
    assert load_robot(tmp_path / "soft.xml").compile().nflex == 1
    # MuJoCo's own binary MSH is still counted, and refused over the limit.
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], np.int32)
    (tmp_path / "tet_mj.msh").write_bytes(
        struct.pack("<4i", 4, 0, 0, 4) + vertices.tobytes() + faces.tobytes()
    )
    (tmp_path / "rigid.xml").write_text(
        '<mujoco><asset><mesh file="tet_mj.msh"/></asset><worldbody><body><freejoint/>'
        '<geom type="mesh" mesh="tet_mj"/></body></worldbody></mujoco>'
    )
    assert load_robot(tmp_path / "rigid.xml").compile().mesh_facenum[0] == 4
    with pytest.raises(
        AssetError, match=r"has 4 faces, over the limit of 3 \(ImportLimits\.max_mesh_faces\)"
    ):
        load_robot(tmp_path / "rigid.xml", limits=ImportLimits(max_mesh_faces=3))


def test_hostile_and_broken_files(robot):
    with pytest.raises(AssetError, match=r"12 faces, over the limit of 4 \(ImportLimits\.max_mesh_faces\)"):
        load_robot(robot / "arm.xml", limits=ImportLimits(max_mesh_faces=4))
    with pytest.raises(
        AssetError, match=r"over the limit of 100 bytes for a XML file \(ImportLimits\.max_file_bytes\)"
    ):
        load_robot(robot / "arm.xml", limits=ImportLimits(max_file_bytes=100))
    (robot / "parts" / "tool.xml").write_text("<mujoco>\n  <body name='tool'>\n</mujoco>")
    with pytest.raises(AssetError, match=r"tool\.xml:3:2: broken XML: mismatched tag"):
        load_robot(robot / "arm.xml")
    (robot / "parts" / "tool.xml").write_text('<mujoco><include file="arm.xml"/></mujoco>')
    with pytest.raises(AssetError, match="include cycle"):
        load_robot(robot / "arm.xml")
    # Entity expansion ("billion laughs") is refused by the parser, not expanded.
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        + "".join(
            f'<!ENTITY {c} "{("&" + p + ";") * 10}">' for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + ']><mujoco model="&i;"/>'
    )
    (robot / "laughs.xml").write_text(laughs)
    with pytest.raises(AssetError, match=r"laughs\.xml:1:\d+: broken XML"):
        load_robot(robot / "laughs.xml")
    (robot / "parts" / "tool.xml").write_text('<mujoco><geom size="0.1"/></mujoco>')
    (robot / "arm.xml").write_text(
        MAIN_XML.replace('<joint name="hinge"', '<joint name="hinge" type="spiral"')
    )
    with pytest.raises(AssetError, match=r"arm\.xml: MuJoCo cannot read this model: .*spiral"):
        load_robot(robot / "arm.xml")


# ---------------------------------------------------------------------------- paths out of the robot's folder
def _escape(robot, tmp_path, case: str) -> tuple[str, str]:
    """Edits the robot to reach out of its folder one way; returns (the reference, the file it reaches)."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "cube.obj").write_text(CUBE_OBJ)
    (outside / "tool.xml").write_text('<mujoco><body name="tool"><geom size="0.03"/></body></mujoco>')
    (outside / "wood.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    main = robot / "arm.xml"
    if case == "include":
        ref = f"../../{tmp_path.name}/outside/tool.xml"  # from <tmp>/arm: up two, and down again
        main.write_text(MAIN_XML.replace("parts/tool.xml", ref))
        return ref, outside / "tool.xml"
    if case in ("meshdir", "assetdir"):
        main.write_text(MAIN_XML.replace('meshdir="meshes"', f'{case}="../outside"'))
        return "cube.obj", outside / "cube.obj"
    if case == "texturedir":
        main.write_text(
            MAIN_XML.replace('meshdir="meshes"', 'meshdir="meshes" texturedir="../outside"').replace(
                "<worldbody>", '<asset><texture name="wood" type="2d" file="wood.png"/></asset><worldbody>'
            )
        )
        return "wood.png", outside / "wood.png"
    if case == "symlinked mesh":
        (robot / "meshes" / "cube.obj").unlink()
        (robot / "meshes" / "cube.obj").symlink_to(outside / "cube.obj")
        return "cube.obj", outside / "cube.obj"
    if case == "symlinked include":
        (robot / "parts" / "tool.xml").unlink()
        (robot / "parts" / "tool.xml").symlink_to(outside / "tool.xml")
        return "parts/tool.xml", outside / "tool.xml"
    if case == "flexcomp":
        main.write_text(
            MAIN_XML.replace(
                "</worldbody>",
                '<flexcomp name="cloth" type="mesh" file="../../outside/cube.obj" dim="2" mass="1"/></worldbody>',
            )
        )
        return "../../outside/cube.obj", outside / "cube.obj"
    if case == "strippath":
        # MuJoCo keeps only the file's name under meshdir: "../arm/meshes/cube.obj" becomes ../outside/cube.obj.
        main.write_text(MAIN_XML.replace('meshdir="meshes"', 'meshdir="../outside" strippath="true"'))
        (robot / "parts" / "assets.xml").write_text(
            '<mujoco><asset><mesh name="cube" file="../arm/meshes/cube.obj"/></asset></mujoco>'
        )
        return "../arm/meshes/cube.obj", outside / "cube.obj"
    raise AssertionError(case)


ESCAPES = (
    "include",
    "meshdir",
    "assetdir",
    "texturedir",
    "symlinked mesh",
    "symlinked include",
    "flexcomp",
    "strippath",
)


@pytest.mark.parametrize("case", ESCAPES)
def test_every_way_out_of_the_folder_is_refused(robot, tmp_path, case, capsys):
    from importer_files import inspect_error

    ref, reached = _escape(robot, tmp_path, case)
    expected = rf"'{re.escape(ref)}' resolves to {re.escape(str(reached))}, outside the asset folder \({re.escape(str(robot))}\); refusing to read it"
    with pytest.raises(AssetError, match=expected):
        load_robot(robot / "arm.xml")
    line = inspect_error(capsys, str(robot / "arm.xml"))
    assert re.search(expected + r".*--asset-root", line), line


# ---------------------------------------------------------------------------- numbers MuJoCo takes without a word
BAD_MJCF = {
    "lower above upper": (
        ('range="-1 1"', 'range="1 -1"'),
        r"joint 'hinge': range \[1, -1\] has its lower end above its upper end",
    ),
    "NaN range": (('range="-1 1"', 'range="nan 1"'), r"joint 'hinge': range \[nan, 1\] is not finite"),
    "NaN damping": (
        ('range="-1 1"', 'range="-1 1" damping="nan"'),
        r"joint 'hinge': damping \[nan, 0, 0\] is not finite",
    ),
    "negative armature": (
        ('range="-1 1"', 'range="-1 1" armature="-0.1"'),
        r"joint 'hinge': armature -0\.1 is negative",
    ),
    "negative stiffness": (
        ('range="-1 1"', 'range="-1 1" stiffness="-5"'),
        r"joint 'hinge': stiffness -5 is negative",
    ),
    "NaN axis": (('axis="0 1 0"', 'axis="0 nan 0"'), r"joint 'hinge': axis \[0, nan, 0\] is not finite"),
    "NaN body position": (('pos="0 0 1"', 'pos="0 0 nan"'), r"body 'link': pos \[0, 0, nan\] is not finite"),
    "zero time step": (
        ('meshdir="meshes"/>', 'meshdir="meshes"/><option timestep="0"/>'),
        r"option: timestep 0 s is not positive",
    ),
    "NaN keyframe": (
        ("</mujoco>\n", '<keyframe><key name="home" qpos="nan"/></keyframe></mujoco>\n'),
        r"keyframe 'home': qpos nan is not finite",
    ),
    "reversed control range": (
        (
            "</mujoco>\n",
            '<actuator><position name="servo" joint="hinge" kp="10" ctrlrange="1 -1"/></actuator></mujoco>\n',
        ),
        r"actuator 'servo': ctrlrange \[1, -1\] has its lower end above its upper end",
    ),
    "NaN gain": (
        ("</mujoco>\n", '<actuator><position name="servo" joint="hinge" kp="nan"/></actuator></mujoco>\n'),
        r"actuator 'servo': gainprm \[nan, .*\] is not finite",
    ),
}


@pytest.mark.parametrize("fault", BAD_MJCF)
def test_numbers_mujoco_would_take_are_refused(robot, fault, capsys):
    from importer_files import inspect_error

    (old, new), expected = BAD_MJCF[fault]
    assert old in MAIN_XML
    (robot / "arm.xml").write_text(MAIN_XML.replace(old, new, 1))
    path = robot / "arm.xml"
    with pytest.raises(AssetError, match=re.escape(f"{path}: ") + expected):
        load_robot(path)
    assert re.search(re.escape(f"{path}: ") + expected, inspect_error(capsys, str(path)))


def test_what_mujoco_refuses_reaches_the_command_line_as_one_line(robot, capsys):
    from importer_files import inspect_error

    # A moving body without mass: MuJoCo's compiler refuses it, over three lines of its own.
    path = robot / "arm.xml"
    path.write_text(MAIN_XML.replace('mass="2"', 'mass="0"'))
    (robot / "parts" / "tool.xml").write_text(
        '<mujoco><body name="tool" pos="0.2 0 0"><geom type="sphere" size="0.03" mass="0"/></body></mujoco>'
    )
    line = inspect_error(capsys, str(path))
    assert (
        f"{path}: MuJoCo cannot compile this model: mass and inertia of moving bodies must be larger" in line
    )
    assert "Element name 'link'" in line
    # So does a reading error, with MuJoCo's line number.
    path.write_text(MAIN_XML.replace('<joint name="hinge"', '<joint name="hinge" type="spiral"'))
    line = inspect_error(capsys, str(path))
    assert re.search(
        rf"{re.escape(str(path))}: MuJoCo cannot read this model: .*spiral.*; Element 'joint', line 6", line
    )


def test_mujocos_own_note_about_a_nan_is_not_printed_beside_the_error(robot, capfd):
    # MuJoCo prints "WARNING: XML contains a 'NaN'" from C; the error says more, on its own.
    (robot / "arm.xml").write_text(MAIN_XML.replace('range="-1 1"', 'range="nan 1"'))
    with pytest.raises(AssetError, match=r"joint 'hinge': range \[nan, 1\] is not finite"):
        load_robot(robot / "arm.xml")
    assert capfd.readouterr() == ("", "")
    # On a file that loads, MuJoCo's notes become Python warnings naming the file. (A geom's NaN
    # mass is MuJoCo's "not given": its mass comes from its density.)
    (robot / "arm.xml").write_text(MAIN_XML.replace('mass="2"', 'mass="nan"'))
    with pytest.warns(UserWarning, match=r"arm\.xml: MuJoCo: XML contains a 'NaN'"):
        load_robot(robot / "arm.xml")
