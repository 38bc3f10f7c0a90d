"""Whether a physics timestep can be stable for a model: an estimate made once, before stepping.

MuJoCo's integrators advance positions with the velocity just computed (semi-implicit Euler:
``v' = v + h a(q, v)``, ``q' = q + h v'``), or with explicit fourth-order Runge-Kutta (RK4). Near
a pose ``q0`` the forces that depend on the state are, to first order, ``-K dq - C dv``: ``K`` the
stiffness (joint and tendon springs, position actuators' gains ``kp``, gravity on hinges) and ``C``
the damping. With the joint-space inertia ``M`` the motion splits into modes, the solutions of
``K v = w^2 M v`` (with ``v^T M v = 1``): ``w`` (rad/s) is a mode's natural frequency and
``c = v^T C v`` (1/s) its damping rate.

For one mode, semi-implicit Euler with the damping split into an implicit part ``ci`` (integrated
at the new velocity) and an explicit part ``ce`` multiplies ``(q, v)`` at each step by a matrix
of determinant ``(1 - ce h) / (1 + ci h)`` and trace ``1 + (1 - ce h - w^2 h^2) / (1 + ci h)``.
Its eigenvalues lie in the unit circle (Jury's conditions) exactly when::

    (w h)^2 <= 4 + 2 h (ci - ce)    and    h (ce - ci) <= 2

Undamped, that is the classic ``w h <= 2``: a step longer than ``2 / w`` makes the mode's
oscillation grow at every step, whatever its amplitude, and the world's state reaches NaN within
a few hundred steps. MuJoCo's ``Euler`` integrates joint damping implicitly; ``implicitfast``
and ``implicit`` also actuator velocity gains (``kv``) and tendon damping; none of them integrates
stiffness implicitly, so a stiff spring or gain always needs a short enough step. RK4 is explicit
in everything; its stability region reaches ``|lambda h| = 2.78`` on the negative real axis and
``2.83`` on the imaginary one, so a mode with the continuous eigenvalues ``lambda = -c/2 +- sqrt(c^2/4
- w^2)`` needs ``h <= 2.78 / max|lambda|``.

The estimate linearizes at the model's initial pose (``qpos0``). The inertia changes with the
pose, and contacts and joint limits add stiffness of their own (made stable by MuJoCo itself,
which raises each constraint's time constant ``solref[0]`` to at least twice the timestep unless
``mjDSBL_REFSAFE`` is set). So the limit reported is ``POSE_FACTOR`` (0.8) of the linearized one;
a timestep over it is refused, and one over half of it is warned about. The constraints' softening is also reported: past ``solref[0] / 2`` the
joint limits, contacts and equalities become softer than the model says (a cart passes the end
of its rail), which is a warning, not a refusal.

Gravity acts on a hinge like a spring of stiffness ``m g_perp d`` (``m``: the mass of the bodies
it carries, ``d``: the distance of their centre of mass from the axis, ``g_perp``: gravity across
the axis), the stiffness of a hanging pendulum; upright, the same pendulum falls away at the rate
``w``, and a step must still resolve that time scale. It is counted as positive stiffness.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import mujoco
import numpy as np

POSE_FACTOR = 0.8
"""The reported limit is this fraction of the one linearized at ``qpos0``: elsewhere the inertia,
and so the frequencies, differ. Stepped from ``qpos0`` with small random speeds, the cart-pole, the
project's humanoid and Gymnasium's humanoid blew up on MuJoCo's C engine from 0.97, 0.93 and 0.91
of the linearized limit (from ``qpos0`` with random speeds of 0.1 rad/s)."""

RK4_RADIUS = 2.78
"""``|lambda h|`` up to which RK4 is stable near both the real and imaginary axes."""

WARN_FRACTION = 0.5
"""A timestep above this fraction of the limit is warned about: a pose or a randomized gain away
from instability."""

_INTEGRATOR_NAMES = {
    int(mujoco.mjtIntegrator.mjINT_EULER): "Euler",
    int(mujoco.mjtIntegrator.mjINT_RK4): "RK4",
    int(mujoco.mjtIntegrator.mjINT_IMPLICIT): "implicit",
    int(mujoco.mjtIntegrator.mjINT_IMPLICITFAST): "implicitfast",
}
if hasattr(mujoco.mjtIntegrator, "mjINT_DISCRETE"):  # MuJoCo 3.13 and later
    _INTEGRATOR_NAMES[int(mujoco.mjtIntegrator.mjINT_DISCRETE)] = "discrete"

MAX_DENSE_DOFS = 2000
"""Above this many dofs each dof is taken alone: the diagonal of ``K`` against MuJoCo's diagonal of
``M^-1`` at ``qpos0`` (``dof_invweight0``), with no eigensolve."""


@dataclasses.dataclass(frozen=True)
class TimestepEstimate:
    """What limits the timestep of a model (``timestep_stability``).

    Attributes:
      timestep: the model's timestep, s.
      limit: the largest timestep for which the fastest mode is stable, s (``inf`` when nothing
        stiff was found).
      omega: the natural frequency of the mode that sets ``limit``, rad/s.
      cause: that mode's joint and what sets the limit, in words (``"joint 'hinge' oscillates at
        3.91 rad/s (gravity)"``).
      integrator: the model's integrator, as MuJoCo names it (``"implicitfast"``).
      constraint_timeconst: the shortest constraint time constant ``solref[0]`` the model uses, s
        (``inf`` without constraints).
      by_damping: the limit comes from damping the integrator treats explicitly, not stiffness.
    """

    timestep: float
    limit: float
    omega: float
    cause: str
    integrator: str
    constraint_timeconst: float
    by_damping: bool = False

    @property
    def unstable(self) -> bool:
        """The timestep is over the estimated stability limit."""
        return self.timestep > self.limit

    @property
    def near_limit(self) -> bool:
        """The timestep is over ``WARN_FRACTION`` of the limit (but maybe not over it)."""
        return self.timestep > WARN_FRACTION * self.limit

    @property
    def softens_constraints(self) -> bool:
        """MuJoCo raises some constraint's time constant to twice this timestep (softer than the model)."""
        return self.timestep > self.constraint_timeconst / 2

    def describe(self) -> str:
        """One line: the limit, the motion that sets it and the integrator's rule."""
        if self.integrator == "RK4":
            rule = f"RK4 is unstable once |lambda|*timestep passes {RK4_RADIUS}"
        elif self.by_damping:
            rule = f"{self.integrator} integration is unstable once explicit damping rate*timestep passes 2"
        else:
            rule = f"{self.integrator} integration, explicit in stiffness, is unstable once omega*timestep passes about 2"
        at_pose = self.limit / POSE_FACTOR
        return (
            f"the estimated limit is {self.limit:.3g} s: {self.cause}, and {rule} "
            f"({at_pose:.3g} s at the initial pose, {POSE_FACTOR:g} of that for other poses)"
        )


def timestep_stability(mjm: mujoco.MjModel) -> TimestepEstimate:
    """Estimates the largest stable timestep of ``mjm`` (linearized at ``qpos0``; see the module
    docstring for the derivation). Runs ``mj_forward`` on a new ``MjData``; the model is unchanged."""
    d = mujoco.MjData(mjm)
    mujoco.mj_forward(mjm, d)
    nv = mjm.nv
    integrator = _INTEGRATOR_NAMES.get(int(mjm.opt.integrator), str(int(mjm.opt.integrator)))
    timeconst = _constraint_timeconst(mjm)
    dt = float(mjm.opt.timestep)
    if nv == 0:
        return TimestepEstimate(dt, math.inf, 0.0, "nothing", integrator, timeconst)
    if integrator == "discrete":
        # MuJoCo's discrete integrator solves in the metric M + hD + h^2 K: springs and gains are
        # implicit, and no stiffness limits its step.
        return TimestepEstimate(dt, math.inf, 0.0, "nothing", integrator, timeconst)
    stiffness = _stiffness(mjm, d)
    damping = _damping(mjm, d, integrator)
    implicit = sum((c for c, is_implicit in damping.values() if is_implicit), np.zeros((nv, nv)))
    explicit = sum((c for c, is_implicit in damping.values() if not is_implicit), np.zeros((nv, nv)))
    mass = np.zeros((nv, nv))
    mujoco.mj_fullM(mjm, d, mass)
    k_total = sum(stiffness.values(), np.zeros((nv, nv)))
    if nv <= MAX_DENSE_DOFS:
        omega2, modes = _modes(k_total, mass)
    else:
        # Large models: each dof alone, with MuJoCo's diagonal of M^-1 at qpos0 (dof_invweight0).
        omega2 = np.diag(k_total) * mjm.dof_invweight0
        modes = np.diag(np.sqrt(mjm.dof_invweight0))
    omega2 = np.maximum(omega2, 0.0)
    ci = np.einsum("ij,ik,kj->j", modes, implicit, modes)
    ce = np.einsum("ij,ik,kj->j", modes, explicit, modes)
    per_mode = [_mode_limit(w2, a, b, integrator) for w2, a, b in zip(omega2, ci, ce, strict=True)]
    limits = np.array([lim for lim, _ in per_mode])
    worst = int(np.argmin(limits))
    limit = POSE_FACTOR * float(limits[worst])
    if not math.isfinite(limit):
        return TimestepEstimate(dt, math.inf, 0.0, "nothing", integrator, timeconst)
    omega = math.sqrt(omega2[worst])
    by_damping = per_mode[worst][1]
    cause = _cause(mjm, modes[:, worst], omega, float(ci[worst] + ce[worst]), by_damping, stiffness, damping)
    return TimestepEstimate(dt, limit, omega, cause, integrator, timeconst, by_damping)


def check_timestep(mjm: mujoco.MjModel, field: str, error: type[Exception] = ValueError) -> TimestepEstimate:
    """Refuses a timestep that cannot be stable for ``mjm``; warns about one near the limit, or one
    that makes MuJoCo soften the model's constraints.

    Args:
      mjm: the compiled model, at the timestep it will be stepped with.
      field: the setting that chose the timestep, as a user would change it (``"RlEnvCfg.timestep
        (--env.timestep)"``).
      error: the exception type to raise.

    Returns:
      the estimate.

    Raises:
      error: one line naming ``field``, the timestep, the estimated limit and why.
    """
    est = timestep_stability(mjm)
    dt = est.timestep
    safe = WARN_FRACTION * est.limit
    if est.unstable:
        raise error(
            f"{field} = {dt:g} s cannot be stable for this model: {est.describe()}; use at most {safe:.2g} s"
        )
    if est.near_limit:
        warnings.warn(
            f"{field} = {dt:g} s is near the stability limit of this model ({est.describe()}); worlds may "
            f"diverge in poses other than the initial one; at most {safe:.2g} s is safe",
            stacklevel=2,
        )
    elif est.softens_constraints:
        warnings.warn(
            f"{field} = {dt:g} s is over half of the model's shortest constraint time constant (solref "
            f"{est.constraint_timeconst:g} s): MuJoCo raises it to 2*timestep = {2 * dt:g} s, so joint limits "
            f"and contacts are softer than the model says (at most {est.constraint_timeconst / 2:g} s keeps them)",
            stacklevel=2,
        )
    return est


def _stiffness(mjm: mujoco.MjModel, d: mujoco.MjData) -> dict[str, np.ndarray]:
    """``{source: K [nv, nv]}`` at the pose of ``d``: joint springs, tendon springs, position
    actuators (affine bias ``-kp`` on the actuator's length) and gravity on hinges."""
    nv = mjm.nv
    disabled = int(mjm.opt.disableflags)
    out = {}
    joint = np.zeros((nv, nv))
    if not disabled & mujoco.mjtDisableBit.mjDSBL_SPRING:
        for j in range(mjm.njnt):
            adr, n = mjm.jnt_dofadr[j], _joint_dofs(mjm.jnt_type[j])
            joint[adr : adr + n, adr : adr + n] += np.eye(n) * mjm.jnt_stiffness[j]
    out["joint stiffness"] = joint
    tendon = np.zeros((nv, nv))
    if mjm.ntendon and not disabled & mujoco.mjtDisableBit.mjDSBL_SPRING and d.ten_J.size == mjm.ntendon * nv:
        jac = d.ten_J.reshape(mjm.ntendon, nv)
        tendon = jac.T @ (mjm.tendon_stiffness[:, None] * jac)
    out["tendon stiffness"] = tendon
    actuator = np.zeros((nv, nv))
    if mjm.nu and not disabled & mujoco.mjtDisableBit.mjDSBL_ACTUATION:
        moment = _actuator_moment(mjm, d)
        affine = mjm.actuator_biastype == int(mujoco.mjtBias.mjBIAS_AFFINE)
        kp = np.where(affine, np.maximum(-mjm.actuator_biasprm[:, 1], 0.0), 0.0)
        actuator = moment.T @ (kp[:, None] * moment)
    out["position actuator"] = actuator
    gravity = np.zeros((nv, nv))
    g = np.asarray(mjm.opt.gravity, dtype=float)
    if not disabled & mujoco.mjtDisableBit.mjDSBL_GRAVITY and np.linalg.norm(g) > 0:
        for j in np.flatnonzero(mjm.jnt_type == int(mujoco.mjtJoint.mjJNT_HINGE)).tolist():
            body = mjm.jnt_bodyid[j]
            axis = d.xaxis[j]
            arm = d.subtree_com[body] - d.xanchor[j]
            arm_perp = arm - axis * (arm @ axis)
            g_perp = g - axis * (g @ axis)
            adr = mjm.jnt_dofadr[j]
            gravity[adr, adr] = mjm.body_subtreemass[body] * np.linalg.norm(g_perp) * np.linalg.norm(arm_perp)
    out["gravity"] = gravity
    return out


def _damping(mjm: mujoco.MjModel, d: mujoco.MjData, integrator: str) -> dict[str, tuple[np.ndarray, bool]]:
    """``{source: (C [nv, nv], implicit)}`` at the pose of ``d``, N s/m or N m s/rad: joint and
    tendon damping and position actuators' ``kv`` (affine bias on the actuator's velocity), each
    marked as the integrator treats it (implicitly or not)."""
    nv = mjm.nv
    disabled = int(mjm.opt.disableflags)
    joint = np.zeros((nv, nv))
    tendon = np.zeros((nv, nv))
    actuator = np.zeros((nv, nv))
    if not disabled & mujoco.mjtDisableBit.mjDSBL_DAMPER:
        joint = np.diag(np.asarray(mjm.dof_damping, dtype=float))
        if mjm.ntendon and d.ten_J.size == mjm.ntendon * nv:
            jac = d.ten_J.reshape(mjm.ntendon, nv)
            tendon = jac.T @ (mjm.tendon_damping[:, None] * jac)
    if mjm.nu and not disabled & mujoco.mjtDisableBit.mjDSBL_ACTUATION:
        moment = _actuator_moment(mjm, d)
        affine = mjm.actuator_biastype == int(mujoco.mjtBias.mjBIAS_AFFINE)
        kv = np.where(affine, np.maximum(-mjm.actuator_biasprm[:, 2], 0.0), 0.0)
        actuator = moment.T @ (kv[:, None] * moment)
    # Euler integrates joint damping implicitly (unless eulerdamp is disabled); implicitfast and
    # implicit every velocity-dependent force; RK4 nothing.
    joint_implicit = integrator in ("implicitfast", "implicit") or (
        integrator == "Euler" and not disabled & mujoco.mjtDisableBit.mjDSBL_EULERDAMP
    )
    others_implicit = integrator in ("implicitfast", "implicit")
    return {
        "joint damping": (joint, joint_implicit),
        "tendon damping": (tendon, others_implicit),
        "actuator kv": (actuator, others_implicit),
    }


def _actuator_moment(mjm: mujoco.MjModel, d: mujoco.MjData) -> np.ndarray:
    """Dense actuator moment arms ``[nu, nv]`` (MuJoCo keeps them sparse)."""
    moment = np.zeros((mjm.nu, mjm.nv))
    mujoco.mju_sparse2dense(moment, d.actuator_moment, d.moment_rownnz, d.moment_rowadr, d.moment_colind)
    return moment


def _modes(k: np.ndarray, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(w^2 [nv], modes [nv, nv])``: solutions of ``K v = w^2 M v`` with ``v^T M v = 1``."""
    chol = np.linalg.cholesky(mass)
    inv = np.linalg.inv(chol)
    k_sym = inv @ (0.5 * (k + k.T)) @ inv.T
    omega2, y = np.linalg.eigh(k_sym)
    return omega2, inv.T @ y


def _mode_limit(omega2: float, ci: float, ce: float, integrator: str) -> tuple[float, bool]:
    """The largest stable timestep of one mode (module docstring), s (``inf`` when there is none),
    and whether damping rather than stiffness sets it."""
    if integrator == "RK4":
        c = ci + ce
        disc = c * c / 4 - omega2
        rate = c / 2 + math.sqrt(disc) if disc > 0 else math.sqrt(omega2)
        return (RK4_RADIUS / rate if rate > 0 else math.inf), disc > 0
    net = ci - ce
    limit = math.inf
    if omega2 > 0:
        limit = (net + math.sqrt(net * net + 4 * omega2)) / omega2
    if net < 0 and 2 / -net < limit:
        return 2 / -net, True
    return limit, False


def _cause(
    mjm: mujoco.MjModel,
    mode: np.ndarray,
    omega: float,
    rate: float,
    by_damping: bool,
    stiffness: dict[str, np.ndarray],
    damping: dict[str, tuple[np.ndarray, bool]],
) -> str:
    """Names the joint that moves most in ``mode`` and what sets its limit: its largest source of
    stiffness, or of damping where ``by_damping``."""
    dof = int(np.argmax(np.abs(mode)))
    joint = mjm.dof_jntid[dof]
    name = mjm.joint(joint).name or f"#{joint}"
    if not by_damping:
        source = max(stiffness, key=lambda s: float(mode @ stiffness[s] @ mode))
        return f"joint {name!r} oscillates at {omega:.3g} rad/s ({source})"
    source = max(damping, key=lambda s: float(mode @ damping[s][0] @ mode) * (not damping[s][1]))
    return f"joint {name!r} is damped at a rate of {rate:.3g} 1/s ({source})"


def _joint_dofs(joint_type: int) -> int:
    return {int(mujoco.mjtJoint.mjJNT_FREE): 6, int(mujoco.mjtJoint.mjJNT_BALL): 3}.get(int(joint_type), 1)


def _constraint_timeconst(mjm: mujoco.MjModel) -> float:
    """The shortest positive ``solref[0]`` among the constraints the model can make (joint and tendon
    limits, contacts of colliding geoms, equalities), s; ``inf`` when MuJoCo's ``refsafe`` is off or
    there are none. (Negative ``solref`` gives stiffness directly and is not raised by MuJoCo.)"""
    disabled = int(mjm.opt.disableflags)
    if disabled & mujoco.mjtDisableBit.mjDSBL_REFSAFE or disabled & mujoco.mjtDisableBit.mjDSBL_CONSTRAINT:
        return math.inf
    values = []
    if not disabled & mujoco.mjtDisableBit.mjDSBL_LIMIT:
        values += list(mjm.jnt_solref[mjm.jnt_limited.astype(bool), 0])
        values += list(mjm.tendon_solref_lim[mjm.tendon_limited.astype(bool), 0])
    if not disabled & mujoco.mjtDisableBit.mjDSBL_CONTACT:
        colliding = (mjm.geom_contype != 0) | (mjm.geom_conaffinity != 0)
        values += list(mjm.geom_solref[colliding, 0]) + list(mjm.pair_solref[:, 0])
    if not disabled & mujoco.mjtDisableBit.mjDSBL_EQUALITY:
        values += list(mjm.eq_solref[:, 0])
    positive = [float(v) for v in values if v > 0]
    return min(positive, default=math.inf)


__all__ = ["TimestepEstimate", "check_timestep", "timestep_stability"]
