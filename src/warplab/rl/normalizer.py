"""Running mean and variance of observations, used to normalize network inputs."""

from __future__ import annotations

import torch
from torch import nn

from warplab.rl import distributed

SAMPLE_BOUND = 1e18
"""Largest magnitude a sample enters the statistics with (see ``EmpiricalNormalizer.update``)."""


class EmpiricalNormalizer(nn.Module):
    """Normalize inputs with the mean and variance of every sample seen so far.

    Batches are merged with Chan et al.'s parallel form of Welford's algorithm, so the statistics
    equal those of all batches concatenated (up to float32 rounding) without keeping them.
    Statistics change only in `update`; `forward` never changes them, so the same input gives the
    same output between two updates (PPO relies on this: see `OnPolicyRunner`).

    Args:
        shape: shape of one sample, e.g. ``(obs_dim,)``.
        epsilon: added to the variance before the square root, so a constant input (variance 0)
            is divided by sqrt(epsilon) instead of 0.
        clip: the normalized value is clamped to [-clip, clip], in standard deviations.
    """

    # Buffers registered in __init__, declared here so a type checker reads them as tensors (the
    # Module's attribute lookup would otherwise type them as "Tensor | Module").
    mean: torch.Tensor
    """[*shape] running mean."""
    var: torch.Tensor
    """[*shape] running population variance."""
    count: torch.Tensor
    """[] int64 number of samples merged so far."""

    def __init__(self, shape: tuple[int, ...] | int, epsilon: float = 1e-4, clip: float = 5.0) -> None:
        super().__init__()
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        self.epsilon = float(epsilon)
        self.clip = float(clip)
        self.register_buffer("mean", torch.zeros(shape, dtype=torch.float32))
        self.register_buffer("var", torch.ones(shape, dtype=torch.float32))
        # The count stays an integer tensor on the device: a float32 count stops growing by small
        # batches past 2**24 samples, and a Python int would need a host sync to stay exact here.
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    @property
    def std(self) -> torch.Tensor:
        """[*shape] standard deviation used by `forward` (including epsilon)."""
        return torch.sqrt(self.var + self.epsilon)

    @torch.no_grad()
    def update(self, x: torch.Tensor, all_ranks: bool = False) -> None:
        """Merge a batch ``x [B, *shape]`` into the statistics (population variance).

        With ``all_ranks`` (data-parallel training, `warplab.rl.distributed`) every rank must call this
        together: the batches of all ranks are merged as one, so the statistics stay the same on every
        rank. Without a process group it is the plain update.
        """
        # Clamped so that every square below stays finite in float32 (whose largest value is about
        # 3.4e38 = (1.8e19)^2): a finite but absurd observation (a position scaled by 1e30) would
        # overflow the variance to inf and then make NaN of inf * 0, poisoning every later input.
        # No observation of a physical quantity comes near this bound.
        x = x.reshape(-1, *self.mean.shape).to(torch.float32).clamp(-SAMPLE_BOUND, SAMPLE_BOUND)
        batch_count: int | torch.Tensor = x.shape[0]
        if all_ranks and distributed.is_distributed():
            # Every rank takes part, an empty batch included, or the others would wait forever.
            batch_count, batch_mean, batch_var = distributed.pooled_moments(
                x.shape[0], x.mean(dim=0), x.var(dim=0, unbiased=False)
            )
        elif batch_count == 0:
            return
        else:
            batch_mean = x.mean(dim=0)
            batch_var = x.var(dim=0, unbiased=False)
        total = self.count + batch_count
        # Fraction of the merged sample that is new; int64 / int64 gives float32 on the device.
        new_fraction = batch_count / total
        delta = batch_mean - self.mean
        new_mean = self.mean + delta * new_fraction
        # M2_total = M2_old + M2_batch + delta^2 * n_old * n_batch / n_total, divided by n_total.
        new_var = (
            self.var * (1.0 - new_fraction)
            + batch_var * new_fraction
            + delta.square() * new_fraction * (1.0 - new_fraction)
        )
        self.mean.copy_(new_mean)
        self.var.copy_(new_var)
        self.count.copy_(total)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``clamp((x - mean) / sqrt(var + epsilon), -clip, clip)``, same shape as ``x [..., *shape]``."""
        return torch.clamp((x - self.mean) / self.std, -self.clip, self.clip)

    def extra_repr(self) -> str:
        return f"shape={tuple(self.mean.shape)}, epsilon={self.epsilon}, clip={self.clip}"
