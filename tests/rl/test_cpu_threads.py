"""Torch's CPU threads when warplab trains on the CPU (``warplab.rl.cpu_threads``)."""

from __future__ import annotations

import pytest
import torch

from warplab.rl.cpu_threads import MAX_THREADS, choose_cpu_threads, physical_cores, use_cpu_threads


def test_half_the_physical_cores_at_least_one_at_most_four():
    cores = physical_cores()
    threads, reason = choose_cpu_threads({})
    assert threads == max(1, min(MAX_THREADS, cores // 2))
    assert f"half of {cores} physical cores" in reason and "WARPLAB_CPU_THREADS sets it" in reason


def test_the_environment_variable_sets_it_and_omp_is_respected():
    assert choose_cpu_threads({"WARPLAB_CPU_THREADS": "3"}) == (3, "WARPLAB_CPU_THREADS=3")
    assert choose_cpu_threads({"OMP_NUM_THREADS": "6"}) == (None, "OMP_NUM_THREADS=6")
    for bad in ("0", "-2", "many", ""):
        with pytest.raises(ValueError, match=f"WARPLAB_CPU_THREADS={bad!r}: give a positive integer"):
            choose_cpu_threads({"WARPLAB_CPU_THREADS": bad})


def test_use_cpu_threads_sets_torch(monkeypatch):
    # The session's autouse fixture restores torch's thread count afterwards.
    monkeypatch.setenv("WARPLAB_CPU_THREADS", "2")
    assert use_cpu_threads() == "2 torch threads (WARPLAB_CPU_THREADS=2)"
    assert torch.get_num_threads() == 2


def test_train_on_the_cpu_says_how_many_threads(capsys, monkeypatch, tmp_path):
    from warplab.cli.main import main

    monkeypatch.setenv("WARPLAB_CPU_THREADS", "1")
    argv = [
        "train",
        "--task",
        "cartpole-balance",
        "--device",
        "cpu",
        "--num-envs",
        "2",
        "--max-iterations",
        "1",
    ]
    assert main([*argv, "--runs-dir", str(tmp_path), "--agent.logger", "none"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert (
        first
        == "warplab train: cartpole-balance with 2 worlds on cpu, 1 torch thread (WARPLAB_CPU_THREADS=1)"
    )
