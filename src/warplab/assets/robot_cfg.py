"""What a task needs to know about a robot, so that any robot plugs into the same tasks.

A ``RobotCfg`` names the robot's parts (base, feet), its actuated joints in action order, its
default pose, and the gains of its joint actuators. ``build_robot_spec`` turns it into an ``MjSpec``
ready for a scene: it adds position actuators where the model has none (URDF files carry none) and a
``home`` keyframe with the default pose, so the environment resets to it.

The model may come from anywhere that gives an ``MjSpec``: the project's own robots
(``warplab.assets.robots``), a user's MJCF or URDF file (``mujoco.MjSpec.from_file``), or a MuJoCo
Menagerie robot by name (``warplab.assets.menagerie``). ``docs/robots/bring_your_own.md`` shows each.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import mujoco
import numpy as np


@dataclasses.dataclass
class ActuatorGroupCfg:
    """Position actuators for the joints matching ``joints`` (a regular expression, full match)."""

    joints: str
    kp: float
    """Stiffness, N·m/rad (or N/m for slide joints)."""
    kd: float
    """Damping, N·m·s/rad."""
    effort_limit: float
    """Largest torque the actuator applies, N·m."""
    armature: float | None = None
    """Reflected rotor inertia to set on the joints, kg·m² (None: keep the model's)."""


@dataclasses.dataclass
class RobotCfg:
    """A robot as the tasks see it.

    ``joint_names`` sets the order of actions and joint observations. Names are regular
    expressions where the field says so (full match).
    """

    name: str
    spec: Callable[[], mujoco.MjSpec]
    """Builds the robot alone (no floor), with a free joint on its base for a mobile robot."""
    joint_names: tuple[str, ...]
    """The actuated joints, in action order."""
    default_joint_pos: dict[str, float]
    """Default (home) position per joint, rad; keys are regular expressions; joints not matched are 0."""
    base_body: str
    """The floating base's body (the pelvis of a humanoid)."""
    feet_bodies: tuple[str, ...] = ()
    """Bodies whose contacts are footsteps."""
    torso_body: str | None = None
    """The upper body, for orientation terms; None: the base."""
    base_height: float = 1.0
    """Height of the base above the ground in the home pose, m."""
    actuators: tuple[ActuatorGroupCfg, ...] = ()
    """Position actuators to add when the model has none for these joints."""
    replace_actuators: bool = False
    """Delete the model's own actuators first, so that ``actuators`` drives every joint (for models
    whose joints are driven by torque motors, as most Menagerie humanoids are)."""
    action_scale: float | dict[str, float] = 0.25
    """Action to joint-target scale, rad per unit action: one value, or per joint by regular expression."""
    illegal_contact_bodies: tuple[str, ...] = ()
    """Bodies whose touching the ground ends an episode (e.g. the pelvis and torso)."""

    def resolve(
        self, values: dict[str, float], joints: tuple[str, ...] | None = None, default: float = 0.0
    ) -> np.ndarray:
        """Per-joint values (in ``joint_names`` order) from ``{regex: value}``; the first match wins."""
        joints = self.joint_names if joints is None else joints
        out = np.full(len(joints), default, dtype=np.float64)
        for i, joint in enumerate(joints):
            for pattern, value in values.items():
                if re.fullmatch(pattern, joint):
                    out[i] = value
                    break
        return out

    def action_scales(self) -> np.ndarray:
        """Action scale per joint, in action order.

        Raises:
          ValueError: ``action_scale`` is a dict and no pattern of it matches some joint.
        """
        if isinstance(self.action_scale, dict):
            scales = self.resolve(self.action_scale, default=float("nan"))
            unmatched = [j for j, s in zip(self.joint_names, scales, strict=True) if np.isnan(s)]
            if unmatched:
                raise ValueError(
                    f"robot {self.name!r}: no pattern of action_scale {list(self.action_scale)} matches "
                    f"joints {unmatched}; give every joint a scale (e.g. a final '.*' entry)"
                )
            return scales
        return np.full(len(self.joint_names), float(self.action_scale))


def build_robot_spec(robot: RobotCfg) -> mujoco.MjSpec:
    """The robot's spec with actuators for every joint in ``joint_names`` and a ``home`` keyframe.

    Joints without an actuator get a position actuator named like the joint, with the gains and
    effort limit of the first ``ActuatorGroupCfg`` that matches them; ``replace_actuators`` first
    deletes the model's own actuators (with the sensors of their forces and the controls its keyframes
    hold for them).

    Raises:
      ValueError: naming the robot and the joint, body or pattern at fault: a joint in
        ``joint_names`` is missing or not a hinge or slide joint; an actuator in the model drives
        such a joint under another name (tasks address actuators by joint name); no actuator and
        no ``ActuatorGroupCfg`` for a joint; a pattern in ``default_joint_pos``, ``actuators`` or
        ``action_scale`` that matches no joint; the default pose outside a joint's range; a body
        (base, torso, feet, illegal contacts) the model lacks.
    """
    spec = robot.spec()
    joints = {j.name: j for j in spec.joints}
    missing = [n for n in robot.joint_names if n not in joints]
    if missing:
        raise ValueError(
            f"robot {robot.name!r}: joints {missing} are not in the model; it has {sorted(joints)}"
        )
    for name in robot.joint_names:
        if joints[name].type not in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
            raise ValueError(
                f"robot {robot.name!r}: joint {name!r} is a {joints[name].type.name} joint; "
                "joint_names lists the actuated hinge and slide joints"
            )
    _check_patterns(robot)
    if robot.replace_actuators:
        _delete_actuators(spec)
    driven = {a.target: a.name for a in spec.actuators if a.trntype == mujoco.mjtTrn.mjTRN_JOINT and a.target}
    for name in robot.joint_names:
        if name in driven:
            if driven[name] != name:
                raise ValueError(
                    f"robot {robot.name!r}: joint {name!r} is driven by actuator {driven[name]!r}; tasks "
                    "address actuators by joint name: rename it, or set replace_actuators=True"
                )
            continue
        group = next((g for g in robot.actuators if re.fullmatch(g.joints, name)), None)
        if group is None:
            raise ValueError(
                f"robot {robot.name!r}: joint {name!r} has no actuator in the model and no "
                "ActuatorGroupCfg matches it; add one to RobotCfg.actuators"
            )
        act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=group.kp, kv=group.kd)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-group.effort_limit, group.effort_limit]
        if group.armature is not None:
            joints[name].armature = group.armature
    _add_home_keyframe(spec, robot)
    return spec


def _delete_actuators(spec: mujoco.MjSpec) -> None:
    # What refers to an actuator goes with it, or the spec no longer compiles.
    for sensor in list(spec.sensors):
        if sensor.objtype == mujoco.mjtObj.mjOBJ_ACTUATOR:
            spec.delete(sensor)
    for actuator in list(spec.actuators):
        spec.delete(actuator)
    for key in spec.keys:
        key.ctrl = []


def _check_patterns(robot: RobotCfg) -> None:
    # A pattern that matches no joint is a typo, and would silently leave joints at 0 or ungoverned.
    fields = {
        "default_joint_pos": list(robot.default_joint_pos),
        "actuators": [g.joints for g in robot.actuators],
        "action_scale": list(robot.action_scale) if isinstance(robot.action_scale, dict) else [],
    }
    for field, patterns in fields.items():
        for pattern in patterns:
            if not any(re.fullmatch(pattern, j) for j in robot.joint_names):
                raise ValueError(
                    f"robot {robot.name!r}: {field} pattern {pattern!r} matches none of joint_names "
                    f"{list(robot.joint_names)}"
                )


def _check_bodies(robot: RobotCfg, spec_bodies: set[str], model: mujoco.MjModel) -> None:
    named = {
        "base_body": [robot.base_body],
        "torso_body": [robot.torso_body] if robot.torso_body else [],
        "feet_bodies": list(robot.feet_bodies),
        "illegal_contact_bodies": list(robot.illegal_contact_bodies),
    }
    compiled = {model.body(i).name for i in range(model.nbody)}
    for field, names in named.items():
        for name in names:
            if name not in spec_bodies:
                raise ValueError(
                    f"robot {robot.name!r}: {field} {name!r} is not a body of the model; it has "
                    f"{sorted(b for b in spec_bodies if b != 'world')}"
                )
            if name not in compiled:
                # URDF links fixed to their parent vanish this way: MuJoCo's URDF import fuses them.
                raise ValueError(
                    f"robot {robot.name!r}: {field} {name!r} has no joint and was fused into its parent "
                    "by the compiler; set spec.compiler.fusestatic = False in RobotCfg.spec"
                )


def _add_home_keyframe(spec: mujoco.MjSpec, robot: RobotCfg) -> None:
    bodies = {b.name for b in spec.bodies}  # before compiling: fusing static bodies edits the spec
    model = spec.compile()
    _check_bodies(robot, bodies, model)
    qpos = model.qpos0.copy()
    pose = robot.resolve(robot.default_joint_pos)
    for name, value in zip(robot.joint_names, pose, strict=True):
        jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
        lo, hi = model.jnt_range[jid]
        if model.jnt_limited[jid] and not lo <= value <= hi:
            raise ValueError(
                f"robot {robot.name!r}: default position {value} of {name!r} is outside its range [{lo}, {hi}]"
            )
        qpos[model.jnt_qposadr[jid]] = value
    base = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, robot.base_body)
    free = [
        j
        for j in range(model.njnt)
        if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE and model.jnt_bodyid[j] == base
    ]
    if free:
        qpos[model.jnt_qposadr[free[0]] + 2] = robot.base_height
    ctrl = np.zeros(model.nu)
    for a in range(model.nu):
        jid = model.actuator_trnid[a, 0]
        if (
            model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT
            and model.actuator_biastype[a] == mujoco.mjtBias.mjBIAS_AFFINE
        ):
            ctrl[a] = qpos[model.jnt_qposadr[jid]]
    for key in list(spec.keys):
        if key.name == "home":
            spec.delete(key)
    spec.add_key(name="home", qpos=qpos.tolist(), ctrl=ctrl.tolist())
