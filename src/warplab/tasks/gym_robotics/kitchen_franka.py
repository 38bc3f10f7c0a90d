"""The Franka Panda of Gymnasium-Robotics' kitchen as a ``RobotCfg``, loaded from the installed package.

A user puts it in a scene of their own as any robot: ``build_robot_spec(kitchen_franka_robot_cfg())``
gives the arm alone (no pedestal, no floor) with its 9 position servos named after their joints and a
``home`` keyframe (``docs/robots/bring_your_own.md``).
"""

from __future__ import annotations

import mujoco

from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg
from warplab.tasks.gym_robotics.assets import kitchen_franka_spec

KITCHEN_FRANKA_JOINTS: tuple[str, ...] = (
    *(f"robot:panda0_joint{i}" for i in range(1, 8)),
    "robot:panda0_finger_joint1",
    "robot:panda0_finger_joint2",
)
"""The 9 actuated joints in the package's actuator (and action) order: 7 arm hinges, 2 finger slides."""

KITCHEN_FRANKA_ACTUATORS: tuple[ActuatorGroupCfg, ...] = (
    ActuatorGroupCfg(joints="robot:panda0_joint[1-4]", kp=870.0, kd=0.0, effort_limit=87.0),
    ActuatorGroupCfg(joints="robot:panda0_joint[5-7]", kp=120.0, kd=0.0, effort_limit=12.0),
    ActuatorGroupCfg(joints="robot:panda0_finger_joint[12]", kp=500.0, kd=0.0, effort_limit=70.0),
)
"""The gains of the package's position servos (``franka_assets/actuator.xml``: kp 870 N·m/rad and
87 N·m on the shoulder and elbow, 120 and 12 on the wrist, 500 N/m and 70 N on the fingers; the
joints' own damping, 100 and 10 N·m·s/rad, does the damping), for the record and for export: the
model's own actuators drive the joints (``tests/tasks`` checks these numbers against the file)."""

KITCHEN_FRANKA_HOME: dict[str, float] = {
    "robot:panda0_joint1": 0.148388023,
    "robot:panda0_joint2": -1.7628,
    "robot:panda0_joint3": 1.84390296,
    "robot:panda0_joint4": -2.47685760,
    "robot:panda0_joint5": 0.260252026,
    "robot:panda0_joint6": 0.712533105,
    "robot:panda0_joint7": 1.59515394,
    "robot:panda0_finger_joint[12]": 0.04,
}
"""Home: the arm where the package's kitchen episodes start (its ``init_qpos[:7]``, rad) but within
the joints' ranges, which that start leaves twice: joint 2 at its lower limit, -1.7628 rad (the
package starts it at -1.7685), and the fingers open at their 0.04 m limit (the package starts them
at 0.048 and 0.037 m)."""


def kitchen_franka_actuated_spec() -> mujoco.MjSpec:
    """The arm alone (``kitchen_franka_spec``) with each servo renamed after the joint it drives
    (``r_gripper_finger_joint`` becomes ``robot:panda0_finger_joint1``): warplab's tasks address
    actuators by joint name."""
    spec = kitchen_franka_spec()
    for actuator in spec.actuators:
        actuator.name = actuator.target
    return spec


def kitchen_franka_robot_cfg() -> RobotCfg:
    """The Franka Panda of Gymnasium-Robotics' kitchen (7 hinges, 2 finger slides, 9 position
    servos), its base fixed at (0, 0, 1.8) m, for manipulation tasks.

    Action scale: 0.16 rad (m) per unit action, what the package's action (2 rad/s per unit over
    its 0.08 s step) moves a target by from the current position.
    """
    return RobotCfg(
        name="kitchen_franka",
        spec=kitchen_franka_actuated_spec,
        joint_names=KITCHEN_FRANKA_JOINTS,
        default_joint_pos=KITCHEN_FRANKA_HOME,
        base_body="panda0_link0",
        actuators=KITCHEN_FRANKA_ACTUATORS,
        action_scale=0.16,
    )
