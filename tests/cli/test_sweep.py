"""``warplab sweep``: the search space's checks, the results table, and a real Ray Tune sweep of the
cart-pole in which ASHA stops the trial built to fall behind."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warplab.cli.main import main
from warplab.cli.sweep import stop_points
from warplab.cli.sweep_space import (
    parse_space,
    split_space_args,
    table_csv,
    table_markdown,
    table_rows,
)
from warplab.envs.managers.term import ConfigError


def test_space_args_are_taken_out_with_negative_and_exponent_values() -> None:
    argv = [
        "--task",
        "t",
        "--space",
        "env.a",
        "uniform",
        "-0.5",
        "1e-3",
        "--agent.x",
        "2",
        "--space",
        "agent.b",
    ]
    space, rest = split_space_args(argv)
    assert space == [["env.a", "uniform", "-0.5", "1e-3"], ["agent.b"]]
    assert rest == ["--task", "t", "--agent.x", "2"]


@pytest.mark.parametrize(
    ("words", "words_in_error"),
    [
        (["agent.ppo.learning_rate"], "give PATH KIND VALUE"),
        (["ppo.learning_rate", "uniform", "0", "1"], "must start with env. or agent."),
        (["agent.ppo.learning_rate", "normal", "0", "1"], "unknown kind 'normal'"),
        (["agent.ppo.learning_rate", "uniform", "0"], "got 1 value(s)"),
        (["agent.ppo.learning_rate", "uniform", "a", "1"], "uniform needs LOW HIGH"),
        (["agent.ppo.learning_rate", "uniform", "1", "1"], "LOW < HIGH"),
        (["agent.ppo.learning_rate", "loguniform", "0", "1"], "loguniform needs 0 < LOW"),
        (["agent.ppo.learning_rate", "choice"], "choice needs VALUE"),
    ],
)
def test_bad_space_entries_are_refused_naming_the_entry(words: list[str], words_in_error: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_space([words])
    message = str(caught.value)
    assert "\n" not in message
    assert " ".join(("--space", *words)) in message
    assert words_in_error in message


def test_a_field_given_twice_or_no_space_is_refused() -> None:
    entry = ["agent.ppo.learning_rate", "uniform", "0.1", "0.2"]
    with pytest.raises(ConfigError, match="already in the space"):
        parse_space([entry, entry])
    with pytest.raises(ConfigError, match="no search space"):
        parse_space([])


@pytest.mark.parametrize(
    ("space", "words_in_error"),
    [
        (["agent.ppo.learning_rat", "uniform", "0.1", "0.2"], "learning_rat"),
        (
            ["agent.ppo.num_mini_batches", "uniform", "1", "4"],
            "'1.0' as an integer (the current value is 4); uniform draws floats: use choice",
        ),
        (["agent.ppo.num_mini_batches", "choice", "2", "x"], "cannot read 'x' as an integer"),
        (["env.num_envs", "choice", "2", "4"], "set by the sweep's own option --num-envs"),
    ],
)
def test_space_entries_are_checked_against_the_tasks_configs_before_ray_starts(
    space: list[str], words_in_error: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["sweep", "--task", "cartpole-balance", "--sweeps-dir", str(tmp_path), "--space", *space]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("warplab sweep: error: '--space " + " ".join(space) + "'")
    assert words_in_error in err
    assert not list(tmp_path.iterdir())  # nothing was started or written


def test_stop_points_are_the_asha_rungs_and_the_last_iteration() -> None:
    # Rungs grace x rf^k below max_t: 1, 2, 4, 8 with grace 1, rf 2, max_t 10; 3, 4.5 -> 5 with grace 2, rf 1.5.
    assert stop_points("asha", 10, 1, 2.0) == {1, 2, 4, 8, 10}
    assert stop_points("asha", 6, 2, 1.5) == {2, 3, 5, 6}
    assert stop_points("fifo", 10, 1, 2.0) == {10}


def test_results_table_sorts_by_best_return_and_writes_csv_and_markdown(tmp_path: Path) -> None:
    space = parse_space([["agent.ppo.learning_rate", "loguniform", "1e-4", "1e-3"]])
    (tmp_path / "model_2.pt").write_bytes(b"")
    (tmp_path / "model_10.pt").write_bytes(b"")
    trials = [
        {"trial": "a", "status": "stopped early", "iterations": 1, "best_return": -3.0, "last_return": -3.0,
         "config": {"agent.ppo.learning_rate": 1e-4}, "run_folder": None},
        {"trial": "b", "status": "done", "iterations": 3, "best_return": 5.5, "last_return": 5.0,
         "config": {"agent.ppo.learning_rate": 2.5e-4}, "run_folder": tmp_path},
        {"trial": "c", "status": "error", "iterations": 0, "best_return": float("nan"), "last_return": None,
         "config": {"agent.ppo.learning_rate": 3e-4}, "run_folder": None},
    ]  # fmt: skip
    header, rows = table_rows(trials, space)
    assert header[-3:] == ["agent.ppo.learning_rate", "run_folder", "checkpoint"]
    assert [row[0] for row in rows] == ["b", "a", "c"]
    # The latest checkpoint by iteration number (10 > 2), not by name.
    assert rows[0] == ["b", "done", "3", "5.5", "5", "0.00025", str(tmp_path), str(tmp_path / "model_10.pt")]
    assert rows[2][3:5] == ["", ""]
    assert list(csv.reader(table_csv(header, rows).splitlines())) == [header, *rows]
    assert table_markdown(header, rows).splitlines()[1] == "| " + " | ".join(["---"] * len(header)) + " |"


@pytest.mark.slow  # Ray's start and two trials' envs: 25-40 s on a 2-core CPU.
def test_asha_sweep_of_cartpole_stops_the_trial_that_falls_behind(tmp_path: Path) -> None:
    pytest.importorskip("ray.tune")
    # Two trials, one after the other: the alive reward's weight is +1 in one and -1 in the other, and
    # 0.3 s episodes end within each iteration, so the returns are about +15 and -15 from the first
    # iteration. ASHA (grace period 1, rungs at 1 and 2) stops the -1 trial at its first rung when it
    # comes second, behind the +1 trial's result there (the decision itself is tested below with
    # trials fed by hand). Tune ends a stopped trial's process asynchronously, and these iterations
    # take about a second, so the stopped trial may report 1, 2 or all 3 iterations first: its row
    # says "stopped early" from the scheduler's record whatever it reached.
    command = [
        sys.executable, "-m", "warplab.cli", "sweep", "--task", "cartpole-balance", "--num-envs", "8",
        "--max-iterations", "3", "--num-samples", "2", "--num-cpus", "2", "--seed", "1",
        "--scheduler", "asha", "--grace-period", "1", "--max-concurrent-trials", "1",
        "--sweeps-dir", str(tmp_path), "--space", "env.rewards.alive.weight", "choice", "1", "-1",
        "--env.episode_length_s", "0.3",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ})
    assert done.returncode == 0, done.stderr[-3000:]
    (folder,) = (tmp_path / "cartpole-balance").iterdir()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp file left behind
    with open(folder / "results.csv", newline="") as f:
        rows = {row["env.rewards.alive.weight"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"1", "-1"}
    assert (rows["1"]["status"], rows["1"]["iterations"]) == ("done", "3")
    assert rows["-1"]["status"] in {"stopped early", "done"}
    assert rows["-1"]["status"] == "stopped early" or rows["-1"]["iterations"] == "3"
    assert float(rows["1"]["best_return"]) > 0 > float(rows["-1"]["best_return"])
    folders = {Path(row["run_folder"]) for row in rows.values()}
    assert len(folders) == 2
    for weight, row in rows.items():
        run = Path(row["run_folder"])
        assert run.parent.parent == folder / "trials"
        assert list(run.glob("events.out.tfevents.*")), f"no event file in {run}"
        # The checkpoint of the iteration the trial ended at, saved before Tune stopped it.
        assert Path(row["checkpoint"]) == run / f"model_{row['iterations']}.pt", weight
        assert Path(row["checkpoint"]).is_file()
    assert (folder / "results.md").read_text().count("\n") == 4  # header, rule, two trials
    assert "| trial | status |" in done.stdout


def test_the_recording_asha_scheduler_remembers_the_trials_it_stops() -> None:
    """``recording_asha``: Ray's ASHA decisions, fed by hand (grace period 1, reduction factor 2, rungs
    at 1 and 2): a trial below the rung's cutoff (the median of what the rung recorded) is stopped and
    recorded; one above continues; the first at a rung has no cutoff to fall below."""
    pytest.importorskip("ray.tune")
    import types

    from ray.tune.schedulers import ASHAScheduler

    from warplab.cli.sweep import recording_asha

    scheduler = recording_asha(
        ASHAScheduler, time_attr="training_iteration", max_t=3, grace_period=1, reduction_factor=2,
        metric="return", mode="max",
    )  # fmt: skip
    trials = {name: types.SimpleNamespace(trial_id=name) for name in ("first", "better", "worse")}
    for trial in trials.values():
        scheduler.on_trial_add(None, trials[trial.trial_id])

    def report(name: str, iteration: int, value: float) -> str:
        return scheduler.on_trial_result(
            None, trials[name], {"training_iteration": iteration, "return": value}
        )

    assert report("first", 1, 10.0) == "CONTINUE"  # alone at the rung
    assert report("better", 1, 20.0) == "CONTINUE"
    assert report("worse", 1, -15.0) == "STOP"  # below the median of 10 and 20
    assert scheduler.stopped == {"worse"}
    assert report("first", 2, 11.0) == "CONTINUE"  # alone at the second rung
    assert report("first", 3, 12.0) == "STOP"  # max_t reached: finished, not stopped early
    assert scheduler.stopped == {"worse"}
