"""The bounds of the divergence guard: how far a world's state may go before it counts as diverged.

A diverged world is not only one whose state holds NaN: an integrator that is unstable, or a
constraint too soft for its timestep, can carry a world far from anything physical while every
number stays finite (a cart 89 km along a 3 m rail). The guard (``Simulation.flag_diverged``)
therefore also checks the state against bounds derived once from the model, each far outside what
a world that is still physics can reach:

- **Limited hinge and slide joints** may pass their range by ``SimCfg.joint_range_margin`` times
  the range's width, plus 0.5 rad (hinge) or 0.1 m (slide). MuJoCo's joint limits are soft
  constraints: a joint passes its limit by an amount that grows with the force pushing it there
  and with the limit's softness (``solref``). The built-in tasks, driven by random actions, pass
  their limits by at most 0.26 rad and a quarter of the range's width (Ant-v5 and Humanoid-v5,
  whose motors are strong); the margin is at least five times what each joint reached. The
  absolute part keeps narrow ranges from getting a margin of almost nothing. The
  interval also covers the model's ``qpos0`` and keyframes (a model may start a joint outside its
  range and let the limit push it in). Ball joints' ranges are not checked (their speed is).
- **Positions on free joints and unlimited slides** may lie up to ``SimCfg.max_free_distance``
  from the centre of the model (``stat.center``) per axis: by default 1000 times the model's size
  (``stat.extent``, which MuJoCo computes to span every body and every bounded geom: the robot
  and its terrain; a model file's ``<statistic extent=...>``, a setting of the viewer's camera,
  replaces it, and with it these bounds).
  Nothing of the scene lies there, and reaching it at the speed of a running humanoid would take
  longer than any episode; a runaway world passes it quickly.
- **Speeds** (``SimCfg.max_abs_qvel``, by default per dof): a rotation of more than half a turn
  per physics step, ``pi / timestep`` rad/s, cannot be resolved by the step at all (its poses are
  also those of a slower rotation the other way); a translation of more than the model's size per
  step, ``stat.extent / timestep`` m/s, carries a body through anything it could touch. The
  built-in tasks' random motion stays about 20 times below these or more.
- **Accelerations** above ``SimCfg.max_abs_qacc`` (a fixed 1e7, m/s^2 or rad/s^2).

Quaternions (free and ball joints) and unlimited hinges are only required to be finite. Every
bound is finite (at most float32's largest value), so the comparisons also catch NaN and inf.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import mujoco
import numpy as np
import torch

if TYPE_CHECKING:
    from warplab.sim.simulation import SimCfg

HINGE_TOLERANCE_RAD = 0.5
"""Absolute part of a limited hinge's margin past its range, rad."""

SLIDE_TOLERANCE_M = 0.1
"""Absolute part of a limited slide's margin past its range, m."""

FREE_DISTANCE_EXTENTS = 1000.0
"""Default ``max_free_distance``, in model sizes (``stat.extent``)."""

CAUSES = ("non_finite", "position", "speed", "acceleration")
"""What made a world diverge, in the order of ``Simulation.divergence_causes``."""

_FLOAT32_MAX = float(np.finfo(np.float32).max)

# Plain integers: a numpy integer read from the model does not compare equal to MuJoCo's enums.
_FREE, _SLIDE, _HINGE = (
    int(t) for t in (mujoco.mjtJoint.mjJNT_FREE, mujoco.mjtJoint.mjJNT_SLIDE, mujoco.mjtJoint.mjJNT_HINGE)
)


@dataclasses.dataclass(frozen=True)
class DivergenceBounds:
    """The guard's bounds as device tensors, made once (``divergence_bounds``).

    A world is within bounds when ``|qpos - qpos_center| <= qpos_half`` and ``|qvel| <= qvel_max``
    and ``|qacc| <= qacc_max`` hold for every coordinate.

    Attributes:
      qpos_center: ``[nq]`` centre of each coordinate's interval (rad or m; 0 for quaternions).
      qpos_half: ``[nq]`` half width of each interval (float32's largest value where unbounded).
      qvel_max: ``[nv]`` largest joint speed, m/s or rad/s.
      qacc_max: ``[nv]`` largest joint acceleration, m/s^2 or rad/s^2.
    """

    qpos_center: torch.Tensor
    qpos_half: torch.Tensor
    qvel_max: torch.Tensor
    qacc_max: torch.Tensor


def divergence_bounds(mjm: mujoco.MjModel, cfg: SimCfg, device: torch.device) -> DivergenceBounds:
    """The guard's bounds for ``mjm`` under ``cfg`` (see the module docstring for each).

    Raises:
      ValueError: a bound of ``cfg`` is negative, zero or NaN; the message names the field.
    """
    _check_cfg(cfg)
    lo, hi = _qpos_intervals(mjm, cfg)
    bounded = np.isfinite(lo) & np.isfinite(hi)
    center, half = np.zeros(mjm.nq), np.full(mjm.nq, math.inf)
    center[bounded] = (lo[bounded] + hi[bounded]) / 2
    half[bounded] = (hi[bounded] - lo[bounded]) / 2
    qvel_max = _speed_bounds(mjm, cfg)
    qacc_max = np.full(mjm.nv, cfg.max_abs_qacc, dtype=float)

    def tensor(values: np.ndarray) -> torch.Tensor:
        # Infinite bounds become float32's largest value: inf would let an infinite state pass.
        return torch.as_tensor(np.minimum(values, _FLOAT32_MAX), dtype=torch.float32, device=device)

    return DivergenceBounds(tensor(center), tensor(half), tensor(qvel_max), tensor(qacc_max))


def _qpos_intervals(mjm: mujoco.MjModel, cfg: SimCfg) -> tuple[np.ndarray, np.ndarray]:
    """``(lo [nq], hi [nq])``: the interval each position coordinate must stay in (``-inf, inf``
    where only finiteness is required)."""
    lo = np.full(mjm.nq, -math.inf)
    hi = np.full(mjm.nq, math.inf)
    starts = np.vstack([mjm.qpos0[None], mjm.key_qpos]) if mjm.nkey else mjm.qpos0[None]
    extent = float(mjm.stat.extent)
    distance = (
        FREE_DISTANCE_EXTENTS * extent if cfg.max_free_distance is None else float(cfg.max_free_distance)
    )
    center = np.asarray(mjm.stat.center, dtype=float)
    limits_on = not int(mjm.opt.disableflags) & mujoco.mjtDisableBit.mjDSBL_LIMIT
    for j in range(mjm.njnt):
        adr = mjm.jnt_qposadr[j]
        kind = int(mjm.jnt_type[j])
        if kind == _FREE:
            # Positions about the model's centre, widened to hold every start (keyframes).
            reach = np.abs(starts[:, adr : adr + 3] - center).max(axis=0)
            lo[adr : adr + 3] = center - reach - distance
            hi[adr : adr + 3] = center + reach + distance
        elif kind in (_HINGE, _SLIDE):
            first, last = starts[:, adr].min(), starts[:, adr].max()
            if mjm.jnt_limited[j] and limits_on and math.isfinite(cfg.joint_range_margin):
                low, high = mjm.jnt_range[j]
                tolerance = HINGE_TOLERANCE_RAD if kind == _HINGE else SLIDE_TOLERANCE_M
                margin = cfg.joint_range_margin * (high - low) + tolerance
                lo[adr] = min(low, first) - margin
                hi[adr] = max(high, last) + margin
            elif kind == _SLIDE:
                lo[adr] = first - distance
                hi[adr] = last + distance
    return lo, hi


def _check_cfg(cfg: SimCfg) -> None:
    checks = (
        ("joint_range_margin", cfg.joint_range_margin, False, ">= 0 (inf: ranges unchecked)"),
        ("max_free_distance", cfg.max_free_distance, True, "> 0 m or None (derived from the model)"),
        ("max_abs_qvel", cfg.max_abs_qvel, True, "> 0 or None (derived from the model)"),
        ("max_abs_qacc", cfg.max_abs_qacc, False, "> 0"),
    )
    for name, value, may_be_none, right in checks:
        if value is None and may_be_none:
            continue
        positive_needed = name != "joint_range_margin"
        ok = (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and not math.isnan(value)
            and (value > 0 if positive_needed else value >= 0)
        )
        if not ok:
            raise ValueError(f"SimCfg.{name} must be {right}, got {value!r}")


def _speed_bounds(mjm: mujoco.MjModel, cfg: SimCfg) -> np.ndarray:
    """``[nv]`` largest speed of each dof: ``cfg.max_abs_qvel`` for all, or per dof ``pi / timestep``
    (rotations) and ``stat.extent / timestep`` (translations)."""
    if cfg.max_abs_qvel is not None:
        return np.full(mjm.nv, float(cfg.max_abs_qvel))
    dt = float(mjm.opt.timestep)
    rotation, translation = math.pi / dt, float(mjm.stat.extent) / dt
    out = np.full(mjm.nv, rotation)
    for j in range(mjm.njnt):
        adr = mjm.jnt_dofadr[j]
        if int(mjm.jnt_type[j]) == _FREE:
            out[adr : adr + 3] = translation
        elif int(mjm.jnt_type[j]) == _SLIDE:
            out[adr] = translation
    return out


__all__ = ["CAUSES", "DivergenceBounds", "divergence_bounds"]
