"""The environment contract the learning layer trains against (docs/training.md explains it)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class VecEnv(Protocol):
    """A batch of ``num_envs`` worlds stepped together; every tensor lives on ``device``.

    Optional members the runner uses when present: ``rng`` (a `torch.Generator` the env draws
    all its randomness from), and ``get_state() -> dict`` / ``set_state(dict)`` (everything that
    decides future steps, as tensors and plain values that load with ``weights_only=True``).
    """

    num_envs: int
    """Number of worlds N."""
    device: torch.device
    """Device of every tensor the env takes and returns."""
    action_dim: int
    """Number of actions A."""
    observation_shapes: dict[str, tuple[int, ...]]
    """Shape of one world's observation per group: always "policy", optionally "critic"."""
    policy_dt: float
    """Time between two policy steps, s."""
    max_episode_length: int
    """Policy steps before a time-out."""
    cfg: Any
    """The env's config dataclass (saved as plain values; anything else as its repr)."""

    def reset(self, seed: int | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Reset every world; returns ``obs {group: [N, *shape]}`` and an info dict."""
        ...

    def step(
        self, action: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """Advance one policy step with ``action [N, A]``.

        Returns ``obs``, ``reward [N] float32``, ``terminated [N] bool``, ``truncated [N] bool`` and
        ``info`` with ``info["final_obs"]``: the terminal observation of the worlds that finished
        (which are already reset, so ``obs`` starts their next episode), ``obs`` in other rows.
        """
        ...

    def pop_episode_stats(self) -> dict[str, float]:
        """Means over the episodes finished since the last call (one host sync); ``{}`` if none."""
        ...
