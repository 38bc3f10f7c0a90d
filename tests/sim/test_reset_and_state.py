"""Resets of selected worlds and writes of the state of selected worlds."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch
import warp as wp

from .reference import POSITION_ARM_XML, make_sim, numpy_rows

NUM_WORLDS = 4


def _state(sim) -> dict[str, torch.Tensor]:
    """The state MuJoCo steps from, copied."""
    d = sim.data
    names = ("qpos", "qvel", "act", "ctrl", "time", "qacc_warmstart", "xfrc_applied", "qfrc_applied")
    return {n: wp.to_torch(getattr(d, n)).clone() for n in names}


@pytest.fixture()
def arm():
    """Four worlds of the arm, each moved to a different state by a few steps under its own control."""
    sim = make_sim(POSITION_ARM_XML, NUM_WORLDS)
    gen = torch.Generator().manual_seed(0)
    sim.set_state(torch.rand(NUM_WORLDS, 3, generator=gen) - 0.5, torch.rand(NUM_WORLDS, 3, generator=gen))
    sim.ctrl.copy_(torch.rand(NUM_WORLDS, 3, generator=gen))
    sim.step(3)
    return sim


def _kinematics(mjm: mujoco.MjModel, qpos: np.ndarray) -> np.ndarray:
    mjd = mujoco.MjData(mjm)
    mjd.qpos[:] = qpos
    mujoco.mj_kinematics(mjm, mjd)
    return mjd.xpos.copy()


def _assert_untouched(before: dict, after: dict, worlds: list[int]) -> None:
    for name in before:
        for w in worlds:
            assert torch.equal(before[name][w], after[name][w]), f"{name} of world {w} changed"


def _assert_at_init(sim, worlds: list[int]) -> None:
    for w in worlds:
        assert torch.equal(sim.qpos[w], sim.init_qpos), f"qpos of world {w}"
        assert torch.equal(sim.qvel[w], sim.init_qvel), f"qvel of world {w}"
        assert torch.all(sim.ctrl[w] == 0) and float(sim.time[w]) == 0.0
        assert torch.all(wp.to_torch(sim.data.qacc_warmstart)[w] == 0)
        # Forward ran: kinematics agree with the C engine at the reset pose.
        np.testing.assert_allclose(
            numpy_rows(sim.xpos[w]), _kinematics(sim.mj_model, numpy_rows(sim.init_qpos)), atol=1e-6
        )


def test_reset_by_mask(arm):
    before = _state(arm)
    assert not torch.equal(before["qpos"][0], before["qpos"][2])
    arm.reset(torch.tensor([True, False, True, False]))
    after = _state(arm)
    _assert_untouched(before, after, [1, 3])
    _assert_at_init(arm, [0, 2])
    np.testing.assert_array_equal(numpy_rows(arm.init_qpos), np.float32(arm.mj_model.qpos0))


def test_reset_by_indices_to_a_chosen_initial_state(arm):
    arm.init_qpos.copy_(torch.tensor([0.5, -0.25, 1.0]))
    arm.init_qvel.copy_(torch.tensor([0.1, 0.0, -0.2]))
    before = _state(arm)
    arm.reset(torch.tensor([3, 1]))
    _assert_untouched(before, _state(arm), [0, 2])
    _assert_at_init(arm, [1, 3])
    # A Python list of indices is accepted too.
    arm.reset([0])
    _assert_at_init(arm, [0, 1, 3])


def test_reset_all(arm):
    arm.reset()
    _assert_at_init(arm, list(range(NUM_WORLDS)))


def test_reset_rejects_a_mask_of_the_wrong_length(arm):
    with pytest.raises(ValueError, match=r"\[4\]"):
        arm.reset(torch.ones(3, dtype=torch.bool))


def test_set_state_all_worlds(arm):
    qpos = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [-0.1, -0.2, -0.3], [1.0, -1.0, 0.5]])
    qvel = -qpos
    arm.set_state(qpos, qvel)
    assert torch.equal(arm.qpos, qpos) and torch.equal(arm.qvel, qvel)
    for w in range(NUM_WORLDS):
        np.testing.assert_allclose(
            numpy_rows(arm.xpos[w]), _kinematics(arm.mj_model, qpos[w].numpy()), atol=1e-6
        )


def test_set_state_from_values_that_require_grad_keeps_the_state_out_of_autograd(arm):
    # A state computed by a differentiable model (a policy's output, an optimizer's variable):
    # written as it was, it made qpos part of that autograd graph, which every later write extended.
    weight = torch.ones(3, requires_grad=True)
    for scale in (0.1, 0.2):
        arm.set_state(qpos=torch.full((NUM_WORLDS, 3), scale) * weight, worlds=None)
    assert not arm.qpos.requires_grad and arm.qpos.grad_fn is None
    assert torch.equal(arm.qpos, torch.full((NUM_WORLDS, 3), 0.2))


def test_set_state_by_mask_writes_only_masked_rows(arm):
    before = _state(arm)
    qpos = torch.full((NUM_WORLDS, 3), 0.25)
    arm.set_state(qpos=qpos, worlds=torch.tensor([False, True, False, False]))
    _assert_untouched(before, _state(arm), [0, 2, 3])
    assert torch.equal(arm.qpos[1], qpos[1])
    # qvel was not given: untouched in every world.
    assert torch.equal(arm.qvel, before["qvel"])
    np.testing.assert_allclose(numpy_rows(arm.xpos[1]), _kinematics(arm.mj_model, qpos[1].numpy()), atol=1e-6)


def test_set_state_by_indices_writes_rows_in_the_given_order(arm):
    before = _state(arm)
    qvel = torch.tensor([[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]])
    arm.set_state(qvel=qvel, worlds=torch.tensor([2, 0]))
    assert torch.equal(arm.qvel[2], qvel[0]) and torch.equal(arm.qvel[0], qvel[1])
    _assert_untouched(before, _state(arm), [1, 3])
    assert torch.equal(arm.qpos, before["qpos"])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (dict(qpos=torch.zeros(4, 4)), r"qpos must have shape \[4, 3\], got \[4, 4\]"),
        (dict(qvel=torch.zeros(3, 3)), r"qvel must have shape \[4, 3\], got \[3, 3\]"),
        (dict(qpos=torch.zeros(1, 3), worlds=torch.tensor([True, False, False, False])), r"qpos.*\[4, 3\]"),
        (dict(qvel=torch.zeros(3, 3), worlds=torch.tensor([0, 1])), r"qvel.*\[2, 3\], got \[3, 3\]"),
        (dict(qpos=torch.zeros(3), worlds=torch.tensor([1])), r"qpos.*\[1, 3\], got \[3\]"),
        (dict(qpos=torch.zeros(4, 3), worlds=torch.tensor([True, False, True])), r"mask.*\[4\], got \[3\]"),
    ],
)
def test_set_state_rejects_wrong_shapes(arm, kwargs, expected):
    before = _state(arm)
    with pytest.raises(ValueError, match=expected):
        arm.set_state(**kwargs)
    _assert_untouched(before, _state(arm), list(range(NUM_WORLDS)))
