"""``warplab bench``'s measurements, as functions a benchmark script can call.

For every task and world count it measures, from the same starting state (``STATES``):

1. raw physics: MuJoCo Warp stepping the env's own model and data (``sim.model`` after the task
   built it, so per-world fields, solver settings and buffer sizes match) ``decimation`` substeps a
   call, one CUDA graph on CUDA, controls held, no env logic: the ceiling;
2. env steps with random actions (physics, managers, resets);
3. env steps with the actions of an untrained ``ActorCritic`` of the task's registered size
   (``act_inference`` under ``torch.inference_mode``);
4. full PPO iterations (collection and update) with the task's registered agent config, or with
   ``algo="sac"``/``"td3"`` off-policy iterations (env steps with the updates running at the
   agent's replay ratio, the updates' share of the time, updates per iteration);

plus peak device memory, the time from the command's start to the first env step (and whether
Warp's kernel cache was warm), and the ratios 2/1 and 4/2.

Where each part lives:

- ``options``: ``BenchArgs``, what a run measures (the command's options);
- ``sweep``: ``run(args)``, every task x world count x variant, the table and the JSON;
- ``row``: ``bench_one``, the four measurements of one task and world count;
- ``measure``: each timed measurement on a built env; ``timing``: the clock and the timed loop;
- ``memory``, ``machine``: device memory, the card and versions; ``report``: the table.

The command line (``warplab bench``, ``python3 -m warplab.bench``) is ``warplab.cli.bench``; it
runs without tyro too (the GPU machine has none). See docs/benchmarking.md.
"""

from __future__ import annotations

from typing import Any

from warplab.bench.machine import machine_info
from warplab.bench.options import BenchArgs
from warplab.bench.report import format_table
from warplab.bench.row import bench_one
from warplab.bench.sweep import SCHEMA, STATES, run

__all__ = [
    "SCHEMA",
    "STATES",
    "BenchArgs",
    "bench_one",
    "format_table",
    "machine_info",
    "main",
    "parse_args",
    "run",
]


def __getattr__(name: str) -> Any:
    # The command's entry points, for scripts that call them from Python (`from warplab.bench import
    # main`): they live with the other commands, and are imported only when asked for.
    if name in ("main", "parse_args"):
        from warplab.cli import bench as command

        return getattr(command, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
