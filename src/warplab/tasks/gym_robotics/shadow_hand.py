"""The Shadow Dexterous Hand of Gymnasium-Robotics as a ``RobotCfg``, loaded from the installed package.

This is how a user's own hand plugs into warplab: a function that returns the robot alone as an
``MjSpec`` (here composed from the package's files at run time, never copied), the actuated joints in
action order, a home pose and the actuator gains. ``build_robot_spec(shadow_hand_robot_cfg())`` gives
the spec a scene adds a floor and objects to (``docs/robots/bring_your_own.md``).
"""

from __future__ import annotations

import mujoco

from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg
from warplab.tasks.gym_robotics.assets import shadow_hand_spec

SHADOW_HAND_JOINTS: tuple[str, ...] = tuple(
    f"robot0:{j}"
    for j in (
        "WRJ1", "WRJ0",
        "FFJ3", "FFJ2", "FFJ1",
        "MFJ3", "MFJ2", "MFJ1",
        "RFJ3", "RFJ2", "RFJ1",
        "LFJ4", "LFJ3", "LFJ2", "LFJ1",
        "THJ4", "THJ3", "THJ2", "THJ1", "THJ0",
    )
)  # fmt: skip
"""The 20 actuated joints in the package's actuator (and action) order. The distal joints of the
four fingers (``FFJ0``, ``MFJ0``, ``RFJ0``, ``LFJ0``) have no actuator: a fixed tendon with a
±1 mm range couples each to the joint before it, as in the real hand."""

SHADOW_HAND_ACTUATORS: tuple[ActuatorGroupCfg, ...] = (
    ActuatorGroupCfg(joints="robot0:WRJ1", kp=5.0, kd=0.0, effort_limit=4.785),
    ActuatorGroupCfg(joints="robot0:WRJ0", kp=5.0, kd=0.0, effort_limit=2.175),
    ActuatorGroupCfg(joints="robot0:(FF|MF|RF|LF)J[23]|robot0:LFJ4", kp=1.0, kd=0.0, effort_limit=0.9),
    ActuatorGroupCfg(joints="robot0:(FF|MF|RF|LF)J1", kp=1.0, kd=0.0, effort_limit=0.7245),
    ActuatorGroupCfg(joints="robot0:THJ4", kp=1.0, kd=0.0, effort_limit=2.3722),
    ActuatorGroupCfg(joints="robot0:THJ3", kp=1.0, kd=0.0, effort_limit=1.45),
    ActuatorGroupCfg(joints="robot0:THJ[21]", kp=1.0, kd=0.0, effort_limit=0.99),
    ActuatorGroupCfg(joints="robot0:THJ0", kp=1.0, kd=0.0, effort_limit=0.81),
)
"""The gains of the package's position actuators (``hand/shared.xml``: kp 5 at the wrist, 1 on the
fingers, no velocity gain; each with its own force range, N·m), for the record and for export: the
model's own actuators drive the joints (``tests/tasks`` checks these numbers against the file)."""


def shadow_hand_actuated_spec() -> mujoco.MjSpec:
    """The hand alone (``shadow_hand_spec``) with each actuator renamed after the joint it drives
    (``robot0:A_FFJ3`` becomes ``robot0:FFJ3``): warplab's tasks address actuators by joint name."""
    spec = shadow_hand_spec()
    for actuator in spec.actuators:
        actuator.name = actuator.target
    return spec


def shadow_hand_robot_cfg() -> RobotCfg:
    """The Shadow hand of Gymnasium-Robotics (24 hinge joints, 20 position actuators), fixed at the
    forearm, for manipulation tasks.

    Home pose: every joint at 0 (the open, flat hand, where the package's episodes start), servo
    targets there too. Action scale: half of each joint's actuator range, rad per unit action.
    """
    return RobotCfg(
        name="shadow_hand",
        spec=shadow_hand_actuated_spec,
        joint_names=SHADOW_HAND_JOINTS,
        default_joint_pos={".*": 0.0},
        base_body="robot0:forearm",
        actuators=SHADOW_HAND_ACTUATORS,
        action_scale={
            "robot0:WRJ1": 0.3145,
            "robot0:WRJ0": 0.5935,
            "robot0:(FF|MF|RF|LF)J3": 0.349,
            "robot0:(FF|MF|RF|LF)J[21]": 0.7855,
            "robot0:LFJ4": 0.3925,
            "robot0:THJ4": 1.047,
            "robot0:THJ3": 0.611,
            "robot0:THJ2": 0.209,
            "robot0:THJ1": 0.524,
            "robot0:THJ0": 0.7855,
        },
    )
