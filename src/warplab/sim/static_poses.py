# Warp kernel bodies index device arrays and call Warp builtins that its type stubs do not describe
# (a kernel is compiled from its source, never run as Python): the checker reads them as errors.
# mypy: disable-error-code="attr-defined,index,misc"
"""World-frame poses of the items welded to the world, recomputed from per-world model fields.

MuJoCo Warp treats geoms welded to the world (their body's ``body_weldid`` is 0: the world body and
jointless bodies hanging off it, unless under a mocap body) as static: it computes their
``geom_xpos`` and ``geom_xmat`` once, when its data is made, and its kinematics skips them at every
step. Their bodies' poses (``xpos``, ``xquat``, ``xmat``) and every site's pose are recomputed at
every kinematics pass. So once ``body_pos``, ``body_quat``, ``geom_pos`` or ``geom_quat`` differ
per world (a table top or a cabinet placed anew at each reset), the static geoms, the shapes that
collide, would stay where the compiled model put them.

``StaticPoses.update(mask)`` recomputes them for the worlds of a mask: the static bodies' poses,
following each chain of jointless bodies from the world (parents first), then the static geoms'
poses from those. Nothing runs while none of those four fields is per-world or the model has no
static item; the ids are found once, on the host; two kernel launches, no host sync, safe to
record in a CUDA graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco
import numpy as np
import torch
import warp as wp

if TYPE_CHECKING:
    from warplab.sim.simulation import Simulation

STATIC_POSE_FIELDS = ("body_pos", "body_quat", "geom_pos", "geom_quat")
"""Model fields that, made per-world, move items MuJoCo Warp treats as static."""

# MuJoCo Warp stores quaternions in ``wp.quat`` arrays in MuJoCo's order (w, x, y, z), not Warp's
# (x, y, z, w): Warp's own quaternion operations would read them wrongly, hence these helpers.


@wp.func
def _mul_quat(a: wp.quat, b: wp.quat) -> wp.quat:
    return wp.quat(
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    )


@wp.func
def _quat_to_mat(q: wp.quat) -> wp.mat33:
    w, x, y, z = q[0], q[1], q[2], q[3]
    return wp.mat33(
        w * w + x * x - y * y - z * z,
        2.0 * (x * y - w * z),
        2.0 * (x * z + w * y),
        2.0 * (x * y + w * z),
        w * w - x * x + y * y - z * z,
        2.0 * (y * z - w * x),
        2.0 * (x * z - w * y),
        2.0 * (y * z + w * x),
        w * w - x * x - y * y + z * z,
    )


@wp.func
def _normalize_quat(q: wp.quat) -> wp.quat:
    norm = wp.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if norm < 1e-15:
        return wp.quat(1.0, 0.0, 0.0, 0.0)
    return wp.quat(q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm)


@wp.kernel
def _static_body_poses(
    mask: wp.array[bool],
    bodies: wp.array[wp.int32],
    body_parentid: wp.array[wp.int32],
    body_pos: wp.array2d[wp.vec3],
    body_quat: wp.array2d[wp.quat],
    xpos: wp.array2d[wp.vec3],
    xquat: wp.array2d[wp.quat],
    xmat: wp.array2d[wp.mat33],
):
    # One thread a world walks the static bodies in model order, where a parent precedes its
    # children, so each chain from the world is composed as MuJoCo's kinematics composes it.
    world = wp.tid()
    if not mask[world]:
        return
    for i in range(bodies.shape[0]):
        body = bodies[i]
        parent = body_parentid[body]
        pos = body_pos[world % body_pos.shape[0], body]
        quat = body_quat[world % body_quat.shape[0], body]
        if parent > 0:
            parent_quat = xquat[world, parent]
            pos = xpos[world, parent] + _quat_to_mat(parent_quat) * pos
            quat = _mul_quat(parent_quat, quat)
        quat = _normalize_quat(quat)
        xpos[world, body] = pos
        xquat[world, body] = quat
        xmat[world, body] = _quat_to_mat(quat)


@wp.kernel
def _static_geom_poses(
    mask: wp.array[bool],
    geoms: wp.array[wp.int32],
    geom_bodyid: wp.array[wp.int32],
    geom_pos: wp.array2d[wp.vec3],
    geom_quat: wp.array2d[wp.quat],
    xpos: wp.array2d[wp.vec3],
    xquat: wp.array2d[wp.quat],
    geom_xpos: wp.array2d[wp.vec3],
    geom_xmat: wp.array2d[wp.mat33],
):
    world, i = wp.tid()
    if not mask[world]:
        return
    geom = geoms[i]
    body = geom_bodyid[geom]
    pos = geom_pos[world % geom_pos.shape[0], geom]
    quat = geom_quat[world % geom_quat.shape[0], geom]
    if body > 0:  # the world body's frame is the world's
        body_quat = xquat[world, body]
        pos = xpos[world, body] + _quat_to_mat(body_quat) * pos
        quat = _mul_quat(body_quat, quat)
    geom_xpos[world, geom] = pos
    geom_xmat[world, geom] = _quat_to_mat(quat)


def static_ids(mj_model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """The bodies and geoms MuJoCo Warp treats as static, as MuJoCo Warp's kinematics decides it:
    welded to the world (``body_weldid`` 0) and not under a mocap body.

    Returns:
      ``(bodies, geoms)``: int32 ids in model order (a body after its parent); the world body is
      not among the bodies (its frame is the world's), its geoms are among the geoms.
    """
    root_is_mocap = mj_model.body_mocapid[mj_model.body_rootid] >= 0
    static = (mj_model.body_weldid == 0) & ~root_is_mocap
    bodies = np.flatnonzero(static[1:]) + 1
    geoms = np.flatnonzero(static[mj_model.geom_bodyid])
    return bodies.astype(np.int32), geoms.astype(np.int32)


class StaticPoses:
    """Recomputes the poses of a simulation's static bodies and geoms from its model fields."""

    def __init__(self, sim: Simulation):
        self._sim = sim
        bodies, geoms = static_ids(sim.mj_model)
        self.num_bodies, self.num_geoms = len(bodies), len(geoms)
        with wp.ScopedDevice(sim.wp_device):
            self._bodies: wp.array = wp.array(bodies, dtype=wp.int32)
            self._geoms: wp.array = wp.array(geoms, dtype=wp.int32)
            self._body_parentid: wp.array = wp.array(
                sim.mj_model.body_parentid.astype(np.int32), dtype=wp.int32
            )
            self._geom_bodyid: wp.array = wp.array(sim.mj_model.geom_bodyid.astype(np.int32), dtype=wp.int32)
        # The mask is copied into a buffer of our own, so that a captured graph reads the mask of
        # each replay from the address it recorded.
        self._mask = torch.zeros(sim.num_worlds, dtype=torch.bool, device=sim.device)
        self._mask_wp = wp.from_torch(self._mask, dtype=wp.bool)

    def needed(self) -> bool:
        """Whether a field in ``STATIC_POSE_FIELDS`` is per-world and a static geom exists: only then
        can a static geom's pose differ from the one MuJoCo Warp computed when its data was made.
        A host-side check of which fields were asked for (no device work)."""
        return self.num_geoms > 0 and any(name in STATIC_POSE_FIELDS for name in self._sim.fields.names)

    def update(self, mask: torch.Tensor | None = None) -> None:
        """Recomputes, in the worlds of ``mask`` (bool ``[num_worlds]``; None: every world), the
        world-frame poses of the static bodies (``xpos`` m, ``xquat`` (w, x, y, z), ``xmat``) from
        ``body_pos``/``body_quat``, then of the static geoms (``geom_xpos`` m, ``geom_xmat``) from
        ``geom_pos``/``geom_quat``, each world with its own values of those fields. Nothing runs
        when ``needed()`` is false."""
        if not self.needed():
            return
        if mask is None:
            self._mask.fill_(True)
        else:
            self._mask.copy_(mask)
        m, d, n = self._sim.model, self._sim.data, self._sim.num_worlds
        with wp.ScopedDevice(self._sim.wp_device):
            if self.num_bodies:
                wp.launch(
                    _static_body_poses,
                    dim=n,
                    inputs=[self._mask_wp, self._bodies, self._body_parentid, m.body_pos, m.body_quat],
                    outputs=[d.xpos, d.xquat, d.xmat],
                )
            wp.launch(
                _static_geom_poses,
                dim=(n, self.num_geoms),
                inputs=[
                    self._mask_wp,
                    self._geoms,
                    self._geom_bodyid,
                    m.geom_pos,
                    m.geom_quat,
                    d.xpos,
                    d.xquat,
                ],
                outputs=[d.geom_xpos, d.geom_xmat],
            )


__all__ = ["STATIC_POSE_FIELDS", "StaticPoses", "static_ids"]
