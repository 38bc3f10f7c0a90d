"""Stable-Baselines3's PPO on a warplab task, through `warplab.integrations.sb3`.

    python examples/sb3_ppo.py                                   # cartpole-balance, 16 worlds, CPU
    python examples/sb3_ppo.py --help                            # every setting, with its meaning
    python examples/sb3_ppo.py --task Humanoid-v5 --num-envs 1024 --device cuda --timesteps 5_000_000

The worlds run on `--device`; SB3 gets numpy arrays, copied from the device once per step (not
once per world), and `infos[i]["terminal_observation"]` / `infos[i]["TimeLimit.truncated"]` for
the worlds that finished, so PPO bootstraps time-outs. At the end the script prints the training
throughput and the mean return of the deterministic policy over one episode per world.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import tyro
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

from warplab.integrations.sb3 import make_sb3_env


@dataclass
class Args:
    """SB3 PPO on a warplab task. The defaults train cartpole-balance on a CPU in about a minute."""

    task: str = "cartpole-balance"
    """Registered warplab task (`warplab list` names them)."""
    num_envs: int = 16
    """Worlds simulated together; each PPO rollout is n_steps * num_envs samples."""
    device: str = "cpu"
    """Where the worlds live: 'cpu', 'cuda', 'cuda:N' or 'auto'."""
    policy_device: str = "auto"
    """Where SB3 puts the networks ('auto': CUDA when present)."""
    timesteps: int = 20_480
    """Env steps to train for, summed over the worlds."""
    seed: int = 0
    """Seeds the env and SB3 (weights, action noise, mini-batches)."""
    n_steps: int = 64
    """Policy steps every world takes per rollout."""
    batch_size: int = 256
    """Samples per mini-batch."""
    n_epochs: int = 5
    """Passes over each rollout."""
    learning_rate: float = 1e-3
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount factor."""
    net_arch: tuple[int, ...] = (32, 32)
    """Hidden layers of the actor and of the critic."""
    normalize: bool = False
    """Wrap the env in SB3's VecNormalize (running mean and variance of observations and returns)."""
    episode_length_s: float | None = None
    """Episode length in seconds (None: the task's own)."""
    eval: bool = True
    """After training, report the deterministic policy's mean return over one episode per world."""
    save: str | None = None
    """Save the trained model to this path (SB3's zip format)."""
    tensorboard_dir: str | None = None
    """Write SB3's TensorBoard logs here."""
    torch_threads: int = 1
    """CPU threads for torch (1 suits small networks on a shared CPU)."""
    verbose: int = 1
    """SB3's verbosity: 0 silent, 1 a table per rollout."""


def make_model(args: Args, venv, **ppo_kwargs) -> PPO:
    """SB3's PPO on ``venv`` with the settings of ``args``; ``ppo_kwargs`` add to or replace PPO's
    keyword arguments (``gae_lambda=0.95``, ``policy_kwargs={...}``)."""
    kwargs = {
        "n_steps": args.n_steps,
        "batch_size": args.batch_size,
        "n_epochs": args.n_epochs,
        "learning_rate": args.learning_rate,
        "gamma": args.gamma,
        "policy_kwargs": {"net_arch": list(args.net_arch)},
        "tensorboard_log": args.tensorboard_dir,
        "seed": args.seed,
        "device": args.policy_device,
        "verbose": args.verbose,
    }
    return PPO("MlpPolicy", venv, **{**kwargs, **ppo_kwargs})


def main(args: Args) -> dict[str, float]:
    torch.set_num_threads(args.torch_threads)
    overrides = {} if args.episode_length_s is None else {"episode_length_s": args.episode_length_s}
    env = make_sb3_env(args.task, args.num_envs, device=args.device, seed=args.seed, **overrides)
    venv = VecNormalize(env, gamma=args.gamma) if args.normalize else env
    model = make_model(args, venv)
    start = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    seconds = time.perf_counter() - start
    result = {"train_s": seconds, "steps_per_s": model.num_timesteps / seconds}
    print(f"trained {model.num_timesteps} env steps in {seconds:.1f} s: {result['steps_per_s']:.0f} steps/s")
    if args.eval:
        if args.normalize:
            venv.training, venv.norm_reward = False, False  # returns in the task's own units
        mean, std = evaluate_policy(model, venv, n_eval_episodes=args.num_envs)
        result.update(eval_return=mean, eval_return_std=std)
        print(f"deterministic policy: mean return {mean:.1f} +- {std:.1f} over {args.num_envs} episodes")
    if args.save:
        model.save(args.save)
        print(f"saved {args.save}")
    venv.close()
    return result


if __name__ == "__main__":
    main(tyro.cli(Args))
