"""Nothing but a video needs a GL library: in a process where none can be loaded (``nogl.py``), warplab
builds, steps, trains, exports and runs sim-to-sim, and a video asked for is refused in one line that
says what to install. Such a machine is a fresh server, or a GPU machine without EGL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.viz.nogl import run_without_gl

OSMESA_ADVICE = "install OSMesa (Debian/Ubuntu: apt-get install libosmesa6)"


def _env(**extra: str) -> dict[str, str]:
    """This process's environment without a GL choice of its own, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    return {**env, **extra}


def _python(code: str, tmp_path, **extra: str) -> subprocess.CompletedProcess:
    return run_without_gl([sys.executable, "-c", code], tmp_path, _env(**extra))


MAKE_AND_STEP = """
import contextlib, io, pathlib, sys, torch, warplab
from warplab.cli.main import main
from warplab.viz import RenderError, choose_renderer
env = warplab.make("cartpole-balance", num_envs=2, device="cpu")
env.reset()
obs, reward, terminated, truncated, _ = env.step(torch.zeros(2, env.action_dim))
assert torch.isfinite(reward).all() and "OpenGL" not in sys.modules
try:
    choose_renderer("cpu")
except RenderError as e:
    print("RenderError:", e)
# `train --video` checks the renderer before it builds, trains or makes a run folder.
runs = pathlib.Path(sys.argv[1])
err = io.StringIO()
with contextlib.redirect_stderr(err):
    code = main(["train", "--task", "cartpole-balance", "--device", "cpu", "--video", "--runs-dir", str(runs)])
print("train --video:", code, repr(err.getvalue()), runs.exists())
print("stepped")
"""


def test_make_and_step_need_no_gl_library_and_train_video_says_what_to_install(tmp_path):
    done = run_without_gl([sys.executable, "-c", MAKE_AND_STEP, str(tmp_path / "runs")], tmp_path, _env())
    assert done.returncode == 0 and "stepped" in done.stdout, done.stderr[-3000:]
    assert "RenderError: no renderer can draw a video here: osmesa: libOSMesa cannot be loaded" in done.stdout
    assert OSMESA_ADVICE in done.stdout
    train = next(line for line in done.stdout.splitlines() if line.startswith("train --video:"))
    assert train.startswith("train --video: 2 'warplab train: error: no renderer can draw a video here: ")
    assert train.endswith(f"{OSMESA_ADVICE}\\n' False")


def test_a_mujoco_gl_whose_library_is_missing_is_set_aside_with_one_line(tmp_path):
    """MuJoCo's own import dies inside PyOpenGL under MUJOCO_GL=osmesa without OSMesa; warplab tells
    MuJoCo to run without GL instead, says so once, and a video names the same fix."""
    code = (
        "import warplab, mujoco\n"
        "from warplab.viz import RenderError, choose_renderer\n"
        "try:\n    choose_renderer('cpu')\nexcept RenderError as e:\n    print('RenderError:', e)\n"
    )
    done = _python(code, tmp_path, MUJOCO_GL="osmesa")
    assert done.returncode == 0, done.stderr[-3000:]
    warning = [line for line in done.stderr.splitlines() if line.startswith("warplab:")]
    assert warning == [
        "warplab: MUJOCO_GL=osmesa but libOSMesa cannot be loaded: running without GL (videos need "
        f"{OSMESA_ADVICE[len('install ') :]}, or unset MUJOCO_GL)"
    ]
    assert "RenderError: no renderer can draw a video here: osmesa: libOSMesa cannot be loaded" in done.stdout
    assert f"{OSMESA_ADVICE}, or unset MUJOCO_GL to let warplab choose" in done.stdout


def test_play_without_gl_exits_2_with_one_line(tmp_path):
    """The renderer is checked before anything is loaded or built: the checkpoint is not even read."""
    checkpoint = tmp_path / "model_1.pt"
    checkpoint.write_bytes(b"")
    argv = [
        sys.executable,
        "-m",
        "warplab.cli.main",
        "play",
        "--checkpoint",
        str(checkpoint),
        "--device",
        "cpu",
    ]
    done = run_without_gl(argv, tmp_path, _env())
    lines = [line for line in done.stderr.splitlines() if "Warp CUDA warning" not in line]
    assert done.returncode == 2, done.stderr[-3000:]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("warplab play: error: no renderer can draw a video here: ")
    assert lines[0].endswith(OSMESA_ADVICE)


TRAIN_EXPORT_SIM2SIM = """
import contextlib, io, pathlib, sys
from warplab.cli.main import main
runs = pathlib.Path(sys.argv[1])
assert main(["train", "--task", "cartpole-balance", "--num-envs", "4", "--max-iterations", "1",
             "--device", "cpu", "--runs-dir", str(runs)]) == 0
(checkpoint,) = runs.glob("cartpole-balance/*/model_1.pt")
onnx = runs / "policy.onnx"
assert main(["export", "--checkpoint", str(checkpoint), "--out", str(onnx)]) == 0
assert main(["sim2sim", "--policy", str(onnx), "--seconds", "0.5", "--episodes", "1"]) == 0
err = io.StringIO()
with contextlib.redirect_stderr(err):
    code = main(["sim2sim", "--policy", str(onnx), "--seconds", "0.5", "--episodes", "1",
                 "--video", str(runs / "v.mp4")])
print("video:", code, repr(err.getvalue()))
assert "OpenGL" not in sys.modules
print("done")
"""


@pytest.mark.slow
def test_train_export_and_sim2sim_need_no_gl_library(tmp_path):
    runs = tmp_path / "runs"
    done = run_without_gl([sys.executable, "-c", TRAIN_EXPORT_SIM2SIM, str(runs)], tmp_path, _env())
    assert done.returncode == 0 and "done" in done.stdout, (done.stdout[-2000:], done.stderr[-3000:])
    assert (runs / "policy.onnx").stat().st_size > 0
    video_line = next(line for line in done.stdout.splitlines() if line.startswith("video:"))
    assert video_line.startswith("video: 2 'warplab sim2sim: error: no renderer can draw a video here: ")
    assert video_line.endswith(f"{OSMESA_ADVICE}\\n'") and not (runs / "v.mp4").exists()


def test_a_mujoco_gl_value_mujoco_refuses_is_set_aside_with_one_line():
    """MuJoCo raises at its own import for an unknown MUJOCO_GL; warplab runs without GL and says so."""
    code = (
        "import warplab, mujoco\n"
        "from warplab.viz import RenderError, choose_renderer\n"
        "try:\n    choose_renderer('cpu')\nexcept RenderError as e:\n    print('RenderError:', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(MUJOCO_GL="vulkan"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert [line for line in done.stderr.splitlines() if line.startswith("warplab:")] == [
        "warplab: MUJOCO_GL=vulkan is not a value MuJoCo accepts (egl, osmesa, glfw or disable): running "
        "without GL (set one of those or unset MUJOCO_GL)"
    ]
    assert (
        "RenderError: MUJOCO_GL=vulkan is not a GL backend: set egl, osmesa or glfw, or unset it"
        in done.stdout
    )
