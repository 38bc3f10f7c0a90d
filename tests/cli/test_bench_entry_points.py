"""The bench's two spellings, ``warplab bench ...`` and ``python3 -m warplab.bench ...``, with tyro
and without it (as on the GPU machine): the same options, the same JSON keys, the same one-line
errors with status 2.

The GPU scripts (benchmarks/gpu_checks.sh, ppo_update_ab.sh, mjlab_g1.py) compare runs by the JSON's
keys and pass the options spelled below; both must keep working.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from warplab.bench import BenchArgs
from warplab.cli.bench import main as module_main
from warplab.cli.bench import parse_args
from warplab.cli.main import OptionError, main, parse_options
from warplab.cli.plain_options import parse_plain

TOP_KEYS = {
    "card", "command", "compile_managers", "date", "device", "graph_update", "host", "num_envs",
    "reset_forward", "schema", "startup", "states", "steps", "tasks", "total_s", "versions", "warmup",
    "rows",
}  # fmt: skip
"""The keys of the JSON before the bench became a package (a run with --graph-update both and
--memory-env-steps): none may go."""
ROW_KEYS = {
    "action_dim", "capacity_errors", "compile_managers", "compile_s", "cuda_graph", "decimation",
    "env_build_s", "env_over_raw", "env_steps_per_s_policy", "env_steps_per_s_random",
    "first_env_step_at_s", "memory", "memory_over_steps", "nconmax", "njmax", "num_envs",
    "observation_shapes", "physics_dt_s", "policy_over_env", "ppo_collection_s_per_iteration",
    "ppo_env_steps_per_s", "ppo_graph_update", "ppo_graphed_collection_s_per_iteration",
    "ppo_graphed_env_steps_per_s", "ppo_graphed_iterations", "ppo_graphed_learning_s_per_iteration",
    "ppo_graphed_over_env", "ppo_graphed_steps_per_env", "ppo_iterations",
    "ppo_learning_s_per_iteration", "ppo_over_env", "ppo_steps_per_env", "ppo_tf32_matmul",
    "raw_env_steps_per_s", "raw_physics_steps_per_s", "reset_forward", "steps", "task", "warmup",
}  # fmt: skip
STARTUP_KEYS = {
    "kernel_cache_dir", "kernel_cache_new_entries", "kernel_cache_warm", "measured_from", "num_envs",
    "seconds_to_first_env_step", "task",
}  # fmt: skip

TINY = ["--task", "cartpole-balance", "--num-envs", "4", "--steps", "3", "--warmup", "1", "--device", "cpu"]
WITHOUT_TYRO = "import sys; sys.modules['tyro'] = None\n"
"""A None entry in sys.modules makes any import of tyro fail, as on a machine without it."""

# Every option as the GPU scripts and the docs spell them, with every value a choice accepts.
SPELLINGS = [
    [],
    ["--task", "humanoid-velocity-flat", "Humanoid-v5", "--num-envs", "4096", "8192", "--steps", "100"],
    ["--task", "humanoid-velocity-flat", "--num-envs", "4096", "--steps", "50", "--json", "out/b.json"],
    ["--device", "cuda:0", "--warmup", "0", "--seed", "7", "--memory-env-steps", "10000000"],
    *(["--tf32-matmul", word] for word in ("agent", "off", "on")),
    *(["--compile-managers", word] for word in ("task", "off", "on", "both")),
    *(["--graph-update", word] for word in ("agent", "off", "on", "both")),
    ["--reset-forward", "task"],
    ["--reset-forward", "both"],
    ["--reset-forward", "positions_velocities", "none"],
    ["--reset-forward", "full", "--num-envs", "64", "--task=Humanoid-v5"],
    *(["--algo", word] for word in ("agent", "ppo", "sac", "td3")),
    ["--algo", "sac", "--agent-overrides", "sac.batch_size=4096", "sac.replay_ratio=8"],
]


@pytest.mark.parametrize("argv", SPELLINGS, ids=lambda argv: " ".join(argv) or "defaults")
def test_tyro_and_the_plain_reader_read_every_spelling_alike(argv):
    with_tyro = parse_options(BenchArgs, argv, "warplab bench")
    assert parse_plain(BenchArgs, argv, "warplab bench") == with_tyro
    assert parse_args(argv, "warplab bench") == with_tyro


def test_spellings_give_the_values_the_scripts_mean():
    args = parse_args(["--task", "a", "b", "--num-envs", "4096", "8192", "--reset-forward", "both", "none"])
    assert args.task == ["a", "b"] and args.num_envs == [4096, 8192]
    assert args.reset_forward == ["both", "none"]
    assert parse_args([]) == BenchArgs()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--tf32-matmul", "maybe"], "--tf32-matmul"),
        (["--num-envs", "abc"], "--num-envs"),
        (["--reset-forward", "sometimes"], "--reset-forward"),
        (["--algo", "ddpg"], "--algo"),
        (["--agent-overrides"], "--agent-overrides"),
        (["--task"], "--task"),  # tyro reads [], argparse refuses it: both one line
        (["--num-envs"], "--num-envs"),
        (["--no-such-option", "1"], "--no-such-option"),
    ],
)
@pytest.mark.parametrize("tyro", [True, False], ids=["with-tyro", "without-tyro"])
def test_a_bad_option_is_one_option_error_naming_it(argv, expected, tyro, monkeypatch):
    if not tyro:
        # tyro stays imported for the other tests; only its import in parse_args fails.
        monkeypatch.setitem(sys.modules, "tyro", None)
    with pytest.raises(OptionError) as error:
        parse_args(argv, "warplab bench")
    message = str(error.value)
    assert expected in message and "\n" not in message and message.endswith("(warplab bench --help)")


@pytest.mark.parametrize("spelling", ["warplab", "module"])
def test_a_bad_value_prints_one_line_and_exits_2(spelling, capsys):
    argv = ["--tf32-matmul", "maybe"]
    code = main(["bench", *argv]) if spelling == "warplab" else module_main(argv)
    err = capsys.readouterr().err.strip()
    prog = "warplab bench" if spelling == "warplab" else "python3 -m warplab.bench"
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"{prog}: error: ") and "--tf32-matmul" in err and "'maybe'" in err


def test_without_tyro_a_bad_value_prints_one_line_and_exits_2():
    code = WITHOUT_TYRO + "import runpy; sys.argv = ['x', '--num-envs', 'abc']\n"
    code += "runpy.run_module('warplab.bench', run_name='__main__')\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    err = done.stderr.strip()
    assert done.returncode == 2 and len(err.splitlines()) == 1, err
    assert err == (
        "python3 -m warplab.bench: error: argument --num-envs: invalid int value: 'abc' "
        "(python3 -m warplab.bench --help)"
    )


@pytest.mark.parametrize("tyro", [True, False], ids=["with-tyro", "without-tyro"])
def test_python_m_warplab_bench_runs_a_tiny_task_and_keeps_every_json_key(tyro, tmp_path):
    """``python3 -m warplab.bench`` on the CPU, in its own process as the GPU scripts run it."""
    path = tmp_path / "b.json"
    argv = [*TINY, "--json", str(path), "--graph-update", "both", "--memory-env-steps", "8"]
    if tyro:
        command = [sys.executable, "-m", "warplab.bench", *argv]
    else:
        code = WITHOUT_TYRO + f"import runpy; sys.argv = ['x', *{argv!r}]\n"
        command = [sys.executable, "-c", code + "runpy.run_module('warplab.bench', run_name='__main__')\n"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(path.read_text())
    assert result["command"] == "python3 -m warplab.bench " + " ".join(argv)
    assert set(result) >= TOP_KEYS and set(result["startup"]) >= STARTUP_KEYS
    (row,) = result["rows"]
    assert set(row) >= ROW_KEYS
    assert row["env_steps_per_s_random"] > 0 and row["ppo_graphed_env_steps_per_s"] > 0
    assert any(line.startswith("cartpole-balance") for line in done.stdout.splitlines())


def test_warplab_bench_keeps_every_json_key(tmp_path):
    path = tmp_path / "b.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(["bench", *TINY, "--json", str(path), "--graph-update", "both", "--memory-env-steps", "8"])
            == 0
        )
    result = json.loads(path.read_text())
    assert set(result) >= TOP_KEYS and set(result["startup"]) >= STARTUP_KEYS
    assert set(result["rows"][0]) >= ROW_KEYS
    assert result["command"].startswith("warplab bench --task cartpole-balance")
