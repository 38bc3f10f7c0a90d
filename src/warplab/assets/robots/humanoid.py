"""warplab's own humanoid: a 1.3 m, 35 kg biped in the class of a Unitree G1, with 21 actuated joints.

Per leg six joints (hip pitch, hip roll, hip yaw, knee, ankle pitch, ankle roll), one waist yaw,
per arm four (shoulder pitch, shoulder roll, shoulder yaw, elbow), and a free joint on the pelvis.
Every joint is driven by a position actuator whose stiffness, damping and torque limit come from
the motor table ``MOTORS`` below; ``docs/robots/humanoid.md`` gives the sources of the numbers and
the reasons for the gains.

Frames: x forward, y left, z up. Every pitch joint turns about +y of its parent, so a positive
pitch swings the limb backwards (knee flexion and toes-down are positive; hip, shoulder and elbow
flexion are negative). Roll joints turn about +x (positive: the left limb moves outwards), yaw
joints about +z.

Geometry: each link's shape is a few primitives with explicit masses; the compiler derives each
body's inertia from them (``inertiafromgeom``), so the inertias are those of real solids. Geoms in
group 0 collide and carry mass, group 1 carries mass only, group 2 is decoration without mass.
"""

from __future__ import annotations

import dataclasses
import math
import re

import mujoco

from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg
from warplab.assets.terrain import add_flat_ground

# ---------------------------------------------------------------------------- motors and gains
# Two rules set each joint's stiffness kp, and the larger wins. The armature rule (the field's):
# kp = armature * (2 pi * 10 Hz)^2, with kd for a damping ratio of 2, so a joint that moves only its
# own rotor settles in a few tens of milliseconds without overshoot. The stance rule: the leg joints
# must hold the robot up in the ``home`` pose with no policy; standing on stiff position servos is an
# inverted pendulum whose gravity stiffness (m g h about the ankles, ~210 N·m/rad) the armature rule
# does not reach (with it alone the robot falls over within 1.5 s).
NATURAL_FREQ_HZ = 10.0
"""Natural frequency of each joint's PD loop against its reflected rotor inertia (armature)."""
DAMPING_RATIO = 2.0
"""Damping ratio of each joint's PD loop: overdamped, so targets are approached without overshoot."""


@dataclasses.dataclass(frozen=True)
class Motor:
    """One class of joint actuator: a motor behind a reduction."""

    effort_limit: float
    """Peak joint torque, N·m (the actuator's ``forcerange``)."""
    rotor_inertia: float
    """Rotor inertia of the motor, kg·m²."""
    gear_ratio: float
    """Reduction between motor and joint."""
    damping: float
    """Viscous friction of the drive at the joint, N·m·s/rad (the joint's ``damping``)."""
    stance_kp: float = 0.0
    """Stiffness the joint needs to hold the ``home`` pose without a policy, N·m/rad (0: none)."""

    @property
    def armature(self) -> float:
        """Reflected rotor inertia at the joint, kg·m²: rotor inertia times the gear ratio squared."""
        return self.rotor_inertia * self.gear_ratio**2

    @property
    def kp(self) -> float:
        """Position gain, N·m/rad: armature * omega², or ``stance_kp`` where that is higher."""
        omega = 2.0 * math.pi * NATURAL_FREQ_HZ
        return max(self.armature * omega**2, self.stance_kp)

    @property
    def kd(self) -> float:
        """Velocity gain, N·m·s/rad: 2 * damping ratio * sqrt(kp * armature)."""
        return 2.0 * DAMPING_RATIO * math.sqrt(self.kp * self.armature)


MOTORS: dict[str, Motor] = {
    # Hip pitch, roll and yaw: a 100 N·m-class quasi-direct-drive joint.
    "hip": Motor(effort_limit=100.0, rotor_inertia=6.0e-5, gear_ratio=16.0, damping=0.2, stance_kp=100.0),
    # Knee: the strongest joint, 140 N·m class.
    "knee": Motor(effort_limit=140.0, rotor_inertia=7.0e-5, gear_ratio=20.0, damping=0.2, stance_kp=250.0),
    # Ankle pitch and roll: two small motors in the shin drive the foot through rods (a parallel
    # ankle); their torques add, and so do their reflected inertias.
    "ankle": Motor(
        effort_limit=45.0, rotor_inertia=2 * 2.5e-5, gear_ratio=14.0, damping=0.1, stance_kp=250.0
    ),
    # Waist yaw: the hip's motor and gearbox, rated lower (90 N·m) for its output stage.
    "waist": Motor(effort_limit=90.0, rotor_inertia=6.0e-5, gear_ratio=16.0, damping=0.2),
    # Shoulders and elbows: a small 25 N·m-class joint.
    "arm": Motor(effort_limit=25.0, rotor_inertia=1.6e-5, gear_ratio=25.0, damping=0.1),
}

# Each actuated joint in action order: (name, motor class, range in rad, home position in rad).
_JOINTS: tuple[tuple[str, str, tuple[float, float], float], ...] = (
    ("left_hip_pitch", "hip", (-2.4, 1.2), -0.2),
    ("left_hip_roll", "hip", (-0.5, 1.0), 0.0),
    ("left_hip_yaw", "hip", (-1.2, 1.2), 0.0),
    ("left_knee", "knee", (0.0, 2.6), 0.45),
    ("left_ankle_pitch", "ankle", (-0.87, 0.52), -0.25),
    ("left_ankle_roll", "ankle", (-0.4, 0.4), 0.0),
    ("right_hip_pitch", "hip", (-2.4, 1.2), -0.2),
    ("right_hip_roll", "hip", (-1.0, 0.5), 0.0),
    ("right_hip_yaw", "hip", (-1.2, 1.2), 0.0),
    ("right_knee", "knee", (0.0, 2.6), 0.45),
    ("right_ankle_pitch", "ankle", (-0.87, 0.52), -0.25),
    ("right_ankle_roll", "ankle", (-0.4, 0.4), 0.0),
    ("waist_yaw", "waist", (-2.4, 2.4), 0.0),
    ("left_shoulder_pitch", "arm", (-3.0, 1.5), 0.1),
    ("left_shoulder_roll", "arm", (-0.35, 2.8), 0.15),
    ("left_shoulder_yaw", "arm", (-2.0, 2.0), 0.0),
    ("left_elbow", "arm", (-2.6, 0.1), -0.8),
    ("right_shoulder_pitch", "arm", (-3.0, 1.5), 0.1),
    ("right_shoulder_roll", "arm", (-2.8, 0.35), -0.15),
    ("right_shoulder_yaw", "arm", (-2.0, 2.0), 0.0),
    ("right_elbow", "arm", (-2.6, 0.1), -0.8),
)

STANDING_BASE_HEIGHT = 0.68969
"""Pelvis height in the ``home`` pose, m: 0.06 (pelvis to hip) + 0.30 * cos(0.2) (thigh) +
0.30 * cos(0.25) (shin) + 0.045 (ankle above sole) = 0.689692, rounded down so that the soles sit a
few micrometres into the floor at z = 0 and touch it."""

# The model. The {placeholders} (motor classes, actuators, joint ranges, the home keyframe) are
# filled from MOTORS and _JOINTS by _humanoid_xml(), so those tables are the only source of the numbers.
_LEFT_LEG = """
      <!-- Left leg. -->
      <body name="left_hip_pitch_link" pos="0 0.09 -0.06">
        <joint name="left_hip_pitch" class="hip" axis="0 1 0" range="{left_hip_pitch}"/>
        <geom class="visual" type="cylinder" fromto="0 0.005 0 0 0.065 0" size="0.05" mass="1.3"/>
        <body name="left_hip_roll_link" pos="0 0 -0.04">
          <joint name="left_hip_roll" class="hip" axis="1 0 0" range="{left_hip_roll}"/>
          <geom class="visual" type="cylinder" fromto="-0.045 0 -0.01 0.045 0 -0.01" size="0.05" mass="1.3"/>
          <body name="left_hip_yaw_link" pos="0 0 -0.04">
            <joint name="left_hip_yaw" class="hip" axis="0 0 1" range="{left_hip_yaw}"/>
            <geom name="left_thigh" class="left_leg" type="capsule" fromto="0 0 -0.03 0 0 -0.19" size="0.055" mass="2.0"/>
            <geom class="visual" type="cylinder" fromto="0 -0.045 -0.22 0 0.045 -0.22" size="0.05" mass="0.6"/>
            <body name="left_knee_link" pos="0 0 -0.22">
              <joint name="left_knee" class="knee" axis="0 1 0" range="{left_knee}"/>
              <geom name="left_shin" class="left_leg" type="capsule" fromto="0 0 -0.04 0 0 -0.25" size="0.045" mass="1.5"/>
              <geom class="visual" type="box" size="0.03 0.04 0.05" pos="-0.035 0 -0.1" mass="0.5"/>
              <geom class="decor" type="sphere" size="0.032" pos="0.03 0 0"/>
              <body name="left_ankle_pitch_link" pos="0 0 -0.3">
                <joint name="left_ankle_pitch" class="ankle" axis="0 1 0" range="{left_ankle_pitch}"/>
                <geom class="visual" type="sphere" size="0.025" mass="0.1"/>
                <body name="left_ankle_roll_link">
                  <joint name="left_ankle_roll" class="ankle" axis="1 0 0" range="{left_ankle_roll}"/>
                  <site name="left_ankle" size="0.01"/>
                  <geom name="left_sole" class="left_leg" type="box" size="0.11 0.0425 0.0175" pos="0.04 0 -0.0275" mass="0.7" material="sole"/>
                  <geom class="decor" type="box" size="0.075 0.035 0.012" pos="0.03 0 -0.004" material="shell"/>
                  <site name="left_sole_site" type="box" size="0.115 0.047 0.012" pos="0.04 0 -0.045"/>
                </body>
              </body>
            </body>
          </body>
        </body>
      </body>"""

_LEFT_ARM = """
        <!-- Left arm. -->
        <body name="left_shoulder_pitch_link" pos="0 0.13 0.28">
          <joint name="left_shoulder_pitch" class="arm" axis="0 1 0" range="{left_shoulder_pitch}"/>
          <geom class="visual" type="cylinder" fromto="0 -0.015 0 0 0.035 0" size="0.045" mass="0.7"/>
          <body name="left_shoulder_roll_link" pos="0 0.06 0">
            <joint name="left_shoulder_roll" class="arm" axis="1 0 0" range="{left_shoulder_roll}"/>
            <geom class="visual" type="sphere" size="0.045" mass="0.6" material="shell"/>
            <body name="left_shoulder_yaw_link" pos="0 0 -0.06">
              <joint name="left_shoulder_yaw" class="arm" axis="0 0 1" range="{left_shoulder_yaw}"/>
              <geom name="left_upper_arm" class="body" type="capsule" fromto="0 0 -0.01 0 0 -0.1" size="0.038" mass="0.7"/>
              <geom class="visual" type="cylinder" fromto="0 -0.035 -0.14 0 0.035 -0.14" size="0.035" mass="0.3"/>
              <body name="left_elbow_link" pos="0 0 -0.14">
                <joint name="left_elbow" class="arm" axis="0 1 0" range="{left_elbow}"/>
                <geom name="left_forearm" class="forearm" type="capsule" fromto="0 0 -0.03 0 0 -0.16" size="0.032" mass="0.45" material="shell"/>
                <geom name="left_hand" class="forearm" type="sphere" size="0.042" pos="0 0 -0.205" mass="0.25"/>
              </body>
            </body>
          </body>
        </body>"""


def _mirror_left_to_right(xml: str) -> str:
    """The right limb from the left one: names and classes ``left_*`` become ``right_*`` and every
    ``pos`` and ``fromto`` is mirrored in the x-z plane (y negated). Joint axes stay as they are, so a
    positive roll or yaw moves each limb outwards or turns it the same way relative to its side,
    per the ranges in ``_JOINTS``."""

    def negate_y(match: re.Match) -> str:
        values = [float(v) for v in match.group(2).split()]
        for i in range(1, len(values), 3):
            values[i] = -values[i] + 0.0  # + 0.0 turns -0.0 into 0.0
        return f'{match.group(1)}="{" ".join(f"{v:g}" for v in values)}"'

    xml = re.sub(r'\b(pos|fromto)="([^"]*)"', negate_y, xml)
    return xml.replace("left_", "right_").replace("<!-- Left", "<!-- Right")


def _with_mirrored_limbs(template: str) -> str:
    """Puts the left limbs and their mirror images into the model template."""
    limbs = {
        "{LEFT_LEG}": _LEFT_LEG.strip("\n"),
        "{RIGHT_LEG}": _mirror_left_to_right(_LEFT_LEG).strip("\n"),
        "{LEFT_ARM}": _LEFT_ARM.strip("\n"),
        "{RIGHT_ARM}": _mirror_left_to_right(_LEFT_ARM).strip("\n"),
    }
    for marker, xml in limbs.items():
        template = template.replace(marker, xml)
    return template


HUMANOID_XML_TEMPLATE = _with_mirrored_limbs("""
<mujoco model="warplab_humanoid">
  <compiler angle="radian" autolimits="true" inertiafromgeom="true" inertiagrouprange="0 1"/>
  <option timestep="0.005" integrator="implicitfast"/>
  <visual>
    <global offwidth="1280" offheight="720"/>
    <quality shadowsize="4096"/>
  </visual>

  <asset>
    <material name="shell" rgba="0.92 0.93 0.95 1" specular="0.5" shininess="0.6"/>
    <material name="joint" rgba="0.17 0.18 0.21 1" specular="0.3" shininess="0.4"/>
    <material name="accent" rgba="0.97 0.45 0.08 1" specular="0.4" shininess="0.5"/>
    <material name="visor" rgba="0.04 0.06 0.09 1" specular="1" shininess="0.9" reflectance="0.3"/>
    <material name="sole" rgba="0.09 0.09 0.10 1" specular="0.1"/>
  </asset>

  <default>
    <default class="humanoid">
      <geom condim="3" material="shell"/>
      <site group="5" rgba="0.9 0.2 0.2 0.5"/>
      <!-- Collision bits: 1 the world (the floor, terrain, objects), 2 the left leg, 4 the right leg,
           8 the body and upper arms, 16 the forearms. Each leg collides with the other leg; the
           forearms collide with the body and the other arm; everything collides with the world. -->
      <default class="left_leg"><geom contype="2" conaffinity="5"/></default>
      <default class="right_leg"><geom contype="4" conaffinity="3"/></default>
      <default class="body"><geom contype="8" conaffinity="17"/></default>
      <default class="forearm"><geom contype="16" conaffinity="9" material="joint"/></default>
      <!-- Parts that carry mass but never collide (motor housings, brackets). -->
      <default class="visual"><geom contype="0" conaffinity="0" group="1" material="joint"/></default>
      <!-- Decoration without mass (inertiagrouprange stops at group 1). -->
      <default class="decor"><geom contype="0" conaffinity="0" group="2" material="accent"/></default>
{motor_classes}
    </default>
  </default>

  <worldbody>
    <body name="pelvis" pos="0 0 {base_height}" childclass="humanoid">
      <freejoint name="floating_base"/>
      <camera name="track" mode="trackcom" pos="1.7 -1.7 0.3" xyaxes="0.707 0.707 0 -0.044 0.044 0.998"/>
      <site name="imu" size="0.01"/>
      <geom name="pelvis" class="body" type="box" size="0.07 0.11 0.055" mass="4.5"/>
      <geom class="decor" type="box" size="0.003 0.06 0.012" pos="0.071 0 0.02"/>

{LEFT_LEG}

{RIGHT_LEG}

      <!-- Upper body. -->
      <body name="torso" pos="0 0 0.06">
        <joint name="waist_yaw" class="waist" axis="0 0 1" range="{waist_yaw}"/>
        <site name="torso_imu" pos="0 0 0.1" size="0.01"/>
        <geom class="visual" type="cylinder" fromto="0 0 -0.005 0 0 0.06" size="0.06" mass="0.9"/>
        <geom name="chest" class="body" type="box" size="0.085 0.115 0.13" pos="0 0 0.19" mass="6.4"/>
        <geom class="decor" type="box" size="0.003 0.07 0.01" pos="0.086 0 0.27"/>
        <geom class="visual" type="cylinder" fromto="0 0 0.32 0 0 0.37" size="0.03" mass="0.2"/>
        <geom name="head" class="body" type="sphere" size="0.09" pos="0 0 0.45" mass="1.0"/>
        <geom class="decor" type="ellipsoid" size="0.06 0.075 0.032" pos="0.038 0 0.455" material="visor"/>

{LEFT_ARM}

{RIGHT_ARM}
      </body>
    </body>
  </worldbody>

  <actuator>
{actuators}
  </actuator>

  <sensor>
    <gyro name="imu_gyro" site="imu"/>
    <accelerometer name="imu_acc" site="imu"/>
    <velocimeter name="imu_linvel" site="imu"/>
    <framequat name="imu_quat" objtype="site" objname="imu"/>
    <framezaxis name="imu_zaxis" objtype="site" objname="imu"/>
    <framezaxis name="imu_up" objtype="body" objname="world" reftype="site" refname="imu"/>
    <gyro name="torso_gyro" site="torso_imu"/>
    <accelerometer name="torso_acc" site="torso_imu"/>
    <framequat name="torso_quat" objtype="site" objname="torso_imu"/>
    <framezaxis name="torso_zaxis" objtype="site" objname="torso_imu"/>
    <touch name="left_foot_touch" site="left_sole_site"/>
    <touch name="right_foot_touch" site="right_sole_site"/>
    <force name="left_ankle_force" site="left_ankle"/>
    <force name="right_ankle_force" site="right_ankle"/>
  </sensor>

  <keyframe>
    <key name="home" qpos="{home_qpos}" ctrl="{home_ctrl}"/>
  </keyframe>
</mujoco>
""")


def _fmt(*values: float) -> str:
    return " ".join(f"{v:.10g}" for v in values)


def _motor_classes() -> str:
    lines = []
    for name, m in MOTORS.items():
        lines += [
            f'      <default class="{name}">',
            f'        <joint armature="{_fmt(m.armature)}" damping="{_fmt(m.damping)}"/>',
            f'        <position kp="{_fmt(m.kp)}" kv="{_fmt(m.kd)}" forcerange="{_fmt(-m.effort_limit, m.effort_limit)}"'
            ' inheritrange="1"/>',
            "      </default>",
        ]
    return "\n".join(lines)


def _humanoid_xml() -> str:
    home = [q for _, _, _, q in _JOINTS]
    return HUMANOID_XML_TEMPLATE.format(
        motor_classes=_motor_classes(),
        actuators="\n".join(
            f'    <position name="{name}" joint="{name}" class="{motor}"/>' for name, motor, _, _ in _JOINTS
        ),
        base_height=_fmt(STANDING_BASE_HEIGHT),
        home_qpos=_fmt(0.0, 0.0, STANDING_BASE_HEIGHT, 1.0, 0.0, 0.0, 0.0, *home),
        home_ctrl=_fmt(*home),
        **{name: _fmt(*limits) for name, _, limits, _ in _JOINTS},
    )


HUMANOID_ROBOT_XML = _humanoid_xml()
"""The robot alone (no floor, no light), with its options, sensors and the ``home`` keyframe."""


# ---------------------------------------------------------------------------- description
@dataclasses.dataclass(frozen=True)
class RobotDescription:
    """What a task needs to know about a robot, beyond its model. Per-joint tuples follow ``joint_names``."""

    name: str
    joint_names: tuple[str, ...]
    """Actuated joints in action order; each actuator is named like its joint."""
    default_joint_pos: tuple[float, ...]
    """Joint positions of the ``home`` keyframe, rad."""
    kp: tuple[float, ...]
    """Position gains of the actuators, N·m/rad."""
    kd: tuple[float, ...]
    """Velocity gains of the actuators, N·m·s/rad."""
    effort_limit: tuple[float, ...]
    """Torque limits of the actuators (their ``forcerange``), N·m."""
    armature: tuple[float, ...]
    """Reflected rotor inertia of each joint, kg·m²."""
    action_scale: tuple[float, ...]
    """Radians of target per unit of action: 0.25 * effort_limit / kp."""
    base_body: str
    """The body that carries the free joint."""
    torso_body: str
    foot_bodies: tuple[str, ...]
    """Left foot, then right foot."""
    foot_geoms: tuple[str, ...]
    """The sole boxes, left then right: the geoms that touch the floor in normal walking."""
    imu_site: str
    standing_base_height: float
    """Height of the base body's origin in the ``home`` pose with the soles on z = 0, m."""
    home_keyframe: str = "home"


def _describe() -> RobotDescription:
    motors = [MOTORS[motor] for _, motor, _, _ in _JOINTS]
    return RobotDescription(
        name="warplab_humanoid",
        joint_names=tuple(name for name, _, _, _ in _JOINTS),
        default_joint_pos=tuple(q for _, _, _, q in _JOINTS),
        kp=tuple(m.kp for m in motors),
        kd=tuple(m.kd for m in motors),
        effort_limit=tuple(m.effort_limit for m in motors),
        armature=tuple(m.armature for m in motors),
        action_scale=tuple(0.25 * m.effort_limit / m.kp for m in motors),
        base_body="pelvis",
        torso_body="torso",
        foot_bodies=("left_ankle_roll_link", "right_ankle_roll_link"),
        foot_geoms=("left_sole", "right_sole"),
        imu_site="imu",
        standing_base_height=STANDING_BASE_HEIGHT,
    )


HUMANOID_ROBOT = _describe()
"""The humanoid's joints, gains, default pose and key bodies, for tasks."""


# ---------------------------------------------------------------------------- specs
def humanoid_robot_spec() -> mujoco.MjSpec:
    """A fresh ``MjSpec`` of the robot alone, to compose into another scene."""
    return mujoco.MjSpec.from_string(HUMANOID_ROBOT_XML)


def humanoid_spec() -> mujoco.MjSpec:
    """A fresh ``MjSpec`` of the robot on a checkered floor at z = 0, with a light and a sky."""
    return add_flat_ground(humanoid_robot_spec())


HUMANOID_ROBOT_CFG = RobotCfg(
    name=HUMANOID_ROBOT.name,
    spec=humanoid_robot_spec,
    joint_names=HUMANOID_ROBOT.joint_names,
    default_joint_pos=dict(zip(HUMANOID_ROBOT.joint_names, HUMANOID_ROBOT.default_joint_pos, strict=True)),
    base_body=HUMANOID_ROBOT.base_body,
    feet_bodies=HUMANOID_ROBOT.foot_bodies,
    torso_body=HUMANOID_ROBOT.torso_body,
    base_height=HUMANOID_ROBOT.standing_base_height,
    # The model has its actuators; these groups record their gains for tasks and export.
    actuators=tuple(
        ActuatorGroupCfg(joints=name, kp=kp, kd=kd, effort_limit=effort, armature=armature)
        for name, kp, kd, effort, armature in zip(
            HUMANOID_ROBOT.joint_names,
            HUMANOID_ROBOT.kp,
            HUMANOID_ROBOT.kd,
            HUMANOID_ROBOT.effort_limit,
            HUMANOID_ROBOT.armature,
            strict=True,
        )
    ),
    # 0.25 rad of target per unit of action on every joint: the stiff ankles' own 0.25 * effort / kp
    # (0.045 rad) would leave the policy too little range to place the feet.
    action_scale=0.25,
    # No illegal-contact bodies: the hands may brush the torso, which would count as a contact of the
    # torso body; falls are caught by height and tilt instead.
)
"""The humanoid as tasks use it (``warplab.assets.robot_cfg.RobotCfg``)."""


__all__ = [
    "HUMANOID_ROBOT",
    "HUMANOID_ROBOT_XML",
    "MOTORS",
    "Motor",
    "HUMANOID_ROBOT_CFG",
    "RobotDescription",
    "humanoid_robot_spec",
    "humanoid_spec",
]
