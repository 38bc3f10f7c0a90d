"""warplab.integrations.rl_games: the registered vecenv, and rl_games' PPO (Runner) on cartpole-balance."""

from __future__ import annotations

import copy
import glob
import importlib
import importlib.util
import sys
from pathlib import Path

import mujoco
import numpy as np
import pytest
import torch

pytest.importorskip("rl_games")
from rl_games.common import env_configurations, vecenv  # noqa: E402
from rl_games.torch_runner import Runner  # noqa: E402

import warplab  # noqa: E402
from warplab.assets.robots.cartpole import cartpole_spec  # noqa: E402
from warplab.envs.rl_env import RlEnv  # noqa: E402
from warplab.integrations.rl_games import RlGamesObserver, RlGamesVecEnv, register  # noqa: E402
from warplab.tasks import make_env_cfg  # noqa: E402

from .helpers import cartpole_with_critic_group, example_module  # noqa: E402

TASK = "cartpole-balance"


def load_example():
    with example_module("rl_games_ppo.py") as module:
        return module


def params_for(tmp_path, num_envs: int = 4, epochs: int = 3, **config) -> dict:
    """The example YAML's params for a short CPU run, with ``config`` entries replaced."""
    example = load_example()
    args = example.Args(num_envs=num_envs, epochs=epochs, seed=1, train_dir=str(tmp_path))
    params = example.make_params(args)
    params["torch_threads"] = 1
    params["config"].update(config)
    return params


def test_registered_vecenv_contract_and_time_outs():
    register()
    assert env_configurations.configurations["warplab"]["vecenv_type"] == "WARPLAB"
    # Episodes of 5 steps: the time limit ends them at steps 5 and 10 (the pole stays up so briefly).
    env = vecenv.create_vec_env(
        "warplab", 4, task=TASK, device="cpu", seed=3, overrides={"episode_length_s": 0.1}
    )
    assert isinstance(env, RlGamesVecEnv) and env.num_envs == 4
    info = env.get_env_info()
    assert info["observation_space"].shape == (4,) and info["action_space"].shape == (1,)
    # The motor's control range [-1, 1] (warplab.integrations.spaces.action_space).
    assert info["action_space"].low.tolist() == [-1.0] and info["action_space"].high.tolist() == [1.0]
    assert info["state_space"] is None
    assert env.get_number_of_agents() == 1 and info["agents"] == 1 and info["value_size"] == 1

    obs = env.reset()
    assert list(obs) == ["obs"] and obs["obs"].shape == (4, 4) and obs["obs"].device == torch.device("cpu")
    for t in range(1, 11):
        obs, rewards, dones, infos = env.step(torch.zeros(4, 1))
        assert rewards.shape == (4,) and rewards.dtype == torch.float32
        assert dones.dtype == torch.uint8 and dones.shape == (4,)
        assert torch.equal(infos["time_outs"], torch.full((4,), t % 5 == 0))
        assert torch.equal(dones.bool(), infos["time_outs"])


def test_termination_is_not_a_time_out():
    env = RlGamesVecEnv(warplab.make(TASK, num_envs=4, device="cpu", seed=0))
    env.reset()
    fell = torch.zeros(4, dtype=torch.bool)
    for _ in range(60):  # a constant push topples the pole within about 30 steps
        _, _, dones, infos = env.step(torch.ones(4, 1))
        assert not infos["time_outs"].any()
        fell |= dones.bool()
    assert fell.all()


def test_states_come_from_the_critic_group():
    env = RlGamesVecEnv(cartpole_with_critic_group(4))
    assert env.states_group == "critic" and env.get_env_info()["state_space"].shape == (5,)
    obs = env.reset()
    assert obs["obs"].shape == (4, 4) and obs["states"].shape == (4, 5)
    obs, *_ = env.step(torch.full((4, 1), 0.3))
    assert torch.allclose(obs["states"][:, 4], torch.full((4,), 0.3))  # the last action
    with pytest.raises(ValueError, match="no observation group 'teacher'; its groups are"):
        RlGamesVecEnv(env.env, states_group="teacher")


def test_ppo_runner_trains_logs_and_saves(tmp_path):
    register()
    observer = RlGamesObserver()
    runner = Runner(algo_observer=observer)
    runner.load({"params": params_for(tmp_path, save_frequency=1, save_best_after=0)})
    runner.run({"train": True, "play": False})

    agent = observer.algo
    assert agent.epoch_num == 3 and agent.frame == 3 * 32 * 4
    assert agent.vec_env.env.common_step_counter == 3 * 32
    checkpoints = glob.glob(str(tmp_path / "*" / "nn" / "*.pth"))
    assert any("_ep_3_" in Path(p).name for p in checkpoints), checkpoints
    # Episodes finished (a random policy drops the pole within about 25 steps), so the observer
    # read the warplab statistics and rl_games wrote them next to its own.
    assert observer.last_stats["Episode/count"] > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(glob.glob(str(tmp_path / "*" / "summaries"))[0])
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"Episode/return", "Episode_Termination/pole_fell", "rewards/iter"} <= tags

    # rl_games' player builds the env through the vecenv and plays the saved policy.
    params = params_for(tmp_path)
    params["config"]["player"] = {"use_vecenv": True, "games_num": 4, "render": False, "print_stats": False}
    player_runner = Runner()
    player_runner.load({"params": params})
    player = player_runner.create_player()
    player.restore(sorted(checkpoints)[-1])
    assert isinstance(player.env, RlGamesVecEnv)
    player.run()
    assert player.env.env.common_step_counter > 0


def test_ppo_runner_with_an_asymmetric_critic(tmp_path):
    # The "critic" group reaches rl_games' central value network as "states".
    env = cartpole_with_critic_group(4)
    register("warplab-asymmetric", env)
    central_value = {
        "minibatch_size_per_env": 8,
        "mini_epochs": 2,
        "learning_rate": 1e-3,
        "clip_value": True,
        "normalize_input": True,
        "truncate_grads": True,
        "network": {
            "name": "actor_critic",
            "central_value": True,
            "mlp": {"units": [16], "activation": "elu", "initializer": {"name": "default"}},
        },
    }
    params = params_for(tmp_path, epochs=2, env_name="warplab-asymmetric", central_value_config=central_value)
    params["config"]["env_config"] = {}  # the env is built already; rl_games still adds its seed
    observer = RlGamesObserver()
    runner = Runner(algo_observer=observer)
    runner.load({"params": params})
    runner.run({"train": True, "play": False})

    agent = observer.algo
    assert agent.has_central_value and agent.epoch_num == 2
    assert agent.central_value_net.state_shape == (5,)
    assert env.common_step_counter == 2 * 32


def test_rl_games_clip_actions_rescales_to_the_control_range(tmp_path):
    # rl_games' clip_actions: True maps its [-1, 1] actions onto the action space's bounds: the
    # cart motor's control range, finite, so training runs.
    register()
    observer = RlGamesObserver()
    runner = Runner(algo_observer=observer)
    runner.load({"params": params_for(tmp_path, epochs=1, clip_actions=True)})
    runner.run({"train": True, "play": False})
    assert observer.algo.epoch_num == 1
    assert observer.algo.actions_high.tolist() == [1.0]


def test_rl_games_clip_actions_with_an_unbounded_space_is_refused(tmp_path):
    # A cart motor without a control range: nothing bounds the action, so rl_games cannot rescale.
    def unlimited_cartpole():
        spec = cartpole_spec()
        spec.actuators[0].ctrllimited = mujoco.mjtLimited.mjLIMITED_FALSE
        return spec

    cfg = make_env_cfg(TASK)
    cfg.scene, cfg.num_envs, cfg.device = unlimited_cartpole, 4, "cpu"
    env = RlEnv(cfg)
    register("warplab-unbounded", env)
    assert np.isinf(RlGamesVecEnv(env).action_space.high).all()
    params = params_for(tmp_path, epochs=1, clip_actions=True, env_name="warplab-unbounded")
    params["config"]["env_config"] = {}
    runner = Runner(algo_observer=RlGamesObserver())
    runner.load({"params": params})
    with pytest.raises(ValueError, match="set config.clip_actions: False"):
        runner.run({"train": True, "play": False})


def test_clip_actions_bound_the_action_space():
    env = RlGamesVecEnv(warplab.make(TASK, num_envs=2, device="cpu"), clip_actions=0.5)
    assert env.action_space.high.tolist() == [0.5] and env.action_space.low.tolist() == [-0.5]
    env.reset()
    env.step(torch.full((2, 1), 3.0))
    assert torch.allclose(env.env.action_manager.action, torch.full((2, 1), 0.5))


def test_registered_env_must_match_num_actors(tmp_path):
    register("warplab-built", warplab.make(TASK, num_envs=2, device="cpu"))
    with pytest.raises(ValueError, match="set num_actors: 2"):
        vecenv.create_vec_env("warplab-built", 4)


def test_missing_library_names_the_extra(monkeypatch):
    # None in sys.modules is what `import rl_games...` meets when the library is not installed.
    for name in [n for n in sys.modules if n == "rl_games" or n.startswith("rl_games.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "rl_games", None)
    monkeypatch.delitem(sys.modules, "warplab.integrations.rl_games")
    with pytest.raises(ImportError, match=r'pip install "warplab\[integrations\]"'):
        importlib.import_module("warplab.integrations.rl_games")


def test_example_yaml_matches_warplab_ppo_settings():
    # The YAML says it follows cartpole-balance's warplab settings: keep them in step.
    from warplab.tasks import get_task

    agent = get_task(TASK).agent_cfg_factory()
    params = load_example().make_params(load_example().Args())
    config = params["config"]
    assert config["horizon_length"] == agent.ppo.num_steps_per_env
    assert config["mini_epochs"] == agent.ppo.num_learning_epochs
    assert config["horizon_length"] // config["minibatch_size_per_env"] == agent.ppo.num_mini_batches
    assert float(config["learning_rate"]) == agent.ppo.learning_rate
    assert params["network"]["mlp"]["units"] == list(agent.policy.actor_hidden_dims)
    assert copy.deepcopy(config["env_config"]) == {"task": TASK, "device": "cpu"}


class _ReturnsPerEpoch(RlGamesObserver):
    """Keeps the mean return of the episodes finished in each epoch (NaN where none finished)."""

    def __init__(self):
        super().__init__()
        self.returns: list[float] = []

    def after_print_stats(self, frame: int, epoch_num: int, total_time: float) -> None:
        super().after_print_stats(frame, epoch_num, total_time)
        self.returns.append(self.last_stats.get("Episode/return", float("nan")))


@pytest.mark.slow
def test_ppo_runner_learns_cartpole(tmp_path):
    # The example's settings, 16 worlds, 15 epochs (about 14 s here). Seeded by rl_games (torch) and
    # by the env's seed, which rl_games hands to the env: with seed 1 the return of finished
    # training episodes went from 23 in the first epoch to 120-260 in epochs 10-15. An epoch where
    # no world finished an episode (every pole stayed up 32 steps) has no return and is skipped.
    register()
    observer = _ReturnsPerEpoch()
    runner = Runner(algo_observer=observer)
    runner.load({"params": params_for(tmp_path, num_envs=16, epochs=15)})
    runner.run({"train": True, "play": False})
    first = observer.returns[0]
    later = [r for r in observer.returns[-6:] if r == r]
    assert first < 60.0, f"the untrained policy already returns {first:.1f}"
    assert later and sum(later) / len(later) > 4 * first, f"returns per epoch: {observer.returns}"
