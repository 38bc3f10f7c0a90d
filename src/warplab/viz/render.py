"""Frames of a model at recorded joint positions, with the renderer ``backends.choose_renderer`` picks.

A rollout records the joint positions of one world on its device; the frames are drawn afterwards
from those positions, by MuJoCo's OpenGL renderer (EGL, OSMesa or GLFW) or by MuJoCo Warp's ray
tracer (``warp_render.py``), which needs no GL library.
"""

from __future__ import annotations

from collections.abc import Iterator

import mujoco
import numpy as np

from warplab.viz.backends import choose_renderer, gl_context
from warplab.viz.camera import camera_frames, lookat_points, video_model


def render_frames(
    mj_model: mujoco.MjModel,
    qpos: np.ndarray,
    width: int = 640,
    height: int = 480,
    track_body: str | None = None,
    distance: float = 4.0,
    elevation: float = -20.0,
    azimuth: float = 90.0,
    *,
    device: str | None = None,
    renderer: str = "auto",
) -> list[np.ndarray]:
    """Renders one RGB frame ``[height, width, 3]`` uint8 per row of ``qpos [T, nq]``.

    Args:
      mj_model: the ``mujoco.MjModel`` of one world (not changed).
      qpos: joint positions over time.
      track_body: body the camera follows at ``distance`` m (None: the camera looks at the
        model's centre).
      elevation, azimuth: the camera's angles, degrees.
      device: where the rollout ran (``cpu``, ``cuda:N``); None: this machine. It orders the
        renderers ``auto`` tries (``backends``).
      renderer: ``auto`` or one of ``backends.RENDERERS``.

    Raises:
      RenderError: no renderer can draw here; the message says what to install.
      ValueError: ``track_body`` is not a body, or the size is outside 1..4096 pixels.
    """
    return list(
        iter_frames(
            mj_model,
            qpos,
            width,
            height,
            track_body,
            distance,
            elevation,
            azimuth,
            device=device,
            renderer=renderer,
        )
    )


def iter_frames(
    mj_model: mujoco.MjModel,
    qpos: np.ndarray,
    width: int = 640,
    height: int = 480,
    track_body: str | None = None,
    distance: float = 4.0,
    elevation: float = -20.0,
    azimuth: float = 90.0,
    *,
    device: str | None = None,
    renderer: str = "auto",
) -> Iterator[np.ndarray]:
    """``render_frames`` one frame at a time, so that a long video is encoded without holding all
    its frames in memory. The renderer is chosen, and the arguments checked, on the first ``next``."""
    name = choose_renderer(device, renderer)
    qpos = np.asarray(qpos, dtype=np.float64).reshape(len(qpos), mj_model.nq)
    model = video_model(mj_model, width, height)
    lookat = lookat_points(model, qpos, track_body)
    if name == "warp":
        from warplab.viz.warp_render import iter_frames_warp

        pos, xmat = camera_frames(lookat, distance, elevation, azimuth)
        yield from iter_frames_warp(model, qpos, pos, xmat, width, height, device)
    else:
        yield from _iter_frames_gl(name, model, qpos, lookat, width, height, distance, elevation, azimuth)


def _iter_frames_gl(
    name: str,
    model: mujoco.MjModel,
    qpos: np.ndarray,
    lookat: np.ndarray,
    width: int,
    height: int,
    distance: float,
    elevation: float,
    azimuth: float,
) -> Iterator[np.ndarray]:
    """MuJoCo's OpenGL renderer in a context of backend ``name`` made for these frames alone."""
    data = mujoco.MjData(model)
    camera = mujoco.MjvCamera()
    mujoco.mjv_defaultFreeCamera(model, camera)
    camera.distance, camera.elevation, camera.azimuth = distance, elevation, azimuth
    option, perturb = mujoco.MjvOption(), mujoco.MjvPerturb()
    scene = mujoco.MjvScene(model, maxgeom=10_000)
    viewport = mujoco.MjrRect(0, 0, width, height)
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    with gl_context(name, width, height):
        context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150)
        try:
            mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, context)
            for q, point in zip(qpos, lookat, strict=True):
                data.qpos[:] = q
                mujoco.mj_forward(model, data)
                camera.lookat[:] = point
                mujoco.mjv_updateScene(
                    model, data, option, perturb, camera, mujoco.mjtCatBit.mjCAT_ALL, scene
                )
                mujoco.mjr_render(viewport, scene, context)
                mujoco.mjr_readPixels(pixels, None, viewport, context)
                # OpenGL's rows run bottom to top.
                yield np.flipud(pixels).copy()
        finally:
            context.free()
