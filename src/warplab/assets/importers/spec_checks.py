"""The numbers of an imported model, checked before anything is simulated with them.

MuJoCo's compiler refuses some impossible values itself (a negative geom mass, a moving body
without mass), but it takes others without a word: a NaN damping, armature or gain, a negative
damping or stiffness (which pumps energy in), a NaN in a keyframe, a zero or NaN time step, and a
joint range whose lower end is above its upper end, which it silently treats as no limit at all.
``check_spec`` refuses all of these for every format, naming the file, the element and the value.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Iterable

import mujoco
import numpy as np

from warplab.assets.importers.files import AssetError

_MAX_LISTED = 4
"""Problems named in one error; the rest are counted."""


def _values(value) -> np.ndarray:
    return np.asarray(list(value) if not np.isscalar(value) else [value], dtype=float).reshape(-1)


def _show(value) -> str:
    values = _values(value)
    return f"{values[0]:g}" if values.size == 1 else "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _name(kind: str, element, index: int) -> str:
    return f"{kind} {element.name!r}" if element.name else f"{kind} #{index}"


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def finite(self, where: str, field: str, value) -> bool:
        if not np.all(np.isfinite(_values(value))):
            self.items.append(f"{where}: {field} {_show(value)} is not finite")
            return False
        return True

    def non_negative(self, where: str, field: str, value, why: str) -> None:
        if self.finite(where, field, value) and np.any(_values(value) < 0):
            self.items.append(f"{where}: {field} {_show(value)} is negative ({why})")

    def ordered(self, where: str, field: str, value, limited, unlimited_hint: str) -> None:
        lo, hi = _values(value)[:2]
        if limited == mujoco.mjtLimited.mjLIMITED_FALSE:
            return  # an unused range
        if not (math.isfinite(lo) and math.isfinite(hi)):
            self.items.append(f"{where}: {field} {_show(value)} is not finite ({unlimited_hint})")
        elif lo > hi:
            self.items.append(
                f"{where}: {field} {_show(value)} has its lower end above its upper end (MuJoCo "
                f"would drop the limit without a word); give [lower, upper] with lower < upper"
            )


def spec_problems(spec: mujoco.MjSpec) -> list[str]:
    """Every impossible number in ``spec``, one phrase each (empty when all are sound)."""
    p = _Problems()
    if p.finite("option", "timestep", spec.option.timestep) and spec.option.timestep <= 0:
        p.items.append(f"option: timestep {spec.option.timestep:g} s is not positive")
    p.finite("option", "gravity", spec.option.gravity)
    for i, body in enumerate(spec.bodies):
        where = _name("body", body, i)
        p.finite(where, "pos", body.pos)
        p.finite(where, "quat", body.quat)
        _alternative_orientation(p, where, body.alt)
        if body.explicitinertial:
            p.non_negative(where, "mass", body.mass, "a mass is at least 0 kg")
            p.non_negative(where, "inertia", body.inertia, "principal moments of inertia are at least 0")
            p.finite(where, "inertial pos", body.ipos)
            p.finite(where, "inertial quat", body.iquat)
    for i, joint in enumerate(spec.joints):
        where = _name("joint", joint, i)
        for field in ("pos", "axis", "ref", "springref"):
            p.finite(where, field, getattr(joint, field))
        for field in ("armature", "frictionloss"):
            p.non_negative(where, field, getattr(joint, field), "it would feed energy into the joint")
        for field in ("damping", "stiffness"):
            # Polynomials in MuJoCo's spec: the first coefficient is the linear one.
            value = _values(getattr(joint, field))
            if p.finite(where, field, value) and value[0] < 0:
                p.items.append(
                    f"{where}: {field} {value[0]:g} is negative (it would feed energy into the joint)"
                )
        if joint.type != mujoco.mjtJoint.mjJNT_FREE:
            p.ordered(
                where, "range", joint.range, joint.limited, 'leave the joint unlimited with limited="false"'
            )
        p.ordered(where, "actuatorfrcrange", joint.actfrcrange, joint.actfrclimited, "leave it unlimited")
    for i, geom in enumerate(spec.geoms):
        where = _name("geom", geom, i)
        p.finite(where, "size", geom.size)
        p.finite(where, "pos", geom.pos)
        p.finite(where, "quat", geom.quat)
        _alternative_orientation(p, where, geom.alt)
        p.non_negative(where, "friction", geom.friction, "friction coefficients are at least 0")
        p.non_negative(where, "density", geom.density, "a density is at least 0")
        if not math.isnan(geom.mass):  # NaN is MuJoCo's "not given": the mass comes from the density
            p.non_negative(where, "mass", geom.mass, "a mass is at least 0 kg")
    for i, actuator in enumerate(spec.actuators):
        where = _name("actuator", actuator, i)
        for field in ("gear", "gainprm", "biasprm", "dynprm"):
            p.finite(where, field, getattr(actuator, field))
        for field, limited in (
            ("ctrlrange", actuator.ctrllimited),
            ("forcerange", actuator.forcelimited),
            ("actrange", actuator.actlimited),
        ):
            p.ordered(where, field, getattr(actuator, field), limited, "leave it unlimited")
    for i, key in enumerate(spec.keys):
        where = _name("keyframe", key, i)
        for field in ("qpos", "qvel", "act", "ctrl", "mpos", "mquat"):
            values = list(getattr(key, field))
            if values:
                p.finite(where, field, values)
    return p.items


def _alternative_orientation(p: _Problems, where: str, alt) -> None:
    # An orientation given as Euler angles, an axis and angle or axes is turned into a quaternion
    # at compile time; a NaN in it becomes a NaN quaternion.
    kind = alt.type
    fields = {
        mujoco.mjtOrientation.mjORIENTATION_EULER: "euler",
        mujoco.mjtOrientation.mjORIENTATION_AXISANGLE: "axisangle",
        mujoco.mjtOrientation.mjORIENTATION_XYAXES: "xyaxes",
        mujoco.mjtOrientation.mjORIENTATION_ZAXIS: "zaxis",
    }
    if kind in fields:
        p.finite(where, fields[kind], getattr(alt, fields[kind]))


def format_problems(source: str | pathlib.Path, problems: Iterable[str]) -> str:
    """One line naming ``source`` and the first few problems, counting the rest."""
    problems = list(problems)
    listed = "; ".join(problems[:_MAX_LISTED])
    more = f"; and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
    return f"{source}: {listed}{more}"


def check_spec(spec: mujoco.MjSpec, source: str | pathlib.Path) -> mujoco.MjSpec:
    """``spec`` itself, when every number in it is sound.

    Raises:
      AssetError: naming ``source``, each element at fault (``joint 'knee'``), the field and its value.
    """
    problems = spec_problems(spec)
    if problems:
        raise AssetError(format_problems(source, problems))
    return spec
