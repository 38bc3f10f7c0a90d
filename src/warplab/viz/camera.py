"""The video camera: where it looks and from where, and the light a video's model gets.

Both renderers frame a scene the same way: MuJoCo's free camera at ``distance`` m from a point
(a tracked body, or the model's centre), seen at ``elevation`` and ``azimuth`` degrees.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import mujoco
import numpy as np

MAX_VIDEO_SIZE = 4096
"""The largest width or height of a video, pixels."""


@dataclass(frozen=True)
class ViewCfg:
    """How a video frames the scene (``warplab.envs.config.ViewerCfg`` holds the same four fields)."""

    track_body: str | None = None
    """Body the camera follows (None: it looks at the model's centre)."""
    distance: float = 4.0
    """Camera distance from the point it looks at, m."""
    elevation: float = -20.0
    """Degrees; negative looks down."""
    azimuth: float = 90.0
    """Degrees about the world's z axis; 90 looks along +y."""


def lookat_points(mj_model: mujoco.MjModel, qpos: np.ndarray, track_body: str | None) -> np.ndarray:
    """``[T, 3]`` point the camera looks at in each frame, world frame, m.

    Raises:
      ValueError: ``track_body`` is not a body of the model.
    """
    if track_body is None:
        return np.repeat(np.asarray(mj_model.stat.center, dtype=np.float64)[None], len(qpos), axis=0)
    body_id = mujoco.mj_name2id(mj_model, mujoco.mjtObj.mjOBJ_BODY, track_body)
    if body_id < 0:
        raise ValueError(f"track_body {track_body!r} is not a body of the model")
    data = mujoco.MjData(mj_model)
    points = np.empty((len(qpos), 3))
    for t, q in enumerate(qpos):
        data.qpos[:] = q
        mujoco.mj_kinematics(mj_model, data)
        points[t] = data.xpos[body_id]
    return points


def camera_frames(
    lookat: np.ndarray, distance: float, elevation: float, azimuth: float
) -> tuple[np.ndarray, np.ndarray]:
    """Position ``[T, 3]`` (m) and orientation ``[T, 3, 3]`` of MuJoCo's free camera, world frame.

    The orientation's columns are the camera's right, up and backward axes (a MuJoCo camera looks
    along its -z), as in ``mjData.cam_xmat``.
    """
    el, az = np.radians(elevation), np.radians(azimuth)
    forward = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right = right / np.linalg.norm(right) if np.linalg.norm(right) > 1e-9 else np.array([1.0, 0.0, 0.0])
    up = np.cross(right, forward)
    xmat = np.stack([right, up, -forward], axis=1)
    pos = np.asarray(lookat, dtype=np.float64) - distance * forward
    return pos, np.repeat(xmat[None], len(pos), axis=0)


def video_model(mj_model: mujoco.MjModel, width: int, height: int) -> mujoco.MjModel:
    """A copy of ``mj_model`` set up for a video: an offscreen buffer of at least ``width`` x
    ``height`` pixels, and a brighter headlight where the model has no light of its own (MuJoCo's
    default headlight alone leaves a scene dim). The user's model is not changed.

    Raises:
      ValueError: ``width`` or ``height`` is outside 1..``MAX_VIDEO_SIZE``.
    """
    for name, value in (("width", width), ("height", height)):
        if not 1 <= value <= MAX_VIDEO_SIZE:
            raise ValueError(f"video {name} {value}: use 1 to {MAX_VIDEO_SIZE} pixels")
    model = copy.copy(mj_model)
    model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), width)
    model.vis.global_.offheight = max(int(model.vis.global_.offheight), height)
    if not np.any(model.light_active):
        headlight = model.vis.headlight
        headlight.active = headlight.active or 1
        headlight.ambient = np.maximum(headlight.ambient, 0.3)
        headlight.diffuse = np.maximum(headlight.diffuse, 0.6)
    return model
