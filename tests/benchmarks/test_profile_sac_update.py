"""benchmarks/profile_sac_update.py on the CPU: the cart-pole's SAC agent config with its observation
shapes, a filled replay buffer, timed updates and an eager profile, written as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_cpu_run_times_updates_and_writes_its_json(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "profile_sac_update.py"), "--task", "cartpole-balance",
         "--num-envs", "8", "--set", "sac.batch_size", "32", "--variants", "plain", "--capacity", "4",
         "--warmup", "1", "--updates", "3", "--profile-updates", "1", "--device", "cpu", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "profile_sac_update_cartpole-balance_8.json").read_text())
    assert result["batch_size"] == 32 and result["action_dim"] == 1
    assert result["observation_shapes"] == {"policy": [4]}
    assert result["variants"]["plain"]["ms_per_update"] > 0
    assert result["eager_profile"]["wall_ms_per_update"] > 0
    assert result["eager_profile"]["kernel_ms_per_update"] == 0  # no device kernels on a CPU
