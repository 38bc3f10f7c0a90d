"""User mistakes: exit status 2 and one line on stderr that names the problem, never a traceback.

Called in-process through ``warplab.cli.main.main``; none of these trains: each is refused before
the env is built, before the worlds are allocated (too many worlds), or when an allocation fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from warplab.cli.main import main

CARTPOLE = ["--task", "cartpole-balance", "--num-envs", "2"]


def _user_error(capsys, argv: list[str]) -> str:
    """Runs the command, checks status 2 and a one-line message, and returns that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith(f"warplab {argv[0]}: error: ")
    return lines[0]


def test_unknown_task_lists_the_registered_tasks(capsys):
    line = _user_error(capsys, ["train", "--task", "cartpole-balanse"])
    assert "unknown task 'cartpole-balanse'" in line
    assert "Did you mean 'cartpole-balance'?" in line
    assert "Registered tasks:" in line and "cartpole-balance" in line and "Humanoid-v5" in line


def test_missing_checkpoints(capsys, tmp_path):
    missing = tmp_path / "model_9.pt"
    line = _user_error(capsys, ["train", *CARTPOLE, "--resume", str(missing)])
    assert f"--resume {missing}: no such checkpoint file" in line
    line = _user_error(capsys, ["play", "--checkpoint", str(missing)])
    assert f"--checkpoint {missing}: no such checkpoint file" in line
    # A folder is named as one (it was "no such file"), for every command that reads a checkpoint.
    for argv, option in (
        (["play", "--checkpoint", str(tmp_path)], "--checkpoint"),
        (["export", "--checkpoint", str(tmp_path)], "--checkpoint"),
        (["train", *CARTPOLE, "--resume", str(tmp_path)], "--resume"),
    ):
        line = _user_error(capsys, argv)
        assert f"{option} {tmp_path}: a folder; give a checkpoint file in it (model_<iteration>.pt)" in line


def test_unknown_config_field_names_the_valid_ones(capsys):
    line = _user_error(capsys, ["train", *CARTPOLE, "--env.no_such_field", "1"])
    assert "--env.no_such_field: no such field" in line and "episode_length_s" in line


def test_out_of_range_agent_setting(capsys):
    line = _user_error(capsys, ["train", *CARTPOLE, "--agent.ppo.clip_param", "1.5"])
    assert "RunnerCfg.ppo.clip_param must be in (0, 1), got 1.5" in line


def test_a_value_of_the_wrong_type(capsys):
    line = _user_error(capsys, ["train", *CARTPOLE, "--env.episode_length_s", "long"])
    assert "--env.episode_length_s: cannot read 'long' as a number" in line


def test_an_unknown_compile_setting_names_the_three_values(capsys):
    line = _user_error(capsys, ["train", *CARTPOLE, "--env.compile_managers", "sometimes", "--print-config"])
    assert "RlEnvCfg.compile_managers must be True, False or 'auto', got 'sometimes'" in line


def test_zero_worlds_is_refused_not_replaced_by_the_default(capsys):
    line = _user_error(capsys, ["train", "--task", "cartpole-balance", "--num-envs", "0", "--print-config"])
    assert "RlEnvCfg.num_envs must be a positive integer (at most 2147483647), got 0" in line


@pytest.mark.parametrize(("option", "value"), [("--fps", "0"), ("--seconds", "-1"), ("--width", "0")])
def test_bad_play_options(capsys, tmp_path, option, value):
    # Checked before the checkpoint is read: a division by zero here once ended in a traceback.
    line = _user_error(capsys, ["play", "--checkpoint", str(tmp_path / "model_1.pt"), option, value])
    assert f"{option} must be" in line and value in line


def test_cuda_without_a_gpu(capsys):
    import warp as wp

    if wp.is_cuda_available():
        pytest.skip("this machine has a GPU")
    line = _user_error(capsys, ["train", *CARTPOLE, "--device", "cuda"])
    assert "device='cuda' was asked for, but Warp finds no CUDA GPU" in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"not a checkpoint at all" * 10, "truncated or corrupt"),
    ],
)
def test_corrupt_checkpoint_given_to_play(capsys, tmp_path, content, expected):
    path = tmp_path / "model_3.pt"
    path.write_bytes(content)
    line = _user_error(capsys, ["play", "--checkpoint", str(path), "--device", "cpu"])
    assert f"checkpoint {path} cannot be read" in line and expected in line


def test_unknown_command_and_bare_call(capsys):
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    assert main([]) == 2
    assert "usage: warplab" in capsys.readouterr().out


# ---------------------------------------------------------------- values that once ended in a traceback


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_an_endless_or_undefined_episode_is_refused(capsys, value):
    # inf once ended in an OverflowError from math.ceil.
    line = _user_error(capsys, ["train", *CARTPOLE, "--env.episode_length_s", value, "--print-config"])
    assert f"RlEnvCfg.episode_length_s must be a finite number > 0 (s), got {value}" in line


def test_an_episode_longer_than_the_step_counters_is_refused(capsys, tmp_path):
    # The policy step is known once the model is compiled: refused when the env is built.
    argv = ["train", *CARTPOLE, "--env.episode_length_s", "1e30", "--runs-dir", str(tmp_path)]
    line = _user_error(capsys, argv)
    assert "RlEnvCfg.episode_length_s=1e+30 s at a policy step of 0.02 s is 5e+31 steps" in line


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--env.num_envs", "8", "--env.num_envs is set by the command's own option: use --num-envs 8"),
        ("--env.seed", "3", "use --seed 3"),
        ("--seed", "4294967296", "RunnerCfg.seed must be at most 4294967295"),
        ("--agent.ppo.learning_rate", "5", "RunnerCfg.ppo.learning_rate must be in (0, 1]"),
        (
            "--env.sim.capacity_headroom",
            "inf",
            "RlEnvCfg.sim.capacity_headroom must be a number in [1, 1000], got inf",
        ),
        (
            "--env.rewards.alive.weight",
            "nan",
            "RlEnvCfg.rewards.alive.weight must be a finite number, got nan",
        ),
        (
            "--env.sim.njmax",
            str(2**31),
            "RlEnvCfg.sim.njmax must be a positive integer or None (sized from the model)",
        ),
        (
            "--env.events.reset_joints.params.position_range",
            "0.2,-0.2",
            "position_range must be (low, high) with low <= high, got (0.2, -0.2)",
        ),
        ("--env.terminations.pole_fell.params.low", "1", "low must be <= high, got low=1.0, high=0.4"),
    ],
)
def test_settings_the_command_would_drop_or_misuse(capsys, option, value, expected):
    line = _user_error(capsys, ["train", *CARTPOLE, option, value, "--print-config"])
    assert expected in line


def _file_in_the_way(tmp_path) -> Path:
    # A path inside a regular file cannot be written by anyone, root included (tests may run as
    # root, which permission bits do not stop).
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder would be\n")
    return blocker


def test_an_unwritable_runs_folder_is_refused_before_the_env_is_built(capsys, tmp_path):
    runs = _file_in_the_way(tmp_path) / "runs"
    line = _user_error(capsys, ["train", *CARTPOLE, "--max-iterations", "1", "--runs-dir", str(runs)])
    assert (
        f"--runs-dir {runs}: lies inside {tmp_path / 'not_a_folder'}, which is a file, not a folder" in line
    )
    # Refused before the line that announces the build.
    assert "worlds on" not in capsys.readouterr().out


def test_a_runs_folder_that_is_a_file_is_refused(capsys, tmp_path):
    runs = _file_in_the_way(tmp_path)
    line = _user_error(capsys, ["train", *CARTPOLE, "--max-iterations", "1", "--runs-dir", str(runs)])
    assert f"--runs-dir {runs}: is {runs}, which is a file, not a folder" in line


def test_output_files_of_every_command_are_checked_first(capsys, tmp_path):
    blocked = _file_in_the_way(tmp_path)
    checkpoint = tmp_path / "model_1.pt"
    checkpoint.write_bytes(b"never read: the output path is refused first")
    for argv, option in (
        (["play", "--checkpoint", str(checkpoint), "--video", str(blocked / "v.mp4")], "--video"),
        (["export", "--checkpoint", str(checkpoint), "--out", str(blocked / "p.onnx")], "--out"),
        (
            ["sim2sim", "--policy", str(tmp_path / "policy.onnx"), "--json-out", str(blocked / "r.json")],
            "--json-out",
        ),
        (["bench", "--json", str(blocked / "b.json")], "--json"),
    ):
        line = _user_error(capsys, argv)
        assert f"{option} {blocked}/" in line and "which is a file, not a folder" in line
    line = _user_error(capsys, ["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path)])
    assert f"--out {tmp_path}: is a folder; give a file name" in line


def test_a_video_name_without_a_video_suffix_is_refused_before_the_checkpoint_is_read(capsys, tmp_path):
    checkpoint = tmp_path / "model_1.pt"
    checkpoint.write_bytes(b"never read: the video's name is refused first")
    line = _user_error(capsys, ["play", "--checkpoint", str(checkpoint), "--video", str(tmp_path / "run")])
    assert f"video {tmp_path / 'run'}: the name has no suffix; give a file name ending in .mp4" in line


def test_the_default_video_next_to_an_unwritable_checkpoint_is_checked(capsys, tmp_path):
    # A checkpoint in a read-only place: its folder is made read-only and, for root (whom the bits
    # do not stop), the check is skipped as the machine cannot show it.
    import os

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "model_1.pt").write_bytes(b"x")
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: permission bits do not stop writes")
        line = _user_error(capsys, ["play", "--checkpoint", str(folder / "model_1.pt")])
        assert "--video (default: next to the checkpoint)" in line and "cannot write in" in line
    finally:
        folder.chmod(0o755)


def test_more_worlds_than_memory_holds_say_how_many_fit(capsys, tmp_path):
    # 100 million cart-poles need about 1.5 TB: refused from an estimate, before anything is allocated.
    argv = ["train", "--task", "cartpole-balance", "--num-envs", "100000000", "--device", "cpu"]
    line = _user_error(capsys, [*argv, "--runs-dir", str(tmp_path)])
    assert "num_envs=100000000 worlds need about" in line and "worlds fit; lower num_envs" in line
    fit = int(line.split("at most ")[1].split(" worlds fit")[0])
    assert 1000 < fit < 100_000_000


def test_more_worlds_than_warp_can_index_name_the_32_bit_limit(capsys, tmp_path):
    argv = ["train", "--task", "cartpole-balance", "--num-envs", "2147483647", "--device", "cpu"]
    line = _user_error(capsys, [*argv, "--runs-dir", str(tmp_path)])
    assert "more than Warp can index" in line and "at most 134217727 worlds" in line


def test_an_allocation_too_large_for_the_machine_is_one_line(capsys, tmp_path):
    # An observation history of 2**31 - 1 steps for 1024 worlds: about 17 TB, which no allocator
    # hands out; no estimate covers it, the allocator's own failure is caught.
    argv = [*CARTPOLE[:2], "--num-envs", "1024", "--max-iterations", "1", "--runs-dir", str(tmp_path)]
    line = _user_error(capsys, ["train", *argv, "--env.observations.policy.history_length", "2147483647"])
    assert "out of memory: an allocation of" in line and "GB failed" in line


def test_a_rollout_larger_than_memory_is_refused_before_ppo_allocates_it(capsys, tmp_path):
    # Two worlds, but 2**31 - 1 steps each: hundreds of GB of rollout, refused from the env's sizes.
    argv = [*CARTPOLE, "--max-iterations", "1", "--runs-dir", str(tmp_path)]
    line = _user_error(capsys, ["train", *argv, "--agent.ppo.num_steps_per_env", str(2**31 - 1)])
    assert "PPO's rollout of 2147483647 steps x 2 worlds needs about" in line
    assert "lower --agent.ppo.num_steps_per_env (one world's rollout alone needs" in line


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--num-envs", "abc"], "Error parsing --num-envs"),
        (
            ["train", "--video-seconds", "x"],
            "Error parsing --video-seconds: could not convert string to float: 'x'",
        ),
        (["train", "--device"], "Missing value for argument '--device'"),
        (["export"], "Missing from warplab export: --checkpoint PATH"),
        (["sim2sim", "--policy", "p.onnx", "--episodes", "nan"], "Error parsing --episodes"),
        (["bench", "--num-envs", "abc"], "Error parsing --num-envs"),
        (["bench", "--tf32-matmul", "maybe"], "invalid choice 'maybe' for argument '--tf32-matmul'"),
        # list took any argument and ignored it.
        (["list", "--task", "x"], "takes no arguments, got '--task x'"),
    ],
)
def test_options_tyro_cannot_read_are_one_line(capsys, argv, expected):
    # tyro's own panel was a dozen lines; its message is kept, with where to look.
    line = _user_error(capsys, argv)
    assert expected in line and line.endswith(f"(warplab {argv[0]} --help)")


def test_help_still_prints_the_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--help"])
    assert exit_.value.code == 0
    assert "--num-envs" in capsys.readouterr().out
