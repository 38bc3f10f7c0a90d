"""SAC/TD3 losses and targets against values worked out by hand or computed independently."""

from __future__ import annotations

import math

import pytest
import torch
from torch import distributions as D

from warplab.rl.off_policy_losses import (
    actor_loss,
    categorical_critic_loss,
    categorical_mean,
    categorical_projection,
    categorical_support,
    critic_loss,
    min_distribution,
    polyak_update,
    soft_q_target,
    squashed_gaussian_sample,
    squashed_mode,
    td3_target_actions,
    temperature_loss,
)


def _t(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


# Squashed Gaussian ---------------------------------------------------------------------------------

MEAN = [[0.3, -1.2], [2.0, 0.0]]
LOG_STD = [[-0.5, 0.2], [0.1, -1.0]]
NOISE = [[0.7, -0.4], [-1.5, 2.2]]
SCALE = 1.5


def test_squashed_log_prob_matches_a_numerical_change_of_variables():
    actions, log_prob = squashed_gaussian_sample(_t(*MEAN), _t(*LOG_STD), _t(*NOISE), SCALE)
    # Independent reference in float64: the density of u from torch.distributions, minus the log of
    # |da/du| taken by central differences of a(u) = 1.5 * tanh(u).
    mean, log_std, noise = (torch.tensor(x, dtype=torch.float64) for x in (MEAN, LOG_STD, NOISE))
    std = log_std.exp()
    u = mean + std * noise
    h = 1e-5
    slope = (SCALE * torch.tanh(u + h) - SCALE * torch.tanh(u - h)) / (2 * h)
    reference = D.Normal(mean, std).log_prob(u).sum(-1) - slope.abs().log().sum(-1)
    torch.testing.assert_close(log_prob.double(), reference, atol=1e-5, rtol=0)
    torch.testing.assert_close(actions.double(), SCALE * torch.tanh(u), atol=1e-6, rtol=0)
    # A second reference: torch's own transformed distribution (tanh, then scale).
    squashed = D.TransformedDistribution(
        D.Normal(mean, std), [D.TanhTransform(cache_size=1), D.AffineTransform(0.0, SCALE)]
    )
    a = SCALE * torch.tanh(u)
    torch.testing.assert_close(log_prob.double(), squashed.log_prob(a).sum(-1), atol=1e-5, rtol=0)


def test_squashed_log_prob_is_finite_and_right_at_large_u():
    # u = +-20 (mean +-20, std 1, noise 0), scale 1, two actions:
    # log N(u; mean, 1) at u = mean: -0.5 * log(2 pi) = -0.91893853 per action;
    # log(1 - tanh(20)^2) = log sech(20)^2 = 2 * (log 2 - 20 - log(1 + e^-40)) = -38.61370564.
    # log_prob = 2 * (-0.91893853 + 38.61370564) = 75.38953422. (In float32, 1 - tanh(20)^2 is 0,
    # so the naive form gives +inf.)
    mean = torch.tensor([[20.0, -20.0]], requires_grad=True)
    log_std = torch.zeros(1, 2, requires_grad=True)
    actions, log_prob = squashed_gaussian_sample(mean, log_std, torch.zeros(1, 2), 1.0)
    assert torch.isfinite(log_prob).all()
    assert log_prob.item() == pytest.approx(75.38953422, abs=1e-4)
    assert actions.tolist() == [[1.0, -1.0]]
    log_prob.sum().backward()
    # d/du of -log|da/du| = 2 * tanh(u): +2 at u = 20, -2 at u = -20 (the Gaussian part is constant
    # in mean when noise is given). d/dlog_std: -1 from the Gaussian, and du/dlog_std = std * noise = 0.
    torch.testing.assert_close(mean.grad, _t([2.0, -2.0]))
    torch.testing.assert_close(log_std.grad, _t([-1.0, -1.0]))


def test_squashed_mode_and_bad_scale():
    # 2 * tanh(0.5) = 2 * 0.46211716 = 0.92423431; 2 * tanh(-3) = -1.99011020.
    torch.testing.assert_close(squashed_mode(_t([0.5, -3.0]), 2.0), _t([0.92423431, -1.99011020]))
    with pytest.raises(ValueError, match="scale must be > 0, got 0.0"):
        squashed_gaussian_sample(torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1, 1), 0.0)


# Scalar critics, actor and temperature --------------------------------------------------------------


def test_soft_q_target_by_hand():
    # r = (1, 2), discount = (0.5, 0) (the second terminated), next_q of 2 critics = (3, 5), (4, 1):
    # min over critics = (3, 1); alpha 0.5, log_prob = (-1, 2): soft value = (3 + 0.5, 1 - 1) = (3.5, 0);
    # target = (1 + 0.5 * 3.5, 2 + 0 * 0) = (2.75, 2). Without the entropy term (TD3): (2.5, 2).
    rewards, discounts = _t(1.0, 2.0), _t(0.5, 0.0)
    next_q = _t([3.0, 5.0], [4.0, 1.0])
    alpha = torch.tensor(0.5, requires_grad=True)
    target = soft_q_target(rewards, discounts, next_q, _t(-1.0, 2.0), alpha)
    assert target.tolist() == [2.75, 2.0] and not target.requires_grad
    assert soft_q_target(rewards, discounts, next_q, None, 0.5).tolist() == [2.5, 2.0]


def test_critic_loss_by_hand():
    # q of 2 critics on 3 samples, target (2, 1, 1): errors (-1, 1, 3) and (1, -1, 3); squares summed
    # over critics (2, 2, 18), mean 22/3, half: 11/3. d/dq[c, b] = (q - target) / B.
    q = torch.tensor([[1.0, 2.0, 4.0], [3.0, 0.0, 4.0]], requires_grad=True)
    target = torch.tensor([2.0, 1.0, 1.0], requires_grad=True)
    loss = critic_loss(q, target)
    assert loss.item() == pytest.approx(11.0 / 3.0)
    loss.backward()
    torch.testing.assert_close(q.grad, _t([-1 / 3, 1 / 3, 1.0], [1 / 3, -1 / 3, 1.0]))
    assert target.grad is None


def test_actor_loss_by_hand():
    # q = (1, 2) and (3, 6): mean over critics (2, 4); alpha 0.2, log_prob (-1, 0.5):
    # per sample 0.2 * -1 - 2 = -2.2 and 0.2 * 0.5 - 4 = -3.9, mean -3.05. TD3: -(2 + 4) / 2 = -3.
    q = torch.tensor([[1.0, 2.0], [3.0, 6.0]], requires_grad=True)
    alpha = torch.tensor(0.2, requires_grad=True)
    loss = actor_loss(q, _t(-1.0, 0.5), alpha)
    assert loss.item() == pytest.approx(-3.05)
    loss.backward()
    # d/dq[c, b] = -1 / (C * B) = -0.25; the temperature gets nothing from the actor loss.
    torch.testing.assert_close(q.grad, torch.full((2, 2), -0.25))
    assert alpha.grad is None
    assert actor_loss(q, None, 0.2).item() == pytest.approx(-3.0)


def test_temperature_loss_value_and_gradient_sign():
    # log_alpha = log 0.5, log_prob (-1, -3), target entropy -1: log_prob + target = (-2, -4), mean -3,
    # loss = -log_alpha * -3 = 3 * log 0.5 = -2.0794415; d/dlog_alpha = 3. The entropy (-mean log_prob
    # = 2) is above the target (-1), so descent lowers alpha.
    log_alpha = torch.tensor(math.log(0.5), requires_grad=True)
    log_prob = torch.tensor([-1.0, -3.0], requires_grad=True)
    loss = temperature_loss(log_alpha, log_prob, -1.0)
    assert loss.item() == pytest.approx(-2.0794415)
    loss.backward()
    assert log_alpha.grad.item() == pytest.approx(3.0) and log_prob.grad is None
    # Entropy below the target: log_prob (2, 0) (entropy -1), target 0: gradient -mean(2, 0) = -1,
    # so one SGD step of 0.1 raises log_alpha by 0.1 and alpha grows.
    log_alpha = torch.tensor(0.0, requires_grad=True)
    optimizer = torch.optim.SGD([log_alpha], lr=0.1)
    temperature_loss(log_alpha, _t(2.0, 0.0), 0.0).backward()
    assert log_alpha.grad.item() == pytest.approx(-1.0)
    optimizer.step()
    assert log_alpha.item() == pytest.approx(0.1) and log_alpha.exp().item() > 1.0


# TD3 -------------------------------------------------------------------------------------------------


def test_td3_target_smoothing_clips_noise_then_actions():
    # std 0.2, clip 0.5, scale 1: noise (1, -3, 0.5) * 0.2 = (0.2, -0.6, 0.1) -> clipped (0.2, -0.5, 0.1);
    # actions (0.9, -0.3, 0) + that = (1.1, -0.8, 0.1) -> clamped to +-1: (1.0, -0.8, 0.1). (Without
    # the noise clip the second would be -0.9.)
    out = td3_target_actions(_t([0.9, -0.3, 0.0]), _t([1.0, -3.0, 0.5]), 0.2, 0.5, 1.0)
    torch.testing.assert_close(out, _t([1.0, -0.8, 0.1]))
    # Scale 2, std 0.5, clip 0.3: noise (0.4, -0.2) * 0.5 = (0.2, -0.1), within the clip;
    # actions (1.9, -1.0) + that = (2.1, -1.1) -> (2.0, -1.1).
    out = td3_target_actions(_t([1.9, -1.0]), _t([0.4, -0.2]), 0.5, 0.3, 2.0)
    torch.testing.assert_close(out, _t([2.0, -1.1]))


# C51 -------------------------------------------------------------------------------------------------

SUPPORT = _t(-2.0, -1.0, 0.0, 1.0, 2.0)
"""5 atoms, dz = 1: atom j is at j - 2, so a value v sits at position v + 2."""


def test_support():
    assert categorical_support(-2.0, 2.0, 5, "cpu").tolist() == SUPPORT.tolist()
    with pytest.raises(ValueError, match="v_min < v_max"):
        categorical_support(1.0, 1.0, 5)
    with pytest.raises(ValueError, match="num_atoms >= 2"):
        categorical_support(0.0, 1.0, 1)


@pytest.mark.parametrize(
    ("probs", "reward", "discount", "expected"),
    [
        # Mass at 0 moved to 0.5 (position 2.5): half to atom 0, half to atom 1.
        ([0, 0, 1, 0, 0], 0.5, 1.0, [0, 0, 0.5, 0.5, 0]),
        # r 0.25, discount 0.5: atoms go to 0.25 + 0.5 z = (-0.75, -0.25, 0.25, 0.75, 1.25), positions
        # (1.25, 1.75, 2.25, 2.75, 3.25). Splits: 0.1 -> (0.075 to 1, 0.025 to 2), 0.2 -> (0.05, 0.15),
        # 0.3 -> (0.225 to 2, 0.075 to 3), 0.4 -> (0.1 to 2, 0.3 to 3). Sums: atom 1 0.125,
        # atom 2 0.025 + 0.15 + 0.225 + 0.1 = 0.5, atom 3 0.375.
        ([0.1, 0.2, 0.3, 0.4, 0.0], 0.25, 0.5, [0, 0.125, 0.5, 0.375, 0]),
        # r 1.5, discount 1: values (-0.5, 0.5, 1.5, 3.5, 4.5) -> the last two clip to 2 (position 4).
        # 0.2 each: (0.1 to 1, 0.1 to 2), (0.1 to 2, 0.1 to 3), (0.1 to 3, 0.1 to 4), 0.2 to 4, 0.2 to 4.
        ([0.2] * 5, 1.5, 1.0, [0, 0.1, 0.2, 0.2, 0.5]),
        # r -3, discount 0.5: every value (-4 ... -2) clips to v_min: all mass on atom 0.
        ([0.1, 0.2, 0.3, 0.2, 0.2], -3.0, 0.5, [1, 0, 0, 0, 0]),
        # Discount 0: all mass at r = -0.3 (position 1.7): 0.3 to atom 1, 0.7 to atom 2.
        ([0.1, 0.2, 0.3, 0.2, 0.2], -0.3, 0.0, [0, 0.3, 0.7, 0, 0]),
        # Discount 0, r = 5 beyond v_max: all mass on the last atom.
        ([0.1, 0.2, 0.3, 0.2, 0.2], 5.0, 0.0, [0, 0, 0, 0, 1]),
        # Exactly on atoms: r 1, discount 1 moves z = -2 to -1 (atom 1) and z = 1 to 2 (the last atom).
        ([0.5, 0, 0, 0.5, 0], 1.0, 1.0, [0, 0.5, 0, 0, 0.5]),
        # r 0, discount 1: nothing moves.
        ([0.1, 0.2, 0.3, 0.15, 0.25], 0.0, 1.0, [0.1, 0.2, 0.3, 0.15, 0.25]),
    ],
)
def test_categorical_projection_by_hand(probs, reward, discount, expected):
    out = categorical_projection(_t(*probs)[None], _t(reward), _t(discount), SUPPORT)
    torch.testing.assert_close(out, _t(*expected)[None], atol=1e-6, rtol=0)


def test_categorical_projection_conserves_mass_and_mean():
    generator = torch.Generator().manual_seed(0)
    support = categorical_support(-10.0, 10.0, 21)
    probs = torch.softmax(torch.randn(64, 21, generator=generator), dim=-1).requires_grad_()
    # Rewards in [-1, 1] and discounts in [0, 0.8] keep every moved atom inside [-9, 9]: no clipping,
    # so the linear split keeps the mean exactly: E = r + discount * E[Z].
    rewards = torch.rand(64, generator=generator) * 2 - 1
    discounts = torch.rand(64, generator=generator) * 0.8
    out = categorical_projection(probs, rewards, discounts, support)
    assert not out.requires_grad and (out >= 0).all()
    torch.testing.assert_close(out.sum(-1), torch.ones(64))
    expected_mean = rewards + discounts * categorical_mean(probs.detach(), support)
    torch.testing.assert_close(categorical_mean(out, support), expected_mean, atol=1e-5, rtol=0)
    # With clipping (rewards up to +-30) mass is still conserved.
    out = categorical_projection(probs, rewards * 30, torch.ones(64), support)
    torch.testing.assert_close(out.sum(-1), torch.ones(64))


def test_categorical_mean_and_critic_loss_by_hand():
    # Mean of (0, 0, 0.5, 0.5, 0) on the support: 0.5 * 0 + 0.5 * 1 = 0.5.
    assert categorical_mean(_t([0, 0, 0.5, 0.5, 0]), SUPPORT).item() == pytest.approx(0.5)
    # Two critics, two samples, two atoms. Sample 0, target (0.5, 0.5): critic 0 logits (0, 0) ->
    # log-probs (-ln 2, -ln 2), cross-entropy ln 2 = 0.6931472; critic 1 logits (ln 3, 0) -> probs
    # (0.75, 0.25), cross-entropy -(0.5 ln 0.75 + 0.5 ln 0.25) = 0.8369882; sum 1.5301354.
    # Sample 1, target (1, 0), both critics (0, 0): 2 ln 2 = 1.3862944. Mean: 1.4582149.
    logits = torch.tensor([[[0.0, 0.0], [0.0, 0.0]], [[math.log(3.0), 0.0], [0.0, 0.0]]], requires_grad=True)
    target = _t([0.5, 0.5], [1.0, 0.0])
    loss = categorical_critic_loss(logits, target)
    assert loss.item() == pytest.approx(1.4582149, abs=1e-6)
    loss.backward()
    # d/dlogits = (softmax - target) / B: critic 1, sample 0: ((0.75 - 0.5) / 2, (0.25 - 0.5) / 2).
    torch.testing.assert_close(logits.grad[1, 0], _t(0.125, -0.125))


def test_min_distribution_picks_the_critic_with_the_smallest_mean():
    # Support (-1, 0, 1). Sample 0: critic 0 (0.5, 0, 0.5) has mean 0, critic 1 (0.2, 0.8, 0) mean
    # -0.2 -> critic 1. Sample 1: critic 0 (0.6, 0.4, 0) mean -0.6, critic 1 (0, 0.5, 0.5) mean 0.5
    # -> critic 0.
    probs = _t([[0.5, 0.0, 0.5], [0.6, 0.4, 0.0]], [[0.2, 0.8, 0.0], [0.0, 0.5, 0.5]])
    out = min_distribution(probs, _t(-1.0, 0.0, 1.0))
    torch.testing.assert_close(out, _t([0.2, 0.8, 0.0], [0.6, 0.4, 0.0]))


# Polyak ----------------------------------------------------------------------------------------------


def test_polyak_update_by_hand():
    # tau 0.25: 1 + 0.25 * (3 - 1) = 1.5, 2 + 0.25 * (-2 - 2) = 1; the matrix: 0 + 0.25 * 4 = 1.
    target = [torch.nn.Parameter(_t(1.0, 2.0)), torch.zeros(2, 2)]
    online = [torch.nn.Parameter(_t(3.0, -2.0)), torch.full((2, 2), 4.0)]
    polyak_update(target, online, 0.25)
    assert target[0].tolist() == [1.5, 1.0] and target[1].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert online[0].tolist() == [3.0, -2.0]  # the online side is only read
    polyak_update(target, online, 1.0)
    assert target[0].tolist() == [3.0, -2.0]
    with pytest.raises(ValueError, match="as many target as online tensors, got 2 and 1"):
        polyak_update(target, online[:1], 0.5)
    with pytest.raises(ValueError, match=r"tau must be in \[0, 1\], got 1.5"):
        polyak_update(target, online, 1.5)


def test_categorical_projection_equals_a_float64_scatter_on_random_batches():
    """The segment-sum projection against the textbook one (each moved atom's mass split between its
    two neighbours by scatter-add, in float64), on random distributions, rewards that push atoms
    past both ends, and discounts of 0, between 0 and 1, and 1."""
    generator = torch.Generator().manual_seed(0)
    support = categorical_support(-3.0, 5.0, 17, torch.device("cpu"))
    batch = 256
    probs = torch.softmax(3.0 * torch.randn(batch, 17, generator=generator), dim=1)
    rewards = 6.0 * torch.randn(batch, generator=generator)
    discounts = torch.rand(batch, generator=generator)
    discounts[:32] = 0.0
    discounts[32:64] = 1.0
    got = categorical_projection(probs, rewards, discounts, support)

    z = support.double()
    dz = (z[-1] - z[0]) / 16
    moved = (rewards.double()[:, None] + discounts.double()[:, None] * z[None, :]).clamp(z[0], z[-1])
    x = (moved - z[0]) / dz
    expected = torch.zeros(batch, 17, dtype=torch.float64)
    for b in range(batch):
        for k in range(17):
            low = min(int(x[b, k].floor()), 15)
            frac = float(x[b, k] - low)
            expected[b, low] += probs[b, k].double() * (1.0 - frac)
            expected[b, low + 1] += probs[b, k].double() * frac
    torch.testing.assert_close(got.double(), expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(got.sum(dim=1), probs.sum(dim=1), atol=1e-6, rtol=0)
    assert (got >= -1e-7).all()
