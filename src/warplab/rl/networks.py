"""Actor-critic networks: a Gaussian MLP actor and an MLP value function."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from warplab.rl.config import PolicyCfg
from warplab.rl.observation_inputs import ObservationInputs

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "elu": nn.ELU,
    "selu": nn.SELU,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softsign": nn.Softsign,
}

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def make_mlp(
    in_dim: int, hidden_dims: Sequence[int], out_dim: int, activation: str, out_gain: float
) -> nn.Sequential:
    """An MLP ``in_dim -> hidden_dims... -> out_dim`` with `activation` after each hidden layer.

    Linear layers sit at even indices (``0, 2, ...``), so their parameters are named
    ``0.weight``, ``2.weight``... Weights start orthogonal with gain sqrt(2) in hidden layers and
    `out_gain` in the last one, biases at zero: a small `out_gain` keeps the first actions near
    zero and the first value estimates near zero whatever the input scale.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    dims = [in_dim, *hidden_dims]
    for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Linear(d_in, d_out), _ACTIVATIONS[activation]()]
    layers.append(nn.Linear(dims[-1], out_dim))
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain=out_gain if i == len(layers) - 1 else math.sqrt(2.0))
            nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


def gaussian_log_prob(actions: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """Log-density of ``actions [B, A]`` under independent normals ``(mean [B, A], std [B, A] or [A])``.

    Returns: [B], summed over the action dimensions.
    """
    z = (actions - mean) / std
    return (-0.5 * z.square() - torch.log(std) - _LOG_SQRT_2PI).sum(dim=-1)


def gaussian_entropy(std: torch.Tensor) -> torch.Tensor:
    """Entropy of independent normals with ``std [B, A]``, summed over actions. Returns: [B], nats."""
    return (0.5 + _LOG_SQRT_2PI + torch.log(std)).sum(dim=-1)


class ActorCritic(ObservationInputs):
    """Gaussian policy and value function over grouped observations.

    The actor reads the ``"policy"`` group; the critic reads ``"critic"`` when the env provides it
    (an asymmetric critic, e.g. with privileged state) and ``"policy"`` otherwise. Groups with more
    than one dimension (a history, say) are flattened. Each network has its own input normalizer
    (`nn.Identity` when normalization is off). The action noise has a state-independent log-std
    parameter ``log_std [A]``, so the std stays positive whatever the optimizer does.

    Args:
        obs_shapes: shape of one world's observation per group, e.g. ``{"policy": (4,)}``.
        action_dim: number of actions A.
        cfg: network settings.
    """

    def __init__(self, obs_shapes: Mapping[str, Sequence[int]], action_dim: int, cfg: PolicyCfg) -> None:
        super().__init__(obs_shapes)
        self.action_dim = int(action_dim)
        self.actor = make_mlp(
            self.actor_in, cfg.actor_hidden_dims, self.action_dim, cfg.activation, out_gain=0.01
        )
        self.critic = make_mlp(self.critic_in, cfg.critic_hidden_dims, 1, cfg.activation, out_gain=1.0)
        self.log_std = nn.Parameter(torch.full((self.action_dim,), math.log(cfg.init_noise_std)))
        self.add_normalizers(cfg.actor_obs_normalization, cfg.critic_obs_normalization, cfg.obs_clip)

    # Actor ----------------------------------------------------------------------------------------

    @property
    def action_std(self) -> torch.Tensor:
        """[A] standard deviation of the action noise, in action units."""
        return self.log_std.exp()

    def action_distribution(self, obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean [B, A] and std [B, A] of the Gaussian policy."""
        mean = self.actor(self.actor_input(obs))
        return mean, self.action_std.expand_as(mean)

    def act(
        self, obs: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample actions for a rollout, using torch's default generator of the device.

        Returns: actions [B, A], their log-probability [B], the mean [B, A] and std [B, A].
        """
        mean, std = self.action_distribution(obs)
        actions = mean + std * torch.randn_like(mean)
        return actions, gaussian_log_prob(actions, mean, std), mean, std

    def act_inference(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[B, A] deterministic actions (the mean), for evaluation and deployment."""
        return self.actor(self.actor_input(obs))

    def inference_actor(self) -> nn.Module:
        """The deterministic policy as one module: raw flattened ``policy`` observations [B, D] ->
        mean actions [B, A] (normalizer, then MLP), sharing this model's parameters: what ONNX
        export writes (`OffPolicyActorCritic.inference_actor` is its off-policy twin)."""
        return nn.Sequential(self.actor_obs_normalizer, self.actor)

    def log_prob_entropy(
        self, obs: Mapping[str, torch.Tensor], actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Log-probability [B] of ``actions [B, A]``, entropy [B], mean [B, A] and std [B, A]."""
        mean, std = self.action_distribution(obs)
        return gaussian_log_prob(actions, mean, std), gaussian_entropy(std), mean, std

    # Critic ---------------------------------------------------------------------------------------

    def evaluate(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[B] value estimates, in discounted reward units."""
        return self.critic(self.critic_input(obs)).squeeze(-1)
