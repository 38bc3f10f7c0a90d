"""``warplab bench``: throughput of each layer of a task, per world count, in one process.

For every task and world count it measures, from the same starting state (see ``STATES``):

1. raw physics: MuJoCo Warp stepping the env's own model and data (``sim.model`` after the task
   built it, so per-world fields, solver settings and buffer sizes match) ``decimation`` substeps a
   call, one CUDA graph on CUDA, controls held, no env logic: the ceiling;
2. env steps with random actions (physics, managers, resets);
3. env steps with the actions of an untrained ``ActorCritic`` of the task's registered size
   (``act_inference`` under ``torch.inference_mode``);
4. full PPO iterations (collection and update) with the task's registered agent config;

plus peak device memory, the time from the command's start to the first env step (and whether
Warp's kernel cache was warm), and the ratios 2/1 and 4/2. Timed regions start and end with a
device synchronize, after warm-up; nothing in the timed loops reads back to the host except what
the env (and, in 4, the runner, once an iteration) does itself.

Runs without tyro (the GPU machine has none): ``python3 -m warplab.bench --task NAME ...``;
``warplab bench`` parses the same options with the same parser. See docs/benchmarking.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import os
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from warplab.atomic_files import FileWriteError, atomic_write_json

_IMPORTED_AT = time.perf_counter()

SCHEMA = "warplab.bench/1"

STATES = (
    "Each world count: the env is built and reset with the seed (--seed, else the agent's), and that state (env.get_state) "
    "is restored before the warm-up and again before the timed loop of measurements 1-3, so they start "
    "from identical states. Raw physics holds the controls the env's action terms wrote for the first "
    "random action of measurement 2. Measurement 4 resets the env with the same seed and times the "
    "iterations after one warm-up iteration."
)
"""How the states of the measurements were chosen; written into the JSON."""


@dataclasses.dataclass
class BenchArgs:
    """Options of ``warplab bench`` (see ``parser()`` for their help)."""

    task: list[str] | None = None
    num_envs: list[int] | None = None
    device: str = "auto"
    steps: int | None = None
    warmup: int = 5
    json: Path | None = None
    seed: int | None = None
    memory_env_steps: int = 0
    tf32_matmul: str = "agent"
    compile_managers: str = "task"
    reset_forward: str | list[str] = "task"
    """One word or several, each measured in turn (``--reset-forward``)."""
    graph_update: str = "agent"


def parser(prog: str = "python3 -m warplab.bench") -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=prog,
        description="Throughput of raw physics, env steps, policy inference and PPO, per task and world count.",
    )
    ap.add_argument(
        "--task",
        nargs="+",
        default=None,
        help="registered tasks (default: humanoid-velocity-flat on a GPU, cartpole-balance on a CPU)",
    )
    ap.add_argument(
        "--num-envs",
        type=int,
        nargs="+",
        default=None,
        help="world counts (default: 1024 4096 on a GPU, 4 on a CPU)",
    )
    ap.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    ap.add_argument(
        "--steps",
        type=int,
        default=None,
        help="timed calls of measurements 1-3; PPO times ceil(steps / num_steps_per_env) iterations "
        "(default: 200 on a GPU, 10 on a CPU)",
    )
    ap.add_argument("--warmup", type=int, default=5, help="untimed calls before each timed loop (default 5)")
    ap.add_argument("--json", type=Path, default=None, help="write the results to this JSON file")
    ap.add_argument("--seed", type=int, default=None, help="reset seed (default: the task's agent seed)")
    ap.add_argument(
        "--memory-env-steps",
        type=int,
        default=0,
        help="after the measurements, step the env with random actions for this many env steps (all worlds "
        "together, e.g. 10000000) and report device memory at 11 points along the way (default 0: skip)",
    )
    ap.add_argument(
        "--tf32-matmul",
        choices=("agent", "off", "on"),
        default="agent",
        help="measurement 4 with the agent's ppo.tf32_matmul (TF32 matmuls in the PPO update, CUDA only): "
        "agent (default: the agent config's own setting, on unless the task turns it off), off, or on",
    )
    ap.add_argument(
        "--compile-managers",
        choices=("task", "off", "on", "both"),
        default="task",
        help="RlEnvCfg.compile_managers (torch.compile of the managers' work in the step): task (default: the "
        "task's own setting, 'auto': compiled on CUDA, not on the CPU), off, on, or both (each task and world "
        "count measured without, then with; rows say which)",
    )
    ap.add_argument(
        "--reset-forward",
        nargs="+",
        choices=("task", "full", "positions_velocities", "none", "both"),
        default=["task"],
        help="RlEnvCfg.reset_forward (what the step recomputes after resets): task (default: the task's own "
        "setting), full, positions_velocities, none, or both (full and positions_velocities); several "
        "values measure each in turn (e.g. positions_velocities none; rows say which)",
    )
    ap.add_argument(
        "--graph-update",
        choices=("agent", "off", "on", "both"),
        default="agent",
        help="measurement 4 with the agent's ppo.graph_update (the PPO mini-batch step as a CUDA graph): agent "
        "(default: the agent config's own setting, on unless the task turns it off), off, on, or both (the "
        "row gets the plain and the graphed PPO iterations, one after the other)",
    )
    return ap


def parse_args(argv: list[str] | None = None, prog: str = "python3 -m warplab.bench") -> BenchArgs:
    ns = parser(prog).parse_args(argv)
    return BenchArgs(**vars(ns))


# ---------------------------------------------------------------------------------------------- timing


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


class _Clock:
    """Seconds since the command started: the process start where known, else this module's import."""

    def __init__(self) -> None:
        age = _process_age_s()
        now = time.perf_counter()
        self.origin = now - age if age is not None else _IMPORTED_AT
        self.origin_is_process_start = age is not None

    def now(self) -> float:
        return time.perf_counter() - self.origin


def _sync(wp_device: str) -> None:
    import torch
    import warp as wp

    wp.synchronize_device(wp_device)
    if wp_device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn, calls: int, wp_device: str) -> float:
    """Seconds for ``calls`` calls of ``fn``, with a device synchronize before and after."""
    _sync(wp_device)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    _sync(wp_device)
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------------- machine


def _cache_entries() -> tuple[str | None, set[str]]:
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


def _memory_reset(wp_device: str) -> None:
    import torch

    gc.collect()
    if wp_device.startswith("cuda"):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _memory_now(wp_device: str) -> dict[str, int | None]:
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


def _memory_over_steps(env, actions_fn, env_steps: int, wp_device: str) -> dict[str, Any]:
    """Steps ``env`` for ``env_steps`` env steps (all worlds together) and samples device memory at
    the start and after each tenth; ``growth_bytes`` is the last sample minus the first."""
    calls = max(1, math.ceil(env_steps / env.num_envs))
    marks = {round(calls * k / 10) for k in range(1, 11)}
    obs = env.observations
    _sync(wp_device)
    samples = [{"env_steps": 0, **_memory_now(wp_device)}]
    for call in range(1, calls + 1):
        obs, *_ = env.step(actions_fn(obs))
        if call % 24 == 0:
            env.pop_episode_stats()  # as training does once an iteration
        if call in marks:
            _sync(wp_device)
            samples.append({"env_steps": call * env.num_envs, **_memory_now(wp_device)})
    first, last = samples[0], samples[-1]
    growth = {
        key: (last[key] - first[key]) if first[key] is not None and last[key] is not None else None
        for key in ("torch_bytes", "warp_pool_bytes", "device_used_bytes")
    }
    return {"env_steps": calls * env.num_envs, "samples": samples, "growth_bytes": growth}


def _memory(wp_device: str) -> dict[str, int | None]:
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


# ---------------------------------------------------------------------------------------------- measurements


def _raw_physics(env, snapshot, first_action, steps: int, warmup: int) -> float:
    """Seconds for ``steps`` calls of ``decimation`` MuJoCo Warp steps on the env's model and data."""
    import mujoco_warp as mjw
    import warp as wp

    sim, substeps = env.sim, env.cfg.decimation
    model, data = sim.model, sim.data

    def physics() -> None:
        for _ in range(substeps):
            mjw.step(model, data)

    def hold_controls() -> None:
        env.set_state(snapshot)
        env.action_manager.process(first_action)
        env.action_manager.apply()

    hold_controls()
    with wp.ScopedDevice(sim.wp_device):
        for _ in range(max(warmup, 1)):  # The first call loads (or compiles) the kernels.
            physics()
        call = physics
        if sim.wp_device.startswith("cuda"):
            from warplab._capture import no_garbage_collection

            with no_garbage_collection(), wp.ScopedCapture() as capture:
                physics()
            graph = capture.graph

            def call() -> None:
                wp.capture_launch(graph)

        hold_controls()
        return _timed(call, steps, sim.wp_device)


def _env_steps(env, snapshot, actions_fn, steps: int, warmup: int, restart=None) -> float:
    """Seconds for ``steps`` env steps with ``actions_fn(obs)``, from the snapshot, after warm-up.

    ``restart()`` runs after each restore of the snapshot (to reseed the random actions, say), so
    the timed loop sends the same actions from the same state as the warm-up did.
    """
    import torch

    obs = {}

    def step() -> None:
        with torch.inference_mode():
            obs["now"] = env.step(actions_fn(obs["now"]))[0]

    def restore() -> None:
        env.set_state(snapshot)
        obs["now"] = env.observations
        if restart is not None:
            restart()

    restore()
    for _ in range(warmup):
        step()
    restore()
    return _timed(step, steps, env.sim.wp_device)


def _capacity_error(env) -> str | None:
    from warplab.sim import CapacityError

    try:
        env.sim.check_capacity()
    except CapacityError as error:
        return str(error)
    return None


def _ppo_iterations(env, agent_cfg, seed: int, steps: int) -> dict[str, Any]:
    """Full PPO iterations with the task's agent config: one warm-up, then ``ceil(steps /
    num_steps_per_env)`` timed ones (at least one)."""
    from warplab.rl import OnPolicyRunner

    agent_cfg.logger, agent_cfg.console, agent_cfg.seed = "none", "off", seed
    runner = OnPolicyRunner(env, agent_cfg, log_dir=None)
    runner.learn(1)  # Warm-up; the first learn() resets the env with the seed, as for 1-3.
    steps_per_env = agent_cfg.ppo.num_steps_per_env
    iterations = max(1, math.ceil(steps / steps_per_env))
    split = {"collection": 0.0, "learning": 0.0}

    def iteration() -> None:
        runner.learn(1)
        split["collection"] += runner.last_scalars["Perf/collection_time_s"]
        split["learning"] += runner.last_scalars["Perf/learning_time_s"]

    seconds = _timed(iteration, iterations, env.sim.wp_device)
    return {
        "ppo_iterations": iterations,
        "ppo_steps_per_env": steps_per_env,
        "ppo_env_steps_per_s": iterations * steps_per_env * env.num_envs / seconds,
        "ppo_collection_s_per_iteration": split["collection"] / iterations,
        "ppo_learning_s_per_iteration": split["learning"] / iterations,
    }


def _build_env(
    task: str,
    num_envs: int,
    wp_device: str,
    seed: int,
    clock,
    on_first_step=None,
    compile_managers=None,
    reset_forward=None,
):
    """The task's env, stepped once with zero actions; with the clock's readings before and after.
    ``compile_managers`` and ``reset_forward`` None keep the task's settings.
    ``on_first_step()`` runs right after that step (to look at the kernel cache, say). When the env
    compiles its managers it is stepped once more, which compiles (or loads from the cache) its
    phases; the seconds that took are returned too (else None)."""
    import torch

    from warplab.envs.rl_env import RlEnv
    from warplab.tasks import make_env_cfg

    build_start = clock.now()
    env_cfg = make_env_cfg(task)
    env_cfg.num_envs, env_cfg.device, env_cfg.seed = num_envs, wp_device, seed
    if compile_managers is not None:
        env_cfg.compile_managers = compile_managers
    if reset_forward is not None:
        env_cfg.reset_forward = reset_forward
    env = RlEnv(env_cfg)
    zeros = torch.zeros(num_envs, env.action_dim, device=env.device)
    env.step(zeros)
    _sync(wp_device)
    first_step_s = clock.now()
    if on_first_step is not None:
        on_first_step()
    compile_s = None
    if env.compiles_managers:
        start = time.perf_counter()
        env.step(zeros)  # The phases run eagerly at their first call, compiled from the second.
        _sync(wp_device)
        compile_s = time.perf_counter() - start
    return env, build_start, first_step_s, compile_s


def bench_one(
    task: str,
    num_envs: int,
    wp_device: str,
    steps: int,
    warmup: int,
    seed: int | None,
    clock,
    on_first_step=None,
    memory_env_steps: int = 0,
    tf32_matmul: str = "agent",
    compile_managers: bool | None = None,
    reset_forward: str | None = None,
    graph_update: str = "agent",
) -> dict:
    """One row: every measurement for ``task`` with ``num_envs`` worlds.

    ``on_first_step()`` runs right after the env's first step (before anything is measured);
    ``memory_env_steps`` > 0 adds ``memory_over_steps`` (see ``_memory_over_steps``); ``tf32_matmul``
    (agent, off, on) sets the agent's ``ppo.tf32_matmul`` for measurement 4; ``graph_update`` (agent, off, on, both) its
    ``ppo.graph_update`` (agent: as the agent config has it; both: measurement 4 plain, then again
    graphed, as ``ppo_graphed_*``).
    ``compile_managers`` and ``reset_forward`` None keep the task's settings."""
    import torch

    from warplab.rl.config import PolicyCfg
    from warplab.rl.networks import ActorCritic
    from warplab.tasks import get_task

    spec = get_task(task)
    agent_cfg = spec.agent_cfg_factory() if spec.agent_cfg_factory is not None else None
    seed = seed if seed is not None else (agent_cfg.seed if agent_cfg is not None else 0)
    _memory_reset(wp_device)

    env, build_start, first_step_s, compile_s = _build_env(
        task, num_envs, wp_device, seed, clock, on_first_step, compile_managers, reset_forward
    )
    env.reset(seed=seed)
    snapshot = env.get_state()
    gen = torch.Generator(device=env.device)
    gen.manual_seed(seed)
    actions = torch.empty(num_envs, env.action_dim, device=env.device)
    first_action = actions.uniform_(-1.0, 1.0, generator=gen).clone()
    substeps = env.cfg.decimation
    row: dict[str, Any] = {
        "task": task,
        "num_envs": num_envs,
        "decimation": substeps,
        "physics_dt_s": env.physics_dt,
        "action_dim": env.action_dim,
        "observation_shapes": {g: list(s) for g, s in env.observation_shapes.items()},
        "nconmax": env.sim.capacity.nconmax,
        "njmax": env.sim.capacity.njmax,
        "cuda_graph": wp_device.startswith("cuda"),
        "steps": steps,
        "warmup": warmup,
        "first_env_step_at_s": first_step_s,
        "env_build_s": first_step_s - build_start,
        "compile_managers": env.compiles_managers,
        "compile_s": compile_s,
        "reset_forward": env.cfg.reset_forward,
    }
    capacity_errors: dict[str, str] = {}

    # 1. Raw physics.
    seconds = _raw_physics(env, snapshot, first_action, steps, warmup)
    row["raw_env_steps_per_s"] = steps * num_envs / seconds
    row["raw_physics_steps_per_s"] = row["raw_env_steps_per_s"] * substeps
    if error := _capacity_error(env):
        capacity_errors["raw"] = error

    # 2. Random actions: the first one is the action whose controls raw physics held.
    def random_actions(_obs):
        return actions.uniform_(-1.0, 1.0, generator=gen)

    seconds = _env_steps(env, snapshot, random_actions, steps, warmup, restart=lambda: gen.manual_seed(seed))
    row["env_steps_per_s_random"] = steps * num_envs / seconds
    if error := _capacity_error(env):
        capacity_errors["env_random"] = error

    # 3. Policy inference.
    torch.manual_seed(seed)
    policy_cfg = agent_cfg.policy if agent_cfg is not None else PolicyCfg()
    policy = ActorCritic(env.observation_shapes, env.action_dim, policy_cfg).to(env.device).eval()
    seconds = _env_steps(env, snapshot, policy.act_inference, steps, warmup)
    row["env_steps_per_s_policy"] = steps * num_envs / seconds
    if error := _capacity_error(env):
        capacity_errors["env_policy"] = error
    del policy

    # 4. PPO iterations.
    row.update(ppo_env_steps_per_s=None, ppo_iterations=None, ppo_tf32_matmul=None, ppo_graph_update=None)
    if agent_cfg is not None:
        if tf32_matmul != "agent":
            agent_cfg.ppo.tf32_matmul = tf32_matmul == "on"
        if graph_update != "agent":
            # "both" measures the plain update first, then the graphed one below.
            agent_cfg.ppo.graph_update = graph_update == "on"
        # Whether TF32 and the update's graph really ran: both settings are ignored on the CPU.
        on_cuda = torch.device(env.device).type == "cuda"
        row["ppo_tf32_matmul"] = agent_cfg.ppo.tf32_matmul and on_cuda
        row["ppo_graph_update"] = agent_cfg.ppo.graph_update and on_cuda
        row.update(_ppo_iterations(env, agent_cfg, seed, steps))
        if graph_update == "both":
            graphed = dataclasses.replace(
                agent_cfg, ppo=dataclasses.replace(agent_cfg.ppo, graph_update=True)
            )
            row.update(
                {
                    key.replace("ppo_", "ppo_graphed_", 1): value
                    for key, value in _ppo_iterations(env, graphed, seed, steps).items()
                }
            )
        if error := _capacity_error(env):
            capacity_errors["ppo"] = error

    row["env_over_raw"] = row["env_steps_per_s_random"] / row["raw_env_steps_per_s"]
    row["policy_over_env"] = row["env_steps_per_s_policy"] / row["env_steps_per_s_random"]
    row["ppo_over_env"] = (
        row["ppo_env_steps_per_s"] / row["env_steps_per_s_random"] if row["ppo_env_steps_per_s"] else None
    )
    if row.get("ppo_graphed_env_steps_per_s"):
        row["ppo_graphed_over_env"] = row["ppo_graphed_env_steps_per_s"] / row["env_steps_per_s_random"]
    row["memory"] = _memory(wp_device)
    if memory_env_steps > 0:
        env.set_state(snapshot)
        row["memory_over_steps"] = _memory_over_steps(env, random_actions, memory_env_steps, wp_device)
    row["capacity_errors"] = capacity_errors
    del env, snapshot
    return row


# ---------------------------------------------------------------------------------------------- report


def _rate(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g}{unit}"
    return f"{x:.3g}"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _mib(x: int | None) -> str:
    return "-" if x is None else f"{x / 2**20:.0f}"


def _signed_mib(x: int | None) -> str:
    return "-" if x is None else f"{x / 2**20:+.1f}"


def format_table(result: dict) -> str:
    """A compact table of the rows: env steps per second of each measurement and the ratios."""
    head = (
        "task",
        "worlds",
        "1 raw",
        "physics/s",
        "2 random",
        "3 policy",
        "4 ppo",
        "2/1",
        "4/2",
        "torch MiB",
        "warp MiB",
    )
    lines = [head]
    for r in result["rows"]:
        mem = r["memory"]
        flag = " !" if r["capacity_errors"] else ""
        lines.append(
            (
                r["task"]
                + (" +compiled" if r.get("compile_managers") else "")
                + {"positions_velocities": " +posvel", "none": " +noforward"}.get(r.get("reset_forward"), "")
                + flag,
                str(r["num_envs"]),
                _rate(r["raw_env_steps_per_s"]),
                _rate(r["raw_physics_steps_per_s"]),
                _rate(r["env_steps_per_s_random"]),
                _rate(r["env_steps_per_s_policy"]),
                _rate(r["ppo_env_steps_per_s"]),
                _ratio(r["env_over_raw"]),
                _ratio(r["ppo_over_env"]),
                _mib(mem["torch_peak_bytes"]),
                _mib(mem.get("warp_pool_high_bytes")),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        for line in lines
    ]
    s = result["startup"]
    cache = "warm" if s["kernel_cache_warm"] else f"cold ({s['kernel_cache_new_entries']} new entries)"
    text += [
        f"{result['card']}; env steps per second (physics/s: MuJoCo steps per second in 1); "
        f"first env step {s['seconds_to_first_env_step']:.1f} s after the command started, Warp kernel cache {cache}",
    ]
    for r in result["rows"]:
        if r.get("ppo_graphed_env_steps_per_s"):
            text.append(
                f"{r['task']} x {r['num_envs']}: PPO with the update as a CUDA graph "
                f"{_rate(r['ppo_graphed_env_steps_per_s'])} env steps/s (4/2 {_ratio(r['ppo_graphed_over_env'])}; "
                f"update {r['ppo_graphed_learning_s_per_iteration']:.3f} s an iteration, plain "
                f"{r['ppo_learning_s_per_iteration']:.3f} s)"
            )
    for r in result["rows"]:
        grown = r.get("memory_over_steps")
        if grown:
            g = grown["growth_bytes"]
            text.append(
                f"{r['task']} x {r['num_envs']}: memory growth over {grown['env_steps']:,} env steps: "
                f"torch {_signed_mib(g['torch_bytes'])}, Warp pool {_signed_mib(g['warp_pool_bytes'])}, "
                f"device {_signed_mib(g['device_used_bytes'])} MiB"
            )
    if any(r["capacity_errors"] for r in result["rows"]):
        text.append(
            "! contacts or constraints overflowed: those figures are wrong (see capacity_errors in the JSON)"
        )
    return "\n".join(text)


# ---------------------------------------------------------------------------------------------- entry points


def run(args: BenchArgs, command: str = "") -> dict:
    """Runs every measurement of ``args``; prints the table, writes ``args.json``; returns the result."""
    clock = _Clock()
    cache_dir, cache_before = _cache_entries()

    from warplab.sim import resolve_device
    from warplab.tasks import get_task

    wp_device = resolve_device(args.device)
    cuda = wp_device.startswith("cuda")
    tasks = args.task or ["humanoid-velocity-flat" if cuda else "cartpole-balance"]
    for task in tasks:
        get_task(task)  # An unknown name fails before anything is measured.
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
            new = len(_cache_entries()[1] - cache_before)
            startup.update(
                kernel_cache_dir=cache_dir, kernel_cache_new_entries=new, kernel_cache_warm=new == 0
            )

    result["compile_managers"], result["reset_forward"] = args.compile_managers, args.reset_forward
    result["graph_update"] = args.graph_update
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
            print(
                f"{task} x {n}{label}: raw {_rate(row['raw_env_steps_per_s'])}, random {_rate(row['env_steps_per_s_random'])}, "
                f"policy {_rate(row['env_steps_per_s_policy'])}, ppo {_rate(row['ppo_env_steps_per_s'])} env steps/s",
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


def main(argv: list[str] | None = None, prog: str = "python3 -m warplab.bench") -> int:
    """``python3 -m warplab.bench``: a user's mistake prints one line and exits 2."""
    from warplab.envs.managers.term import ConfigError
    from warplab.sim import CapacityError, DeviceError
    from warplab.tasks import UnknownTaskError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv, prog)
    try:
        run(args, shlex.join([*prog.split(), *argv]))
    except (UnknownTaskError, ConfigError, DeviceError, CapacityError, FileWriteError, ValueError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
