"""The divergence guard: worlds with non-finite or exploding states are flagged, and reset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from warplab.sim import SimCfg

from .reference import PENDULUM_XML, make_sim

NUM_WORLDS = 4


@pytest.fixture()
def pendulum():
    sim = make_sim(PENDULUM_XML, NUM_WORLDS)
    sim.set_state(qpos=torch.tensor([[0.1], [0.2], [0.3], [0.4]]))
    return sim


def test_nan_velocity_flags_that_world_only(pendulum):
    sim = pendulum
    before = sim.qpos.clone()
    sim.qvel[2, 0] = float("nan")
    sim.step()
    assert sim.diverged.tolist() == [False, False, True, False]
    assert int(sim.diverged_count) == 1
    assert torch.isfinite(sim.qpos[[0, 1, 3]]).all()

    sim.reset(sim.diverged)
    assert not sim.diverged.any()
    assert torch.isfinite(sim.qpos[2]).all() and torch.isfinite(sim.qvel[2]).all()
    assert torch.equal(sim.qpos[2], sim.init_qpos)
    sim.step()
    assert not sim.diverged.any() and int(sim.diverged_count) == 1
    # The healthy worlds kept going as if nothing had happened (no reset reached them).
    assert not torch.equal(sim.qpos[0], before[0])


def test_speed_above_the_limit_flags_that_world_only(pendulum):
    sim = pendulum
    limit = sim.cfg.max_abs_qvel
    # One 2 ms step changes the speed by under 0.1 rad/s (gravity on a 0.5 m pendulum), so a world
    # at twice the limit stays above it and one at half the limit stays below it.
    sim.qvel[1, 0] = 2 * limit
    sim.qvel[3, 0] = -0.5 * limit
    sim.step()
    assert torch.isfinite(sim.qvel).all()
    assert sim.diverged.tolist() == [False, True, False, False]
    assert int(sim.diverged_count) == 1

    untouched = sim.qpos[[0, 2, 3]].clone()
    sim.reset(sim.diverged)
    assert torch.equal(sim.qpos[[0, 2, 3]], untouched)
    assert torch.equal(sim.qvel[1], sim.init_qvel)
    sim.step()
    # World 3 still spins at half the limit: never flagged; the count only grew once.
    assert sim.diverged.tolist() == [False, False, False, False]
    assert int(sim.diverged_count) == 1


def test_acceleration_above_the_limit_flags_that_world():
    # A uniform rod of length l on a hinge at its end: qacc = -(3 g / 2 l) sin(q), worked out by hand.
    # With l = 0.5 m (plus the capsule's end caps, which make it a little different), horizontal
    # is ~29 rad/s^2 and q = 0.1 about 2.9 rad/s^2: a limit of 15 separates them.
    sim = make_sim(PENDULUM_XML, 2, cfg=SimCfg(max_abs_qacc=15.0))
    sim.set_state(qpos=torch.tensor([[0.1], [math.pi / 2]]))
    sim.step()
    expected = np.abs(3 * 9.81 / (2 * 0.5) * np.sin([0.1, math.pi / 2]))
    np.testing.assert_allclose(sim.qacc[:, 0].abs().numpy(), expected, rtol=0.1)
    assert sim.diverged.tolist() == [False, True]
