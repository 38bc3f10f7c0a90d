"""The height scan's sensor imperfections (``HeightScan``'s ``delay_steps``, ``dropout_prob`` and
``offset_range``) on the framework tests' free body over flat generated ground, against readings
worked out by hand: over flat ground every point reads the base height."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from warplab.assets.terrain_generator import Terrain, TerrainCfg, add_terrain
from warplab.envs import ObservationTermCfg, RlEnv
from warplab.envs.mdp.terrain import HeightScan

from ._cfgs import free_body_cfg, free_body_spec

CLIP = (-2.0, 2.0)


def _flat_env(num_envs: int) -> RlEnv:
    def scene():
        spec = free_body_spec()
        # 4 m x 4 m of flat ground at z = 0, centred on the origin.
        add_terrain(
            spec, TerrainCfg(), Terrain(np.zeros((41, 41)), np.zeros((1, 1, 3)), ("flat",), np.zeros(1), 0.1)
        )
        return spec

    return RlEnv(free_body_cfg(num_envs=num_envs, scene=scene))


def _scan(env: RlEnv, **params) -> HeightScan:
    params = {"size": (0.2, 0.2), "resolution": 0.1, "clip": CLIP, **params}  # 3 x 3 points
    return HeightScan(ObservationTermCfg(func=HeightScan, params=params), env)


def _set_base_height(env: RlEnv, heights: list[float]) -> None:
    qpos = env.sim.qpos.clone()
    qpos[:, 2] = torch.tensor(heights)
    env.sim.set_state(qpos=qpos)


def test_delayed_scan_is_the_scan_of_k_steps_earlier_and_reset_clears_it_per_world():
    env = _flat_env(2)
    k = 2
    scan = _scan(env, delay_steps=k)
    assert scan.num_rays == 9
    # World 0 rises 0.1 m a step from 0.5 m, world 1 0.05 m a step from 0.3 m.
    heights = [[0.5 + 0.1 * t, 0.3 + 0.05 * t] for t in range(7)]
    env.episode_length_buf.zero_()
    seen = []
    for t in range(5):
        env.episode_length_buf.fill_(t)
        _set_base_height(env, heights[t])
        seen.append(scan(env))
        # Computed again in the same step (the observation after resets): no extra push.
        torch.testing.assert_close(scan(env), seen[-1])
    for t in range(5):
        # Until k steps have passed a world sees its episode's first reading.
        expected = torch.tensor(heights[max(t - k, 0)])[:, None].expand(2, 9)
        torch.testing.assert_close(seen[t], expected, atol=1e-5, rtol=0)
    # World 1 resets at step 5: it sees its new reading at once, world 0 still lags k steps.
    scan.reset(env, torch.tensor([False, True]))
    env.episode_length_buf.copy_(torch.tensor([5, 0]))
    _set_base_height(env, [heights[5][0], 0.9])
    torch.testing.assert_close(scan(env), torch.tensor([[heights[3][0]] * 9, [0.9] * 9]), atol=1e-5, rtol=0)
    env.episode_length_buf.copy_(torch.tensor([6, 1]))
    _set_base_height(env, [heights[6][0], 1.0])
    torch.testing.assert_close(scan(env), torch.tensor([[heights[4][0]] * 9, [0.9] * 9]), atol=1e-5, rtol=0)
    state = scan.state_tensors()
    assert set(state) == {"offset", "buffer", "head", "written_at", "fresh"}
    assert state["buffer"].shape == (2, k + 1, 9)


def test_delay_runs_through_the_env_step():
    env = _flat_env(1)
    scan = _scan(env, delay_steps=1)
    _set_base_height(env, [0.5])
    first = scan(env)
    env.step(torch.zeros(1, env.action_dim))
    height_now = float(env.sim.qpos[0, 2])
    torch.testing.assert_close(scan(env), first)  # one step later it reads the step before's
    env.step(torch.zeros(1, env.action_dim))
    torch.testing.assert_close(scan(env), torch.full((1, 9), height_now), atol=1e-5, rtol=0)


def test_dropout_share_and_value():
    env = _flat_env(64)
    scan = _scan(env, size=(1.6, 1.0), dropout_prob=0.3)
    _set_base_height(env, [0.5] * 64)
    out = scan(env)
    dropped = out == CLIP[1]
    torch.testing.assert_close(out[~dropped], torch.full_like(out[~dropped], 0.5), atol=1e-5, rtol=0)
    # 64 x 187 = 11,968 points: the share's standard deviation is 0.0042, the tolerance five of them.
    assert dropped.float().mean().item() == pytest.approx(0.3, abs=0.021)
    assert not torch.equal(dropped, scan(env) == CLIP[1])  # drawn again at every call


def test_offset_is_constant_per_world_and_redrawn_at_its_reset():
    env = _flat_env(8)
    scan = _scan(env, offset_range=(-0.05, 0.05))
    _set_base_height(env, [0.5] * 8)
    offset = scan(env) - 0.5
    assert (offset.abs() <= 0.05 + 1e-6).all() and offset.std(dim=1).max() < 1e-6  # one per world
    assert offset[:, 0].std() > 0.01  # and different across worlds
    torch.testing.assert_close(scan(env) - 0.5, offset)
    mask = torch.tensor([True] + [False] * 7)
    scan.reset(env, mask)
    again = scan(env) - 0.5
    torch.testing.assert_close(again[1:], offset[1:])
    assert (again[0] - offset[0]).abs().max() > 0


@pytest.mark.parametrize(
    "params, message",
    [
        ({"delay_steps": -1}, "delay_steps"),
        ({"delay_steps": 1.5}, "delay_steps"),
        ({"dropout_prob": 1.5}, "dropout_prob"),
        ({"offset_range": (0.1, -0.1)}, "offset_range"),
    ],
)
def test_bad_imperfection_params_are_named(params, message):
    env = _flat_env(1)
    with pytest.raises(ValueError, match=message):
        _scan(env, **params)
