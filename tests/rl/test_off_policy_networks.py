"""Off-policy networks: shapes, the critic group, the batched ensemble against a per-member loop,
the inference actor, frozen targets, and ActorCritic.inference_actor."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from warplab.rl import ActorCritic, PolicyCfg, SacCfg, SacPolicyCfg
from warplab.rl.normalizer import EmpiricalNormalizer
from warplab.rl.off_policy_networks import CriticEnsemble, OffPolicyActorCritic


def _policy_cfg(**overrides) -> SacPolicyCfg:
    return SacPolicyCfg(**{"actor_hidden_dims": (16, 8), "critic_hidden_dims": (12, 6), **overrides})


def _model(deterministic=False, obs_shapes=None, sac=None, **policy) -> OffPolicyActorCritic:
    torch.manual_seed(0)
    shapes = obs_shapes if obs_shapes is not None else {"policy": (5,)}
    return OffPolicyActorCritic(
        shapes, 3, _policy_cfg(**policy), sac if sac is not None else SacCfg(), deterministic
    )


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("distributional", [False, True])
def test_shapes_and_action_range(deterministic, distributional):
    sac = SacCfg(num_critics=3, distributional=distributional, num_atoms=11)
    model = _model(deterministic, sac=sac, action_scale=2.0)
    obs = {"policy": 10.0 * torch.randn(64, 5)}
    actions = model.act(obs)
    assert actions.shape == (64, 3)
    assert actions.abs().max() <= 2.0
    assert model.act_inference(obs).shape == (64, 3)
    mean, log_std = model.actor_forward(model.actor_input(obs))
    assert mean.shape == (64, 3)
    assert (log_std is None) == deterministic
    q = model.critic_values(model.critic_input(obs), actions)
    expected = (3, 64, 11) if distributional else (3, 64)
    assert q.shape == expected
    assert model.critic_values(model.critic_input(obs), actions, target=True).shape == expected


def test_log_std_stays_in_its_bounds_and_starts_in_the_middle():
    model = _model(log_std_min=-4.0, log_std_max=1.0)
    # Middle of [-4, 1] for any input at initialization (small output gain).
    _, log_std = model.actor_forward(torch.zeros(4, 5))
    assert torch.allclose(log_std, torch.full_like(log_std, -1.5), atol=1e-6)
    with torch.no_grad():
        model.actor_log_std.bias.fill_(1e4)
    _, log_std = model.actor_forward(torch.randn(4, 5))
    assert torch.allclose(log_std, torch.full_like(log_std, 1.0))
    with torch.no_grad():
        model.actor_log_std.bias.fill_(-1e4)
    _, log_std = model.actor_forward(torch.randn(4, 5))
    assert torch.allclose(log_std, torch.full_like(log_std, -4.0))


def test_sac_act_samples_around_the_squashed_mean():
    model = _model()
    obs = {"policy": torch.randn(1, 5).expand(20000, 5)}
    mean, log_std = model.actor_forward(model.actor_input(obs))
    torch.manual_seed(1)
    actions = model.act(obs)
    # atanh of the samples is Gaussian with the actor's mean and std.
    u = torch.atanh(actions / model.action_scale)
    assert torch.allclose(u.mean(0), mean[0], atol=0.01)
    assert torch.allclose(u.std(0), log_std[0].exp(), rtol=0.03)


def test_td3_act_adds_clipped_exploration_noise():
    model = _model(deterministic=True, sac=SacCfg(exploration_noise_std=0.3), action_scale=2.0)
    obs = {"policy": torch.randn(1, 5).expand(20000, 5)}
    mode = model.act_inference(obs)
    actions = model.act(obs)
    noise = (actions - mode) / 2.0
    assert torch.allclose(noise.mean(0), torch.zeros(3), atol=0.01)
    assert torch.allclose(noise.std(0), torch.full((3,), 0.3), rtol=0.03)
    with torch.no_grad():
        model.actor_mean.bias.fill_(10.0)  # the mode at the upper bound: noise must be clipped
    assert model.act(obs).max() <= 2.0


def test_asymmetric_critic_reads_the_critic_group():
    model = _model(obs_shapes={"policy": (5,), "critic": (7,)})
    assert model.critic_group == "critic"
    assert model.critic.linears[0].weight.shape == (2, 7 + 3, 12)
    obs = {"policy": torch.randn(8, 5), "critic": torch.randn(8, 7)}
    actions = torch.rand(8, 3) * 2 - 1
    q = model.critic_values(model.critic_input(obs), actions)
    changed_policy = {"policy": obs["policy"] + 1.0, "critic": obs["critic"]}
    assert torch.equal(model.critic_values(model.critic_input(changed_policy), actions), q)
    changed_critic = {"policy": obs["policy"], "critic": obs["critic"] + 1.0}
    assert not torch.equal(model.critic_values(model.critic_input(changed_critic), actions), q)

    symmetric = _model()
    assert symmetric.critic_group == "policy"
    assert symmetric.critic.linears[0].weight.shape == (2, 5 + 3, 12)


@pytest.mark.parametrize("layer_norm", [False, True])
def test_ensemble_equals_a_loop_over_independent_members(layer_norm):
    torch.manual_seed(0)
    ensemble = CriticEnsemble(3, 6, (10, 4), 5, "elu", layer_norm)
    with torch.no_grad():  # non-trivial affine maps of the norms
        for norm in ensemble.norms or []:
            norm.weight.normal_()
            norm.bias.normal_()
    x = torch.randn(9, 6)
    out = ensemble(x)
    assert out.shape == (3, 9, 5)
    for c in range(3):
        h = x
        for i, linear in enumerate(ensemble.linears):
            h = F.linear(h, linear.weight[c].T, linear.bias[c, 0])
            if layer_norm:
                h = F.layer_norm(
                    h, (h.shape[-1],), ensemble.norms[i].weight[c, 0], ensemble.norms[i].bias[c, 0]
                )
            h = F.elu(h)
        h = F.linear(h, ensemble.head.weight[c].T, ensemble.head.bias[c, 0])
        assert torch.allclose(out[c], h, atol=1e-6)

    # Member 1's output depends on member 1's parameters only.
    ensemble(x)[1].sum().backward()
    for parameter in ensemble.parameters():
        grad = parameter.grad
        assert grad[1].abs().sum() > 0
        assert torch.equal(grad[0], torch.zeros_like(grad[0]))
        assert torch.equal(grad[2], torch.zeros_like(grad[2]))


def test_members_start_different():
    ensemble = CriticEnsemble(2, 6, (10,), 1, "relu", True)
    assert not torch.equal(ensemble.linears[0].weight[0], ensemble.linears[0].weight[1])


def test_detached_params_pass_gradients_to_the_action_only():
    model = _model()
    critic_in = torch.randn(4, 5)
    actions = torch.zeros(4, 3, requires_grad=True)
    model.critic_values(critic_in, actions, detach_params=True).sum().backward()
    assert actions.grad is not None and actions.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.critic.parameters())


def test_target_critics_start_equal_and_are_frozen():
    model = _model()
    assert all(not p.requires_grad for p in model.target_critic.parameters())
    online = dict(model.critic.named_parameters())
    for name, target in model.target_critic.named_parameters():
        assert torch.equal(target, online[name])
        assert target.data_ptr() != online[name].data_ptr()
    critic_in, actions = torch.randn(4, 5), torch.rand(4, 3)
    (
        model.critic_values(critic_in, actions) + model.critic_values(critic_in, actions, target=True)
    ).sum().backward()
    assert all(p.grad is None for p in model.target_critic.parameters())
    assert all(p.grad is not None for p in model.critic.parameters())
    # The state dict carries the targets (a checkpoint resumes them).
    assert any(key.startswith("target_critic.") for key in model.state_dict())


@pytest.mark.parametrize("deterministic", [False, True])
def test_inference_actor_equals_act_inference_on_raw_obs(deterministic):
    model = _model(deterministic, obs_shapes={"policy": (2, 3), "critic": (4,)}, action_scale=1.5)
    obs = {"policy": 3.0 + 2.0 * torch.randn(50, 2, 3), "critic": torch.randn(50, 4)}
    model.update_normalizers(obs)
    assert isinstance(model.actor_obs_normalizer, EmpiricalNormalizer)
    assert model.actor_obs_normalizer.count == 50
    with torch.no_grad():
        model.actor_mean.weight.normal_()  # actions well away from 0
    actor = model.inference_actor()
    expected = model.act_inference(obs)
    assert torch.equal(actor(obs["policy"].flatten(1)), expected)
    assert expected.abs().max() > 0.1
    # It shares the model's parameters: a later change shows.
    with torch.no_grad():
        model.actor_mean.bias.add_(0.5)
    assert torch.equal(actor(obs["policy"].flatten(1)), model.act_inference(obs))


def test_normalizers_are_optional_and_separate():
    model = _model(obs_shapes={"policy": (5,), "critic": (7,)}, critic_obs_normalization=False)
    assert isinstance(model.actor_obs_normalizer, EmpiricalNormalizer)
    assert isinstance(model.critic_obs_normalizer, torch.nn.Identity)
    obs = {"policy": torch.randn(8, 5), "critic": torch.randn(8, 7)}
    model.update_normalizers(obs)
    assert torch.equal(model.critic_input(obs), obs["critic"])


def test_actor_critic_inference_actor_equals_act_inference():
    torch.manual_seed(0)
    model = ActorCritic({"policy": (3, 2)}, 2, PolicyCfg(actor_hidden_dims=(8,), critic_hidden_dims=(8,)))
    obs = {"policy": 1.0 + 4.0 * torch.randn(30, 3, 2)}
    model.update_normalizers(obs)
    actor = model.inference_actor()
    assert torch.equal(actor(obs["policy"].flatten(1)), model.act_inference(obs))
    assert actor[0] is model.actor_obs_normalizer
