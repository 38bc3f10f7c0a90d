"""Which renderer draws a video, chosen when a video is asked for (never when warplab is imported).

Renderers:
  - ``egl``: MuJoCo's OpenGL renderer through EGL, on the GPU (or Mesa's EGL on a CPU).
  - ``osmesa``: MuJoCo's OpenGL renderer in software on the CPU (``apt-get install libosmesa6``).
  - ``glfw``: MuJoCo's OpenGL renderer in a hidden window, where a display is present.
  - ``warp``: MuJoCo Warp's batched ray tracer, which needs no GL library (``warp_render.py``).

``auto`` tries, on a GPU machine: EGL, then MuJoCo Warp's ray tracer on the GPU, then OSMesa; on a
CPU: OSMesa, then EGL, then GLFW where a display is present. A renderer counts as present only once
its library has loaded and a context has been made with it. ``MUJOCO_GL`` (or ``PYOPENGL_PLATFORM``)
set by the user picks the GL backend: that one or a ``RenderError``, nothing else (``disable``
leaves MuJoCo Warp's ray tracer). Nothing here imports torch or Warp unless ``warp`` is chosen.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

from warplab._gl import GL_LIBRARIES, LINUX_MUJOCO_GL, gl_library_present, install_hint, user_mujoco_gl

RENDERERS = ("auto", "egl", "osmesa", "glfw", "warp")
"""What a caller may ask for; ``auto`` picks as the module docstring says."""

_DISABLED = ("disable", "disabled", "off", "false", "0")
_MUJOCO_DEFAULT = ("", "enable", "enabled", "on", "true", "1")

DESCRIPTIONS = {
    "egl": "MuJoCo's OpenGL renderer through EGL",
    "osmesa": "MuJoCo's OpenGL renderer on the CPU (OSMesa)",
    "glfw": "MuJoCo's OpenGL renderer in a hidden GLFW window",
    "native": "MuJoCo's OpenGL renderer",
    "warp": "MuJoCo Warp's ray tracer",
}
"""A few words for each renderer, for the line a command prints."""


class RenderError(RuntimeError):
    """No renderer can draw here; the message says what to install or set."""


def gpu_present() -> bool:
    """Whether this machine has an NVIDIA GPU (its device files), without importing torch or Warp."""
    return os.path.exists("/dev/nvidiactl") or os.path.exists("/dev/nvidia0")


def _on_gpu(device: str | None) -> bool:
    return device.startswith("cuda") if device else gpu_present()


def _user_gl() -> str | None:
    """The GL backend the user named with ``MUJOCO_GL`` (else ``PYOPENGL_PLATFORM``); None: none."""
    value = user_mujoco_gl()
    if value is not None and value not in _MUJOCO_DEFAULT:
        return "glfw" if value == "glx" else value
    platform = os.environ.get("PYOPENGL_PLATFORM", "").strip().lower()
    return platform if platform in GL_LIBRARIES else None


def _candidates(device: str | None, renderer: str) -> list[str]:
    if renderer not in RENDERERS:
        raise ValueError(f"renderer {renderer!r}: use one of {', '.join(RENDERERS)}")
    if renderer != "auto":
        return [renderer]
    user = _user_gl()
    if user is not None and sys.platform.startswith("linux") and user not in LINUX_MUJOCO_GL:
        raise RenderError(f"MUJOCO_GL={user} is not a GL backend: set egl, osmesa or glfw, or unset it")
    if user is not None:
        return ["warp"] if user in _DISABLED else [user]
    if not sys.platform.startswith("linux"):
        return ["native"]  # MuJoCo's own choice (CGL, WGL or GLFW) as it made it at import
    if _on_gpu(device):
        return ["egl", "warp", "osmesa"]
    return ["osmesa", "egl"] + (["glfw"] if os.environ.get("DISPLAY") else [])


def _advice(device: str | None) -> str:
    """What to install, in one clause, for this machine."""
    return f"install {install_hint('egl' if _on_gpu(device) else 'osmesa')}"


_CHOSEN: dict[tuple[str | None, str], str] = {}


def choose_renderer(device: str | None = None, renderer: str = "auto") -> str:
    """The renderer that will draw, checked by making a context with it; raises ``RenderError`` if none.

    Args:
      device: where the rollout ran (``cpu``, ``cuda``, ``cuda:N``); None: this machine (a GPU if
        NVIDIA's device files are present).
      renderer: one of ``RENDERERS``.

    Returns:
      ``egl``, ``osmesa``, ``glfw``, ``native`` (MuJoCo's own choice off Linux) or ``warp``.
    """
    key = (device, renderer)
    if key in _CHOSEN:
        return _CHOSEN[key]
    reasons = []
    for name in _candidates(device, renderer):
        reason = _why_not(name, device)
        if reason is None:
            _CHOSEN[key] = name
            return name
        reasons.append(reason)
    user = _user_gl()
    if renderer != "auto":
        hint = f"install {install_hint(renderer)}, or " if renderer in GL_LIBRARIES else ""
        reason = reasons[0].removeprefix(f"{renderer}: ")
        raise RenderError(f"renderer {renderer!r} cannot draw here ({reason}): {hint}use renderer 'auto'")
    if user is not None and user not in _DISABLED:
        advice = f"install {install_hint(user)}, or unset MUJOCO_GL to let warplab choose"
    else:
        advice = _advice(device)
    raise RenderError(f"no renderer can draw a video here: {'; '.join(reasons)}: {advice}")


def _why_not(name: str, device: str | None) -> str | None:
    """None if ``name`` can render here, else a few words on why not."""
    if name in _DISABLED:
        return f"MUJOCO_GL={name}"
    if name == "warp":
        try:
            importlib.import_module("mujoco_warp")
        except ImportError as e:
            return f"MuJoCo Warp is not installed ({e})"
        return None
    if name in GL_LIBRARIES and not gl_library_present(name):
        return f"{name}: lib{GL_LIBRARIES[name]} cannot be loaded"
    try:
        with gl_context(name, 16, 16):
            pass
    except RenderError as e:
        return f"{name}: {e}"
    return None


def _context_class(name: str):
    """MuJoCo's ``GLContext`` class for ``name``, importing its module as MuJoCo would.

    PyOpenGL fixes its platform when it is first imported, from ``PYOPENGL_PLATFORM``; it is set for
    that import and put back as it was after, so that processes started later choose for themselves.
    """
    if name == "native":
        from mujoco.rendering.classic import gl_context as classic

        return classic.GLContext
    if name == "glfw":
        return importlib.import_module("mujoco.glfw").GLContext
    if "OpenGL.platform" in sys.modules:
        loaded = type(sys.modules["OpenGL.platform"].PLATFORM).__name__.lower()
        if not loaded.startswith(name):
            raise RenderError(
                f"PyOpenGL was set up for {loaded.removesuffix('platform')} earlier in this process; "
                f"start a new one with MUJOCO_GL={name}"
            )
    before = os.environ.get("PYOPENGL_PLATFORM")
    os.environ["PYOPENGL_PLATFORM"] = name
    try:
        return importlib.import_module(f"mujoco.{name}").GLContext
    except Exception as e:  # PyOpenGL raises AttributeError, ImportError or OSError for a missing library.
        raise RenderError(f"importing MuJoCo's {name} context failed ({type(e).__name__}: {e})") from e
    finally:
        if before is None:
            os.environ.pop("PYOPENGL_PLATFORM", None)
        else:
            os.environ["PYOPENGL_PLATFORM"] = before


@contextlib.contextmanager
def gl_context(name: str, width: int, height: int):
    """A current OpenGL context of backend ``name`` for ``width`` x ``height`` pixels, freed after.

    Raises:
      RenderError: the context cannot be made (its message says why in a few words).
    """
    cls = _context_class(name)
    try:
        context = cls(width, height)
        if getattr(context, "_context", True) is None:  # GLFW returns no window where it has no display.
            raise RuntimeError("no context was made")
        context.make_current()
    except Exception as e:  # EGL, OSMesa and GLFW raise ImportError, RuntimeError or GLError.
        raise RenderError(f"making a {name} context failed ({type(e).__name__}: {e})") from e
    try:
        yield context
    finally:
        context.free()
