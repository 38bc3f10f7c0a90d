"""RewardWeightCurriculum: reward terms phased in (and out) by the success rate of ended episodes,
on the getting-up task whose anti-leap penalties it governs."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from warplab.envs.managers.term import ConfigError
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg
from warplab.tasks.recovery import mdp as recovery

SCALED = ("airborne", "base_rise_speed")


def _getup_env(num_envs: int = 4, play: bool = False, **params) -> RlEnv:
    """humanoid-getup with 0.1 s episodes (5 policy steps: every world times out together) and the
    curriculum's params changed by ``params``."""
    cfg = make_env_cfg("humanoid-getup", play=play)
    cfg.num_envs, cfg.device, cfg.seed, cfg.episode_length_s = num_envs, "cpu", 3, 0.1
    term = cfg.curriculum["anti_leap"]
    cfg.curriculum["anti_leap"] = dataclasses.replace(term, params={**term.params, **params})
    return RlEnv(cfg)


def _run_episode(env: RlEnv) -> None:
    zeros = torch.zeros(env.num_envs, env.action_dim)
    for _ in range(env.max_episode_length):
        env.step(zeros)


def _scales(env: RlEnv) -> dict[str, float]:
    rewards = env.reward_manager
    return {name: float(rewards.weight_scales[rewards.index(name)]) for name in rewards.names}


def test_scale_grows_with_success_and_weights_the_terms():
    # "time_out" as the success term: every ended episode succeeds, so each window raises the scale.
    env = _getup_env(success_term="time_out", window=4, step=0.5, raise_above=0.5, initial_scale=0.0)
    term = env.curriculum_manager.term("anti_leap")
    assert float(term.scale) == 0.0
    seen = []
    for _ in range(3):
        _run_episode(env)
        seen.append(float(term.scale))
        scales = _scales(env)
        assert all(scales[name] == seen[-1] for name in SCALED)
        assert all(v == 1.0 for name, v in scales.items() if name not in SCALED)
    assert seen == [0.5, 1.0, 1.0]
    assert float(env.curriculum_manager.state["anti_leap"]) == 1.0

    # The step's reward for a scaled term is weight x dt x scale x the term's value.
    rewards = env.reward_manager
    column = rewards.index("base_rise_speed")
    weight = env.cfg.rewards["base_rise_speed"].weight
    gen = torch.Generator().manual_seed(1)
    env.step(torch.rand(env.num_envs, env.action_dim, generator=gen) * 2 - 1)
    value = recovery.base_rise_speed_above(env, **env.cfg.rewards["base_rise_speed"].params)
    torch.testing.assert_close(rewards.step_terms[:, column], value * weight * env.policy_dt * 1.0)


def test_scale_zero_removes_the_terms_and_failure_lowers_it():
    # Lying worlds never end standing: the success rate is 0, below lower_below, so the scale falls.
    env = _getup_env(success_term="success_standing", window=4, step=0.25, initial_scale=0.5)
    term = env.curriculum_manager.term("anti_leap")
    _run_episode(env)
    assert float(term.scale) == 0.25
    _run_episode(env)
    _run_episode(env)
    assert float(term.scale) == 0.0
    # At scale 0 the terms add nothing, whatever the robot does.
    gen = torch.Generator().manual_seed(2)
    for _ in range(3):
        env.step(torch.rand(env.num_envs, env.action_dim, generator=gen) * 2 - 1)
        for name in SCALED:
            assert torch.all(env.reward_manager.step_terms[:, env.reward_manager.index(name)] == 0.0)


def test_a_partial_window_decides_nothing():
    env = _getup_env(success_term="time_out", window=8, step=0.5, initial_scale=0.0)
    _run_episode(env)  # 4 of the 8 episodes a decision needs
    assert float(env.curriculum_manager.term("anti_leap").scale) == 0.0
    _run_episode(env)
    assert float(env.curriculum_manager.term("anti_leap").scale) == 0.5


def test_play_mode_holds_the_full_weights():
    env = _getup_env(play=True)
    _run_episode(env)
    assert all(_scales(env)[name] == 1.0 for name in SCALED)


def test_state_is_saved_and_restored():
    env = _getup_env(success_term="time_out", window=4, step=0.5, initial_scale=0.0)
    _run_episode(env)
    state = env.get_state()
    other = _getup_env(success_term="time_out", window=4, step=0.5, initial_scale=0.0)
    other.set_state(state)
    assert float(other.curriculum_manager.term("anti_leap").scale) == 0.5
    assert _scales(other) == _scales(env)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"rewards": ["airborne", "hovering"]},
            "no reward term named 'hovering'; this task's reward terms are",
        ),
        ({"success_term": "stood"}, "no termination term named 'stood'; this task's are"),
    ],
)
def test_unknown_names_are_named(params, message):
    with pytest.raises(ConfigError, match=message):
        _getup_env(**params)


def test_bad_numbers_are_rejected():
    with pytest.raises(ValueError, match="step must be in"):
        _getup_env(step=0.0)
    with pytest.raises(ValueError, match="initial_scale must be in"):
        _getup_env(initial_scale=1.5)
    with pytest.raises(ValueError, match="lower_below and raise_above"):
        _getup_env(lower_below=0.8, raise_above=0.2)
