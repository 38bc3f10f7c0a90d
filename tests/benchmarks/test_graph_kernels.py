"""benchmarks/graph_kernels.py: the kernel difference between the env step and the physics alone
(numbers worked out by hand), and a whole run on the CPU (no device kernels there)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("graph_kernels", ROOT / "benchmarks" / "graph_kernels.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_beyond_physics_sorts_what_the_step_adds():
    gk = _load()
    step = {
        "kinematics": {"calls": 5.0, "device_us": 165.0},  # 4 substeps + the forward after resets
        "triton_fused_rewards": {"calls": 1.0, "device_us": 40.0},
        "solver": {"calls": 4.0, "device_us": 400.0},
    }
    physics = {
        "kinematics": {"calls": 4.0, "device_us": 132.0},
        "solver": {"calls": 4.0, "device_us": 410.0},
        "physics_only": {"calls": 1.0, "device_us": 2.0},
    }
    rows = gk.beyond_physics(step, physics)
    assert [r["kernel"] for r in rows] == ["triton_fused_rewards", "kinematics", "physics_only", "solver"]
    by_name = {r["kernel"]: r for r in rows}
    assert by_name["kinematics"]["extra_us"] == pytest.approx(33.0)
    assert (
        by_name["triton_fused_rewards"]["physics_us"] == 0.0
        and by_name["triton_fused_rewards"]["extra_us"] == 40.0
    )
    assert by_name["physics_only"]["extra_us"] == -2.0 and by_name["physics_only"]["step_calls"] == 0.0
    assert by_name["solver"]["extra_us"] == pytest.approx(-10.0)


def test_runs_on_the_cpu_and_writes_its_json(tmp_path):
    gk = _load()
    result = gk.run("cartpole-balance", 2, 2, "cpu", tmp_path)
    written = json.loads((tmp_path / "graph_kernels_cartpole-balance_2.json").read_text())
    assert written["task"] == "cartpole-balance" and written["num_envs"] == 2
    assert written["device"] == "cpu" and written["compile_managers"] is False
    assert written["step_ms"] > 0 and written["physics_ms"] > 0
    assert written["kernels"] == result["kernels"] == []  # Warp's CPU kernels are not torch operators
