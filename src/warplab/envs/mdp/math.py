"""Quaternion and frame helpers on batched tensors. Quaternions are MuJoCo's (w, x, y, z)."""

from __future__ import annotations

import torch

from warplab.envs import draws


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    """Inverse of unit quaternions ``[..., 4]``."""
    return torch.cat([q[..., :1], -q[..., 1:]], dim=-1)


def quat_rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotates vectors ``v [..., 3]`` by unit quaternions ``q [..., 4]`` (frame b -> world for q = q_wb)."""
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * torch.cross(u, v, dim=-1)
    return v + w * t + torch.cross(u, t, dim=-1)


def quat_rotate_inverse(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotates world vectors ``v [..., 3]`` into the frame of ``q [..., 4]`` (world -> body)."""
    return quat_rotate(quat_conjugate(q), v)


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``a * b`` of quaternions ``[..., 4]``."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        dim=-1,
    )


def quat_from_yaw(yaw: torch.Tensor) -> torch.Tensor:
    """Quaternions ``[..., 4]`` of rotations by ``yaw [...]`` radians about the world z axis."""
    half = 0.5 * yaw
    zeros = torch.zeros_like(half)
    return torch.stack([torch.cos(half), zeros, zeros, torch.sin(half)], dim=-1)


def yaw_from_quat(q: torch.Tensor) -> torch.Tensor:
    """Heading angle ``[...]`` (rad) of quaternions ``[..., 4]``."""
    w, x, y, z = q.unbind(-1)
    return torch.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def uniform(
    low: float, high: float, shape: tuple[int, ...], generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Uniform samples in [low, high) drawn from ``generator``."""
    return low + (high - low) * draws.rand(shape, generator, device)


def quat_normalize(q: torch.Tensor) -> torch.Tensor:
    """Quaternions ``[..., 4]`` scaled to unit norm."""
    return q / torch.linalg.vector_norm(q, dim=-1, keepdim=True).clamp(min=1e-12)


def quat_canonical(q: torch.Tensor) -> torch.Tensor:
    """``q [..., 4]`` or ``-q``, whichever has ``w >= 0``: the same rotation, one sign (an observation
    that flips sign for the same orientation would confuse a policy)."""
    return torch.where(q[..., :1] < 0.0, -q, q)


def quat_from_axis_angle(axis: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Quaternions ``[..., 4]`` of rotations by ``angle [...]`` rad about unit ``axis [..., 3]``
    (right-handed)."""
    half = 0.5 * angle
    return torch.cat([torch.cos(half)[..., None], torch.sin(half)[..., None] * axis], dim=-1)


def quat_to_rotvec(q: torch.Tensor) -> torch.Tensor:
    """Rotation vectors ``[..., 3]`` (axis times angle, rad, angle in [0, pi]) of unit quaternions
    ``q [..., 4]``.

    Near the identity ``|v|`` vanishes and ``v / |v|`` is undefined; there the first-order form
    ``2 v / w`` is used, which is exact to the angle's third power.
    """
    q = quat_canonical(q)
    w, v = q[..., :1], q[..., 1:]
    sin_half = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(sin_half, w)
    small = sin_half < 1e-6
    factor = torch.where(small, 2.0 / w.clamp(min=1e-12), angle / sin_half.clamp(min=1e-12))
    return v * factor


def quat_sub(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The rotation vector ``[..., 3]`` (rad) that turns orientation ``b`` into ``a``, in ``b``'s
    frame: ``rotvec(conj(b) * a)``, as MuJoCo's ``mju_subQuat(res, a, b)``."""
    return quat_to_rotvec(quat_mul(quat_conjugate(b), a))


def quat_angle(q: torch.Tensor) -> torch.Tensor:
    """The rotation angle ``[...]`` of unit quaternions ``q [..., 4]``, rad in [0, pi] (either sign
    of ``q``)."""
    return 2.0 * torch.atan2(torch.linalg.vector_norm(q[..., 1:], dim=-1), q[..., 0].abs())


def quat_error_angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The angle ``[...]`` of the smallest rotation between orientations ``a`` and ``b`` ``[..., 4]``,
    rad in [0, pi]: the angle of ``a * conj(b)`` (equally of ``conj(b) * a``)."""
    return quat_angle(quat_mul(a, quat_conjugate(b)))


def random_quat_uniform(
    shape: tuple[int, ...], generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Unit quaternions ``[*shape, 4]`` (w, x, y, z) uniform on the rotations (Shoemake 1992: three
    uniform numbers give a point uniform on the unit 3-sphere), drawn from ``generator``, canonical
    sign (``w >= 0``)."""
    u = draws.rand((*shape, 3), generator, device)
    r1, r2 = torch.sqrt(1.0 - u[..., 0]), torch.sqrt(u[..., 0])
    t1, t2 = 2.0 * torch.pi * u[..., 1], 2.0 * torch.pi * u[..., 2]
    q = torch.stack([r2 * torch.cos(t2), r1 * torch.sin(t1), r1 * torch.cos(t1), r2 * torch.sin(t2)], dim=-1)
    return quat_canonical(q)
