"""The bench's clock and timer: seconds since the command started, and timed loops bracketed by a
device synchronize (so a timed region holds every kernel its calls launched, and nothing before)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

_IMPORTED_AT = time.perf_counter()


def _process_age_s() -> float | None:
    """Seconds since this process started (Linux), else None."""
    try:
        with open("/proc/self/stat") as f:
            # Field 22 (after the parenthesized command name) is the start time in clock ticks.
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Clock:
    """Seconds since the command started: the process start where known, else this module's import."""

    def __init__(self) -> None:
        age = _process_age_s()
        now = time.perf_counter()
        self.origin = now - age if age is not None else _IMPORTED_AT
        self.origin_is_process_start = age is not None

    def now(self) -> float:
        return time.perf_counter() - self.origin


def sync(wp_device: str) -> None:
    """Waits for Warp's and (on CUDA) torch's work on ``wp_device`` to finish."""
    import torch
    import warp as wp

    wp.synchronize_device(wp_device)
    if wp_device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Callable[[], object], calls: int, wp_device: str) -> float:
    """Seconds for ``calls`` calls of ``fn``, with a device synchronize before and after."""
    sync(wp_device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    sync(wp_device)
    return time.perf_counter() - start
