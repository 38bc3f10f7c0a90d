"""Frames drawn by MuJoCo Warp's batched ray tracer: no GL library, on a GPU or (slowly) a CPU.

Each frame is one world of a MuJoCo Warp model made for the video: its joint positions are set,
kinematics places bodies, lights and cameras, and then the model's first camera is moved to the
video camera's pose before the frames of a batch are traced at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import mujoco
import numpy as np

from warplab.viz.backends import RenderError, gpu_present

BATCH = 32
"""Frames traced at once (each a world); about 1.3 MB of device memory per 640 x 480 frame."""


def iter_frames_warp(
    model: mujoco.MjModel,
    qpos: np.ndarray,
    cam_pos: np.ndarray,
    cam_xmat: np.ndarray,
    width: int,
    height: int,
    device: str | None = None,
) -> Iterator[np.ndarray]:
    """One RGB frame ``[height, width, 3]`` uint8 per row of ``qpos [T, nq]``, a batch at a time.

    Args:
      model: a model made for the video (``camera.video_model``); its camera 0 is moved.
      cam_pos, cam_xmat: ``[T, 3]`` and ``[T, 3, 3]`` camera pose per frame, world frame
        (``camera.camera_frames``).
      device: Warp device (``cpu``, ``cuda:N``); None: CUDA if this machine has a GPU.

    Raises:
      RenderError: the model has no camera (MuJoCo Warp traces rays from the model's cameras).
    """
    import mujoco_warp as mjw
    import warp as wp

    if model.ncam < 1:
        raise RenderError(
            "MuJoCo Warp's ray tracer draws from a camera of the model and this model has none: add one "
            "(<camera name='video'/> in its worldbody) or install a GL renderer (EGL or OSMesa)"
        )
    # Camera 0 becomes the video's perspective camera with MuJoCo's free-camera field of view.
    model.cam_fovy[0] = model.vis.global_.fovy
    model.cam_projection[0] = mujoco.mjtProjection.mjPROJ_PERSPECTIVE
    model.cam_sensorsize[0] = 0.0
    device = device or ("cuda" if gpu_present() else "cpu")
    # The device is entered around each batch, never across a yield, so that code run between frames
    # keeps its own default device.
    with wp.ScopedDevice(device):
        warp_model = mjw.put_model(model)
        batch = min(BATCH, len(qpos))
        data = mjw.make_data(model, nworld=batch)
        context = mjw.create_render_context(
            model,
            nworld=batch,
            cam_res=(width, height),
            render_rgb=True,
            render_depth=False,
            cam_active=[0],
            render_skybox=True,
            use_shadows=True,
            # 2 x 2 rays a pixel smooth the far floor's checkers; cheap on a GPU, four times the work on a CPU.
            samples_per_pixel=2 if wp.get_device().is_cuda else 1,
        )
        rgb = wp.zeros((batch, height, width), dtype=wp.vec3)
    for start in range(0, len(qpos), batch):
        stop = min(start + batch, len(qpos))
        # The last batch repeats its final frame in the worlds it does not fill.
        rows = np.minimum(np.arange(start, start + batch), stop - 1)
        with wp.ScopedDevice(device):
            data.qpos.assign(qpos[rows].astype(np.float32))
            mjw.kinematics(warp_model, data)
            mjw.camlight(warp_model, data)
            xpos, xmat = data.cam_xpos.numpy(), data.cam_xmat.numpy()
            xpos[:, 0], xmat[:, 0] = cam_pos[rows], cam_xmat[rows]
            data.cam_xpos.assign(xpos)
            data.cam_xmat.assign(xmat)
            mjw.refit_bvh(warp_model, data, context)
            mjw.render(warp_model, data, context)
            mjw.get_rgb(context, 0, rgb)
            pixels = np.clip(np.rint(rgb.numpy() * 255.0), 0, 255).astype(np.uint8)
        yield from pixels[: stop - start]
