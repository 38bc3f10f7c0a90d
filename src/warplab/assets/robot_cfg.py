"""What a task needs to know about a robot, so that any robot plugs into the same tasks.

A ``RobotCfg`` names the robot's parts (base, feet), its actuated joints in action order, its
default pose, and the gains of its joint actuators. ``build_robot_spec`` turns it into an ``MjSpec``
ready for a scene: it adds position actuators where the model has none (URDF files carry none) and a
``home`` keyframe with the default pose, so the environment resets to it.
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
        """Action scale per joint, in action order."""
        if isinstance(self.action_scale, dict):
            return self.resolve(self.action_scale, default=float("nan"))
        return np.full(len(self.joint_names), float(self.action_scale))


def build_robot_spec(robot: RobotCfg) -> mujoco.MjSpec:
    """The robot's spec with actuators for every joint in ``joint_names`` and a ``home`` keyframe.

    Raises:
      ValueError: a joint in ``joint_names`` is missing, has no actuator and no ``ActuatorGroupCfg``
        matches it, or the default pose lies outside a joint's range.
    """
    spec = robot.spec()
    joints = {j.name: j for j in spec.joints}
    missing = [n for n in robot.joint_names if n not in joints]
    if missing:
        raise ValueError(
            f"robot {robot.name!r}: joints {missing} are not in the model; it has {sorted(joints)}"
        )
    driven = {a.target for a in spec.actuators}
    for name in robot.joint_names:
        if name in driven:
            continue
        group = next((g for g in robot.actuators if re.fullmatch(g.joints, name)), None)
        if group is None:
            raise ValueError(
                f"robot {robot.name!r}: joint {name!r} has no actuator in the model and no ActuatorGroupCfg matches it"
            )
        act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=group.kp, kv=group.kd)
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-group.effort_limit, group.effort_limit]
        if group.armature is not None:
            joints[name].armature = group.armature
    _add_home_keyframe(spec, robot)
    return spec


def _add_home_keyframe(spec: mujoco.MjSpec, robot: RobotCfg) -> None:
    model = spec.compile()
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
    if base < 0:
        raise ValueError(f"robot {robot.name!r}: base_body {robot.base_body!r} is not a body of the model")
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
        if model.actuator_biastype[a] == mujoco.mjtBias.mjBIAS_AFFINE:
            ctrl[a] = qpos[model.jnt_qposadr[jid]]
    for key in list(spec.keys):
        if key.name == "home":
            spec.delete(key)
    spec.add_key(name="home", qpos=qpos.tolist(), ctrl=ctrl.tolist())
