"""warplab.integrations.sb3: the VecEnv contract against a twin RlEnv, and SB3's PPO and SAC on
cartpole-balance."""

from __future__ import annotations

import math
import warnings

import gymnasium
import numpy as np
import pytest
import torch

pytest.importorskip("stable_baselines3")
from stable_baselines3 import PPO, SAC  # noqa: E402
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402
from stable_baselines3.common.evaluation import evaluate_policy  # noqa: E402
from stable_baselines3.common.logger import KVWriter, Logger  # noqa: E402
from stable_baselines3.common.monitor import Monitor  # noqa: E402
from stable_baselines3.common.vec_env import VecNormalize  # noqa: E402

import warplab  # noqa: E402
from warplab.envs import RlEnv, mdp  # noqa: E402
from warplab.envs.config import ObservationGroupCfg, ObservationTermCfg  # noqa: E402
from warplab.integrations.gymnasium import WarplabEnv  # noqa: E402
from warplab.integrations.sb3 import Sb3VecEnv, make_sb3_env  # noqa: E402
from warplab.tasks import make_env_cfg  # noqa: E402

from .helpers import example_module  # noqa: E402

CARTPOLE = "cartpole-balance"
SHORT_S = 0.1
"""Cart-pole episodes of 0.1 s: 5 policy steps, too short for the pole to fall (all time-outs)."""


# ---------------------------------------------------------------------------------------- the contract
def test_time_outs_carry_the_terminal_observation_and_the_time_limit_flag():
    """Against two twins with the same seed: one with the same short episodes (its ``final_obs``) and
    one with long episodes (its observation at the same step: the state before the reset)."""
    env = make_sb3_env(CARTPOLE, 3, device="cpu", seed=4, episode_length_s=SHORT_S)
    same = warplab.make(CARTPOLE, num_envs=3, device="cpu", seed=4, episode_length_s=SHORT_S)
    long = warplab.make(CARTPOLE, num_envs=3, device="cpu", seed=4)
    horizon = math.ceil(round(SHORT_S / (long.cfg.decimation * long.mj_model.opt.timestep), 6))
    assert horizon == 5
    obs = env.reset()
    same.reset()
    long_obs, _ = long.reset()
    np.testing.assert_array_equal(obs, long_obs["policy"].numpy())
    rng = np.random.default_rng(0)
    returns = np.zeros(3)
    for step in range(1, horizon + 1):
        action = rng.uniform(-0.3, 0.3, (3, 1)).astype(np.float32)
        obs, reward, dones, infos = env.step(action)
        _, _, _, _, same_info = same.step(torch.from_numpy(action))
        long_obs, long_reward, *_ = long.step(torch.from_numpy(action))
        returns += long_reward.numpy()
        assert isinstance(obs, np.ndarray) and obs.dtype == np.float32 and obs.shape == (3, 4)
        assert reward.dtype == np.float32 and dones.dtype == np.bool_ and len(infos) == 3
        np.testing.assert_array_equal(reward, long_reward.numpy())
        if step < horizon:
            assert not dones.any()
            assert all(info == {"TimeLimit.truncated": False} for info in infos)
            np.testing.assert_array_equal(obs, long_obs["policy"].numpy())
            continue
        assert dones.all()
        for i, info in enumerate(infos):
            assert info["TimeLimit.truncated"] is True
            np.testing.assert_array_equal(
                info["terminal_observation"], same_info["final_obs"]["policy"][i].numpy()
            )
            np.testing.assert_array_equal(info["terminal_observation"], long_obs["policy"][i].numpy())
            assert info["episode"]["l"] == horizon
            assert info["episode"]["r"] == pytest.approx(returns[i], rel=1e-6)
        assert np.abs(obs[:, :2]).max() <= 0.1 + 1e-6  # the next episode's start


def test_terminations_are_not_time_outs_and_episode_records_match_the_rewards():
    """Pushing the cart hard topples the pole: those episodes end terminated, not truncated, and the
    ``episode`` records equal the returns and lengths summed here from the step outputs."""
    env = make_sb3_env(CARTPOLE, 4, device="cpu", seed=1)
    env.reset()
    env.env.pop_episode_stats()
    rng = np.random.default_rng(1)
    running_return, running_length = np.zeros(4), np.zeros(4, dtype=int)
    records = []
    for _ in range(150):
        obs, reward, dones, infos = env.step(rng.choice([-1.0, 1.0], (4, 1)).astype(np.float32))
        running_return += reward
        running_length += 1
        for i in np.flatnonzero(dones):
            info = infos[i]
            assert info["TimeLimit.truncated"] is False
            final = info["terminal_observation"]
            assert abs(final[1]) > 0.4 or abs(final[0]) > 2.5, final  # fell or left the rail
            assert np.abs(obs[i, :2]).max() <= 0.1 + 1e-6  # then a fresh start
            assert info["episode"]["l"] == running_length[i]
            assert info["episode"]["r"] == pytest.approx(running_return[i], rel=1e-5)
            records.append(info["episode"]["r"])
            running_return[i], running_length[i] = 0.0, 0
        assert all("terminal_observation" not in infos[i] for i in np.flatnonzero(~dones))
        if len(records) >= 8:
            break
    assert len(records) >= 8, "bang-bang pushes should topple the pole several times in 150 steps"
    stats = env.env.pop_episode_stats()  # warplab's own device-side sums over the same episodes
    assert stats["Episode/count"] == len(records)
    assert stats["Episode/return"] == pytest.approx(np.mean(records), rel=1e-5)


def test_attributes_methods_seeds_and_wrappers():
    env = make_sb3_env(CARTPOLE, 3, device="cpu", episode_length_s=SHORT_S)
    assert env.get_attr("max_episode_length") == [5, 5, 5]
    assert env.get_attr("num_envs", indices=[0, 2]) == [3, 3]
    assert env.get_attr("render_mode") == [None] * 3
    assert env.has_attr("policy_dt") and not env.has_attr("no_such_attribute")
    with pytest.raises(IndexError, match=r"world indices \[3\] out of range for 3 worlds"):
        env.get_attr("num_envs", indices=[3])
    with pytest.raises(ValueError, match="acts on all of them; pass indices=None"):
        env.set_attr("common_step_counter", 0, indices=[1])
    env.set_attr("common_step_counter", 7)
    assert env.env.common_step_counter == 7
    with pytest.raises(ValueError, match="acts on all of them"):
        env.env_method("pop_episode_stats", indices=0)
    stats = env.env_method("pop_episode_stats")
    assert len(stats) == 3 and stats[0] is stats[2] and "Env/nan_resets" in stats[0]
    assert env.env_is_wrapped(Monitor) == [True] * 3
    assert env.env_is_wrapped(gymnasium.wrappers.TimeLimit, indices=[1]) == [False]

    assert env.seed(11) == [11, 12, 13]
    first = env.reset()
    env.step(np.zeros((3, 1), np.float32))
    env.seed(11)
    np.testing.assert_array_equal(env.reset(), first)
    env.seed(12)
    assert not np.array_equal(env.reset(), first)
    env.set_options({"reset_mask": [True]})
    with pytest.raises(ValueError, match="no reset options"):
        env.reset()


def test_bad_actions_surface_the_env_error():
    env = make_sb3_env(CARTPOLE, 2, device="cpu")
    env.reset()
    with pytest.raises(ValueError, match=r"expected \[num_envs=2, action_dim=1\]"):
        env.step(np.zeros((2, 3), np.float32))
    with pytest.raises(RuntimeError, match="without step_async"):
        env.step_wait()
    env.env.pop_episode_stats()
    env.step(np.array([[np.inf], [0.0]], np.float32))  # zeroed and counted by the env
    assert env.env.pop_episode_stats()["Env/nonfinite_actions"] == 1.0


def test_the_single_world_env_passes_sb3s_env_checker():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(WarplabEnv(CARTPOLE), warn=True)  # raises on a violation, warns on doubtful design
    # Deprecation notes of other packages are not the checker's verdict.
    unexpected = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    assert not unexpected, unexpected


# ---------------------------------------------------------------------------------------- learners
class _LogRecorder(KVWriter):
    """Keeps what SB3's logger writes, one dict per dump."""

    def __init__(self):
        self.rows: list[dict] = []

    def write(self, key_values, key_excluded, step=0):
        self.rows.append(dict(key_values))

    def close(self):
        pass


def test_ppo_runs_updates_under_vec_normalize():
    """SB3's PPO collects, bootstraps the time-outs from the terminal observations (which
    VecNormalize normalizes) and updates; its logger sees warplab's episode records."""
    env = VecNormalize(make_sb3_env(CARTPOLE, 4, device="cpu", episode_length_s=SHORT_S))
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=32, n_epochs=2, seed=0, device="cpu")
    recorder = _LogRecorder()
    model.set_logger(Logger(folder=None, output_formats=[recorder]))
    model.learn(total_timesteps=3 * 64)
    assert model.num_timesteps == 192 and model._n_updates == 3 * 2
    assert len(model.ep_info_buffer) == (48 // 5) * 4  # 48 steps of 4 worlds, an episode each 5 steps
    assert all(ep["l"] == 5 and 4.0 < ep["r"] <= 5.0 for ep in model.ep_info_buffer)
    logged = recorder.rows[-1]
    assert logged["rollout/ep_len_mean"] == 5.0 and 4.0 < logged["rollout/ep_rew_mean"] <= 5.0


def test_sac_runs_updates_and_stores_time_outs():
    env = make_sb3_env(CARTPOLE, 4, device="cpu", episode_length_s=SHORT_S)
    model = SAC("MlpPolicy", env, learning_starts=32, batch_size=32, buffer_size=1000, seed=0, device="cpu")
    model.learn(total_timesteps=80)
    assert model.num_timesteps == 80 and model._n_updates > 0
    buffer = model.replay_buffer
    steps = buffer.pos  # 20 steps of 4 worlds
    assert steps == 20
    # Every fifth step is a time-out in every world: SB3 stores it as done and as a time-out, so
    # SAC bootstraps it; no other step is either.
    expected = np.zeros((steps, 4))
    expected[4::5] = 1.0
    np.testing.assert_array_equal(buffer.timeouts[:steps], expected)
    np.testing.assert_array_equal(buffer.dones[:steps], expected)
    # The stored next observation of a time-out is the terminal one, not the next episode's start.
    assert np.abs(buffer.next_observations[4, :, :2] - buffer.observations[5, :, :2]).max() > 1e-4


def test_dict_observations_with_multi_input_ppo():
    cfg = make_env_cfg(CARTPOLE)
    cfg.observations["critic"] = ObservationGroupCfg(
        terms={"last_action": ObservationTermCfg(func=mdp.last_action)}
    )
    cfg.num_envs, cfg.device, cfg.episode_length_s = 2, "cpu", SHORT_S
    env = Sb3VecEnv(RlEnv(cfg), obs_groups=("policy", "critic"))
    assert set(env.observation_space.spaces) == {"policy", "critic"}
    obs = env.reset()
    assert obs["critic"].shape == (2, 1)
    for _ in range(5):
        obs, _, dones, infos = env.step(np.full((2, 1), 0.5, np.float32))
    assert dones.all() and infos[0]["terminal_observation"]["critic"].tolist() == [0.5]
    assert obs["critic"].tolist() == [[0.0], [0.0]]
    model = PPO("MultiInputPolicy", env, n_steps=8, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=16)
    assert model.num_timesteps == 16


@pytest.mark.slow
def test_ppo_learns_to_balance_the_cartpole():
    """SB3's PPO with near-default settings, on 16 worlds for 4-second episodes (a return of about
    200 when balanced; the untrained policy's pole falls within about a second)."""
    env = make_sb3_env(CARTPOLE, 16, device="cpu", seed=0, episode_length_s=4.0)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=64,
        batch_size=256,
        n_epochs=5,
        learning_rate=1e-3,
        policy_kwargs={"net_arch": [32, 32]},
        seed=0,
        device="cpu",
    )
    before, _ = evaluate_policy(model, env, n_eval_episodes=16)
    model.learn(total_timesteps=16 * 64 * 12)
    after, _ = evaluate_policy(model, env, n_eval_episodes=16)
    assert before < 80.0, f"the untrained policy already returns {before:.1f}"
    assert after > 140.0, f"mean return {after:.1f} after training (untrained: {before:.1f})"


def test_the_example_script_runs():
    with example_module("sb3_ppo.py") as module:
        args = module.Args(
            num_envs=4,
            timesteps=128,
            n_steps=16,
            batch_size=32,
            n_epochs=1,
            episode_length_s=0.1,
            normalize=True,
            verbose=0,
            policy_device="cpu",
        )
        result = module.main(args)
    assert result["steps_per_s"] > 0
    assert 4.0 < result["eval_return"] <= 5.0  # one 5-step episode per world, reward about 1 a step
