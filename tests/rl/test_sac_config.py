"""The SAC/TD3 settings: validation names the field, round trips, old checkpoints' configs, tyro."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import tyro

from warplab.rl import RunnerCfg, SacCfg, SacPolicyCfg, runner_cfg_from_dict, to_plain, validate


def test_defaults_are_valid_and_ppo_stays_the_default_algorithm():
    validate(SacCfg())
    validate(SacPolicyCfg())
    cfg = RunnerCfg()
    validate(cfg)
    assert cfg.algorithm == "ppo"
    assert cfg.sac == SacCfg() and cfg.sac_policy == SacPolicyCfg()


def test_defaults_are_the_documented_fast_sac_choices():
    sac = SacCfg()
    # Large batches reused 16 times per transition, a C51 critic pair, fast targets.
    assert (sac.batch_size, sac.replay_ratio, sac.replay_size_per_env) == (8192, 16.0, 1024)
    assert (sac.distributional, sac.num_atoms, sac.num_critics) == (True, 101, 2)
    assert (sac.tau, sac.policy_delay, sac.learning_starts, sac.max_grad_norm) == (0.1, 2, 10, 0.0)
    assert not sac.save_replay
    policy = SacPolicyCfg()
    assert policy.layer_norm and policy.activation == "silu"
    assert (policy.log_std_min, policy.log_std_max, policy.action_scale) == (-5.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (RunnerCfg(algorithm="ddpg"), "RunnerCfg.algorithm must be one of ('ppo', 'sac', 'td3'), got 'ddpg'"),
        (SacCfg(batch_size=0), "SacCfg.batch_size must be an integer >= 1, got 0"),
        (SacCfg(num_steps_per_env=2.0), "SacCfg.num_steps_per_env must be an integer >= 1, got 2.0"),
        (SacCfg(replay_size_per_env=True), "SacCfg.replay_size_per_env must be an integer >= 1, got True"),
        (SacCfg(learning_starts=-1), "SacCfg.learning_starts must be an integer >= 0, got -1"),
        (SacCfg(random_steps=-2), "SacCfg.random_steps must be an integer >= 0, got -2"),
        (SacCfg(num_atoms=1), "SacCfg.num_atoms must be an integer >= 2, got 1"),
        (SacCfg(num_critics=0), "SacCfg.num_critics must be an integer >= 1, got 0"),
        (SacCfg(policy_delay=0), "SacCfg.policy_delay must be an integer >= 1, got 0"),
        (SacCfg(n_step=0), "SacCfg.n_step must be an integer >= 1, got 0"),
        (SacCfg(n_step=5, replay_size_per_env=4), "SacCfg.n_step must be <= replay_size_per_env (4), got 5"),
        (SacCfg(batch_size=2**31), "SacCfg.batch_size must be at most 2147483647 (32-bit)"),
        (SacCfg(replay_ratio=0.0), "SacCfg.replay_ratio must be > 0, got 0.0"),
        (SacCfg(replay_ratio=float("inf")), "SacCfg.replay_ratio must be > 0, got inf"),
        (SacCfg(gamma=1.5), "SacCfg.gamma must be in [0, 1], got 1.5"),
        (SacCfg(tau=0.0), "SacCfg.tau must be in (0, 1], got 0.0"),
        (SacCfg(tau=1.1), "SacCfg.tau must be in (0, 1], got 1.1"),
        (SacCfg(actor_learning_rate=0.0), "SacCfg.actor_learning_rate must be in (0, 1], got 0.0"),
        (SacCfg(critic_learning_rate=2.0), "SacCfg.critic_learning_rate must be in (0, 1], got 2.0"),
        (SacCfg(alpha_learning_rate=float("nan")), "SacCfg.alpha_learning_rate must be in (0, 1], got nan"),
        (SacCfg(init_alpha=0.0), "SacCfg.init_alpha must be > 0, got 0.0"),
        (
            SacCfg(target_entropy_per_action=float("-inf")),
            "SacCfg.target_entropy_per_action must be a finite number below log 2 = 0.693 (nat"
            "s per action on [-1, 1]; a higher target is out of reach and the temperature grows without bound), got -inf",
        ),
        (
            SacCfg(target_entropy_per_action=0.7),
            "SacCfg.target_entropy_per_action must be a finite number below log 2 = 0.693 (nat"
            "s per action on [-1, 1]; a higher target is out of reach and the temperature grows without bound), got 0.7",
        ),
        (SacCfg(v_min=5.0, v_max=5.0), "SacCfg.v_min must be < v_max (5.0), got 5.0"),
        (SacCfg(v_max=float("nan")), "SacCfg.v_max must be a finite number, got nan"),
        (SacCfg(max_grad_norm=-1.0), "SacCfg.max_grad_norm must be >= 0, got -1.0"),
        (SacCfg(exploration_noise_std=-0.1), "SacCfg.exploration_noise_std must be >= 0, got -0.1"),
        (SacCfg(target_noise_clip=-0.5), "SacCfg.target_noise_clip must be >= 0, got -0.5"),
        (SacCfg(autotune_alpha=1), "SacCfg.autotune_alpha must be True or False, got 1"),
        (SacCfg(save_replay="yes"), "SacCfg.save_replay must be True or False, got 'yes'"),
        (SacCfg(bf16_autocast=1), "SacCfg.bf16_autocast must be True or False, got 1"),
        (SacPolicyCfg(actor_hidden_dims=()), "SacPolicyCfg.actor_hidden_dims must be a non-empty sequence"),
        (SacPolicyCfg(critic_hidden_dims=(8, 0)), "SacPolicyCfg.critic_hidden_dims must be a non-empty"),
        (SacPolicyCfg(activation="swish"), "SacPolicyCfg.activation must be one of"),
        (SacPolicyCfg(action_scale=0.0), "SacPolicyCfg.action_scale must be > 0, got 0.0"),
        (
            SacPolicyCfg(log_std_min=1.0, log_std_max=0.0),
            "SacPolicyCfg.log_std_min must be < log_std_max (0.0)",
        ),
        (SacPolicyCfg(log_std_max=float("inf")), "SacPolicyCfg.log_std_max must be a finite number, got inf"),
        (SacPolicyCfg(obs_clip=-1.0), "SacPolicyCfg.obs_clip must be > 0, got -1.0"),
        (SacPolicyCfg(layer_norm=None), "SacPolicyCfg.layer_norm must be True or False, got None"),
        (RunnerCfg(sac=SacCfg(tau=2.0)), "RunnerCfg.sac.tau must be in (0, 1], got 2.0"),
        (
            RunnerCfg(sac_policy=SacPolicyCfg(obs_clip=0.0)),
            "RunnerCfg.sac_policy.obs_clip must be > 0, got 0.0",
        ),
    ],
)
def test_validate_names_field_range_and_value(cfg, message):
    with pytest.raises(ValueError) as error:
        validate(cfg)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_sac_settings_round_trip_through_plain_dict_and_json():
    cfg = RunnerCfg(
        algorithm="td3",
        sac=SacCfg(batch_size=256, replay_ratio=0.5, v_min=-3.0, bf16_autocast=True),
        sac_policy=SacPolicyCfg(actor_hidden_dims=(8, 4), critic_hidden_dims=(16,), layer_norm=False),
    )
    data = json.loads(json.dumps(to_plain(cfg)))
    rebuilt = runner_cfg_from_dict(data)
    assert rebuilt == cfg
    assert rebuilt.sac.bf16_autocast is True
    assert isinstance(rebuilt.sac_policy.critic_hidden_dims, tuple)
    with pytest.raises(ValueError, match=r"RunnerCfg.sac has unknown fields \['bach_size'\]"):
        runner_cfg_from_dict({**data, "sac": {"bach_size": 8}})
    with pytest.raises(ValueError, match=r"RunnerCfg.sac_policy must be a dict of fields, got list"):
        runner_cfg_from_dict({**data, "sac_policy": [1, 2]})


def test_a_config_saved_before_sac_existed_loads_as_ppo():
    data = to_plain(RunnerCfg(seed=3))
    for key in ("algorithm", "sac", "sac_policy"):
        del data[key]
    cfg = runner_cfg_from_dict(data)
    assert cfg == RunnerCfg(seed=3)
    assert cfg.algorithm == "ppo"


def test_tyro_reads_the_sac_settings():
    cfg = tyro.cli(
        RunnerCfg,
        args=[
            "--algorithm",
            "sac",
            "--sac.batch-size",
            "512",
            "--sac.no-distributional",
            "--sac-policy.critic-hidden-dims",
            "32",
            "32",
        ],
    )
    assert cfg == replace(
        RunnerCfg(),
        algorithm="sac",
        sac=SacCfg(batch_size=512, distributional=False),
        sac_policy=SacPolicyCfg(critic_hidden_dims=(32, 32)),
    )
