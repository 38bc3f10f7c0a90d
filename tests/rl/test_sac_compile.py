"""``SacCfg.compile_networks`` on the CPU: the update's network forwards run through ``torch.compile``
(Inductor's C++ kernels here), and the update is the eager one up to the fused kernels' rounding;
the model's state dict (checkpoint keys) is the same with and without it."""

from __future__ import annotations

import pytest
import torch

from warplab.rl import SacCfg

from .helpers import random_sac_batch, small_sac_agent

_agent = small_sac_agent
_batch = random_sac_batch


@pytest.mark.slow  # Inductor's first C++ compile of the networks: about 40 s on a 2-core CPU
@pytest.mark.parametrize(("algorithm", "distributional"), [("sac", True), ("td3", False)])
def test_compiled_updates_equal_eager_updates(algorithm, distributional):
    """Four updates (with and without the actor's step) from the same weights, batches and seed:
    statistics, weights, temperature and the generator's stream agree with the eager run to float32
    rounding. The compiled run really went through Dynamo (its frame counter moved)."""
    torch._dynamo.reset()
    eager = _agent(algorithm, distributional=distributional)
    compiled = _agent(algorithm, distributional=distributional, compile_networks=True)
    assert compiled.model.state_dict().keys() == eager.model.state_dict().keys()
    frames_before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    for seed in range(4):
        batch = _batch(seed)
        stats_e = eager.update(batch, update_actor=seed % 2 == 0)
        stats_c = compiled.update(batch, update_actor=seed % 2 == 0)
        assert stats_c.keys() == stats_e.keys()
        for key, value in stats_e.items():
            torch.testing.assert_close(stats_c[key], value, atol=1e-5, rtol=1e-4, msg=f"{key}, update {seed}")
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > frames_before
    for (name, value), (name_c, value_c) in zip(
        eager.model.state_dict().items(), compiled.model.state_dict().items(), strict=True
    ):
        assert name == name_c
        torch.testing.assert_close(value_c, value, atol=1e-5, rtol=1e-4, msg=name)
    torch.testing.assert_close(compiled.log_alpha, eager.log_alpha, atol=1e-6, rtol=1e-5)
    assert torch.equal(compiled.generator.get_state(), eager.generator.get_state())


def test_compile_networks_is_off_by_default_and_then_calls_the_model_itself():
    agent = _agent("sac")
    assert SacCfg().compile_networks is False
    assert agent._actor_net == agent.model.actor_forward
    assert agent._critic_net == agent.model.critic_values
