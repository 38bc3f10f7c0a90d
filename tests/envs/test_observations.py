"""Observation groups: noise (only when corrupted), clip, scale, and history."""

from __future__ import annotations

import pytest
import torch

from warplab.envs import NoiseCfg, ObservationGroupCfg, ObservationTermCfg, RlEnv

from ._cfgs import Flag, cartpole_cfg

WIDTH = 2000
"""Values per world of the constant test term: enough draws to measure a noise distribution."""


def zeros(env):
    return torch.zeros(env.num_envs, WIDTH)


def fixed(env):
    return torch.tensor([-5.0, -0.5, 0.25, 5.0]).expand(env.num_envs, 4)


def step_count(env):
    return env.episode_length_buf.float()


def _env(terms, enable_corruption=False, group_history=None, **fields):
    group = ObservationGroupCfg(
        terms=terms, enable_corruption=enable_corruption, history_length=group_history
    )
    return RlEnv(cartpole_cfg(observations={"policy": group}, **fields))


def test_uniform_noise_stays_within_its_half_width():
    env = _env({"z": ObservationTermCfg(func=zeros, noise=NoiseCfg("uniform", 0.3))}, enable_corruption=True)
    obs, *_ = env.step(torch.zeros(2, 1))
    noise = obs["policy"]
    assert noise.abs().max() <= 0.3
    # Uniform on [-0.3, 0.3]: mean 0, standard deviation 0.3 / sqrt(3); 4,000 draws.
    assert noise.mean().item() == pytest.approx(0.0, abs=0.02)
    assert noise.std().item() == pytest.approx(0.3 / 3**0.5, rel=0.05)
    assert noise.abs().max() > 0.29


def test_gaussian_noise_has_the_given_standard_deviation():
    env = _env({"z": ObservationTermCfg(func=zeros, noise=NoiseCfg("gaussian", 0.2))}, enable_corruption=True)
    obs, *_ = env.step(torch.zeros(2, 1))
    noise = obs["policy"]
    assert noise.mean().item() == pytest.approx(0.0, abs=0.02)
    assert noise.std().item() == pytest.approx(0.2, rel=0.05)
    assert noise.abs().max() > 0.4  # not bounded like the uniform noise


def test_noise_is_off_unless_the_group_is_corrupted():
    env = _env(
        {"z": ObservationTermCfg(func=zeros, noise=NoiseCfg("gaussian", 1.0))}, enable_corruption=False
    )
    obs, *_ = env.step(torch.zeros(2, 1))
    assert obs["policy"].abs().max() == 0.0
    obs, _ = env.reset()
    assert obs["policy"].abs().max() == 0.0


def test_clip_then_scale():
    env = _env({"v": ObservationTermCfg(func=fixed, clip=(-1.0, 1.0), scale=2.0)})
    obs, *_ = env.step(torch.zeros(2, 1))
    # clip(-5, -0.5, 0.25, 5) to [-1, 1], then times 2.
    assert obs["policy"].tolist() == [[-2.0, -1.0, 0.5, 2.0]] * 2


def test_noise_comes_before_the_clip():
    term = ObservationTermCfg(func=fixed, clip=(-1.0, 1.0), noise=NoiseCfg("uniform", 0.1), scale=3.0)
    env = _env({"v": term}, enable_corruption=True)
    obs, *_ = env.step(torch.zeros(2, 1))
    v = obs["policy"]
    # The values beyond the clip stay exactly at its bounds; the others move by at most 0.1 * 3.
    assert v[:, 0].tolist() == [-3.0, -3.0] and v[:, 3].tolist() == [3.0, 3.0]
    assert ((v[:, 1] + 1.5).abs() <= 0.3 + 1e-6).all() and ((v[:, 2] - 0.75).abs() <= 0.3 + 1e-6).all()
    assert (v[:, 1:3] != torch.tensor([-1.5, 0.75])).all()


@pytest.mark.parametrize("where", ["term", "group"])
def test_history_oldest_first_and_filled_after_a_reset(where):
    flag = Flag(2)
    term = ObservationTermCfg(func=step_count, history_length=3 if where == "term" else 0)
    others = {"pos": ObservationTermCfg(func=lambda env: env.sim.qpos[:, :1])}
    env = _env(
        {"count": term, **others},
        group_history=3 if where == "group" else None,
        terminations={"fail": flag.cfg()},
    )
    width = 3 + 1 if where == "term" else 3 + 3  # the group setting gives every term a history of 3
    obs, _ = env.reset()
    assert obs["policy"].shape == (2, width)

    def history(o):
        return o["policy"][:, :3].tolist()

    assert history(obs) == [[0, 0, 0]] * 2
    for expected in ([0, 0, 1], [0, 1, 2], [1, 2, 3]):
        obs, *_ = env.step(torch.zeros(2, 1))
        assert history(obs) == [expected] * 2
    flag.flag[0] = True
    obs, _, terminated, _, info = env.step(torch.zeros(2, 1))
    assert terminated.tolist() == [True, False]
    assert history(obs) == [[0, 0, 0], [2, 3, 4]]
    assert history(info["final_obs"]) == [[2, 3, 4], [2, 3, 4]]
    flag.flag[0] = False
    obs, *_ = env.step(torch.zeros(2, 1))
    assert history(obs) == [[0, 0, 1], [3, 4, 5]]
    if where == "group":
        # The other term's history: world 1's cart position over the last three steps, oldest first.
        pos = obs["policy"][1, 3:].tolist()
        assert len(pos) == 3 and pos[-1] == pytest.approx(env.sim.qpos[1, 0].item())


def test_observation_shapes_and_dtype():
    env = _env(
        {"v": ObservationTermCfg(func=fixed, history_length=2), "c": ObservationTermCfg(func=step_count)}
    )
    assert env.observation_shapes == {"policy": (9,)}
    assert env.observation_manager.term_dims["policy"] == {"v": 8, "c": 1}
    obs, *_ = env.step(torch.zeros(2, 1))
    assert obs["policy"].dtype == torch.float32
