"""Getting-up terms: lay worlds on the ground, and measure how far up they are.

``ResetLying`` (a ``reset`` event) lays worlds on their back, front or side with a random posture,
just above the ground; ``is_standing``, ``standing_at_time_out`` and the rewards measure the
way up. All state lives in tensors (``state_tensors()``), so an exact save of the env holds it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import mujoco
import mujoco_warp as mjw
import torch
import warp as wp

from warplab.envs import draws
from warplab.envs.managers.protocols import EventTerm
from warplab.envs.mdp import _state
from warplab.envs.mdp.math import quat_mul, uniform

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names

Range = tuple[float, float]


LYING_POSES = ("face_up", "face_down", "side")
"""Orientations ``ResetLying`` draws: on the back, on the front, on the left or right side."""


def _axis_angle(axis: int, angle: torch.Tensor) -> torch.Tensor:
    """Quaternions ``[n, 4]`` of rotations by ``angle [n]`` rad about world axis 0 (x), 1 (y) or 2 (z)."""
    half = 0.5 * angle
    q = torch.zeros(angle.shape[0], 4, device=angle.device)
    q[:, 0] = torch.cos(half)
    q[:, 1 + axis] = torch.sin(half)
    return q


def _range(params: dict[str, Any], key: str, default: tuple[float, float]) -> tuple[float, float]:
    """``params[key]`` (or ``default``) as ``(low, high)``; a clear error where it is not two numbers."""
    value = tuple(params.get(key, default))
    if len(value) != 2:
        raise ValueError(f"{key} must be (low, high), got {value!r}")
    return float(value[0]), float(value[1])


class ResetLying(EventTerm):
    """Lays the masked worlds on the ground (a ``reset`` event): on the back, front or side, with a
    random yaw and posture, at rest.

    A lying pose is drawn as: one of ``LYING_POSES`` (plus a small roll and pitch) and a random yaw;
    joints at ``default + joint_scale * (u - default)``, u uniform in each joint's range (so always
    within it); the base raised until the lowest collision geom is ``drop_height_range_m`` above
    the floor (z = 0), found from the forward kinematics of the pose and the exact extent of each
    geom (sphere, capsule, cylinder, box, ellipsoid; the bounding sphere for others).

    With ``settle_s > 0`` (the default) such poses are dropped once, when the term is built: every
    world falls limp (each position actuator's target follows its joint, so only its damping acts)
    for ``settle_s`` of physics, ``pool_rounds`` times, and the states where they came to rest form
    a pool of ``pool_rounds * num_envs`` lying states. A reset draws one from the pool and turns it
    by a random yaw: the robot starts on the ground, as after a fall, not propped up on a stiff limb
    that gives way in the first steps. This costs ``settle_s / timestep`` physics steps of all worlds
    once, at start-up (not in ``step``). With ``settle_s = 0`` every reset draws a fresh pose and
    drops it (the first policy steps are then the landing).

    Params:
      pose_weights: relative frequency of each of ``LYING_POSES`` (default: equal).
      tilt_range_rad: a further roll and pitch, each uniform in this range, rad.
      joint_scale: 0 keeps the default joint positions, 1 draws over the whole joint ranges.
      drop_height_range_m: height of the lowest collision geom above the floor when dropped, m.
      settle_s: seconds each pooled pose falls and settles (0: no pool).
      pool_rounds: rounds of ``num_envs`` poses in the pool.
      joints: the hinge/slide joints to randomize (None: all).

    State (tensors): ``pool_qpos [pool, nq]`` and ``pool_pose [pool]`` (index in ``LYING_POSES``),
    ``pose [num_envs]``: each world's starting pose.
    """

    def __init__(self, cfg: Any, env: Any) -> None:
        p = cfg.params
        m = env.mj_model
        dev = env.device
        weights = dict(p.get("pose_weights") or dict.fromkeys(LYING_POSES, 1.0))
        unknown = set(weights) - set(LYING_POSES)
        if unknown:
            raise ValueError(f"pose_weights has keys {sorted(unknown)}; allowed: {list(LYING_POSES)}")
        w = torch.tensor([float(weights.get(k, 0.0)) for k in LYING_POSES])
        if (w < 0).any() or not w.sum() > 0:
            raise ValueError(f"pose_weights must be >= 0 and not all 0, got {weights}")
        self.pose_cdf = (torch.cumsum(w, 0) / w.sum()).to(dev)
        self.tilt_range: tuple[float, float] = _range(p, "tilt_range_rad", (-0.2, 0.2))
        self.drop_range: tuple[float, float] = _range(p, "drop_height_range_m", (0.05, 0.15))
        scale = float(p.get("joint_scale", 0.5))
        if not 0.0 <= scale <= 1.0:
            raise ValueError(f"joint_scale must be in [0, 1], got {scale!r}")
        self.joint_scale = scale
        joints = p.get("joints")
        self.qpos_ids = env.index.joint_qpos_ids(joints)
        jids = env.index.ids("joint", joints)
        limited = torch.as_tensor(m.jnt_limited[jids], dtype=torch.bool, device=dev)
        rng = torch.as_tensor(m.jnt_range[jids], dtype=torch.float32, device=dev)
        default = env.sim.init_qpos[self.qpos_ids]
        # Unlimited joints are drawn within +-pi of their default.
        self.joint_low = torch.where(limited, rng[:, 0], default - math.pi)
        self.joint_high = torch.where(limited, rng[:, 1], default + math.pi)
        self._init_geoms(env)
        self.pose = torch.zeros(env.num_envs, dtype=torch.long, device=dev)
        settle_s, rounds = float(p.get("settle_s", 1.0)), int(p.get("pool_rounds", 1))
        if settle_s < 0.0 or rounds < 1:
            raise ValueError(f"settle_s must be >= 0 s and pool_rounds >= 1, got {settle_s!r} and {rounds!r}")
        self.pool_qpos = torch.zeros(0, m.nq, device=dev)
        self.pool_pose = torch.zeros(0, dtype=torch.long, device=dev)
        if settle_s > 0.0:
            self._build_pool(env, settle_s, rounds)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"pool_qpos": self.pool_qpos, "pool_pose": self.pool_pose, "pose": self.pose}

    # ------------------------------------------------------------------ drawing and dropping a pose
    def _init_geoms(self, env: RlEnv) -> None:
        m, dev = env.mj_model, env.device
        # Collision geoms of the robot (the floor and other world geoms never move).
        colliding = (m.geom_contype != 0) | (m.geom_conaffinity != 0)
        ids = [g for g in range(m.ngeom) if colliding[g] and m.body_rootid[m.geom_bodyid[g]] != 0]
        if not ids:
            raise ValueError("the model has no collision geoms on a moving body to place above the floor")
        self.geom_ids = torch.as_tensor(ids, dtype=torch.long, device=dev)
        types = torch.as_tensor(m.geom_type[ids], dtype=torch.long, device=dev)
        self._is_type = {
            name: types == int(getattr(mujoco.mjtGeom, f"mjGEOM_{name.upper()}"))
            for name in ("sphere", "capsule", "cylinder", "box", "ellipsoid")
        }
        self.geom_size = torch.as_tensor(m.geom_size[ids], dtype=torch.float32, device=dev)
        self.geom_rbound = torch.as_tensor(m.geom_rbound[ids], dtype=torch.float32, device=dev)
        self._geom_xpos = wp.to_torch(env.sim.data.geom_xpos)
        self._geom_xmat = wp.to_torch(env.sim.data.geom_xmat)

    def lowest_z(self) -> torch.Tensor:
        """``[num_envs]`` lowest z of the robot's collision geoms, m, from the current kinematics."""
        pos = self._geom_xpos[:, self.geom_ids]  # [n, g, 3]
        # Row 2 of a geom's rotation: the z component of each of its local axes.
        rz = self._geom_xmat[:, self.geom_ids].reshape(pos.shape[0], -1, 3, 3)[..., 2, :].abs()
        size = self.geom_size
        r, h = size[:, 0], size[:, 1]
        cos_z = rz[..., 2]  # |cos| of the angle between a capsule's or cylinder's axis and z
        sin_z = torch.sqrt((1.0 - cos_z**2).clamp(min=0.0))
        t = self._is_type
        extent = self.geom_rbound.expand_as(cos_z)
        extent = torch.where(t["sphere"], r, extent)
        extent = torch.where(t["capsule"], r + h * cos_z, extent)
        extent = torch.where(t["cylinder"], r * sin_z + h * cos_z, extent)
        extent = torch.where(t["box"], (rz * size).sum(-1), extent)
        extent = torch.where(t["ellipsoid"], torch.linalg.vector_norm(rz * size, dim=-1), extent)
        return (pos[..., 2] - extent).amin(dim=1)

    def _drop_pose(self, env: RlEnv, mask: torch.Tensor) -> torch.Tensor:
        """Writes a fresh lying pose, at rest, into the masked worlds; returns each world's pose index."""
        n, dev, gen = env.num_envs, env.device, env.rng
        sim = env.sim
        q, _ = _state._root(env)
        pose = torch.bucketize(draws.rand(n, gen, dev), self.pose_cdf, right=True)
        pose = pose.clamp(max=len(LYING_POSES) - 1)
        # face_up: pitch -90 deg (the front looks at the sky); face_down: +90 deg; side: roll +-90 deg.
        side_sign = torch.where(draws.rand(n, gen, dev) < 0.5, -1.0, 1.0)
        half_pi = torch.full((n,), 0.5 * math.pi, device=dev)
        zero = torch.zeros_like(half_pi)
        pitch = torch.where(pose == 0, -half_pi, torch.where(pose == 1, half_pi, zero))
        roll = torch.where(pose == 2, side_sign * half_pi, zero)
        roll = roll + uniform(*self.tilt_range, (n,), gen, dev)
        pitch = pitch + uniform(*self.tilt_range, (n,), gen, dev)
        yaw = uniform(-math.pi, math.pi, (n,), gen, dev)
        quat = quat_mul(_axis_angle(2, yaw), quat_mul(_axis_angle(1, pitch), _axis_angle(0, roll)))
        quat = quat_mul(quat, sim.init_qpos[q + 3 : q + 7].expand(n, 4))
        default = sim.init_qpos[self.qpos_ids]
        u = self.joint_low + (self.joint_high - self.joint_low) * draws.rand(
            (n, len(self.qpos_ids)), gen, dev
        )
        joint_pos = default + self.joint_scale * (u - default)
        drop = uniform(*self.drop_range, (n,), gen, dev)

        rows = mask[:, None]
        root = torch.cat([sim.init_qpos[q : q + 3].expand(n, 3), quat], dim=1)
        sim.qpos[:, q : q + 7] = torch.where(rows, root, sim.qpos[:, q : q + 7])
        sim.qpos[:, self.qpos_ids] = torch.where(rows, joint_pos, sim.qpos[:, self.qpos_ids])
        sim.qvel.copy_(torch.where(rows, torch.zeros_like(sim.qvel), sim.qvel))
        # Kinematics of every world (cheap next to a step; the env recomputes all worlds' kinematics
        # after the reset events anyway). Moving the base up or down moves every geom by as much.
        sim.kinematics()
        z = sim.qpos[:, q + 2] - self.lowest_z() + drop
        sim.qpos[:, q + 2] = torch.where(mask, z, sim.qpos[:, q + 2])
        return pose

    # ------------------------------------------------------------------ the pool of settled poses
    def _build_pool(self, env: RlEnv, settle_s: float, rounds: int) -> None:
        sim, m = env.sim, env.mj_model
        everyone = torch.ones(env.num_envs, dtype=torch.bool, device=env.device)
        # Position actuators of the randomized joints: their targets follow the joints (limp).
        driven = set(self.qpos_ids.tolist())
        acts, cols = [], []
        for a in range(m.nu):
            if int(m.actuator_trntype[a]) == int(mujoco.mjtTrn.mjTRN_JOINT):
                col = int(m.jnt_qposadr[m.actuator_trnid[a, 0]])
                if col in driven and int(m.actuator_biastype[a]) == int(mujoco.mjtBias.mjBIAS_AFFINE):
                    acts.append(a)
                    cols.append(col)
        acts_t = torch.as_tensor(acts, dtype=torch.long, device=env.device)
        cols_t = torch.as_tensor(cols, dtype=torch.long, device=env.device)
        steps = max(1, round(settle_s / sim.timestep))
        qpos, poses = [], []
        for _ in range(rounds):
            sim.reset(everyone, forward=False)
            poses.append(self._drop_pose(env, everyone))
            start = sim.qpos.clone()
            # MuJoCo Warp's own step, not ``sim.step``: a world that diverges here is not counted as
            # one of the env's NaN resets; its unsettled pose is kept instead.
            with wp.ScopedDevice(sim.wp_device):
                for _ in range(steps):
                    sim.ctrl[:, acts_t] = sim.qpos[:, cols_t]
                    mjw.step(sim.model, sim.data)
            settled = sim.qpos.clone()
            ok = torch.isfinite(settled).all(1) & torch.isfinite(sim.qvel).all(1)
            settled = torch.where(ok[:, None], settled, start)
            # Joint limits are soft: clamp what they let through, so pooled joints lie in range.
            settled[:, self.qpos_ids] = settled[:, self.qpos_ids].clamp(self.joint_low, self.joint_high)
            qpos.append(settled)
        self.pool_qpos = torch.cat(qpos)
        self.pool_pose = torch.cat(poses)
        sim.reset(everyone)

    def __call__(
        self,
        env: RlEnv,
        mask: torch.Tensor,
        pose_weights: dict[str, float] | None = None,
        tilt_range_rad: Range = (-0.2, 0.2),
        joint_scale: float = 0.5,
        drop_height_range_m: Range = (0.05, 0.15),
        settle_s: float = 1.0,
        pool_rounds: int = 1,
        joints: Names = None,
    ) -> None:
        if self.pool_qpos.shape[0] == 0:
            self.pose.copy_(torch.where(mask, self._drop_pose(env, mask), self.pose))
            return
        n, dev, gen = env.num_envs, env.device, env.rng
        sim = env.sim
        q, _ = _state._root(env)
        pick = draws.randint(0, self.pool_qpos.shape[0], (n,), gen, dev)
        qpos = self.pool_qpos[pick]
        # A turn about the vertical through the world origin: the base goes back over the origin.
        yaw = _axis_angle(2, uniform(-math.pi, math.pi, (n,), gen, dev))
        qpos[:, q : q + 2] = sim.init_qpos[q : q + 2]
        qpos[:, q + 3 : q + 7] = quat_mul(yaw, qpos[:, q + 3 : q + 7])
        rows = mask[:, None]
        sim.qpos.copy_(torch.where(rows, qpos, sim.qpos))
        sim.qvel.copy_(torch.where(rows, torch.zeros_like(sim.qvel), sim.qvel))
        self.pose.copy_(torch.where(mask, self.pool_pose[pick], self.pose))


def is_standing(
    env: RlEnv, standing_height: float, height_ratio: float = 0.9, min_upright: float = 0.9
) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the base is above ``height_ratio * standing_height`` (m) and upright
    (cosine of its tilt above ``min_upright``), else 0.0."""
    height = _state.root_pos_w(env)[:, 2]
    upright = -_state.gravity_b(env)[:, 2]
    return ((height > height_ratio * standing_height) & (upright > min_upright)).float()


def standing_at_time_out(
    env: RlEnv, standing_height: float, height_ratio: float = 0.9, min_upright: float = 0.9
) -> torch.Tensor:
    """``[num_envs]`` bool: the episode times out now and the robot is standing (``is_standing``).

    Meant as a termination term with ``time_out=True``: it fires only together with the time-out,
    so it changes no episode's outcome, and the episode statistics log the share of finished
    episodes that ended standing as ``Episode_Termination/<name>``: a success rate.
    """
    timed_out = env.episode_length_buf >= env.max_episode_length
    return timed_out & is_standing(env, standing_height, height_ratio, min_upright).bool()


def base_height_progress(env: RlEnv, lying_height: float, standing_height: float) -> torch.Tensor:
    """``[num_envs]`` how far the base has risen from ``lying_height`` to ``standing_height`` (m),
    linear, clipped to [0, 1]: a gradient all the way up, unlike an exponential around standing."""
    z = _state.root_pos_w(env)[:, 2]
    return ((z - lying_height) / (standing_height - lying_height)).clamp(0.0, 1.0)


def feet_under_base_exp(env: RlEnv, bodies: Names, std: float) -> torch.Tensor:
    """``[num_envs]`` ``exp(-d^2 / std^2)``, d the horizontal distance (m) from the base to the
    midpoint of the feet ``bodies``: 1 with the feet under the body, as in standing."""
    ids = env.index.tensor("body", bodies)
    feet_xy = env.sim.xpos[:, ids, :2].mean(dim=1)
    d2 = torch.sum(torch.square(feet_xy - _state.root_pos_w(env)[:, :2]), dim=1)
    return torch.exp(-d2 / std**2)


def airborne(env: RlEnv, bodies: Names = None, contact_force_n: float = 1.0) -> torch.Tensor:
    """``[num_envs]`` 1.0 where none of ``bodies`` (None: every body) touches anything with more
    than ``contact_force_n`` N, else 0.0: the robot is in flight.

    Penalized in getting up: a policy paid for rising fast learns to leap off the floor (base up at
    ~3 m/s, half a second in the air), which no real humanoid survives for long. Reads the contact
    forces of ``cfrc_ext``, so external pushes count as contact too (getting up has none).
    """
    touching = _state.body_contact_force(env, bodies) > contact_force_n
    return (~touching.any(dim=1)).float()


def base_rise_speed_above(env: RlEnv, limit_m_s: float) -> torch.Tensor:
    """``[num_envs]`` ``max(0, v_z - limit_m_s)^2``, (m/s)^2: the base rising faster than the limit
    (world frame). Standing up needs the base to rise at well under 1 m/s; a leap needs several."""
    vz = _state.root_lin_vel_w(env)[:, 2]
    return torch.square(torch.clamp(vz - limit_m_s, min=0.0))


def joint_vel_l2_when_standing(
    env: RlEnv,
    standing_height: float,
    joints: Names = None,
    height_ratio: float = 0.9,
    min_upright: float = 0.9,
) -> torch.Tensor:
    """``[num_envs]`` squared joint velocities, (rad/s)^2, where the robot stands (else 0): once up,
    stay still."""
    vel = env.sim.qvel[:, env.index.joint_dof_ids(joints)]
    return torch.sum(torch.square(vel), dim=1) * is_standing(env, standing_height, height_ratio, min_upright)
