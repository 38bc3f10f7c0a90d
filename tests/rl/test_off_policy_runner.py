"""The off-policy runner: the replay ratio, warm-up and learning starts, what goes into the buffer,
logging, checkpoints and exact resume (replay buffer included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from warplab.rl import (
    CheckpointError,
    OffPolicyRunner,
    OnPolicyRunner,
    PolicyCfg,
    PpoCfg,
    RunnerCfg,
    SacCfg,
    SacPolicyCfg,
    make_runner,
)

from .helpers import HostReadRecorder, assert_same_tensors
from .toy_env import ToyEnv, ToyEnvCfg


def sac_cfg(algorithm: str = "sac", **sac) -> RunnerCfg:
    """A SAC/TD3 config sized for one CPU core: 4 steps an iteration, one update a step at 16 worlds."""
    settings = {
        "num_steps_per_env": 4,
        "replay_size_per_env": 64,
        "batch_size": 32,
        "replay_ratio": 2.0,
        "learning_starts": 2,
        "random_steps": 3,
        "n_step": 2,
        "num_atoms": 21,
        "v_min": -5.0,
        "v_max": 25.0,
        "save_replay": True,
        **sac,
    }
    return RunnerCfg(
        algorithm=algorithm,
        console="off",
        seed=7,
        sac=SacCfg(**settings),
        sac_policy=SacPolicyCfg(actor_hidden_dims=(16, 16), critic_hidden_dims=(16, 16)),
    )


def off_policy_runner(
    log_dir: Path | None = None, num_envs: int = 16, critic_group: bool = True, algorithm: str = "sac", **sac
) -> OffPolicyRunner:
    env = ToyEnv(ToyEnvCfg(num_envs=num_envs, critic_group=critic_group, max_episode_length=10))
    runner = make_runner(env, sac_cfg(algorithm, **sac), log_dir=log_dir)
    assert isinstance(runner, OffPolicyRunner)
    return runner


def test_make_runner_picks_the_runner_of_the_algorithm():
    env = ToyEnv(ToyEnvCfg(num_envs=4))
    ppo = RunnerCfg(
        console="off",
        ppo=PpoCfg(num_steps_per_env=4, num_mini_batches=1),
        policy=PolicyCfg(actor_hidden_dims=(8,), critic_hidden_dims=(8,)),
    )
    assert type(make_runner(env, ppo)) is OnPolicyRunner
    td3 = make_runner(env, sac_cfg("td3"))
    assert type(td3) is OffPolicyRunner and td3.policy.deterministic and td3.agent.algorithm == "td3"
    with pytest.raises(ValueError, match="RunnerCfg.algorithm must be 'sac' or 'td3' for OffPolicyRunner"):
        OffPolicyRunner(env, ppo)


def test_the_replay_ratio_holds_exactly_with_the_fraction_carried_over():
    # 16 worlds, batches of 64, ratio 3: 0.75 updates a step once learning has started (after 2
    # steps): floor(0.75 k) - floor(0.75 (k - 1)) for k = 1, 2, ... is 0, 1, 1, 1, 0, 1, 1, 1.
    runner = off_policy_runner(batch_size=64, replay_ratio=3.0, learning_starts=2)
    due = []
    for _ in range(10):
        runner.collect_step()
        due.append(runner.updates_due())
    assert due == [0, 0, 1, 1, 1, 0, 1, 1, 1, 0]
    # 8 steps of 16 worlds used 6 batches of 64: each transition 3 times.
    assert sum(due[2:]) * 64 == 3.0 * 8 * 16


@pytest.mark.parametrize(("num_envs", "batch_size"), [(3, 64), (48, 32), (16, 24)])
def test_each_transition_is_used_replay_ratio_times_whatever_the_world_count(num_envs, batch_size):
    runner = off_policy_runner(num_envs=num_envs, batch_size=batch_size, replay_ratio=1.5, learning_starts=0)
    total = 0
    for _ in range(64):
        runner.collect_step()
        total += runner.updates_due()
    # After 64 steps, 1.5 * 64 * N samples are due: as many whole batches as fit (4.5 -> 4 for 3
    # worlds and batches of 64, the half carried to the next step), exact where they divide.
    assert total == (96 * num_envs) // batch_size


def test_random_warm_up_then_the_policy_and_no_update_before_learning_starts():
    runner = off_policy_runner(random_steps=3, learning_starts=5)
    actions = []
    step = runner.env.step
    runner.env.step = lambda a: (actions.append(a.clone()), step(a))[1]
    due = []
    for _ in range(7):
        runner.collect_step()
        due.append(runner.updates_due())
    warm_up, policy = torch.stack(actions[:3]), torch.stack(actions[3:])
    # Uniform on [-1, 1]: 48 draws cover it. The untrained actor's actions stay near 0 (its mean
    # starts near 0 and its std near exp(-2.5) before the tanh).
    assert warm_up.max() > 0.8 and warm_up.min() < -0.8
    assert policy.abs().max() < 0.5
    # Five steps are collected before the first update (one a step: ratio 2, 16 worlds, batch 32).
    assert due == [0, 0, 0, 0, 1, 1, 1]


def test_transitions_go_into_the_replay_buffer_with_the_final_obs():
    runner = off_policy_runner()
    obs = {k: v.clone() for k, v in runner._reset_env(runner.cfg.seed).items()}
    captured = {}
    step = runner.env.step

    def spy(actions):
        out = step(actions)
        captured.update(actions=actions.clone(), out=out)
        return out

    runner.env.step = spy
    runner.collect_step()
    next_obs, rewards, terminated, truncated, info = captured["out"]
    replay = runner.replay
    for group in obs:
        assert torch.equal(replay.obs[group][0], obs[group])
        assert torch.equal(replay.next_obs[group][0], info["final_obs"][group])
        assert torch.equal(runner._obs[group], next_obs[group])
    assert torch.equal(replay.actions[0], captured["actions"])
    assert torch.equal(replay.rewards[0], rewards)
    assert torch.equal(replay.terminated[0], terminated) and torch.equal(replay.truncated[0], truncated)
    # The normalizers have seen the collected observations.
    assert runner.policy.actor_obs_normalizer.count == 16
    torch.testing.assert_close(runner.policy.critic_obs_normalizer.mean, obs["critic"].mean(0))


def test_missing_final_obs_is_a_clear_error():
    runner = off_policy_runner()
    step = runner.env.step
    runner.env.step = lambda a: (*step(a)[:4], {})
    with pytest.raises(KeyError, match=r"info\['final_obs'\]"):
        runner.collect_step()


def test_logs_files_and_checkpoints(tmp_path):
    runner = off_policy_runner(log_dir=tmp_path, algorithm="td3")
    runner.cfg.save_interval = 2
    runner.learn(3)
    runner.close()
    assert sorted(p.name for p in tmp_path.glob("model_*.pt")) == ["model_2.pt", "model_3.pt"]
    config = json.loads((tmp_path / "resolved_config.json").read_text())
    assert config["runner"]["algorithm"] == "td3"
    scalars = runner.last_scalars
    # 4 steps of 16 worlds an iteration, one update after each from the 2nd (learning_starts).
    assert scalars["Train/updates"] == 11
    assert scalars["Perf/total_env_steps"] == 3 * 4 * 16
    assert scalars["Train/replay_transitions"] == 3 * 4 * 16
    assert 0.0 < scalars["Perf/update_share"] < 1.0
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    expected = {
        "Episode/return",
        "Loss/critic",
        "Loss/actor",
        "Critic/q_mean",
        "Perf/collection_steps_per_s",
        "Perf/learning_steps_per_s",
        "Perf/total_steps_per_s",
        "Perf/collection_time_s",
        "Perf/learning_time_s",
        "Perf/total_env_steps",
        "Perf/update_share",
        "Train/updates",
    }
    assert expected <= tags, expected - tags
    assert [event.step for event in events.Scalars("Train/updates")] == [1, 2, 3]
    checkpoint = torch.load(tmp_path / "model_3.pt", weights_only=True)
    assert checkpoint["algorithm"] == "td3"
    assert set(checkpoint["optimizer"]) == {"actor", "critic", "alpha"}
    assert checkpoint["counters"] == {"env_steps": 12, "update_steps": 11, "updates": 11}
    assert checkpoint["replay"]["num_added_steps"] == 12
    assert "sampling" in checkpoint["rng"]


def _assert_same_off_policy_state(resumed: OffPolicyRunner, straight: OffPolicyRunner) -> None:
    assert resumed.iteration == straight.iteration
    assert (resumed.env_steps, resumed.update_steps) == (straight.env_steps, straight.update_steps)
    assert resumed.agent.num_updates == straight.agent.num_updates
    assert_same_tensors(resumed.policy.state_dict(), straight.policy.state_dict())
    for name in ("actor", "critic", "alpha"):
        assert_same_tensors(
            resumed.agent.optimizer_state()[name]["state"], straight.agent.optimizer_state()[name]["state"]
        )
    assert torch.equal(resumed.agent.log_alpha, straight.agent.log_alpha)
    assert torch.equal(resumed.agent.generator.get_state(), straight.agent.generator.get_state())
    assert_same_tensors(resumed.replay.state_dict(), straight.replay.state_dict())
    assert_same_tensors(resumed.env.get_state(), straight.env.get_state())


@pytest.mark.parametrize("algorithm", ["sac", "td3"])
def test_resume_continues_exactly(tmp_path, algorithm):
    # Uninterrupted: 4 iterations. Interrupted: 2, save, a fresh runner on a fresh env loads and
    # trains 2 more. The random warm-up, learning_starts, policy_delay's phase, the fraction of an
    # update carried over (0.75 a step) and the replay buffer all cross the save.
    settings = {
        "algorithm": algorithm,
        "random_steps": 5,
        "learning_starts": 3,
        "batch_size": 64,
        "replay_ratio": 3.0,
    }
    straight = off_policy_runner(**settings)
    straight.learn(4)

    first = off_policy_runner(log_dir=tmp_path, **settings)
    first.learn(2)
    first.close()
    resumed = off_policy_runner(**settings)
    resumed.load(tmp_path / "model_2.pt")
    assert resumed.iteration == 2
    resumed.learn(2)

    assert straight.iteration == 4 and straight.agent.num_updates > 4
    _assert_same_off_policy_state(resumed, straight)


def test_resume_without_the_replay_buffer_refills_it_before_updating(tmp_path):
    first = off_policy_runner(log_dir=tmp_path, save_replay=False, learning_starts=3)
    first.learn(2)
    first.close()
    assert torch.load(tmp_path / "model_2.pt", weights_only=True)["replay"] is None
    resumed = off_policy_runner(save_replay=False, learning_starts=3)
    resumed.load(tmp_path / "model_2.pt")
    assert resumed.env_steps == 8 and resumed.replay.num_added_steps == 0
    for name, value in first.policy.state_dict().items():
        assert torch.equal(resumed.policy.state_dict()[name], value), name
    due = []
    for _ in range(4):
        resumed.collect_step()
        due.append(resumed.updates_due())
    assert due == [0, 0, 1, 1]


def test_a_checkpoint_of_another_algorithm_is_refused(tmp_path):
    td3 = off_policy_runner(log_dir=tmp_path, algorithm="td3")
    td3.learn(1)
    td3.close()
    sac = off_policy_runner()
    with pytest.raises(CheckpointError, match="was trained with algorithm 'td3'; this runner trains 'sac'"):
        sac.load(tmp_path / "model_1.pt")


def test_collection_and_updates_read_nothing_on_the_host():
    """No .item(), float(t), tolist()... while stepping, storing and updating: on CUDA each would
    make the host wait once per env step. The CPU optimizers' own steps are not counted."""
    runner = off_policy_runner(random_steps=1, learning_starts=1)
    runner.learn(1)  # reset, warm-up and Adam's state
    recorder = HostReadRecorder()
    agent = runner.agent
    optimizers = (agent.actor_optimizer, agent.critic_optimizer, agent.alpha_optimizer)
    for optimizer in optimizers:
        step = optimizer.step

        def unrecorded_step(*args, _step=step, **kwargs):
            with recorder.paused():
                return _step(*args, **kwargs)

        optimizer.step = unrecorded_step
    try:
        with recorder:
            for _ in range(4):
                runner.collect_step()
                for _ in range(runner.updates_due()):
                    agent.train_step(runner.replay)
    finally:
        for optimizer in optimizers:
            del optimizer.step
    assert agent.num_updates > 4
    assert recorder.total == 0, f"host reads: {recorder.hits}"


def test_a_checkpoint_of_other_networks_says_which_setting_differs(tmp_path):
    first = off_policy_runner(log_dir=tmp_path)
    first.learn(1)
    first.close()
    env = ToyEnv(ToyEnvCfg(num_envs=16, critic_group=True))
    cfg = sac_cfg()
    cfg.sac_policy.critic_hidden_dims = (16, 8)
    other = OffPolicyRunner(env, cfg)
    with pytest.raises(
        CheckpointError, match=r"trained with critic_hidden_dims=\[16, 16\] \(this model has \[16, 8\]\)"
    ):
        other.load(tmp_path / "model_1.pt")


class ToyEnvWithAnExtraGroup(ToyEnv):
    """The toy env with a third observation group, ``extra [3]``, that no network reads."""

    def __init__(self, cfg: ToyEnvCfg) -> None:
        super().__init__(cfg)
        self.observation_shapes["extra"] = (3,)

    def _clean_obs(self) -> dict[str, torch.Tensor]:
        return {**super()._clean_obs(), "extra": torch.ones(self.num_envs, 3)}


@pytest.mark.parametrize("critic_group", [True, False])
def test_the_buffer_stores_only_the_groups_the_networks_read(critic_group):
    env = ToyEnvWithAnExtraGroup(ToyEnvCfg(num_envs=16, critic_group=critic_group, max_episode_length=10))
    runner = OffPolicyRunner(env, sac_cfg())
    assert set(runner.replay.obs) == ({"policy", "critic"} if critic_group else {"policy"})
    runner.learn(1)
    assert runner.agent.num_updates > 0


def test_returns_beyond_v_max_are_reported_once_with_the_setting_to_change():
    """The toy env pays up to 1 a step, so at gamma 0.99 its returns run to tens: a support that ends
    at 0.2 clips nearly every target onto its top atom. The runner says so once, naming the setting
    and a value from the episodes' reward per step; the range the tests use stays silent."""
    import warnings

    narrow = off_policy_runner(v_min=-0.2, v_max=0.2)
    with pytest.warns(
        UserWarning, match=r"sac\.v_max=0\.2: \d+% of the critics' target distribution"
    ) as caught:
        narrow.learn(6)
    assert sum("sac.v_max" in str(w.message) for w in caught) == 1
    assert not any("sac.v_min" in str(w.message) for w in caught)
    assert narrow.last_scalars["Critic/target_mass_at_v_max"] > 0.3

    wide = off_policy_runner()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        wide.learn(6)
    assert wide.last_scalars["Critic/target_mass_at_v_max"] < 0.1
    assert wide.last_scalars["Critic/target_mass_at_v_min"] < 0.1
