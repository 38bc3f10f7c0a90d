"""Videos of rollouts, written as MP4 at the frame rate asked for and in real time.

A rollout records the joint positions of one world after each policy step; ``frame_indices``
picks, for each frame, the step nearest to the frame's time, and ``render_frames`` (``render.py``)
draws those with the renderer ``backends.choose_renderer`` finds.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from warplab.viz.backends import RenderError
from warplab.viz.render import render_frames

__all__ = ["RenderError", "check_video_path", "frame_indices", "render_frames", "write_mp4"]

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi")
"""File name endings of the containers the H.264 video is written in (by ffmpeg, from the suffix)."""


def check_video_path(path: str | Path) -> None:
    """Raises ``ValueError`` unless ``path`` ends in a suffix of ``VIDEO_SUFFIXES``: the container
    is chosen from it, and a name without one failed only once the rollout had run, naming the
    temporary file."""
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ValueError(
            f"video {path}: {f'{suffix!r} is no video file suffix' if suffix else 'the name has no suffix'}; "
            f"give a file name ending in .mp4 (or {', '.join(VIDEO_SUFFIXES[1:])})"
        )


def write_mp4(frames: Iterable[np.ndarray], path: str | Path, fps: float) -> Path:
    """Writes RGB frames (``[height, width, 3]`` uint8 each, a list or a stream) to an H.264 MP4 at
    ``fps`` frames per second; returns the path.

    The video is encoded into a temporary ``.mp4`` beside `path` and renamed into place when
    complete (`warplab.atomic_files`): an interrupted or failed encode leaves the previous video.
    A name whose suffix is no video container's (``check_video_path``) is a ``ValueError``.
    """
    import contextlib

    import imageio.v2 as imageio

    from warplab.atomic_files import atomic_path

    path = Path(path)
    check_video_path(path)
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


def frame_indices(num_steps: int, policy_dt: float, fps: float) -> np.ndarray:
    """Which recorded policy step each frame of a real-time video at ``fps`` shows.

    Step ``i`` holds the state at ``(i + 1) * policy_dt`` s; frame ``k`` shows the step nearest
    to ``(k + 1) / fps`` s. The video lasts ``num_steps * policy_dt`` s (to the nearest frame):
    below ``1 / policy_dt`` frames a second steps are skipped, above it steps repeat.

    Returns:
      ``[round(num_steps * policy_dt * fps)]`` (at least 1) step indices, int64.
    """
    if num_steps < 1 or not policy_dt > 0 or not fps > 0:
        raise ValueError(
            f"frame_indices: need num_steps >= 1, policy_dt > 0, fps > 0, got {num_steps}, {policy_dt}, {fps}"
        )
    count = max(1, round(num_steps * policy_dt * fps))
    times = np.arange(1, count + 1) / fps
    # Half-way ties go to the later step (not to the even one, as rint would), so repeats stay even.
    nearest = np.floor(times / policy_dt + 0.5 + 1e-9).astype(np.int64)
    return np.clip(nearest - 1, 0, num_steps - 1)
