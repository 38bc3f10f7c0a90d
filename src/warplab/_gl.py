"""Picks MuJoCo's offscreen GL backend before MuJoCo is first imported (it reads MUJOCO_GL then).

On a Linux machine without a display: EGL where an NVIDIA device is present, else OSMesa. A value
the user set is kept.
"""

import os
import sys


def choose_gl_backend() -> None:
    if "MUJOCO_GL" in os.environ or not sys.platform.startswith("linux") or os.environ.get("DISPLAY"):
        return
    backend = "egl" if os.path.exists("/dev/nvidia0") else "osmesa"
    os.environ["MUJOCO_GL"] = backend
    os.environ.setdefault("PYOPENGL_PLATFORM", backend)
