"""Config errors name the field or term that is wrong."""

from __future__ import annotations

import pytest

import warplab
from warplab.envs import ConfigError, ObservationGroupCfg, ObservationTermCfg, RewardTermCfg, RlEnv, mdp
from warplab.tasks import UnknownTaskError

from ._cfgs import cartpole_cfg


def test_unknown_term_param_names_the_term_path():
    cfg = cartpole_cfg(rewards={"foo": RewardTermCfg(func=mdp.joint_vel_l2, params={"joint": "hinge"})})
    with pytest.raises(ConfigError, match=r"rewards\.foo\.params") as err:
        RlEnv(cfg)
    assert "'joint'" in str(err.value) and "joints" in str(err.value)  # what it got, what it takes


def test_unknown_observation_param_names_the_term_path():
    group = ObservationGroupCfg(
        terms={"pos": ObservationTermCfg(func=mdp.joint_pos, params={"bodies": "cart"})}
    )
    with pytest.raises(ConfigError, match=r"observations\.policy\.terms\.pos\.params"):
        RlEnv(cartpole_cfg(observations={"policy": group}))


def test_unknown_name_in_a_term_class_names_the_term():
    cfg = cartpole_cfg()
    cfg.actions["force"].params = {"actuators": "elbow"}
    with pytest.raises(ConfigError, match=r"actions\.force.*elbow"):
        RlEnv(cfg)


def test_missing_policy_group():
    group = ObservationGroupCfg(terms={"pos": ObservationTermCfg(func=mdp.joint_pos)})
    with pytest.raises(ConfigError, match="'policy'"):
        RlEnv(cartpole_cfg(observations={"critic": group}))


@pytest.mark.parametrize("decimation", [0, -1, 2.0])
def test_bad_decimation(decimation):
    with pytest.raises(ConfigError, match="decimation"):
        RlEnv(cartpole_cfg(decimation=decimation))


@pytest.mark.parametrize(
    ("field", "value"), [("num_envs", 0), ("episode_length_s", 0.0), ("timestep", -0.01)]
)
def test_other_bad_fields(field, value):
    with pytest.raises(ConfigError, match=field):
        RlEnv(cartpole_cfg(**{field: value}))


def test_unknown_task_lists_the_registered_tasks():
    with pytest.raises(UnknownTaskError) as err:
        warplab.make("nope", 1)
    assert "cartpole-balance" in str(err.value) and "'nope'" in str(err.value)
    # A near miss is suggested.
    with pytest.raises(UnknownTaskError, match="Did you mean 'cartpole-balance'"):
        warplab.make("cartpole-balanse", 1)


def test_override_of_an_unknown_field_names_it():
    with pytest.raises(ConfigError, match="episode_len_s"):
        warplab.make("cartpole-balance", 1, device="cpu", episode_len_s=5.0)
    with pytest.raises(ConfigError, match=r"sim\.njmaxx"):
        warplab.make("cartpole-balance", 1, device="cpu", **{"sim.njmaxx": 10})
    with pytest.raises(ConfigError, match=r"rewards\.speed"):
        warplab.make("cartpole-balance", 1, device="cpu", **{"rewards.speed.weight": 1.0})


def test_override_of_a_known_field_applies():
    env = warplab.make(
        "cartpole-balance", 1, device="cpu", episode_length_s=0.5, **{"rewards.alive.weight": 2.0}
    )
    assert env.max_episode_length == 25
    assert env.cfg.rewards["alive"].weight == 2.0
