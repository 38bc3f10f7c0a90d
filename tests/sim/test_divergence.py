"""The divergence guard: worlds with non-finite states, or states outside the physical bounds the
model implies (joint ranges, the scene's size, speeds a step can resolve), are flagged and reset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from warplab.assets.robots.cartpole import CARTPOLE_XML
from warplab.sim import SimCfg
from warplab.sim.divergence import CAUSES

from .reference import PENDULUM_XML, RESTING_BOX_XML, make_sim

NUM_WORLDS = 4
CARTPOLE_DT = 0.01
"""The cart-pole model's timestep, s; its slider's range is [-3, 3] m, its extent 6.04 m."""


@pytest.fixture()
def pendulum():
    sim = make_sim(PENDULUM_XML, NUM_WORLDS)
    sim.set_state(qpos=torch.tensor([[0.1], [0.2], [0.3], [0.4]]))
    return sim


@pytest.fixture()
def cartpole():
    """The project's cart-pole, four worlds near the middle of the rail (slider qpos 0, hinge 1)."""
    sim = make_sim(CARTPOLE_XML, NUM_WORLDS)
    sim.set_state(qpos=torch.tensor([[0.0, 0.05], [0.5, -0.05], [-1.0, 0.1], [2.0, 0.0]]))
    return sim


def test_nan_velocity_flags_that_world_only(pendulum):
    sim = pendulum
    before = sim.qpos.clone()
    sim.qvel[2, 0] = float("nan")
    sim.step()
    assert sim.diverged.tolist() == [False, False, True, False]
    assert int(sim.diverged_count) == 1
    assert sim.pop_divergence_causes() == {"non_finite": 1}
    assert torch.isfinite(sim.qpos[[0, 1, 3]]).all()

    sim.reset(sim.diverged)
    assert not sim.diverged.any()
    assert torch.isfinite(sim.qpos[2]).all() and torch.isfinite(sim.qvel[2]).all()
    assert torch.equal(sim.qpos[2], sim.init_qpos)
    sim.step()
    assert not sim.diverged.any() and int(sim.diverged_count) == 1
    assert sim.pop_divergence_causes() == {}
    # The healthy worlds kept going as if nothing had happened (no reset reached them).
    assert not torch.equal(sim.qpos[0], before[0])


def test_an_infinite_position_is_flagged(pendulum):
    # Every bound is finite (float32's largest value where a coordinate is unbounded), so inf fails it.
    sim = pendulum
    sim.qpos[1, 0] = float("inf")
    sim.flag_diverged()
    assert sim.diverged.tolist() == [False, True, False, False]


def test_the_speed_bound_is_half_a_turn_per_step_for_rotations_and_the_model_size_for_translations(cartpole):
    bounds = cartpole.divergence_bounds
    # The cart-pole's dofs: the slider (a translation), then the hinge (a rotation).
    expected = [cartpole.mj_model.stat.extent / CARTPOLE_DT, math.pi / CARTPOLE_DT]
    np.testing.assert_allclose(bounds.qvel_max.numpy(), expected, rtol=1e-6)
    assert 600 < expected[0] < 610 and 314 < expected[1] < 315


def test_speed_above_the_limit_flags_that_world_only(pendulum):
    sim = pendulum
    limit = float(sim.divergence_bounds.qvel_max[0])
    assert limit == pytest.approx(math.pi / 0.002)  # half a turn per 2 ms step
    # One 2 ms step changes the speed by under 0.1 rad/s (gravity on a 0.5 m pendulum), so a world
    # at twice the limit stays above it and one at half the limit stays below it.
    sim.qvel[1, 0] = 2 * limit
    sim.qvel[3, 0] = -0.5 * limit
    sim.step()
    assert torch.isfinite(sim.qvel).all()
    assert sim.diverged.tolist() == [False, True, False, False]
    assert int(sim.diverged_count) == 1
    assert sim.pop_divergence_causes() == {"speed": 1}

    untouched = sim.qpos[[0, 2, 3]].clone()
    sim.reset(sim.diverged)
    assert torch.equal(sim.qpos[[0, 2, 3]], untouched)
    assert torch.equal(sim.qvel[1], sim.init_qvel)
    sim.step()
    # World 3 still spins at half the limit: never flagged; the count only grew once.
    assert sim.diverged.tolist() == [False, False, False, False]
    assert int(sim.diverged_count) == 1


def test_a_fixed_speed_limit_applies_to_every_dof():
    sim = make_sim(PENDULUM_XML, 2, cfg=SimCfg(max_abs_qvel=50.0))
    assert sim.divergence_bounds.qvel_max.tolist() == [50.0]
    sim.set_state(qvel=torch.tensor([[40.0], [60.0]]))
    sim.step()
    assert sim.diverged.tolist() == [False, True]


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
    assert sim.pop_divergence_causes() == {"acceleration": 1}


def test_a_cart_pushed_past_the_end_of_its_rail_is_flagged_after_one_step_and_reset(cartpole):
    sim = cartpole
    # The slider's range is [-3, 3] m (width 6): flagged past 3 + 0.5 * 6 + 0.1 = 6.1 m either way.
    bounds = sim.divergence_bounds
    low = float(bounds.qpos_center[0] - bounds.qpos_half[0])
    high = float(bounds.qpos_center[0] + bounds.qpos_half[0])
    assert (low, high) == pytest.approx((-6.1, 6.1))
    # World 1: 89 km along the 3 m rail (what a 50 s timestep did); world 2: just inside the bound.
    sim.set_state(qpos=torch.tensor([[89_000.0, 0.0], [5.9, 0.0]]), worlds=torch.tensor([1, 2]))
    sim.step()
    assert sim.diverged.tolist() == [False, True, False, False]
    # The joint limit throws the cart back at once: its speed and acceleration are flagged too.
    assert sim.pop_divergence_causes()["position"] == 1
    healthy = sim.qpos[[0, 2, 3]].clone()
    sim.reset(sim.diverged)
    assert torch.equal(sim.qpos[1], sim.init_qpos)
    assert torch.equal(sim.qpos[[0, 2, 3]], healthy)
    sim.step()
    assert not sim.diverged.any() and int(sim.diverged_count) == 1


def test_an_absurd_speed_of_the_cart_is_flagged(cartpole):
    sim = cartpole
    # 1 km/s: the cart would cross 6.04 m (the whole model) in 6 ms, under one 10 ms step.
    sim.set_state(qvel=torch.tensor([[1000.0, 0.0]]), worlds=torch.tensor([3]))
    sim.step()
    assert sim.diverged.tolist() == [False, False, False, True]
    assert "speed" in sim.pop_divergence_causes()


def test_a_model_starting_outside_a_joint_range_is_not_flagged_for_it():
    # The hinge starts at qpos0 = 0, outside its range [1.5, 2]; the limit pushes it in. The bound
    # covers qpos0, or the world would be flagged at every step and reset to where it started.
    xml = PENDULUM_XML.replace('axis="0 1 0"/>', 'axis="0 1 0" limited="true" range="1.5 2"/>').replace(
        "<mujoco>", '<mujoco><compiler angle="radian"/>'
    )
    sim = make_sim(xml, 2)
    for _ in range(5):
        sim.step()
        assert not sim.diverged.any()
    # The interval is [min(1.5, 0) - m, max(2, 0) + m] with m = 0.5 * 0.5 + 0.5 rad: -1 lies outside.
    sim.set_state(qpos=torch.tensor([[-1.0], [1.7]]))
    sim.flag_diverged()
    assert sim.diverged.tolist() == [True, False]


def test_a_free_body_far_outside_the_scene_is_flagged():
    sim = make_sim(RESTING_BOX_XML, 3)
    mjm = sim.mj_model
    reach = 1000 * mjm.stat.extent
    # Per axis from the model's centre; the rest position's own offset widens the interval.
    qpos = sim.qpos.clone()
    qpos[1, 0] = mjm.stat.center[0] + 2 * reach
    qpos[2, 1] = mjm.stat.center[1] + 0.9 * reach
    sim.set_state(qpos=qpos)
    sim.flag_diverged()
    assert sim.diverged.tolist() == [False, True, False]
    assert sim.pop_divergence_causes() == {"position": 1}


def test_the_bounds_are_settings():
    # Ranges unchecked: the slider is then bounded like any translation, by 1000 model sizes (6 km).
    wide = make_sim(CARTPOLE_XML, 2, cfg=SimCfg(joint_range_margin=math.inf))
    # Without a forward pass, so that the limit's force (a huge qacc) does not decide the outcome.
    wide.set_state(qpos=torch.tensor([[5e3, 0.0], [7e3, 0.0]]), forward=False)
    wide.flag_diverged()
    assert wide.diverged.tolist() == [False, True]
    near = make_sim(RESTING_BOX_XML, 1, cfg=SimCfg(max_free_distance=10.0))
    near.qpos[0, 0] = 11.0
    near.flag_diverged()
    assert near.diverged.all()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("joint_range_margin", -0.1),
        ("max_free_distance", 0.0),
        ("max_abs_qvel", float("nan")),
        ("max_abs_qacc", -1),
    ],
)
def test_an_invalid_bound_is_refused_naming_the_field(field, value):
    with pytest.raises(ValueError) as error:
        make_sim(PENDULUM_XML, 1, cfg=SimCfg(**{field: value}))
    assert f"SimCfg.{field} must be" in str(error.value) and repr(value) in str(error.value)
    assert "\n" not in str(error.value)


class _HostReads(TorchDispatchMode):
    """Records operators that would make the host wait for a CUDA device (on any device)."""

    SYNCING = {"_local_scalar_dense", "nonzero", "nonzero_static", "masked_select", "is_nonzero", "equal"}

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in self.SYNCING:
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


def test_the_guard_reads_nothing_back_to_the_host(cartpole):
    cartpole.qvel[2, 1] = float("nan")
    with _HostReads() as reads:
        cartpole.flag_diverged()
    assert reads.seen == []
    assert cartpole.diverged.tolist() == [False, False, True, False]
    assert len(CAUSES) == cartpole.divergence_causes.numel()
