"""Every task x world count x variant of one bench run, in one process: the rows, the startup
time, the machine; printed as a table and written as JSON (``run``)."""

from __future__ import annotations

import gc
from datetime import datetime, timezone
from typing import Any

from warplab.atomic_files import atomic_write_json
from warplab.bench.machine import cache_entries, machine_info
from warplab.bench.options import BenchArgs
from warplab.bench.report import format_table, learner_rate, rate
from warplab.bench.row import bench_one, configure_agent
from warplab.bench.timing import Clock

SCHEMA = "warplab.bench/1"

STATES = (
    "Each world count: the env is built and reset with the seed (--seed, else the agent's), and that state (env.get_state) "
    "is restored before the warm-up and again before the timed loop of measurements 1-3, so they start "
    "from identical states. Raw physics holds the controls the env's action terms wrote for the first "
    "random action of measurement 2. Measurement 4 resets the env with the same seed and times the "
    "iterations after one warm-up iteration (SAC and TD3: after enough warm-up iterations to pass "
    "random_steps and learning_starts, plus one)."
)
"""How the states of the measurements were chosen; written into the JSON."""


def run(args: BenchArgs, command: str = "") -> dict:
    """Runs every measurement of ``args``; prints the table, writes ``args.json``; returns the result."""
    clock = Clock()
    cache_dir, cache_before = cache_entries()

    from warplab.sim import resolve_device
    from warplab.tasks import get_task

    wp_device = resolve_device(args.device)
    cuda = wp_device.startswith("cuda")
    tasks = args.task or ["humanoid-velocity-flat" if cuda else "cartpole-balance"]
    agent_overrides = parse_agent_overrides(args.agent_overrides or [])
    for task in tasks:
        # An unknown name, or an agent setting the task's config lacks, fails before anything is measured.
        spec = get_task(task)
        if spec.agent_cfg_factory is not None:
            configure_agent(spec.agent_cfg_factory(), args.algo, agent_overrides)
    num_envs = args.num_envs or ([1024, 4096] if cuda else [4])
    steps = args.steps if args.steps is not None else (200 if cuda else 10)
    for name, value, low in (
        ("--num-envs", min(num_envs), 1),
        ("--steps", steps, 1),
        ("--warmup", args.warmup, 0),
    ):
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")

    result: dict[str, Any] = {
        "schema": SCHEMA,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        **machine_info(wp_device),
        "tasks": tasks,
        "num_envs": num_envs,
        "steps": steps,
        "warmup": args.warmup,
        "states": STATES,
        "rows": [],
    }
    startup: dict[str, Any] = {}

    def inspect_cache() -> None:
        # Entries the kernel cache gained between the command's start and the first env step:
        # none means every kernel came from the cache (a warm start).
        if not startup:
            new = len(cache_entries()[1] - cache_before)
            startup.update(
                kernel_cache_dir=cache_dir, kernel_cache_new_entries=new, kernel_cache_warm=new == 0
            )

    result["compile_managers"], result["reset_forward"] = args.compile_managers, args.reset_forward
    result["graph_update"] = args.graph_update
    result["algo"], result["agent_overrides"] = args.algo, agent_overrides
    variants = {"task": (None,), "off": (False,), "on": (True,), "both": (False, True)}[args.compile_managers]
    forwards = tuple(
        f
        for word in ([args.reset_forward] if isinstance(args.reset_forward, str) else args.reset_forward)
        for f in {"both": ("full", "positions_velocities"), "task": (None,)}.get(word, (word,))
    )
    for task in tasks:
        for n, compiled, forward in ((n, c, f) for n in num_envs for c in variants for f in forwards):
            row = bench_one(
                task,
                n,
                wp_device,
                steps,
                args.warmup,
                args.seed,
                clock,
                inspect_cache,
                args.memory_env_steps,
                args.tf32_matmul,
                compiled,
                forward,
                args.graph_update,
                args.algo,
                agent_overrides,
            )
            if "seconds_to_first_env_step" not in startup:
                startup.update(
                    seconds_to_first_env_step=row["first_env_step_at_s"],
                    measured_from="process start"
                    if clock.origin_is_process_start
                    else "import of warplab.bench",
                    task=task,
                    num_envs=n,
                )
            result["rows"].append(row)
            label = " (compiled managers)" if compiled else ""
            learner, learned = learner_rate(row)
            print(
                f"{task} x {n}{label}: raw {rate(row['raw_env_steps_per_s'])}, random {rate(row['env_steps_per_s_random'])}, "
                f"policy {rate(row['env_steps_per_s_policy'])}, {learner} {rate(learned)} env steps/s",
                flush=True,
            )
            gc.collect()
    result["startup"] = startup
    result["total_s"] = clock.now()
    print(format_table(result))
    if args.json is not None:
        # Whole or not at all: a bench killed while writing keeps the previous report.
        atomic_write_json(args.json, result, indent=1)
        print(f"wrote {args.json}")
    return result


def parse_agent_overrides(words: list[str]) -> dict[str, str]:
    """``["sac.batch_size=1024", ...]`` -> ``{"sac.batch_size": "1024"}`` (dashes in names read
    as underscores, as ``warplab train --agent.*`` reads them); checked against the config later.

    Raises:
        ValueError: a word without ``=`` or without a name.
    """
    out: dict[str, str] = {}
    for word in words:
        name, eq, value = word.partition("=")
        if not eq or not name.strip():
            raise ValueError(
                f"--agent-overrides {word!r}: write FIELD=VALUE, e.g. sac.batch_size=1024 or ppo.num_steps_per_env=32"
            )
        out[name.strip().replace("-", "_")] = value
    return out
