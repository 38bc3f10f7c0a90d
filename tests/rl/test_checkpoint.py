"""Checkpoints: weights_only loading, atomic writes, and errors for missing, bad or mismatched files."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import torch

from warplab.rl import CheckpointError, PolicyCfg, capture_rng_states, load_checkpoint, restore_rng_states
from warplab.rl import checkpoint as checkpoint_module

from .helpers import make_runner


@pytest.fixture
def saved(tmp_path):
    """A runner after one iteration and the path of its checkpoint."""
    runner = make_runner()
    runner.learn(1)
    return runner, runner.save(tmp_path / "model_1.pt")


def test_checkpoint_loads_with_weights_only(saved):
    runner, path = saved
    checkpoint = torch.load(path, weights_only=True)
    for key in ("model", "optimizer", "iteration", "learning_rate", "rng", "config", "env_state", "last_obs"):
        assert key in checkpoint
    assert checkpoint["iteration"] == 1
    assert "actor_obs_normalizer.mean" in checkpoint["model"]
    assert {"torch", "numpy", "python", "minibatch", "env"} <= set(checkpoint["rng"])
    assert checkpoint["config"]["ppo"]["num_steps_per_env"] == 8


def test_rng_states_round_trip():
    states = capture_rng_states()
    first = (torch.rand(3), np.random.rand(3), random.random())
    # Through torch.save / weights_only load, as in a checkpoint.
    buffer = io.BytesIO()
    torch.save(states, buffer)
    buffer.seek(0)
    restore_rng_states(torch.load(buffer, weights_only=True))
    second = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1]) and first[2] == second[2]


def test_crash_mid_write_keeps_the_previous_checkpoint(saved, monkeypatch):
    runner, path = saved
    good_bytes = path.read_bytes()

    def crash_after_half(payload, file):
        buffer = io.BytesIO()
        torch.save(dict(payload), buffer)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise KeyboardInterrupt("killed while writing")

    runner.learn(1)
    monkeypatch.setattr(checkpoint_module, "_write_payload", crash_after_half)
    with pytest.raises(KeyboardInterrupt):
        runner.save(path)
    assert path.read_bytes() == good_bytes
    assert load_checkpoint(path)["iteration"] == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # The partial temp file is gone.


def test_crash_before_rename_keeps_the_previous_checkpoint(saved, monkeypatch):
    # A kill between the write and the rename leaves a complete temp file and the old checkpoint.
    runner, path = saved
    runner.learn(1)
    monkeypatch.setattr(
        checkpoint_module.os, "replace", lambda *args: (_ for _ in ()).throw(OSError("killed"))
    )
    with pytest.raises(OSError, match="killed"):
        runner.save(path)
    assert load_checkpoint(path)["iteration"] == 1


def test_missing_file(tmp_path):
    path = tmp_path / "model_9.pt"
    with pytest.raises(CheckpointError, match=rf"checkpoint {path} does not exist"):
        load_checkpoint(path)


def test_truncated_file(saved):
    _, path = saved
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value) and "truncated" in str(error.value)


@pytest.mark.parametrize("size", [0, 10, 5000])
def test_corrupt_file(tmp_path, size):
    path = tmp_path / "model_1.pt"
    path.write_bytes(np.random.default_rng(size).bytes(size))
    with pytest.raises(CheckpointError, match="truncated or corrupt|empty") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_file_with_objects_weights_only_refuses(tmp_path):
    path = tmp_path / "model_1.pt"
    torch.save({"array": np.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="holds Python objects that weights_only=True loading refuses"):
        load_checkpoint(path)


def test_not_a_warplab_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"state_dict": {}}, path)
    with pytest.raises(CheckpointError, match="is not a warplab checkpoint: it lacks the keys"):
        load_checkpoint(path)


def test_other_network_sizes(saved):
    _, path = saved  # Trained with actor_hidden_dims=(16, 16), 2 policy observations.
    other = make_runner(policy=PolicyCfg(actor_hidden_dims=(32, 16), critic_hidden_dims=(16, 16)))
    with pytest.raises(CheckpointError) as error:
        other.load(path)
    message = str(error.value)
    assert str(path) in message
    assert (
        "policy layer actor.0.weight has shape [16, 2] in the checkpoint but [32, 2] in this model" in message
    )
    assert "the checkpoint was trained with actor_hidden_dims=[16, 16]" in message


def test_other_observation_dims(saved):
    _, path = saved  # The critic read the 2 policy observations; now it reads a 4-value critic group.
    other = make_runner(critic_group=True)
    with pytest.raises(CheckpointError) as error:
        other.load(path)
    message = str(error.value)
    assert "critic.0.weight has shape [16, 2] in the checkpoint but [16, 4] in this model" in message
    assert "observation shapes {'policy': [2]}, this env has {'policy': [2], 'critic': [4]}" in message


def test_normalization_switched_off(saved):
    _, path = saved
    other = make_runner(
        policy=PolicyCfg(
            actor_hidden_dims=(16, 16), critic_hidden_dims=(16, 16), actor_obs_normalization=False
        )
    )
    with pytest.raises(CheckpointError, match="the checkpoint was trained with actor_obs_normalization=True"):
        other.load(path)
