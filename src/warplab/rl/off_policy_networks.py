"""Off-policy networks (SAC, TD3): a squashed actor and an ensemble of critics with frozen targets.

The critics of an ensemble are independent networks of the same shape whose weights are stacked,
``[C, in, out]`` per layer, so that all C are evaluated by one batched matmul per layer instead of
C small ones: at a batch of 8,192 the critics are most of the update's arithmetic.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from warplab.rl.config import SacCfg, SacPolicyCfg
from warplab.rl.networks import _ACTIVATIONS
from warplab.rl.observation_inputs import ObservationInputs

_OUT_GAIN = 0.01
"""Orthogonal gain of the last layers: the first actions are near 0 (the middle of the range), the
first Q-values near 0 and the first C51 distributions near uniform, whatever the input's scale."""


def make_trunk(in_dim: int, hidden_dims: Sequence[int], activation: str, layer_norm: bool) -> nn.Sequential:
    """Hidden layers ``in_dim -> hidden_dims...``: Linear, LayerNorm (when `layer_norm`), activation.

    Weights start orthogonal with gain sqrt(2), biases at zero. Output: [B, hidden_dims[-1]].
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    for d_in, d_out in zip([in_dim, *hidden_dims[:-1]], hidden_dims, strict=True):
        linear = nn.Linear(d_in, d_out)
        nn.init.orthogonal_(linear.weight, gain=math.sqrt(2.0))
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if layer_norm:
            layers.append(nn.LayerNorm(d_out))
        layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class EnsembleLinear(nn.Module):
    """C independent linear layers: ``y[c] = x[c] @ weight[c] + bias[c]``.

    Args:
        num_members: C.
        in_dim, out_dim: sizes of one member's input and output.
        gain: orthogonal gain of each member's weights (each member is initialized on its own).
    """

    def __init__(self, num_members: int, in_dim: int, out_dim: int, gain: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_members, in_dim, out_dim))
        """[C, in, out] (transposed from nn.Linear's [out, in], so that x @ weight needs no copy)."""
        self.bias = nn.Parameter(torch.zeros(num_members, 1, out_dim))
        """[C, 1, out]."""
        with torch.no_grad():
            for member in self.weight:
                nn.init.orthogonal_(member.T, gain=gain)

    def forward(self, x: torch.Tensor, detach_params: bool = False) -> torch.Tensor:
        """``x`` [C, B, in], or [B, in] shared by every member -> [C, B, out].

        With `detach_params` the parameters enter as constants: gradients flow to `x` only (the
        actor's loss differentiates the critics with respect to the action, not their weights).
        """
        weight, bias = (
            (self.weight.detach(), self.bias.detach()) if detach_params else (self.weight, self.bias)
        )
        if x.dim() == 2:
            return torch.matmul(x, weight) + bias
        return torch.baddbmm(bias, x, weight)


class EnsembleLayerNorm(nn.Module):
    """Layer normalization over the last dimension with a separate affine map per member."""

    def __init__(self, num_members: int, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_members, 1, dim))
        """[C, 1, dim] scale."""
        self.bias = nn.Parameter(torch.zeros(num_members, 1, dim))
        """[C, 1, dim] shift."""

    def forward(self, x: torch.Tensor, detach_params: bool = False) -> torch.Tensor:
        """``x`` [C, B, dim] -> [C, B, dim]."""
        weight, bias = (
            (self.weight.detach(), self.bias.detach()) if detach_params else (self.weight, self.bias)
        )
        return F.layer_norm(x, x.shape[-1:], eps=self.eps) * weight + bias


class CriticEnsemble(nn.Module):
    """C critics ``Q_c(s, a)``, each an MLP of the same shape, evaluated together.

    Args:
        num_members: C.
        in_dim: size of one input row (the critic's observation and the action, concatenated).
        hidden_dims: hidden widths of each member.
        out_dim: 1 for a scalar Q-value, K for the logits of a C51 distribution.
        activation: name of the activation (see `warplab.rl.config.ACTIVATIONS`).
        layer_norm: a layer norm after each hidden linear layer.
    """

    def __init__(
        self,
        num_members: int,
        in_dim: int,
        hidden_dims: Sequence[int],
        out_dim: int,
        activation: str,
        layer_norm: bool,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.num_members = num_members
        self.out_dim = out_dim
        dims = [in_dim, *hidden_dims]
        self.linears = nn.ModuleList(
            EnsembleLinear(num_members, d_in, d_out, math.sqrt(2.0))
            for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)
        )
        self.norms = (
            nn.ModuleList(EnsembleLayerNorm(num_members, d) for d in hidden_dims) if layer_norm else None
        )
        self.activation = _ACTIVATIONS[activation]()
        self.head = EnsembleLinear(num_members, dims[-1], out_dim, _OUT_GAIN)

    def forward(self, x: torch.Tensor, detach_params: bool = False) -> torch.Tensor:
        """``x`` [B, in] -> [C, B] Q-values (out_dim 1) or [C, B, K] logits."""
        for i, linear in enumerate(self.linears):
            x = linear(x, detach_params)
            if self.norms is not None:
                x = self.norms[i](x, detach_params)
            x = self.activation(x)
        out = self.head(x, detach_params)
        return out.squeeze(-1) if self.out_dim == 1 else out


class SquashedActor(nn.Module):
    """Raw flattened policy observations [B, D] -> actions [B, A] = scale * tanh(mean): the
    deterministic policy, normalizer included (what ONNX export writes and a robot runs)."""

    def __init__(self, normalizer: nn.Module, trunk: nn.Module, mean: nn.Module, scale: float) -> None:
        super().__init__()
        self.normalizer = normalizer
        self.trunk = trunk
        self.mean = mean
        self.scale = float(scale)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.tanh(self.mean(self.trunk(self.normalizer(obs))))


class OffPolicyActorCritic(ObservationInputs):
    """Actor, critic ensemble and target critics of SAC (squashed Gaussian actor) or TD3
    (deterministic actor), over grouped observations.

    The actor reads the ``"policy"`` group; the critics read ``"critic"`` when the env provides it
    (an asymmetric critic) and ``"policy"`` otherwise, followed by the action. Groups with more than
    one dimension are flattened. Each reader has its own normalizer (`nn.Identity` when off). The
    target critics are a copy of the critics that no optimizer sees (``requires_grad`` off); they
    move only by Polyak averaging (`SAC.update`).

    Actions are ``action_scale * tanh(u)``: SAC draws ``u ~ N(mean, exp(log_std))`` with
    ``log_std`` in [log_std_min, log_std_max]; TD3's ``u`` is the mean, and exploration adds
    Gaussian noise to the squashed action.

    Args:
        obs_shapes: shape of one world's observation per group, e.g. ``{"policy": (4,)}``.
        action_dim: A.
        cfg: network settings.
        sac: the algorithm's settings (critic count, C51 atoms, TD3's exploration noise).
        deterministic: True for TD3's deterministic actor, False for SAC's Gaussian one.
    """

    def __init__(
        self,
        obs_shapes: Mapping[str, Sequence[int]],
        action_dim: int,
        cfg: SacPolicyCfg,
        sac: SacCfg,
        deterministic: bool,
    ) -> None:
        super().__init__(obs_shapes)
        self.action_dim = int(action_dim)
        self.deterministic = bool(deterministic)
        self.action_scale = float(cfg.action_scale)
        self.log_std_min = float(cfg.log_std_min)
        self.log_std_max = float(cfg.log_std_max)
        self.exploration_noise_std = float(sac.exploration_noise_std)
        actor_in, critic_in = self.actor_in, self.critic_in

        self.actor_trunk = make_trunk(actor_in, cfg.actor_hidden_dims, cfg.activation, cfg.layer_norm)
        self.actor_mean = nn.Linear(cfg.actor_hidden_dims[-1], self.action_dim)
        nn.init.orthogonal_(self.actor_mean.weight, gain=_OUT_GAIN)
        nn.init.zeros_(self.actor_mean.bias)
        self.actor_log_std: nn.Linear | None = None
        if not self.deterministic:
            # Starts near the middle of [log_std_min, log_std_max] (see `log_std`).
            self.actor_log_std = nn.Linear(cfg.actor_hidden_dims[-1], self.action_dim)
            nn.init.orthogonal_(self.actor_log_std.weight, gain=_OUT_GAIN)
            nn.init.zeros_(self.actor_log_std.bias)

        self.num_critics = int(sac.num_critics)
        self.num_atoms = int(sac.num_atoms) if sac.distributional else 1
        self.critic = CriticEnsemble(
            self.num_critics,
            critic_in + self.action_dim,
            cfg.critic_hidden_dims,
            self.num_atoms,
            cfg.activation,
            cfg.layer_norm,
        )
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        self.add_normalizers(cfg.actor_obs_normalization, cfg.critic_obs_normalization, cfg.obs_clip)

    # Actor ----------------------------------------------------------------------------------------

    def actor_forward(self, actor_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Mean [B, A] of ``u`` (before the squashing) and its log std [B, A] (None for TD3)."""
        features = self.actor_trunk(actor_in)
        mean = self.actor_mean(features)
        if self.actor_log_std is None:
            return mean, None
        # tanh maps the raw output onto (log_std_min, log_std_max) smoothly: a clamp would stop
        # the gradient at the bounds and let the raw output wander off.
        squashed = torch.tanh(self.actor_log_std(features))
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (squashed + 1.0)
        return mean, log_std

    def act(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[B, A] exploration actions, from torch's default generator of the device.

        SAC: ``scale * tanh(mean + std * noise)``. TD3: ``scale * tanh(mean)`` plus Gaussian noise
        of std ``exploration_noise_std * scale``, clipped to [-scale, scale].
        """
        mean, log_std = self.actor_forward(self.actor_input(obs))
        noise = torch.randn_like(mean)
        if log_std is None:
            actions = (
                self.action_scale * torch.tanh(mean) + self.exploration_noise_std * self.action_scale * noise
            )
            return actions.clamp(-self.action_scale, self.action_scale)
        return self.action_scale * torch.tanh(mean + log_std.exp() * noise)

    def act_inference(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[B, A] deterministic actions ``scale * tanh(mean)``, for evaluation and deployment."""
        mean, _ = self.actor_forward(self.actor_input(obs))
        return self.action_scale * torch.tanh(mean)

    def inference_actor(self) -> nn.Module:
        """The deterministic policy as one module: raw flattened ``policy`` observations [B, D] ->
        actions [B, A] (normalizer, MLP, squashing). It shares this model's parameters."""
        return SquashedActor(self.actor_obs_normalizer, self.actor_trunk, self.actor_mean, self.action_scale)

    # Critics --------------------------------------------------------------------------------------

    def critic_values(
        self,
        critic_in: torch.Tensor,
        actions: torch.Tensor,
        target: bool = False,
        detach_params: bool = False,
    ) -> torch.Tensor:
        """Q of normalized critic inputs [B, critic_in] and actions [B, A], in the env's action units.

        Returns: [C, B] Q-values, or [C, B, K] C51 logits when the critics are distributional.
        `target` evaluates the target critics; `detach_params` keeps the critics' weights out of
        the gradient (the actor's loss). The critics see the action divided by action_scale, in
        [-1, 1] whatever the scale.
        """
        network = self.target_critic if target else self.critic
        return network(torch.cat([critic_in, actions / self.action_scale], dim=-1), detach_params)
