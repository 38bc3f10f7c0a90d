"""Actor-critic shapes, observation groups, and the Gaussian formulas against torch.distributions."""

from __future__ import annotations

import math

import torch

from warplab.rl import ActorCritic, PolicyCfg, gaussian_entropy, gaussian_log_prob

CFG = PolicyCfg(actor_hidden_dims=(16, 8), critic_hidden_dims=(12,), init_noise_std=0.5)


def test_shapes_and_groups():
    policy = ActorCritic({"policy": (3,), "critic": (2, 4)}, action_dim=2, cfg=CFG)
    obs = {"policy": torch.randn(5, 3), "critic": torch.randn(5, 2, 4)}
    actions, log_prob, mean, std = policy.act(obs)
    assert actions.shape == mean.shape == std.shape == (5, 2) and log_prob.shape == (5,)
    assert policy.evaluate(obs).shape == (5,)
    assert policy.act_inference(obs).shape == (5, 2)
    # The critic reads the flattened critic group (2 * 4 = 8 inputs), the actor the policy group.
    assert policy.critic[0].weight.shape == (12, 8)
    assert policy.actor[0].weight.shape == (16, 3)
    torch.testing.assert_close(std, torch.full((5, 2), 0.5))


def test_critic_falls_back_to_policy_group():
    policy = ActorCritic({"policy": (3,)}, action_dim=1, cfg=CFG)
    assert policy.critic_group == "policy" and policy.critic[0].weight.shape == (12, 3)


def test_act_inference_is_the_mean_and_deterministic():
    policy = ActorCritic({"policy": (3,)}, action_dim=2, cfg=CFG)
    obs = {"policy": torch.randn(4, 3)}
    _, _, mean, _ = policy.act(obs)
    torch.testing.assert_close(policy.act_inference(obs), mean)
    torch.testing.assert_close(policy.act_inference(obs), policy.act_inference(obs))


def test_log_prob_and_entropy_match_torch_distributions():
    mean, std = torch.randn(6, 3), torch.rand(6, 3) + 0.1
    actions = torch.randn(6, 3)
    reference = torch.distributions.Normal(mean, std)
    torch.testing.assert_close(gaussian_log_prob(actions, mean, std), reference.log_prob(actions).sum(-1))
    torch.testing.assert_close(gaussian_entropy(std), reference.entropy().sum(-1))
    # By hand, one dimension, std 1: entropy = 0.5 * ln(2 pi e) = 1.4189385 nats.
    assert math.isclose(
        gaussian_entropy(torch.ones(1, 1)).item(), 0.5 * math.log(2 * math.pi * math.e), rel_tol=1e-6
    )


def test_normalizers_are_separate_and_optional():
    policy = ActorCritic({"policy": (2,), "critic": (3,)}, action_dim=1, cfg=CFG)
    policy.update_normalizers({"policy": torch.full((4, 2), 2.0), "critic": torch.full((4, 3), -1.0)})
    torch.testing.assert_close(policy.actor_obs_normalizer.mean, torch.full((2,), 2.0))
    torch.testing.assert_close(policy.critic_obs_normalizer.mean, torch.full((3,), -1.0))
    plain = ActorCritic(
        {"policy": (2,)},
        action_dim=1,
        cfg=PolicyCfg(actor_obs_normalization=False, critic_obs_normalization=False),
    )
    assert not any("normalizer" in key for key in plain.state_dict())


def test_first_actions_are_near_zero():
    # The actor's last layer starts with gain 0.01, so early actions are mostly noise around 0.
    policy = ActorCritic({"policy": (3,)}, action_dim=2, cfg=CFG)
    assert policy.act_inference({"policy": torch.randn(100, 3)}).abs().max() < 0.1
