"""``warplab train --algo sac|td3`` and what follows it (resume, play, export) on the CPU, with
settings small enough for a few seconds per run (``--agent.sac.*`` overrides)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from warplab.cli.main import main

TRAIN = ["train", "--task", "cartpole-balance", "--num-envs", "4", "--max-iterations", "2"]
TINY = [
    "--agent.sac.num_steps_per_env", "8",
    "--agent.sac.batch_size", "32",
    "--agent.sac.replay_ratio", "4",
    "--agent.sac.replay_size_per_env", "64",
    "--agent.sac.learning_starts", "2",
    "--agent.sac.num_atoms", "11",
    "--agent.sac_policy.actor_hidden_dims", "16,16",
    "--agent.sac_policy.critic_hidden_dims", "16,16",
]  # fmt: skip


@pytest.fixture(scope="module")
def sac_run(tmp_path_factory) -> tuple[Path, str]:
    """The run folder of ``warplab train --algo sac`` for 2 iterations with 4 worlds, and its stdout."""
    import contextlib
    import io

    runs = tmp_path_factory.mktemp("runs")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*TRAIN, "--algo", "sac", "--runs-dir", str(runs), *TINY]) == 0
    (folder,) = (runs / "cartpole-balance").glob("*")
    return folder, out.getvalue()


def _one_error_line(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith(f"warplab {argv[0]}: error: ")
    return lines[0]


def test_train_sac_writes_a_checkpoint_and_onnx(sac_run):
    folder, out = sac_run
    assert out.startswith("warplab train: SAC on cartpole-balance with 4 worlds on cpu")
    assert sorted(p.name for p in folder.glob("model_*")) == ["model_2.onnx", "model_2.pt"]
    assert (folder / "policy.onnx").is_file()
    checkpoint = torch.load(folder / "model_2.pt", weights_only=True)
    assert checkpoint["algorithm"] == "sac" and checkpoint["iteration"] == 2
    # The overrides reached the learner: 2 x 8 steps of 4 worlds; updates from step 2 on, each
    # step 4 * 4 / 32 = 0.5 updates: 15 steps with updates due, 7 updates (the fraction carried).
    assert checkpoint["counters"] == {"env_steps": 16, "update_steps": 15, "updates": 7}
    runner = json.loads((folder / "resolved_config.json").read_text())["runner"]
    assert runner["algorithm"] == "sac" and runner["sac"]["batch_size"] == 32
    assert runner["sac_policy"]["critic_hidden_dims"] == [16, 16]
    assert checkpoint["model"]["critic.head.weight"].shape == (2, 16, 11)


def test_resume_continues_a_sac_run(sac_run, capsys):
    folder, _ = sac_run
    runs = folder.parent.parent
    before = set((runs / "cartpole-balance").glob("*"))
    argv = [*TRAIN, "--algo", "sac", "--runs-dir", str(runs), "--resume", str(folder / "model_2.pt"), *TINY]
    assert main(argv) == 0
    assert f"resumed from {folder / 'model_2.pt'} at iteration 2" in capsys.readouterr().out
    (resumed,) = set((runs / "cartpole-balance").glob("*")) - before
    checkpoint = torch.load(resumed / "model_4.pt", weights_only=True)
    assert checkpoint["counters"]["env_steps"] == 32


def test_resume_refuses_a_checkpoint_of_another_algorithm(sac_run, capsys, tmp_path):
    folder, _ = sac_run
    checkpoint = folder / "model_2.pt"
    # The task's own algorithm (ppo) against a SAC checkpoint...
    line = _one_error_line(capsys, [*TRAIN, "--runs-dir", str(tmp_path), "--resume", str(checkpoint)])
    assert f"--resume {checkpoint} was trained with sac, but this run trains ppo: pass --algo sac" in line
    # ... TD3 against it ...
    line = _one_error_line(
        capsys, [*TRAIN, "--algo", "td3", "--runs-dir", str(tmp_path), "--resume", str(checkpoint), *TINY]
    )
    assert "was trained with sac, but this run trains td3" in line
    # ... and SAC against a checkpoint that says only in its config that it is PPO's.
    state = torch.load(checkpoint, weights_only=True)
    del state["algorithm"]
    state["config"]["algorithm"] = "ppo"
    ppo = tmp_path / "ppo.pt"
    torch.save(state, ppo)
    line = _one_error_line(
        capsys, [*TRAIN, "--algo", "sac", "--runs-dir", str(tmp_path), "--resume", str(ppo)]
    )
    assert "was trained with ppo, but this run trains sac: pass --algo ppo" in line
    assert not list(tmp_path.glob("cartpole-balance")), "refused before a run folder was made"


def test_resume_with_other_networks_names_the_off_policy_setting(sac_run, capsys, tmp_path):
    folder, _ = sac_run
    argv = [
        *TRAIN,
        "--algo",
        "sac",
        "--runs-dir",
        str(tmp_path),
        "--resume",
        str(folder / "model_2.pt"),
        *TINY,
    ]
    line = _one_error_line(capsys, [*argv, "--agent.sac_policy.critic_hidden_dims", "32,16"])
    assert "does not fit this policy" in line
    assert "trained with critic_hidden_dims=[16, 16] (this model has [32, 16])" in line
    assert "actor_hidden_dims" not in line  # the same in both: PPO's settings are not compared


@pytest.mark.parametrize("word", ["sacc", "PPO", "ddpg"])
def test_a_bad_algo_word_is_one_line(capsys, word):
    line = _one_error_line(capsys, ["train", "--algo", word])
    assert "--algo" in line and "warplab train --help" in line


def test_print_config_shows_the_algorithm(capsys, tmp_path):
    argv = ["train", "--task", "cartpole-balance", "--runs-dir", str(tmp_path), "--print-config"]
    assert main([*argv, "--algo", "td3", "--agent.sac.batch_size", "64"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["algorithm"] == "td3" and config["agent"]["algorithm"] == "td3"
    assert config["agent"]["sac"]["batch_size"] == 64
    assert main(argv) == 0  # the task's own: PPO
    assert json.loads(capsys.readouterr().out)["algorithm"] == "ppo"
    # --algo wins over --agent.algorithm.
    assert main([*argv, "--agent.algorithm", "td3", "--algo", "sac"]) == 0
    assert json.loads(capsys.readouterr().out)["algorithm"] == "sac"


def test_a_bad_sac_setting_names_the_field(capsys, tmp_path):
    line = _one_error_line(
        capsys, [*TRAIN, "--algo", "sac", "--runs-dir", str(tmp_path), "--agent.sac.batch_size", "0"]
    )
    assert "RunnerCfg.sac.batch_size" in line


def test_a_replay_buffer_larger_than_memory_is_refused(capsys, tmp_path):
    # 2**31 - 1 transitions per world: terabytes, refused from the env's sizes before it is allocated.
    argv = [*TRAIN, "--algo", "sac", "--runs-dir", str(tmp_path), *TINY]
    line = _one_error_line(capsys, [*argv, "--agent.sac.replay_size_per_env", str(2**31 - 1)])
    assert "SAC's replay buffer of 2147483647 transitions per world x 4 worlds needs about" in line
    assert (
        "lower --agent.sac.replay_size_per_env (at most" in line and "or --num-envs (at most 0 with" in line
    )


def test_play_and_export_a_sac_checkpoint(sac_run, tmp_path):
    folder, _ = sac_run
    onnx_path = tmp_path / "exported.onnx"
    assert main(["export", "--checkpoint", str(folder / "model_2.pt"), "--out", str(onnx_path)]) == 0
    assert onnx_path.stat().st_size > 0
    video = tmp_path / "sac.mp4"
    argv = ["play", "--checkpoint", str(folder / "model_2.pt"), "--seconds", "0.5", "--video", str(video)]
    env = {**os.environ, "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "warplab.cli.main",
            *argv,
            "--device",
            "cpu",
            "--width",
            "64",
            "--height",
            "48",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert f"video: {video}" in done.stdout and video.stat().st_size > 0
    assert "15 frames at 30 fps" in done.stdout
