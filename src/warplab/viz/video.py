"""Videos of rollouts: MuJoCo's offscreen renderer on the CPU side, written as MP4.

The GPU machines have no EGL in every setup, and thousands of worlds need not be drawn: a rollout
records the joint positions of a few worlds on the device, and frames are rendered afterwards from
those positions with MuJoCo's own renderer (EGL where there is a GPU display stack, OSMesa on a
CPU: ``apt-get install libosmesa6`` and ``MUJOCO_GL=osmesa``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


class RenderError(RuntimeError):
    """Offscreen rendering is not available; the message says what to install or set."""


def render_frames(
    mj_model,
    qpos: np.ndarray,
    width: int = 640,
    height: int = 480,
    track_body: str | None = None,
    distance: float = 4.0,
    elevation: float = -20.0,
    azimuth: float = 90.0,
) -> list[np.ndarray]:
    """Renders one RGB frame ``[height, width, 3]`` uint8 per row of ``qpos [T, nq]``.

    Args:
      mj_model: the ``mujoco.MjModel`` of one world.
      qpos: joint positions over time.
      track_body: body the camera follows at ``distance`` m (None: the model's free camera looking
        at the model's centre).
    """
    import mujoco

    width = min(width, mj_model.vis.global_.offwidth)
    height = min(height, mj_model.vis.global_.offheight)
    try:
        renderer = mujoco.Renderer(mj_model, height=height, width=width)
    except Exception as e:  # MuJoCo raises plain errors from its GL context creation.
        raise RenderError(
            f"offscreen rendering failed with MUJOCO_GL={os.environ.get('MUJOCO_GL')!r} ({e}). On a CPU machine "
            "install OSMesa (Debian/Ubuntu: apt-get install libosmesa6) and set MUJOCO_GL=osmesa; on a GPU "
            "machine use MUJOCO_GL=egl with the NVIDIA EGL libraries installed."
        ) from e
    data = mujoco.MjData(mj_model)
    camera = mujoco.MjvCamera()
    mujoco.mjv_defaultFreeCamera(mj_model, camera)
    camera.distance, camera.elevation, camera.azimuth = distance, elevation, azimuth
    body_id = -1
    if track_body is not None:
        body_id = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_BODY, track_body)
        if body_id < 0:
            raise ValueError(f"track_body {track_body!r} is not a body of the model")
    frames = []
    try:
        for q in qpos:
            data.qpos[:] = q
            mujoco.mj_forward(mj_model, data)
            if body_id >= 0:
                camera.lookat[:] = data.xpos[body_id]
            renderer.update_scene(data, camera)
            frames.append(renderer.render().copy())
    finally:
        renderer.close()
    return frames


def write_mp4(frames: Sequence[np.ndarray], path: str | Path, fps: float) -> Path:
    """Writes RGB frames to an H.264 MP4 at ``fps`` frames per second; returns the path.

    The video is encoded into a temporary ``.mp4`` beside `path` and renamed into place when
    complete (`warplab.atomic_files`): an interrupted or failed encode leaves the previous video.
    """
    import contextlib

    import imageio.v2 as imageio

    from warplab.atomic_files import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        writer = imageio.get_writer(tmp, fps=fps, codec="libx264", quality=7, macro_block_size=8)
        try:
            for frame in frames:
                writer.append_data(frame)
        except BaseException:
            # imageio closes a writer on a clean exit only: left open, ffmpeg would go on writing
            # the temporary file after atomic_path has removed it.
            with contextlib.suppress(Exception):
                writer.close()
            raise
        writer.close()
    return path


def subsample_for_fps(policy_dt: float, fps: float) -> int:
    """Every how many policy steps to keep a frame so the video plays near real time at ``fps``."""
    return max(1, round(1.0 / (fps * policy_dt)))
