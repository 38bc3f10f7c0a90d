"""Device memory as the bench reports it: torch's allocations, Warp's memory pool and the whole
device (CUDA only; None on the CPU), at a row's peak and sampled along a long run."""

from __future__ import annotations

import gc
import math
from typing import Any

from warplab.bench.timing import sync


def reset_peak_memory(wp_device: str) -> None:
    import torch

    gc.collect()
    if wp_device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def memory_now(wp_device: str) -> dict[str, int | None]:
    """Device memory in use right now: torch's allocations, Warp's pool, and the whole device."""
    import torch
    import warp as wp

    if not wp_device.startswith("cuda"):
        return dict.fromkeys(("torch_bytes", "warp_pool_bytes", "device_used_bytes"))
    out: dict[str, int | None] = {"torch_bytes": int(torch.cuda.memory_allocated())}
    try:
        out["warp_pool_bytes"] = (
            int(wp.get_mempool_used_mem_current(wp_device)) if wp.is_mempool_enabled(wp_device) else None
        )
    except (AttributeError, RuntimeError):
        out["warp_pool_bytes"] = None
    free, total = torch.cuda.mem_get_info(torch.device(wp_device))
    out["device_used_bytes"] = int(total - free)
    return out


def memory_over_steps(env, actions_fn, env_steps: int, wp_device: str) -> dict[str, Any]:
    """Steps ``env`` for ``env_steps`` env steps (all worlds together) and samples device memory at
    the start and after each tenth; ``growth_bytes`` is the last sample minus the first."""
    calls = max(1, math.ceil(env_steps / env.num_envs))
    marks = {round(calls * k / 10) for k in range(1, 11)}
    obs = env.observations
    sync(wp_device)
    samples = [{"env_steps": 0, **memory_now(wp_device)}]
    for call in range(1, calls + 1):
        obs, *_ = env.step(actions_fn(obs))
        if call % 24 == 0:
            env.pop_episode_stats()  # as training does once an iteration
        if call in marks:
            sync(wp_device)
            samples.append({"env_steps": call * env.num_envs, **memory_now(wp_device)})
    first, last = samples[0], samples[-1]
    growth = {
        key: _difference(last[key], first[key])
        for key in ("torch_bytes", "warp_pool_bytes", "device_used_bytes")
    }
    return {"env_steps": calls * env.num_envs, "samples": samples, "growth_bytes": growth}


def _difference(after: int | None, before: int | None) -> int | None:
    """``after - before`` in bytes, or None where either was not measured (no CUDA, no pool)."""
    return None if after is None or before is None else after - before


def memory_peak(wp_device: str) -> dict[str, int | None]:
    """Peak torch allocations since the row started; Warp's memory-pool use (current, and the
    process's high-water mark); None on the CPU."""
    import torch
    import warp as wp

    if not wp_device.startswith("cuda"):
        return dict.fromkeys(
            ("torch_peak_bytes", "warp_pool_current_bytes", "warp_pool_high_bytes", "device_used_bytes")
        )
    out: dict[str, int | None] = {"torch_peak_bytes": int(torch.cuda.max_memory_allocated())}
    try:
        if wp.is_mempool_enabled(wp_device):
            out["warp_pool_current_bytes"] = int(wp.get_mempool_used_mem_current(wp_device))
            out["warp_pool_high_bytes"] = int(wp.get_mempool_used_mem_high(wp_device))
        else:
            out["warp_pool_current_bytes"] = out["warp_pool_high_bytes"] = None
    except (AttributeError, RuntimeError):
        out["warp_pool_current_bytes"] = out["warp_pool_high_bytes"] = None
    free, total = torch.cuda.mem_get_info(torch.device(wp_device))
    out["device_used_bytes"] = int(total - free)
    return out
