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
