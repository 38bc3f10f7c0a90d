"""``warplab bench`` on the CPU: the JSON it writes, its table, and a user's mistakes.

The figures themselves are not checked (timing belongs on the GPU, in benchmarks/RESULTS.md): only
that every measurement ran and gave a positive number, with a few worlds and steps.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from warplab.cli.main import main

RATES = (
    "raw_env_steps_per_s",
    "raw_physics_steps_per_s",
    "env_steps_per_s_random",
    "env_steps_per_s_policy",
    "ppo_env_steps_per_s",
    "env_over_raw",
    "ppo_over_env",
)


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """The JSON and stdout of one bench of cartpole-balance with 4 worlds and 5 steps."""
    path = tmp_path_factory.mktemp("bench") / "out" / "x.json"
    argv = ["bench", "--task", "cartpole-balance", "--num-envs", "4", "--steps", "5", "--warmup", "2"]
    argv += ["--device", "cpu", "--json", str(path), "--memory-env-steps", "40"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return json.loads(path.read_text()), out.getvalue()


def test_the_json_says_where_and_how_it_was_measured(bench_run):
    result, _ = bench_run
    assert result["schema"] == "warplab.bench/1"
    assert result["card"].startswith("cpu") and result["device"] == "cpu"
    assert set(result["versions"]) >= {"warp", "mujoco", "mujoco_warp", "torch"}
    assert all(result["versions"][k] for k in ("warp", "mujoco", "mujoco_warp", "torch"))
    assert result["command"].startswith("warplab bench --task cartpole-balance")
    assert result["date"].startswith("20") and "T" in result["date"]
    assert result["num_envs"] == [4] and result["tasks"] == ["cartpole-balance"] and result["steps"] == 5
    assert "same" in result["states"] or "identical" in result["states"]


def test_every_measurement_gives_a_positive_rate(bench_run):
    result, _ = bench_run
    (row,) = result["rows"]
    assert row["task"] == "cartpole-balance" and row["num_envs"] == 4
    for key in RATES:
        assert isinstance(row[key], float) and row[key] > 0, key
    assert row["raw_physics_steps_per_s"] == pytest.approx(row["raw_env_steps_per_s"] * row["decimation"])
    assert row["ppo_iterations"] == 1 and row["ppo_steps_per_env"] > 0
    assert row["capacity_errors"] == {}
    # On the CPU there is no device memory to report.
    assert row["memory"]["torch_peak_bytes"] is None


def test_startup_is_timed_and_the_kernel_cache_inspected(bench_run):
    startup = bench_run[0]["startup"]
    assert startup["seconds_to_first_env_step"] > 0
    assert isinstance(startup["kernel_cache_warm"], bool)
    assert startup["kernel_cache_new_entries"] >= 0


def test_a_table_is_printed(bench_run):
    _, out = bench_run
    assert "2/1" in out and "4/2" in out
    assert any(line.startswith("cartpole-balance") for line in out.splitlines())


def test_memory_is_sampled_along_a_long_run(bench_run):
    """--memory-env-steps 40 with 4 worlds: 10 steps, a sample at the start and after each one
    (each tenth); on the CPU the amounts are None (no device memory to read), the counts are real."""
    result, out = bench_run
    grown = result["rows"][0]["memory_over_steps"]
    assert grown["env_steps"] == 40
    assert [s["env_steps"] for s in grown["samples"]] == list(range(0, 44, 4))
    assert set(grown["growth_bytes"]) == {"torch_bytes", "warp_pool_bytes", "device_used_bytes"}
    assert "memory growth over 40 env steps" in out


def test_an_unknown_task_exits_2_with_one_line(capsys):
    assert main(["bench", "--task", "no-such-task", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown task 'no-such-task'" in err


def test_bad_numbers_exit_2(capsys):
    assert main(["bench", "--task", "cartpole-balance", "--num-envs", "0", "--device", "cpu"]) == 2
    assert "--num-envs" in capsys.readouterr().err


def test_the_module_runs_without_tyro():
    # The GPU machine has no tyro: `python3 -m warplab.bench` and `-m warplab.cli.main bench` must not
    # import it. A None entry in sys.modules makes any import of tyro fail.
    code = (
        "import sys; sys.modules['tyro'] = None\n"
        "from warplab.cli.main import main\n"
        "import warplab.bench as b\n"
        "args = b.parse_args(['--task', 'a', 'b', '--num-envs', '1', '2'])\n"
        "assert args.task == ['a', 'b'] and args.num_envs == [1, 2], args\n"
        "assert main(['bench', '--task', 'no-such-task', '--device', 'cpu']) == 2\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_raw_random_and_policy_start_from_the_same_state(monkeypatch):
    """Measurements 1-3 time their loops from the same physics state (the reset snapshot)."""
    import torch

    import warplab.bench as bench
    import warplab.bench.measure as measure
    from warplab.envs.rl_env import RlEnv

    envs: list[RlEnv] = []
    starts: list[tuple[torch.Tensor, ...]] = []
    set_state, timed = RlEnv.set_state, measure.timed

    def recording_set_state(self, state):
        envs.append(self)
        return set_state(self, state)

    def recording_timed(fn, calls, wp_device):
        sim = envs[-1].sim
        starts.append((sim.qpos.clone(), sim.qvel.clone(), sim.time.clone()))
        return timed(fn, calls, wp_device)

    monkeypatch.setattr(RlEnv, "set_state", recording_set_state)
    monkeypatch.setattr(measure, "timed", recording_timed)
    args = bench.parse_args(
        ["--task", "cartpole-balance", "--num-envs", "3", "--steps", "3", "--warmup", "4"]
    )
    args.device = "cpu"
    with contextlib.redirect_stdout(io.StringIO()):
        bench.run(args)
    raw, random, policy = starts[:3]  # the fourth is PPO, which starts after its warm-up iteration
    for a, b, c in zip(raw, random, policy, strict=True):
        assert torch.equal(a, b) and torch.equal(a, c)
    assert float(raw[2].max()) == 0.0  # the reset state, not where the warm-up left it


def test_rows_record_the_task_forward_and_both_ppo_updates(bench_run, tmp_path):
    from warplab.tasks import make_env_cfg

    result, _ = bench_run  # no --reset-forward: the task's own setting
    assert result["rows"][0]["reset_forward"] == make_env_cfg("cartpole-balance").reset_forward
    path = tmp_path / "variants.json"
    argv = ["bench", "--task", "cartpole-balance", "--num-envs", "4", "--steps", "5", "--warmup", "2"]
    argv += [
        "--device",
        "cpu",
        "--json",
        str(path),
        "--reset-forward",
        "both",
        "none",
        "--graph-update",
        "both",
        "--tf32-matmul",
        "on",
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    rows = json.loads(path.read_text())["rows"]
    assert [r["reset_forward"] for r in rows] == ["full", "positions_velocities", "none"]
    for row in rows:
        # On the CPU the "graphed" update is the plain one (graph_update is for CUDA): both measured.
        assert row["ppo_graph_update"] is False
        assert row["ppo_tf32_matmul"] is False  # TF32 is for CUDA matmuls too
        assert row["ppo_graphed_env_steps_per_s"] > 0 and row["ppo_graphed_over_env"] > 0
    assert "PPO with the update as a CUDA graph" in out.getvalue()
