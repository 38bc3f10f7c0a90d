"""GAE, the time-out bootstrap and the PPO losses against numbers worked out by hand."""

from __future__ import annotations

import math

import torch

from warplab.rl import adapt_learning_rate, bootstrap_timeouts, compute_gae, gaussian_kl, ppo_losses
from warplab.rl.config import PpoCfg


def test_gae_by_hand():
    # gamma = lam = 0.5, so gamma * lam = 0.25. Two worlds, same rewards and values:
    #   rewards [1, 2, 3], values [0.5, 1.0, 1.5], last value 2.0.
    # World 0, never done:
    #   t=2: delta = 3 + 0.5 * 2.0 - 1.5 = 2.5                A = 2.5
    #   t=1: delta = 2 + 0.5 * 1.5 - 1.0 = 1.75               A = 1.75 + 0.25 * 2.5   = 2.375
    #   t=0: delta = 1 + 0.5 * 1.0 - 0.5 = 1.0                A = 1.0  + 0.25 * 2.375 = 1.59375
    #   returns = A + V = [2.09375, 3.375, 4.0]
    # World 1, done at t=1 (no bootstrap from values[2], no advantage carried back from t=2):
    #   t=2: A = 2.5 as above
    #   t=1: delta = 2 + 0 - 1.0 = 1.0                        A = 1.0
    #   t=0: delta = 1.0                                      A = 1.0 + 0.25 * 1.0 = 1.25
    #   returns = [1.75, 2.0, 4.0]
    rewards = torch.tensor([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    values = torch.tensor([[0.5, 0.5], [1.0, 1.0], [1.5, 1.5]])
    dones = torch.tensor([[False, False], [False, True], [False, False]])
    advantages, returns = compute_gae(rewards, values, dones, torch.tensor([2.0, 2.0]), gamma=0.5, lam=0.5)
    torch.testing.assert_close(advantages, torch.tensor([[1.59375, 1.25], [2.375, 1.0], [2.5, 2.5]]))
    torch.testing.assert_close(returns, torch.tensor([[2.09375, 1.75], [3.375, 2.0], [4.0, 4.0]]))


def test_gae_with_lambda_one_is_the_discounted_return():
    # lam = 1, values 0: the advantage is the plain discounted return 1 + 0.9 * (1 + 0.9 * (1 + 0.9 * 10)).
    rewards = torch.ones(3, 1)
    advantages, returns = compute_gae(
        rewards, torch.zeros(3, 1), torch.zeros(3, 1), torch.tensor([10.0]), 0.9, 1.0
    )
    assert math.isclose(returns[0, 0].item(), 1 + 0.9 * (1 + 0.9 * (1 + 0.9 * 10)), rel_tol=1e-6)


def test_timeouts_bootstrap_and_terminations_do_not():
    # Two steps, three worlds, reward 1 every step, all values 0 except V(final_obs) = 10.
    # At t=0 world 0 times out, world 1 terminates, world 2 does both (a termination wins).
    # Bootstrap: r0 = [1 + 0.9 * 10, 1, 1] = [10, 1, 1].
    # GAE (gamma 0.9, lam 0.95), dones at t=0 for every world, last values 0:
    #   t=1: delta = 1 + 0.9 * 0 - 0 = 1                        A1 = [1, 1, 1]
    #   t=0: delta = r0 (done: no bootstrap from values[1])     A0 = [10, 1, 1]
    gamma = 0.9
    terminated = torch.tensor([False, True, True])
    truncated = torch.tensor([True, False, True])
    r0 = bootstrap_timeouts(torch.ones(3), terminated, truncated, torch.full((3,), 10.0), gamma)
    torch.testing.assert_close(r0, torch.tensor([10.0, 1.0, 1.0]))
    rewards = torch.stack([r0, torch.ones(3)])
    dones = torch.stack([terminated | truncated, torch.zeros(3, dtype=torch.bool)])
    _, returns = compute_gae(rewards, torch.zeros(2, 3), dones, torch.zeros(3), gamma, 0.95)
    torch.testing.assert_close(returns, torch.tensor([[10.0, 1.0, 1.0], [1.0, 1.0, 1.0]]))


def _losses(clipped_value_loss: bool):
    # ratio = exp(log_prob - old_log_prob) = [1.5, 0.5]; advantages [1, -2]; clip 0.2.
    return ppo_losses(
        log_prob=torch.log(torch.tensor([1.5, 0.5])),
        old_log_prob=torch.zeros(2),
        advantages=torch.tensor([1.0, -2.0]),
        values=torch.tensor([1.0, 0.0]),
        old_values=torch.tensor([0.5, 0.5]),
        returns=torch.tensor([2.0, 1.0]),
        entropy=torch.tensor([1.0, 2.0]),
        clip_param=0.2,
        clipped_value_loss=clipped_value_loss,
        value_loss_coef=0.5,
        entropy_coef=0.01,
    )


def test_ppo_losses_by_hand():
    # Surrogate, sample 0: max(-1 * 1.5, -1 * 1.2) = -1.2; sample 1: max(2 * 0.5, 2 * 0.8) = 1.6.
    #   mean = 0.2. Both ratios lie outside [0.8, 1.2]: clip fraction 1.
    # Value, clipped: v_clip = old + clamp(v - old, -0.2, 0.2) = [0.7, 0.3];
    #   plain errors (1 - 2)^2 = 1, (0 - 1)^2 = 1; clipped errors (0.7 - 2)^2 = 1.69, (0.3 - 1)^2 = 0.49;
    #   max per sample [1.69, 1.0], mean 1.345. Unclipped: mean [1, 1] = 1.0.
    # Entropy mean 1.5. Total = 0.2 + 0.5 * 1.345 - 0.01 * 1.5 = 0.8575.
    terms = _losses(clipped_value_loss=True)
    assert math.isclose(terms.surrogate.item(), 0.2, abs_tol=1e-6)
    assert math.isclose(terms.value.item(), 1.345, abs_tol=1e-6)
    assert math.isclose(terms.entropy.item(), 1.5, abs_tol=1e-6)
    assert math.isclose(terms.total.item(), 0.8575, abs_tol=1e-6)
    assert terms.clip_fraction.item() == 1.0
    assert math.isclose(_losses(clipped_value_loss=False).value.item(), 1.0, abs_tol=1e-6)


def test_gaussian_kl_by_hand_and_against_torch():
    # KL(N(0, 1) || N(1, 2)) = ln(2 / 1) + (1 + (0 - 1)^2) / (2 * 4) - 0.5 = 0.693147 + 0.25 - 0.5.
    kl = gaussian_kl(torch.zeros(1, 1), torch.ones(1, 1), torch.ones(1, 1), torch.full((1, 1), 2.0))
    assert math.isclose(kl.item(), math.log(2.0) - 0.25, rel_tol=1e-6)
    m0, s0, m1, s1 = torch.randn(5, 3), torch.rand(5, 3) + 0.1, torch.randn(5, 3), torch.rand(5, 3) + 0.1
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(m0, s0), torch.distributions.Normal(m1, s1)
    )
    torch.testing.assert_close(gaussian_kl(m0, s0, m1, s1), reference.sum(-1))


def test_adaptive_learning_rate_rule():
    cfg = PpoCfg(desired_kl=0.01)
    assert math.isclose(adapt_learning_rate(1e-3, 0.03, cfg), 1e-3 / 1.5)  # KL > 2 * desired
    assert math.isclose(adapt_learning_rate(1e-3, 0.004, cfg), 1e-3 * 1.5)  # KL < desired / 2
    assert adapt_learning_rate(1e-3, 0.01, cfg) == 1e-3  # in between: unchanged
    assert adapt_learning_rate(1e-2, 0.0, cfg) == 1e-2  # clamped above
    assert adapt_learning_rate(1e-5, 1.0, cfg) == 1e-5  # clamped below
