"""Sim-to-sim transfer over a grid of sensor latencies and observation-noise levels, per policy.

Each cell runs the same episodes (the same seed, hence the same commands) on MuJoCo's C engine
through ``warplab.deploy.Policy`` (``warplab.deploy.sim2sim``), and reports falls, survival time and
velocity tracking. Several policies (ONNX files, or checkpoints, exported first) are compared side
by side, e.g. a task trained with and without domain randomization::

    python benchmarks/sim2sim_grid.py \\
        --policies benchmarks/results/humanoid_velocity_flat_4096_h100_policy.pt \\
                   runs/humanoid-velocity-flat-dr/<run>/policy.onnx \\
        --labels "without DR" "with DR" --out benchmarks/results/sim2sim_grid

writes ``<out>.json`` (every cell's report summary and settings) and ``<out>.md`` (one table per
policy; no difference table), and prints the Markdown. A dot in ``<out>``'s name is kept
(``--out sweeps/motor_0.85`` writes ``motor_0.85.json``).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from warplab.atomic_files import atomic_write_json, atomic_write_text
from warplab.deploy import Policy
from warplab.deploy.sim2sim import NOISE_STD, Sim2Sim, Sim2SimCfg
from warplab.deploy.sim2sim_model import load_model


def _policy_file(path: Path, scratch: Path) -> Path:
    """An ONNX file for ``path``: itself, or the export of a ``.pt`` checkpoint."""
    if path.suffix != ".pt":
        return path
    from warplab.deploy.export import export_checkpoint

    return export_checkpoint(path, scratch / f"{path.stem}.onnx")


def run_grid(policy_path: Path, latencies_ms, noise_levels, base: dict) -> list[dict]:
    policy = Policy.load(policy_path)
    model, source = load_model(policy)
    cells = []
    for latency in latencies_ms:
        for noise in noise_levels:
            cfg = Sim2SimCfg(**{**base, "latency_ms": latency, "obs_noise": noise})
            report = Sim2Sim(policy, model, cfg, source).run()
            cell = {"latency_ms": latency, "obs_noise": noise, **report["summary"]}
            cell["latency_steps"] = report["settings"]["latency_steps"]
            cell["wall_s"] = report["wall_s"]
            cells.append(cell)
            print(json.dumps(cell), flush=True)
    return cells


def _cell(c: dict) -> str:
    text = f"{c['falls']}/{c['episodes']} · {c['survival_s_mean']:.1f} s"
    if c["lin_vel_error_m_s"] is not None:
        text += f" · {c['lin_vel_error_m_s']:.2f} m/s · {c['yaw_rate_error_rad_s']:.2f} rad/s"
    return text


def markdown(label: str, cells: list[dict], latencies_ms, noise_levels) -> str:
    by = {(c["latency_ms"], c["obs_noise"]): c for c in cells}
    head = "| latency \\ noise | " + " | ".join(f"{n:g}×" for n in noise_levels) + " |"
    rows = [f"**{label}** (falls/episodes · mean survival · velocity error · yaw-rate error)", "", head]
    rows.append("|---|" + "---|" * len(noise_levels))
    for latency in latencies_ms:
        rows.append(f"| {latency:g} ms | " + " | ".join(_cell(by[(latency, n)]) for n in noise_levels) + " |")
    return "\n".join(rows)


def _out_file(out: Path, suffix: str) -> Path:
    """``<out><suffix>``; a dot in ``out``'s name (``motor_0.85``) is kept, not taken as a suffix."""
    stem = out.name[: -len(out.suffix)] if out.suffix in (".json", ".md") else out.name
    return out.with_name(stem + suffix)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--policies", type=Path, nargs="+", required=True, help="ONNX files or .pt checkpoints"
    )
    parser.add_argument("--labels", nargs="+", help="a name per policy (default: the file names)")
    parser.add_argument("--latencies-ms", type=float, nargs="+", default=[0, 10, 20, 40, 60])
    parser.add_argument("--noise", type=float, nargs="+", default=[0, 1, 2, 4], help="levels times NOISE_STD")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--motor-strength", type=float, default=1.0)
    parser.add_argument("--push-mps", type=float, default=0.0)
    parser.add_argument(
        "--out", type=Path, default=Path("sim2sim_grid"), help="writes <out>.json and <out>.md"
    )
    args = parser.parse_args()
    labels = args.labels or [p.name for p in args.policies]
    if len(labels) != len(args.policies):
        parser.error(f"--labels has {len(labels)} names for {len(args.policies)} policies")
    base = {
        "episodes": args.episodes,
        "seconds": args.seconds,
        "seed": args.seed,
        "motor_strength": args.motor_strength,
        "push_mps": args.push_mps,
    }
    started = time.perf_counter()
    results, tables = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for label, path in zip(labels, args.policies, strict=True):
            onnx_file = _policy_file(path, Path(scratch))
            cells = run_grid(onnx_file, args.latencies_ms, args.noise, base)
            results.append({"label": label, "policy": str(path), "cells": cells})
            tables.append(markdown(label, cells, args.latencies_ms, args.noise))
    summary = {
        "settings": {
            **base,
            "latencies_ms": args.latencies_ms,
            "noise_levels": args.noise,
            "noise_std": NOISE_STD,
        },
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "wall_s": time.perf_counter() - started,
        "results": results,
    }
    atomic_write_json(_out_file(args.out, ".json"), summary, indent=2)
    text = "\n\n".join(tables) + "\n"
    atomic_write_text(_out_file(args.out, ".md"), text)
    print(text)


if __name__ == "__main__":
    main()
