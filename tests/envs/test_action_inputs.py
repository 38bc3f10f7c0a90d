"""Actions a user may hand to ``RlEnv.step``: another device, other dtypes, a graph's output, NaN.

Each is refused with one line naming what is wrong and what would be right, or accepted with a
documented outcome; no NaN reaches the physics (``ActionManager.validate``, ``process``).
"""

from __future__ import annotations

import math

import pytest
import torch

from warplab.envs import RlEnv

from ._cfgs import cartpole_cfg


@pytest.fixture(scope="module")
def cartpole():
    return RlEnv(cartpole_cfg())


def test_an_action_on_another_device_is_refused_naming_both(cartpole):
    # This machine has no GPU: a tensor of the 'meta' device stands for a CUDA tensor given to a
    # CPU env (or a CPU tensor to a CUDA env); the check reads only the tensor's device.
    with pytest.raises(ValueError) as error:
        cartpole.step(torch.zeros(2, 1, device="meta"))
    message = str(error.value)
    assert "\n" not in message
    assert "action is on device meta, the env on cpu" in message and "action.to(env.device)" in message


@pytest.mark.parametrize("dtype", [torch.bool, torch.int32, torch.uint8, torch.complex64])
def test_non_float_dtypes_are_refused_naming_the_dtype(cartpole, dtype):
    with pytest.raises(ValueError, match=f"floating-point tensor .*got dtype {dtype}"):
        cartpole.step(torch.zeros(2, 1, dtype=dtype))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_other_float_dtypes_are_used_as_float32(cartpole, dtype):
    cartpole.step(torch.full((2, 1), 0.5, dtype=dtype))
    assert cartpole.action_manager.action.dtype == torch.float32
    assert cartpole.action_manager.action.flatten().tolist() == [0.5, 0.5]


def test_a_float64_beyond_float32_is_zeroed_like_inf():
    env = RlEnv(cartpole_cfg())
    env.step(torch.tensor([[1e300], [0.25]], dtype=torch.float64))
    assert env.action_manager.action.flatten().tolist() == [0.0, 0.25]
    assert int(env.action_manager.nonfinite_count) == 1


def test_nan_never_reaches_the_controls():
    env = RlEnv(cartpole_cfg())
    env.step(torch.tensor([[math.nan], [math.inf]]))
    assert torch.isfinite(env.sim.ctrl).all() and torch.isfinite(env.sim.qpos).all()
    assert int(env.action_manager.nonfinite_count) == 2


def test_an_action_that_requires_grad_does_not_tie_the_env_to_its_graph():
    # Once, a policy's output stepped outside torch.no_grad() made the env's action buffer part of
    # the policy's autograd graph, and every later step failed inside a term.
    env = RlEnv(cartpole_cfg())
    weight = torch.ones(1, requires_grad=True)
    env.step(torch.zeros(2, 1) * weight)
    assert not env.action_manager.action.requires_grad
    env.step(torch.full((2, 1), 0.5))
    assert env.action_manager.action.flatten().tolist() == [0.5, 0.5]
