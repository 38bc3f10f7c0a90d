"""Videos of rollouts (and later the web viewer and plots)."""

from warplab.viz.rollout import record_qpos
from warplab.viz.video import RenderError, render_frames, subsample_for_fps, write_mp4

__all__ = ["RenderError", "record_qpos", "render_frames", "subsample_for_fps", "write_mp4"]
