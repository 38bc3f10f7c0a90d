"""What one bench run measures: ``BenchArgs``, the options of ``warplab bench`` and of
``python3 -m warplab.bench``, and the settings a benchmark script passes to ``run``.

A plain dataclass: the command line reads it (``warplab.cli.bench``, each field's docstring is
its ``--help``), a script builds it (``BenchArgs(task=["humanoid-velocity-flat"], num_envs=[4096])``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

ResetForward = Literal["task", "full", "positions_velocities", "none", "both"]
"""``--reset-forward`` words: a ``RlEnvCfg.reset_forward`` value, the task's own, or both of the
first two."""


@dataclasses.dataclass
class BenchArgs:
    """Throughput of raw physics, env steps, policy inference and training, per task and world count:
    1 raw physics (the ceiling), 2 env steps with random actions, 3 env steps with an untrained
    policy's actions, 4 training iterations (PPO, or SAC/TD3 with --algo: env steps with the updates
    running); the ratios 2/1 and 4/2, device memory and the time to the first env step. A table on
    stdout, everything in --json (docs/benchmarking.md)."""

    task: list[str] | None = None
    """Registered tasks, each measured in turn (see `warplab list`). Default: humanoid-velocity-flat on a GPU, cartpole-balance on a CPU."""
    num_envs: list[int] | None = None
    """World counts, each measured in turn. Default: 1024 4096 on a GPU, 4 on a CPU."""
    device: str = "auto"
    """auto (CUDA when present), cpu, cuda or cuda:N."""
    steps: int | None = None
    """Timed calls of measurements 1-3; measurement 4 times ceil(steps / num_steps_per_env) iterations. Default: 200 on a GPU, 10 on a CPU."""
    warmup: int = 5
    """Untimed calls before each timed loop."""
    json: Path | None = None
    """Write the results to this JSON file (docs/benchmarking.md lists its keys)."""
    seed: int | None = None
    """Reset seed. Default: the task's agent seed."""
    memory_env_steps: int = 0
    """After the measurements, step the env with random actions for this many env steps (all worlds together, e.g. 10000000) and report device memory at 11 points along the way; 0 skips it."""
    algo: Literal["agent", "ppo", "sac", "td3"] = "agent"
    """The learner of measurements 3 and 4: agent (the task's agent config's own algorithm, ppo for every registered task), ppo, sac or td3. For sac and td3, 3 runs their untrained actor and 4 times off-policy iterations: env steps with the updates running at the agent's replay ratio, the update's share of the time, updates per iteration."""
    agent_overrides: list[str] | None = None
    """Changes to the task's agent config for measurements 3 and 4, as FIELD=VALUE words in the spelling of `warplab train --agent.FIELD VALUE` (e.g. sac.batch_size=4096 sac.replay_ratio=8)."""
    tf32_matmul: Literal["agent", "off", "on"] = "agent"
    """Measurement 4 with the agent's tf32_matmul (ppo.tf32_matmul, or sac.tf32_matmul with --algo sac/td3: TF32 matmuls in the update, CUDA only): agent (the agent config's own setting, on unless the task turns it off), off, or on."""
    compile_managers: Literal["task", "off", "on", "both"] = "task"
    """RlEnvCfg.compile_managers (torch.compile of the managers' work in the step): task (the task's own setting, 'auto': compiled on CUDA, not on the CPU), off, on, or both (each task and world count measured without, then with; rows say which)."""
    # A script may also pass one word as a plain string (`reset_forward="none"`); `run` reads both.
    reset_forward: list[ResetForward] = dataclasses.field(default_factory=lambda: ["task"])
    """RlEnvCfg.reset_forward (what the step recomputes after resets): task (the task's own setting), full, positions_velocities, none, or both (full and positions_velocities); several values measure each in turn (e.g. positions_velocities none; rows say which)."""
    graph_update: Literal["agent", "off", "on", "both"] = "agent"
    """Measurement 4 with the agent's graph_update (ppo.graph_update: the PPO mini-batch step as a CUDA graph; sac.graph_update with --algo sac/td3: sampling and update as CUDA graphs): agent (the agent config's own setting, on unless the task turns it off), off, on, or both (the row gets the plain and the graphed iterations, one after the other)."""
