"""benchmarks/libraries.py end to end on the CPU: two libraries, a few seconds each, its JSON fields.

Timing is not checked (the test machines are shared); only that every library trained in its own
process, the return was measured on the same probe, and the outputs were written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("rsl_rl")
pytest.importorskip("stable_baselines3")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "libraries.py"


@pytest.mark.slow
def test_two_libraries_on_the_cpu(tmp_path):
    command = [
        sys.executable, str(SCRIPT), "--task", "cartpole-balance", "--num-envs", "8", "--minutes", "0.4",
        "--libraries", "rsl_rl", "sb3", "--device", "cpu", "--torch-threads", "1", "--out", str(tmp_path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=300)
    summary = json.loads((tmp_path / "libraries.json").read_text())
    assert (
        summary["task"] == "cartpole-balance" and summary["num_envs"] == 8 and summary["device_name"] == "cpu"
    )
    assert list(summary["libraries"]) == ["rsl_rl", "sb3"]
    for name, record in summary["libraries"].items():
        assert "error" not in record, record.get("error")
        assert record["library"] == name and record["version"]
        assert 0 < record["startup_s"] < record["wall_s"]
        assert record["wall_s"] >= 0.4 * 60
        assert record["env_steps"] > 0 and record["env_steps"] % 8 == 0
        assert record["env_steps_per_s"] > record["env_steps_per_s_overall"] > 0
        assert record["settings"] and isinstance(record["deviations"], list)
        curve = record["curve"]
        assert curve and all(
            set(row) == {"wall_s", "env_steps", "return", "length", "episodes"} for row in curve
        )
        assert [row["wall_s"] for row in curve] == sorted(row["wall_s"] for row in curve)
        # Start-up takes about half of the 24 s on a 2-core CPU; if no episode ended, there is no return.
        returns = [r["return"] for r in curve if r["return"] is not None]
        assert record["final_return"] == (returns[-1] if returns else None)
    # The same rollout length for both: the task's num_steps_per_env (32) of 8 worlds.
    assert summary["libraries"]["rsl_rl"]["curve"][0]["env_steps"] == 32 * 8
    assert summary["libraries"]["sb3"]["settings"]["args"]["n_steps"] == 32
    table = (tmp_path / "libraries.md").read_text()
    assert "| rsl_rl |" in table and "| sb3 |" in table
    assert (tmp_path / "libraries.log").exists()


def test_a_crash_is_recorded_not_fatal(tmp_path):
    command = [
        sys.executable, str(SCRIPT), "--task", "no-such-task", "--num-envs", "2", "--minutes", "0.01",
        "--libraries", "warplab", "--device", "cpu", "--out", str(tmp_path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=120)
    record = json.loads((tmp_path / "libraries.json").read_text())["libraries"]["warplab"]
    assert "no-such-task" in record["error"]
