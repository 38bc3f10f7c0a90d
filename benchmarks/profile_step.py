"""Where the time of one env step goes: phase timings, kernel launches and the top operators.

  python3 benchmarks/profile_step.py --task humanoid-velocity-flat --num-envs 4096 --out $OUT

Three views of the same env, after a warm-up with random actions:

1. ``step_ms``: the plain ``env.step`` time (no synchronization inside) with the step captured as
   one CUDA graph (``graph_step``, the default) and eager (``step_ms_eager``), and the physics alone
   (``sim.step(decimation)``, one CUDA graph) for the ceiling; the phases and the profiler below
   run on the eager env, where each phase's kernels are launched one by one;
2. ``phases``: each phase of a step timed with a device synchronize before and after it, so a phase's
   time is what it costs on its own (host launch time or device time, whichever is longer);
3. ``profiler``: ``torch.profiler`` over a few steps: kernel and graph launches per step, and the
   operators that take the most host time and device time.

Writes ``profile_<task>_<num_envs>.json`` under ``--out`` and prints a summary.
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


def _instrument(env, totals: dict[str, float], counts: dict[str, int]) -> None:
    """Wraps each phase of ``env.step`` with synchronize-and-time (on the instance, not the class)."""
    targets = [
        ("actions.process", env.action_manager, "process"),
        ("actions.apply", env.action_manager, "apply"),
        ("physics", env.sim, "step"),
        ("terminations", env.termination_manager, "compute"),
        ("rewards", env.reward_manager, "compute"),
        ("commands", env.command_manager, "step"),
        ("events.interval", env.event_manager, "step_interval"),
        ("observations", env.observation_manager, "compute"),
        ("stats", env.stats, "record"),
        ("reset", env, "_reset_worlds"),
        ("reset.curriculum", env.curriculum_manager, "apply"),
        ("reset.sim_reset", env.sim, "reset"),
        ("reset.events", env.event_manager, "apply"),
        ("reset.forward", env.sim, "forward"),
    ]
    for label, obj, attr in targets:
        original = getattr(obj, attr)

        def timed(*args, _original=original, _label=label, **kwargs):
            _sync()
            start = time.perf_counter()
            out = _original(*args, **kwargs)
            _sync()
            totals[_label] += time.perf_counter() - start
            counts[_label] += 1
            return out

        setattr(obj, attr, timed)


def _timed_steps(env, actions, steps: int) -> float:
    """ms per ``env.step`` after 20 warm-up steps."""
    for i in range(20):
        env.step(actions[i % len(actions)])
    _sync()
    start = time.perf_counter()
    for i in range(steps):
        env.step(actions[i % len(actions)])
    _sync()
    return (time.perf_counter() - start) / steps * 1e3


def profile(task: str, num_envs: int, steps: int, out: Path) -> dict:
    import gc

    from warplab.envs.rl_env import RlEnv
    from warplab.tasks import make_env_cfg

    def build(graph_step: bool):
        cfg = make_env_cfg(task)
        cfg.num_envs, cfg.graph_step = num_envs, graph_step
        # Plain managers: compiled phases fuse the managers' work, and this profile times each manager.
        cfg.compile_managers = False
        return cfg, RlEnv(cfg)

    cfg, env = build(True)
    gen = torch.Generator(device=env.device).manual_seed(0)
    actions = [
        torch.rand(num_envs, env.action_dim, generator=gen, device=env.device) * 2 - 1 for _ in range(8)
    ]
    step_ms = _timed_steps(env, actions, steps)
    graph = getattr(env, "_step_graph", None)
    graph_captured = bool(graph is not None and graph.captured)
    graph_failed = None if graph is None else graph.failed
    del env
    gc.collect()

    cfg, env = build(False)
    step_ms_eager = _timed_steps(env, actions, steps)

    saved = env.get_state()
    env.sim.step(cfg.decimation)
    _sync()
    start = time.perf_counter()
    for _ in range(steps):
        env.sim.step(cfg.decimation)
    _sync()
    physics_ms = (time.perf_counter() - start) / steps * 1e3
    env.set_state(saved)

    # The profiler before the phase timers: those add synchronizations of their own.
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    prof_steps = min(steps, 10)
    with torch_profile(activities=activities) as prof:
        for i in range(prof_steps):
            env.step(actions[i % 8])
        _sync()
    averages = prof.key_averages()
    launches = defaultdict(int)
    for evt in averages:
        name = evt.key
        if name in (
            "cudaLaunchKernel",
            "cuLaunchKernel",
            "cudaGraphLaunch",
            "cuGraphLaunch",
            "cudaMemcpyAsync",
            "cudaMemsetAsync",
            "cudaStreamSynchronize",
            "cudaDeviceSynchronize",
            "cuLaunchKernelEx",
            "cudaLaunchKernelExC",
        ):
            launches[name] += evt.count
    per_step = {k: v / prof_steps for k, v in launches.items()}

    def top(attr: str, n: int = 25):
        rows = sorted(averages, key=lambda e: getattr(e, attr, 0.0), reverse=True)[:n]
        return [
            {
                "op": e.key,
                "count_per_step": e.count / prof_steps,
                "self_cpu_us_per_step": e.self_cpu_time_total / prof_steps,
                "device_us_per_step": getattr(e, "self_device_time_total", 0.0) / prof_steps,
            }
            for e in rows
        ]

    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    _instrument(env, totals, counts)
    for i in range(steps):
        env.step(actions[i % 8])
    phases = {
        k: {"ms_per_step": v / steps * 1e3, "calls_per_step": counts[k] / steps} for k, v in totals.items()
    }

    result = {
        "task": task,
        "num_envs": num_envs,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "steps": steps,
        "step_ms": step_ms,
        "env_steps_per_s": num_envs / step_ms * 1e3,
        "graph_captured": graph_captured,
        "graph_failed": graph_failed,
        "step_ms_eager": step_ms_eager,
        "env_steps_per_s_eager": num_envs / step_ms_eager * 1e3,
        "physics_ms": physics_ms,
        "raw_env_steps_per_s": num_envs / physics_ms * 1e3,
        "launches_per_step": per_step,
        "phases": phases,
        "top_host": top("self_cpu_time_total"),
        "top_device": top("self_device_time_total"),
    }
    from warplab.atomic_files import atomic_write_json

    atomic_write_json(out / f"profile_{task}_{num_envs}.json", result, indent=1)
    print(f"\n== {task} x {num_envs} on {result['device']}")
    print(
        f"env.step {step_ms:.2f} ms ({result['env_steps_per_s']:.0f} env steps/s, graph captured: "
        f"{graph_captured}{'' if not graph_failed else ', ' + graph_failed}); eager {step_ms_eager:.2f} ms "
        f"({result['env_steps_per_s_eager']:.0f}); physics {physics_ms:.2f} ms ({result['raw_env_steps_per_s']:.0f})"
    )
    print("launches per step:", {k: round(v, 1) for k, v in per_step.items()})
    for k, v in sorted(phases.items(), key=lambda kv: -kv[1]["ms_per_step"]):
        print(f"  {k:18s} {v['ms_per_step']:7.3f} ms  x{v['calls_per_step']:.1f}")
    print("top host ops:")
    for row in result["top_host"][:15]:
        print(
            f"  {row['op'][:50]:50s} n={row['count_per_step']:6.1f} cpu={row['self_cpu_us_per_step']:8.1f}us "
            f"dev={row['device_us_per_step']:8.1f}us"
        )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", nargs="+", default=["humanoid-velocity-flat"])
    ap.add_argument("--num-envs", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    for task in args.task:
        profile(task, args.num_envs, args.steps, Path(args.out))


if __name__ == "__main__":
    main()
