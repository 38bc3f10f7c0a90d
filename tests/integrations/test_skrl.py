"""warplab.integrations.skrl: the Wrapper contract, FinalObsPPO's bootstrap, skrl's PPO with SequentialTrainer."""

from __future__ import annotations

import glob
import importlib
import importlib.util
import sys

import pytest
import torch

pytest.importorskip("skrl")
from skrl.envs.wrappers.torch import Wrapper  # noqa: E402
from skrl.memories.torch import RandomMemory  # noqa: E402
from skrl.trainers.torch import SequentialTrainer, SequentialTrainerCfg  # noqa: E402

import warplab  # noqa: E402
from warplab.integrations._common import time_outs  # noqa: E402
from warplab.integrations.skrl import FinalObsPPO, SkrlVecEnv  # noqa: E402

from .helpers import cartpole_with_critic_group, example_module  # noqa: E402

TASK = "cartpole-balance"


@pytest.fixture(scope="module")
def example():
    with example_module("skrl_ppo.py") as module:
        yield module


def test_time_outs_exclude_terminations():
    terminated = torch.tensor([False, True, False, True])
    truncated = torch.tensor([False, False, True, True])
    # Only the world cut by the time limit alone is a time-out; terminated on its last step is terminal.
    assert time_outs(terminated, truncated).tolist() == [False, False, True, False]


def test_wrapper_contract_time_outs_and_final_observations():
    env = SkrlVecEnv(
        warplab.make(TASK, num_envs=4, device="cpu", seed=3, episode_length_s=0.1), log_interval=5
    )
    assert isinstance(env, Wrapper)
    assert env.num_envs == 4 and env.num_agents == 1 and env.device == torch.device("cpu")
    assert env.observation_space.shape == (4,) and env.action_space.shape == (1,)
    assert env.action_space.low.tolist() == [-1.0] and env.action_space.high.tolist() == [1.0]  # ctrlrange
    assert env.state_space is None and env.state() is None

    obs, infos = env.reset()
    assert obs.shape == (4, 4) and infos == {}
    for t in range(1, 11):
        next_obs, rewards, terminated, truncated, infos = env.step(torch.zeros(4, 1))
        assert next_obs.shape == (4, 4) and rewards.shape == (4, 1) and rewards.dtype == torch.float32
        assert terminated.shape == truncated.shape == (4, 1)
        assert terminated.dtype == truncated.dtype == torch.bool
        # Episodes of 5 steps: only the time limit ends them (the pole stays up that briefly).
        assert not terminated.any()
        assert torch.equal(truncated, torch.full((4, 1), t % 5 == 0))
        final = infos["final_observations"]
        if t % 5 == 0:
            # Finished worlds: the returned observations start the next episode, the terminal
            # observation continues the one that ended (the pole has moved on from the start).
            assert not torch.equal(final, next_obs)
            assert torch.allclose(final, obs, atol=0.2) and final[:, 2:].abs().sum() > 0
        else:
            assert torch.equal(final, next_obs)
        assert ("episode" in infos) == (t % 5 == 0)
        obs = next_obs
    assert float(infos["episode"]["Episode/length"]) == 5.0


def test_states_come_from_the_critic_group():
    env = SkrlVecEnv(cartpole_with_critic_group(4))
    assert env.state_space.shape == (5,)
    env.reset()
    assert env.state().shape == (4, 5)
    _, _, _, _, infos = env.step(torch.full((4, 1), 0.3))
    assert torch.allclose(env.state()[:, 4], torch.full((4,), 0.3))  # the last action
    assert infos["final_states"].shape == (4, 5)


def test_final_obs_ppo_bootstraps_from_the_terminal_observation(example, tmp_path):
    # A time-out at step 5 of every world: FinalObsPPO stores r + gamma * V(terminal observation),
    # where skrl's PPO alone would use V(first observation of the next episode).
    torch.manual_seed(0)
    env = SkrlVecEnv(warplab.make(TASK, num_envs=4, device="cpu", seed=0, episode_length_s=0.1))
    args = example.Args(hidden_dims=(8,))
    models = {
        "policy": example.Policy(env.observation_space, env.action_space, env.device, args.hidden_dims, 0.5),
        "value": example.Value(env.observation_space, None, env.device, args.hidden_dims),
    }
    agent = FinalObsPPO(
        models=models,
        memory=RandomMemory(memory_size=8, num_envs=4, device=env.device),
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=env.device,
        cfg={
            "rollouts": 8,
            "discount_factor": 0.9,
            "time_limit_bootstrap": True,
            "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0},
        },
    )
    agent.init(trainer_cfg=SequentialTrainerCfg(timesteps=8))
    agent.enable_training_mode(True)

    obs, _ = env.reset()
    for t in range(5):
        actions, _ = agent.act(obs, None, timestep=t, timesteps=8)
        next_obs, rewards, terminated, truncated, infos = env.step(actions)
        agent.record_transition(
            observations=obs,
            states=None,
            actions=actions,
            rewards=rewards.clone(),
            next_observations=next_obs,
            next_states=None,
            terminated=terminated,
            truncated=truncated,
            infos=infos,
            timestep=t,
            timesteps=8,
        )
        obs = next_obs
    assert truncated.all()
    stored = agent.memory.get_tensor_by_name("rewards")[4]
    with torch.no_grad():
        v_final = models["value"].act({"observations": infos["final_observations"]}, role="value")[0]
        v_next = models["value"].act({"observations": next_obs}, role="value")[0]
    assert torch.allclose(stored, rewards + 0.9 * v_final, atol=1e-6)
    assert not torch.allclose(stored, rewards + 0.9 * v_next, atol=1e-3)
    # Steps without a finished episode add nothing.
    assert torch.allclose(agent.memory.get_tensor_by_name("rewards")[3], torch.ones(4, 1), atol=0.1)


def test_sequential_trainer_runs_ppo_logs_and_saves(example, tmp_path):
    args = example.Args(num_envs=4, timesteps=200, rollouts=16, log_dir=str(tmp_path), seed=1)
    agent = example.main(args)
    assert agent.memory.get_tensor_by_name("rewards").shape == (16, 4, 1)
    # 200 timesteps: 12 updates moved the policy's log-std away from log(0.5).
    assert not torch.allclose(agent.policy.log_std, torch.log(torch.tensor([0.5])))
    assert glob.glob(str(tmp_path / "*" / "checkpoints" / "agent_200.pt"))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(glob.glob(str(tmp_path / "*"))[0])
    events.Reload()
    tags = set(events.Tags()["scalars"])
    # warplab's statistics (infos["episode"]) next to skrl's own.
    assert {"Episode/return", "Episode_Termination/pole_fell", "Reward / Total reward (mean)"} <= tags


def test_sequential_trainer_with_an_asymmetric_critic(example, tmp_path):
    env = SkrlVecEnv(cartpole_with_critic_group(4), log_interval=16)
    args = example.Args(rollouts=16, log_dir=str(tmp_path))
    agent = example.make_agent(env, args)
    assert agent.value.key == "states" and agent.value.num_states == 5
    trainer_cfg = {
        "timesteps": 40,
        "headless": True,
        "disable_progressbar": True,
        "close_environment_at_exit": False,
    }
    SequentialTrainer(env=env, agents=agent, cfg=trainer_cfg).train()
    assert agent.memory.get_tensor_by_name("states").shape == (16, 4, 5)
    assert env.env.common_step_counter == 40


def test_missing_library_names_the_extra(monkeypatch):
    # None in sys.modules is what `import skrl...` meets when the library is not installed.
    for name in [n for n in sys.modules if n == "skrl" or n.startswith("skrl.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "skrl", None)
    monkeypatch.delitem(sys.modules, "warplab.integrations.skrl")
    with pytest.raises(ImportError, match=r'pip install "warplab\[integrations\]"'):
        importlib.import_module("warplab.integrations.skrl")


class _ReturnsPerUpdate(SkrlVecEnv):
    """Keeps the mean return of the episodes finished between two reads of the statistics."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.returns: list[float] = []

    def step(self, actions):
        out = super().step(actions)
        if "episode" in out[4]:
            self.returns.append(float(out[4]["episode"].get("Episode/return", float("nan"))))
        return out


@pytest.mark.slow
def test_ppo_learns_cartpole(example, tmp_path):
    # The example's settings, 16 worlds, 20 updates of 32 steps (about 15 s here). Seeded (torch and
    # the env): with seeds 1 and 2 the return of finished training episodes went from 14-16 at the
    # first update to a mean of 70-100 over the last five.
    torch.manual_seed(1)
    env = _ReturnsPerUpdate(warplab.make(TASK, num_envs=16, device="cpu", seed=1), log_interval=32)
    agent = example.make_agent(env, example.Args(num_envs=16, log_dir=str(tmp_path)))
    trainer_cfg = {
        "timesteps": 640,
        "headless": True,
        "disable_progressbar": True,
        "close_environment_at_exit": False,
    }
    SequentialTrainer(env=env, agents=agent, cfg=trainer_cfg).train()
    first, last = env.returns[0], sum(env.returns[-5:]) / 5
    assert first < 60.0, f"the untrained policy already returns {first:.1f}"
    assert last > 3 * first, f"returns per update: {[round(r, 1) for r in env.returns]}"
