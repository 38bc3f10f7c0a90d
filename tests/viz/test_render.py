"""Frames are lit and show the robot: the cart-pole and the humanoid drawn by OSMesa in this process
(MuJoCo was imported with no GL backend; the renderer makes its own context), and by MuJoCo Warp's
ray tracer, which needs no GL library."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from warplab._gl import gl_library_present
from warplab.tasks import make_env_cfg
from warplab.viz import RenderError, choose_renderer, render_frames
from warplab.viz.camera import video_model

needs_osmesa = pytest.mark.skipif(
    not gl_library_present("osmesa"), reason="no OSMesa here (Debian/Ubuntu: apt-get install libosmesa6)"
)


def _task_model(task: str) -> tuple[mujoco.MjModel, np.ndarray, int]:
    """The task's model, its initial pose, and the qpos address that moves the robot along x."""
    spec = make_env_cfg(task, play=True).scene()
    model = spec.compile() if isinstance(spec, mujoco.MjSpec) else spec
    qpos = (model.key_qpos[0] if model.nkey else model.qpos0).copy()
    return model, qpos, 0  # the cart's slider and the humanoid's free joint both start with x


def _robot_and_empty_scene(task: str, renderer: str) -> tuple[np.ndarray, np.ndarray]:
    """A frame with the robot in view, and the same view with the robot moved 200 m away."""
    model, qpos, x = _task_model(task)
    away = qpos.copy()
    away[x] += 200.0
    viewer = make_env_cfg(task, play=True).viewer
    # A camera that stays put (no tracking), looking where the robot starts.
    frames = render_frames(
        model,
        np.stack([qpos, away]),
        320,
        240,
        None,
        viewer.distance,
        viewer.elevation,
        viewer.azimuth,
        renderer=renderer,
    )
    return frames[0], frames[1]


def _check_lit_and_visible(robot: np.ndarray, empty: np.ndarray) -> None:
    assert robot.shape == (240, 320, 3) and robot.dtype == np.uint8
    assert 60 <= robot.mean() <= 200, f"mean pixel {robot.mean():.1f}: too dark or washed out"
    luminance = lambda f: f.astype(np.float64) @ [0.299, 0.587, 0.114]  # noqa: E731
    differs = np.abs(luminance(robot) - luminance(empty)) > 40
    # The robot (and its shadow) stand out from the ground and sky behind them.
    assert differs.mean() > 0.005, f"only {differs.mean():.4f} of the pixels show the robot"


@needs_osmesa
@pytest.mark.parametrize("task", ["cartpole-balance", "humanoid-velocity-flat"])
def test_osmesa_frames_are_lit_and_show_the_robot(task):
    robot, empty = _robot_and_empty_scene(task, "osmesa")
    _check_lit_and_visible(robot, empty)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["cartpole-balance", "humanoid-velocity-flat"])
def test_warp_ray_tracer_frames_are_lit_and_show_the_robot(task):
    """The GPU machines' fallback where EGL is missing, run here on the CPU (its kernels compile once)."""
    robot, empty = _robot_and_empty_scene(task, "warp")
    _check_lit_and_visible(robot, empty)


def test_a_video_model_is_a_lit_copy_with_room_for_the_frame():
    model = mujoco.MjModel.from_xml_string('<mujoco><worldbody><geom size="1"/></worldbody></mujoco>')
    video = video_model(model, 1280, 720)
    assert (video.vis.global_.offwidth, video.vis.global_.offheight) == (1280, 720)
    # No light of its own: the headlight is raised in the copy, and the user's model is left alone.
    assert video.vis.headlight.diffuse.min() >= 0.6 and video.vis.headlight.ambient.min() >= 0.3
    assert model.vis.headlight.diffuse.max() == pytest.approx(0.4) and model.vis.global_.offwidth == 640
    with pytest.raises(ValueError, match="video width 5000: use 1 to 4096 pixels"):
        video_model(model, 5000, 480)


@needs_osmesa
def test_frames_wider_than_the_models_buffer_keep_their_size():
    """A model's offscreen buffer (640 x 480 by default) no longer shrinks a bigger video silently."""
    model, qpos, _ = _task_model("cartpole-balance")
    (frame,) = render_frames(model, qpos[None], 800, 600, renderer="osmesa")
    assert frame.shape == (600, 800, 3)


def test_an_unknown_renderer_is_named():
    with pytest.raises(ValueError, match="renderer 'vulkan': use one of auto, egl, osmesa, glfw, warp"):
        choose_renderer("cpu", "vulkan")


def test_the_warp_ray_tracer_needs_a_camera_in_the_model():
    model = mujoco.MjModel.from_xml_string('<mujoco><worldbody><geom size="1"/></worldbody></mujoco>')
    with pytest.raises(RenderError, match="has none: add one"):
        render_frames(model, model.qpos0[None], 64, 48, renderer="warp", device="cpu")
