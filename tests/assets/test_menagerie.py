"""Menagerie robots by name, loaded from a local cache with the network off.

The ``mujoco-menagerie`` package ships its index of robots (name, entry-point files, the git tree id
``oid`` and the digest of each robot's archive) and keeps downloaded robots in
``<cache>/models/<name>-<oid[:16]>/``, marked whole by a ``.complete`` file that lists each file's
SHA-256. Its index is fixed inside the wheel, so a fake cache must use a name it knows: these tests
write small toy robots under the cache directory of ``unitree_g1`` (its ``g1``, ``g1_with_hands``
and ``scene`` entry points), exactly as the package lays out a download, and point the package at
them through ``MENAGERIE_CACHE_DIR`` or ``cache_dir``. The download itself (archive, digest check,
unpacking) cannot be run here: the digests in the index are those of the real archives on GitHub.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import time
import types

import mujoco
import pytest

from warplab.assets.menagerie import (
    MenagerieNotCachedError,
    MenagerieNotInstalledError,
    load_menagerie,
    menagerie_names,
    menagerie_robot_cfg,
    menagerie_xml,
)
from warplab.assets.robot_cfg import ActuatorGroupCfg, build_robot_spec
from warplab.assets.terrain import add_flat_ground

ROBOT = "unitree_g1"

# The robot alone, without meshes: a pelvis on a free joint and two legs, driven by torque motors
# named apart from their joints (as Menagerie's humanoids are), with a sensor on one motor.
TOY_XML = """
<mujoco model="toy_g1">
  <compiler angle="radian" autolimits="true"/>
  <worldbody>
    <body name="pelvis" pos="0 0 0.6">
      <freejoint name="floating_base_joint"/>
      <geom type="box" size="0.08 0.12 0.05" mass="4"/>
      <body name="left_leg" pos="0 0.08 -0.05">
        <joint name="left_hip_pitch_joint" axis="0 1 0" range="-1.5 1.5"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"/>
        <body name="left_foot" pos="0 0 -0.48"><geom type="box" size="0.07 0.03 0.02" mass="0.3"/></body>
      </body>
      <body name="right_leg" pos="0 -0.08 -0.05">
        <joint name="right_hip_pitch_joint" axis="0 1 0" range="-1.5 1.5"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"/>
        <body name="right_foot" pos="0 0 -0.48"><geom type="box" size="0.07 0.03 0.02" mass="0.3"/></body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="left_hip_pitch" joint="left_hip_pitch_joint" ctrlrange="-88 88"/>
    <motor name="right_hip_pitch" joint="right_hip_pitch_joint" ctrlrange="-88 88"/>
  </actuator>
  <sensor><actuatorfrc name="left_hip_torque" actuator="left_hip_pitch"/></sensor>
  <keyframe><key name="stand" qpos="0 0 0.6 1 0 0 0 0.1 0.1" ctrl="1 1"/></keyframe>
</mujoco>
"""
# A second variant whose legs come from an included file and whose feet are a mesh under the
# compiler's meshdir: both resolve relative to the cached XML, wherever the process runs.
TOY_WITH_HANDS_XML = """
<mujoco model="toy_g1_with_hands">
  <compiler angle="radian" autolimits="true" meshdir="assets"/>
  <asset><mesh name="foot" file="foot.obj"/></asset>
  <worldbody>
    <body name="pelvis" pos="0 0 0.6">
      <freejoint name="floating_base_joint"/>
      <geom type="box" size="0.08 0.12 0.05" mass="4"/>
      <include file="parts/legs.xml"/>
    </body>
  </worldbody>
</mujoco>
"""
LEGS_XML = """
<mujoco>
  <body name="left_leg" pos="0 0.08 -0.05">
    <joint name="left_hip_pitch_joint" axis="0 1 0" range="-1.5 1.5"/>
    <geom type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"/>
    <body name="left_foot" pos="0 0 -0.48"><geom type="mesh" mesh="foot" mass="0.3"/></body>
  </body>
  <body name="right_leg" pos="0 -0.08 -0.05">
    <joint name="right_hip_pitch_joint" axis="0 1 0" range="-1.5 1.5"/>
    <geom type="capsule" fromto="0 0 0 0 0 -0.45" size="0.03" mass="1.5"/>
    <body name="right_foot" pos="0 0 -0.48"><geom type="mesh" mesh="foot" mass="0.3"/></body>
  </body>
</mujoco>
"""
# A box 0.14 x 0.06 x 0.04 m: eight vertices, twelve outward-facing triangles.
FOOT_OBJ = """
v -0.07 -0.03 -0.02
v 0.07 -0.03 -0.02
v 0.07 0.03 -0.02
v -0.07 0.03 -0.02
v -0.07 -0.03 0.02
v 0.07 -0.03 0.02
v 0.07 0.03 0.02
v -0.07 0.03 0.02
f 1 3 2
f 1 4 3
f 5 6 7
f 5 7 8
f 1 2 6
f 1 6 5
f 2 3 7
f 2 7 6
f 3 4 8
f 3 8 7
f 4 1 5
f 4 5 8
"""
SCENE_XML = """
<mujoco model="toy_g1 scene">
  <include file="g1.xml"/>
  <worldbody><geom name="floor" type="plane" size="0 0 0.05"/></worldbody>
</mujoco>
"""
FILES = {
    "g1.xml": TOY_XML,
    "g1_with_hands.xml": TOY_WITH_HANDS_XML,
    "parts/legs.xml": LEGS_XML,
    "assets/foot.obj": FOOT_OBJ,
    "scene.xml": SCENE_XML,
    "LICENSE": "toy robots written by warplab's tests\n",
}


def write_cached_robot(cache_dir, name: str, files: dict[str, str]):
    """Lays ``files`` out as the package publishes a downloaded robot; returns the robot's directory."""
    import mujoco_menagerie as mm

    oid = mm.get(name).oid
    model_dir = cache_dir / "models" / f"{name}-{oid[:16]}"
    for rel, text in files.items():
        (model_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (model_dir / rel).write_text(text)
    digests = {rel: hashlib.sha256((model_dir / rel).read_bytes()).hexdigest() for rel in sorted(files)}
    (model_dir / ".complete").write_text(json.dumps({"oid": oid, "files": digests}))
    return model_dir


@pytest.fixture
def mm():
    return pytest.importorskip("mujoco_menagerie")


@pytest.fixture
def network(monkeypatch, mm):
    """Turns the network off: every name lookup or connection fails, and is recorded."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(str(args[0]) if args else "?")
        raise socket.gaierror(socket.EAI_NONAME, "network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    # The package retries a failed download three times, sleeping 1, 2 and 4 s between tries.
    monkeypatch.setattr(mm._cache, "time", types.SimpleNamespace(sleep=lambda s: None, time=time.time))
    return attempts


@pytest.fixture
def cache(monkeypatch, tmp_path, mm, network):
    """A cache holding the toy ``unitree_g1``, chosen through MENAGERIE_CACHE_DIR; the network is off."""
    cache_dir = tmp_path / "menagerie-cache"
    write_cached_robot(cache_dir, ROBOT, FILES)
    monkeypatch.setenv("MENAGERIE_CACHE_DIR", str(cache_dir))
    for var in ("MENAGERIE_ROOT", "MENAGERIE_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return cache_dir


# ---------------------------------------------------------------------------- the fake cache is faithful
def test_the_fake_cache_is_laid_out_as_the_package_expects(cache, mm):
    robot = mm.get(ROBOT)
    package_cache = mm.Cache()  # from MENAGERIE_CACHE_DIR
    assert package_cache.dir == cache
    assert package_cache.model_path(robot) == cache / "models" / f"{ROBOT}-{robot.oid[:16]}"
    assert package_cache.is_cached(robot)
    assert package_cache.verify(robot) == []  # the package's own integrity check accepts it
    assert {"g1", "g1_with_hands", "scene"} <= set(robot.entry_names)
    assert robot.default_model == "g1"


# ---------------------------------------------------------------------------- loading from the cache
def test_loads_by_name_from_the_cache_without_the_network(cache, network):
    spec = load_menagerie(ROBOT)
    assert isinstance(spec, mujoco.MjSpec)
    model = spec.compile()
    assert model.nq == 9 and model.nu == 2
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "floor") == -1  # the robot alone
    assert menagerie_xml(ROBOT) == cache / "models" / f"{ROBOT}-{_oid16()}" / "g1.xml"
    assert network == []


def test_the_public_name_warplab_assets_menagerie_loads_by_name(cache, network):
    import warplab.assets

    spec = warplab.assets.menagerie(ROBOT)
    assert [j.name for j in spec.joints] == [j.name for j in load_menagerie(ROBOT).joints]
    assert warplab.assets.menagerie(ROBOT, "scene").compile().geom("floor") is not None
    assert warplab.assets.menagerie.menagerie_xml is menagerie_xml  # still the module
    assert network == []


def test_cache_dir_argument_overrides_the_environment(cache, network, monkeypatch, tmp_path):
    monkeypatch.setenv("MENAGERIE_CACHE_DIR", str(tmp_path / "empty"))
    model = load_menagerie(ROBOT, cache_dir=cache).compile()
    assert model.njnt == 3
    assert network == []


def test_includes_and_meshes_resolve_relative_to_the_cached_file(cache, network, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    spec = load_menagerie(ROBOT, "g1_with_hands")
    # The scene adds to the spec after loading; the mesh file is read when it compiles.
    model = add_flat_ground(spec).compile()
    assert model.nmesh == 1 and model.mesh_vertnum[0] == 8
    assert {model.body(i).name for i in range(model.nbody)} >= {"left_leg", "right_foot"}
    assert model.body("left_foot").mass[0] == pytest.approx(0.3)
    assert network == []


def test_entry_points_and_xml_files_by_name(cache, network):
    scene = load_menagerie(ROBOT, "scene").compile()
    assert scene.geom("floor").type == mujoco.mjtGeom.mjGEOM_PLANE
    assert load_menagerie(ROBOT, "g1.xml").compile().nu == 2
    with pytest.raises(ValueError, match=r"'unitree_g1' has no entry point 'g2'.*'g1_with_hands'"):
        load_menagerie(ROBOT, "g2")
    with pytest.raises(ValueError, match=r"no file 'g2.xml' in .*'g1_with_hands.xml'"):
        load_menagerie(ROBOT, "g2.xml")
    assert network == []


def test_unknown_robot_names_close_matches(cache, network):
    with pytest.raises(ValueError, match=r"unknown Menagerie robot 'unitree-g1'\. Did you mean 'unitree_g1'"):
        load_menagerie("unitree-g1")
    assert network == []


def test_menagerie_names_come_from_the_package_index(mm, network):
    humanoids = menagerie_names("humanoid")
    assert ROBOT in humanoids and "unitree_h1" in humanoids
    assert set(humanoids) < set(menagerie_names())
    assert network == []


# ---------------------------------------------------------------------------- not cached, offline
def test_not_cached_and_offline_names_the_robot_and_the_cache_path(cache, network, mm):
    where = cache / "models" / f"unitree_h1-{mm.get('unitree_h1').oid[:16]}"
    with pytest.raises(MenagerieNotCachedError) as info:
        load_menagerie("unitree_h1")
    message = str(info.value)
    assert "'unitree_h1' is not in the cache" in message
    assert str(where) in message
    assert "download" in message and "network disabled by the test" in message
    assert info.value.name == "unitree_h1" and info.value.cache_path == where
    # The package's own download ran, and failed for want of a network.
    assert isinstance(info.value.__cause__, mm.DownloadError)
    assert len(network) == 3  # three tries
    assert not mm.Cache().is_cached(mm.get("unitree_h1"))


def test_download_false_fails_at_once_without_the_network(cache, network):
    with pytest.raises(
        MenagerieNotCachedError, match=r"'unitree_h1' is not in the cache: looked in .*unitree_h1-"
    ):
        load_menagerie("unitree_h1", download=False)
    assert network == []
    assert load_menagerie(ROBOT, download=False).compile().nu == 2


# ---------------------------------------------------------------------------- the package is missing
def test_a_missing_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mujoco_menagerie", None)  # `import mujoco_menagerie` now fails
    with pytest.raises(MenagerieNotInstalledError, match=r'pip install "warplab\[menagerie\]"'):
        load_menagerie(ROBOT)
    with pytest.raises(ImportError, match="mujoco-menagerie"):
        menagerie_names()
    # A RobotCfg loads nothing until a task builds it.
    robot = menagerie_robot_cfg(
        ROBOT, joint_names=("left_hip_pitch_joint",), default_joint_pos={}, base_body="pelvis"
    )
    with pytest.raises(MenagerieNotInstalledError):
        build_robot_spec(robot)


# ---------------------------------------------------------------------------- a RobotCfg by name
def test_menagerie_robot_cfg_builds_a_task_ready_spec(cache, network):
    joints = ("left_hip_pitch_joint", "right_hip_pitch_joint")
    robot = menagerie_robot_cfg(
        ROBOT,
        joint_names=joints,
        default_joint_pos={".*_hip_pitch_joint": -0.1},
        base_body="pelvis",
        feet_bodies=("left_foot", "right_foot"),
        base_height=0.55,
        actuators=(ActuatorGroupCfg(joints=".*", kp=80.0, kd=2.0, effort_limit=88.0),),
        replace_actuators=True,
    )
    assert robot.name == ROBOT
    model = build_robot_spec(robot).compile()
    assert [model.actuator(a).name for a in range(model.nu)] == list(joints)
    assert model.actuator("left_hip_pitch_joint").gainprm[0] == 80.0
    assert model.nsensor == 0  # the motor's force sensor went with the motor
    assert model.key("home").qpos[2] == pytest.approx(0.55)
    assert model.key("home").ctrl.tolist() == pytest.approx([-0.1, -0.1])
    # Without replace_actuators, the model's motors (named apart from their joints) are refused.
    kept = menagerie_robot_cfg(ROBOT, joint_names=joints, default_joint_pos={}, base_body="pelvis")
    with pytest.raises(ValueError, match=r"driven by actuator 'left_hip_pitch'.*replace_actuators=True"):
        build_robot_spec(kept)
    assert network == []


def _oid16() -> str:
    import mujoco_menagerie as mm

    return mm.get(ROBOT).oid[:16]
