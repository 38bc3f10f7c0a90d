"""What the bench records of the machine: the card (or CPU), the versions that decide speed, the
host, and the entries of Warp's kernel cache (whether a start compiled kernels or loaded them)."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any


def cache_entries() -> tuple[str | None, set[str]]:
    import warp as wp

    from warplab.sim.device import init_warp

    init_warp()  # Warp's own init, without its missing-driver line on a machine with no GPU.
    path = wp.config.kernel_cache_dir
    try:
        return path, set(os.listdir(path)) if path else set()
    except OSError:
        return path, set()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str, module: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        mod = sys.modules.get(module)
        return getattr(mod, "__version__", None)


def machine_info(wp_device: str) -> dict[str, Any]:
    """The card (or CPU), the versions that decide speed, and the host."""
    import torch

    if wp_device.startswith("cuda"):
        card = torch.cuda.get_device_name(torch.device(wp_device))
    else:
        card = f"cpu ({_cpu_model()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()})"
    return {
        "card": card,
        "device": wp_device,
        "versions": {
            "python": platform.python_version(),
            "warp": _version("warp-lang", "warp"),
            "mujoco": _version("mujoco", "mujoco"),
            "mujoco_warp": _version("mujoco-warp", "mujoco_warp"),
            "torch": _version("torch", "torch"),
            "torch_cuda": torch.version.cuda,
        },
        "host": platform.node(),
    }
