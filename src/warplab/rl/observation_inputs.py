"""The observation side of warplab's actor-critics: which group each network reads, and the
normalizer in front of each reader."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from warplab.rl.normalizer import EmpiricalNormalizer


class ObservationInputs(nn.Module):
    """The inputs of an actor and a critic over grouped observations (PPO's `ActorCritic` and the
    off-policy `OffPolicyActorCritic` both build on it).

    The actor reads the ``"policy"`` group; the critic reads ``"critic"`` when the env provides it
    (an asymmetric critic, e.g. with privileged state) and ``"policy"`` otherwise. Groups with more
    than one dimension (a history, say) are flattened. Each reader has its own running normalizer
    (`nn.Identity` when off). The attribute names ``actor_obs_normalizer`` and
    ``critic_obs_normalizer`` are part of the checkpoint format (their buffers are saved under them).

    Args:
        obs_shapes: shape of one world's observation per group, e.g. ``{"policy": (4,)}``.

    Raises:
        ValueError: the env gives no ``"policy"`` group.
    """

    actor_obs_normalizer: nn.Module
    """The actor's input normalizer (set by `add_normalizers`)."""
    critic_obs_normalizer: nn.Module
    """The critic's input normalizer (set by `add_normalizers`)."""

    def __init__(self, obs_shapes: Mapping[str, Sequence[int]]) -> None:
        super().__init__()
        if "policy" not in obs_shapes:
            raise ValueError(
                f"the env must provide a 'policy' observation group, got groups {sorted(obs_shapes)}"
            )
        self.obs_shapes = {name: tuple(int(d) for d in shape) for name, shape in obs_shapes.items()}
        self.critic_group = "critic" if "critic" in obs_shapes else "policy"
        self.actor_in = math.prod(self.obs_shapes["policy"])
        """Width of the flattened ``policy`` group."""
        self.critic_in = math.prod(self.obs_shapes[self.critic_group])
        """Width of the flattened group the critic reads."""

    def add_normalizers(self, normalize_actor: bool, normalize_critic: bool, obs_clip: float) -> None:
        """Put a running normalizer in front of the actor and/or the critic (`nn.Identity` where
        off); normalized inputs are clamped to [-obs_clip, obs_clip] standard deviations.

        A subclass calls this after building its networks, so that its checkpoints list the layers
        before the normalizers' statistics (messages about a checkpoint name the first that differs).
        """
        self.actor_obs_normalizer = (
            EmpiricalNormalizer(self.actor_in, clip=obs_clip) if normalize_actor else nn.Identity()
        )
        self.critic_obs_normalizer = (
            EmpiricalNormalizer(self.critic_in, clip=obs_clip) if normalize_critic else nn.Identity()
        )

    def actor_input(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[B, actor_in] normalized, flattened ``policy`` group."""
        return self.actor_obs_normalizer(obs["policy"].flatten(1))

    def critic_input(self, obs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[B, critic_in] normalized, flattened ``critic`` group (or ``policy``)."""
        return self.critic_obs_normalizer(obs[self.critic_group].flatten(1))

    @torch.no_grad()
    def update_normalizers(self, obs: Mapping[str, torch.Tensor], all_ranks: bool = False) -> None:
        """Merge a batch of raw observations ``{group: [B, *shape]}`` into the input statistics; with
        ``all_ranks``, every rank's batch together (`EmpiricalNormalizer.update`)."""
        if isinstance(self.actor_obs_normalizer, EmpiricalNormalizer):
            self.actor_obs_normalizer.update(obs["policy"].flatten(1), all_ranks=all_ranks)
        if isinstance(self.critic_obs_normalizer, EmpiricalNormalizer):
            self.critic_obs_normalizer.update(obs[self.critic_group].flatten(1), all_ranks=all_ranks)
