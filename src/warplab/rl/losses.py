"""PPO loss terms and the Gaussian KL divergence, as pure functions."""

from __future__ import annotations

from typing import NamedTuple

import torch


class PpoLossTerms(NamedTuple):
    """Scalar (0-d) tensors of one mini-batch; only `total` carries the gradient that matters."""

    total: torch.Tensor
    """surrogate + value_loss_coef * value - entropy_coef * entropy."""
    surrogate: torch.Tensor
    """Clipped surrogate loss (to minimize)."""
    value: torch.Tensor
    """Mean squared error of the value (clipped form when asked), no factor 1/2."""
    entropy: torch.Tensor
    """Mean entropy of the policy, nats."""
    clip_fraction: torch.Tensor
    """Fraction of samples whose ratio left [1 - clip, 1 + clip]."""


def ppo_losses(
    log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantages: torch.Tensor,
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    entropy: torch.Tensor,
    clip_param: float,
    clipped_value_loss: bool,
    value_loss_coef: float,
    entropy_coef: float,
) -> PpoLossTerms:
    """PPO's clipped surrogate, value loss and entropy bonus over a mini-batch.

    Args:
        log_prob: [B] log-probability of the rollout's actions under the current policy.
        old_log_prob: [B] the same under the rollout policy.
        advantages: [B] advantages (already normalized if wanted).
        values: [B] current critic values.
        old_values: [B] critic values at rollout time.
        returns: [B] value targets.
        entropy: [B] entropy of the current policy.
        clip_param: clip range epsilon of the ratio and of the value change.
        clipped_value_loss: take the worse of the plain and the clipped value error.
        value_loss_coef, entropy_coef: weights in `total`.
    """
    ratio = torch.exp(log_prob - old_log_prob)
    # Pessimistic bound: the larger loss of the unclipped and clipped objectives.
    surrogate = torch.maximum(
        -advantages * ratio, -advantages * torch.clamp(ratio, 1.0 - clip_param, 1.0 + clip_param)
    ).mean()
    if clipped_value_loss:
        values_clipped = old_values + torch.clamp(values - old_values, -clip_param, clip_param)
        value = torch.maximum((values - returns).square(), (values_clipped - returns).square()).mean()
    else:
        value = (values - returns).square().mean()
    entropy_mean = entropy.mean()
    total = surrogate + value_loss_coef * value - entropy_coef * entropy_mean
    clip_fraction = ((ratio - 1.0).abs() > clip_param).float().mean()
    return PpoLossTerms(total, surrogate, value, entropy_mean, clip_fraction.detach())


def gaussian_kl(
    old_mean: torch.Tensor, old_std: torch.Tensor, new_mean: torch.Tensor, new_std: torch.Tensor
) -> torch.Tensor:
    """KL(old || new) between independent normals, ``[B, A]`` inputs. Returns: [B], summed over actions."""
    return (
        torch.log(new_std / old_std)
        + (old_std.square() + (old_mean - new_mean).square()) / (2.0 * new_std.square())
        - 0.5
    ).sum(dim=-1)
