"""Rollout storage: one iteration of experience, allocated once on the env's device."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

import torch

from warplab.rl.gae import compute_gae


class MiniBatch(NamedTuple):
    """One mini-batch of flattened rollout samples; B is about T * N / num_mini_batches."""

    obs: dict[str, torch.Tensor]
    """{group: [B, *shape]} raw observations the actions were taken from."""
    actions: torch.Tensor
    """[B, A] sampled actions."""
    old_log_prob: torch.Tensor
    """[B] log-probability of the actions at rollout time."""
    old_mean: torch.Tensor
    """[B, A] action mean at rollout time."""
    old_std: torch.Tensor
    """[B, A] action std at rollout time."""
    old_values: torch.Tensor
    """[B] critic values at rollout time."""
    advantages: torch.Tensor
    """[B] advantages."""
    returns: torch.Tensor
    """[B] value targets."""


class RolloutStorage:
    """Buffers of shape [T, N, ...] for T = num_steps policy steps of N worlds.

    Everything is allocated here, once, outside ``torch.inference_mode()``, so the rollout can be
    written under inference mode (``copy_`` into ordinary tensors) and then read by autograd.

    Args:
        num_steps: T, steps per world per rollout.
        num_envs: N, number of worlds.
        obs_shapes: {group: shape of one world's observation}.
        action_dim: A.
        device: where the buffers live (the env's device).
    """

    def __init__(
        self,
        num_steps: int,
        num_envs: int,
        obs_shapes: Mapping[str, Sequence[int]],
        action_dim: int,
        device: torch.device | str,
    ) -> None:
        self.num_steps = num_steps
        self.num_envs = num_envs
        self.device = torch.device(device)
        t, n = num_steps, num_envs

        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(shape, dtype=dtype, device=self.device)

        self.obs = {name: zeros(t, n, *shape) for name, shape in obs_shapes.items()}
        self.actions = zeros(t, n, action_dim)
        self.log_probs = zeros(t, n)
        self.action_mean = zeros(t, n, action_dim)
        self.action_std = zeros(t, n, action_dim)
        self.values = zeros(t, n)
        self.rewards = zeros(t, n)
        """[T, N] rewards, with the time-out bootstrap already added."""
        self.dones = zeros(t, n, dtype=torch.bool)
        """[T, N] terminated or truncated at this step."""
        self.advantages = zeros(t, n)
        self.returns = zeros(t, n)
        self.step = 0

    @property
    def batch_size(self) -> int:
        """T * N samples per rollout."""
        return self.num_steps * self.num_envs

    def record_action(
        self,
        obs: Mapping[str, torch.Tensor],
        actions: torch.Tensor,
        log_probs: torch.Tensor,
        action_mean: torch.Tensor,
        action_std: torch.Tensor,
        values: torch.Tensor,
    ) -> None:
        """Write what the policy saw and did at row `step` (all tensors [N, ...]).

        Call it before `env.step`: an env may return its observation buffers and overwrite them
        in place on the next step, so the observation is copied while it is still this step's.
        """
        if self.step >= self.num_steps:
            raise RuntimeError(f"rollout storage is full ({self.num_steps} steps); call clear() first")
        i = self.step
        for name, buffer in self.obs.items():
            buffer[i].copy_(obs[name])
        self.actions[i].copy_(actions)
        self.log_probs[i].copy_(log_probs)
        self.action_mean[i].copy_(action_mean)
        self.action_std[i].copy_(action_std)
        self.values[i].copy_(values)

    def record_outcome(self, rewards: torch.Tensor, dones: torch.Tensor) -> None:
        """Write the step's ``rewards [N]`` (bootstrap included) and ``dones [N]``, then advance `step`."""
        self.rewards[self.step].copy_(rewards)
        self.dones[self.step].copy_(dones)
        self.step += 1

    def clear(self) -> None:
        """Start a new rollout (the buffers are overwritten, not freed)."""
        self.step = 0

    def compute_returns(self, last_values: torch.Tensor, gamma: float, lam: float) -> None:
        """Fill `advantages` and `returns` by GAE, given ``last_values [N]`` after the last step."""
        if self.step != self.num_steps:
            raise RuntimeError(
                f"rollout holds {self.step} of {self.num_steps} steps; GAE needs a full rollout"
            )
        advantages, returns = compute_gae(self.rewards, self.values, self.dones, last_values, gamma, lam)
        self.advantages.copy_(advantages)
        self.returns.copy_(returns)

    def flat_obs(self) -> dict[str, torch.Tensor]:
        """{group: [T * N, *shape]} views of the observations."""
        return {name: buffer.flatten(0, 1) for name, buffer in self.obs.items()}

    def sample_indices(
        self, num_mini_batches: int, num_epochs: int, generator: torch.Generator
    ) -> Iterator[torch.Tensor]:
        """Yield the sample indices (``[B]`` long, on the storage's device) of ``num_epochs *
        num_mini_batches`` mini-batches.

        Each epoch draws a new permutation of all T * N samples and splits it into
        `num_mini_batches` nearly equal parts, so every sample is used exactly once per epoch.
        The permutation comes from `generator` (a CPU generator, so a run shuffles the same way
        on any device) and is then moved to the storage's device without a host sync.
        """
        if not 1 <= num_mini_batches <= self.batch_size:
            raise ValueError(
                f"num_mini_batches must be in [1, {self.batch_size}] (T * N samples), got {num_mini_batches}"
            )
        for _ in range(num_epochs):
            permutation = torch.randperm(self.batch_size, generator=generator)
            if self.device.type == "cuda":
                # A copy from pageable host memory waits for the device to finish all queued work
                # (a host sync at each epoch); a copy from pinned memory is queued like a kernel.
                permutation = permutation.pin_memory().to(self.device, non_blocking=True)
            else:
                permutation = permutation.to(self.device)
            yield from torch.tensor_split(permutation, num_mini_batches)

    def gather(self, index: torch.Tensor) -> MiniBatch:
        """The samples at ``index`` ([B] long, flat over T * N) as a mini-batch (copies)."""
        return MiniBatch(
            obs={name: value[index] for name, value in self.flat_obs().items()},
            actions=self.actions.flatten(0, 1)[index],
            old_log_prob=self.log_probs.flatten()[index],
            old_mean=self.action_mean.flatten(0, 1)[index],
            old_std=self.action_std.flatten(0, 1)[index],
            old_values=self.values.flatten()[index],
            advantages=self.advantages.flatten()[index],
            returns=self.returns.flatten()[index],
        )

    def mini_batches(
        self, num_mini_batches: int, num_epochs: int, generator: torch.Generator
    ) -> Iterator[MiniBatch]:
        """Yield ``num_epochs * num_mini_batches`` mini-batches (``sample_indices``, gathered)."""
        for index in self.sample_indices(num_mini_batches, num_epochs, generator):
            yield self.gather(index)
