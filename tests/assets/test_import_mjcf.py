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
