"""What a new user's first commands print: warplab's own lines, not Warp's driver warning.

Real processes of the installed ``warplab`` script: Warp's native library writes its warning to
file descriptor 2 when it initializes, which only a fresh process shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

from warplab.sim.device import NO_DRIVER_WARNING, nvidia_gpu_present

SCRIPT = shutil.which("warplab", path=sysconfig.get_path("scripts")) or shutil.which("warplab")


def _run(*args: str) -> subprocess.CompletedProcess:
    assert SCRIPT, "no `warplab` console script: is warplab installed (pip install -e .)?"
    env = {k: v for k, v in os.environ.items() if k != "WARPLAB_WARP_VERBOSE"}
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("args", [("--help",), ("list",)])
def test_help_and_list_print_no_warp_output(args):
    done = _run(*args)
    assert done.returncode == 0, done.stderr
    assert "Warp" not in done.stdout + done.stderr and done.stderr == ""


def test_help_and_list_do_not_initialize_warp():
    code = (
        "from warplab.cli.main import main\n"
        "assert main(['--help']) == 0 and main(['list']) == 0\n"
        "from warp._src import context\n"
        "print('runtime', context.runtime)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "runtime None" in done.stdout


def test_train_opens_with_its_own_line_on_a_machine_without_a_gpu(tmp_path):
    if nvidia_gpu_present():
        pytest.skip("this machine has an NVIDIA GPU: there the driver warning is news and stays")
    done = _run("train", "--device", "cpu", "--print-config")
    assert done.returncode == 0, done.stderr
    assert NO_DRIVER_WARNING not in done.stderr and "Warp" not in done.stderr
    assert done.stdout.lstrip().startswith("{")


def test_help_and_inspect_wait_for_neither_torch_nor_warp():
    # `warplab --help` took 3 to 7 s on a busy 2-core machine: main.py imported every command (and
    # with them torch and Warp) before it read its first argument. Help, a command's --help and
    # inspect's refusal of a file now import neither.
    code = (
        "import sys\n"
        "from warplab.cli.main import main\n"
        "assert main(['--help']) == 0\n"
        "for command in ('train', 'play', 'export', 'inspect'):\n"
        "    try:\n"
        "        main([command, '--help'])\n"
        "    except SystemExit as exit_:\n"
        "        assert exit_.code == 0\n"
        "assert main(['inspect', '/nonexistent/robot.xml']) == 2\n"
        "print('heavy', sorted(m for m in ('torch', 'warp', 'mujoco_warp') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "heavy []" in done.stdout
    assert done.stderr.strip() == "warplab inspect: error: XML file not found: /nonexistent/robot.xml"


@pytest.mark.parametrize("args", [("--help",), ("list",)])
def test_output_into_a_closed_pipe_ends_without_a_traceback(args):
    # `warplab list | head -1`: the reader goes away before the output is written.
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([SCRIPT, *args], stdout=write, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write)
    assert done.returncode == 1
    assert done.stderr == "", done.stderr


def test_a_warning_is_one_line_naming_the_command(tmp_path):
    # Python prints a warning as two lines (source path and line, then the line of code).
    urdf = tmp_path / "r.urdf"
    urdf.write_text(
        '<robot name="r"><link name="base"><visual><geometry><sphere radius="0"/></geometry></visual>'
        '<collision><geometry><sphere radius="0.1"/></geometry></collision></link></robot>'
    )
    done = _run("inspect", str(urdf))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"warplab inspect: warning: {urdf}: <visual> of size 0 (it draws nothing) left out in links ['base']"
    ]
