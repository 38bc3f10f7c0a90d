"""Physically absurd settings and states on the real tasks: a timestep the model cannot be stable
at is refused when the env is built (and on the command line), worlds pushed outside physical
bounds are flagged, earn nothing and are reset, and the tasks' own motion never trips a bound."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import warplab
from warplab.cli.main import main
from warplab.envs.managers.term import ConfigError
from warplab.sim.stability import WARN_FRACTION, check_timestep
from warplab.tasks.registry import make_env_cfg

FIELD = "RlEnvCfg.timestep (--env.timestep)"


def _model(task: str):
    cfg = make_env_cfg(task)
    spec = cfg.scene()
    if cfg.timestep is not None:
        spec.option.timestep = cfg.timestep
    return spec.compile()


@pytest.mark.parametrize("task", warplab.list_tasks())
def test_every_task_timestep_is_well_inside_its_stability_limit(task):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "near the limit", no softened constraints
        est = check_timestep(_model(task), FIELD)
    # Gymnasium's humanoid (RK4 with explicit joint damping) has the least room: about 4 times.
    assert est.limit >= 2 / WARN_FRACTION * est.timestep, est.describe()


def test_a_50_s_cartpole_timestep_is_refused_when_the_env_is_built():
    with pytest.raises(ConfigError) as error:
        warplab.make("cartpole-balance", 2, device="cpu", timestep=50.0)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        f"{FIELD} = 50 s cannot be stable for this model: the estimated limit is 0.413 s"
    )
    assert "use at most 0.21 s" in message


def test_a_50_s_cartpole_timestep_is_one_line_on_the_command_line(capsys, tmp_path):
    argv = ["train", "--task", "cartpole-balance", "--env.timestep", "50", "--max-iterations", "1"]
    assert main([*argv, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"warplab train: error: {FIELD} = 50 s cannot be stable")


@pytest.fixture()
def cartpole_env():
    env = warplab.make("cartpole-balance", 3, device="cpu", seed=0)
    env.reset()
    return env


def test_a_cart_written_past_the_end_of_its_rail_is_flagged_earns_nothing_and_is_reset(cartpole_env):
    env = cartpole_env
    # The public setter of the physical state; the rail is [-3, 3] m.
    env.sim.set_state(qpos=torch.tensor([[89_000.0, 0.0]]), worlds=torch.tensor([1]))
    obs, reward, terminated, truncated, _ = env.step(torch.zeros(3, env.action_dim))
    assert terminated.tolist() == [False, True, False]
    assert reward[1] == 0.0 and reward[0] > 0.5
    assert env.sim.qpos[1, 0].abs() < 0.2  # reset near the middle of the rail
    assert torch.isfinite(obs["policy"]).all()
    stats = env.pop_episode_stats()
    assert stats["Env/nan_resets"] == 1.0
    assert stats["Env/diverged_position"] == 1.0
    assert stats["Episode_Termination/nan"] == 1.0


def test_a_cart_given_an_absurd_speed_is_flagged_and_reset(cartpole_env):
    env = cartpole_env
    # 5 km/s: the cart would cross the whole model (6 m) in about a millisecond.
    env.sim.set_state(qvel=torch.tensor([[5000.0, 0.0]]), worlds=torch.tensor([2]))
    _, reward, terminated, _, _ = env.step(torch.zeros(3, env.action_dim))
    assert terminated.tolist() == [False, False, True]
    assert reward[2] == 0.0
    assert env.sim.qvel[2].abs().max() < 1.0
    stats = env.pop_episode_stats()
    assert stats["Env/nan_resets"] == 1.0 and stats["Env/diverged_speed"] >= 1.0


# Variants whose physics, actions and resets are their base task's (only a reward or a success
# tolerance differs): their random-action runs would repeat the base task's, at a minute or more each.
_SAME_DYNAMICS_AS = {
    "HandManipulateBlockRotateXYZDense-v1": "HandManipulateBlockRotateXYZ-v1",
    "FetchPickAndPlaceDense-v4": "FetchPickAndPlace-v4",
    "hand-reorient-cube-openai": "hand-reorient-cube",
    "AdroitHandDoorSparse-v1": "AdroitHandDoor-v1",
    "AdroitHandRelocateSparse-v1": "AdroitHandRelocate-v1",
    # The policy's height scan is an observation: the physics, actions and resets are the rough task's.
    "humanoid-velocity-rough-scan": "humanoid-velocity-rough",
}


# Tasks whose events come later than 3 s: the push task's first push comes 3-6 s into an episode.
_SIMULATED_S = {"humanoid-push-recovery": 6.5}


@pytest.mark.slow
@pytest.mark.parametrize("task", warplab.list_tasks())
def test_random_actions_never_trip_a_bound(task):
    """Random actions for 2 s of simulated time, at most 100 policy steps (falls, a dropped block and
    several episodes included: random actions floor a humanoid in about a second), in four worlds;
    the push task runs long enough for its first push. Kept short because every task runs it in CI
    (6 s for every task took up to a minute a task; 3 s, with 50 tasks, most of ten minutes)."""
    if task in _SAME_DYNAMICS_AS:
        pytest.skip(f"same dynamics as {_SAME_DYNAMICS_AS[task]}, which this test runs")
    env = warplab.make(task, 4, device="cpu", seed=0)
    env.reset(seed=0)
    gen = torch.Generator().manual_seed(0)
    steps = math.ceil(_SIMULATED_S.get(task, 2.0) / env.policy_dt)
    if task not in _SIMULATED_S:
        steps = min(100, steps)
    for _ in range(steps):
        env.step(2 * torch.rand(4, env.action_dim, generator=gen) - 1)
    assert int(env.sim.diverged_count) == 0
    assert env.sim.pop_divergence_causes() == {}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_guard_flags_worlds_inside_the_captured_step_without_a_host_sync():
    env = warplab.make("cartpole-balance", 3, device="cuda", seed=0)
    env.reset()
    zero = torch.zeros(3, env.action_dim, device=env.device)
    for _ in range(env.cfg.graph_warmup_steps + 2):
        env.step(zero)
    assert env._step_graph is not None and env._step_graph.captured
    worlds = torch.tensor([1], device=env.device)
    env.sim.set_state(qpos=torch.tensor([[89_000.0, 0.0]], device=env.device), worlds=worlds)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        _, reward, terminated, _, _ = env.step(zero)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert terminated.tolist() == [False, True, False]
    assert reward[1].item() == 0.0
    assert env.sim.qpos[1, 0].abs().item() < 0.2
    assert env.pop_episode_stats()["Env/diverged_position"] == 1.0
