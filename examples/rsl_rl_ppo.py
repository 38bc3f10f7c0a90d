"""Train a warplab task with rsl_rl's PPO (``OnPolicyRunner``), with the task's registered settings.

    pip install "warplab[integrations]"
    python examples/rsl_rl_ppo.py --task cartpole-balance --num-envs 16 --device cpu --iterations 40
    python examples/rsl_rl_ppo.py --task humanoid-velocity-flat --num-envs 4096 --device cuda --iterations 1500

The PPO and network settings come from the task's warplab config (``warplab train`` uses the same),
translated by ``warplab.integrations.rsl_rl.train_cfg_from_warplab``, so that both libraries can be
timed and compared on the same task. Logs and checkpoints go to ``<log-dir>/<task>/<date-time>``.
"""

from __future__ import annotations

import datetime
import os
import time
from dataclasses import dataclass

import torch
import tyro
from rsl_rl.runners import OnPolicyRunner

import warplab
from warplab.integrations.rsl_rl import RslRlVecEnv, train_cfg_from_warplab
from warplab.tasks import get_task


@dataclass
class Args:
    """rsl_rl's PPO on a warplab task."""

    task: str = "cartpole-balance"
    """Registered warplab task (`warplab list` names them); it must have registered PPO settings."""
    num_envs: int = 16
    """Worlds simulated together."""
    device: str = "cpu"
    """Where the worlds and the networks live: 'cpu', 'cuda', 'cuda:N' or 'auto'."""
    iterations: int | None = None
    """Iterations (one rollout and one update each); None: the task's max_iterations."""
    num_steps_per_env: int | None = None
    """Policy steps per world per iteration; None: the task's setting."""
    seed: int = 42
    """Seeds torch (weights, action noise, mini-batches) and the env."""
    log_dir: str = "runs/rsl_rl"
    """Root folder of the TensorBoard logs and checkpoints."""
    init_at_random_ep_len: bool = True
    """Start the worlds at random points of their episodes, so time-outs spread over iterations."""


def make_runner(args: Args) -> tuple[OnPolicyRunner, int]:
    """The env and rsl_rl's runner as ``args`` say, and the iterations to train; nothing trained yet."""
    torch.manual_seed(args.seed)
    spec = get_task(args.task)
    if spec.agent_cfg_factory is None:
        raise ValueError(f"task {args.task!r} has no registered PPO settings to translate")
    runner_cfg = spec.agent_cfg_factory()
    if args.num_steps_per_env is not None:
        runner_cfg.ppo.num_steps_per_env = args.num_steps_per_env
    iterations = args.iterations if args.iterations is not None else runner_cfg.max_iterations

    env = warplab.make(args.task, num_envs=args.num_envs, device=args.device, seed=args.seed)
    # One read of the episode statistics per iteration, at its last step.
    vec_env = RslRlVecEnv(env, log_interval=runner_cfg.ppo.num_steps_per_env)
    train_cfg = train_cfg_from_warplab(runner_cfg, env)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    log_dir = os.path.join(args.log_dir, args.task, stamp)
    runner = OnPolicyRunner(vec_env, train_cfg, log_dir=log_dir, device=str(env.device))
    return runner, iterations


def main(args: Args) -> OnPolicyRunner:
    """Trains as ``args`` say; returns the runner (its ``alg`` holds the trained actor and critic)."""
    runner, iterations = make_runner(args)
    start = time.perf_counter()
    runner.learn(num_learning_iterations=iterations, init_at_random_ep_len=args.init_at_random_ep_len)
    seconds = time.perf_counter() - start
    steps = iterations * runner.cfg["num_steps_per_env"] * args.num_envs
    print(
        f"rsl_rl: {iterations} iterations, {steps} env steps in {seconds:.1f} s "
        f"({steps / seconds:.0f} steps/s, {runner.device}); logs in {runner.logger.log_dir}"
    )
    return runner


if __name__ == "__main__":
    main(tyro.cli(Args))
