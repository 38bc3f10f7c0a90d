"""``SacCfg.bf16_autocast`` on the CPU: the networks' forward passes of the update run under bfloat16
autocast, everything else (losses, targets, weights, optimizer state) stays float32, and the option
off leaves the float32 update exactly as it was."""

from __future__ import annotations

import pytest
import torch

from warplab.rl import SacCfg
from warplab.rl.sac import SAC

from .helpers import random_sac_batch, small_sac_agent

_agent = small_sac_agent
_batch = random_sac_batch


class _AutocastRecorder:
    """Stands in for `torch.autocast` and records each entry's (device type, dtype, cache flag)."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, torch.dtype, bool]] = []
        self._autocast = torch.autocast

    def __call__(self, device_type: str, dtype: torch.dtype, cache_enabled: bool = True, **kwargs):
        self.entries.append((device_type, dtype, cache_enabled))
        return self._autocast(device_type, dtype=dtype, cache_enabled=cache_enabled, **kwargs)


def _state(agent: SAC) -> dict[str, torch.Tensor]:
    state = {f"model.{k}": v.clone() for k, v in agent.model.state_dict().items()}
    state["log_alpha"] = agent.log_alpha.detach().clone()
    for name, optimizer in (("actor", agent.actor_optimizer), ("critic", agent.critic_optimizer)):
        for index, values in optimizer.state_dict()["state"].items():
            for key, value in values.items():
                state[f"{name}.{index}.{key}"] = value.clone()
    return state


@pytest.mark.parametrize(("algorithm", "distributional"), [("sac", True), ("sac", False), ("td3", True)])
def test_a_bf16_update_is_finite_and_close_to_the_float32_update(algorithm, distributional):
    """From the same weights, batch and seed: the critic loss agrees within bfloat16's rounding
    (8 bits of mantissa, about 0.4% per rounding), but is not the float32 number (bf16 really ran)."""
    batch = _batch()
    full = _agent(algorithm, distributional=distributional).update(batch, update_actor=True)
    half = _agent(algorithm, distributional=distributional, bf16_autocast=True).update(
        batch, update_actor=True
    )

    assert half.keys() == full.keys()
    for key, value in half.items():
        assert value.dtype == torch.float32, key
        assert torch.isfinite(value), (key, value)
    assert half["Loss/critic"].item() == pytest.approx(full["Loss/critic"].item(), rel=5e-2)
    assert half["Loss/critic"].item() != full["Loss/critic"].item()


@pytest.mark.parametrize("algorithm", ["sac", "td3"])
def test_weights_and_optimizer_state_stay_float32(algorithm):
    agent = _agent(algorithm, bf16_autocast=True, max_grad_norm=1.0)
    for _ in range(2):
        agent.update(_batch(), update_actor=True)
    state = _state(agent)
    assert any(key.startswith("critic.") and key.endswith("exp_avg") for key in state)
    for key, value in state.items():
        if value.is_floating_point():
            assert value.dtype == torch.float32, (key, value.dtype)
    for parameter in [*agent.actor_parameters, *agent.critic_parameters]:
        assert parameter.grad is not None and parameter.grad.dtype == torch.float32


def test_the_networks_run_under_bf16_autocast_without_the_cast_cache(monkeypatch):
    """An update with the actor's step makes five forward passes: the actor and the target critics
    on the next observations, the critics on the batch (critic step); the actor and the critics
    again (actor step). Each runs under one autocast, its cache off (CUDA graph capture)."""
    recorder = _AutocastRecorder()
    monkeypatch.setattr(torch, "autocast", recorder)
    _agent(bf16_autocast=True).update(_batch(), update_actor=True)
    assert recorder.entries == [("cpu", torch.bfloat16, False)] * 5


def test_off_is_the_float32_update_bit_for_bit(monkeypatch):
    """Off (explicitly or by default), autocast is never entered: the update is the float32 one,
    the same bits whether the field is given or left at its default."""
    recorder = _AutocastRecorder()
    monkeypatch.setattr(torch, "autocast", recorder)
    assert SacCfg().bf16_autocast is False
    runs = []
    for agent in (_agent(), _agent(bf16_autocast=False)):
        stats = [agent.update(_batch(seed), update_actor=seed % 2 == 0) for seed in range(3)]
        runs.append((stats, _state(agent)))
    assert recorder.entries == []
    (stats_default, state_default), (stats_off, state_off) = runs
    for default, off in zip(stats_default, stats_off, strict=True):
        assert default.keys() == off.keys()
        assert all(torch.equal(default[key], off[key]) for key in default)
    assert state_default.keys() == state_off.keys()
    for key, value in state_default.items():
        assert torch.equal(value, state_off[key]), key
