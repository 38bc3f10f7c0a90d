"""The bench's timed measurements, each on an env already built: raw physics, env steps with
given actions, PPO iterations, off-policy (SAC, TD3) iterations; and the env's build with its first
step timed.

Timed regions start and end with a device synchronize, after warm-up (``timing.timed``); nothing
in the timed loops reads back to the host except what the env (and the runner, once an
iteration) does itself.
"""

from __future__ import annotations

import math
import time
from typing import Any

from warplab.bench.timing import sync, timed


def raw_physics(env, snapshot, first_action, steps: int, warmup: int) -> float:
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
        return timed(call, steps, sim.wp_device)


def env_steps(env, snapshot, actions_fn, steps: int, warmup: int, restart=None) -> float:
    """Seconds for ``steps`` env steps with ``actions_fn(obs)``, from the snapshot, after warm-up.

    ``restart()`` runs after each restore of the snapshot (to reseed the random actions, say), so
    the timed loop sends the same actions from the same state as the warm-up did.
    """
    import torch

    # {"now": the latest observations}: a cell the closures below share and rebind.
    obs: dict[str, Any] = {}

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
    return timed(step, steps, env.sim.wp_device)


def capacity_error(env) -> str | None:
    from warplab.sim import CapacityError

    try:
        env.sim.check_capacity()
    except CapacityError as error:
        return str(error)
    return None


def ppo_iterations(env, agent_cfg, seed: int, steps: int) -> dict[str, Any]:
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

    seconds = timed(iteration, iterations, env.sim.wp_device)
    return {
        "ppo_iterations": iterations,
        "ppo_steps_per_env": steps_per_env,
        "ppo_env_steps_per_s": iterations * steps_per_env * env.num_envs / seconds,
        "ppo_collection_s_per_iteration": split["collection"] / iterations,
        "ppo_learning_s_per_iteration": split["learning"] / iterations,
    }


def off_policy_warmup_iterations(sac) -> int:
    """Untimed iterations before off-policy timing: past the random actions (``random_steps``) and
    the first update (``learning_starts``), so that every timed step acts with the policy and is
    followed by its updates, plus one so that the first updates (and their CUDA graph's recording)
    are behind us too."""
    return math.ceil(max(sac.learning_starts, sac.random_steps) / sac.num_steps_per_env) + 1


def off_policy_iterations(env, agent_cfg, seed: int, steps: int) -> dict[str, Any]:
    """Whole SAC or TD3 iterations (``OffPolicyRunner.learn``: each env step followed by the updates
    the replay ratio asks for) with ``agent_cfg``: `off_policy_warmup_iterations` untimed, then
    ``ceil(steps / num_steps_per_env)`` timed ones (at least one).

    Returns the ``off_policy_*`` figures: env steps per second with the updates running, seconds of
    collection and of updates per iteration, the updates' share of the time, and updates per
    iteration (with the settings that decide them: replay ratio, batch size, updates per env step).
    """
    from warplab.rl import OffPolicyRunner

    agent_cfg.logger, agent_cfg.console, agent_cfg.seed = "none", "off", seed
    runner = OffPolicyRunner(env, agent_cfg, log_dir=None)
    sac = agent_cfg.sac
    warmup = off_policy_warmup_iterations(sac)
    runner.learn(warmup)  # The first learn() resets the env with the seed, as for 1-3.
    iterations = max(1, math.ceil(steps / sac.num_steps_per_env))
    split = {"collection": 0.0, "learning": 0.0}
    updates_before = runner.agent.num_updates

    def iteration() -> None:
        runner.learn(1)
        split["collection"] += runner.last_scalars["Perf/collection_time_s"]
        split["learning"] += runner.last_scalars["Perf/learning_time_s"]

    seconds = timed(iteration, iterations, env.sim.wp_device)
    updates = runner.agent.num_updates - updates_before
    both = split["collection"] + split["learning"]
    return {
        "off_policy_algorithm": agent_cfg.algorithm,
        "off_policy_iterations": iterations,
        "off_policy_warmup_iterations": warmup,
        "off_policy_steps_per_env": sac.num_steps_per_env,
        "off_policy_env_steps_per_s": iterations * sac.num_steps_per_env * env.num_envs / seconds,
        "off_policy_collection_s_per_iteration": split["collection"] / iterations,
        "off_policy_learning_s_per_iteration": split["learning"] / iterations,
        "off_policy_update_share": split["learning"] / both if both > 0 else None,
        "off_policy_updates_per_iteration": updates / iterations,
        "off_policy_updates_per_env_step": float(runner.updates_per_step),
        "off_policy_replay_ratio": sac.replay_ratio,
        "off_policy_batch_size": sac.batch_size,
    }


def build_env(
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
    sync(wp_device)
    first_step_s = clock.now()
    if on_first_step is not None:
        on_first_step()
    compile_s = None
    if env.compiles_managers:
        start = time.perf_counter()
        env.step(zeros)  # The phases run eagerly at their first call, compiled from the second.
        sync(wp_device)
        compile_s = time.perf_counter() - start
    return env, build_start, first_step_s, compile_s
