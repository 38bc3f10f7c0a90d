"""Sizing of MuJoCo Warp's contact and constraint buffers from the model itself.

MuJoCo Warp allocates contacts (``naconmax``, shared by all worlds) and constraint rows (``njmax``,
per world) once. Too small, and contacts are lost: a robot sinks through the floor and the
throughput looks better than it is. Too large wastes memory and time. We probe the model on
MuJoCo's C engine (its initial pose, every keyframe, and a short rollout under random controls,
where robots fall and touch the ground with many geoms) and take the largest counts seen with
headroom. An overflow at run time is still detected on the device and raised (see
``Simulation.check_capacity``).
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

# Buffer sizes are rounded up to one of these, as MuJoCo Warp's own defaults are.
_SIZES = [int(s) for s in (2 + (np.arange(24) % 2)) * (2 ** (np.arange(24) // 2 + 3))]


@dataclasses.dataclass(frozen=True)
class Capacity:
    """Buffer sizes for one simulation.

    Attributes:
      nconmax: contacts per world (MuJoCo Warp allocates ``nconmax * num_worlds`` in all).
      njmax: constraint rows per world.
      probe_ncon: most contacts seen in the probe on MuJoCo's C engine.
      probe_nefc: most constraint rows seen in the probe.
    """

    nconmax: int
    njmax: int
    probe_ncon: int
    probe_nefc: int


def _round_up(n: int) -> int:
    for s in _SIZES:
        if s >= n:
            return s
    return int(n)


def probe_contacts(mjm: mujoco.MjModel, seconds: float = 3.0, seed: int = 0) -> tuple[int, int]:
    """Largest contact and constraint counts in a short rollout on MuJoCo's C engine.

    The rollout starts from the initial pose and each keyframe, and drives the actuators with
    uniform random controls within their ranges, so that a robot falls and lands.

    Returns:
      (most contacts, most constraint rows) seen in any state.
    """
    rng = np.random.default_rng(seed)
    mjd = mujoco.MjData(mjm)
    starts = [None] + list(range(mjm.nkey))
    max_ncon, max_nefc = 0, 0
    lo = np.where(mjm.actuator_ctrllimited, mjm.actuator_ctrlrange[:, 0], -1.0)
    hi = np.where(mjm.actuator_ctrllimited, mjm.actuator_ctrlrange[:, 1], 1.0)
    # Long enough for a robot to fall and come to rest, within a bounded cost on the CPU.
    per_start = int(min(max(seconds / mjm.opt.timestep, 1), 2000))
    for key in starts:
        if key is None:
            mujoco.mj_resetData(mjm, mjd)
        else:
            mujoco.mj_resetDataKeyframe(mjm, mjd, key)
        mujoco.mj_forward(mjm, mjd)
        max_ncon, max_nefc = max(max_ncon, mjd.ncon), max(max_nefc, mjd.nefc)
        for _ in range(per_start):
            if mjm.nu:
                mjd.ctrl[:] = rng.uniform(lo, hi)
            mujoco.mj_step(mjm, mjd)
            if not (np.isfinite(mjd.qpos).all() and np.isfinite(mjd.qvel).all()):
                break
            max_ncon, max_nefc = max(max_ncon, mjd.ncon), max(max_nefc, mjd.nefc)
    return max_ncon, max_nefc


def size_buffers(
    mjm: mujoco.MjModel,
    nconmax: int | None = None,
    njmax: int | None = None,
    headroom: float = 2.0,
) -> Capacity:
    """Contact and constraint capacity for a model: the user's values, or the probe's with headroom.

    Args:
      mjm: the compiled model.
      nconmax: contacts per world; ``None`` sizes it from the probe.
      njmax: constraint rows per world; ``None`` sizes it from the probe.
      headroom: factor over the largest counts the probe saw.
    """
    for name, value in (("nconmax", nconmax), ("njmax", njmax)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(
                f"SimCfg.{name} must be a positive integer or None (sized from the model), got {value!r}"
            )
    if headroom < 1.0:
        raise ValueError(f"SimCfg.capacity_headroom must be >= 1, got {headroom}")
    ncon, nefc = probe_contacts(mjm)
    # Every contact may become up to 2 * (condim - 1) pyramidal rows or 1 + (condim - 1) elliptic ones,
    # and limits and equalities add rows of their own: the probe's own nefc counts all of that.
    sized_ncon = nconmax if nconmax is not None else _round_up(max(int(headroom * ncon) + 8, 16))
    sized_nefc = njmax if njmax is not None else _round_up(max(int(headroom * nefc) + 16, 32))
    return Capacity(nconmax=sized_ncon, njmax=sized_nefc, probe_ncon=ncon, probe_nefc=nefc)
