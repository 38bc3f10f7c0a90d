"""Names to indices: bodies, joints, actuators and sensors of a compiled model, as device tensors.

Terms name what they act on (``"torso"``, ``".*_knee"``); this resolves names once, with regular
expressions, and caches the index tensors so that the step does no string work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import mujoco
import numpy as np
import torch

_OBJ = {
    "body": (mujoco.mjtObj.mjOBJ_BODY, "nbody"),
    "joint": (mujoco.mjtObj.mjOBJ_JOINT, "njnt"),
    "actuator": (mujoco.mjtObj.mjOBJ_ACTUATOR, "nu"),
    "geom": (mujoco.mjtObj.mjOBJ_GEOM, "ngeom"),
    "sensor": (mujoco.mjtObj.mjOBJ_SENSOR, "nsensor"),
    "site": (mujoco.mjtObj.mjOBJ_SITE, "nsite"),
}

Names = str | Sequence[str] | None


class SceneIndex:
    """Looks up model elements by name or regular expression (full match)."""

    def __init__(self, mjm: mujoco.MjModel, device: torch.device):
        self.mjm = mjm
        self.device = device
        self._cache: dict[tuple, torch.Tensor] = {}
        self._checked: dict[tuple, Any] = {}
        self.names = {
            kind: [mujoco.mj_id2name(mjm, obj, i) or "" for i in range(getattr(mjm, count))]
            for kind, (obj, count) in _OBJ.items()
        }
        free = np.flatnonzero(mjm.jnt_type == mujoco.mjtJoint.mjJNT_FREE)
        self.root_joint: int | None = int(free[0]) if len(free) else None
        """The first free joint, which the base terms (base velocities, pushes, base resets) read as
        the floating base, or None when the model has none."""
        self.robot_root_joint: int | None = robot_root_joint(mjm)
        """The robot's own floating base (``robot_root_joint``): None for a robot fixed to the world
        even where a free object is in the scene (a cube in a hand). Export and sim-to-sim use it;
        where it differs from ``root_joint``, no base term belongs in the task."""
        self.root_adr: tuple[int, int] | None = (
            None
            if self.root_joint is None
            else (int(mjm.jnt_qposadr[self.root_joint]), int(mjm.jnt_dofadr[self.root_joint]))
        )
        """``(qpos address, dof address)`` of the floating base, as Python ints (terms read them at
        every step; reading the MuJoCo model there would stop ``torch.compile``'s tracing)."""
        hinge_slide = (mjm.jnt_type == mujoco.mjtJoint.mjJNT_HINGE) | (
            mjm.jnt_type == mujoco.mjtJoint.mjJNT_SLIDE
        )
        self.scalar_joints = np.flatnonzero(hinge_slide)
        """Hinge and slide joints, in model order."""

    def ids(self, kind: str, names: Names = None) -> list[int]:
        """Indices of elements of ``kind`` whose names fully match any of ``names`` (in model order).

        ``None`` means all (for joints: all hinge and slide joints).
        """
        if kind not in self.names:
            raise ValueError(f"unknown element kind {kind!r}; known: {sorted(self.names)}")
        all_names = self.names[kind]
        if names is None:
            if kind == "joint":
                return [int(i) for i in self.scalar_joints]
            return list(range(len(all_names)))
        patterns = [names] if isinstance(names, str) else list(names)
        found: list[int] = []
        for pattern in patterns:
            rx = re.compile(pattern)
            hits = [i for i, n in enumerate(all_names) if rx.fullmatch(n)]
            if not hits:
                shown = [n for n in all_names if n][:40]
                raise KeyError(f"no {kind} named {pattern!r} in the model; its {kind}s are: {shown}")
            found.extend(h for h in hits if h not in found)
        return sorted(found)

    def tensor(self, kind: str, names: Names = None, field: str | None = None) -> torch.Tensor:
        """Cached long tensor of ids, or of a per-element model field (``"qposadr"``, ``"dofadr"``).

        Terms call this every step: after the first call it is one dict look-up, no regex work.
        """
        key = (kind, names if names is None or isinstance(names, str) else tuple(names), field)
        t = self._cache.get(key)
        if t is None:
            if kind == "joint" and field in ("qposadr", "dofadr"):
                self._check_scalar(names)
            ids = self.ids(kind, names)
            if field is not None:
                values = getattr(self.mjm, f"{'jnt' if kind == 'joint' else kind}_{field}")
                ids = [int(values[i]) for i in ids]
            t = torch.as_tensor(ids, dtype=torch.long, device=self.device)
            self._cache[key] = t
        return t

    def once(self, key: tuple, check: Callable[[], Any]) -> Any:
        """``check()`` the first time ``key`` is seen, its result ever after.

        For terms that check the model on the host (reading the ``MjModel``) before they act: at
        every later step they then read nothing but this dict, which keeps the step free of host
        work and traceable by ``torch.compile``. Lists in ``key`` are made hashable.
        """
        key = tuple(tuple(k) if isinstance(k, list) else k for k in key)
        if key not in self._checked:
            self._checked[key] = check()
        return self._checked[key]

    def joint_qpos_ids(self, names: Names = None) -> torch.Tensor:
        """qpos columns of hinge/slide joints ``names``."""
        return self.tensor("joint", names, "qposadr")

    def joint_dof_ids(self, names: Names = None) -> torch.Tensor:
        """qvel columns of hinge/slide joints ``names``."""
        return self.tensor("joint", names, "dofadr")

    def _check_scalar(self, names: Names) -> None:
        bad = [self.names["joint"][i] for i in self.ids("joint", names) if i not in set(self.scalar_joints)]
        if bad:
            raise ValueError(f"joints {bad} are not hinge or slide joints (one coordinate each)")

    def actuator_joint_ids(self, actuators: Names = None) -> list[int]:
        """For each actuator (by name), the joint it drives; raises for tendon or site actuators."""
        out = []
        for a in self.ids("actuator", actuators):
            # int(): a numpy integer is never `in` a tuple of MuJoCo enums (the enum's == rejects it).
            if int(self.mjm.actuator_trntype[a]) not in (
                mujoco.mjtTrn.mjTRN_JOINT,
                mujoco.mjtTrn.mjTRN_JOINTINPARENT,
            ):
                raise ValueError(f"actuator {self.names['actuator'][a]!r} does not drive a joint")
            out.append(int(self.mjm.actuator_trnid[a, 0]))
        return out

    def sensor_slice(self, name: str) -> slice:
        """Columns of ``sensordata`` that belong to sensor ``name``."""
        (i,) = self.ids("sensor", name)[:1]
        adr, dim = int(self.mjm.sensor_adr[i]), int(self.mjm.sensor_dim[i])
        return slice(adr, adr + dim)


def robot_root_joint(mjm: mujoco.MjModel) -> int | None:
    """The free joint of the robot's root body, or None when the robot is fixed to the world.

    The robot is what the actuators drive: the root bodies (children of the world) of the trees that
    hold the joints with an actuator. Its base floats when such a root has a free joint; a free body
    that no actuator reaches (an object in a hand, a box on the floor) is never the base. A model
    with no actuator on a joint says nothing of its robot: its first free joint is taken, if any.
    """
    free = [j for j in range(mjm.njnt) if int(mjm.jnt_type[j]) == int(mujoco.mjtJoint.mjJNT_FREE)]
    driven = [
        int(mjm.actuator_trnid[a, 0])
        for a in range(mjm.nu)
        if int(mjm.actuator_trntype[a]) == int(mujoco.mjtTrn.mjTRN_JOINT)
    ]
    if not driven:
        return free[0] if free else None
    roots = {int(mjm.body_rootid[mjm.jnt_bodyid[j]]) for j in driven}
    floating = [j for j in free if int(mjm.jnt_bodyid[j]) in roots]
    return floating[0] if floating else None
