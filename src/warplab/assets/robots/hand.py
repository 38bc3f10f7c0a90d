"""warplab's own four-finger hand: a 1.06 kg, 16-joint right hand in the class of the Allegro and LEAP hands.

Three fingers (index, middle, ring) with four joints each: spread and flexion at the knuckle (MCP),
then the PIP and DIP joints. The thumb has four joints that let it oppose the fingers: a rotation at
its base that lifts it out of the palm plane (CMC rotation), a CMC flexion that swings it towards the
fingers, then MCP and IP flexion. Every joint is a Dynamixel-class servo: a position actuator whose
stiffness, damping and torque limit come from the motor table ``MOTORS``; ``docs/robots/hand.md``
gives the sources of the numbers and the reasons for the gains.

Palm frame (the body ``palm``): origin at the centre of the palm's face, x from the wrist towards the
fingers, z the palm normal (out of the face, the side the fingers curl to), y towards the ring finger,
so the thumb sits on the -y edge. Mounted palm up, this frame is the world's, raised by ``height``.
Flexion is positive for every flexion joint and curls the finger towards +z of the palm; spread is
positive towards +y; the CMC rotation is 0 with the thumb flat beside the palm, pointing -y, and
about pi/2 with the thumb standing up from the palm.

Geometry: capsules, boxes and spheres only, so contacts stay cheap on the GPU. Each link's shape
carries an explicit mass; the compiler derives each body's inertia from them (``inertiafromgeom``).
Geoms in group 0 collide, group 1 carries mass only (motor housings), group 2 is decoration.
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

# ---------------------------------------------------------------------------- motors and gains
# One rule sets each joint's stiffness: kp = armature * (2 pi * 10 Hz)^2 against the reflected rotor
# inertia, with kd for a damping ratio of 1 (critical). The rotor dominates a finger joint's inertia (a
# distal phalanx adds ~1e-5 kg·m², the rotor through the 288:1 gearbox ~1e-3), so the loop closes at
# about 10 Hz whatever the finger's pose, and the 5 ms step resolves it.
NATURAL_FREQ_HZ = 10.0
"""Natural frequency of each joint's PD loop against its armature."""
DAMPING_RATIO = 1.0
"""Damping ratio of each joint's PD loop: critical, so a finger reaches its target in ~30 ms without
overshoot (a hand needs quicker fingers than a leg's overdamped ratio of 2 gives)."""


@dataclasses.dataclass(frozen=True)
class Motor:
    """One class of joint actuator: a geared servo at the joint."""

    stall_torque: float
    """Stall torque at the supply voltage, N·m (the actuator's ``forcerange``)."""
    rotor_inertia: float
    """Rotor inertia of the motor, kg·m² (an estimate where the maker publishes none)."""
    gear_ratio: float
    """Reduction between motor and joint."""
    damping: float
    """Viscous friction of the drive at the joint, N·m·s/rad (the joint's ``damping``)."""
    frictionloss: float
    """Dry friction of the gear train at the joint, N·m (the joint's ``frictionloss``)."""

    @property
    def armature(self) -> float:
        """Reflected rotor inertia at the joint, kg·m²: rotor inertia times the gear ratio squared."""
        return self.rotor_inertia * self.gear_ratio**2

    @property
    def kp(self) -> float:
        """Position gain, N·m/rad: armature * omega²."""
        return self.armature * (2.0 * math.pi * NATURAL_FREQ_HZ) ** 2

    @property
    def kd(self) -> float:
        """Velocity gain, N·m·s/rad: 2 * damping ratio * sqrt(kp * armature)."""
        return 2.0 * DAMPING_RATIO * math.sqrt(self.kp * self.armature)


MOTORS: dict[str, Motor] = {
    # Dynamixel XC330-M288-T at 5 V (ROBOTIS e-Manual): 0.93 N·m stall torque, 288.35:1 metal gears,
    # 23 g; the LEAP hand's motor. ROBOTIS publishes no rotor inertia: 1.5e-8 kg·m² is that of a 12 mm
    # coreless motor. Damping and dry friction are small gear-train losses (a few per cent of stall).
    "xc330": Motor(
        stall_torque=0.93, rotor_inertia=1.5e-8, gear_ratio=288.35, damping=0.01, frictionloss=0.01
    ),
}

FINGERS = ("index", "middle", "ring")
"""The three fingers, from the thumb's side outwards."""

# Each actuated joint in action order: (name, motor class, range in rad, home position in rad).
_FINGER_JOINTS = (
    ("mcp_spread", (-0.35, 0.35), 0.0),
    ("mcp_flex", (-0.2, 1.6), 0.35),
    ("pip_flex", (-0.17, 1.7), 0.35),
    ("dip_flex", (-0.2, 1.6), 0.25),
)
_THUMB_JOINTS = (
    ("cmc_rot", (0.0, 1.8), 1.2),
    ("cmc_flex", (-0.2, 1.2), 0.4),
    ("mcp_flex", (-0.2, 1.6), 0.6),
    ("ip_flex", (-0.2, 1.7), 0.5),
)
_JOINTS: tuple[tuple[str, str, tuple[float, float], float], ...] = (
    *(
        (f"{finger}_{joint}", "xc330", limits, home)
        for finger in FINGERS
        for joint, limits, home in _FINGER_JOINTS
    ),
    *((f"thumb_{joint}", "xc330", limits, home) for joint, limits, home in _THUMB_JOINTS),
)

# ---------------------------------------------------------------------------- dimensions, m and kg
PALM_HALF_SIZE = (0.05, 0.05, 0.015)
"""Half extents of the palm box: 0.10 m long (wrist to knuckles), 0.10 m wide, 0.03 m thick."""
PALM_MASS = 0.40
FINGER_SPACING = 0.04
"""Distance between neighbouring knuckles along y."""
FINGER_AXIS_Z = -0.01
"""Height of the fingers' joint axes under the palm face: a straight finger's palmar side is flush
with the face, and its fingertip pad stands 2 mm above it."""
KNUCKLE_X = 0.045
"""Spread axes of the fingers, 5 mm inside the palm's front edge."""
# Finger links: (body, offset from the parent joint along x, capsule length, capsule radius, mass).
_FINGER_LINKS = (
    ("proximal", 0.012, 0.045, 0.010, 0.06),
    ("middle", 0.045, 0.032, 0.0095, 0.04),
    ("distal", 0.032, 0.018, 0.009, 0.012),
)
SPREAD_MOTOR_MASS = 0.04
"""The knuckle's spread servo and bracket (a mass-only box)."""
TIP_RADIUS = 0.012
"""Fingertip pad: a sphere, larger than the distal capsule so that the pad is what touches first."""
TIP_OFFSET = 0.022
"""Centre of the fingertip sphere from the DIP (IP) axis along the distal link."""
TIP_MASS = 0.008
THUMB_BASE_POS = (-0.02, -0.05, FINGER_AXIS_Z)
"""The thumb's CMC rotation axis on the palm's -y edge, 3 cm behind the palm centre."""
THUMB_BASE_MASS = 0.05
"""The CMC rotation servo and its bracket."""
# Thumb links, along -y of their bodies: (body, offset from the parent joint, capsule length, radius, mass).
_THUMB_LINKS = (
    ("metacarpal", 0.015, 0.040, 0.011, 0.06),
    ("proximal", 0.040, 0.035, 0.010, 0.045),
    ("distal", 0.035, 0.018, 0.0095, 0.013),
)
PAD_MARGIN = 0.002
"""How far the touch-sensing volume of a fingertip reaches beyond the pad's surface."""

# ---------------------------------------------------------------------------- contacts
# Collision bits: 1 the world (floor, table, objects), 2 the finger and thumb links, 4 the fingertips,
# 8 the palm. Links meet only the world; tips meet the world, each other and the palm; the palm meets
# the world and the tips. So a hand never collides with itself except where it can (a tip pressed
# into the palm or on another tip), and adjacent links never produce contacts.
_LINK_BITS = (2, 1)
_TIP_BITS = (4, 1 | 4 | 8)
_PALM_BITS = (8, 1 | 4)
LINK_FRICTION = (1.0, 0.005, 0.0001)
TIP_FRICTION = (1.5, 0.005, 0.0001)
"""Rubber pads: sliding friction 1.5; a torsional coefficient of 5 mm, about the radius of the
contact patch of a 12 mm pad pressed with a few newtons."""
TIP_CONDIM = 4
"""Fingertips resist spinning about the contact normal (torsional friction): without it an object
pinched between two tips pivots freely. One more constraint row per tip contact; other geoms use 3."""

TIMESTEP = 0.005
"""Physics step, s. The servos close at 10 Hz (omega * dt = 0.31) and contacts use MuJoCo's default
0.02 s time constant (at least two steps), so 5 ms is stable; a task picks its decimation."""
IMPRATIO = 10.0
"""Ratio of frictional to normal constraint impedance: with the elliptic cone, a value of 10 makes
grasped objects creep far less in a static grip than the default 1."""

DEFAULT_HEIGHT = 0.3
"""Height of the palm face above the world origin (the floor of the cube scene), m."""


def _vec(*v: float) -> list[float]:
    return [float(x) for x in v]


def _add_mass_box(
    body: mujoco.MjsBody, half: tuple[float, float, float], pos: tuple[float, float, float], mass: float
) -> None:
    """A mass-only part (a servo in its bracket): group 1, no collisions."""
    body.add_geom(
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=list(half),
        pos=list(pos),
        mass=mass,
        contype=0,
        conaffinity=0,
        group=1,
        rgba=[0.16, 0.17, 0.20, 1.0],
    )


def _add_joint(body: mujoco.MjsBody, name: str, axis: list[float]) -> None:
    _, motor_name, limits, _ = next(j for j in _JOINTS if j[0] == name)
    motor = MOTORS[motor_name]
    body.add_joint(
        name=name,
        type=mujoco.mjtJoint.mjJNT_HINGE,
        axis=axis,
        range=list(limits),
        limited=mujoco.mjtLimited.mjLIMITED_TRUE,
        armature=motor.armature,
        damping=motor.damping,
        frictionloss=motor.frictionloss,
    )


def _add_link_capsule(body: mujoco.MjsBody, name: str, end: list[float], radius: float, mass: float) -> None:
    body.add_geom(
        name=name,
        type=mujoco.mjtGeom.mjGEOM_CAPSULE,
        fromto=[0.0, 0.0, 0.0, *end],
        size=[radius, 0.0, 0.0],
        mass=mass,
        contype=_LINK_BITS[0],
        conaffinity=_LINK_BITS[1],
        condim=3,
        friction=list(LINK_FRICTION),
        rgba=[0.92, 0.93, 0.95, 1.0],
    )


def _add_tip(body: mujoco.MjsBody, finger: str, direction: np.ndarray) -> None:
    """The fingertip pad, its site ``<finger>_tip`` (the pad's centre) and the touch volume
    ``<finger>_pad``: a capsule around the whole distal link, so every contact on it is sensed."""
    centre = (TIP_OFFSET * direction).tolist()
    body.add_geom(
        name=f"{finger}_tip",
        type=mujoco.mjtGeom.mjGEOM_SPHERE,
        pos=centre,
        size=[TIP_RADIUS, 0.0, 0.0],
        mass=TIP_MASS,
        contype=_TIP_BITS[0],
        conaffinity=_TIP_BITS[1],
        condim=TIP_CONDIM,
        friction=list(TIP_FRICTION),
        rgba=[0.10, 0.10, 0.11, 1.0],
    )
    body.add_site(name=f"{finger}_tip", pos=centre, size=[0.004, 0.0, 0.0], group=4, rgba=[0.9, 0.2, 0.2, 1])
    body.add_site(
        name=f"{finger}_pad",
        type=mujoco.mjtGeom.mjGEOM_CAPSULE,
        fromto=[0.0, 0.0, 0.0, *centre],
        size=[TIP_RADIUS + PAD_MARGIN, 0.0, 0.0],
        group=5,
        rgba=[0.2, 0.6, 0.9, 0.3],
    )


def _add_finger(palm: mujoco.MjsBody, finger: str, y: float) -> None:
    x_axis = np.array([1.0, 0.0, 0.0])
    base = palm.add_body(name=f"{finger}_base", pos=[KNUCKLE_X, y, FINGER_AXIS_Z])
    _add_joint(base, f"{finger}_mcp_spread", _vec(0, 0, 1))
    _add_mass_box(base, (0.01, 0.01, 0.01), (0.002, 0.0, 0.0), SPREAD_MOTOR_MASS)
    parent = base
    # Flexion turns about -y, so a positive angle lifts the finger's tip towards +z (the palm side).
    for (link, offset, length, radius, mass), joint in zip(
        _FINGER_LINKS, ("mcp_flex", "pip_flex", "dip_flex"), strict=True
    ):
        body = parent.add_body(name=f"{finger}_{link}", pos=[offset, 0.0, 0.0])
        _add_joint(body, f"{finger}_{joint}", _vec(0, -1, 0))
        _add_link_capsule(body, f"{finger}_{link}", [length, 0.0, 0.0], radius, mass)
        parent = body
    _add_tip(parent, finger, x_axis)


def _add_thumb(palm: mujoco.MjsBody) -> None:
    # The thumb points along -y of its bodies. CMC rotation turns about -x (the palm's long axis), so
    # a positive angle lifts the thumb from the palm plane towards +z; CMC flexion about +z of the
    # rotated frame swings it towards the fingers (+x); MCP and IP flexion about -x curl its tip
    # towards the palm side of the thumb (+z of the rotated frame: over the palm when opposed).
    minus_y = np.array([0.0, -1.0, 0.0])
    base = palm.add_body(name="thumb_base", pos=list(THUMB_BASE_POS))
    _add_joint(base, "thumb_cmc_rot", _vec(-1, 0, 0))
    _add_mass_box(base, (0.012, 0.008, 0.01), (0.0, -0.006, 0.0), THUMB_BASE_MASS)
    parent = base
    axes = (_vec(0, 0, 1), _vec(-1, 0, 0), _vec(-1, 0, 0))
    for (link, offset, length, radius, mass), joint, axis in zip(
        _THUMB_LINKS, ("cmc_flex", "mcp_flex", "ip_flex"), axes, strict=True
    ):
        body = parent.add_body(name=f"thumb_{link}", pos=(offset * minus_y).tolist())
        _add_joint(body, f"thumb_{joint}", axis)
        _add_link_capsule(body, f"thumb_{link}", (length * minus_y).tolist(), radius, mass)
        parent = body
    _add_tip(parent, "thumb", minus_y)


def hand_spec(
    height: float = DEFAULT_HEIGHT, quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
) -> mujoco.MjSpec:
    """A fresh ``MjSpec`` of the hand alone, fixed to the world (no free joint), with its options,
    touch sensors and ``home`` keyframe.

    Args:
      height: height of the palm frame's origin (the centre of the palm face) above the world's, m.
      quat: orientation (w, x, y, z) of the palm frame in the world; the identity mounts it palm up.

    Raises:
      ValueError: ``height`` not finite or ``quat`` not a non-zero 4-vector.
    """
    if not math.isfinite(height):
        raise ValueError(f"hand_spec: height must be a finite number of metres, got {height!r}")
    if len(quat) != 4 or not np.all(np.isfinite(quat)) or np.linalg.norm(quat) == 0:
        raise ValueError(f"hand_spec: quat must be a non-zero (w, x, y, z) quaternion, got {quat!r}")
    spec = manipulator_spec("warplab_hand", TIMESTEP, IMPRATIO)

    palm = spec.worldbody.add_body(name="palm", pos=[0.0, 0.0, height], quat=list(quat))
    palm.add_geom(
        name="palm",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=list(PALM_HALF_SIZE),
        pos=[0.0, 0.0, -PALM_HALF_SIZE[2]],
        mass=PALM_MASS,
        contype=_PALM_BITS[0],
        conaffinity=_PALM_BITS[1],
        condim=3,
        friction=list(LINK_FRICTION),
        rgba=[0.92, 0.93, 0.95, 1.0],
    )
    # The wrist mount, decoration only: no mass, no collisions.
    palm.add_geom(
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        fromto=[
            -PALM_HALF_SIZE[0],
            0.0,
            -PALM_HALF_SIZE[2],
            -PALM_HALF_SIZE[0] - 0.06,
            0.0,
            -PALM_HALF_SIZE[2],
        ],
        size=[0.03, 0.0, 0.0],
        mass=0.0,
        contype=0,
        conaffinity=0,
        group=2,
        rgba=[0.17, 0.18, 0.21, 1.0],
    )
    palm.add_site(name="palm_center", size=[0.005, 0.0, 0.0], group=4, rgba=[0.9, 0.2, 0.2, 1])
    for i, finger in enumerate(FINGERS):
        _add_finger(palm, finger, (i - 1) * FINGER_SPACING)
    _add_thumb(palm)

    for name, motor_name, limits, _ in _JOINTS:
        motor = MOTORS[motor_name]
        act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=motor.kp, kv=motor.kd)
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.ctrlrange = list(limits)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-motor.stall_torque, motor.stall_torque]
    for finger in (*FINGERS, "thumb"):
        spec.add_sensor(
            name=f"{finger}_touch",
            type=mujoco.mjtSensor.mjSENS_TOUCH,
            objtype=mujoco.mjtObj.mjOBJ_SITE,
            objname=f"{finger}_pad",
        )
    home = [q for _, _, _, q in _JOINTS]
    spec.add_key(name="home", qpos=home, ctrl=home)
    return spec


# ---------------------------------------------------------------------------- description
HAND_JOINT_NAMES: tuple[str, ...] = tuple(name for name, _, _, _ in _JOINTS)
"""The 16 actuated joints in action order (index, middle, ring, thumb); actuators carry the same names."""
HAND_HOME: dict[str, float] = {name: home for name, _, _, home in _JOINTS}
"""Joint positions of the ``home`` pose, rad: fingers slightly curled, thumb opposed."""
HAND_JOINT_RANGES: dict[str, tuple[float, float]] = {name: limits for name, _, limits, _ in _JOINTS}
"""Joint ranges, rad; the actuators' control ranges equal them."""
TIP_SITES: tuple[str, ...] = tuple(f"{f}_tip" for f in (*FINGERS, "thumb"))
"""Fingertip sites (pad centres): index, middle, ring, thumb."""
TOUCH_SENSORS: tuple[str, ...] = tuple(f"{f}_touch" for f in (*FINGERS, "thumb"))
"""Touch sensors (normal contact force on each distal link, N), in the order of ``TIP_SITES``."""

HAND_ROBOT_CFG = RobotCfg(
    name="warplab_hand",
    spec=hand_spec,
    joint_names=HAND_JOINT_NAMES,
    default_joint_pos=dict(HAND_HOME),
    base_body="palm",
    # The model has its actuators; these groups record their gains for tasks and export.
    actuators=tuple(
        ActuatorGroupCfg(
            joints=name,
            kp=MOTORS[motor].kp,
            kd=MOTORS[motor].kd,
            effort_limit=MOTORS[motor].stall_torque,
            armature=MOTORS[motor].armature,
        )
        for name, motor, _, _ in _JOINTS
    ),
    # 0.25 rad of target per unit of action, about a sixth of a flexion range; the usual
    # 0.25 * effort / kp (0.047 rad) would leave the fingers too little reach per step.
    action_scale=0.25,
)
"""The hand as tasks use it (``warplab.assets.robot_cfg.RobotCfg``): mounted palm up at ``DEFAULT_HEIGHT``."""


# ---------------------------------------------------------------------------- the cube scene
CUBE_HALF_SIZE = 0.03
"""Half edge of the default cube, m: a 6 cm cube, the size of the blocks of in-hand reorientation work."""
CUBE_MASS = 0.1
CUBE_CENTER_X = 0.0
"""Where the cube rests along the palm's x axis: over the palm centre, 2 cm short of the knuckles."""


def hand_with_cube_spec(
    height: float = DEFAULT_HEIGHT,
    cube_half_size: float = CUBE_HALF_SIZE,
    cube_mass: float = CUBE_MASS,
    cube_friction: float = 1.0,
    floor: bool = True,
) -> mujoco.MjSpec:
    """The hand palm up at ``height`` with a free cube named ``cube`` resting on the palm's centre.

    The hand comes through ``HAND_ROBOT_CFG`` (so its ``home`` keyframe holds the default pose, with the
    cube at rest on the palm) and ``Scene`` adds the cube and, with ``floor``, a floor at z = 0 that
    catches a dropped cube, with lights and a sky.

    Args:
      height: height of the palm face, m.
      cube_half_size: half edge of the cube, m (at most the palm's half width, 0.05).
      cube_mass: mass of the cube, kg.
      cube_friction: its sliding friction (a contact uses the larger of its geoms' coefficients).
      floor: add the floor.

    Raises:
      ValueError: a cube larger than the palm, or a non-positive size or mass.
    """
    if not 0 < cube_half_size <= PALM_HALF_SIZE[1]:
        raise ValueError(
            f"hand_with_cube_spec: cube_half_size {cube_half_size} m must be in (0, {PALM_HALF_SIZE[1]}] "
            "so the cube rests on the palm"
        )
    if floor and height <= cube_half_size:
        raise ValueError(
            f"hand_with_cube_spec: height {height} m must exceed the cube's half size with a floor"
        )
    robot = dataclasses.replace(HAND_ROBOT_CFG, spec=functools.partial(hand_spec, height=height))
    cube = ObjectCfg(
        "cube",
        "box",
        size=(cube_half_size,) * 3,
        pos=(CUBE_CENTER_X, 0.0, height + cube_half_size),
        mass=cube_mass,
        friction=cube_friction,
        rgba=(0.85, 0.45, 0.15, 1.0),
    )
    return Scene(robot=robot, terrain="flat" if floor else None, objects=(cube,)).build()


__all__ = [
    "CUBE_HALF_SIZE",
    "CUBE_MASS",
    "DEFAULT_HEIGHT",
    "FINGERS",
    "HAND_HOME",
    "HAND_JOINT_NAMES",
    "HAND_JOINT_RANGES",
    "HAND_ROBOT_CFG",
    "MOTORS",
    "Motor",
    "TIP_SITES",
    "TOUCH_SENSORS",
    "hand_spec",
    "hand_with_cube_spec",
]
