"""warplab's own arm: a 7-joint, 18 kg arm in the class of the Franka robot, with a parallel-jaw gripper.

Seven revolute joints laid out by the published kinematic parameters of the Franka robot (its
Denavit-Hartenberg table, Craig's convention), reaching 0.855 m; joint ranges, speed and torque
limits from its control-interface specification. The links are capsules, cylinders and boxes with
explicit masses (18.0 kg in all); the gripper is a 0.73 kg, two-finger parallel jaw with a 0.08 m
stroke and 70 N of continuous grip, in the class of the Franka Hand. ``docs/robots/arm.md`` gives
the sources of the numbers and the reasons for the choices.

Frames. The base (the body ``link0``) stands at ``base_pos`` with z up and x forward. Each link's body
frame is its joint's Denavit-Hartenberg frame: joint i turns about z of ``link<i>``, and the joint
angle is the published one (qpos is what the real arm's interface reports). The ``flange`` site is
the tool flange (z out of the arm). The gripper's frame (the body ``gripper``) is the flange's turned
-45° about z, as the Franka Hand is mounted: z out of the arm, y the direction the left finger opens.
The ``ee`` site is the tool centre point between the finger pads.

Control. Every joint is a position servo (``kp * (target - q) - kd * qdot``, clamped to the joint's
torque limit) with gains from one rule (``NATURAL_FREQ_HZ``). The real arm's controller compensates
gravity from its model; here every body carries ``gravcomp = 1`` and each joint routes its share of
that compensation through its actuator (``actuatorgravcomp``), so servo plus compensation stay within
the joint's torque limit (``actfrcrange``). A grasped object is not compensated: the servos carry it.

The gripper's one actuator drives the left finger; an equality constraint makes the right finger
follow it, as the Franka Hand's fingers are geared together.

Geometry: every shape is in group 0, carries mass and collides, with the world only (table,
objects, floor): the arm has no self-collision.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import mujoco
import numpy as np

from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg
from warplab.assets.robots._spec import manipulator_spec
from warplab.assets.scene import ObjectCfg, Scene

# ---------------------------------------------------------------------------- kinematics
# The Franka robot's Denavit-Hartenberg parameters (Craig's convention), as its control-interface
# documentation publishes them: (a, d, alpha) per joint, m and rad. Joint i's frame is
# RotX(alpha) TransX(a) RotZ(theta_i) TransZ(d) in joint i-1's.
DH: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.333, 0.0),
    (0.0, 0.0, -math.pi / 2),
    (0.0, 0.316, math.pi / 2),
    (0.0825, 0.0, math.pi / 2),
    (-0.0825, 0.384, -math.pi / 2),
    (0.0, 0.0, math.pi / 2),
    (0.088, 0.0, math.pi / 2),
)
FLANGE_D = 0.107
"""Distance from joint 7's frame to the flange along its z, m (the DH table's flange row)."""
TCP_D = 0.1034
"""Distance from the flange to the tool centre point between the pads, m (the Franka Hand's)."""
GRIPPER_MOUNT_YAW = -math.pi / 4
"""The gripper's frame about the flange's z, rad: the Franka Hand's mounting angle, so that with
joint 7 at pi/4 the fingers open along the base's y."""
REACH = 0.855
"""The published reach, m: the largest distance from the shoulder (joint 2's axis, 0.333 m over the
base) to the flange within the joint ranges."""

# ---------------------------------------------------------------------------- joints and gains
# One rule sets each arm joint's stiffness: kp = I * (2 pi * 10 Hz)^2, where I is the joint's
# effective inertia in the home pose (the mass matrix's diagonal, armature and gripper included), and
# kd for a damping ratio of 1. Every joint then closes at about 10 Hz near home; the 5 ms step resolves
# it (omega * dt = 0.31). Away from home the inertias change and so do the loops, as a real
# fixed-gain servo's do: with the arm stretched out level, joint 1 slows to ~4 Hz and joint 3, whose
# inertia shrinks, quickens to ~23 Hz (omega * dt = 0.72, still well inside what the step resolves).
NATURAL_FREQ_HZ = 10.0
"""Natural frequency of each arm joint's PD loop against its home-pose inertia."""
DAMPING_RATIO = 1.0
"""Damping ratio of each arm joint's PD loop: critical, no overshoot at a target."""
OMEGA = 2.0 * math.pi * NATURAL_FREQ_HZ


@dataclasses.dataclass(frozen=True)
class ArmJoint:
    """One joint of the arm: published limits, estimated drive losses, and its servo."""

    name: str
    range: tuple[float, float]
    """Position range, rad (Franka control interface, Panda: q_min, q_max)."""
    velocity_limit: float
    """Largest speed, rad/s (dq_max). MuJoCo has no speed limit; tasks read it for penalties."""
    torque_limit: float
    """Largest torque, N·m (tau_max): the actuator's ``forcerange`` and the joint's ``actfrcrange``."""
    armature: float
    """Reflected rotor inertia, kg·m² (an estimate: the maker publishes none)."""
    damping: float
    """Viscous friction of the drive, N·m·s/rad (an estimate)."""
    frictionloss: float
    """Dry friction of the drive, N·m (an estimate)."""
    home: float
    """Position in the ``home`` pose, rad."""
    inertia: float
    """Effective inertia in the home pose, kg·m²: the diagonal of the mass matrix there, with
    armature and gripper (tests recompute it with MuJoCo). The gains follow from it."""

    @property
    def kp(self) -> float:
        """Position gain, N·m/rad: inertia * omega²."""
        return self.inertia * OMEGA**2

    @property
    def kd(self) -> float:
        """Velocity gain, N·m·s/rad: 2 * damping ratio * sqrt(kp * inertia) = 2 * ratio * kp / omega."""
        return 2.0 * DAMPING_RATIO * self.kp / OMEGA


_BIG = {"velocity_limit": 2.175, "torque_limit": 87.0, "armature": 0.1, "damping": 0.1, "frictionloss": 0.2}
_SMALL = {
    "velocity_limit": 2.61,
    "torque_limit": 12.0,
    "armature": 0.02,
    "damping": 0.05,
    "frictionloss": 0.1,
}
ARM_JOINTS: tuple[ArmJoint, ...] = (
    ArmJoint("joint1", (-2.8973, 2.8973), **_BIG, home=0.0, inertia=0.514),
    ArmJoint("joint2", (-1.7628, 1.7628), **_BIG, home=-math.pi / 4, inertia=1.443),
    ArmJoint("joint3", (-2.8973, 2.8973), **_BIG, home=0.0, inertia=0.858),
    ArmJoint("joint4", (-3.0718, -0.0698), **_BIG, home=-3 * math.pi / 4, inertia=0.823),
    ArmJoint("joint5", (-2.8973, 2.8973), **_SMALL, home=0.0, inertia=0.0435),
    ArmJoint("joint6", (-0.0175, 3.7525), **_SMALL, home=math.pi / 2, inertia=0.0536),
    ArmJoint("joint7", (-2.8973, 2.8973), **_SMALL, home=math.pi / 4, inertia=0.0233),
)
"""The seven joints from the base outwards. Ranges, speed and torque limits: the Franka control
interface's published limits for the Panda arm; ``home``: the pose its examples start from."""

# ---------------------------------------------------------------------------- links, m and kg
# Each link's shapes, laid out in the zero pose (every joint angle 0: the arm upright, the flange
# pointing down at (0.088, 0, 0.926)), in the base frame: (shape, start, end, radius, mass). A
# cylinder's or capsule's axis runs from start to end. Masses: the Franka robot's links as identified
# by Gaz et al. (2019), rounded; the base takes the rest of the published 18 kg.
_LINKS: dict[str, tuple[tuple[str, tuple[float, ...], tuple[float, ...], float, float], ...]] = {
    "link0": (("cylinder", (0.0, 0.0, 0.0), (0.0, 0.0, 0.14), 0.08, 1.92),),
    "link1": (("capsule", (0.0, 0.0, 0.20), (0.0, 0.0, 0.30), 0.06, 4.97),),
    "link2": (
        ("cylinder", (0.0, -0.06, 0.333), (0.0, 0.06, 0.333), 0.06, 0.35),
        ("capsule", (0.0, 0.0, 0.333), (0.0, 0.0, 0.44), 0.055, 0.30),
    ),
    "link3": (
        ("capsule", (0.0, 0.0, 0.47), (0.0, 0.0, 0.60), 0.06, 2.40),
        ("capsule", (0.0, 0.0, 0.60), (0.0825, 0.0, 0.60), 0.05, 0.83),
    ),
    "link4": (
        ("cylinder", (0.0825, -0.055, 0.649), (0.0825, 0.055, 0.649), 0.055, 1.20),
        ("capsule", (0.0825, 0.0, 0.649), (0.0, 0.0, 0.76), 0.055, 2.39),
    ),
    "link5": (("capsule", (0.0, 0.0, 0.79), (0.0, 0.0, 0.96), 0.05, 1.23),),
    "link6": (
        ("cylinder", (0.0, -0.05, 1.033), (0.0, 0.05, 1.033), 0.05, 0.90),
        ("capsule", (0.0, 0.0, 1.033), (0.088, 0.0, 1.033), 0.045, 0.77),
    ),
    "link7": (("cylinder", (0.088, 0.0, 1.05), (0.088, 0.0, 0.935), 0.045, 0.74),),
}
ARM_MASS = 18.0
"""The arm's mass without the gripper, kg: the published weight (Franka datasheet: about 18 kg)."""

# ---------------------------------------------------------------------------- the gripper
GRIPPER_STROKE = 0.04
"""Travel of each finger, m: 0 closed (the pads touch), 0.04 open (0.08 m between the pads)."""
GRIP_FORCE = 70.0
"""Continuous force with which the pads squeeze a grasped object, N (the Franka Hand's)."""
GRIPPER_SPEED = 0.1
"""Speed of each finger at full force in free air, m/s: the drive's damping is sized for it."""
GRIP_SATURATION = 0.005
"""Squeeze (target minus position) at which the grip reaches full force, m: objects wider than
1 cm are held with the full ``GRIP_FORCE`` when the gripper is told to close."""
# The actuator drives the left finger; the equality passes half its force to the right finger, so the
# actuator's force range is twice the grip force, and each pad presses with GRIP_FORCE.
GRIPPER_FORCE_RANGE = 2.0 * GRIP_FORCE
GRIPPER_KP = GRIPPER_FORCE_RANGE / GRIP_SATURATION
"""Position gain of the gripper's servo, N/m."""
FINGER_DAMPING = GRIPPER_FORCE_RANGE / (2.0 * GRIPPER_SPEED)
"""Viscous damping of each finger's slide, N·s/m: full force moves both fingers at ``GRIPPER_SPEED``."""
FINGER_ARMATURE = 1.0
"""Reflected inertia of the finger drive at each slide, kg (an estimate: a geared motor's rotor seen
through a lead screw is heavy; with it the coupling and the pads' contacts stay stiff)."""
GRIPPER_HOUSING_HALF = (0.03, 0.1, 0.03)
"""Half extents of the gripper's body, m: 0.2 m along the fingers' travel, as the Franka Hand."""
GRIPPER_HOUSING_MASS = 0.67
FINGER_HALF = (0.01, 0.006, 0.028)
"""Half extents of a finger plate, m."""
FINGER_MASS = 0.02
PAD_HALF = (0.01, 0.0035, 0.0125)
"""Half extents of a finger pad, m: 2 cm wide, 2.5 cm tall, 7 mm thick; its centre at the TCP's depth."""
PAD_MASS = 0.01
GRIPPER_MASS = GRIPPER_HOUSING_MASS + 2 * (FINGER_MASS + PAD_MASS)
"""0.73 kg, the Franka Hand's published weight (about 0.7 kg)."""

# ---------------------------------------------------------------------------- contacts and options
# Collision bits: 1 the world (floor, table, objects), 2 the arm and gripper. The arm's geoms meet the
# world only: no self-collision (the links' capsules overlap at the joints, and a policy held to the
# joint ranges rarely folds the arm into itself; a task that needs it adds explicit contact pairs).
_ARM_BITS = (2, 1)
LINK_FRICTION = (0.8, 0.005, 0.0001)
PAD_FRICTION = (1.5, 0.005, 0.0001)
"""Rubber pads: sliding friction 1.5, torsional 5 mm (about the radius of the contact patch)."""
PAD_CONDIM = 4
"""Pads resist spinning about the contact normal, so a cube held between them does not pivot."""
# Stiff pad contacts and finger coupling: timeconst 0.01 s (twice the step, MuJoCo's safe minimum) and
# impedance up to 0.99. Measured on a 5 cm, 0.1 kg cube squeezed with 70 N: the pads sink 1.3 mm into
# it and the coupling stretches 0.5 mm; with MuJoCo's defaults (0.02 s, 0.95), 3.9 mm and 2.7 mm.
STIFF_SOLREF = (0.01, 1.0)
STIFF_SOLIMP = (0.95, 0.99, 0.001, 0.5, 2.0)

TIMESTEP = 0.005
"""Physics step, s: the servos close at 10 Hz (omega * dt = 0.31); a task picks its decimation."""
IMPRATIO = 10.0
"""Frictional to normal impedance ratio: with the elliptic cone, grasped objects creep far less."""


def _rot_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _quat(rot: np.ndarray) -> list[float]:
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, rot.ravel())
    return quat.tolist()


def _dh(a: float, d: float, alpha: float, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Joint i's frame in joint i-1's (Craig): RotX(alpha) TransX(a) RotZ(theta) TransZ(d) as (pos, rot)."""
    rot_x = _rot_x(alpha)
    return np.array([a, 0.0, 0.0]) + rot_x @ np.array([0.0, 0.0, d]), rot_x @ _rot_z(theta)


def _zero_pose_frames() -> list[tuple[np.ndarray, np.ndarray]]:
    """Each link's frame (origin [3] m, rotation [3, 3]) in the base frame with every joint at 0:
    ``link0`` (the base itself) to ``link7``."""
    frames = [(np.zeros(3), np.eye(3))]
    for a, d, alpha in DH:
        origin, rot = frames[-1]
        pos, local = _dh(a, d, alpha, 0.0)
        frames.append((origin + rot @ pos, rot @ local))
    return frames


def _add_link_shapes(body: mujoco.MjsBody, link: str, origin: np.ndarray, rot: np.ndarray) -> None:
    kinds = {"capsule": mujoco.mjtGeom.mjGEOM_CAPSULE, "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER}
    for i, (shape, start, end, radius, mass) in enumerate(_LINKS[link]):
        # Laid out in the base frame at the zero pose; the body's frame there is (origin, rot).
        a, b = (rot.T @ (np.asarray(p) - origin) for p in (start, end))
        body.add_geom(
            name=f"{link}_{i}",
            type=kinds[shape],
            fromto=[*a, *b],
            size=[radius, 0.0, 0.0],
            mass=mass,
            contype=_ARM_BITS[0],
            conaffinity=_ARM_BITS[1],
            condim=3,
            friction=list(LINK_FRICTION),
            rgba=[0.93, 0.93, 0.94, 1.0] if i == 0 else [0.80, 0.81, 0.83, 1.0],
        )


def _add_box(
    body: mujoco.MjsBody,
    name: str,
    half: tuple[float, float, float],
    pos: tuple[float, float, float],
    mass: float,
    rgba: tuple[float, float, float, float],
    **contact,
) -> None:
    body.add_geom(
        name=name,
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=list(half),
        pos=list(pos),
        mass=mass,
        contype=_ARM_BITS[0],
        conaffinity=_ARM_BITS[1],
        rgba=list(rgba),
        **contact,
    )


def _add_finger(gripper: mujoco.MjsBody, side: str, sign: float) -> None:
    """A finger on a slide along ``sign`` * y of the gripper: 0 closed, ``GRIPPER_STROKE`` open.

    Its shapes are laid out open (the joint's reference position), the pad's inner face at
    y = sign * ``GRIPPER_STROKE``; the site ``finger_<side>_tip`` sits at the centre of that face.
    """
    body = gripper.add_body(name=f"finger_{side}")
    body.gravcomp = 1.0
    joint = body.add_joint(
        name=f"finger_{side}",
        type=mujoco.mjtJoint.mjJNT_SLIDE,
        axis=[0.0, sign, 0.0],
        range=[0.0, GRIPPER_STROKE],
        limited=mujoco.mjtLimited.mjLIMITED_TRUE,
        ref=GRIPPER_STROKE,
        armature=FINGER_ARMATURE,
        damping=FINGER_DAMPING,
    )
    joint.actgravcomp = True
    face = GRIPPER_STROKE
    pad_y = sign * (face + PAD_HALF[1])
    plate_y = sign * (face + 2 * PAD_HALF[1] + FINGER_HALF[1])
    plate_z = GRIPPER_HOUSING_HALF[2] * 2 + FINGER_HALF[2]
    _add_box(body, f"finger_{side}", FINGER_HALF, (0.0, plate_y, plate_z), FINGER_MASS, (0.2, 0.2, 0.22, 1))
    _add_box(
        body,
        f"finger_{side}_pad",
        PAD_HALF,
        (0.0, pad_y, TCP_D),
        PAD_MASS,
        (0.08, 0.08, 0.09, 1),
        condim=PAD_CONDIM,
        friction=list(PAD_FRICTION),
        solref=list(STIFF_SOLREF),
        solimp=list(STIFF_SOLIMP),
    )
    body.add_site(
        name=f"finger_{side}_tip",
        pos=[0.0, sign * face, TCP_D],
        size=[0.004, 0, 0],
        group=4,
        rgba=[0.9, 0.2, 0.2, 1],
    )


def _add_gripper(spec: mujoco.MjSpec, link7: mujoco.MjsBody) -> None:
    gripper = link7.add_body(name="gripper", pos=[0.0, 0.0, FLANGE_D], quat=_quat(_rot_z(GRIPPER_MOUNT_YAW)))
    gripper.gravcomp = 1.0
    _add_box(
        gripper,
        "gripper",
        GRIPPER_HOUSING_HALF,
        (0.0, 0.0, GRIPPER_HOUSING_HALF[2]),
        GRIPPER_HOUSING_MASS,
        (0.93, 0.93, 0.94, 1),
        condim=3,
        friction=list(LINK_FRICTION),
    )
    gripper.add_site(name="ee", pos=[0.0, 0.0, TCP_D], size=[0.006, 0, 0], group=4, rgba=[0.2, 0.9, 0.2, 1])
    _add_finger(gripper, "left", 1.0)
    _add_finger(gripper, "right", -1.0)
    # The right finger follows the left (the real hand gears them together): q_right = q_left.
    spec.add_equality(
        name="finger_coupling",
        type=mujoco.mjtEq.mjEQ_JOINT,
        objtype=mujoco.mjtObj.mjOBJ_JOINT,
        name1="finger_right",
        name2="finger_left",
        data=[0.0, 1.0, 0.0, 0.0, 0.0] + [0.0] * 7,
        solref=list(STIFF_SOLREF),
        solimp=list(STIFF_SOLIMP),
    )
    act = spec.add_actuator(name="finger_left", target="finger_left", trntype=mujoco.mjtTrn.mjTRN_JOINT)
    act.set_to_position(kp=GRIPPER_KP, kv=0.0)
    act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    act.ctrlrange = [0.0, GRIPPER_STROKE]
    act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
    act.forcerange = [-GRIPPER_FORCE_RANGE, GRIPPER_FORCE_RANGE]


def _check_base(fn: str, base_pos: tuple[float, ...], base_quat: tuple[float, ...]) -> None:
    if len(base_pos) != 3 or not np.all(np.isfinite(base_pos)):
        raise ValueError(f"{fn}: base_pos must be three finite numbers (m), got {base_pos!r}")
    if len(base_quat) != 4 or not np.all(np.isfinite(base_quat)) or np.linalg.norm(base_quat) == 0:
        raise ValueError(f"{fn}: base_quat must be a non-zero (w, x, y, z) quaternion, got {base_quat!r}")


def _build_arm(
    spec: mujoco.MjSpec, base_pos: tuple[float, ...], base_quat: tuple[float, ...]
) -> mujoco.MjsBody:
    """The base and the seven links with their joints and servos; returns ``link7``."""
    frames = _zero_pose_frames()
    parent = spec.worldbody.add_body(name="link0", pos=list(base_pos), quat=list(base_quat))
    _add_link_shapes(parent, "link0", *frames[0])
    for i, ((a, d, alpha), joint) in enumerate(zip(DH, ARM_JOINTS, strict=True), start=1):
        # The body's frame is the joint's DH frame. It is laid out at the home angle (the joint's
        # reference), so that qpos0 is the home pose and qpos is the published joint angle.
        pos, rot = _dh(a, d, alpha, joint.home)
        body = parent.add_body(name=f"link{i}", pos=pos.tolist(), quat=_quat(rot))
        body.gravcomp = 1.0
        hinge = body.add_joint(
            name=joint.name,
            type=mujoco.mjtJoint.mjJNT_HINGE,
            axis=[0.0, 0.0, 1.0],
            range=list(joint.range),
            limited=mujoco.mjtLimited.mjLIMITED_TRUE,
            ref=joint.home,
            armature=joint.armature,
            damping=joint.damping,
            frictionloss=joint.frictionloss,
        )
        # Gravity compensation passes through the joint's motor and shares its torque limit.
        hinge.actgravcomp = True
        hinge.actfrclimited = mujoco.mjtLimited.mjLIMITED_TRUE
        hinge.actfrcrange = [-joint.torque_limit, joint.torque_limit]
        _add_link_shapes(body, f"link{i}", *frames[i])
        parent = body
    parent.add_site(
        name="flange", pos=[0.0, 0.0, FLANGE_D], size=[0.005, 0, 0], group=4, rgba=[0.9, 0.2, 0.2, 1]
    )
    for joint in ARM_JOINTS:
        act = spec.add_actuator(name=joint.name, target=joint.name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=joint.kp, kv=joint.kd)
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.ctrlrange = list(joint.range)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-joint.torque_limit, joint.torque_limit]
    return parent


def arm_spec(
    base_pos: tuple[float, float, float] = (0.0, 0.0, 0.0),
    base_quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
) -> mujoco.MjSpec:
    """A fresh ``MjSpec`` of the arm with its gripper, fixed to the world, with its options and ``home``
    keyframe (which is also ``qpos0``).

    Args:
      base_pos: position of the base frame (the foot of the arm, z up) in the world, m.
      base_quat: orientation (w, x, y, z) of the base frame in the world.

    Raises:
      ValueError: ``base_pos`` or ``base_quat`` not finite, or a zero quaternion.
    """
    _check_base("arm_spec", base_pos, base_quat)
    spec = manipulator_spec("warplab_arm", TIMESTEP, IMPRATIO)
    link7 = _build_arm(spec, base_pos, base_quat)
    _add_gripper(spec, link7)
    home = [joint.home for joint in ARM_JOINTS] + [GRIPPER_STROKE, GRIPPER_STROKE]
    spec.add_key(name="home", qpos=home, ctrl=home[:8])
    return spec


# ---------------------------------------------------------------------------- description
ARM_JOINT_NAMES: tuple[str, ...] = tuple(joint.name for joint in ARM_JOINTS)
"""The seven arm joints, base outwards; their actuators carry the same names."""
GRIPPER_JOINT = "finger_left"
"""The gripper's actuated joint (and actuator): the left finger's opening, m; the right follows it."""
ARM_HOME: dict[str, float] = {joint.name: joint.home for joint in ARM_JOINTS}
"""Arm joint positions of the ``home`` pose, rad: the gripper points down 0.49 m over the base,
0.31 m in front of it, fingers open along the base's y."""
ARM_JOINT_RANGES: dict[str, tuple[float, float]] = {joint.name: joint.range for joint in ARM_JOINTS}
"""Joint ranges, rad; the actuators' control ranges equal them."""
ARM_VELOCITY_LIMITS: dict[str, float] = {joint.name: joint.velocity_limit for joint in ARM_JOINTS}
"""Largest joint speeds, rad/s (not enforced by the simulation; for task penalties and checks)."""
ARM_TORQUE_LIMITS: dict[str, float] = {joint.name: joint.torque_limit for joint in ARM_JOINTS}
"""Largest joint torques, N·m: each actuator's force range and each joint's total (with gravity
compensation)."""
FINGERTIP_SITES = ("finger_left_tip", "finger_right_tip")
"""Sites at the centre of each pad's inner face."""
EE_SITE = "ee"
"""The tool centre point between the pads (z along the fingers, y along their opening)."""

ARM_ACTION_SCALE: dict[str, float] = {"joint[1-7]": 0.5, GRIPPER_JOINT: GRIPPER_STROKE}
"""0.5 rad of target per unit of action for the arm; the gripper's full stroke for its action, so
that -1 closes it from open (home). The usual 0.25 * effort / kp (0.004-0.03 rad) is too little reach."""


def _arm_actuator_groups() -> tuple[ActuatorGroupCfg, ...]:
    return tuple(
        ActuatorGroupCfg(
            joints=joint.name,
            kp=joint.kp,
            kd=joint.kd,
            effort_limit=joint.torque_limit,
            armature=joint.armature,
        )
        for joint in ARM_JOINTS
    )


ARM_ROBOT_CFG = RobotCfg(
    name="warplab_arm",
    spec=arm_spec,
    joint_names=(*ARM_JOINT_NAMES, GRIPPER_JOINT),
    default_joint_pos={**ARM_HOME, GRIPPER_JOINT: GRIPPER_STROKE},
    base_body="link0",
    # The model has its actuators; these groups record their gains for tasks and export.
    actuators=(
        *_arm_actuator_groups(),
        ActuatorGroupCfg(
            joints=GRIPPER_JOINT,
            kp=GRIPPER_KP,
            kd=0.0,
            effort_limit=GRIPPER_FORCE_RANGE,
            armature=FINGER_ARMATURE,
        ),
    ),
    action_scale=dict(ARM_ACTION_SCALE),
)
"""The arm with its gripper as tasks use it (``warplab.assets.robot_cfg.RobotCfg``): base at the
world's origin, ``home`` pose, actions for the seven joints then the gripper."""


# ---------------------------------------------------------------------------- the table scene
TABLE_HEIGHT = 0.75
"""Height of the table top over the floor, m; the arm stands on it."""
TABLE_HALF_SIZE = (0.6, 0.6)
"""Half extents of the table top, m: 1.2 m by 1.2 m."""
TABLE_CENTER_X = 0.3
"""The table's centre in front of the arm's base, m: the top spans x from -0.3 to 0.9 m."""
CUBE_HALF_SIZE = 0.025
"""Half edge of the default cube, m: a 5 cm cube, within the gripper's 8 cm opening."""
CUBE_MASS = 0.1
CUBE_POS = (0.5, 0.0)
"""Where the cube rests on the table, in the base's x and y, m."""


def arm_with_table_and_object_spec(
    table_height: float = TABLE_HEIGHT,
    cube_pos: tuple[float, float] = CUBE_POS,
    cube_half_size: float = CUBE_HALF_SIZE,
    cube_mass: float = CUBE_MASS,
    cube_friction: float = 1.0,
    floor: bool = True,
) -> mujoco.MjSpec:
    """The arm on a table, base at (0, 0, ``table_height``), with a free cube named ``cube`` on the table.

    The arm comes through ``ARM_ROBOT_CFG`` (its ``home`` keyframe holds the home pose, the cube at
    rest), the table is a fixed box named ``table`` from the floor to its top, and ``Scene`` adds the
    cube and, with ``floor``, a floor at z = 0 that catches a dropped cube, with lights and a sky.

    Args:
      table_height: height of the table top (and of the arm's base) over the floor, m.
      cube_pos: (x, y) of the cube's centre in the base frame, m; on the table.
      cube_half_size: half edge of the cube, m: at most half the gripper's opening (0.04).
      cube_mass: mass of the cube, kg.
      cube_friction: its sliding friction (a contact uses the larger of its geoms' coefficients).
      floor: add the floor.

    Raises:
      ValueError: a non-positive table height, size or mass, a cube the gripper cannot span, or a
        cube off the table.
    """
    fn = "arm_with_table_and_object_spec"
    if not table_height > 0:
        raise ValueError(f"{fn}: table_height must be a positive number of metres, got {table_height!r}")
    if not 0 < cube_half_size <= GRIPPER_STROKE:
        raise ValueError(
            f"{fn}: cube_half_size {cube_half_size} m must be in (0, {GRIPPER_STROKE}] so the gripper spans it"
        )
    if not cube_mass > 0:
        raise ValueError(f"{fn}: cube_mass must be positive, got {cube_mass!r}")
    x, y = cube_pos
    if not (
        abs(x - TABLE_CENTER_X) <= TABLE_HALF_SIZE[0] - cube_half_size
        and abs(y) <= TABLE_HALF_SIZE[1] - cube_half_size
    ):
        raise ValueError(
            f"{fn}: cube_pos {cube_pos} m is off the table (x in [{TABLE_CENTER_X - TABLE_HALF_SIZE[0]}, "
            f"{TABLE_CENTER_X + TABLE_HALF_SIZE[0]}], |y| <= {TABLE_HALF_SIZE[1]})"
        )
    robot = dataclasses.replace(
        ARM_ROBOT_CFG, spec=functools.partial(arm_spec, base_pos=(0.0, 0.0, table_height))
    )
    # Static against static never collides (MuJoCo skips bodies welded to the world), so the base
    # standing on the table and the table on the floor make no contacts.
    table = ObjectCfg(
        "table",
        "box",
        size=(*TABLE_HALF_SIZE, table_height / 2),
        pos=(TABLE_CENTER_X, 0.0, table_height / 2),
        fixed=True,
        friction=1.0,
        rgba=(0.55, 0.45, 0.35, 1.0),
    )
    cube = ObjectCfg(
        "cube",
        "box",
        size=(cube_half_size,) * 3,
        pos=(x, y, table_height + cube_half_size),
        mass=cube_mass,
        friction=cube_friction,
        rgba=(0.85, 0.45, 0.15, 1.0),
    )
    return Scene(robot=robot, terrain="flat" if floor else None, objects=(table, cube)).build()


# ---------------------------------------------------------------------------- the arm with the hand
HAND_PREFIX = "hand/"
"""Prefix of every name of the hand on the arm: ``hand/index_tip``, ``hand/thumb_touch``..."""
HAND_STANDOFF = 0.11
"""Distance from the flange to the palm frame's origin along the flange's z, m: the hand's wrist
mount (0.06 m) plus half the palm's length (0.05 m)."""
# The palm frame in the mount frame (the flange's, turned as the gripper's): the palm's x (wrist to
# fingers) along the mount's z (out of the arm), the palm normal along the mount's x, y completing it.
_PALM_IN_MOUNT = np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
# Half the palm's thickness: the palm frame's origin is on the palm's face, its mount on the palm's
# mid-plane, which the flange's axis passes through.
_PALM_HALF_THICKNESS = 0.015


def arm_with_hand_spec(
    base_pos: tuple[float, float, float] = (0.0, 0.0, 0.0),
    base_quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0),
) -> mujoco.MjSpec:
    """The arm with the project's four-finger hand (``hand_spec``) on its flange instead of the gripper.

    The hand's spec is attached as a child of ``link7`` (``MjSpec`` attach, names prefixed with
    ``HAND_PREFIX``) through a frame at the flange turned like the gripper (-45° about the flange's
    z). In that frame the palm's x (wrist to fingers) points out of the arm along the flange's axis
    and the palm's normal along the mount's x; the hand's wrist mount (its grey cylinder) sits on
    the flange, so the palm face's centre is ``HAND_STANDOFF`` out along the axis and 15 mm (half
    the palm's thickness) off it towards the palm normal. In ``home`` the fingers point down and the
    palm faces forward (+x of the base). The hand keeps its actuators, gains, touch sensors and
    options; every hand body gets the arm's gravity compensation, routed through the hand's servos
    within their stall torque, as the arm's is. The ``home`` keyframe holds both home poses.

    Args:
      base_pos, base_quat: as ``arm_spec``'s.
    """
    from warplab.assets.robots.hand import HAND_HOME, MOTORS, hand_spec

    _check_base("arm_with_hand_spec", base_pos, base_quat)
    spec = manipulator_spec("warplab_arm_hand", TIMESTEP, IMPRATIO)
    link7 = _build_arm(spec, base_pos, base_quat)
    mount_rot = _rot_z(GRIPPER_MOUNT_YAW)
    palm_origin = mount_rot @ np.array([_PALM_HALF_THICKNESS, 0.0, FLANGE_D + HAND_STANDOFF])
    mount = link7.add_frame(pos=palm_origin.tolist(), quat=_quat(mount_rot @ _PALM_IN_MOUNT))
    palm = mount.attach_body(hand_spec(height=0.0).body("palm"), HAND_PREFIX, "")
    stall = MOTORS["xc330"].stall_torque
    for body in [palm, *palm.find_all(mujoco.mjtObj.mjOBJ_BODY)]:
        body.gravcomp = 1.0
    for joint in palm.find_all(mujoco.mjtObj.mjOBJ_JOINT):
        joint.actgravcomp = True
        joint.actfrclimited = mujoco.mjtLimited.mjLIMITED_TRUE
        joint.actfrcrange = [-stall, stall]
    for key in list(spec.keys):  # the hand's own keyframe came with it
        spec.delete(key)
    home = [joint.home for joint in ARM_JOINTS] + list(HAND_HOME.values())
    spec.add_key(name="home", qpos=home, ctrl=home)
    return spec


def _arm_with_hand_robot_cfg() -> RobotCfg:
    from warplab.assets.robots.hand import HAND_ROBOT_CFG

    hand_groups = tuple(
        dataclasses.replace(group, joints=HAND_PREFIX + group.joints) for group in HAND_ROBOT_CFG.actuators
    )
    return RobotCfg(
        name="warplab_arm_hand",
        spec=arm_with_hand_spec,
        joint_names=(*ARM_JOINT_NAMES, *(HAND_PREFIX + name for name in HAND_ROBOT_CFG.joint_names)),
        default_joint_pos={
            **ARM_HOME,
            **{HAND_PREFIX + name: q for name, q in HAND_ROBOT_CFG.default_joint_pos.items()},
        },
        base_body="link0",
        actuators=(*_arm_actuator_groups(), *hand_groups),
        action_scale={"joint[1-7]": ARM_ACTION_SCALE["joint[1-7]"], f"{HAND_PREFIX}.*": 0.25},
    )


ARM_WITH_HAND_ROBOT_CFG = _arm_with_hand_robot_cfg()
"""The arm with the four-finger hand: actions for the seven arm joints, then the hand's 16 (named
``hand/<joint>``), in the hand's order."""


__all__ = [
    "ARM_HOME",
    "ARM_JOINTS",
    "ARM_JOINT_NAMES",
    "ARM_JOINT_RANGES",
    "ARM_MASS",
    "ARM_ROBOT_CFG",
    "ARM_TORQUE_LIMITS",
    "ARM_VELOCITY_LIMITS",
    "ARM_WITH_HAND_ROBOT_CFG",
    "ArmJoint",
    "CUBE_HALF_SIZE",
    "CUBE_MASS",
    "CUBE_POS",
    "DH",
    "EE_SITE",
    "FINGERTIP_SITES",
    "GRIPPER_JOINT",
    "GRIPPER_STROKE",
    "GRIP_FORCE",
    "HAND_PREFIX",
    "REACH",
    "TABLE_HEIGHT",
    "arm_spec",
    "arm_with_hand_spec",
    "arm_with_table_and_object_spec",
]
