"""Losses and targets of SAC and TD3 (scalar and C51 distributional critics), as pure functions.

Shapes: B samples, A actions, C critics, K atoms. Nothing here holds state or syncs with the host;
targets come back detached (a target is never differentiated), and the parameters of
`polyak_update` change in place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

_LOG_2 = math.log(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# Squashed Gaussian policy ------------------------------------------------------------------------


def squashed_gaussian_sample(
    mean: torch.Tensor, log_std: torch.Tensor, noise: torch.Tensor, scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reparameterized action of a tanh-squashed Gaussian policy and its log-density.

    ``u = mean + exp(log_std) * noise`` and ``a = scale * tanh(u)``. By the change of variables
    ``log p(a) = log N(u; mean, std) - sum_j log(scale * (1 - tanh(u_j)^2))``, with
    ``log(1 - tanh(u)^2) = 2 * (log 2 - u - softplus(-2u))``, which stays finite and exact where
    ``1 - tanh(u)^2`` rounds to 0 in float32 (|u| above about 9).

    Args:
        mean: [B, A] mean of u.
        log_std: [B, A] log standard deviation of u.
        noise: [B, A] standard normal draws.
        scale: action scale (> 0), in the env's action units.

    Raises:
        ValueError: scale is not > 0.

    Returns:
        actions: [B, A] in (-scale, scale), differentiable in mean and log_std.
        log_prob: [B] log-density of the actions (the density of a, not u), nats.
    """
    if not scale > 0:
        raise ValueError(f"squashed_gaussian_sample scale must be > 0, got {scale}")
    u = mean + torch.exp(log_std) * noise
    gaussian = (-0.5 * noise.square() - log_std - _HALF_LOG_2PI).sum(dim=-1)
    log_abs_det = (math.log(scale) + 2.0 * (_LOG_2 - u - F.softplus(-2.0 * u))).sum(dim=-1)
    return scale * torch.tanh(u), gaussian - log_abs_det


def squashed_mode(mean: torch.Tensor, scale: float) -> torch.Tensor:
    """[B, A] deterministic action ``scale * tanh(mean)`` (evaluation, export)."""
    return scale * torch.tanh(mean)


# Scalar critics ------------------------------------------------------------------------------------


def soft_q_target(
    rewards: torch.Tensor,
    discounts: torch.Tensor,
    next_q: torch.Tensor,
    next_log_prob: torch.Tensor | None,
    alpha: torch.Tensor | float,
) -> torch.Tensor:
    """Clipped double-Q soft target ``r + discount * (min_c next_q - alpha * next_log_prob)`` (detached).

    Args:
        rewards: [B] n-step discounted rewards.
        discounts: [B] gamma^k, 0 after a termination.
        next_q: [C, B] target critics at the bootstrap observation and the policy's next action.
        next_log_prob: [B] log-density of that action; None for TD3 (no entropy term).
        alpha: temperature, a float or a 0-d tensor.

    Returns:
        [B] target, without gradient.
    """
    value = next_q.min(dim=0).values
    if next_log_prob is not None:
        value = value - alpha * next_log_prob
    return (rewards + discounts * value).detach()


def critic_loss(q: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared TD error ``(1/B) sum_b sum_c (q[c, b] - target[b])^2 / 2``, a 0-d tensor.

    Summed over critics so that each critic's gradient is that of its own loss (adding a critic
    does not shrink the others' steps); the target is detached.

    Args:
        q: [C, B] online critics at the sampled (obs, action).
        target: [B] from `soft_q_target`.
    """
    return 0.5 * (q - target.detach()).square().sum(dim=0).mean()


def actor_loss(q: torch.Tensor, log_prob: torch.Tensor | None, alpha: torch.Tensor | float) -> torch.Tensor:
    """Policy loss ``mean_b(alpha * log_prob[b] - mean_c q[c, b])``, a 0-d tensor (TD3: no log_prob term).

    The critics are averaged, not minimized: the minimum sends each sample's gradient through
    one critic only, and the pessimism it would add is already in the critics' targets
    (`soft_q_target` takes the minimum); the mean gives a smoother, lower-variance gradient.
    ``alpha`` is detached: the temperature learns from `temperature_loss` only.

    Args:
        q: [C, B] online critics at the sampled obs and the policy's fresh action.
        log_prob: [B] log-density of that action, or None (TD3).
        alpha: temperature, a float or a 0-d tensor.
    """
    loss = -q.mean(dim=0)
    if log_prob is not None:
        alpha = alpha.detach() if isinstance(alpha, torch.Tensor) else alpha
        loss = loss + alpha * log_prob
    return loss.mean()


def temperature_loss(log_alpha: torch.Tensor, log_prob: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """Temperature loss ``-mean_b(log_alpha * (log_prob[b] + target_entropy))``, a 0-d tensor.

    Its gradient in log_alpha is ``-mean(log_prob + target_entropy) = entropy - target_entropy``
    (entropy estimated by ``-log_prob``): gradient descent raises alpha while the entropy is below
    the target and lowers it while above. The log-probabilities are detached.

    Args:
        log_alpha: 0-d tensor, the learned log temperature.
        log_prob: [B] log-densities of fresh actions.
        target_entropy: entropy the policy should keep, nats (typically -A per action).
    """
    return -(log_alpha * (log_prob + target_entropy).detach()).mean()


# TD3 ---------------------------------------------------------------------------------------------


def td3_target_actions(
    actions: torch.Tensor,
    noise: torch.Tensor,
    noise_std: float | torch.Tensor,
    noise_clip: float,
    scale: float,
) -> torch.Tensor:
    """Target policy smoothing: ``clamp(actions + clamp(noise_std * noise, -noise_clip, noise_clip), -scale, scale)``.

    Args:
        actions: [B, A] target actor's actions, in the env's action units.
        noise: [B, A] standard normal draws.
        noise_std: standard deviation of the smoothing noise, in action units (a float, or a
            tensor broadcasting to [B, A]).
        noise_clip: bound of the noise, in action units.
        scale: action bound (the actor's ``scale``).

    Returns:
        [B, A] smoothed actions in [-scale, scale], detached.
    """
    smoothing = (noise * noise_std).clamp(-noise_clip, noise_clip)
    return (actions + smoothing).clamp(-scale, scale).detach()


# C51 distributional critics ----------------------------------------------------------------------


def categorical_support(
    v_min: float, v_max: float, num_atoms: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """[K] evenly spaced atoms from v_min to v_max, both included."""
    if not v_min < v_max:
        raise ValueError(f"categorical_support needs v_min < v_max, got v_min={v_min}, v_max={v_max}")
    if num_atoms < 2:
        raise ValueError(f"categorical_support needs num_atoms >= 2, got {num_atoms}")
    return torch.linspace(v_min, v_max, num_atoms, device=device)


def categorical_projection(
    next_probs: torch.Tensor, rewards: torch.Tensor, discounts: torch.Tensor, support: torch.Tensor
) -> torch.Tensor:
    """Project the distribution of ``r + discount * Z`` back onto the support (detached).

    Atom j of sample b moves to ``clamp(r[b] + discount[b] * z[j], v_min, v_max)``, at fractional
    position ``x = (that - v_min) / dz`` on the support; its probability is split between the two
    atoms around it, ``floor(x)`` getting ``1 - frac(x)`` and ``floor(x) + 1`` getting ``frac(x)``
    (all of it on the atom when x lands on one). A discount of 0 puts all mass at r. Mass is
    conserved: each row of the result sums to the row of next_probs. For SAC pass
    ``rewards - discounts * alpha * next_log_prob`` as the rewards.

    Args:
        next_probs: [B, K] target distribution at the bootstrap observation.
        rewards: [B] n-step rewards (with the entropy term folded in, for SAC).
        discounts: [B] gamma^k, 0 after a termination.
        support: [K] atoms from `categorical_support`.

    Returns:
        [B, K] projected target probabilities, without gradient.
    """
    num_atoms = support.shape[0]
    v_min, v_max = support[0], support[-1]
    delta = (v_max - v_min) / (num_atoms - 1)
    moved = (rewards[:, None] + discounts[:, None] * support[None, :]).clamp(v_min, v_max)
    position = (moved - v_min) / delta
    # The lower atom stays below the last one so that its upper neighbour exists; x = K - 1 then
    # puts weight 1 on the upper atom.
    lower = position.floor().clamp(0, num_atoms - 2)
    upper_weight = (position - lower).clamp(0.0, 1.0)
    probs = next_probs.detach()
    # Segment sums instead of a scatter-add: CUDA's scatter-add adds in whatever order its atomics
    # land, so the same batch could give targets differing in the last bit from run to run (and a
    # resumed run would not repeat the original). Moved atoms keep their order (discount >= 0), so
    # each row's lower atoms are non-decreasing and the mass landing on atom j comes from one
    # contiguous run of k: a difference of running sums, found by a search, all deterministic.
    lower_index = lower.long().contiguous()
    atoms = torch.arange(num_atoms, device=probs.device).expand_as(lower_index).contiguous()
    # ends[b, j]: how many of row b's atoms have a lower atom <= j.
    ends = torch.searchsorted(lower_index, atoms, right=True)
    zero = probs.new_zeros(probs.shape[0], 1)
    lower_sums = torch.cat([zero, torch.cumsum(probs * (1.0 - upper_weight), dim=1)], dim=1)
    upper_sums = torch.cat([zero, torch.cumsum(probs * upper_weight, dim=1)], dim=1)
    # Running sums up to each atom j: the mass that goes down to atoms <= j, and up from atoms <= j - 1.
    below = lower_sums.gather(1, ends)
    from_lower = torch.diff(below, dim=1, prepend=zero)
    above = upper_sums.gather(1, ends)
    from_upper = torch.cat([zero, torch.diff(above, dim=1, prepend=zero)[:, :-1]], dim=1)
    return from_lower + from_upper


def categorical_mean(probs: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """``[...]`` expected value ``sum_k probs[..., k] * support[k]`` of ``probs [..., K]``."""
    return (probs * support).sum(dim=-1)


def categorical_critic_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy ``(1/B) sum_b sum_c -sum_k target[b, k] * log_softmax(logits[c, b])[k]``, 0-d.

    Args:
        logits: [C, B, K] online critics' logits at the sampled (obs, action).
        target: [B, K] from `categorical_projection` (detached here).
    """
    return -(target.detach() * F.log_softmax(logits, dim=-1)).sum(dim=-1).sum(dim=0).mean()


def min_distribution(probs: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """[B, K] per sample, the distribution of the critic whose mean is smallest (clipped double Q).

    Args:
        probs: [C, B, K] critics' distributions.
        support: [K] atoms.
    """
    choice = categorical_mean(probs, support).argmin(dim=0)
    return probs.gather(0, choice[None, :, None].expand(1, *probs.shape[1:])).squeeze(0)


# Target networks ----------------------------------------------------------------------------------


def polyak_update(target: Sequence[torch.Tensor], online: Sequence[torch.Tensor], tau: float) -> None:
    """In place, ``target <- target + tau * (online - target)`` = ``(1 - tau) * target + tau * online``.

    One fused foreach kernel per dtype group (CUDA-graph safe: no allocation of new parameters,
    no host sync).

    Args:
        target: target parameters (changed in place, without autograd).
        online: online parameters of the same shapes, in the same order.
        tau: step of the average, in [0, 1].
    """
    if len(target) != len(online):
        raise ValueError(
            f"polyak_update needs as many target as online tensors, got {len(target)} and {len(online)}"
        )
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"polyak_update tau must be in [0, 1], got {tau}")
    with torch.no_grad():
        torch._foreach_lerp_(list(target), list(online), tau)
