"""MuJoCo's ``MUJOCO_GL`` as the user set it, and a guard for a setting that cannot work here.

warplab chooses no GL backend when it is imported: building, stepping, training, exporting and
sim-to-sim need no GL library, and MuJoCo with ``MUJOCO_GL`` unset imports none it could fail on.
A video chooses its renderer only when one is asked for (``warplab.viz.backends``).

The guard: MuJoCo imports the backend ``MUJOCO_GL`` names when it is first imported, and that import
dies inside PyOpenGL (``'NoneType' object has no attribute 'glGetError'``) where the backend's
library is missing, or raises for a value it does not know. So where the user named ``egl`` or
``osmesa`` and its library cannot be loaded, or a value MuJoCo refuses, MuJoCo is told
``MUJOCO_GL=disable`` for this process, one line on stderr says so, and a video asked for later
fails with the same advice (``user_mujoco_gl`` keeps what the user set).
"""

from __future__ import annotations

import ctypes
import os
import sys

GL_LIBRARIES = {"osmesa": "OSMesa", "egl": "EGL"}
"""The library each headless backend loads (``libOSMesa.so``, ``libEGL.so``)."""

_USER_MUJOCO_GL = os.environ.get("MUJOCO_GL")


def user_mujoco_gl() -> str | None:
    """``MUJOCO_GL`` as it was when warplab was imported (None: unset), lower case."""
    return None if _USER_MUJOCO_GL is None else _USER_MUJOCO_GL.strip().lower()


def gl_library_present(backend: str) -> bool:
    """Whether the library of ``backend`` (``osmesa`` or ``egl``) loads in this process.

    It is looked up as PyOpenGL looks it up on Linux: ``ctypes.CDLL`` of ``lib<name>.so``, then
    ``lib<name>.so.9`` down to ``.so.0``, through the dynamic loader's own search (``LD_LIBRARY_PATH``,
    the loader cache). Other backends have no library of their own to check: True.
    """
    name = GL_LIBRARIES.get(backend)
    if name is None:
        return True
    for filename in [f"lib{name}.so"] + [f"lib{name}.so.{i}" for i in range(9, -1, -1)]:
        try:
            ctypes.CDLL(filename)
        except OSError:
            continue
        return True
    return False


def install_hint(backend: str) -> str:
    """What to install for ``backend``'s library, in a few words."""
    if backend == "osmesa":
        return "OSMesa (Debian/Ubuntu: apt-get install libosmesa6)"
    if backend == "egl":
        return "the NVIDIA driver's EGL libraries (Debian/Ubuntu: apt-get install libegl1 libnvidia-gl-<driver version>)"
    return f"the {backend} GL libraries"


LINUX_MUJOCO_GL: tuple[str, ...] = ("", "disable", "disabled", "off", "false", "0")
LINUX_MUJOCO_GL += ("enable", "enabled", "on", "true", "1", "glfw", "glx", "egl", "osmesa")
"""The values MuJoCo accepts for ``MUJOCO_GL`` on Linux; it raises at import for any other."""


def guard_mujoco_gl() -> None:
    """Before MuJoCo is first imported: replace by ``disable`` a ``MUJOCO_GL`` that would make that
    import fail (a value MuJoCo does not accept, or a backend whose library is missing)."""
    backend = user_mujoco_gl()
    if "mujoco" in sys.modules or backend is None or not sys.platform.startswith("linux"):
        return
    if backend not in LINUX_MUJOCO_GL:
        why = "is not a value MuJoCo accepts (egl, osmesa, glfw or disable)"
        advice = "set one of those or unset MUJOCO_GL"
    elif backend in GL_LIBRARIES and not gl_library_present(backend):
        why = f"but lib{GL_LIBRARIES[backend]} cannot be loaded"
        advice = f"videos need {install_hint(backend)}, or unset MUJOCO_GL"
    else:
        return
    os.environ["MUJOCO_GL"] = "disable"
    print(f"warplab: MUJOCO_GL={backend} {why}: running without GL ({advice})", file=sys.stderr)
