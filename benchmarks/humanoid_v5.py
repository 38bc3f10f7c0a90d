"""Humanoid-v5 on one GPU: throughput (raw physics, env step, PPO iteration) and training to a wall-clock budget.

Run on the GPU machine through the device tool (see ../shared/GPU.md and benchmarks/README.md):

  python3 benchmarks/humanoid_v5.py throughput --num-envs 4096 8192 --out $OUT
  python3 benchmarks/humanoid_v5.py train --num-envs 4096 --minutes 9 --out $OUT

``throughput`` writes ``throughput.json``; ``train`` writes ``train.json`` (return against wall-clock time
from the start of the command, start-up included), ``curve.png`` and the final checkpoint.
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
    from warplab.tasks.humanoid_v5 import humanoid_spec

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
    import warplab  # noqa: F401
    from warplab.envs.rl_env import RlEnv
    from warplab.rl import OnPolicyRunner
    from warplab.tasks import get_task, make_env_cfg

    spec = get_task("Humanoid-v5")
    env_cfg = make_env_cfg("Humanoid-v5")
    env_cfg.num_envs = args.num_envs[0]
    agent = spec.agent_cfg_factory()
    agent.logger = "none"
    agent.console = "lines"
    agent.save_interval = 10_000
    for key, value in args.set or []:
        section, _, field = key.partition(".")
        target = getattr(agent, section) if field else agent
        setattr(target, field or section, type(getattr(target, field or section))(value))
    env = RlEnv(env_cfg)
    out = Path(args.out)
    runner = OnPolicyRunner(env, agent, log_dir=None)
    curve = []
    budget = args.minutes * 60.0
    startup_s = time.perf_counter() - T0
    while time.perf_counter() - T0 < budget:
        runner.learn(1)
        s = runner.last_scalars
        row = {
            "wall_s": time.perf_counter() - T0,
            "iteration": runner.iteration,
            "env_steps": s.get("Perf/total_env_steps"),
            "return": s.get("Episode/return"),
            "length": s.get("Episode/length"),
            "collect_steps_per_s": s.get("Perf/collection_steps_per_s"),
            "total_steps_per_s": s.get("Perf/total_steps_per_s"),
        }
        curve.append(row)
        if runner.iteration % 10 == 0:
            print(json.dumps(row), flush=True)
    runner.save(out / "humanoid_v5_final.pt")
    best = max((r for r in curve if r["return"] is not None), key=lambda r: r["return"], default=None)
    first_6000 = next((r for r in curve if r["return"] is not None and r["return"] > 6000), None)
    summary = {
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "num_envs": env_cfg.num_envs,
        "startup_s": startup_s,
        "iterations": runner.iteration,
        "final": curve[-1] if curve else None,
        "best": best,
        "first_above_6000": first_6000,
        "mean_collect_steps_per_s": sum(r["collect_steps_per_s"] for r in curve[5:]) / max(len(curve[5:]), 1),
        "mean_total_steps_per_s": sum(r["total_steps_per_s"] for r in curve[5:]) / max(len(curve[5:]), 1),
        "agent": {"ppo": vars(agent.ppo), "policy": vars(agent.policy)},
        "curve": curve,
    }
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        xs = [r["wall_s"] / 60 for r in curve if r["return"] is not None]
        ys = [r["return"] for r in curve if r["return"] is not None]
        plt.figure(figsize=(6, 4))
        plt.plot(xs, ys)
        plt.axhline(6000, ls="--", c="gray")
        plt.xlabel("wall-clock since the command started, min")
        plt.ylabel("mean episode return")
        plt.title(f"Humanoid-v5, {env_cfg.num_envs} worlds, {summary['device']}")
        plt.tight_layout()
        plt.savefig(out / "curve.png", dpi=100)
    except ImportError:
        pass
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
    with open(Path(args.out) / f"{args.mode}.json", "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "curve"}, indent=1))


if __name__ == "__main__":
    main()
