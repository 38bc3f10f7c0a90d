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


def quat_from_rotvec(v: torch.Tensor) -> torch.Tensor:
    """Unit quaternions ``[..., 4]`` of rotation vectors ``v [..., 3]`` (axis times angle, rad).

    Near a zero angle ``v / |v|`` is undefined; there ``sin(|v| / 2) / |v|`` is replaced by its
    series ``1/2 - |v|^2 / 48``, exact to the angle's fourth power.
    """
    angle = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    small = angle < 1e-4
    sin_half_over_angle = torch.where(
        small, 0.5 - angle * angle / 48.0, torch.sin(0.5 * angle) / angle.clamp(min=1e-12)
    )
    return torch.cat([torch.cos(0.5 * angle), v * sin_half_over_angle], dim=-1)


def quat_from_matrix(mat: torch.Tensor) -> torch.Tensor:
    """Unit quaternions ``[..., 4]`` (w, x, y, z, ``w >= 0``) of rotation matrices ``mat [..., 3, 3]``.

    Each of the four components is largest for some rotation, and the formula that divides by the
    largest is the well-conditioned one (Shepperd 1978); all four are computed and the best chosen
    per element with ``gather``, so there is no branch on the host.
    """
    m00, m11, m22 = mat[..., 0, 0], mat[..., 1, 1], mat[..., 2, 2]
    m01, m02, m10 = mat[..., 0, 1], mat[..., 0, 2], mat[..., 1, 0]
    m12, m20, m21 = mat[..., 1, 2], mat[..., 2, 0], mat[..., 2, 1]
    # Four times the square of each component, from the trace and the diagonal.
    squares = torch.stack(
        [1.0 + m00 + m11 + m22, 1.0 + m00 - m11 - m22, 1.0 - m00 + m11 - m22, 1.0 - m00 - m11 + m22], dim=-1
    )
    # Candidate k is 4 q_k times q; dividing by 2 sqrt(squares_k) = 4 |q_k| gives q.
    candidates = torch.stack(
        [
            torch.stack([squares[..., 0], m21 - m12, m02 - m20, m10 - m01], dim=-1),
            torch.stack([m21 - m12, squares[..., 1], m01 + m10, m02 + m20], dim=-1),
            torch.stack([m02 - m20, m01 + m10, squares[..., 2], m12 + m21], dim=-1),
            torch.stack([m10 - m01, m02 + m20, m12 + m21, squares[..., 3]], dim=-1),
        ],
        dim=-2,
    )
    best = squares.argmax(dim=-1, keepdim=True)
    chosen = torch.gather(candidates, -2, best[..., None].expand(*best.shape[:-1], 1, 4)).squeeze(-2)
    scale = 2.0 * torch.sqrt(torch.gather(squares, -1, best).clamp(min=1e-12))
    return quat_canonical(chosen / scale)


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
