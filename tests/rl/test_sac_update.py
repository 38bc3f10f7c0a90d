"""The SAC/TD3 update against targets worked out here, independently of warplab.rl.off_policy_losses:
the critic's target and step, the temperature, TD3's delayed actor, Polyak averaging, seeds."""

from __future__ import annotations

import math

import pytest
import torch

from warplab.rl import SacCfg, SacPolicyCfg
from warplab.rl.off_policy_losses import squashed_gaussian_sample
from warplab.rl.off_policy_networks import OffPolicyActorCritic
from warplab.rl.replay import ReplayBatch, ReplayBuffer
from warplab.rl.sac import SAC

from .helpers import HostReadRecorder

B, A = 6, 2
SHAPES = {"policy": (3,), "critic": (5,)}
SCALE = 1.5


def _agent(algorithm="sac", seed=0, model_seed=0, **sac) -> SAC:
    cfg = SacCfg(**{"batch_size": 16, "distributional": False, "num_atoms": 11, **sac})
    policy = SacPolicyCfg(actor_hidden_dims=(8,), critic_hidden_dims=(8,), action_scale=SCALE)
    torch.manual_seed(model_seed)
    model = OffPolicyActorCritic(SHAPES, A, policy, cfg, deterministic=algorithm == "td3")
    return SAC(model, cfg, algorithm, seed=seed)


def _batch(seed=3, discounts=None, rewards=None) -> ReplayBatch:
    g = torch.Generator().manual_seed(seed)

    def obs():
        return {name: torch.randn(B, *shape, generator=g) for name, shape in SHAPES.items()}

    return ReplayBatch(
        obs=obs(),
        actions=SCALE * (2 * torch.rand(B, A, generator=g) - 1),
        rewards=torch.randn(B, generator=g) if rewards is None else rewards,
        next_obs=obs(),
        discounts=torch.tensor([0.9, 0.0, 0.81, 0.9, 0.0, 0.729]) if discounts is None else discounts,
    )


def _q(agent: SAC, obs, actions, target=False) -> torch.Tensor:
    model = agent.model
    with torch.no_grad():
        return model.critic_values(model.critic_input(obs), actions, target=target)


def _params(module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_sac_critic_step_uses_the_soft_clipped_double_q_target_and_moves_q_toward_it():
    agent = _agent(init_alpha=0.3, critic_learning_rate=0.01)
    model, batch = agent.model, _batch()
    # The target by hand, in float64: the next action drawn with SAC's generator (its first draw),
    # its log-density by the change of variables, the smaller target critic, the entropy bonus.
    noise = torch.randn(B, A, generator=torch.Generator().set_state(agent.generator.get_state()))
    with torch.no_grad():
        mean, log_std = model.actor_forward(model.actor_input(batch.next_obs))
    mean, std, noise = mean.double(), log_std.double().exp(), noise.double()
    u = mean + std * noise
    next_actions = SCALE * torch.tanh(u)
    log_prob = torch.distributions.Normal(mean, std).log_prob(u).sum(-1)
    log_prob -= torch.log(SCALE * (1 - torch.tanh(u) ** 2)).sum(-1)
    next_q = _q(agent, batch.next_obs, next_actions.float(), target=True).double()
    target = batch.rewards.double() + batch.discounts.double() * (next_q.min(0).values - 0.3 * log_prob)
    q_before = _q(agent, batch.obs, batch.actions).double()
    expected_loss = 0.5 * (q_before - target).square().sum(0).mean()

    stats = agent.update(batch, update_actor=False)

    assert stats["Loss/critic"].item() == pytest.approx(expected_loss.item(), rel=1e-5)
    assert stats["Critic/target_mean"].item() == pytest.approx(target.mean().item(), rel=1e-5, abs=1e-6)
    assert stats["Critic/q_mean"].item() == pytest.approx(q_before.mean().item(), rel=1e-5, abs=1e-6)
    q_after = _q(agent, batch.obs, batch.actions).double()
    # Each critic's squared error to the target falls.
    assert ((q_after - target).square().sum(1) < (q_before - target).square().sum(1)).all()


def test_td3_target_smooths_the_target_action_with_clipped_noise():
    agent = _agent("td3", target_noise_std=0.4, target_noise_clip=0.3)
    model, batch = agent.model, _batch()
    noise = torch.randn(B, A, generator=torch.Generator().set_state(agent.generator.get_state()))
    with torch.no_grad():
        model.actor_mean.bias.copy_(torch.tensor([3.0, -0.2]))  # one action near its bound
        mean, log_std = model.actor_forward(model.actor_input(batch.next_obs))
    assert log_std is None
    smoothing = (0.4 * SCALE * noise).clamp(-0.3 * SCALE, 0.3 * SCALE)
    next_actions = (SCALE * torch.tanh(mean) + smoothing).clamp(-SCALE, SCALE)
    target = (
        batch.rewards + batch.discounts * _q(agent, batch.next_obs, next_actions, target=True).min(0).values
    )
    expected_loss = 0.5 * (_q(agent, batch.obs, batch.actions) - target).square().sum(0).mean()

    stats = agent.update(batch, update_actor=False)

    assert stats["Loss/critic"].item() == pytest.approx(expected_loss.item(), rel=1e-5)
    assert stats["Critic/target_mean"].item() == pytest.approx(target.mean().item(), rel=1e-5, abs=1e-6)


def test_c51_critic_learns_the_reward_of_a_terminal_step():
    # Discount 0: the target puts all mass on the atom of r (the atoms are -5, -4, ..., 5).
    agent = _agent(distributional=True, v_min=-5.0, v_max=5.0, num_atoms=11)
    rewards = torch.tensor([1.0, -2.0, 0.0, 4.0, -5.0, 3.0])
    batch = _batch(rewards=rewards, discounts=torch.zeros(B))
    atom = (rewards + 5.0).long()
    logits = _q(agent, batch.obs, batch.actions)
    expected_loss = -torch.log_softmax(logits, -1).gather(-1, atom.expand(2, B)[..., None]).sum(0).mean()

    stats = agent.update(batch, update_actor=False)

    assert stats["Loss/critic"].item() == pytest.approx(expected_loss.item(), rel=1e-5)
    assert stats["Critic/target_mean"].item() == pytest.approx(rewards.mean().item(), abs=1e-5)
    probs_after = torch.softmax(_q(agent, batch.obs, batch.actions), -1)
    probs_before = torch.softmax(logits, -1)
    picked = atom.expand(2, B)[..., None]
    assert (probs_after.gather(-1, picked) > probs_before.gather(-1, picked)).all()


@pytest.mark.parametrize(("per_action", "direction"), [(0.69, 1.0), (-50.0, -1.0)])
def test_temperature_rises_below_the_target_entropy_and_falls_above(per_action, direction):
    # On [-1, 1] a squashed action has at most log 2 = 0.693 nats per dimension; the fresh policy
    # (log_std in the middle of its range) has far less than 0.69, and far more than -50. Adam's
    # first step moves log(alpha) by exactly its learning rate, against the sign of the gradient.
    agent = _agent(init_alpha=0.5, alpha_learning_rate=0.01, target_entropy_per_action=per_action)
    assert agent.target_entropy == pytest.approx((per_action + math.log(SCALE)) * A)
    stats = agent.update(_batch(), update_actor=True)
    assert agent.log_alpha.item() == pytest.approx(math.log(0.5) + direction * 0.01, abs=1e-6)
    assert stats["Policy/alpha"].item() == pytest.approx(math.exp(math.log(0.5) + direction * 0.01), rel=1e-5)
    assert stats["Policy/entropy"].item() < 2 * math.log(2 * SCALE)


@pytest.mark.parametrize("action_scale", [0.4, 1.0, 3.0])
def test_the_default_target_entropy_is_within_reach_at_any_action_scale(action_scale):
    # A target above the most entropy the policy can have drives the temperature up without bound
    # until the entropy bonus outweighs the rewards (a Humanoid-v5 run with action_scale 0.4 and a
    # target of 0 nats per scaled action collapsed so). The most spread policy the actor can output
    # (mean 0, log_std at its maximum) is measured here by Monte Carlo with the agent's own
    # log-density, and must exceed the default target by a margin, with room for the policy to
    # narrow to it.
    cfg = SacCfg(batch_size=16, distributional=False, num_atoms=11)
    policy = SacPolicyCfg(actor_hidden_dims=(8,), critic_hidden_dims=(8,), action_scale=action_scale)
    agent = SAC(OffPolicyActorCritic(SHAPES, A, policy, cfg, deterministic=False), cfg, "sac", seed=0)
    noise = torch.randn(200_000, A, generator=torch.Generator().manual_seed(0))
    mean = torch.zeros_like(noise)
    log_std = torch.full_like(noise, policy.log_std_max)
    _, log_prob = squashed_gaussian_sample(mean, log_std, noise, action_scale)
    most_entropy = -log_prob.mean().item()
    # Worked out by hand: tanh of a unit Gaussian has 1.419 - 2 E[log cosh u] = 0.68 nats on [-1, 1].
    assert most_entropy == pytest.approx(A * (0.68 + math.log(action_scale)), abs=0.02 * A)
    assert agent.target_entropy == pytest.approx(A * (-1.0 + math.log(action_scale)))
    assert most_entropy - agent.target_entropy > 1.5 * A


@pytest.mark.parametrize(("algorithm", "autotune"), [("sac", False), ("td3", True)])
def test_temperature_stays_without_autotune_and_in_td3(algorithm, autotune):
    agent = _agent(algorithm, init_alpha=0.5, autotune_alpha=autotune, target_entropy_per_action=0.6)
    stats = agent.update(_batch(), update_actor=True)
    assert agent.log_alpha.item() == pytest.approx(math.log(0.5))
    assert "Loss/alpha" not in stats


def test_polyak_averages_the_targets_toward_the_stepped_critics():
    agent = _agent(tau=0.25)
    model = agent.model
    with torch.no_grad():  # targets apart from the critics, so that the average shows
        for p in model.target_critic.parameters():
            p.add_(torch.randn_like(p))
    targets_before = _params(model.target_critic)
    agent.update(_batch(), update_actor=False)
    critics_after = _params(model.critic)
    for before, online, after in zip(
        targets_before, critics_after, model.target_critic.parameters(), strict=True
    ):
        torch.testing.assert_close(after, 0.75 * before + 0.25 * online, rtol=0, atol=1e-6)
        assert not after.requires_grad and after.grad is None


def test_a_critic_only_update_leaves_the_actor_and_alpha():
    agent = _agent()
    actor = [p.detach().clone() for p in agent.actor_parameters]
    critic = _params(agent.model.critic)
    stats = agent.update(_batch(), update_actor=False)
    assert all(torch.equal(a, b) for a, b in zip(actor, agent.actor_parameters, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(critic, agent.model.critic.parameters(), strict=True))
    assert set(stats) == {"Loss/critic", "Critic/q_mean", "Critic/target_mean"}
    assert agent.log_alpha.item() == pytest.approx(math.log(SacCfg().init_alpha))


def test_the_actor_step_leaves_the_critics():
    agent = _agent()
    batch = _batch()
    agent.update(batch, update_actor=False)
    critic = _params(agent.model.critic)
    grads = [p.grad.clone() for p in agent.model.critic.parameters()]
    agent._actor_step(batch, set_grads_to_none=True)
    assert all(torch.equal(a, b) for a, b in zip(critic, agent.model.critic.parameters(), strict=True))
    assert all(torch.equal(a, p.grad) for a, p in zip(grads, agent.model.critic.parameters(), strict=True))


def _filled_replay(seed=5, steps=6, num_envs=4) -> ReplayBuffer:
    g = torch.Generator().manual_seed(seed)
    replay = ReplayBuffer(8, num_envs, SHAPES, A, "cpu", n_step=2, gamma=0.9)
    for _ in range(steps):
        obs = {name: torch.randn(num_envs, *shape, generator=g) for name, shape in SHAPES.items()}
        nxt = {name: torch.randn(num_envs, *shape, generator=g) for name, shape in SHAPES.items()}
        replay.add(
            obs,
            SCALE * (2 * torch.rand(num_envs, A, generator=g) - 1),
            torch.randn(num_envs, generator=g),
            nxt,
            torch.rand(num_envs, generator=g) < 0.2,
            torch.rand(num_envs, generator=g) < 0.2,
        )
    return replay


def test_td3_updates_the_actor_every_policy_delay_updates():
    agent = _agent("td3", policy_delay=3)
    replay = _filled_replay()
    actor_changed, critic_changed = [], []
    for _ in range(7):
        actor = [p.detach().clone() for p in agent.actor_parameters]
        critic = _params(agent.model.critic)
        stats = agent.train_step(replay)
        actor_changed.append(
            not all(torch.equal(a, b) for a, b in zip(actor, agent.actor_parameters, strict=True))
        )
        critic_changed.append(
            not all(torch.equal(a, b) for a, b in zip(critic, agent.model.critic.parameters(), strict=True))
        )
        assert ("Loss/actor" in stats) == actor_changed[-1]
    assert actor_changed == [True, False, False, True, False, False, True]
    assert all(critic_changed)
    assert agent.num_updates == 7


def _state(agent: SAC) -> dict:
    return {
        "model": agent.model.state_dict(),
        "log_alpha": agent.log_alpha.detach(),
        "generator": agent.generator.get_state(),
    }


@pytest.mark.parametrize("algorithm", ["sac", "td3"])
def test_updates_are_reproducible_from_a_seed(algorithm):
    runs = []
    for seed in (11, 11, 12):
        agent = _agent(algorithm, seed=seed, distributional=True)
        replay = _filled_replay()
        for _ in range(3):
            agent.train_step(replay)
        runs.append(_state(agent))
    for key, value in runs[0]["model"].items():
        assert torch.equal(value, runs[1]["model"][key]), key
    assert torch.equal(runs[0]["log_alpha"], runs[1]["log_alpha"])
    assert not torch.equal(runs[0]["model"]["critic.head.weight"], runs[2]["model"]["critic.head.weight"])


def test_optimizer_state_round_trips():
    agent = _agent()
    replay = _filled_replay()
    for _ in range(2):
        agent.train_step(replay)
    other = _agent()
    other.load_optimizer_state(agent.optimizer_state())
    for name in ("actor", "critic", "alpha"):
        saved = agent.optimizer_state()[name]["state"]
        loaded = other.optimizer_state()[name]["state"]
        assert saved.keys() == loaded.keys() and saved
        for index in saved:
            for key, value in saved[index].items():
                assert torch.equal(value, loaded[index][key])


def test_train_step_reads_nothing_on_the_host():
    """No .item(), float(t), tolist()... in the sampling or the update (clipping on): on CUDA each
    would make the host wait once per update. The CPU optimizers' own steps read their step
    counters and are not counted (the fused CUDA ones do not)."""
    agent = _agent(max_grad_norm=1.0, distributional=True)
    replay = _filled_replay()
    agent.train_step(replay)
    recorder = HostReadRecorder()
    optimizers = (agent.actor_optimizer, agent.critic_optimizer, agent.alpha_optimizer)
    for optimizer in optimizers:
        step = optimizer.step

        def unrecorded_step(*args, _step=step, **kwargs):
            with recorder.paused():
                return _step(*args, **kwargs)

        optimizer.step = unrecorded_step
    try:
        with recorder:
            for _ in range(3):
                agent.train_step(replay)
    finally:
        for optimizer in optimizers:
            del optimizer.step
    assert recorder.total == 0, f"host reads in the update: {recorder.hits}"


def test_algorithm_must_fit_the_actor():
    agent = _agent("td3")
    with pytest.raises(ValueError, match="algorithm 'sac' does not fit a model with a deterministic actor"):
        SAC(agent.model, agent.cfg, "sac")
    with pytest.raises(ValueError, match="algorithm must be 'sac' or 'td3', got 'ppo'"):
        SAC(agent.model, agent.cfg, "ppo")
