"""One row of the bench: every measurement of one task with one world count, from one state."""

from __future__ import annotations

import dataclasses
from typing import Any

from warplab.bench.measure import (
    build_env,
    capacity_error,
    env_steps,
    off_policy_iterations,
    ppo_iterations,
    raw_physics,
)
from warplab.bench.memory import memory_over_steps, memory_peak, reset_peak_memory


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
    algo: str = "agent",
    agent_overrides: dict[str, str] | None = None,
) -> dict:
    """One row: every measurement for ``task`` with ``num_envs`` worlds.

    ``on_first_step()`` runs right after the env's first step (before anything is measured);
    ``memory_env_steps`` > 0 adds ``memory_over_steps`` (see ``memory_over_steps``); ``tf32_matmul``
    (agent, off, on) sets the agent's ``tf32_matmul`` for measurement 4; ``graph_update`` (agent, off, on, both) its
    ``graph_update`` (agent: as the agent config has it; both: measurement 4 plain, then again
    graphed, as ``ppo_graphed_*`` or ``off_policy_graphed_*``); both are PPO's settings, or SAC's
    for an off-policy ``algo``.
    ``algo`` (agent, ppo, sac, td3) picks the learner of measurements 3 and 4 (agent: the agent
    config's own); ``agent_overrides`` (``{"sac.batch_size": "1024"}``, as text) change the agent
    config first. ``compile_managers`` and ``reset_forward`` None keep the task's settings."""
    import torch

    from warplab.rl.config import PolicyCfg
    from warplab.rl.networks import ActorCritic
    from warplab.tasks import get_task

    spec = get_task(task)
    agent_cfg = spec.agent_cfg_factory() if spec.agent_cfg_factory is not None else None
    if agent_cfg is not None:
        agent_cfg = configure_agent(agent_cfg, algo, agent_overrides or {})
    seed = seed if seed is not None else (agent_cfg.seed if agent_cfg is not None else 0)
    reset_peak_memory(wp_device)

    env, build_start, first_step_s, compile_s = build_env(
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
    seconds = raw_physics(env, snapshot, first_action, steps, warmup)
    row["raw_env_steps_per_s"] = steps * num_envs / seconds
    row["raw_physics_steps_per_s"] = row["raw_env_steps_per_s"] * substeps
    if error := capacity_error(env):
        capacity_errors["raw"] = error

    # 2. Random actions: the first one is the action whose controls raw physics held.
    def random_actions(_obs):
        return actions.uniform_(-1.0, 1.0, generator=gen)

    seconds = env_steps(env, snapshot, random_actions, steps, warmup, restart=lambda: gen.manual_seed(seed))
    row["env_steps_per_s_random"] = steps * num_envs / seconds
    if error := capacity_error(env):
        capacity_errors["env_random"] = error

    # 3. Policy inference: the networks of the learner measured in 4.
    torch.manual_seed(seed)
    off_policy = agent_cfg is not None and agent_cfg.algorithm != "ppo"
    if agent_cfg is not None and off_policy:
        from warplab.rl.inference import build_model

        policy: torch.nn.Module = build_model(
            agent_cfg, agent_cfg.algorithm, env.observation_shapes, env.action_dim
        )
    else:
        policy_cfg = agent_cfg.policy if agent_cfg is not None else PolicyCfg()
        policy = ActorCritic(env.observation_shapes, env.action_dim, policy_cfg)
    policy = policy.to(env.device).eval()
    seconds = env_steps(env, snapshot, policy.act_inference, steps, warmup)
    row["env_steps_per_s_policy"] = steps * num_envs / seconds
    if error := capacity_error(env):
        capacity_errors["env_policy"] = error
    del policy

    # 4. Training iterations: PPO's, or SAC's or TD3's (whose row keeps the ppo_* keys at None).
    row.update(ppo_env_steps_per_s=None, ppo_iterations=None, ppo_tf32_matmul=None, ppo_graph_update=None)
    if agent_cfg is not None and off_policy:
        _measure_off_policy(row, env, agent_cfg, seed, steps, tf32_matmul, graph_update)
        if error := capacity_error(env):
            capacity_errors[agent_cfg.algorithm] = error
    elif agent_cfg is not None:
        if tf32_matmul != "agent":
            agent_cfg.ppo.tf32_matmul = tf32_matmul == "on"
        if graph_update != "agent":
            # "both" measures the plain update first, then the graphed one below.
            agent_cfg.ppo.graph_update = graph_update == "on"
        # Whether TF32 and the update's graph really ran: both settings are ignored on the CPU.
        on_cuda = torch.device(env.device).type == "cuda"
        row["ppo_tf32_matmul"] = agent_cfg.ppo.tf32_matmul and on_cuda
        row["ppo_graph_update"] = agent_cfg.ppo.graph_update and on_cuda
        row.update(ppo_iterations(env, agent_cfg, seed, steps))
        if graph_update == "both":
            graphed = dataclasses.replace(
                agent_cfg, ppo=dataclasses.replace(agent_cfg.ppo, graph_update=True)
            )
            row.update(
                {
                    key.replace("ppo_", "ppo_graphed_", 1): value
                    for key, value in ppo_iterations(env, graphed, seed, steps).items()
                }
            )
        if error := capacity_error(env):
            capacity_errors["ppo"] = error

    row["env_over_raw"] = row["env_steps_per_s_random"] / row["raw_env_steps_per_s"]
    row["policy_over_env"] = row["env_steps_per_s_policy"] / row["env_steps_per_s_random"]
    row["ppo_over_env"] = (
        row["ppo_env_steps_per_s"] / row["env_steps_per_s_random"] if row["ppo_env_steps_per_s"] else None
    )
    for prefix in ("off_policy", "off_policy_graphed"):
        if row.get(f"{prefix}_env_steps_per_s"):
            row[f"{prefix}_over_env"] = row[f"{prefix}_env_steps_per_s"] / row["env_steps_per_s_random"]
    if row.get("ppo_graphed_env_steps_per_s"):
        row["ppo_graphed_over_env"] = row["ppo_graphed_env_steps_per_s"] / row["env_steps_per_s_random"]
    row["memory"] = memory_peak(wp_device)
    if memory_env_steps > 0:
        env.set_state(snapshot)
        row["memory_over_steps"] = memory_over_steps(env, random_actions, memory_env_steps, wp_device)
    row["capacity_errors"] = capacity_errors
    del env, snapshot
    return row


def configure_agent(agent_cfg, algo: str, overrides: dict[str, str]):
    """The task's agent config with ``overrides`` applied (text, as ``warplab train --agent.*``
    reads it) and, unless ``algo`` is "agent", its algorithm set; checked with ``validate``."""
    from warplab.cli.overrides import apply_text_overrides
    from warplab.rl.config import validate

    agent_cfg = apply_text_overrides(agent_cfg, overrides, "agent")
    if algo != "agent":
        agent_cfg.algorithm = algo
    validate(agent_cfg)
    return agent_cfg


def _measure_off_policy(
    row: dict, env, agent_cfg, seed: int, steps: int, tf32_matmul: str, graph_update: str
) -> None:
    """Measurement 4 for SAC and TD3 into ``row``: the ``off_policy_*`` keys (and, with
    ``graph_update`` both, ``off_policy_graphed_*`` after them)."""
    import torch

    sac = agent_cfg.sac
    if tf32_matmul != "agent":
        sac.tf32_matmul = tf32_matmul == "on"
    if graph_update != "agent":
        sac.graph_update = graph_update == "on"  # "both": plain first, graphed below
    on_cuda = torch.device(env.device).type == "cuda"
    row["off_policy_tf32_matmul"] = sac.tf32_matmul and on_cuda
    row["off_policy_graph_update"] = sac.graph_update and on_cuda
    row.update(off_policy_iterations(env, agent_cfg, seed, steps))
    if graph_update == "both":
        graphed = dataclasses.replace(agent_cfg, sac=dataclasses.replace(sac, graph_update=True))
        measured = off_policy_iterations(env, graphed, seed, steps)
        row.update(
            {
                key.replace("off_policy_", "off_policy_graphed_", 1): value
                for key, value in measured.items()
                if key not in ("off_policy_algorithm", "off_policy_replay_ratio", "off_policy_batch_size")
            }
        )
