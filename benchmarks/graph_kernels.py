"""What the env step runs beyond raw physics, kernel by kernel, in the task's own configuration.

  python3 benchmarks/graph_kernels.py --task humanoid-velocity-flat --num-envs 4096 --out $OUT

``profile_step.py`` times the managers one by one on a plain, eager env; this script looks at the
step as users run it (managers compiled on CUDA, the whole step replayed as one CUDA graph) and at
the physics alone (``sim.step(decimation)``, its own graph) in the same process, each under
``torch.profiler`` for ``--steps`` calls, and lists:

- wall time per call of each (device synchronize before and after), the summed device time of
  their kernels, and the rest (the device idle between kernels, launch gaps);
- every kernel with its calls and device time per step in the env step and in the physics, sorted
  by what the env step spends beyond the physics: the managers' fused kernels, the reset, the
  forward after resets, the observations.

Writes ``graph_kernels_<task>_<num_envs>.json`` under ``--out`` and prints the table. On a CPU the
profiler sees no device kernels (Warp's CPU kernels are not torch operators); the script still runs
(with a few worlds) and says so.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from pathlib import Path

import torch


def _sync() -> None:
    import warp as wp

    wp.synchronize()
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def kernel_table(prof, calls: int) -> dict[str, dict[str, float]]:
    """``{kernel: {"calls": per call, "device_us": per call}}`` of the device kernels a profile saw
    over ``calls`` calls of the profiled function (CUDA kernels only; memcpy and memset included)."""
    table: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0.0, "device_us": 0.0})
    for event in prof.events():
        if str(getattr(event, "device_type", "")).endswith("CUDA"):
            row = table[event.name]
            row["calls"] += 1 / calls
            row["device_us"] += event.time_range.elapsed_us() / calls
    return dict(table)


def beyond_physics(step: dict[str, dict[str, float]], physics: dict[str, dict[str, float]]) -> list[dict]:
    """Each kernel with its device time per call in the env step and in the physics alone, and the
    difference, sorted by the difference (largest first). A kernel the physics does not run has 0
    there; one only the physics runs has a negative difference."""
    rows = []
    for name in set(step) | set(physics):
        s = step.get(name, {"calls": 0.0, "device_us": 0.0})
        p = physics.get(name, {"calls": 0.0, "device_us": 0.0})
        rows.append(
            {
                "kernel": name,
                "step_calls": s["calls"],
                "step_us": s["device_us"],
                "physics_calls": p["calls"],
                "physics_us": p["device_us"],
                "extra_us": s["device_us"] - p["device_us"],
            }
        )
    return sorted(rows, key=lambda r: (-r["extra_us"], r["kernel"]))


def _profiled(fn, calls: int) -> tuple[float, dict[str, dict[str, float]]]:
    """(wall ms per call, kernel table) of ``calls`` calls of ``fn``, after the caller's warm-up."""
    from torch.profiler import ProfilerActivity, profile

    _sync()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    _sync()
    wall_ms = (time.perf_counter() - start) / calls * 1e3
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        for _ in range(calls):
            fn()
        _sync()
    return wall_ms, kernel_table(prof, calls)


def run(task: str, num_envs: int, steps: int, device: str | None, out: Path) -> dict:
    from warplab.envs.rl_env import RlEnv
    from warplab.tasks import make_env_cfg

    cfg = make_env_cfg(task)
    cfg.num_envs = num_envs
    if device is not None:
        cfg.device = device
    env = RlEnv(cfg)
    gen = torch.Generator(device=env.device).manual_seed(0)
    actions = [
        torch.rand(num_envs, env.action_dim, generator=gen, device=env.device) * 2 - 1 for _ in range(8)
    ]
    turn = {"i": 0}

    def env_step() -> None:
        env.step(actions[turn["i"] % len(actions)])
        turn["i"] += 1

    for _ in range(20):  # compiles, captures, and lets episodes end so that resets happen
        env_step()
    step_ms, step_kernels = _profiled(env_step, steps)

    def physics() -> None:
        env.sim.step(cfg.decimation, check_divergence=False)

    physics()
    physics_ms, physics_kernels = _profiled(physics, steps)

    rows = beyond_physics(step_kernels, physics_kernels)
    step_kernel_us = sum(r["device_us"] for r in step_kernels.values())
    physics_kernel_us = sum(r["device_us"] for r in physics_kernels.values())
    graph = getattr(env, "_step_graph", None)
    result = {
        "task": task,
        "num_envs": num_envs,
        "device": torch.cuda.get_device_name() if env.device.type == "cuda" else "cpu",
        "steps": steps,
        "compile_managers": env.compiles_managers,
        "reset_forward": env.cfg.reset_forward,
        "graph_captured": bool(graph is not None and graph.captured),
        "step_ms": step_ms,
        "physics_ms": physics_ms,
        "step_kernel_ms": step_kernel_us / 1e3,
        "physics_kernel_ms": physics_kernel_us / 1e3,
        "kernels": rows,
    }
    from warplab.atomic_files import atomic_write_json

    atomic_write_json(out / f"graph_kernels_{task}_{num_envs}.json", result, indent=1)
    _print(result)
    return result


def _print(result: dict) -> None:
    print(
        f"\n== {result['task']} x {result['num_envs']} on {result['device']} (managers compiled: "
        f"{result['compile_managers']}, reset_forward {result['reset_forward']}, step graph: {result['graph_captured']})"
    )
    for label, wall, kernels in (
        ("env step", result["step_ms"], result["step_kernel_ms"]),
        ("physics ", result["physics_ms"], result["physics_kernel_ms"]),
    ):
        print(f"{label}  wall {wall:7.3f} ms  kernels {kernels:7.3f} ms  rest {wall - kernels:7.3f} ms")
    if not result["kernels"]:
        print("no device kernels seen (a CPU run: Warp's CPU kernels are not torch operators)")
        return
    print(f"{'kernel':80s} {'step n':>6s} {'step us':>8s} {'phys n':>6s} {'phys us':>8s} {'extra us':>8s}")
    for r in result["kernels"][:40]:
        print(
            f"{r['kernel'][:80]:80s} {r['step_calls']:6.1f} {r['step_us']:8.1f} {r['physics_calls']:6.1f} "
            f"{r['physics_us']:8.1f} {r['extra_us']:8.1f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", nargs="+", default=["humanoid-velocity-flat"])
    ap.add_argument("--num-envs", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=20, help="profiled calls of each (default 20)")
    ap.add_argument("--device", default=None, help="the task's device unless given (cpu, cuda)")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    for task in args.task:
        run(task, args.num_envs, args.steps, args.device, Path(args.out))


if __name__ == "__main__":
    main()
