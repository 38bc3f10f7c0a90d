"""Warp's initialization: its missing-driver warning dropped where no NVIDIA GPU is, nothing else."""

from __future__ import annotations

import subprocess
import sys

import pytest

from warplab.sim.device import NO_DRIVER_WARNING, _stderr_without, nvidia_gpu_present


def test_only_the_named_line_is_dropped_from_native_stderr(capfd):
    import os

    with _stderr_without(NO_DRIVER_WARNING):
        # Written to the file descriptor, as Warp's native code does, not through sys.stderr.
        os.write(2, f"Warp CUDA error: a real one\n{NO_DRIVER_WARNING}\nanother line\n".encode())
    err = capfd.readouterr().err
    assert err == "Warp CUDA error: a real one\nanother line\n"


def test_a_fresh_process_initializes_warp_without_the_warning():
    if nvidia_gpu_present():
        pytest.skip("this machine has an NVIDIA GPU: the warning would be news there and stays")
    code = "from warplab.sim import resolve_device; print(resolve_device('auto'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cpu"
    assert NO_DRIVER_WARNING not in done.stderr


def test_plain_warp_still_prints_it_here():
    # The test above would pass on a machine whose Warp is silent anyway: show that this one is not.
    if nvidia_gpu_present():
        pytest.skip("this machine has an NVIDIA GPU")
    code = "import warp as wp; wp.config.quiet = True; wp.init()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert NO_DRIVER_WARNING in done.stderr


@pytest.mark.parametrize("device", ["cuda:x", "cuda:", "cuda:-1", "cuda:0.5"])
def test_a_cuda_device_without_a_number_is_refused(device):
    from warplab.sim import resolve_device

    with pytest.raises(ValueError, match=f"'cuda:N', got {device!r}"):
        resolve_device(device)


def test_train_with_a_cuda_ordinal_that_is_not_a_number_is_one_line(capsys):
    from warplab.cli.main import main

    assert main(["train", "--task", "cartpole-balance", "--device", "cuda:one", "--print-config"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warplab train: error: device must be one of") and err.count("\n") == 1
