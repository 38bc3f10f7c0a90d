"""Config validation, conversion to plain values, and the command line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import pytest
import torch
import tyro

from warplab.rl import PolicyCfg, PpoCfg, RunnerCfg, runner_cfg_from_dict, to_plain, validate


def test_defaults_are_valid():
    validate(RunnerCfg())
    validate(PpoCfg())
    validate(PolicyCfg())


def test_ppo_defaults_match_the_brief():
    cfg = PpoCfg()
    assert (cfg.num_steps_per_env, cfg.num_learning_epochs, cfg.num_mini_batches) == (24, 5, 4)
    assert (cfg.gamma, cfg.lam, cfg.clip_param, cfg.value_loss_coef) == (0.99, 0.95, 0.2, 1.0)
    assert (cfg.entropy_coef, cfg.learning_rate, cfg.desired_kl, cfg.max_grad_norm) == (
        0.005,
        1e-3,
        0.01,
        1.0,
    )
    assert cfg.clipped_value_loss and cfg.normalize_advantages and cfg.schedule == "adaptive"


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (PpoCfg(clip_param=1.5), "PpoCfg.clip_param must be in (0, 1), got 1.5"),
        (PpoCfg(gamma=-0.1), "PpoCfg.gamma must be in [0, 1], got -0.1"),
        (PpoCfg(num_mini_batches=0), "PpoCfg.num_mini_batches must be an integer >= 1, got 0"),
        (PpoCfg(num_learning_epochs=2.5), "PpoCfg.num_learning_epochs must be an integer >= 1, got 2.5"),
        (PpoCfg(learning_rate=0.0), "PpoCfg.learning_rate must be > 0, got 0.0"),
        (PpoCfg(schedule="cosine"), "PpoCfg.schedule must be one of ('adaptive', 'fixed'), got 'cosine'"),
        (PpoCfg(entropy_coef=float("nan")), "PpoCfg.entropy_coef must be >= 0, got nan"),
        (PolicyCfg(actor_hidden_dims=()), "PolicyCfg.actor_hidden_dims must be a non-empty sequence"),
        (PolicyCfg(activation="swish"), "PolicyCfg.activation must be one of"),
        (PolicyCfg(init_noise_std=0.0), "PolicyCfg.init_noise_std must be > 0, got 0.0"),
        (RunnerCfg(save_interval=0), "RunnerCfg.save_interval must be an integer >= 1, got 0"),
        (
            RunnerCfg(logger="mlflow"),
            "RunnerCfg.logger must be one of ('tensorboard', 'wandb', 'none'), got 'mlflow'",
        ),
        (
            RunnerCfg(experiment_name="a/b"),
            "RunnerCfg.experiment_name must be a string without path separators",
        ),
        (RunnerCfg(ppo=PpoCfg(clip_param=1.5)), "RunnerCfg.ppo.clip_param must be in (0, 1), got 1.5"),
        (RunnerCfg(policy=PolicyCfg(critic_hidden_dims=(64, 0))), "RunnerCfg.policy.critic_hidden_dims"),
    ],
)
def test_validate_names_field_range_and_value(cfg, message):
    with pytest.raises(ValueError) as error:
        validate(cfg)
    assert message in str(error.value)


def test_validate_does_not_change_values():
    cfg = RunnerCfg(seed=3, ppo=PpoCfg(learning_rate=3e-4))
    before = to_plain(cfg)
    validate(cfg)
    assert to_plain(cfg) == before


def test_runner_cfg_round_trips_through_plain_dict_and_json():
    cfg = RunnerCfg(run_name="x", ppo=PpoCfg(gamma=0.9), policy=PolicyCfg(actor_hidden_dims=(8, 4)))
    data = json.loads(json.dumps(to_plain(cfg)))
    assert runner_cfg_from_dict(data) == cfg
    with pytest.raises(ValueError, match=r"RunnerCfg.ppo has unknown fields \['gama'\]"):
        runner_cfg_from_dict({**data, "ppo": {"gama": 0.9}})


def _some_function():
    return 0


@dataclass
class _OddEnvCfg:
    tensor: torch.Tensor = field(default_factory=lambda: torch.zeros(2))
    term: object = _some_function
    terms: dict = field(default_factory=lambda: {"a": (1, 2), "b": _some_function})
    obj: object = field(default_factory=object)


def test_to_plain_is_json_safe_for_odd_env_configs():
    plain = to_plain(_OddEnvCfg())
    json.dumps(plain)
    assert plain["term"].endswith(":_some_function")
    assert plain["terms"]["a"] == [1, 2]
    assert plain["tensor"].startswith("tensor(")


def test_tyro_reads_the_configs():
    cfg = tyro.cli(
        RunnerCfg,
        args=["--ppo.clip-param", "0.3", "--policy.actor-hidden-dims", "16", "8", "--logger", "none"],
    )
    assert cfg == replace(
        RunnerCfg(),
        logger="none",
        ppo=PpoCfg(clip_param=0.3),
        policy=PolicyCfg(actor_hidden_dims=(16, 8)),
    )
