"""Videos of rollouts (and later the web viewer and plots).

``render_frames`` draws recorded joint positions with the renderer ``choose_renderer`` finds when a
video is asked for (EGL, OSMesa, GLFW or MuJoCo Warp's ray tracer; ``backends.py``): nothing here
needs a GL library before that. The rest loads when first used: ``record_qpos`` needs torch, and
rendering an exported policy's run (``warplab sim2sim --video``) needs no torch.
"""

from warplab.viz.backends import RENDERERS, RenderError, choose_renderer

__all__ = [
    "RENDERERS",
    "RenderError",
    "choose_renderer",
    "frame_indices",
    "record_qpos",
    "render_frames",
    "write_mp4",
]

_LAZY = {
    "record_qpos": "warplab.viz.rollout",
    "render_frames": "warplab.viz.render",
    "frame_indices": "warplab.viz.video",
    "write_mp4": "warplab.viz.video",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'warplab.viz' has no attribute {name!r}")
