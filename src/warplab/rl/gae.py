"""Generalized advantage estimation and the time-out bootstrap, as pure functions."""

from __future__ import annotations

import torch


def bootstrap_timeouts(
    rewards: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    final_values: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """Fold the value of the terminal observation into the reward of worlds that timed out.

    A time-out cuts an episode that would have gone on, so its return is ``reward + gamma *
    V(final_obs)``; a true termination ends the episode and adds nothing. A world that is both
    terminated and truncated in the same step counts as terminated.

    Args:
        rewards: [N] rewards of this step.
        terminated: [N] bool, the episode ended (no future reward).
        truncated: [N] bool, the episode was cut by a time-out.
        final_values: [N] critic values of ``info["final_obs"]`` (any value where not truncated).
        gamma: discount per step.

    Returns: [N] rewards with the bootstrap added where truncated and not terminated.
    """
    timed_out = truncated & ~terminated
    return rewards + gamma * final_values * timed_out.to(rewards.dtype)


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_values: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns by GAE(gamma, lambda) over a rollout.

    The time-out bootstrap must already be in ``rewards`` (see `bootstrap_timeouts`): here a done
    step, whatever the reason, stops both the value bootstrap and the advantage recursion, because
    the next row of the rollout belongs to a new episode.

    Args:
        rewards: [T, N] rewards.
        values: [T, N] critic values of the observations the actions were taken from.
        dones: [T, N] bool or 0/1, the episode ended at this step (terminated or truncated).
        last_values: [N] critic values of the observation after the last step.
        gamma: discount per step.
        lam: GAE lambda.

    Returns: advantages [T, N] and returns [T, N] (= advantages + values, the critic's target).
    """
    num_steps = rewards.shape[0]
    not_done = 1.0 - dones.to(rewards.dtype)
    advantages = torch.empty_like(rewards)
    next_advantage = torch.zeros_like(last_values)
    next_values = last_values
    for t in reversed(range(num_steps)):
        delta = rewards[t] + gamma * not_done[t] * next_values - values[t]
        next_advantage = delta + gamma * lam * not_done[t] * next_advantage
        advantages[t] = next_advantage
        next_values = values[t]
    return advantages, advantages + values
