"""Checkpoints: weights_only loading, atomic writes, and errors for missing, bad or mismatched files."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
import torch

from warplab import atomic_files
from warplab.rl import CheckpointError, PolicyCfg, capture_rng_states, load_checkpoint, restore_rng_states
from warplab.rl import checkpoint as checkpoint_module

from .helpers import make_runner
from .toy_env import ToyEnv


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
    monkeypatch.setattr(atomic_files.os, "replace", lambda *args: (_ for _ in ()).throw(OSError("killed")))
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


# Non-finite weights ------------------------------------------------------------------------------


def _poisoned(path, out):
    """`path`'s checkpoint with NaN in an actor layer, inf in a normalizer and NaN in Adam's moments."""
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["model"]["actor.0.weight"][:3, 0] = float("nan")
    checkpoint["model"]["actor_obs_normalizer.var"][0] = float("inf")
    states = checkpoint["optimizer"]["state"]
    largest = max(states, key=lambda key: states[key]["exp_avg"].numel())
    states[largest]["exp_avg"].view(-1)[:2] = float("nan")
    torch.save(checkpoint, out)
    return out, largest


def test_nonfinite_weights_are_refused_at_load_naming_the_tensors(saved, tmp_path):
    _, path = saved
    bad, state = _poisoned(path, tmp_path / "model_50.pt")
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(bad)
    message = str(error.value)
    assert message.startswith(f"checkpoint {bad}: non-finite values in model.actor.0.weight (3 NaN), ")
    assert "model.actor_obs_normalizer.var (1 inf)" in message
    assert f"optimizer.state.{state}.exp_avg (2 NaN)" in message
    assert "it cannot be resumed, exported or played" in message and "use an earlier checkpoint" in message
    assert "\n" not in message
    # Resuming goes through the same load: the runner keeps its own weights.
    runner = make_runner()
    before = {k: v.clone() for k, v in runner.policy.state_dict().items()}
    with pytest.raises(CheckpointError, match="non-finite values"):
        runner.load(bad)
    assert all(torch.equal(before[k], v) for k, v in runner.policy.state_dict().items())


def test_a_long_list_of_bad_tensors_is_cut_short(saved, tmp_path):
    _, path = saved
    checkpoint = torch.load(path, weights_only=True)
    for tensor in checkpoint["model"].values():
        if tensor.is_floating_point():
            tensor.fill_(float("nan"))
    torch.save(checkpoint, tmp_path / "model_2.pt")
    with pytest.raises(CheckpointError, match=r"\(\d+ NaN\) and \d+ more tensors; it cannot"):
        load_checkpoint(tmp_path / "model_2.pt")


def test_a_negative_normalizer_variance_is_refused(saved, tmp_path):
    # sqrt(var + 1e-4) of a negative variance is NaN: every action of the policy would be NaN.
    _, path = saved
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["model"]["actor_obs_normalizer.var"][1] = -2.0
    torch.save(checkpoint, tmp_path / "model_5.pt")
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(tmp_path / "model_5.pt")
    assert str(error.value).startswith(
        f"checkpoint {tmp_path / 'model_5.pt'}: negative normalizer statistics in "
        "model.actor_obs_normalizer.var (1 < 0)"
    )


class _DivergingEnv(ToyEnv):
    """The toy env, whose rewards become infinite after `diverge_at` steps: PPO's update then
    fills the weights with NaN, as a real divergence does."""

    diverge_at = 12

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.steps = getattr(self, "steps", 0) + 1
        if self.steps > self.diverge_at:
            reward = reward + float("inf")
        return obs, reward, terminated, truncated, info


def test_a_diverged_run_refuses_to_save_and_keeps_the_earlier_checkpoint(tmp_path):
    # One iteration is 8 steps: the first checkpoint is good, the rewards blow up in the second.
    runner = make_runner(tmp_path, env_cls=_DivergingEnv, save_interval=1, logger="none")
    with pytest.raises(CheckpointError) as error:
        runner.learn(2)
    message = str(error.value)
    assert message.startswith(
        f"refusing to write checkpoint {tmp_path / 'model_2.pt'}: non-finite values in model."
    )
    assert "training has diverged" in message and "Earlier checkpoints are kept" in message
    assert not (tmp_path / "model_2.pt").exists()
    assert load_checkpoint(tmp_path / "model_1.pt")["iteration"] == 1
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def test_saving_nonfinite_weights_over_a_good_checkpoint_keeps_it(saved):
    runner, path = saved
    good = path.read_bytes()
    with torch.no_grad():
        runner.policy.critic[0].bias[0] = float("inf")
    with pytest.raises(
        CheckpointError, match=rf"refusing to write checkpoint {path}: .*critic\.0\.bias \(1 inf\)"
    ):
        runner.save(path)
    assert path.read_bytes() == good


# Files that are not checkpoints --------------------------------------------------------------------


class _RunsCode:
    """Unpickling this calls ``exec``: what a hostile checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [
        (
            None,
            "holds Python objects that weights_only=True loading refuses (Unsupported global: GLOBAL exec)",
        ),
        (2, "holds Python objects that weights_only=True loading refuses (Unsupported global: GLOBAL exec)"),
        (5, "is a Python pickle that weights_only=True loading cannot read"),
    ],
    ids=["torch.save", "pickle-2", "pickle-5"],
)
def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path, protocol, expected):
    import pickle

    marker = tmp_path / "code_ran"
    path = tmp_path / "model_1.pt"
    payload = {"format_version": 1, "model": _RunsCode(marker)}
    if protocol is None:
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
        # The file really runs code when unpickled: the test would notice if loading did.
        pickle.loads(path.read_bytes())
        assert marker.exists()
        marker.unlink()
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    assert str(error.value).startswith(f"checkpoint {path} cannot be read: the file {expected}")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c.update(model=[1, 2]), "'model' must map parameter names to tensors"),
        (lambda c: c["model"].update({"actor.0.weight": "x"}), "'model' must map parameter names to tensors"),
        (lambda c: c.update(config="x"), "'config' must be a dict, got str"),
        (lambda c: c.update(optimizer=None), "'optimizer' must be a dict, got NoneType"),
        (lambda c: c.update(iteration="7"), "'iteration' must be an integer >= 0, got '7'"),
        (lambda c: c.update(learning_rate=-1.0), "'learning_rate' must be a number > 0, got -1.0"),
        (lambda c: c.update(action_dim=-1), "'action_dim' must be a positive integer, got -1"),
        (
            lambda c: c.update(obs_shapes={"policy": [-2]}),
            "'obs_shapes' must map groups to lists of positive",
        ),
    ],
)
def test_a_checkpoint_of_the_wrong_layout_names_the_entry(saved, tmp_path, edit, expected):
    _, path = saved
    checkpoint = torch.load(path, weights_only=True)
    edit(checkpoint)
    bad = tmp_path / "model_3.pt"
    torch.save(checkpoint, bad)
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(bad)
    assert str(error.value).startswith(f"checkpoint {bad} is not a warplab checkpoint: {expected}")


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c.update(rng={}), "its random generator states cannot be restored (KeyError: 'torch')"),
        (lambda c: c["rng"].update(torch=torch.zeros(3)), "its random generator states cannot be restored"),
        (lambda c: c.update(optimizer={}), "the optimizer state does not fit"),
        (
            lambda c: c.update(last_obs={"policy": torch.zeros(16, 9)}),
            "its last observations have shapes {'policy': [16, 9]}, this env gives {'policy': [16, 2]}",
        ),
    ],
)
def test_resuming_a_checkpoint_whose_state_does_not_fit_names_the_file(saved, tmp_path, edit, expected):
    _, path = saved
    checkpoint = torch.load(path, weights_only=True)
    edit(checkpoint)
    bad = tmp_path / "model_4.pt"
    torch.save(checkpoint, bad)
    with pytest.raises(CheckpointError) as error:
        make_runner().load(bad)
    assert str(error.value).startswith(f"checkpoint {bad}") and expected in str(error.value)
