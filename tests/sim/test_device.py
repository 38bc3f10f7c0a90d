"""Choosing the device on a machine without a GPU, and what ``Simulation`` accepts."""

from __future__ import annotations

import mujoco
import pytest
import warp as wp

from warplab.sim import DeviceError, Simulation, resolve_device

from .reference import PENDULUM_XML

pytestmark = pytest.mark.skipif(wp.is_cuda_available(), reason="these tests are for a machine without CUDA")


def test_auto_is_the_cpu_without_a_gpu():
    assert resolve_device("auto") == "cpu"
    assert resolve_device() == "cpu"
    assert resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_without_a_gpu_raises_device_error(device):
    with pytest.raises(DeviceError, match="no CUDA GPU") as info:
        resolve_device(device)
    assert repr(device) in str(info.value) and "device='cpu'" in str(info.value)


@pytest.mark.parametrize("device", ["gpu", "CPU", "", "cuda0", 0, None])
def test_bad_names_raise_value_error(device):
    with pytest.raises(ValueError, match="'auto', 'cpu', 'cuda' or 'cuda:N'"):
        resolve_device(device)


def test_simulation_refuses_cuda_before_doing_any_work():
    with pytest.raises(DeviceError):
        Simulation(mujoco.MjModel.from_xml_string(PENDULUM_XML), 2, device="cuda")
    with pytest.raises(ValueError, match="num_worlds"):
        Simulation(mujoco.MjModel.from_xml_string(PENDULUM_XML), 0, device="cpu")


def test_simulation_takes_a_model_or_a_spec_and_nothing_else():
    sim = Simulation(mujoco.MjSpec.from_string(PENDULUM_XML), 2, device="cpu")
    assert sim.mj_model.nq == 1 and sim.qpos.shape == (2, 1) and sim.device.type == "cpu"
    with pytest.raises(TypeError, match="MjModel or mujoco.MjSpec"):
        Simulation(PENDULUM_XML, 2, device="cpu")
