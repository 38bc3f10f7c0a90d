"""Action terms for arms: end-effector pose targets through differential inverse kinematics, and a
binary gripper.

``DifferentialIKAction`` turns a pose of a site (position, m, and axis-angle, rad, in the frame of a
base body) into joint position targets for the arm's position servos, one damped-least-squares step
per policy step::

    e  = [p_target - p_site; log(R_target R_site^T)]          world frame, [6]
    J  = d(p_site, theta_site) / dq over the actuated joints  world frame, [6, n]
    dq = J^T (J J^T + lambda^2 I)^-1 e,  scaled down so that max |dq_i| <= max_dq
    ctrl = clamp(q + dq, ctrlrange)

Everything runs on the device for all worlds at once: the site Jacobian comes from MuJoCo Warp's
``jac`` kernel (the same ``cdof``-based Jacobian as MuJoCo's ``mj_jacSite``), the 6x6 solve is one
batched ``torch.linalg.solve_ex`` without its error check (the check would read a flag back to the
host; ``lambda > 0`` keeps the matrix positive definite), and the step never leaves the device.

Why not ``mink-warp`` (PyPI, 0.1.0, Apache-2.0: batched differential IK on MuJoCo Warp with a
Mink-shaped API; read and run for this choice). It solves the same damped least squares, in joint
space (``(J^T J + lambda I) dq = J^T e`` with a Warp tile Cholesky), from the same
``mujoco_warp.jac``, so for one site target it is not more correct. It is a little faster on the
2-core CPU with 64 worlds: 0.7 ms for copying ``qpos`` into it, its forward kinematics and one
``DLSSolver.solve``, against 1.0 ms for this term's whole ``process`` (kinematics refresh, frames,
solve, clamp), both small beside the 28 ms of the four physics substeps of a policy step. But its
``Configuration`` owns a second MuJoCo Warp ``Model`` and ``Data`` (every per-world buffer again,
contacts included) that must be fed the env's ``qpos`` each step; its CUDA-graph path captures a
graph of its own, which does not nest in the env's step graph; and it is an alpha release. What it
adds (posture, CoM and collision tasks, hard limits through ADMM, L-BFGS) one site target does not
need. So the term computes on the env's own data, with nothing copied and no new dependency; a task
that needs those extras can still call mink-warp from a term of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import mujoco
import mujoco_warp as mjw
import numpy as np
import torch
import warp as wp

from warplab.envs.managers.protocols import ActionTerm, BinaryTargets
from warplab.envs.mdp.math import (
    quat_conjugate,
    quat_from_matrix,
    quat_from_rotvec,
    quat_mul,
    quat_rotate,
    quat_rotate_inverse,
    quat_to_rotvec,
)

if TYPE_CHECKING:
    from warplab.envs.config import ActionTermCfg
    from warplab.envs.rl_env import RlEnv


def _check_params(term: str, params: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"{term} params has {unknown}, which it does not take; it takes {list(known)}")


def _is_position_servo(mjm: mujoco.MjModel, a: int) -> bool:
    """Whether actuator ``a`` is a position servo: force = kp * ctrl - kp * q - kv * qdot (MuJoCo's
    <position>), so its ctrl is a joint position target."""
    kp = float(mjm.actuator_gainprm[a, 0])
    return bool(
        int(mjm.actuator_gaintype[a]) == mujoco.mjtGain.mjGAIN_FIXED
        and int(mjm.actuator_biastype[a]) == mujoco.mjtBias.mjBIAS_AFFINE
        and kp > 0
        and np.isclose(float(mjm.actuator_biasprm[a, 1]), -kp)
    )


def _position_servo_joints(env: RlEnv, actuator_ids: list[int], term: str) -> list[int]:
    """The joint each actuator drives, checking that each is a position servo on a hinge or slide."""
    mjm = env.mj_model
    names = env.index.names["actuator"]
    joints = env.index.actuator_joint_ids([names[i] for i in actuator_ids])
    for a, j in zip(actuator_ids, joints, strict=True):
        if int(mjm.jnt_type[j]) not in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
            raise ValueError(f"{term}: actuator {names[a]!r} drives a joint that is not a hinge or slide")
        if not _is_position_servo(mjm, a):
            raise ValueError(
                f"{term}: actuator {names[a]!r} is not a position servo (gain kp, bias -kp * q); "
                f"its ctrl would not be a joint position target"
            )
    return joints


class DifferentialIKAction(ActionTerm):
    """Pose targets for a site, reached by joint position targets from damped least squares.

    The action, ``[num_envs, 6]``: position (m) then orientation (axis-angle, rad) of the ``site`` in the
    frame of ``base_body`` (the world when None). ``mode="absolute"``: the pose itself, ``action *
    scale``. ``mode="delta"``: a displacement from the site's pose at this policy step, the position
    added in the base's axes and the rotation applied about the base's axes (``R_target = exp(r)
    R_site``). Each policy step takes one damped-least-squares step towards the target (module
    docstring) from the current joint positions and writes ``q + dq`` to the actuators, which must be
    position servos of hinge or slide joints; a target held over several steps is approached by
    Gauss-Newton iterations, one per step.

    Params: ``actuators`` (names or regex of the arm's position actuators, required), ``site``
    (default ``"ee"``), ``base_body`` (default None: the world frame), ``mode`` (``"delta"``, the
    default, or ``"absolute"``), ``scale`` (6 numbers or one, applied to the clipped action; default
    1), ``clip`` (``(low, high)`` on the raw action), ``damping`` (lambda, default 0.05: m for
    position errors, rad for orientation errors; larger is slower but steadier near singular poses),
    ``max_dq`` (largest change of a joint target per policy step, rad or m, default 0.2; the whole
    step is scaled down, so the site still moves along the same direction), ``refresh_kinematics``
    (default True: recompute the poses and Jacobian from ``qpos`` first, rather than use those of
    the last physics substep's start, one substep old).

    Attributes after ``process``: ``target_pos_b [N, 3]`` (m) and ``target_quat_b [N, 4]`` (w, x, y,
    z), the target in the base frame; ``jacobian [N, 6, n]`` (world frame, rows linear then angular,
    columns in actuator order); ``target [N, n]`` the joint targets written.
    """

    _PARAMS = (
        "actuators",
        "site",
        "base_body",
        "mode",
        "scale",
        "clip",
        "damping",
        "max_dq",
        "refresh_kinematics",
    )

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        name = "DifferentialIKAction"
        _check_params(name, p, self._PARAMS)
        if p.get("actuators") is None:
            raise ValueError(
                f"{name} needs params['actuators']: the arm's position actuators (names or regex)"
            )
        self._env = env
        sim, mjm, device, n = env.sim, env.mj_model, env.device, env.num_envs
        ids = env.index.ids("actuator", p["actuators"])
        joints = _position_servo_joints(env, ids, name)
        self.actuator_ids = torch.as_tensor(ids, dtype=torch.long, device=device)
        self.qpos_ids = torch.as_tensor(mjm.jnt_qposadr[joints], dtype=torch.long, device=device)
        self.dof_ids = torch.as_tensor(mjm.jnt_dofadr[joints], dtype=torch.long, device=device)
        self.action_dim = 6
        self.mode = p.get("mode", "delta")
        if self.mode not in ("delta", "absolute"):
            raise ValueError(f"{name} params['mode'] must be 'delta' or 'absolute', got {self.mode!r}")
        self.site_id = env.index.ids("site", p.get("site", "ee"))[0]
        base = p.get("base_body")
        self.base_id = None if base is None else env.index.ids("body", base)[0]
        scale = torch.as_tensor(p.get("scale", 1.0), dtype=torch.float32, device=device)
        if scale.numel() not in (1, 6):
            raise ValueError(f"{name} params['scale'] must be one number or six, got {p.get('scale')!r}")
        self.scale = scale.expand(6).clone()
        self.clip = p.get("clip")
        self.damping = float(p.get("damping", 0.05))
        self.max_dq = float(p.get("max_dq", 0.2))
        if not (self.damping > 0 and self.max_dq > 0):
            raise ValueError(
                f"{name} params 'damping' and 'max_dq' must be positive, got {self.damping} and {self.max_dq}"
            )
        self.refresh_kinematics = bool(p.get("refresh_kinematics", True))
        limited = torch.as_tensor(mjm.actuator_ctrllimited[ids] > 0, device=device)
        ctrlrange = torch.as_tensor(mjm.actuator_ctrlrange[ids], dtype=torch.float32, device=device)
        self.ctrl_low = torch.where(limited, ctrlrange[:, 0], -torch.inf)
        self.ctrl_high = torch.where(limited, ctrlrange[:, 1], torch.inf)
        self.target_pos_b = torch.zeros(n, 3, device=device)
        """Target position of the site in the base frame ``[N, 3]``, m."""
        self.target_quat_b = torch.zeros(n, 4, device=device)
        """Target orientation of the site in the base frame ``[N, 4]`` (w, x, y, z)."""
        self.target = torch.zeros(n, len(ids), device=device)
        """Joint position targets written at the next ``apply`` ``[N, n]``, rad or m."""
        self._damping_eye = (self.damping**2) * torch.eye(6, device=device)
        # MuJoCo Warp's jac kernel reads the point and body per world and writes [N, 3, nv] Jacobians;
        # its buffers are allocated once and viewed from torch, so each step only launches it.
        with wp.ScopedDevice(sim.wp_device):
            self._jacp = wp.zeros((n, 3, mjm.nv), dtype=float)
            self._jacr = wp.zeros((n, 3, mjm.nv), dtype=float)
            self._body_wp: wp.array = wp.array(
                np.full(n, mjm.site_bodyid[self.site_id], dtype=np.int32), dtype=int
            )
        self._point = torch.zeros(n, 3, device=device)
        self._point_wp = wp.from_torch(self._point, dtype=wp.vec3)
        self._jacp_t, self._jacr_t = wp.to_torch(self._jacp), wp.to_torch(self._jacr)
        self.jacobian = torch.zeros(n, 6, len(ids), device=device)
        """Site Jacobian over the actuated joints ``[N, 6, n]``, world frame, rows (linear, angular)."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        # The Jacobian and the point are recomputed at every step: scratch, not state.
        return {"target": self.target, "target_pos_b": self.target_pos_b, "target_quat_b": self.target_quat_b}

    # ------------------------------------------------------------------ kinematics
    def compute_jacobian(self) -> torch.Tensor:
        """Fills and returns ``jacobian [N, 6, n]`` from the last kinematics of ``env.sim`` (world frame:
        ``d p_site / dq`` in m per joint unit, then ``d theta_site / dq`` in rad per joint unit)."""
        sim = self._env.sim
        self._point.copy_(sim.site_xpos[:, self.site_id])
        with wp.ScopedDevice(sim.wp_device):
            mjw.jac(sim.model, sim.data, self._jacp, self._jacr, self._point_wp, self._body_wp)
        self.jacobian[:, :3].copy_(self._jacp_t.index_select(2, self.dof_ids))
        self.jacobian[:, 3:].copy_(self._jacr_t.index_select(2, self.dof_ids))
        return self.jacobian

    def _base_pose(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Position ``[N, 3]`` (m) and orientation ``[N, 4]`` of the base frame in the world."""
        sim = self._env.sim
        if self.base_id is None:
            pos = torch.zeros_like(self._point)
            return pos, torch.cat([torch.ones_like(pos[:, :1]), pos], dim=-1)
        return sim.xpos[:, self.base_id], sim.xquat[:, self.base_id]

    # ------------------------------------------------------------------ the term
    def process(self, action: torch.Tensor) -> None:
        env = self._env
        sim = env.sim
        if self.refresh_kinematics:
            # The last physics substep computed the poses before it integrated qpos; recompute them
            # (and cdof, subtree_com, which the Jacobian reads) for the qpos the servos start from.
            with wp.ScopedDevice(sim.wp_device):
                mjw.kinematics(sim.model, sim.data)
                mjw.com_pos(sim.model, sim.data)
        if self.clip is not None:
            action = action.clamp(self.clip[0], self.clip[1])
        action = action * self.scale
        base_pos, base_quat = self._base_pose()
        site_pos = sim.site_xpos[:, self.site_id]
        site_quat = quat_from_matrix(sim.site_xmat[:, self.site_id])
        if self.mode == "absolute":
            self.target_pos_b.copy_(action[:, :3])
            self.target_quat_b.copy_(quat_from_rotvec(action[:, 3:]))
        else:
            pos_b = quat_rotate_inverse(base_quat, site_pos - base_pos)
            quat_b = quat_mul(quat_conjugate(base_quat), site_quat)
            self.target_pos_b.copy_(pos_b + action[:, :3])
            self.target_quat_b.copy_(quat_mul(quat_from_rotvec(action[:, 3:]), quat_b))
        # The error in the world frame, where MuJoCo's Jacobian lives.
        target_pos = base_pos + quat_rotate(base_quat, self.target_pos_b)
        target_quat = quat_mul(base_quat, self.target_quat_b)
        error = torch.cat(
            [target_pos - site_pos, quat_to_rotvec(quat_mul(target_quat, quat_conjugate(site_quat)))], dim=-1
        )
        jac = self.compute_jacobian()
        jjt = torch.bmm(jac, jac.transpose(1, 2)) + self._damping_eye
        # solve_ex without check_errors: the check reads a flag on the host; lambda > 0 keeps jjt
        # positive definite, so the solve cannot fail.
        y, _ = torch.linalg.solve_ex(jjt, error.unsqueeze(-1), check_errors=False)
        dq = torch.bmm(jac.transpose(1, 2), y).squeeze(-1)
        largest = dq.abs().amax(dim=-1, keepdim=True)
        dq = dq * (self.max_dq / largest.clamp(min=self.max_dq))
        q = sim.qpos[:, self.qpos_ids]
        torch.clamp(q + dq, self.ctrl_low, self.ctrl_high, out=self.target)

    def apply(self) -> None:
        self._env.sim.ctrl[:, self.actuator_ids] = self.target


class BinaryGripperAction(ActionTerm):
    """Open or close a gripper from the sign of one action value: ``action >= 0`` opens, ``< 0`` closes.

    The action, ``[num_envs, 1]``; its magnitude is ignored. Each actuator's ctrl becomes its ``open``
    value or its ``close`` value; by default the ends of its ``ctrlrange``: open at the upper end,
    closed at the lower, which is how a position servo on a finger's opening is laid out (the
    project's arm: ``finger_left``, 0.04 m open, 0 closed). A gripper whose range runs the other way
    gives ``open`` and ``close`` (one number, or one per actuator in model order).

    Params: ``actuators`` (names or regex, required), ``open``, ``close``.

    For export it declares ``binary_targets()`` (threshold 0): a robot applies the same rule to the
    one action value. Export maps one action value to one actuator, so it takes a gripper of one
    actuator (fingers coupled in the model, as the project's arm's).
    """

    THRESHOLD = 0.0
    """Actions below this close the gripper, others open it."""

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        name = "BinaryGripperAction"
        _check_params(name, p, ("actuators", "open", "close"))
        if p.get("actuators") is None:
            raise ValueError(f"{name} needs params['actuators']: the gripper's actuators (names or regex)")
        self._env = env
        mjm, device = env.mj_model, env.device
        ids = env.index.ids("actuator", p["actuators"])
        self.actuator_ids = torch.as_tensor(ids, dtype=torch.long, device=device)
        self.action_dim = 1
        if (p.get("open") is None or p.get("close") is None) and not all(mjm.actuator_ctrllimited[ids]):
            unlimited = [env.index.names["actuator"][i] for i in ids if not mjm.actuator_ctrllimited[i]]
            raise ValueError(
                f"{name}: actuators {unlimited} have no ctrlrange to open and close to; give params "
                f"'open' and 'close' (ctrl values)"
            )

        def values(key: str, column: int) -> torch.Tensor:
            given = p.get(key)
            if given is None:
                return torch.as_tensor(
                    mjm.actuator_ctrlrange[ids, column], dtype=torch.float32, device=device
                )
            t = torch.as_tensor(given, dtype=torch.float32, device=device).flatten()
            if t.numel() not in (1, len(ids)):
                raise ValueError(f"{name} params[{key!r}] must be one number or {len(ids)}, got {given!r}")
            return t.expand(len(ids)).clone()

        self.open_ctrl = values("open", 1)
        """ctrl of each actuator when open ``[n]``."""
        self.close_ctrl = values("close", 0)
        """ctrl of each actuator when closed ``[n]``."""
        self.target = self.open_ctrl.expand(env.num_envs, -1).clone()
        """Controls written at the next ``apply`` ``[N, n]``."""
        # A servo's ctrl is a position target; any other actuator's ctrl is left unnamed for export.
        servos = all(_is_position_servo(mjm, a) for a in ids)
        self._control: Literal["position"] | None = "position" if servos else None

    def binary_targets(self) -> BinaryTargets:
        """``ctrl = close if action < 0 else open`` for each actuator; export takes one actuator only
        (``warplab.deploy.export`` refuses a one-value action driving several)."""
        return BinaryTargets(
            actuator_ids=self.actuator_ids,
            close=self.close_ctrl,
            open=self.open_ctrl,
            threshold=self.THRESHOLD,
            control=self._control,
        )

    def process(self, action: torch.Tensor) -> None:
        torch.where(action[:, :1] < self.THRESHOLD, self.close_ctrl, self.open_ctrl, out=self.target)

    def apply(self) -> None:
        self._env.sim.ctrl[:, self.actuator_ids] = self.target
