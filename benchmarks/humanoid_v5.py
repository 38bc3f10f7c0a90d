"""Humanoid-v5 on one GPU: throughput (raw physics, env step, PPO iteration) and training to a wall-clock budget.

Run on the GPU machine through the device tool (see ../shared/GPU.md and benchmarks/README.md):

  python3 benchmarks/humanoid_v5.py throughput --num-envs 4096 8192 --out $OUT
  python3 benchmarks/humanoid_v5.py train --num-envs 4096 --minutes 9 --out $OUT

``throughput`` writes ``throughput.json``; ``train`` (``train_task.py`` on Humanoid-v5) writes
``train.json`` (return against wall-clock time from the start of the command, start-up included, and
the first iteration above 6,000), ``curve.png`` and the final policy.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # Wall-clock from the start of the command: start-up counts.

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def raw_physics(num_envs: int, substeps: int, calls: int) -> float:
    """Physics steps per second of the bare model (CUDA graph, no env logic)."""
    from warplab.sim import Simulation
    from warplab.tasks.gym_mujoco import humanoid_spec

    sim = Simulation(humanoid_spec(), num_envs, "auto")
    sim.ctrl.uniform_(-0.4, 0.4)
    for _ in range(3):
        sim.step(substeps)
    _sync()
    t = time.perf_counter()
    for _ in range(calls):
        sim.step(substeps)
    _sync()
    return calls * substeps * num_envs / (time.perf_counter() - t)


def env_steps(num_envs: int, calls: int) -> float:
    """Env steps per second with random actions (physics, managers, resets)."""
    import warplab

    env = warplab.make("Humanoid-v5", num_envs=num_envs)
    env.reset()
    actions = torch.empty(num_envs, env.action_dim, device=env.device)
    for _ in range(5):
        env.step(actions.uniform_(-0.4, 0.4))
    _sync()
    t = time.perf_counter()
    for _ in range(calls):
        env.step(actions.uniform_(-0.4, 0.4))
    _sync()
    return calls * num_envs / (time.perf_counter() - t)


def throughput(args) -> dict:
    results = []
    for n in args.num_envs:
        row = {"num_envs": n}
        row["raw_physics_steps_per_s"] = raw_physics(n, 5, 50)
        row["raw_env_steps_per_s_ceiling"] = row["raw_physics_steps_per_s"] / 5
        row["env_steps_per_s_random_actions"] = env_steps(n, 50)
        row["env_over_raw"] = row["env_steps_per_s_random_actions"] / row["raw_env_steps_per_s_ceiling"]
        results.append(row)
        print(json.dumps(row), flush=True)
    return {"device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu", "rows": results}


def train(args) -> dict:
    """Trains Humanoid-v5 to the wall-clock budget (see train_task.py) and notes when the return passed 6,000."""
    from train_task import train as train_task

    summary, _ = train_task(
        "Humanoid-v5", args.num_envs[0], args.minutes, Path(args.out), args.set, target=6000.0, t0=T0
    )
    curve = summary["curve"]
    summary["best"] = max(
        (r for r in curve if r["return"] is not None), key=lambda r: r["return"], default=None
    )
    summary["first_above_6000"] = next(
        (r for r in curve if r["return"] is not None and r["return"] > 6000), None
    )
    return summary


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["throughput", "train"])
    ap.add_argument("--num-envs", type=int, nargs="+", default=[4096])
    ap.add_argument("--minutes", type=float, default=9.0)
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument(
        "--set", nargs=2, action="append", metavar=("FIELD", "VALUE"), help="e.g. ppo.learning_rate 3e-4"
    )
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    result = throughput(args) if args.mode == "throughput" else train(args)
    from warplab.atomic_files import atomic_write_json

    atomic_write_json(Path(args.out) / f"{args.mode}.json", result, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=1))


if __name__ == "__main__":
    main()
