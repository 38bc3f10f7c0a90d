"""Videos of rollouts (and later the web viewer and plots).

``record_qpos`` (which needs torch) loads when first used, so that rendering an exported policy's
run (``warplab sim2sim --video``) needs no torch.
"""

from warplab.viz.video import RenderError, render_frames, subsample_for_fps, write_mp4

__all__ = ["RenderError", "record_qpos", "render_frames", "subsample_for_fps", "write_mp4"]


def __getattr__(name: str):
    if name == "record_qpos":
        from warplab.viz.rollout import record_qpos

        return record_qpos
    raise AttributeError(f"module 'warplab.viz' has no attribute {name!r}")
