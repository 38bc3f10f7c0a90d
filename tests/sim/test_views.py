"""Zero-copy torch views: the tensors ``Simulation`` hands out are the Warp arrays MuJoCo Warp steps."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from .reference import DOUBLE_PENDULUM_XML, POSITION_ARM_XML, c_engine_step, make_sim, numpy_rows

STATE_VIEWS = (
    "qpos",
    "qvel",
    "qacc",
    "ctrl",
    "xpos",
    "xquat",
    "xmat",
    "cvel",
    "subtree_com",
    "qfrc_actuator",
    "actuator_force",
    "cfrc_ext",
    "time",
)


@pytest.fixture(scope="module")
def arm():
    return make_sim(POSITION_ARM_XML, 3)


@pytest.mark.parametrize("name", STATE_VIEWS)
def test_view_shares_the_warp_array(arm, name):
    view = getattr(arm, name)
    array = getattr(arm.data, name)
    assert view.data_ptr() == array.ptr, f"sim.{name} is a copy of data.{name}"
    assert view.shape[0] == arm.num_worlds
    assert view.device == arm.device


def test_contact_views_share_the_warp_arrays(arm):
    contact = arm.data.contact
    assert arm.contact.dist.data_ptr() == contact.dist.ptr
    assert arm.contact.pos.data_ptr() == contact.pos.ptr
    assert arm.contact.worldid.data_ptr() == contact.worldid.ptr
    assert arm.contact.count.data_ptr() == arm.data.nacon.ptr


def test_writes_through_the_view_are_what_mujoco_warp_steps_from():
    sim = make_sim(DOUBLE_PENDULUM_XML, 3)
    qpos = np.array([0.7, -0.4], dtype=np.float32)
    qvel = np.array([-1.5, 2.0], dtype=np.float32)
    # Write in place through the views only; nothing is handed to the simulation explicitly.
    sim.qpos[1] = torch.from_numpy(qpos)
    sim.qvel[1] = torch.from_numpy(qvel)
    np.testing.assert_array_equal(sim.data.qpos.numpy()[1], qpos)
    sim.step()
    mjm = sim.mj_model
    ref = c_engine_step(mjm, qpos.astype(np.float64), qvel.astype(np.float64))
    # float32 arithmetic over one step of O(1) states: 1e-6 is ~10 ulps.
    np.testing.assert_allclose(numpy_rows(sim.qpos[1]), ref.qpos, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(numpy_rows(sim.qvel[1]), ref.qvel, rtol=1e-6, atol=1e-6)
    # The other worlds stepped from the initial pose, and the views show what Warp wrote.
    rest = c_engine_step(mjm, mjm.qpos0, np.zeros(mjm.nv))
    np.testing.assert_allclose(numpy_rows(sim.qpos[0]), rest.qpos, atol=1e-6)
    np.testing.assert_array_equal(sim.qpos.numpy(), sim.data.qpos.numpy())


def test_ctrl_written_through_the_view_drives_the_actuators(arm):
    arm.reset()
    arm.ctrl[2] = torch.tensor([1.0, -0.5, 0.25])
    arm.step()
    mjm = arm.mj_model
    ref = c_engine_step(mjm, mjm.qpos0, np.zeros(mjm.nv), ctrl=[1.0, -0.5, 0.25])
    np.testing.assert_allclose(numpy_rows(arm.qvel[2]), ref.qvel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy_rows(arm.actuator_force[2]), ref.actuator_force, rtol=1e-5, atol=1e-5)
    # World 0 had no control: the arm only sags under gravity.
    assert not torch.allclose(arm.qvel[0], arm.qvel[2])


def test_forward_fills_derived_views_like_the_c_engine(arm):
    qpos = torch.tensor([[0.3, -0.8, 1.1], [-1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    arm.set_state(qpos, torch.zeros(3, 3))
    mjm = arm.mj_model
    mjd = mujoco.MjData(mjm)
    for w in range(3):
        mjd.qpos[:] = qpos[w].numpy()
        mujoco.mj_kinematics(mjm, mjd)
        np.testing.assert_allclose(numpy_rows(arm.xpos[w]), mjd.xpos, atol=1e-6)
        np.testing.assert_allclose(numpy_rows(arm.xmat[w]).reshape(-1, 9), mjd.xmat, atol=1e-6)
