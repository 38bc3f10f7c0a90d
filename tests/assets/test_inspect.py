"""``inspect_model`` and ``warplab inspect``: each warning fires on a model made to have that fault,
not on its clean twin, and not on the project's humanoid."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import mujoco
import pytest

from warplab.assets import build_robot_spec
from warplab.assets.importers import write_usd
from warplab.assets.inspect import WARNING_KINDS, inspect_file, inspect_model
from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
from warplab.cli.main import main

# A two-legged toy whose every part is sound; each fault below edits one thing of it.
CLEAN_XML = """<mujoco model="toy">
  <compiler angle="radian"/>
  <worldbody>
    <body name="pelvis" pos="0 0 0.6">
      <freejoint/>
      <geom name="pelvis" type="box" size="0.08 0.12 0.05" mass="4"/>
      <body name="left_leg" pos="0 0.08 -0.05">
        <joint name="left_hip" axis="0 1 0" range="-1.5 1.5"/>
        <geom name="left_leg" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"/>
        <geom name="left_shell" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.035" contype="0" conaffinity="0" mass="0"/>
      </body>
      <body name="right_leg" pos="0 -0.08 -0.05">
        <joint name="right_hip" axis="0 1 0" range="-1.5 1.5"/>
        <geom name="right_leg" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"/>
      </body>
    </body>
  </worldbody>
</mujoco>"""

FAULTS = {
    "tiny-mass": (
        CLEAN_XML.replace(
            'size="0.03" mass="1.5"/>\n      </body>\n    </body>',
            'size="0.03" mass="1e-5"/>\n      </body>\n    </body>',
        ),
        "'right_leg'",
    ),
    "no-collision": (
        CLEAN_XML.replace(
            'name="left_leg" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"',
            'name="left_leg" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5" contype="0" conaffinity="0"',
        ),
        "'left_leg'",
    ),
    # Legs 0.1 m thick, moved to 0.08 m apart: they overlap by 0.02 m.
    "self-collision": (
        CLEAN_XML.replace('size="0.03" mass="1.5"', 'size="0.05" mass="1.5"').replace(
            'pos="0 0.08 -0.05"', 'pos="0 0 -0.05"'
        ),
        "'left_leg'",
    ),
    "unlimited-joint": (
        CLEAN_XML.replace(
            ' range="-1.5 1.5"/>\n        <geom name="right_leg"', '/>\n        <geom name="right_leg"'
        ),
        "'right_hip'",
    ),
}


def test_clean_model_and_humanoid_have_no_warnings():
    assert inspect_model(mujoco.MjModel.from_xml_string(CLEAN_XML)).warnings == []
    report = inspect_model(build_robot_spec(HUMANOID_ROBOT_CFG))
    assert report.warnings == [], report.text()
    text = report.text()
    for section in ("bodies:", "joints:", "actuators:", "sensors:", "contacts:"):
        assert section in text
    assert "left_knee  hinge" in text and "total mass 35" in text


@pytest.mark.parametrize("kind", WARNING_KINDS)
def test_each_warning_fires_on_its_fault(kind):
    xml, culprit = FAULTS[kind]
    assert xml != CLEAN_XML, "the fault must change the model"
    report = inspect_model(mujoco.MjModel.from_xml_string(xml))
    assert report.kinds() == {kind}, report.text()
    assert culprit in report.warnings[0].message


def test_tiny_inertia_and_a_model_without_collisions():
    xml = CLEAN_XML.replace(
        '<geom name="right_leg" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"/>',
        '<inertial pos="0 0 0" mass="0.5" diaginertia="1e-10 1e-10 1e-10"/>'
        '<geom name="right_leg" type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03"/>',
    )
    report = inspect_model(mujoco.MjModel.from_xml_string(xml))
    assert report.kinds() == {"tiny-mass"} and "principal inertia of 1e-10" in report.warnings[0].message
    no_bits = CLEAN_XML.replace(' contype="0" conaffinity="0"', "")
    ghost = mujoco.MjModel.from_xml_string(no_bits.replace("<geom ", '<geom contype="0" conaffinity="0" '))
    assert [w.message[:19] for w in inspect_model(ghost).warnings if w.kind == "no-collision"] == [
        "no geom collides (e"
    ]


def test_warplab_inspect_command(tmp_path, capsys):
    (tmp_path / "toy.xml").write_text(CLEAN_XML)
    names = ["toy.xml"]
    if importlib.util.find_spec("pxr") is not None:  # usd-core: pip install "warplab[usd]"
        write_usd(mujoco.MjModel.from_xml_string(CLEAN_XML), tmp_path / "toy.usda")
        names.append("toy.usda")
    for name in names:
        assert main(["inspect", str(tmp_path / name), "--strict"]) == 0
        out = capsys.readouterr().out
        assert (
            "3 bodies, 3 joints (8 dofs)" in out
            and "left_hip  hinge  body=left_leg  range=[-1.5, 1.5]" in out
        )
    (tmp_path / "faulty.xml").write_text(FAULTS["unlimited-joint"][0])
    assert main(["inspect", str(tmp_path / "faulty.xml")]) == 0
    assert main(["inspect", str(tmp_path / "faulty.xml"), "--strict"]) == 1
    assert "[unlimited-joint] joint 'right_hip' has no range" in capsys.readouterr().out
    (tmp_path / "broken.urdf").write_text("<robot name='x'><link name='a'></robot>")
    assert main(["inspect", str(tmp_path / "broken.urdf")]) == 2
    assert "broken.urdf:1:" in capsys.readouterr().err
    assert "toy.xml (MJCF): 3 bodies" in inspect_file(tmp_path / "toy.xml").title


# ---------------------------------------------------------------------------- robots by name
def test_warplab_inspect_takes_the_project_robots_by_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file of these names here
    assert main(["inspect", "humanoid", "--strict"]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("humanoid (warplab's robot): ")
        and "left_knee  hinge" in out
        and "total mass 35" in out
    )
    for name in ("cartpole", "cart-pole"):
        assert main(["inspect", name]) == 0
        out = capsys.readouterr().out
        assert out.startswith("cartpole (warplab's robot): 2 bodies") and "slider  slide" in out
    # A file of that name, where there is one, is the file.
    (tmp_path / "humanoid").write_text(CLEAN_XML)
    line = _one_line_error(capsys, "humanoid")
    assert "humanoid: unknown robot file type '(no suffix)'" in line


def _one_line_error(capsys, *args: str) -> str:
    from importer_files import inspect_error

    return inspect_error(capsys, *args)


def test_an_unknown_name_lists_the_names_taken(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = _one_line_error(capsys, "humanoidd")
    assert "'humanoidd' is no file and no robot warplab knows. Did you mean 'humanoid'" in line
    assert "warplab's robots (arm, cartpole, hand, humanoid)" in line and "the path of a robot file" in line
    # A path that does not exist is a missing file, not a name.
    assert "robots/nothing.urdf" in _one_line_error(capsys, "robots/nothing.urdf")
    # URDF options make no sense for a name or an MJCF file.
    assert "apply to robot files only" in _one_line_error(capsys, "humanoid", "--floating-base")
    (tmp_path / "toy.xml").write_text(CLEAN_XML)
    assert "apply to URDF files only" in _one_line_error(capsys, "toy.xml", "--floating-base")


def test_a_cached_menagerie_robot_by_name(capsys, tmp_path, monkeypatch):
    pytest.importorskip("mujoco_menagerie")
    from test_menagerie import FILES, ROBOT, write_cached_robot  # noqa: I001 (tests/assets is on the path)

    monkeypatch.chdir(tmp_path)
    for var in ("MENAGERIE_ROOT", "MENAGERIE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MENAGERIE_CACHE_DIR", str(tmp_path / "empty-cache"))
    # Not in the cache: one line saying so and how to fetch it; nothing is downloaded.
    line = _one_line_error(capsys, ROBOT)
    assert f"Menagerie robot {ROBOT!r} is not in the cache" in line and "mujoco-menagerie prefetch" in line
    write_cached_robot(tmp_path / "cache", ROBOT, FILES)
    monkeypatch.setenv("MENAGERIE_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["inspect", ROBOT]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{ROBOT} (MuJoCo Menagerie: {tmp_path / 'cache'}") and "g1.xml): 5 bodies" in out


def test_the_warplab_command_refuses_a_reversed_urdf_limit_in_one_line(tmp_path):
    # The real command in its own process: stderr holds one line, whatever MuJoCo or Warp print.
    inertial = '<inertial><mass value="1"/><inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>'
    urdf = tmp_path / "arm.urdf"
    urdf.write_text(
        f'<robot name="arm"><link name="base">{inertial}</link><link name="upper">{inertial}</link>'
        '<joint name="shoulder" type="revolute"><parent link="base"/><child link="upper"/><axis xyz="0 1 0"/>'
        '<limit lower="1.5" upper="-1.5" effort="20" velocity="5"/></joint></robot>'
    )
    run = subprocess.run(
        [sys.executable, "-m", "warplab.cli.main", "inspect", str(urdf)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        f"warplab inspect: error: {urdf}: joint 'shoulder': <limit lower='1.5' upper='-1.5'>: lower is above "
        "upper (MuJoCo would make the joint unlimited); give lower < upper"
    ]
