"""Choosing the compute device, and the names Warp and PyTorch give it."""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import tempfile
from collections.abc import Iterator

import torch
import warp as wp

_VALID = ("auto", "cpu", "cuda")

# Warp prints one line for every module it loads (hundreds for MuJoCo Warp); show only warnings
# unless asked.
if os.environ.get("WARPLAB_WARP_VERBOSE", "0") != "1":
    wp.config.log_level = wp.LOG_WARNING


NO_DRIVER_WARNING = (
    "Warp CUDA warning: Could not find or load the NVIDIA CUDA driver. GPU execution will not be available."
)
"""What Warp's native library prints to stderr when it initializes on a machine without the CUDA
driver. On a machine without an NVIDIA GPU that is the normal case, not news: warplab drops this one
line there (and only there: where a GPU is present the line says something is wrong, and stays)."""


def nvidia_gpu_present() -> bool:
    """Whether this machine has an NVIDIA GPU or its driver, as the OS tells without CUDA.

    Linux: the driver's ``/proc/driver/nvidia`` or ``/dev/nvidia*`` nodes, or a PCI display
    controller of vendor 0x10de (an NVIDIA card whose driver is missing counts: its warning is
    news). Elsewhere the answer is unknown and taken as yes, so no message is dropped.
    """
    if not sys.platform.startswith("linux"):
        return True
    if os.path.exists("/proc/driver/nvidia") or glob.glob("/dev/nvidia[0-9]*"):
        return True
    for device in glob.glob("/sys/bus/pci/devices/*"):
        try:
            with open(f"{device}/vendor") as vendor, open(f"{device}/class") as kind:
                if vendor.read().strip() == "0x10de" and kind.read().strip().startswith("0x03"):
                    return True
        except OSError:
            continue
    return False


@contextlib.contextmanager
def _stderr_without(line: str) -> Iterator[None]:
    """Captures what native code writes to file descriptor 2 meanwhile, and writes it back to
    stderr afterwards without ``line``: every other message (errors included) still shows."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [x for x in text.splitlines(keepends=True) if x.rstrip("\n") != line]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def init_warp() -> None:
    """Initializes Warp once, without its missing-driver warning on a machine that has no NVIDIA
    GPU (see ``NO_DRIVER_WARNING``). Every warplab path to the device comes through here
    (``resolve_device``), so ``warplab train`` on a laptop opens with warplab's own first line."""
    from warp._src import context

    if getattr(context, "runtime", None) is not None:
        return
    if nvidia_gpu_present():
        wp.init()
        return
    with _stderr_without(NO_DRIVER_WARNING):
        wp.init()


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
    ordinal = device[5:] if isinstance(device, str) and device.startswith("cuda:") else None
    if not isinstance(device, str) or not (device in _VALID or (ordinal is not None and ordinal.isdigit())):
        raise ValueError(f"device must be one of 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    init_warp()
    if device == "auto":
        return "cuda:0" if wp.is_cuda_available() else "cpu"
    if device.startswith("cuda"):
        if not wp.is_cuda_available():
            raise DeviceError(
                f"device={device!r} was asked for, but Warp finds no CUDA GPU on this machine "
                "(no NVIDIA driver, or no GPU). Use device='cpu' or 'auto'."
            )
        count = wp.get_cuda_device_count()
        if ordinal is not None and int(ordinal) >= count:
            raise DeviceError(
                f"device={device!r} was asked for, but this machine has {count} CUDA GPU"
                f"{'s' if count != 1 else ''} (cuda:0{f' .. cuda:{count - 1}' if count > 1 else ''})"
            )
        return "cuda:0" if ordinal is None else f"cuda:{int(ordinal)}"
    return "cpu"


def torch_device(warp_device: str) -> torch.device:
    """The torch device that shares memory with a Warp device."""
    return torch.device(warp_device)
