"""Event terms: ``f(env, mask [num_envs] bool, **params)``; they change only the masked worlds.

Reset events write joint state (the env recomputes kinematics once after all of them). Model-field
randomizations make the field per-world on first use; ranges scale or offset the model's nominal
value, so repeated resets do not compound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import mujoco
import torch

from warplab.envs import draws
from warplab.envs.mdp import _state
from warplab.envs.mdp.math import quat_mul, uniform
from warplab.sim.model_fields import SET_CONST_OUTPUTS

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names

Range = tuple[float, float]


def _draw(env: RlEnv, rng: Range, shape: tuple[int, ...]) -> torch.Tensor:
    return uniform(rng[0], rng[1], shape, env.rng, env.device)


def _uniform_per_key(env: RlEnv, ranges: dict[str, Range] | None, keys: Sequence[str]) -> torch.Tensor:
    """``[num_envs, len(keys)]``: column ``i`` uniform in ``ranges[keys[i]]`` (missing keys: (0, 0)).

    One random draw for all columns, not one per key: the base reset and the velocity push draw six
    numbers a world, and a draw per key was the largest share of the reset path's kernel launches.
    The bounds become device tensors once per distinct set of ranges (``SceneIndex.once``), so the
    step copies nothing from the host.
    """
    bounds = tuple((float(lo), float(hi)) for lo, hi in ((ranges or {}).get(k, (0.0, 0.0)) for k in keys))

    def to_device() -> tuple[torch.Tensor, torch.Tensor]:
        if any(hi < lo for lo, hi in bounds):
            raise ValueError(
                f"ranges must be (low, high) with low <= high, got {dict(zip(keys, bounds, strict=True))}"
            )
        low = torch.tensor([lo for lo, _ in bounds], dtype=torch.float32, device=env.device)
        width = torch.tensor([hi - lo for lo, hi in bounds], dtype=torch.float32, device=env.device)
        return low, width

    low, width = env.index.once(("uniform_per_key", bounds), to_device)
    return low + width * draws.rand((env.num_envs, len(keys)), env.rng, env.device)


def _rows(mask: torch.Tensor, value: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    return torch.where(mask.view(-1, *([1] * (current.ndim - 1))), value, current)


def reset_joints_by_offset(
    env: RlEnv,
    mask: torch.Tensor,
    position_range: Range = (0.0, 0.0),
    velocity_range: Range = (0.0, 0.0),
    joints: Names = None,
) -> None:
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
    env: RlEnv,
    mask: torch.Tensor,
    position_range: Range = (1.0, 1.0),
    velocity_range: Range = (0.0, 0.0),
    joints: Names = None,
) -> None:
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
    env: RlEnv,
    mask: torch.Tensor,
    pose_range: dict[str, Range] | None = None,
    velocity_range: dict[str, Range] | None = None,
) -> None:
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
    pose = _uniform_per_key(env, pose_range, _POSE_KEYS)
    vel = _uniform_per_key(env, velocity_range, _POSE_KEYS)
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


def push_by_setting_velocity(env: RlEnv, mask: torch.Tensor, velocity_range: dict[str, Range]) -> None:
    """Kicks the base: adds a uniform velocity (x, y, z in m/s, world frame; roll, pitch, yaw in rad/s,
    base frame) to the masked worlds."""
    _, v = _state._root(env)
    kick = _uniform_per_key(env, velocity_range, _POSE_KEYS)
    env.sim.qvel[:, v : v + 6] += kick * mask[:, None]


def randomize_field(
    env: RlEnv,
    mask: torch.Tensor,
    field: str,
    ranges: Range,
    operation: str = "scale",
    ids: Sequence[int] | torch.Tensor | None = None,
    column: int | None = None,
    shared: bool = False,
) -> None:
    """Draws a model field per world: ``scale`` multiplies the nominal value, ``add`` offsets it,
    ``abs`` replaces it, by a uniform draw from ``ranges``.

    The nominal value is the compiled model's (``sim.fields.default``), so drawing again (at every
    reset) replaces the last draw rather than compounding it. Worlds outside ``mask`` keep their
    values bit for bit.

    Args:
      field: a per-world MuJoCo Warp model field, e.g. ``"geom_friction"``, ``"dof_damping"``.
      ids: the elements (rows of the field) to change, as a list or a device tensor (no copy to the
        device at each call); None changes all.
      column: for fields with several values per element (friction, gains), the one to change.
      shared: one draw per world for all the elements (and values) changed, rather than one each.
    """
    if operation not in ("scale", "add", "abs"):
        raise ValueError(f"operation must be 'scale', 'add' or 'abs', got {operation!r}")
    view = env.sim.model_field(field)
    nominal = env.sim.fields.default(field)
    rows: slice | torch.Tensor
    if ids is None:
        rows = slice(None)
    elif isinstance(ids, torch.Tensor):
        rows = ids
    else:
        rows = torch.as_tensor(list(ids), dtype=torch.long, device=env.device)
    target = view[:, rows] if view.ndim > 1 else view
    base = nominal[rows] if nominal.ndim > 0 else nominal
    if column is not None:
        target, base = target[..., column], base[..., column]
    shape = (target.shape[0],) + (1,) * (target.ndim - 1) if shared else target.shape
    draw = _draw(env, ranges, shape)
    new = {"scale": base * draw, "add": base + draw, "abs": draw.expand(target.shape)}[operation]
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


def _set_const(env: RlEnv, mask: torch.Tensor) -> None:
    """Recomputes the model constants derived from masses, inertias, centres of mass and armature
    (``sim.set_const()``), then gives the worlds outside ``mask`` back their own.

    Their sources did not change, so their constants were right; keeping them leaves those worlds
    bit for bit as they were (``set_const`` works in float32 where MuJoCo's compiler used float64).
    ``set_const`` recomputes every world, a few kernels over the whole model: use the terms that
    call it at startup or on reset, not on an interval.
    """
    derived = {n: t for n, t in env.sim.fields.arrays().items() if n in SET_CONST_OUTPUTS}
    kept = {n: t.clone() for n, t in derived.items()}
    env.sim.set_const()
    for name, current in derived.items():
        current.copy_(_rows(mask, current, kept[name]))


def randomize_friction(
    env: RlEnv, mask: torch.Tensor, ranges: Range, geoms: Names = None, per_geom: bool = False
) -> None:
    """Scales the sliding friction (``geom_friction[:, 0]``, no unit) of ``geoms`` (all when None).

    MuJoCo gives a contact the larger of its two geoms' coefficients. With ``per_geom=False`` one
    factor per world scales every selected geom alike, so a contact between two of them (a sole on
    the floor) gets that factor times the larger nominal coefficient: the draw is the world's ground
    friction scale, the same under both feet. Select the floor and the feet together (or None, every
    geom) for that to hold; selecting only the feet leaves contacts at the floor's coefficient
    wherever it is the larger.

    With ``per_geom=True`` each geom draws its own factor, and a contact takes the larger of two
    draws: for (0.4, 1.2), with the floor and the soles both at 1.0 (the humanoid), the coefficient
    under a foot averages 0.93 rather than 0.8, falls below 0.6 in one world in 16 rather than one
    in 4, and differs between the two feet.
    """
    ids = None if geoms is None else env.index.ids("geom", geoms)
    randomize_field(env, mask, "geom_friction", ranges, "scale", ids, column=0, shared=not per_geom)


def randomize_mass(
    env: RlEnv, mask: torch.Tensor, ranges: Range, bodies: Names = None, operation: str = "scale"
) -> None:
    """Scales (or offsets, in kg) the mass of ``bodies`` (all but the world when None), one draw per
    body and world, with each body's inertia scaled by the same ratio to its nominal mass (a body
    of uniform density); then recomputes the constants that depend on them (``set_const``).

    Both are set from the nominal values, so repeated draws do not compound. A body of zero nominal
    mass keeps its nominal (zero) inertia. Costly (``set_const``): use at startup.
    """
    ids = [i for i in env.index.ids("body", bodies) if i != 0]
    randomize_field(env, mask, "body_mass", ranges, operation, ids)
    mass = env.sim.model_field("body_mass")[:, ids]
    mass0 = env.sim.fields.default("body_mass")[ids]
    inertia0 = env.sim.fields.default("body_inertia")[ids]
    ratio = torch.where(mass0 > 0, mass / mass0.clamp(min=1e-12), torch.ones_like(mass))
    inertia = env.sim.model_field("body_inertia")
    inertia[:, ids] = _rows(mask, inertia0 * ratio[..., None], inertia[:, ids])
    _set_const(env, mask)


_AXES = ("x", "y", "z")


def randomize_com(
    env: RlEnv, mask: torch.Tensor, ranges: Range | dict[str, Range], bodies: Names = None
) -> None:
    """Offsets the centre of mass of ``bodies`` (all but the world when None) from its nominal place,
    in the body's frame, m: one uniform draw per axis, body and world. ``ranges`` is one range for
    every axis, or ``{"x": ..., "y": ..., "z": ...}`` (a missing axis is not offset). Costly
    (``set_const``): use at startup.
    """
    ids = [i for i in env.index.ids("body", bodies) if i != 0]
    if isinstance(ranges, dict):
        unknown = set(ranges) - set(_AXES)
        if unknown:
            raise ValueError(f"randomize_com ranges has keys {sorted(unknown)}; allowed: {list(_AXES)}")
        for axis, key in enumerate(_AXES):
            randomize_field(env, mask, "body_ipos", ranges.get(key, (0.0, 0.0)), "add", ids, column=axis)
    else:
        randomize_field(env, mask, "body_ipos", ranges, "add", ids)
    _set_const(env, mask)


def randomize_armature(env: RlEnv, mask: torch.Tensor, ranges: Range, joints: Names = None) -> None:
    """Scales the armature (reflected rotor inertia, kg·m² or kg) of ``joints`` (all hinge and slide
    joints when None) from its nominal value, one draw per joint and world; a joint without armature
    keeps none. Armature adds to the diagonal of the mass matrix, so the constants derived from it
    (the inverse weights the constraint solver uses) are recomputed (``set_const``): use at startup.
    """
    randomize_field(env, mask, "dof_armature", ranges, "scale", env.index.joint_dof_ids(joints))
    _set_const(env, mask)


def _position_actuators(env: RlEnv, actuators: Names) -> tuple[list[int], torch.Tensor]:
    """Ids of ``actuators`` (a list, and the cached device tensor), checked to be position servos
    (force = kp * ctrl - kp * q - kd * qdot). The check reads the compiled model on the host, once
    per env (``SceneIndex.once``)."""
    return env.index.once(
        ("position_actuators", actuators), lambda: _check_position_actuators(env, actuators)
    )


def _check_position_actuators(env: RlEnv, actuators: Names) -> tuple[list[int], torch.Tensor]:
    m = env.mj_model
    ids = env.index.ids("actuator", actuators)
    bad = [
        env.index.names["actuator"][i]
        for i in ids
        if int(m.actuator_gaintype[i]) != mujoco.mjtGain.mjGAIN_FIXED
        or int(m.actuator_biastype[i]) != mujoco.mjtBias.mjBIAS_AFFINE
        or m.actuator_biasprm[i, 1] != -m.actuator_gainprm[i, 0]
    ]
    if bad:
        raise ValueError(
            f"actuators {bad} are not position actuators (gainprm[0] = kp, biasprm[1] = -kp); "
            "PD gains and motor strength apply to position actuators only"
        )
    return ids, env.index.tensor("actuator", actuators)


def _motor_strength(env: RlEnv, ids: torch.Tensor) -> torch.Tensor | None:
    """The motor-strength factor ``[num_envs, len(ids)]`` each world's actuators have now, read back
    from their force range (``randomize_motor_strength`` scales it from the nominal one); None while
    no world's force range was changed."""
    if "actuator_forcerange" not in env.sim.fields.names:
        return None
    force = env.sim.model_field("actuator_forcerange")[:, ids]
    force0 = env.sim.fields.default("actuator_forcerange")[ids]
    width0 = force0[:, 1] - force0[:, 0]
    width = force[..., 1] - force[..., 0]
    return torch.where(width0 > 0, width / width0.clamp(min=1e-12), torch.ones_like(width))


def randomize_pd_gains(
    env: RlEnv, mask: torch.Tensor, kp_range: Range, kd_range: Range, actuators: Names = None
) -> None:
    """Scales the stiffness kp (N·m/rad) and damping kd (N·m·s/rad) of position actuators from their
    nominal values, independent draws per actuator and world: ``gainprm[0] = kp``,
    ``biasprm[1] = -kp``, ``biasprm[2] = -kd``.

    Where ``randomize_motor_strength`` scaled an actuator, its factor is kept: the gains become
    nominal * PD factor * strength factor, whichever of the two terms ran last.
    """
    _, ids = _position_actuators(env, actuators)
    gain, bias = env.sim.model_field("actuator_gainprm"), env.sim.model_field("actuator_biasprm")
    kp0 = env.sim.fields.default("actuator_gainprm")[ids, 0]
    kd0 = -env.sim.fields.default("actuator_biasprm")[ids, 2]
    n = env.num_envs
    kp = kp0 * _draw(env, kp_range, (n, len(ids)))
    kd = kd0 * _draw(env, kd_range, (n, len(ids)))
    strength = _motor_strength(env, ids)
    if strength is not None:
        kp, kd = kp * strength, kd * strength
    gain[:, ids, 0] = _rows(mask, kp, gain[:, ids, 0])
    bias[:, ids, 1] = _rows(mask, -kp, bias[:, ids, 1])
    bias[:, ids, 2] = _rows(mask, -kd, bias[:, ids, 2])


def randomize_motor_strength(env: RlEnv, mask: torch.Tensor, ranges: Range, actuators: Names = None) -> None:
    """Scales the torque position actuators produce by one factor per actuator and world (no unit):
    a weaker or stronger motor, drive electronics or supply voltage.

    A position actuator's torque is ``clamp(kp * (target - q) - kd * qdot, forcerange)``. Scaling all
    of it by ``s`` means scaling kp (``gainprm[0]`` and ``-kp`` in ``biasprm[1]``), kd (``-kd`` in
    ``biasprm[2]``) and the torque limit (``forcerange``): the same servo error then gives ``s`` times
    the torque, up to ``s`` times the peak torque. The force range is set from its nominal value;
    the gains are rescaled by the new factor over the old (read back from the force range), so a PD
    gain factor of ``randomize_pd_gains`` is kept and repeated draws do not compound (to float
    rounding).

    Raises:
      ValueError: an actuator is not a position actuator, or has no force limit (its force range is
        what carries the factor; use ``randomize_pd_gains`` for an actuator without one).
    """
    host_ids, ids = _position_actuators(env, actuators)
    env.index.once(("force_limited", actuators), lambda: _check_force_limited(env, host_ids))
    old = _motor_strength(env, ids)
    force = env.sim.model_field("actuator_forcerange")
    force0 = env.sim.fields.default("actuator_forcerange")[ids]
    gain, bias = env.sim.model_field("actuator_gainprm"), env.sim.model_field("actuator_biasprm")
    strength = _draw(env, ranges, (env.num_envs, len(ids)))
    change = strength if old is None else strength / old
    keep = ~mask[:, None]
    force[:, ids] = _rows(mask, force0 * strength[..., None], force[:, ids])
    gain[:, ids, 0] = torch.where(keep, gain[:, ids, 0], gain[:, ids, 0] * change)
    bias[:, ids, 1] = torch.where(keep, bias[:, ids, 1], bias[:, ids, 1] * change)
    bias[:, ids, 2] = torch.where(keep, bias[:, ids, 2], bias[:, ids, 2] * change)


def _check_force_limited(env: RlEnv, host_ids: list[int]) -> None:
    m = env.mj_model
    unlimited = [
        env.index.names["actuator"][i]
        for i in host_ids
        if not m.actuator_forcelimited[i] or not m.actuator_forcerange[i, 1] > m.actuator_forcerange[i, 0]
    ]
    if unlimited:
        raise ValueError(
            f"actuators {unlimited} have no force limit (forcerange): motor strength scales the torque "
            "limit with the gains; randomize their gains with randomize_pd_gains instead"
        )


def randomize_joint_damping(env: RlEnv, mask: torch.Tensor, ranges: Range, joints: Names = None) -> None:
    """Scales the viscous damping (N·m·s/rad or N·s/m) of ``joints`` (all hinge and slide joints when
    None) from its nominal value, one draw per joint and world; a joint without damping keeps none.
    This is the joint's own ``damping`` (drive friction), apart from the actuator's kd."""
    randomize_field(env, mask, "dof_damping", ranges, "scale", env.index.joint_dof_ids(joints))


def randomize_joint_frictionloss(env: RlEnv, mask: torch.Tensor, ranges: Range, joints: Names = None) -> None:
    """Scales the dry friction (``dof_frictionloss``, N·m or N) of ``joints`` (all hinge and slide joints
    when None) from its nominal value, one draw per joint and world: a stiffer or freer drawer slide or
    door hinge. A joint compiled without friction loss keeps none: the constraint rows a world may
    need are sized from the compiled model."""
    randomize_field(env, mask, "dof_frictionloss", ranges, "scale", env.index.joint_dof_ids(joints))


def randomize_joint_stiffness(env: RlEnv, mask: torch.Tensor, ranges: Range, joints: Names = None) -> None:
    """Scales the spring stiffness (``jnt_stiffness``, N·m/rad or N/m) of ``joints`` (all hinge and
    slide joints when None) from its nominal value, one draw per joint and world: a door's return
    spring. A joint without a spring keeps none."""
    env.index.joint_dof_ids(joints)  # checks that they are hinge or slide joints
    randomize_field(env, mask, "jnt_stiffness", ranges, "scale", env.index.tensor("joint", joints))


def randomize_joint_springref(env: RlEnv, mask: torch.Tensor, ranges: Range, joints: Names = None) -> None:
    """Offsets the angle (rad) or position (m) the spring of ``joints`` pulls toward (MuJoCo's
    ``springref``, MuJoCo Warp's ``qpos_spring``) from its nominal value, one draw per joint and world:
    a door that rests a little open."""
    randomize_field(env, mask, "qpos_spring", ranges, "add", env.index.joint_qpos_ids(joints))


def randomize_geom_size(env: RlEnv, mask: torch.Tensor, ranges: Range, geoms: Names) -> None:
    """Scales every dimension of each of ``geoms`` (``geom_size``, m) by one factor per geom and world,
    so a geom keeps its proportions: a thicker or longer handle. Primitives only (a mesh's size is its
    vertices). The bounds that collision detection reads (``geom_rbound``, ``geom_aabb``) follow
    (``set_const``: use at startup or reset); the body's mass and inertia keep their compiled values.
    """
    ids = env.index.once(("primitive_geoms", geoms), lambda: _primitive_geoms(env, geoms))
    size = env.sim.model_field("geom_size")
    size0 = env.sim.fields.default("geom_size")[ids]
    scale = _draw(env, ranges, (env.num_envs, len(ids)))
    size[:, ids] = _rows(mask, size0 * scale[..., None], size[:, ids])
    _set_const(env, mask)


def _primitive_geoms(env: RlEnv, geoms: Names) -> torch.Tensor:
    ids = env.index.ids("geom", geoms)
    primitive = (
        mujoco.mjtGeom.mjGEOM_SPHERE,
        mujoco.mjtGeom.mjGEOM_CAPSULE,
        mujoco.mjtGeom.mjGEOM_ELLIPSOID,
        mujoco.mjtGeom.mjGEOM_CYLINDER,
        mujoco.mjtGeom.mjGEOM_BOX,
    )
    bad = [env.index.names["geom"][i] for i in ids if int(env.mj_model.geom_type[i]) not in primitive]
    if bad:
        raise ValueError(
            f"randomize_geom_size: geoms {bad} are not spheres, capsules, ellipsoids, cylinders or boxes"
        )
    return torch.as_tensor(ids, dtype=torch.long, device=env.device)


def randomize_geom_pos(
    env: RlEnv,
    mask: torch.Tensor,
    ranges: Range | dict[str, Range],
    geoms: Names,
    sites: Names = None,
) -> None:
    """Offsets the position of ``geoms`` in their body's frame (``geom_pos``, m) from the nominal one:
    one uniform draw per axis, geom and world: a handle mounted higher or off centre. ``ranges`` is one
    range for every axis, or ``{"x": ..., "y": ..., "z": ...}`` (a missing axis is not offset).

    ``sites`` (one per geom, in the same model order) move by their geom's offset (``site_pos``), so a
    grasp point stays on its handle. The body's mass, centre of mass and inertia keep their compiled
    values.
    """
    ids = env.index.tensor("geom", geoms)
    if isinstance(ranges, dict):
        unknown = set(ranges) - set(_AXES)
        if unknown:
            raise ValueError(f"randomize_geom_pos ranges has keys {sorted(unknown)}; allowed: {list(_AXES)}")
    axis_ranges = (
        {k: ranges.get(k, (0.0, 0.0)) for k in _AXES}
        if isinstance(ranges, dict)
        else dict.fromkeys(_AXES, ranges)
    )
    offset = _uniform_per_key(env, axis_ranges, _AXES * len(ids)).view(env.num_envs, len(ids), 3)
    targets = [("geom_pos", ids)]
    if sites is not None:
        site_ids = env.index.tensor("site", sites)
        if len(site_ids) != len(ids):
            raise ValueError(
                f"randomize_geom_pos: sites {sites!r} name {len(site_ids)} sites for {len(ids)} geoms {geoms!r}"
            )
        targets.append(("site_pos", site_ids))
    for field, rows in targets:
        view = env.sim.model_field(field)
        view[:, rows] = _rows(mask, env.sim.fields.default(field)[rows] + offset, view[:, rows])


def randomize_gravity(env: RlEnv, mask: torch.Tensor, ranges: Range) -> None:
    """Offsets the vertical gravity (m/s^2) per world from the model's."""
    view = env.sim.model_field("opt.gravity")
    g0 = env.sim.fields.default("opt.gravity")
    z = g0[2] + _draw(env, ranges, (env.num_envs,))
    view[:, 2] = torch.where(mask, z, view[:, 2])
