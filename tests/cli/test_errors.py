"""User mistakes: exit status 2 and one line on stderr that names the problem, never a traceback.

Called in-process through ``warplab.cli.main.main``; none of these builds an environment.
"""

from __future__ import annotations

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
    assert f"--checkpoint {missing}: no such file" in line


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
    assert "RlEnvCfg.num_envs must be a positive integer, got 0" in line


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
