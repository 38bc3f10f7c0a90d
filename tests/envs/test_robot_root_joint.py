"""The robot's floating base is the free joint its actuated joints hang from, never another free body."""

from __future__ import annotations

import mujoco

from warplab.envs.scene_index import robot_root_joint

BOX = (
    '<body name="box" pos="1 0 0.1"><freejoint name="box_free"/><geom type="box" size=".05 .05 .05"/></body>'
)
ROBOT = """
<body name="{name}" pos="0 0 1">{free}
  <geom type="sphere" size=".1"/>
  <body name="link"><joint name="hinge" axis="0 1 0"/><geom type="capsule" fromto="0 0 0 0 0 -.3" size=".03"/></body>
</body>"""


def _model(robot_free: bool, actuated: bool = True, box_first: bool = True) -> mujoco.MjModel:
    robot = ROBOT.format(name="base", free='<freejoint name="base_free"/>' if robot_free else "")
    bodies = BOX + robot if box_first else robot + BOX
    actuator = '<actuator><position joint="hinge" kp="10"/></actuator>' if actuated else ""
    return mujoco.MjModel.from_xml_string(f"<mujoco><worldbody>{bodies}</worldbody>{actuator}</mujoco>")


def _name(m: mujoco.MjModel, joint: int | None) -> str | None:
    return None if joint is None else m.joint(joint).name


def test_a_floating_robot_after_a_free_box_has_its_own_base():
    m = _model(robot_free=True)
    assert m.joint(0).name == "box_free"  # the first free joint of the model is the box's
    assert _name(m, robot_root_joint(m)) == "base_free"
    after = _model(robot_free=True, box_first=False)
    assert _name(after, robot_root_joint(after)) == "base_free"


def test_a_robot_fixed_to_the_world_has_no_base_whatever_free_bodies_the_scene_holds():
    assert robot_root_joint(_model(robot_free=False)) is None


def test_a_model_without_joint_actuators_takes_its_first_free_joint():
    m = _model(robot_free=True, actuated=False)
    assert _name(m, robot_root_joint(m)) == "box_free"
    assert robot_root_joint(mujoco.MjModel.from_xml_string("<mujoco><worldbody/></mujoco>")) is None
