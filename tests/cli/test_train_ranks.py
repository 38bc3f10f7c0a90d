"""``warplab train --nproc-per-node``: the torchrun command it builds, and a real two-rank run on the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from warplab.cli.commands import TrainArgs, torchrun_command


def test_one_machine_runs_standalone():
    argv = ["--nproc-per-node", "2", "--task", "cartpole-balance", "--agent.ppo.learning_rate", "3e-4"]
    command = torchrun_command(TrainArgs(nproc_per_node=2), argv)
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert command[3:] == ["--nproc-per-node", "2", "--standalone", "-m", "warplab.cli", "train", *argv]


def test_rendezvous_options_pass_through():
    args = TrainArgs(
        nproc_per_node=8,
        nnodes="2",
        node_rank=1,
        rdzv_backend="c10d",
        rdzv_endpoint="host0:29500",
        rdzv_id="r",
    )
    launch = torchrun_command(args, [])[3:]
    assert launch == [
        "--nproc-per-node", "8", "--nnodes", "2", "--node-rank", "1", "--rdzv-backend", "c10d",
        "--rdzv-endpoint", "host0:29500", "--rdzv-id", "r", "-m", "warplab.cli", "train",
    ]  # fmt: skip


def test_python_m_warplab_cli_is_the_command():
    done = subprocess.run([sys.executable, "-m", "warplab.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "usage: warplab" in done.stdout


@pytest.mark.slow
def test_two_ranks_train_and_only_rank_0_writes(tmp_path):
    """About 30 s here: two processes each import torch, Warp and MuJoCo and build their worlds."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), *sys.path])}
    command = [sys.executable, "-m", "warplab.cli", "train", "--nproc-per-node", "2", "--device", "cpu"]
    options = [
        "--task",
        "cartpole-balance",
        "--num-envs",
        "4",
        "--max-iterations",
        "1",
        "--runs-dir",
        str(tmp_path),
    ]
    done = subprocess.run([*command, *options], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    (folder,) = (tmp_path / "cartpole-balance").iterdir()  # one run folder: rank 1 made none
    assert (folder / "model_1.pt").exists()
    checkpoint = torch.load(folder / "model_1.pt", weights_only=True)
    assert checkpoint["world_size"] == 2
    assert done.stdout.count("run folder:") == 1  # only rank 0 prints
