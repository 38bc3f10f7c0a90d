"""Observation terms of free objects and fingertips, in the world or a frame on the robot.

An object is a body on a free joint (``warplab.assets.ObjectCfg``), named by its body. Its pose and
velocity are read from the free joint's ``qpos`` and ``qvel``, the physical state itself, so they
hold right after a reset without any forward pass. A frame is a body (``frame_body``) or a site
(``frame_site``) of the robot, a palm say; its pose is MuJoCo's ``xpos``/``xquat`` (``site_xpos``
for a site), computed by the last forward pass: exact for a fixed palm, for one that moves the
pose at the start of the last physics substep. With neither, the frame is the world's.

MuJoCo's free joint: ``qpos = (x, y, z, qw, qx, qy, qz)``, the body origin's position in the world
frame and its orientation; ``qvel = (vx, vy, vz, wx, wy, wz)``, the linear velocity of the body
origin **in the world frame** and the angular velocity **in the body's own frame**
(``tests/envs/test_object_terms.py`` checks both against ``mujoco.mj_objectVelocity``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import mujoco
import torch

from warplab.envs.mdp.math import (
    quat_canonical,
    quat_conjugate,
    quat_mul,
    quat_normalize,
    quat_rotate,
    quat_rotate_inverse,
)
from warplab.term_export import ObservationExport, declares

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


def term_frame(params: Mapping[str, Any]) -> dict[str, str] | None:
    """The frame a term's params name, as export writes it: ``{"body": name}``, ``{"site": name}``,
    or None for the world."""
    if params.get("frame_body") is not None:
        return {"body": str(params["frame_body"])}
    if params.get("frame_site") is not None:
        return {"site": str(params["frame_site"])}
    return None


def in_world_frame(params: Mapping[str, Any]) -> bool:
    """Whether a term with these params works in the world frame (names no frame): a robot gives an
    object's signals in the policy's object frame, so such a term needs that frame's pose."""
    return term_frame(params) is None


def in_named_frame(params: Mapping[str, Any]) -> bool:
    """Whether a term with these params works in a frame of the robot (names one): a term that reads
    a quantity given in the world (a goal) in that frame needs the frame's pose."""
    return term_frame(params) is not None


def _object_export(params: Mapping[str, Any]) -> dict[str, Any]:
    """An object term's facts for the robot: which object, and the frame its value is in."""
    return {"object": params["object"], "frame": term_frame(params)}


def _frame_export(params: Mapping[str, Any]) -> dict[str, Any]:
    return {"frame": term_frame(params)}


def object_free_joint(env: RlEnv, object: str) -> tuple[int, int]:
    """``(qpos address, dof address)`` of the free joint of body ``object``, resolved once per env."""
    return env.index.once(("object_free_joint", object), lambda: _find_free_joint(env, object))


def _find_free_joint(env: RlEnv, object: str) -> tuple[int, int]:
    m = env.mj_model
    (body,) = env.index.ids("body", object)[:1]
    first, count = int(m.body_jntadr[body]), int(m.body_jntnum[body])
    for j in range(first, first + count):
        if int(m.jnt_type[j]) == mujoco.mjtJoint.mjJNT_FREE:
            return int(m.jnt_qposadr[j]), int(m.jnt_dofadr[j])
    raise ValueError(
        f"object {object!r}: body has no free joint; object terms need a free body "
        "(ObjectCfg(fixed=False), or <freejoint/> in the MJCF)"
    )


def object_pos_w(env: RlEnv, object: str) -> torch.Tensor:
    """``[num_envs, 3]`` position of the object's body origin in the world frame, m."""
    q, _ = object_free_joint(env, object)
    return env.sim.qpos[:, q : q + 3]


def object_quat_w(env: RlEnv, object: str) -> torch.Tensor:
    """``[num_envs, 4]`` orientation (w, x, y, z) of the object's body in the world frame (as stored:
    either sign, not necessarily of unit norm after a state was written by hand)."""
    q, _ = object_free_joint(env, object)
    return env.sim.qpos[:, q + 3 : q + 7]


def object_lin_vel_w(env: RlEnv, object: str) -> torch.Tensor:
    """``[num_envs, 3]`` linear velocity of the object's body origin in the world frame, m/s."""
    _, v = object_free_joint(env, object)
    return env.sim.qvel[:, v : v + 3]


def object_ang_vel_w(env: RlEnv, object: str) -> torch.Tensor:
    """``[num_envs, 3]`` angular velocity of the object in the world frame, rad/s (the free joint's
    body-frame angular velocity rotated by the body's orientation)."""
    _, v = object_free_joint(env, object)
    return quat_rotate(object_quat_w(env, object), env.sim.qvel[:, v + 3 : v + 6])


def frame_pose_w(
    env: RlEnv, frame_body: str | None = None, frame_site: str | None = None
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(pos [num_envs, 3] m, quat [num_envs, 4])`` of a robot body or site in the world frame, or
    None for the world frame itself (neither given)."""
    if frame_body is not None and frame_site is not None:
        raise ValueError(f"give frame_body or frame_site, not both (got {frame_body!r} and {frame_site!r})")
    if frame_body is not None:
        (body,) = env.index.once(("frame_body", frame_body), lambda: _one(env, "body", frame_body))
        return env.sim.xpos[:, body], env.sim.xquat[:, body]
    if frame_site is not None:
        site, body, local = env.index.once(("frame_site", frame_site), lambda: _site_frame(env, frame_site))
        return env.sim.site_xpos[:, site], quat_mul(env.sim.xquat[:, body], local.expand(env.num_envs, 4))
    return None


def _one(env: RlEnv, kind: str, name: str) -> tuple[int]:
    ids = env.index.ids(kind, name)
    if len(ids) != 1:
        names = [env.index.names[kind][i] for i in ids]
        raise ValueError(f"{kind} {name!r} must name one {kind}, it matches {names}")
    return (ids[0],)


def _site_frame(env: RlEnv, name: str) -> tuple[int, int, torch.Tensor]:
    (site,) = _one(env, "site", name)
    m = env.mj_model
    local = torch.as_tensor(m.site_quat[site], dtype=torch.float32, device=env.device)
    return site, int(m.site_bodyid[site]), local


def _point_in_frame(
    env: RlEnv, p_w: torch.Tensor, frame_body: str | None, frame_site: str | None
) -> torch.Tensor:
    """Points ``[num_envs, ..., 3]`` in the world frame -> relative to the frame, in its axes."""
    frame = frame_pose_w(env, frame_body, frame_site)
    if frame is None:
        return p_w
    pos, quat = frame
    extra = p_w.ndim - 2
    pos, quat = pos.view(env.num_envs, *([1] * extra), 3), quat.view(env.num_envs, *([1] * extra), 4)
    return quat_rotate_inverse(quat.expand(*p_w.shape[:-1], 4), p_w - pos)


def _vector_in_frame(
    env: RlEnv, v_w: torch.Tensor, frame_body: str | None, frame_site: str | None
) -> torch.Tensor:
    frame = frame_pose_w(env, frame_body, frame_site)
    return v_w if frame is None else quat_rotate_inverse(frame[1], v_w)


@declares(ObservationExport("object_pos", extra=_object_export, frame_pose=in_world_frame))
def object_pos_in_frame(
    env: RlEnv, object: str, frame_body: str | None = None, frame_site: str | None = None
) -> torch.Tensor:
    """``[num_envs, 3]`` position of the object's body origin relative to the frame's origin, in the
    frame's axes, m (the world frame when no frame is named)."""
    return _point_in_frame(env, object_pos_w(env, object), frame_body, frame_site)


@declares(ObservationExport("object_quat", extra=_object_export, frame_pose=in_world_frame))
def object_quat_in_frame(
    env: RlEnv, object: str, frame_body: str | None = None, frame_site: str | None = None
) -> torch.Tensor:
    """``[num_envs, 4]`` orientation (w, x, y, z) of the object in the frame, ``conj(q_frame) *
    q_object``, unit norm, canonical sign (``w >= 0``)."""
    quat = quat_normalize(object_quat_w(env, object))
    frame = frame_pose_w(env, frame_body, frame_site)
    if frame is not None:
        quat = quat_mul(quat_conjugate(frame[1]), quat)
    return quat_canonical(quat)


@declares(ObservationExport("object_lin_vel", extra=_object_export, frame_pose=in_world_frame))
def object_lin_vel_in_frame(
    env: RlEnv, object: str, frame_body: str | None = None, frame_site: str | None = None
) -> torch.Tensor:
    """``[num_envs, 3]`` linear velocity of the object's body origin (relative to the world) in the
    frame's axes, m/s. For a fixed frame it is also the velocity relative to the frame; for a moving
    one the frame's own motion is not subtracted."""
    return _vector_in_frame(env, object_lin_vel_w(env, object), frame_body, frame_site)


@declares(ObservationExport("object_ang_vel", extra=_object_export, frame_pose=in_world_frame))
def object_ang_vel_in_frame(
    env: RlEnv, object: str, frame_body: str | None = None, frame_site: str | None = None
) -> torch.Tensor:
    """``[num_envs, 3]`` angular velocity of the object (relative to the world) in the frame's axes,
    rad/s; with no frame, in the world's axes (not the object's own, as MuJoCo's qvel has it)."""
    return _vector_in_frame(env, object_ang_vel_w(env, object), frame_body, frame_site)


@declares(
    ObservationExport(
        "fingertip_pos", extra=_frame_export, elements=("site", "sites"), frame_pose=in_world_frame
    )
)
def fingertip_positions(
    env: RlEnv, sites: Names, frame_body: str | None = None, frame_site: str | None = None
) -> torch.Tensor:
    """``[num_envs, 3 * num_sites]`` positions of the named sites (fingertips) relative to the frame's
    origin, in its axes, m: ``(x0, y0, z0, x1, ...)`` in the model's order of the sites."""
    ids = env.index.tensor("site", sites)
    points = _point_in_frame(env, env.sim.site_xpos[:, ids], frame_body, frame_site)
    return points.reshape(env.num_envs, -1)


@declares(ObservationExport("object_joint_pos", joints=True))
def object_joint_pos(env: RlEnv, joints: Names) -> torch.Tensor:
    """``[num_envs, num_joints]`` positions of an articulated object's hinge or slide joints (a
    drawer's slide, m; a door's hinge, rad): what a robot measures with a tracker or an encoder on
    the object, not its own encoders, so export declares the signal ``object_joint_pos``."""
    return env.sim.qpos[:, env.index.joint_qpos_ids(joints)]


@declares(ObservationExport("object_joint_vel", joints=True))
def object_joint_vel(env: RlEnv, joints: Names) -> torch.Tensor:
    """``[num_envs, num_joints]`` velocities of an articulated object's hinge or slide joints, m/s or
    rad/s (signal ``object_joint_vel``)."""
    return env.sim.qvel[:, env.index.joint_dof_ids(joints)]


@declares(ObservationExport("touch", elements=("sensor", "sensors")))
def touch_sensors(env: RlEnv, sensors: Names) -> torch.Tensor:
    """``[num_envs, total_dim]`` readings of the named sensors side by side, in the model's order
    (MuJoCo's units for each type: a touch sensor gives the normal contact force in its zone, N;
    a force sensor a 3-vector in its site's frame, N). Sensors of force type need
    ``RlEnvCfg.reset_forward = "full"`` for a reset world's first observation."""
    columns = env.index.once(("sensor_columns", sensors), lambda: _sensor_columns(env, sensors))
    return env.sim.sensordata[:, columns]


def _sensor_columns(env: RlEnv, sensors: Names) -> torch.Tensor:
    m = env.mj_model
    columns = [
        int(m.sensor_adr[i]) + k
        for i in env.index.ids("sensor", sensors)
        for k in range(int(m.sensor_dim[i]))
    ]
    return torch.as_tensor(columns, dtype=torch.long, device=env.device)
