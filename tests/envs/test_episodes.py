"""Episode ends: terminated and truncated kept apart, automatic resets, terminal observations."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.robots.cartpole import cartpole_spec
from warplab.envs import EventTermCfg, ObservationGroupCfg, ObservationTermCfg, RlEnv, mdp

from ._cfgs import Flag, alive_reward, cartpole_cfg, time_out_cfg

ZERO_RESET = {
    "reset": EventTermCfg(
        func=mdp.reset_joints_by_offset,
        mode="reset",
        params={"position_range": (0.0, 0.0), "velocity_range": (0.0, 0.0)},
    )
}
"""Every reset puts the cart-pole at rest in its default pose (all joint values 0)."""


def _env(num_envs=2, episode_length_s=100.0, start=None):
    flag = Flag(num_envs)
    cfg = cartpole_cfg(
        num_envs,
        episode_length_s=episode_length_s,
        terminations={"time_out": time_out_cfg(), "fail": flag.cfg()},
        rewards={"alive": alive_reward()},
        events=dict(ZERO_RESET),
    )
    env = RlEnv(cfg)
    return env, flag


def _mujoco_step(qpos, qvel, ctrl, substeps):
    """The cart-pole advanced by MuJoCo's C engine (float64): the reference for terminal states."""
    m = cartpole_spec().compile()
    d = mujoco.MjData(m)
    d.qpos[:], d.qvel[:], d.ctrl[:] = qpos, qvel, ctrl
    mujoco.mj_step(m, d, nstep=substeps)
    return d.qpos.copy(), d.qvel.copy()


def test_time_out_truncates_and_does_not_terminate():
    # policy_dt = 2 * 0.01 s, so a 0.1 s episode lasts 5 policy steps.
    env, _ = _env(episode_length_s=0.1)
    assert env.max_episode_length == 5
    action = torch.full((2, 1), 0.3)
    for step in range(1, 6):
        _, _, terminated, truncated, _ = env.step(action)
        assert terminated.dtype == torch.bool and truncated.dtype == torch.bool
        assert not terminated.any()
        assert truncated.tolist() == [step == 5] * 2
    # Both worlds started a new episode.
    assert env.episode_length_buf.tolist() == [0, 0]
    _, _, terminated, truncated, _ = env.step(action)
    assert not terminated.any() and not truncated.any()
    assert env.episode_length_buf.tolist() == [1, 1]


def test_episode_length_is_not_lengthened_by_float_error():
    # 0.14 s / 0.02 s is 7 steps, though 0.14 / 0.02 evaluates to 7.000000000000001 in floating point.
    env, _ = _env(episode_length_s=0.14)
    assert env.max_episode_length == 7


def test_failure_terminates_and_both_at_once_counts_as_terminated():
    env, flag = _env(episode_length_s=0.1)
    action = torch.zeros(2, 1)
    env.step(action)
    flag.flag[:] = torch.tensor([True, False])
    _, reward, terminated, truncated, _ = env.step(action)
    assert terminated.tolist() == [True, False]
    assert not truncated.any()
    # is_alive: the terminated world earns nothing.
    assert reward.tolist() == [0.0, 1.0]
    assert env.episode_length_buf.tolist() == [0, 2]
    flag.flag[:] = False
    # World 1 reaches its time-out (step 5) at the same step as a failure: terminated only.
    for _ in range(2):
        env.step(action)
    flag.flag[:] = torch.tensor([False, True])
    _, _, terminated, truncated, _ = env.step(action)
    assert env.termination_manager.term_flags[1, :2].tolist() == [True, True]
    assert terminated.tolist() == [False, True]
    assert truncated.tolist() == [False, False]
    assert env.episode_length_buf.tolist() == [3, 0]


def test_final_obs_holds_the_terminal_state_and_obs_the_new_episode():
    env, flag = _env(num_envs=3)
    # Three different moving states; world 1 will finish.
    qpos = torch.tensor([[0.1, 0.05], [-0.3, 0.2], [0.4, -0.1]])
    qvel = torch.tensor([[0.5, -1.0], [1.5, 2.0], [-0.7, 0.3]])
    env.sim.set_state(qpos, qvel)
    action = torch.tensor([[0.2], [-0.8], [0.5]])
    flag.flag[1] = True
    obs, _, terminated, truncated, info = env.step(action)
    assert terminated.tolist() == [False, True, False]
    final = info["final_obs"]["policy"]
    for w in range(3):
        ref_qpos, ref_qvel = _mujoco_step(
            qpos[w].double().numpy(), qvel[w].double().numpy(), action[w].double().numpy(), 2
        )
        # float32 physics against float64 over two smooth steps (no contacts): 1e-5 is ample.
        np.testing.assert_allclose(final[w].numpy(), np.concatenate([ref_qpos, ref_qvel]), atol=1e-5)
    # The finished world starts again at rest in the default pose; the others carry on.
    assert obs["policy"][1].tolist() == [0.0, 0.0, 0.0, 0.0]
    torch.testing.assert_close(obs["policy"][[0, 2]], final[[0, 2]], rtol=0, atol=0)
    torch.testing.assert_close(env.sim.qpos[1], torch.zeros(2), rtol=0, atol=0)
    assert env.observations is obs


def test_final_obs_is_not_overwritten_by_the_reset_for_a_lone_history_term():
    # A group with one term whose value lives in a buffer (a history ring) must still return the
    # terminal observation for the finished world, not the buffer after its reset.
    flag = Flag(2)
    cfg = cartpole_cfg(
        terminations={"fail": flag.cfg()},
        events=dict(ZERO_RESET),
        observations={
            "policy": ObservationGroupCfg(
                terms={"cart": ObservationTermCfg(func=lambda env: env.sim.qpos[:, 0], history_length=2)}
            )
        },
    )
    env = RlEnv(cfg)
    env.sim.set_state(torch.tensor([[0.5, 0.0], [0.7, 0.0]]), torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    flag.flag[0] = True
    obs, _, _, _, info = env.step(torch.zeros(2, 1))
    final = info["final_obs"]["policy"]
    # The cart moved forward from 0.5 m at about 1 m/s for 0.02 s; the reset put it back to 0.
    assert final[0, 1].item() == pytest.approx(0.52, abs=2e-3)
    assert obs["policy"][0].tolist() == [0.0, 0.0]
    torch.testing.assert_close(obs["policy"][1], final[1], rtol=0, atol=0)


def test_final_observation_off_gives_empty_info():
    cfg = cartpole_cfg(final_observation=False)
    env = RlEnv(cfg)
    *_, info = env.step(torch.zeros(2, 1))
    assert info == {}
