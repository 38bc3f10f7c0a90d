"""Train a warplab task with skrl's PPO and ``SequentialTrainer``.

    pip install "warplab[integrations]"
    python examples/skrl_ppo.py --task cartpole-balance --num-envs 16 --device cpu --timesteps 1000
    python examples/skrl_ppo.py --task cartpole-balance --num-envs 4096 --device cuda --timesteps 3200

``timesteps`` counts policy steps of every world together (skrl's convention): 1000 timesteps of
16 worlds are 16,000 env steps. The settings follow warplab's own for cartpole-balance: rollouts
of 32 steps, 5 epochs of 4 mini-batches, an adaptive learning rate, a 32x32 ELU actor and critic,
running observation normalization, and time-outs bootstrapped from the terminal observation
(``FinalObsPPO``). Logs and checkpoints go to ``<log-dir>/<task>_<date-time>``.
"""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass

import torch
import tyro
from skrl.memories.torch import RandomMemory
from skrl.models.torch import DeterministicMixin, GaussianMixin, Model
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.resources.schedulers.torch import KLAdaptiveLR
from skrl.trainers.torch import SequentialTrainer

import warplab
from warplab.integrations.skrl import FinalObsPPO, SkrlVecEnv


@dataclass
class Args:
    """skrl's PPO on a warplab task."""

    task: str = "cartpole-balance"
    """Registered warplab task (`warplab list` names them)."""
    num_envs: int = 16
    """Worlds simulated together."""
    device: str = "cpu"
    """Where the worlds and the networks live: 'cpu', 'cuda', 'cuda:N' or 'auto'."""
    timesteps: int = 1000
    """Policy steps of all worlds together (one update every `rollouts` of them)."""
    rollouts: int = 32
    """Steps per world between two updates."""
    learning_rate: float = 3e-3
    """Initial Adam learning rate (then adapted to keep the KL near 0.01)."""
    hidden_dims: tuple[int, ...] = (32, 32)
    """Widths of the hidden layers of the actor and of the critic."""
    init_std: float = 0.5
    """Initial action noise, in action units."""
    seed: int = 42
    """Seeds torch (weights, action noise, mini-batches) and the env."""
    log_dir: str = "runs/skrl"
    """Root folder of skrl's TensorBoard logs and checkpoints."""


def mlp(inputs: int, hidden_dims: tuple[int, ...], outputs: int) -> torch.nn.Sequential:
    layers, width = [], inputs
    for hidden in hidden_dims:
        layers += [torch.nn.Linear(width, hidden), torch.nn.ELU()]
        width = hidden
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, outputs))


class Policy(GaussianMixin, Model):
    """Gaussian actor on the observations, with a state-independent log-std."""

    def __init__(self, observation_space, action_space, device, hidden_dims, init_std):
        Model.__init__(self, observation_space=observation_space, action_space=action_space, device=device)
        GaussianMixin.__init__(self, clip_actions=False, role="policy")
        self.net = mlp(self.num_observations, hidden_dims, self.num_actions)
        self.log_std = torch.nn.Parameter(torch.full((self.num_actions,), math.log(init_std)))

    def compute(self, inputs, role=""):
        return self.net(inputs["observations"]), {"log_std": self.log_std}


class Value(DeterministicMixin, Model):
    """Critic on the states (the task's "critic" group) where the env has them, else the observations."""

    def __init__(self, observation_space, state_space, device, hidden_dims):
        Model.__init__(self, observation_space=observation_space, state_space=state_space, device=device)
        DeterministicMixin.__init__(self, clip_actions=False, role="value")
        self.key = "states" if state_space is not None else "observations"
        width = self.num_states if state_space is not None else self.num_observations
        self.net = mlp(width, hidden_dims, 1)

    def compute(self, inputs, role=""):
        return self.net(inputs[self.key]), {}


def make_agent(env: SkrlVecEnv, args: Args, **cfg_overrides) -> FinalObsPPO:
    """The PPO agent, its models and its rollout memory, sized for ``env``; ``cfg_overrides``
    replace entries of skrl's PPO config (``learning_epochs=5``, ``entropy_loss_scale=0.01``)."""
    device = env.device
    models = {
        "policy": Policy(env.observation_space, env.action_space, device, args.hidden_dims, args.init_std),
        "value": Value(env.observation_space, env.state_space, device, args.hidden_dims),
    }
    memory = RandomMemory(memory_size=args.rollouts, num_envs=env.num_envs, device=device)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    cfg = {
        "rollouts": args.rollouts,
        "learning_epochs": 5,
        "mini_batches": 4,
        "discount_factor": 0.99,
        "gae_lambda": 0.95,
        "learning_rate": args.learning_rate,
        "learning_rate_scheduler": KLAdaptiveLR,
        "learning_rate_scheduler_kwargs": {"kl_threshold": 0.01, "min_lr": 1e-5, "max_lr": 1e-2},
        "observation_preprocessor": RunningStandardScaler,
        "observation_preprocessor_kwargs": {"size": env.observation_space, "device": device},
        "grad_norm_clip": 1.0,
        "ratio_clip": 0.2,
        "value_clip": 0.2,
        "entropy_loss_scale": 0.0,
        "value_loss_scale": 1.0,
        "time_limit_bootstrap": True,  # time-outs bootstrap (from the terminal observation: FinalObsPPO)
        "experiment": {"directory": args.log_dir, "experiment_name": f"{args.task}_{stamp}"},
    }
    if env.state_space is not None:
        cfg["state_preprocessor"] = RunningStandardScaler
        cfg["state_preprocessor_kwargs"] = {"size": env.state_space, "device": device}
    cfg.update(cfg_overrides)
    return FinalObsPPO(
        models=models,
        memory=memory,
        observation_space=env.observation_space,
        state_space=env.state_space,
        action_space=env.action_space,
        device=device,
        cfg=cfg,
    )


def main(args: Args) -> FinalObsPPO:
    """Trains as ``args`` say; returns the agent."""
    torch.manual_seed(args.seed)
    env = SkrlVecEnv(
        warplab.make(args.task, num_envs=args.num_envs, device=args.device, seed=args.seed),
        log_interval=args.rollouts,  # one read of the episode statistics per update
    )
    agent = make_agent(env, args)
    trainer = SequentialTrainer(
        env=env,
        agents=agent,
        cfg={"timesteps": args.timesteps, "headless": True, "close_environment_at_exit": False},
    )
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    env.close()
    steps = args.timesteps * args.num_envs
    print(
        f"skrl: {steps} env steps in {seconds:.1f} s ({steps / seconds:.0f} steps/s, {env.device}); "
        f"logs in {agent.experiment_dir}"
    )
    return agent


if __name__ == "__main__":
    main(tyro.cli(Args))
