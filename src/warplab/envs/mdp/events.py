"""Event terms: ``f(env, mask [num_envs] bool, **params)``; they change only the masked worlds.

Reset events write joint state (the env recomputes kinematics once after all of them). Model-field
randomizations make the field per-world on first use; ranges scale or offset the model's nominal
value, so repeated resets do not compound.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from warplab.envs.mdp import _state
from warplab.envs.mdp.math import quat_mul, uniform

Range = tuple[float, float]


def _draw(env, rng: Range, shape) -> torch.Tensor:
    return uniform(rng[0], rng[1], shape, env.rng, env.device)


def _rows(mask: torch.Tensor, value: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, *([1] * (current.ndim - 1))), value, current)


def reset_joints_by_offset(
    env, mask, position_range: Range = (0.0, 0.0), velocity_range: Range = (0.0, 0.0), joints=None
):
    """Sets hinge/slide joints to their default position plus a uniform offset (rad or m), and their
    velocity to a uniform draw (rad/s or m/s)."""
    qids, vids = env.index.joint_qpos_ids(joints), env.index.joint_dof_ids(joints)
    n = env.num_envs
    pos = _state.default_joint_pos(env, joints) + _draw(env, position_range, (n, len(qids)))
    vel = _draw(env, velocity_range, (n, len(vids)))
    sim = env.sim
    sim.qpos[:, qids] = _rows(mask, pos, sim.qpos[:, qids])
    sim.qvel[:, vids] = _rows(mask, vel, sim.qvel[:, vids])


def reset_joints_by_scale(
    env, mask, position_range: Range = (1.0, 1.0), velocity_range: Range = (0.0, 0.0), joints=None
):
    """Sets hinge/slide joints to their default position times a uniform factor, velocities uniform."""
    qids, vids = env.index.joint_qpos_ids(joints), env.index.joint_dof_ids(joints)
    n = env.num_envs
    pos = _state.default_joint_pos(env, joints) * _draw(env, position_range, (n, len(qids)))
    vel = _draw(env, velocity_range, (n, len(vids)))
    sim = env.sim
    sim.qpos[:, qids] = _rows(mask, pos, sim.qpos[:, qids])
    sim.qvel[:, vids] = _rows(mask, vel, sim.qvel[:, vids])


_POSE_KEYS = ("x", "y", "z", "roll", "pitch", "yaw")


def reset_root_state_uniform(
    env, mask, pose_range: dict[str, Range] | None = None, velocity_range: dict[str, Range] | None = None
):
    """Places the floating base at its default pose plus uniform offsets, with a uniform velocity.

    Args:
      pose_range: ranges for ``x, y, z`` (m) and ``roll, pitch, yaw`` (rad) offsets; missing keys are 0.
      velocity_range: the same keys for linear (m/s, world frame) and angular (rad/s, base frame) velocity.
    """
    for name, ranges in (("pose_range", pose_range or {}), ("velocity_range", velocity_range or {})):
        unknown = set(ranges) - set(_POSE_KEYS)
        if unknown:
            raise ValueError(f"{name} has keys {sorted(unknown)}; allowed: {list(_POSE_KEYS)}")
    q, v = _state._root(env)
    n = env.num_envs

    def draws(ranges):
        ranges = ranges or {}
        return torch.stack([_draw(env, ranges.get(k, (0.0, 0.0)), (n,)) for k in _POSE_KEYS], dim=1)

    pose, vel = draws(pose_range), draws(velocity_range)
    sim = env.sim
    pos = sim.init_qpos[q : q + 3] + pose[:, :3]
    half = 0.5 * pose[:, 3:]
    c, s = torch.cos(half), torch.sin(half)
    # Rotation roll about x, then pitch about y, then yaw about z (extrinsic), as quaternions.
    qx = torch.stack([c[:, 0], s[:, 0], torch.zeros_like(c[:, 0]), torch.zeros_like(c[:, 0])], 1)
    qy = torch.stack([c[:, 1], torch.zeros_like(c[:, 1]), s[:, 1], torch.zeros_like(c[:, 1])], 1)
    qz = torch.stack([c[:, 2], torch.zeros_like(c[:, 2]), torch.zeros_like(c[:, 2]), s[:, 2]], 1)
    quat = quat_mul(quat_mul(qz, quat_mul(qy, qx)), sim.init_qpos[q + 3 : q + 7].expand(n, 4))
    sim.qpos[:, q : q + 7] = _rows(mask, torch.cat([pos, quat], dim=1), sim.qpos[:, q : q + 7])
    sim.qvel[:, v : v + 6] = _rows(mask, vel, sim.qvel[:, v : v + 6])


def push_by_setting_velocity(env, mask, velocity_range: dict[str, Range]):
    """Kicks the base: adds a uniform velocity (x, y, z in m/s, world frame; roll, pitch, yaw in rad/s,
    base frame) to the masked worlds."""
    _, v = _state._root(env)
    n = env.num_envs
    kick = torch.stack([_draw(env, velocity_range.get(k, (0.0, 0.0)), (n,)) for k in _POSE_KEYS], dim=1)
    env.sim.qvel[:, v : v + 6] += kick * mask[:, None]


def randomize_field(
    env,
    mask,
    field: str,
    ranges: Range,
    operation: str = "scale",
    ids: Sequence[int] | None = None,
    column: int | None = None,
):
    """Draws a model field per world: ``scale`` multiplies the nominal value, ``add`` offsets it,
    ``abs`` replaces it, by a uniform draw from ``ranges``.

    Args:
      field: a per-world MuJoCo Warp model field, e.g. ``"geom_friction"``, ``"dof_damping"``.
      ids: the elements (rows of the field) to change; None changes all.
      column: for fields with several values per element (friction, gains), the one to change.
    """
    if operation not in ("scale", "add", "abs"):
        raise ValueError(f"operation must be 'scale', 'add' or 'abs', got {operation!r}")
    view = env.sim.model_field(field)
    nominal = env.sim.fields.default(field)
    rows = slice(None) if ids is None else torch.as_tensor(list(ids), dtype=torch.long, device=env.device)
    target = view[:, rows] if view.ndim > 1 else view
    base = nominal[rows] if nominal.ndim > 0 else nominal
    if column is not None:
        target, base = target[..., column], base[..., column]
    draw = _draw(env, ranges, target.shape)
    new = {"scale": base * draw, "add": base + draw, "abs": draw}[operation]
    new = _rows(mask, new, target)
    if column is not None:
        if view.ndim > 1:
            view[:, rows, column] = new
        else:
            view[:, column] = new
    elif view.ndim > 1:
        view[:, rows] = new
    else:
        view.copy_(new)


def randomize_friction(env, mask, ranges: Range, geoms=None):
    """Scales the sliding friction of geoms (all when None) by a uniform draw per world."""
    ids = None if geoms is None else env.index.ids("geom", geoms)
    randomize_field(env, mask, "geom_friction", ranges, "scale", ids, column=0)


def randomize_mass(env, mask, ranges: Range, bodies=None, operation: str = "scale"):
    """Scales (or offsets, in kg) body masses per world, with inertia scaled alike; then recomputes the
    model constants that depend on mass. Costly: use at startup, not at every reset."""
    ids = env.index.ids("body", bodies)
    ids = [i for i in ids if i != 0]
    before = env.sim.model_field("body_mass")[:, ids].clone()
    randomize_field(env, mask, "body_mass", ranges, operation, ids)
    after = env.sim.model_field("body_mass")[:, ids]
    ratio = torch.where(before > 0, after / before.clamp(min=1e-9), torch.ones_like(after))
    inertia = env.sim.model_field("body_inertia")
    inertia[:, ids] = inertia[:, ids] * ratio[..., None]
    env.sim.set_const()


def randomize_com(env, mask, ranges: Range, bodies=None):
    """Offsets the centre of mass of bodies (in their frame, m) by a uniform draw per axis."""
    ids = [i for i in env.index.ids("body", bodies) if i != 0]
    randomize_field(env, mask, "body_ipos", ranges, "add", ids)
    env.sim.set_const()


def randomize_pd_gains(env, mask, kp_range: Range, kd_range: Range, actuators=None):
    """Scales the stiffness and damping of position actuators per world (gainprm[0] = kp,
    biasprm[1] = -kp, biasprm[2] = -kd)."""
    ids = torch.as_tensor(env.index.ids("actuator", actuators), dtype=torch.long, device=env.device)
    gain, bias = env.sim.model_field("actuator_gainprm"), env.sim.model_field("actuator_biasprm")
    kp0 = env.sim.fields.default("actuator_gainprm")[ids, 0]
    kd0 = -env.sim.fields.default("actuator_biasprm")[ids, 2]
    n = env.num_envs
    kp = kp0 * _draw(env, kp_range, (n, len(ids)))
    kd = kd0 * _draw(env, kd_range, (n, len(ids)))
    gain[:, ids, 0] = _rows(mask, kp, gain[:, ids, 0])
    bias[:, ids, 1] = _rows(mask, -kp, bias[:, ids, 1])
    bias[:, ids, 2] = _rows(mask, -kd, bias[:, ids, 2])


def randomize_joint_damping(env, mask, ranges: Range, joints=None):
    """Scales joint damping per world."""
    ids = env.index.joint_dof_ids(joints).tolist()
    randomize_field(env, mask, "dof_damping", ranges, "scale", ids)


def randomize_gravity(env, mask, ranges: Range):
    """Offsets the vertical gravity (m/s^2) per world."""
    view = env.sim.model_field("opt.gravity")
    g0 = env.sim.fields.default("opt.gravity")
    z = g0[2] + _draw(env, ranges, (env.num_envs,))
    view[:, 2] = torch.where(mask, z, view[:, 2])
