"""``warplab list``, ``train`` (and ``--resume``, ``--print-config``) and ``play`` on the CPU.

Commands run in-process through ``warplab.cli.main.main``, except two real processes: ``warplab
list`` through the installed console script (the entry point), and ``play``, which renders with
OSMesa: MuJoCo reads ``MUJOCO_GL`` when it is first imported, which in a test session has already
happened by the time this file runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest

from warplab.cli.main import main

TRAIN = ["train", "--task", "cartpole-balance", "--num-envs", "4", "--max-iterations", "2"]


def _run_folders(runs: Path) -> set[Path]:
    return set((runs / "cartpole-balance").glob("*"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """The run folder of ``warplab train`` for 2 iterations with 4 worlds."""
    runs = tmp_path_factory.mktemp("runs")
    assert main([*TRAIN, "--runs-dir", str(runs)]) == 0
    (folder,) = _run_folders(runs)
    return folder


def test_list_prints_the_tasks(capsys):
    assert main(["list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"cartpole-balance", "Humanoid-v5"} <= set(names)


def test_the_console_script_runs():
    # The script pip wrote for this interpreter (a venv's bin/), else the one on PATH.
    script = shutil.which("warplab", path=sysconfig.get_path("scripts")) or shutil.which("warplab")
    assert script, "no `warplab` console script: is warplab installed (pip install -e .)?"
    done = subprocess.run([script, "list"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "cartpole-balance" in done.stdout and "Humanoid-v5" in done.stdout


def test_train_writes_a_run_folder(trained):
    assert trained.parent.name == "cartpole-balance"
    assert sorted(p.name for p in trained.glob("model_*.pt")) == ["model_2.pt"]
    config = json.loads((trained / "resolved_config.json").read_text())
    assert config["env"]["num_envs"] == 4 and config["runner"]["max_iterations"] == 2
    assert list(trained.glob("events.out.tfevents.*")), "no TensorBoard event file"


def test_resume_continues_the_iterations(trained, capsys):
    runs = trained.parent.parent
    before = _run_folders(runs)
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the inexact fallback warns: the env must be restored exactly
        assert main([*TRAIN, "--runs-dir", str(runs), "--resume", str(trained / "model_2.pt")]) == 0
    assert f"resumed from {trained / 'model_2.pt'} at iteration 2" in capsys.readouterr().out
    (folder,) = _run_folders(runs) - before
    assert sorted(p.name for p in folder.glob("model_*.pt")) == ["model_4.pt"]


def test_train_says_when_it_compiles_the_managers(tmp_path, capsys):
    """A compiled run says why its first iteration is slow; a plain one (the CPU's default) says nothing."""
    assert main([*TRAIN, "--max-iterations", "1", "--runs-dir", str(tmp_path / "a")]) == 0
    assert "managers compiled" not in capsys.readouterr().out
    argv = [
        *TRAIN,
        "--max-iterations",
        "1",
        "--runs-dir",
        str(tmp_path / "b"),
        "--env.compile_managers",
        "true",
    ]
    assert main(argv) == 0
    assert "managers compiled with torch.compile (--env.compile_managers)" in capsys.readouterr().out


def test_print_config_prints_json_and_trains_nothing(tmp_path, capsys):
    argv = ["train", "--task", "cartpole-balance", "--runs-dir", str(tmp_path), "--print-config"]
    assert main([*argv, "--env.episode_length_s", "5", "--agent.ppo.learning_rate", "1e-4"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["task"] == "cartpole-balance"
    assert config["env"]["episode_length_s"] == 5.0
    assert config["agent"]["ppo"]["learning_rate"] == 1e-4
    assert not any(tmp_path.iterdir())


def test_play_writes_an_mp4(trained, tmp_path):
    import imageio.v2 as imageio

    video = tmp_path / "x.mp4"
    argv = ["play", "--checkpoint", str(trained / "model_2.pt"), "--seconds", "1", "--video", str(video)]
    env = {**os.environ, "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
    done = subprocess.run(
        [sys.executable, "-m", "warplab.cli.main", *argv, "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert f"video: {video}" in done.stdout
    with imageio.get_reader(video) as reader:
        meta = reader.get_meta_data()
        frames = [frame for frame in reader]
    # 1 s at the default 30 fps, in real time: 30 frames of 640 x 480 (each the 20 ms policy step
    # nearest its time), and the MP4 says 30 fps and 1 s.
    assert len(frames) == 30 and meta["fps"] == 30.0
    assert meta["duration"] == pytest.approx(1.0, abs=1 / 30)
    assert "30 frames at 30 fps drawn by MuJoCo's OpenGL renderer on the CPU (OSMesa)" in done.stdout
    assert frames[0].shape == (480, 640, 3)
    assert 60 <= frames[0].mean() <= 200, f"mean pixel {frames[0].mean():.1f}: the video is too dark"
