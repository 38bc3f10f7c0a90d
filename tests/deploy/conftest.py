"""Shared setup of the deployment tests: exported policies and their envs, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from warplab.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
HUMANOID_CHECKPOINT = ROOT / "benchmarks" / "results" / "humanoid_velocity_flat_4096_h100_policy.pt"


@pytest.fixture(scope="session")
def humanoid_onnx(tmp_path_factory) -> Path:
    """The GPU-trained humanoid-velocity-flat policy, exported through ``warplab export``."""
    out = tmp_path_factory.mktemp("humanoid") / "policy.onnx"
    assert main(["export", "--checkpoint", str(HUMANOID_CHECKPOINT), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def cartpole_checkpoint(tmp_path_factory) -> Path:
    """A cartpole-balance policy trained for one iteration with 4 worlds on the CPU."""
    runs = tmp_path_factory.mktemp("runs")
    argv = ["train", "--task", "cartpole-balance", "--num-envs", "4", "--max-iterations", "1"]
    assert main([*argv, "--runs-dir", str(runs)]) == 0
    (checkpoint,) = runs.glob("cartpole-balance/*/model_1.pt")
    return checkpoint


@pytest.fixture(scope="session")
def cartpole_onnx(cartpole_checkpoint, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cartpole") / "policy.onnx"
    assert main(["export", "--checkpoint", str(cartpole_checkpoint), "--out", str(out)]) == 0
    return out
