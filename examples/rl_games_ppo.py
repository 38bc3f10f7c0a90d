"""Train a warplab task with rl_games' PPO, from examples/rl_games_ppo.yaml.

    pip install "warplab[integrations]"
    python examples/rl_games_ppo.py --task cartpole-balance --num-envs 16 --device cpu --epochs 60
    python examples/rl_games_ppo.py --task cartpole-balance --num-envs 4096 --device cuda --epochs 100

The command line overrides the YAML's task, world count, device, epochs and seed; everything else
(network, PPO settings) is read from the YAML file. Logs and checkpoints go to
``<train-dir>/<task>_<date-time>`` (rl_games' layout: ``summaries/`` and ``nn/``).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import tyro
import yaml
from rl_games.torch_runner import Runner

from warplab.integrations.rl_games import RlGamesObserver, register


@dataclass
class Args:
    """rl_games' PPO on a warplab task."""

    task: str = "cartpole-balance"
    """Registered warplab task (`warplab list` names them)."""
    num_envs: int = 16
    """Worlds simulated together (rl_games' num_actors)."""
    device: str = "cpu"
    """Where the worlds and the networks live: 'cpu', 'cuda' or 'cuda:N'."""
    epochs: int | None = None
    """Epochs (one rollout and one update each); None: the YAML's max_epochs."""
    seed: int = 42
    """Seeds torch, numpy and the env (rl_games passes it to the env)."""
    config: Path = Path(__file__).with_name("rl_games_ppo.yaml")
    """The rl_games YAML config."""
    train_dir: str = "runs/rl_games"
    """Root folder of rl_games' summaries and checkpoints."""
    torch_compile: bool | None = None
    """Compile the networks with torch.compile; None: the YAML's setting."""


def make_params(args: Args) -> dict:
    """The YAML's ``params`` with the command line's settings written in."""
    params = copy.deepcopy(yaml.safe_load(args.config.read_text())["params"])
    params["seed"] = args.seed
    config = params["config"]
    config["name"] = args.task
    config["env_name"] = "warplab"
    config["env_config"] = {**config.get("env_config", {}), "task": args.task, "device": args.device}
    config["num_actors"] = args.num_envs
    config["device"] = config["device_name"] = args.device
    config["train_dir"] = args.train_dir
    if args.epochs is not None:
        config["max_epochs"] = args.epochs
    if args.torch_compile is not None:
        config["torch_compile"] = args.torch_compile
    return params


def main(args: Args) -> Runner:
    """Trains as ``args`` say; returns the runner (its ``algo_observer.last_stats`` holds the last
    epoch's warplab episode statistics)."""
    register()
    runner = Runner(algo_observer=RlGamesObserver())
    runner.load({"params": make_params(args)})
    start = time.perf_counter()
    runner.run({"train": True, "play": False})
    print(
        f"rl_games: trained {args.task} with {args.num_envs} worlds on {args.device} in {time.perf_counter() - start:.1f} s"
    )
    return runner


if __name__ == "__main__":
    main(tyro.cli(Args))
