"""RobotCfg and build_robot_spec: a user's robot without actuators (as URDF gives) becomes a task-ready spec.

Everything but the last test runs on MuJoCo's C engine and takes well under a second; the last one
builds ``make_velocity_env_cfg`` for a toy biped and steps it on the CPU with MuJoCo Warp.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg, build_robot_spec
from warplab.assets.terrain import add_flat_ground

# A biped toy with no actuators: a pelvis on a free joint, two legs of a hip and a knee, box feet.
TOY_BIPED_XML = """
<mujoco model="toy_biped">
  <compiler angle="radian" autolimits="true"/>
  <worldbody>
    <body name="pelvis" pos="0 0 0.6">
      <freejoint name="root"/>
      <geom name="pelvis" type="box" size="0.08 0.12 0.05" mass="4"/>
      <body name="left_thigh" pos="0 0.08 -0.05">
        <joint name="left_hip" axis="0 1 0" range="-1.5 1.5"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.25" size="0.03" mass="1"/>
        <body name="left_shin" pos="0 0 -0.25">
          <joint name="left_knee" axis="0 1 0" range="0 2.5"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.25" size="0.025" mass="0.6"/>
          <body name="left_foot" pos="0 0 -0.25">
            <geom name="left_sole" type="box" size="0.07 0.03 0.02" pos="0.02 0 0" mass="0.3"/>
          </body>
        </body>
      </body>
      <body name="right_thigh" pos="0 -0.08 -0.05">
        <joint name="right_hip" axis="0 1 0" range="-1.5 1.5"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.25" size="0.03" mass="1"/>
        <body name="right_shin" pos="0 0 -0.25">
          <joint name="right_knee" axis="0 1 0" range="0 2.5"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.25" size="0.025" mass="0.6"/>
          <body name="right_foot" pos="0 0 -0.25">
            <geom name="right_sole" type="box" size="0.07 0.03 0.02" pos="0.02 0 0" mass="0.3"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""
JOINTS = ("left_hip", "left_knee", "right_hip", "right_knee")
HIP = ActuatorGroupCfg(joints=".*_hip", kp=40.0, kd=1.0, effort_limit=20.0, armature=0.01)
KNEE = ActuatorGroupCfg(joints=".*_knee", kp=60.0, kd=1.5, effort_limit=30.0)
# The pelvis height that sets the lowest corner of the soles (tilted by hip + knee = 0.2 rad in the
# home pose) on the floor: 0.5775 m, measured as docs/robots/bring_your_own.md shows, rounded up.
BASE_HEIGHT = 0.578


def toy_biped(**fields) -> RobotCfg:
    """The toy biped as a RobotCfg; ``fields`` replace its fields."""
    robot = RobotCfg(
        name="toy_biped",
        spec=lambda: mujoco.MjSpec.from_string(TOY_BIPED_XML),
        joint_names=JOINTS,
        default_joint_pos={".*_hip": -0.2, ".*_knee": 0.4},
        base_body="pelvis",
        feet_bodies=("left_foot", "right_foot"),
        base_height=BASE_HEIGHT,
        actuators=(HIP, KNEE),
        action_scale={".*_hip": 0.5, ".*_knee": 0.25},
    )
    return dataclasses.replace(robot, **fields)


def _from_xml(xml: str):
    return lambda: mujoco.MjSpec.from_string(xml)


# ---------------------------------------------------------------------------- actuators and home
def test_adds_position_actuators_with_the_cfg_gains_and_effort_limits():
    model = build_robot_spec(toy_biped()).compile()
    assert [model.actuator(a).name for a in range(model.nu)] == list(JOINTS)
    for name in JOINTS:
        group = HIP if name.endswith("hip") else KNEE
        act = model.actuator(name)
        joint = model.joint(name)
        assert act.trntype[0] == mujoco.mjtTrn.mjTRN_JOINT and act.trnid[0] == joint.id
        # A position servo: force = kp * ctrl - kp * qpos - kd * qvel.
        assert act.gaintype[0] == mujoco.mjtGain.mjGAIN_FIXED
        assert act.biastype[0] == mujoco.mjtBias.mjBIAS_AFFINE
        np.testing.assert_allclose(act.gainprm[:3], [group.kp, 0, 0])
        np.testing.assert_allclose(act.biasprm[:3], [0, -group.kp, -group.kd])
        assert act.forcelimited[0] == 1
        np.testing.assert_allclose(act.forcerange, [-group.effort_limit, group.effort_limit])
        expected_armature = group.armature if group.armature is not None else 0.0
        assert model.dof_armature[joint.dofadr[0]] == pytest.approx(expected_armature)


def test_the_first_matching_actuator_group_wins():
    catch_all = ActuatorGroupCfg(joints=".*", kp=1.0, kd=0.1, effort_limit=5.0)
    model = build_robot_spec(toy_biped(actuators=(HIP, catch_all))).compile()
    assert model.actuator("left_hip").gainprm[0] == HIP.kp
    assert model.actuator("left_knee").gainprm[0] == catch_all.kp


def test_home_keyframe_holds_the_default_pose_and_base_height():
    robot = toy_biped()
    model = build_robot_spec(robot).compile()
    assert [model.key(k).name for k in range(model.nkey)] == ["home"]
    home = model.key("home")
    np.testing.assert_allclose(home.qpos[:7], [0, 0, BASE_HEIGHT, 1, 0, 0, 0])
    pose = {"left_hip": -0.2, "left_knee": 0.4, "right_hip": -0.2, "right_knee": 0.4}
    for name, value in pose.items():
        assert home.qpos[model.joint(name).qposadr[0]] == pytest.approx(value)
    # The servos hold the pose: each target is its joint's default position.
    np.testing.assert_allclose(home.ctrl, [pose[n] for n in JOINTS])
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, home.id)
    mujoco.mj_forward(model, data)
    assert data.xpos[model.body("pelvis").id][2] == pytest.approx(BASE_HEIGHT)


def test_the_home_pose_stands_the_toy_on_the_floor():
    # The recipe of docs/robots/bring_your_own.md for measuring base_height, on the toy.
    robot = toy_biped()
    model = add_flat_ground(build_robot_spec(robot)).compile()
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    floor = model.geom("floor").id
    gaps = [
        mujoco.mj_geomDistance(model, data, floor, model.geom(g).id, 10.0, None)
        for g in ("left_sole", "right_sole")
    ]
    assert gaps == pytest.approx([0.0005, 0.0005], abs=1e-4)


def test_an_existing_home_keyframe_is_replaced_and_other_keyframes_kept():
    xml = TOY_BIPED_XML.replace(
        "</worldbody>",
        '</worldbody><keyframe><key name="home" qpos="0 0 1 1 0 0 0 0 0 0 0"/>'
        '<key name="crouch" qpos="0 0 0.4 1 0 0 0 -1 2 -1 2"/></keyframe>',
    )
    model = build_robot_spec(toy_biped(spec=_from_xml(xml))).compile()
    assert sorted(model.key(k).name for k in range(model.nkey)) == ["crouch", "home"]
    assert model.key("home").qpos[2] == pytest.approx(BASE_HEIGHT)


def test_a_model_with_its_own_position_actuators_keeps_them():
    xml = TOY_BIPED_XML.replace(
        "</worldbody>",
        '</worldbody><actuator><position name="left_hip" joint="left_hip" kp="99"/></actuator>',
    )
    model = build_robot_spec(toy_biped(spec=_from_xml(xml))).compile()
    assert model.nu == 4 and model.actuator("left_hip").gainprm[0] == 99.0
    assert model.key("home").ctrl[model.actuator("left_hip").id] == pytest.approx(-0.2)


def test_replace_actuators_swaps_motors_for_the_cfg_servos():
    # Menagerie-style: torque motors named apart from their joints, a sensor of their force, a
    # keyframe with controls for them.
    xml = TOY_BIPED_XML.replace(
        "</worldbody>",
        "</worldbody><actuator>"
        + "".join(f'<motor name="{j}_motor" joint="{j}" gear="1"/>' for j in JOINTS)
        + '</actuator><sensor><actuatorfrc name="left_hip_torque" actuator="left_hip_motor"/></sensor>'
        '<keyframe><key name="stand" qpos="0 0 0.6 1 0 0 0 0 0 0 0" ctrl="1 2 3 4"/></keyframe>',
    )
    with pytest.raises(ValueError, match=r"'toy_biped'.*'left_hip' is driven by actuator 'left_hip_motor'"):
        build_robot_spec(toy_biped(spec=_from_xml(xml)))
    model = build_robot_spec(toy_biped(spec=_from_xml(xml), replace_actuators=True)).compile()
    assert [model.actuator(a).name for a in range(model.nu)] == list(JOINTS)
    assert model.actuator("left_knee").gainprm[0] == KNEE.kp
    assert model.nsensor == 0
    np.testing.assert_allclose(model.key("stand").ctrl, 0.0)


# ---------------------------------------------------------------------------- URDF
URDF_INERTIAL = '<inertial><mass value="{m}"/><inertia ixx="1e-3" iyy="1e-3" izz="1e-3" ixy="0" ixz="0" iyz="0"/></inertial>'
TOY_URDF = f"""
<robot name="toy_urdf">
  <link name="base">{URDF_INERTIAL.format(m=3)}
    <collision><geometry><box size="0.2 0.2 0.1"/></geometry></collision></link>
  <link name="leg">{URDF_INERTIAL.format(m=0.5)}
    <collision><origin xyz="0 0 -0.1"/><geometry><cylinder radius="0.02" length="0.2"/></geometry></collision></link>
  <link name="foot">{URDF_INERTIAL.format(m=0.2)}
    <collision><geometry><sphere radius="0.03"/></geometry></collision></link>
  <joint name="hip" type="revolute"><parent link="base"/><child link="leg"/><origin xyz="0 0 -0.05"/>
    <axis xyz="0 1 0"/><limit lower="-1" upper="1" effort="20" velocity="10"/></joint>
  <joint name="foot_mount" type="fixed"><parent link="leg"/><child link="foot"/><origin xyz="0 0 -0.2"/></joint>
</robot>
"""


def _urdf_spec(fusestatic: bool) -> mujoco.MjSpec:
    # MuJoCo compiles URDF itself; a URDF has no actuators and no floating joint, so add the latter.
    spec = mujoco.MjSpec.from_string(TOY_URDF)
    spec.compiler.fusestatic = fusestatic
    spec.body("base").add_freejoint()
    return spec


def _urdf_robot(fusestatic: bool) -> RobotCfg:
    return RobotCfg(
        name="toy_urdf",
        spec=lambda: _urdf_spec(fusestatic),
        joint_names=("hip",),
        default_joint_pos={"hip": 0.3},
        base_body="base",
        feet_bodies=("foot",),
        base_height=0.3,
        actuators=(ActuatorGroupCfg(joints="hip", kp=25.0, kd=0.5, effort_limit=20.0),),
    )


def test_a_urdf_robot_gets_actuators_and_a_home_keyframe():
    model = build_robot_spec(_urdf_robot(fusestatic=False)).compile()
    assert model.nu == 1 and model.actuator("hip").gainprm[0] == 25.0
    np.testing.assert_allclose(model.actuator("hip").forcerange, [-20.0, 20.0])
    np.testing.assert_allclose(model.jnt_range[model.joint("hip").id], [-1.0, 1.0])  # from <limit>
    assert model.key("home").qpos[2] == pytest.approx(0.3)
    assert model.key("home").qpos[model.joint("hip").qposadr[0]] == pytest.approx(0.3)


def test_a_urdf_foot_fused_into_its_parent_is_named():
    # MuJoCo's URDF import fuses links without joints into their parents unless told not to.
    with pytest.raises(ValueError, match=r"'toy_urdf'.*feet_bodies 'foot'.*fusestatic = False"):
        build_robot_spec(_urdf_robot(fusestatic=True))


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"joint_names": (*JOINTS, "left_ankle")},
            r"'toy_biped'.*joints \['left_ankle'\] are not in the model",
        ),
        ({"joint_names": ("root", *JOINTS)}, r"'toy_biped'.*joint 'root' is a mjJNT_FREE joint"),
        (
            {"default_joint_pos": {".*_knee": -0.3}},
            r"'toy_biped'.*-0.3 of 'left_knee' is outside its range \[0",
        ),
        ({"default_joint_pos": {"knee": 0.3}}, r"'toy_biped'.*default_joint_pos pattern 'knee' matches none"),
        ({"actuators": (HIP,)}, r"'toy_biped'.*joint 'left_knee' has no actuator .* no ActuatorGroupCfg"),
        (
            {"action_scale": {"hip.*": 0.5, ".*": 0.2}},
            r"'toy_biped'.*action_scale pattern 'hip.\*' matches none",
        ),
        (
            {"feet_bodies": ("left_foot", "right_feet")},
            r"'toy_biped'.*feet_bodies 'right_feet' is not a body",
        ),
        ({"base_body": "torso"}, r"'toy_biped'.*base_body 'torso' is not a body"),
    ],
)
def test_mistakes_raise_value_errors_that_name_the_robot_and_the_part(fields, message):
    with pytest.raises(ValueError, match=message):
        build_robot_spec(toy_biped(**fields))


def test_default_pose_of_an_unmatched_joint_is_zero_and_checked_against_its_range():
    # The knees' range starts at 0, so an unmatched knee (default 0) is allowed; a hip at 0 too.
    model = build_robot_spec(toy_biped(default_joint_pos={})).compile()
    np.testing.assert_allclose(model.key("home").qpos[7:], 0.0)


# ---------------------------------------------------------------------------- resolve, action scales
def test_resolve_maps_regex_dicts_to_joint_order_first_match_wins():
    robot = toy_biped()
    np.testing.assert_allclose(robot.resolve({"left_.*": 1.0, ".*_hip": 2.0}), [1.0, 1.0, 2.0, 0.0])
    np.testing.assert_allclose(robot.resolve({"right_knee": 3.0}, default=-1.0), [-1.0, -1.0, -1.0, 3.0])
    # Full match: "hip" alone matches no joint name.
    np.testing.assert_allclose(robot.resolve({"hip": 5.0}), [0.0] * 4)
    np.testing.assert_allclose(robot.resolve({".*": 7.0}, joints=("left_hip", "right_hip")), [7.0, 7.0])


def test_action_scales_from_a_number_or_a_regex_dict():
    np.testing.assert_allclose(toy_biped().action_scales(), [0.5, 0.25, 0.5, 0.25])
    np.testing.assert_allclose(toy_biped(action_scale=0.3).action_scales(), [0.3] * 4)
    with pytest.raises(ValueError, match=r"'toy_biped'.*matches joints \['left_knee', 'right_knee'\]"):
        toy_biped(action_scale={".*_hip": 0.5}).action_scales()


def test_the_project_humanoid_cfg_matches_its_model():
    from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG

    robot = HUMANOID_ROBOT_CFG
    model = build_robot_spec(robot).compile()
    for group in robot.actuators:
        act = model.actuator(group.joints)
        assert act.gainprm[0] == pytest.approx(group.kp)
        assert -act.biasprm[2] == pytest.approx(group.kd)
        np.testing.assert_allclose(act.forcerange, [-group.effort_limit, group.effort_limit])


# ---------------------------------------------------------------------------- a user robot in a task
@pytest.fixture
def one_thread():
    # The test machines share two cores; two worlds of a toy need no more than one.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_a_user_robot_plugs_into_the_velocity_task(monkeypatch, one_thread):
    import warplab
    from warplab.tasks import registry
    from warplab.tasks.velocity import make_velocity_agent_cfg, make_velocity_env_cfg

    registry.list_tasks()  # registers the built-in tasks before the registry is swapped for a copy
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))
    robot = toy_biped()
    warplab.register_task(
        "toy-biped-velocity",
        lambda play=False: make_velocity_env_cfg(robot, play=play),
        lambda: make_velocity_agent_cfg("toy-biped-velocity"),
    )
    env = warplab.make("toy-biped-velocity", 2, device="cpu", seed=0)
    assert env.num_envs == 2 and env.action_dim == len(JOINTS)
    obs, _ = env.reset(seed=0)
    # The reset pose is the home keyframe: the base starts at the standing height.
    assert torch.allclose(env.sim.init_qpos[2], torch.tensor(BASE_HEIGHT, dtype=env.sim.init_qpos.dtype))
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        action = 2 * torch.rand(2, env.action_dim, generator=gen) - 1
        obs, reward, terminated, truncated, _ = env.step(action)
        assert all(torch.isfinite(v).all() for v in obs.values())
        assert reward.shape == (2,) and torch.isfinite(reward).all()
