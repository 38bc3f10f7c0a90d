"""Choosing the compute device, and the names Warp and PyTorch give it."""

from __future__ import annotations

import os

import torch
import warp as wp

_VALID = ("auto", "cpu", "cuda")

# Warp prints one line for every module it loads (hundreds for MuJoCo Warp); show only warnings
# unless asked.
if os.environ.get("WARPLAB_WARP_VERBOSE", "0") != "1":
    wp.config.quiet = True
    wp.config.log_level = wp.LOG_WARNING


class DeviceError(RuntimeError):
    """The device the user asked for cannot be used on this machine."""


def resolve_device(device: str = "auto") -> str:
    """Returns the Warp device name for a user's choice.

    Args:
      device: ``"auto"`` (CUDA when a GPU is present, else the CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:N"``.

    Returns:
      A Warp device alias such as ``"cpu"`` or ``"cuda:0"``.
    """
    if not isinstance(device, str) or not (device in _VALID or device.startswith("cuda:")):
        raise ValueError(f"device must be one of 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    wp.init()
    if device == "auto":
        return "cuda:0" if wp.is_cuda_available() else "cpu"
    if device.startswith("cuda"):
        if not wp.is_cuda_available():
            raise DeviceError(
                f"device={device!r} was asked for, but Warp finds no CUDA GPU on this machine "
                "(no NVIDIA driver, or no GPU). Use device='cpu' or 'auto'."
            )
        return "cuda:0" if device == "cuda" else device
    return "cpu"


def torch_device(warp_device: str) -> torch.device:
    """The torch device that shares memory with a Warp device."""
    return torch.device(warp_device)
