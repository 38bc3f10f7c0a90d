"""Checkpoints that must not be resumed, exported or played, given to the command line.

Each one is refused with exit status 2 and one line that names the file and what is wrong, never
a traceback, and nothing is written: no run folder, no ONNX file, no video. The checkpoints are
made here from a real cart-pole checkpoint (``cartpole_checkpoint``).
"""

from __future__ import annotations

import pickle

import pytest
import torch

from warplab.cli.main import main

from .conftest import HUMANOID_CHECKPOINT

TRAIN = ["train", "--task", "cartpole-balance", "--num-envs", "2", "--max-iterations", "1"]


def _user_error(capsys, argv: list[str]) -> str:
    """Runs the command, checks status 2 and one line on stderr without a traceback; returns it."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(f"warplab {argv[0]}: error: ")
    return lines[0]


def _commands(checkpoint, tmp_path) -> dict[str, list[str]]:
    """``warplab train --resume``, ``export`` and ``play`` of `checkpoint`, writing under `tmp_path`."""
    return {
        "train": [*TRAIN, "--runs-dir", str(tmp_path / "runs"), "--resume", str(checkpoint)],
        "export": ["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "policy.onnx")],
        "play": [
            "play",
            "--checkpoint",
            str(checkpoint),
            "--device",
            "cpu",
            "--video",
            str(tmp_path / "v.mp4"),
        ],
    }


def _nothing_written(tmp_path) -> None:
    assert not (tmp_path / "runs").exists(), "a run folder was created for a refused checkpoint"
    assert not (tmp_path / "policy.onnx").exists() and not (tmp_path / "v.mp4").exists()


@pytest.mark.parametrize("command", ["train", "export", "play"])
def test_a_checkpoint_with_nan_weights_is_refused(capsys, tmp_path, cartpole_checkpoint, command):
    checkpoint = torch.load(cartpole_checkpoint, weights_only=True)
    checkpoint["model"]["actor.0.weight"].view(-1)[:13] = float("nan")
    checkpoint["model"]["critic_obs_normalizer.mean"][1] = float("-inf")
    bad = tmp_path / "model_50.pt"
    torch.save(checkpoint, bad)
    line = _user_error(capsys, _commands(bad, tmp_path)[command])
    assert f"checkpoint {bad}: non-finite values in model.actor.0.weight (13 NaN), " in line
    assert "model.critic_obs_normalizer.mean (1 inf)" in line
    assert "it cannot be resumed, exported or played" in line and "use an earlier checkpoint" in line
    _nothing_written(tmp_path)


class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


@pytest.mark.parametrize("command", ["train", "export", "play"])
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("truncated", "the file is truncated or corrupt"),
        ("onnx", "it is an ONNX policy (for `warplab sim2sim` and warplab.deploy.Policy), not a checkpoint"),
        ("runs code", "holds Python objects that weights_only=True loading refuses"),
        ("plain pickle", "is a Python pickle that weights_only=True loading cannot read"),
        ("not warplab's", "is not a warplab checkpoint: it lacks the keys"),
        (
            "bad layout",
            "is not a warplab checkpoint: 'obs_shapes' must map groups to lists of positive sizes",
        ),
    ],
)
def test_files_that_are_not_checkpoints(capsys, tmp_path, cartpole_checkpoint, command, kind, expected):
    marker = tmp_path / "code_ran"
    bad = tmp_path / ("model_7.pt" if kind != "onnx" else "model_7.onnx")
    good = cartpole_checkpoint.read_bytes()
    if kind == "truncated":
        bad.write_bytes(good[: len(good) // 2])
    elif kind == "onnx":
        bad.write_bytes(cartpole_checkpoint.with_suffix(".onnx").read_bytes())
    elif kind == "runs code":
        torch.save({"format_version": 1, "model": _RunsCode(marker)}, bad)
    elif kind == "plain pickle":
        bad.write_bytes(pickle.dumps({"model": _RunsCode(marker)}, protocol=5))
    elif kind == "not warplab's":
        torch.save({"state_dict": {"w": torch.zeros(3)}}, bad)
    else:
        checkpoint = torch.load(cartpole_checkpoint, weights_only=True)
        checkpoint["obs_shapes"] = {"policy": [-4]}
        torch.save(checkpoint, bad)
    line = _user_error(capsys, _commands(bad, tmp_path)[command])
    assert str(bad) in line and expected in line
    assert not marker.exists()
    _nothing_written(tmp_path)


@pytest.mark.parametrize("command", ["train", "export", "play"])
def test_a_checkpoint_of_another_task_is_refused(capsys, tmp_path, command):
    # The humanoid's policy (72 observations, 21 actions) given to the cart-pole (4 and 1).
    argv = _commands(HUMANOID_CHECKPOINT, tmp_path)[command]
    if command != "train":
        argv += ["--task", "cartpole-balance"]
    line = _user_error(capsys, argv)
    assert str(HUMANOID_CHECKPOINT) in line
    if command == "train":
        assert "does not fit this policy" in line and "[72]" in line and "[4]" in line
    else:
        assert "'policy' observations of shape [72], but this env gives [4]" in line
    assert not (tmp_path / "policy.onnx").exists() and not (tmp_path / "v.mp4").exists()


def test_resuming_an_env_state_that_does_not_fit_names_the_file(capsys, tmp_path, cartpole_checkpoint):
    # As many worlds as the checkpoint (4), so that the run restores the env's state, not resets it.
    checkpoint = torch.load(cartpole_checkpoint, weights_only=True)
    checkpoint["env_state"] = {"format_version": 1}
    bad = tmp_path / "model_1.pt"
    torch.save(checkpoint, bad)
    argv = [*TRAIN[:-4], "--num-envs", "4", "--max-iterations", "1", "--resume", str(bad)]
    argv += ["--runs-dir", str(tmp_path / "runs")]
    line = _user_error(capsys, argv)
    assert f"checkpoint {bad}: the env's saved state does not fit: " in line
