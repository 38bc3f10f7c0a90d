"""Terms for recovery tasks: pushes with a curriculum on their strength, and getting up from the ground.

Pushes (``RandomPush``, an ``interval`` event) kick the floating base in a random horizontal
direction, either by adding a velocity to it or by an external force on one body for a short time
(``xfrc_applied``). ``PushStrengthCurriculum`` raises or lowers the push strength from how often
the pushed episodes survive; ``PushedSurvivalRate`` only reports that rate for the logs. Both are
curriculum terms: the environment logs what they return as ``Curriculum/<name>``.

Getting up: ``ResetLying`` (a ``reset`` event) lays worlds on their back, front or side with a
random posture, just above the ground; rewards and the success flag measure how far up they are.

All state lives in tensors (``state_tensors()``), so an exact save of the env holds it.
"""

from __future__ import annotations

import math

import mujoco
import mujoco_warp as mjw
import torch
import warp as wp

from warplab.envs import draws
from warplab.envs.managers.protocols import CurriculumTerm, EventTerm
from warplab.envs.mdp import _state
from warplab.envs.mdp.curricula import SuccessRateWindow
from warplab.envs.mdp.math import quat_mul, uniform

Range = tuple[float, float]


def find_event_term(env, name: str):
    """The bound event term ``name`` of ``env`` (the instance of its term class).

    Raises:
      KeyError: the env has no event of that name; the message lists those it has.
    """
    return env.event_manager.term(name)


def find_push_event(env, name: str) -> RandomPush:
    """The ``RandomPush`` instance of event ``name`` (the push the curriculum terms follow)."""
    push = find_event_term(env, name)
    if not isinstance(push, RandomPush):
        raise ValueError(f"event {name!r} is not a RandomPush")
    return push


# ---------------------------------------------------------------------------- pushes
class RandomPush(EventTerm):
    """Pushes the floating base in a random horizontal direction (an ``interval`` event).

    Params:
      kind: ``"velocity"`` adds the push to the base's linear velocity (m/s, world frame), as the
        field's ``push_by_setting_velocity`` does; ``"force"`` applies a horizontal force (N, world
        frame, at the centre of mass of ``body``) for ``duration_s``, through ``xfrc_applied``.
      strength: the largest push, m/s (``velocity``) or N (``force``). It is the initial value of
        ``self.strength``, which a ``PushStrengthCurriculum`` may change.
      min_ratio: each push's magnitude is drawn uniformly from ``[min_ratio, 1] * strength``
        (1: every push has exactly the current strength, for evaluation).
      body: the body pushed by a force (default: the base's body); unused for velocity pushes.
      duration_s: how long a force lasts, s, rounded to whole policy steps (at least one).

    State (tensors): ``strength []``; ``last_push [num_envs, 3]``, the last push of each world (m/s or
    N, world frame); ``last_push_step [num_envs]``, the ``step_count`` at that push
    (``NEVER``: none yet); ``force_steps_left [num_envs]``, policy steps the current force still lasts.

    A push fired at step ``C`` acts in the physics of step ``C + 1`` on. Worlds that end their
    episode in the step a push falls due are not pushed (their reset would undo it anyway).
    """

    NEVER = torch.iinfo(torch.long).min
    """``last_push_step`` of a world never pushed: before any episode start, however episode
    lengths were set."""

    def __init__(self, cfg, env):
        p = cfg.params
        self.kind = p.get("kind", "velocity")
        if self.kind not in ("velocity", "force"):
            raise ValueError(f"kind must be 'velocity' or 'force', got {self.kind!r}")
        strength = float(p.get("strength", 0.0))
        if not strength >= 0.0:
            raise ValueError(f"strength must be >= 0 (m/s or N), got {strength!r}")
        min_ratio = float(p.get("min_ratio", 0.5))
        if not 0.0 <= min_ratio <= 1.0:
            raise ValueError(f"min_ratio must be in [0, 1], got {min_ratio!r}")
        self.min_ratio = min_ratio
        n, dev = env.num_envs, env.device
        self._qvel_adr = _state._root(env)[1]
        body = p.get("body")
        if body is None:
            self.body_id = int(env.mj_model.jnt_bodyid[env.index.root_joint])
        else:
            (self.body_id,) = env.index.ids("body", body)[:1]
        duration_s = float(p.get("duration_s", 0.2))
        if not duration_s > 0.0:
            raise ValueError(f"duration_s must be > 0 s, got {duration_s!r}")
        self.force_steps = max(1, round(duration_s / env.policy_dt))
        """Policy steps a force push lasts."""
        # A zero-copy view of MuJoCo Warp's applied forces [num_envs, nbody, 6] (force, torque),
        # which the simulation's state (and so the env's saved state) already holds.
        self._xfrc = wp.to_torch(env.sim.data.xfrc_applied)
        self.strength = torch.tensor(strength, device=dev)
        self.last_push = torch.zeros(n, 3, device=dev)
        self.last_push_step = torch.full((n,), self.NEVER, dtype=torch.long, device=dev)
        self.force_steps_left = torch.zeros(n, dtype=torch.long, device=dev)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save (see the class docstring)."""
        return {
            "strength": self.strength,
            "last_push": self.last_push,
            "last_push_step": self.last_push_step,
            "force_steps_left": self.force_steps_left,
        }

    def pushed_this_episode(self, env) -> torch.Tensor:
        """``[num_envs]`` bool: the world was pushed during its current episode."""
        episode_start = env.step_count - env.episode_length_buf
        return self.last_push_step > episode_start

    def __call__(self, env, mask, **params) -> None:
        n = env.num_envs
        xfrc = self._xfrc[:, self.body_id, 0:3]
        if self.kind == "force":
            # Forces that have lasted their time end now, before the physics of the next step.
            active = self.force_steps_left > 0
            self.force_steps_left -= active.long()
            ending = active & (self.force_steps_left == 0)
            xfrc.copy_(torch.where(ending[:, None], torch.zeros_like(xfrc), xfrc))
        due = mask & ~env.reset_buf
        # Every world draws, pushed or not, so that the draws do not depend on the mask.
        magnitude = self.strength * uniform(self.min_ratio, 1.0, (n,), env.rng, env.device)
        angle = uniform(0.0, 2.0 * math.pi, (n,), env.rng, env.device)
        push = (
            torch.stack([torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)], 1) * magnitude[:, None]
        )
        rows = due[:, None]
        if self.kind == "velocity":
            v = self._qvel_adr
            env.sim.qvel[:, v : v + 3] += push * rows
        else:
            xfrc.copy_(torch.where(rows, push, xfrc))
            self.force_steps_left.copy_(torch.where(due, self.force_steps, self.force_steps_left))
        self.last_push.copy_(torch.where(rows, push, self.last_push))
        self.last_push_step.copy_(torch.where(due, env.step_count, self.last_push_step))


def pushed_episode_outcomes(env, mask: torch.Tensor, push: RandomPush) -> tuple[torch.Tensor, torch.Tensor]:
    """How the episodes that end now went, among the worlds pushed during them.

    Call it from a curriculum term (on reset, before the worlds' state is reset). An episode counts
    when its world is in ``mask``, was pushed, and ended this step: survived if it timed out, fell if
    it terminated. Worlds whose physics diverged are left out (a NaN is not the policy's fall), and
    so are worlds reset by hand mid-episode (``env.reset()``).

    Returns:
      survived ``[num_envs]`` bool, fell ``[num_envs]`` bool.
    """
    tm = env.termination_manager
    counted = mask & push.pushed_this_episode(env) & (env.episode_length_buf > 0) & ~env.sim.diverged
    return counted & tm.truncated, counted & tm.terminated


class PushStrengthCurriculum(CurriculumTerm):
    """Adapts the strength of a ``RandomPush`` to how often the pushed episodes survive.

    After every ``window`` pushed episodes that ended (by time-out: survived; by a termination: fell),
    the survival rate of that window decides: at least ``raise_above``, the strength grows by
    ``step``; below ``lower_below``, it shrinks by ``step``; in between it stays. The strength stays
    within ``limits``; the counts start again after each decision. One strength serves all worlds.

    Params:
      event_name: the ``RandomPush`` event whose ``strength`` this changes (default ``"push"``).
      window: pushed episodes per decision (None: ``num_envs``).
      raise_above, lower_below: survival rates, in [0, 1].
      step: change of the strength per decision, in its unit (m/s or N).
      limits: (lowest, highest) strength.
      adaptive: False keeps the strength as it is and only reports it (play mode).

    Returns (logged as ``Curriculum/<name>``): the current strength ``[]``.
    """

    def __init__(self, cfg, env):
        p = cfg.params
        self.push = find_push_event(env, p.get("event_name", "push"))
        self.rate = SuccessRateWindow(
            p, env, lower_below=0.5, raise_above=0.8, episodes_what="pushed episodes"
        )
        lower, upper = (float(x) for x in p.get("limits", (0.0, math.inf)))
        if not 0.0 <= lower <= upper:
            raise ValueError(f"limits must satisfy 0 <= low <= high, got {(lower, upper)}")
        self.limits = (lower, upper)
        self.step = float(p.get("step", 0.1))
        self.adaptive = bool(p.get("adaptive", True))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The counts since the last decision (the strength is saved with its event)."""
        return {"episodes": self.rate.episodes, "survived": self.rate.successes}

    def __call__(
        self,
        env,
        mask,
        event_name: str = "push",
        window: int | None = None,
        raise_above: float = 0.8,
        lower_below: float = 0.5,
        step: float = 0.1,
        limits: Range = (0.0, math.inf),
        adaptive: bool = True,
    ) -> torch.Tensor:
        if self.adaptive:
            survived, fell = pushed_episode_outcomes(env, mask, self.push)
            direction = self.rate.record(survived | fell, survived)
            strength = (self.push.strength + self.step * direction).clamp(self.limits[0], self.limits[1])
            self.push.strength.copy_(torch.where(direction != 0, strength, self.push.strength))
        return self.push.strength.clone()


class PushedSurvivalRate(CurriculumTerm):
    """Reports the share of pushed episodes that survived (a curriculum term that changes nothing).

    Params:
      event_name: the ``RandomPush`` event (default ``"push"``).
      window: None counts every pushed episode since the env was built (evaluation); an integer
        reports the rate of the latest complete window of that many pushed episodes (training), and
        the rate of the partial first window until one is complete.

    Returns (logged as ``Curriculum/<name>``): the rate ``[]`` in [0, 1]; NaN until a pushed episode
    has ended.
    """

    def __init__(self, cfg, env):
        p = cfg.params
        self.push = find_push_event(env, p.get("event_name", "push"))
        window = p.get("window")
        if window is not None and int(window) < 1:
            raise ValueError(f"window must be >= 1 pushed episodes or None, got {window!r}")
        self.window = None if window is None else int(window)
        self.episodes = torch.zeros((), dtype=torch.long, device=env.device)
        self.survived = torch.zeros((), dtype=torch.long, device=env.device)
        self.last_window_rate = torch.full((), float("nan"), device=env.device)
        """Survival rate of the latest complete window (NaN before the first)."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {
            "episodes": self.episodes,
            "survived": self.survived,
            "last_window_rate": self.last_window_rate,
        }

    def __call__(self, env, mask, event_name: str = "push", window: int | None = None) -> torch.Tensor:
        survived, fell = pushed_episode_outcomes(env, mask, self.push)
        self.survived += survived.sum()
        self.episodes += (survived | fell).sum()
        running = self.survived.float() / self.episodes.float()  # NaN while no episode counted
        if self.window is None:
            return running
        full = self.episodes >= self.window
        self.last_window_rate.copy_(torch.where(full, running, self.last_window_rate))
        self.episodes.masked_fill_(full, 0)
        self.survived.masked_fill_(full, 0)
        return torch.where(torch.isnan(self.last_window_rate), running, self.last_window_rate)


# ---------------------------------------------------------------------------- getting up
LYING_POSES = ("face_up", "face_down", "side")
"""Orientations ``ResetLying`` draws: on the back, on the front, on the left or right side."""


def _axis_angle(axis: int, angle: torch.Tensor) -> torch.Tensor:
    """Quaternions ``[n, 4]`` of rotations by ``angle [n]`` rad about world axis 0 (x), 1 (y) or 2 (z)."""
    half = 0.5 * angle
    q = torch.zeros(angle.shape[0], 4, device=angle.device)
    q[:, 0] = torch.cos(half)
    q[:, 1 + axis] = torch.sin(half)
    return q


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

    def __init__(self, cfg, env):
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
        self.tilt_range = tuple(p.get("tilt_range_rad", (-0.2, 0.2)))
        self.drop_range = tuple(p.get("drop_height_range_m", (0.05, 0.15)))
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
    def _init_geoms(self, env) -> None:
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

    def _drop_pose(self, env, mask) -> torch.Tensor:
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
    def _build_pool(self, env, settle_s: float, rounds: int) -> None:
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
        env,
        mask,
        pose_weights: dict[str, float] | None = None,
        tilt_range_rad: Range = (-0.2, 0.2),
        joint_scale: float = 0.5,
        drop_height_range_m: Range = (0.05, 0.15),
        settle_s: float = 1.0,
        pool_rounds: int = 1,
        joints=None,
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
    env, standing_height: float, height_ratio: float = 0.9, min_upright: float = 0.9
) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the base is above ``height_ratio * standing_height`` (m) and upright
    (cosine of its tilt above ``min_upright``), else 0.0."""
    height = _state.root_pos_w(env)[:, 2]
    upright = -_state.gravity_b(env)[:, 2]
    return ((height > height_ratio * standing_height) & (upright > min_upright)).float()


def standing_at_time_out(
    env, standing_height: float, height_ratio: float = 0.9, min_upright: float = 0.9
) -> torch.Tensor:
    """``[num_envs]`` bool: the episode times out now and the robot is standing (``is_standing``).

    Meant as a termination term with ``time_out=True``: it fires only together with the time-out,
    so it changes no episode's outcome, and the episode statistics log the share of finished
    episodes that ended standing as ``Episode_Termination/<name>``: a success rate.
    """
    timed_out = env.episode_length_buf >= env.max_episode_length
    return timed_out & is_standing(env, standing_height, height_ratio, min_upright).bool()


def base_height_progress(env, lying_height: float, standing_height: float) -> torch.Tensor:
    """``[num_envs]`` how far the base has risen from ``lying_height`` to ``standing_height`` (m),
    linear, clipped to [0, 1]: a gradient all the way up, unlike an exponential around standing."""
    z = _state.root_pos_w(env)[:, 2]
    return ((z - lying_height) / (standing_height - lying_height)).clamp(0.0, 1.0)


def base_height_exp(env, target_height: float, std: float) -> torch.Tensor:
    """``[num_envs]`` ``exp(-(z - target_height)^2 / std^2)``, heights in m."""
    z = _state.root_pos_w(env)[:, 2]
    return torch.exp(-torch.square(z - target_height) / std**2)


def feet_under_base_exp(env, bodies, std: float) -> torch.Tensor:
    """``[num_envs]`` ``exp(-d^2 / std^2)``, d the horizontal distance (m) from the base to the
    midpoint of the feet ``bodies``: 1 with the feet under the body, as in standing."""
    ids = env.index.tensor("body", bodies)
    feet_xy = env.sim.xpos[:, ids, :2].mean(dim=1)
    d2 = torch.sum(torch.square(feet_xy - _state.root_pos_w(env)[:, :2]), dim=1)
    return torch.exp(-d2 / std**2)


def airborne(env, bodies=None, contact_force_n: float = 1.0) -> torch.Tensor:
    """``[num_envs]`` 1.0 where none of ``bodies`` (None: every body) touches anything with more
    than ``contact_force_n`` N, else 0.0: the robot is in flight.

    Penalized in getting up: a policy paid for rising fast learns to leap off the floor (base up at
    ~3 m/s, half a second in the air), which no real humanoid survives for long. Reads the contact
    forces of ``cfrc_ext``, so external pushes count as contact too (getting up has none).
    """
    touching = _state.body_contact_force(env, bodies) > contact_force_n
    return (~touching.any(dim=1)).float()


def base_rise_speed_above(env, limit_m_s: float) -> torch.Tensor:
    """``[num_envs]`` ``max(0, v_z - limit_m_s)^2``, (m/s)^2: the base rising faster than the limit
    (world frame). Standing up needs the base to rise at well under 1 m/s; a leap needs several."""
    vz = _state.root_lin_vel_w(env)[:, 2]
    return torch.square(torch.clamp(vz - limit_m_s, min=0.0))


def joint_vel_l2_when_standing(
    env, standing_height: float, joints=None, height_ratio: float = 0.9, min_upright: float = 0.9
) -> torch.Tensor:
    """``[num_envs]`` squared joint velocities, (rad/s)^2, where the robot stands (else 0): once up,
    stay still."""
    vel = env.sim.qvel[:, env.index.joint_dof_ids(joints)]
    return torch.sum(torch.square(vel), dim=1) * is_standing(env, standing_height, height_ratio, min_upright)


__all__ = [
    "LYING_POSES",
    "PushStrengthCurriculum",
    "PushedSurvivalRate",
    "RandomPush",
    "ResetLying",
    "airborne",
    "base_height_exp",
    "base_height_progress",
    "base_rise_speed_above",
    "feet_under_base_exp",
    "find_event_term",
    "is_standing",
    "joint_vel_l2_when_standing",
    "pushed_episode_outcomes",
    "standing_at_time_out",
]
