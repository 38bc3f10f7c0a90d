"""Running a command where no GL library can be loaded, as on a fresh server or a GPU machine without EGL.

Where this process may make a mount namespace (root, ``unshare``), the child sees every OSMesa, EGL,
GL, GLX and OpenGL library the dynamic loader knows (``ldconfig -p``) replaced by an empty file:
``dlopen`` fails on each, for PyOpenGL, MuJoCo and warplab alike. Elsewhere a ``sitecustomize`` makes
``ctypes.CDLL`` refuse those names, which is how PyOpenGL (and warplab's check) load them on Linux.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

_GL_NAME = re.compile(r"^lib(OSMesa|EGL|GL|GLX|OpenGL|GLES\w*)[._]")

_SITECUSTOMIZE = """
import ctypes, os, re
_gl = re.compile(r"^lib(OSMesa|EGL|GL|GLX|OpenGL|GLES\\\\w*)[._]")
_init = ctypes.CDLL.__init__
def _refuse_gl(self, name, *args, **kwargs):
    if name and _gl.match(os.path.basename(str(name))):
        raise OSError(f"{name}: cannot open shared object file (hidden by the test)")
    _init(self, name, *args, **kwargs)
ctypes.CDLL.__init__ = _refuse_gl
"""


def gl_library_files() -> list[str]:
    """The real files of every GL library the dynamic loader's cache lists."""
    listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    files = set()
    for line in listing.splitlines():
        name, _, path = line.strip().partition(" => ")
        if _GL_NAME.match(name.split()[0] if name else "") and os.path.exists(path):
            files.add(os.path.realpath(path))
    return sorted(files)


@functools.cache
def can_unshare() -> bool:
    """Whether this process may make a private mount namespace (and bind files in it)."""
    if shutil.which("unshare") is None or not shutil.which("ldconfig"):
        return False
    done = subprocess.run(["unshare", "-m", "mount", "--bind", "/dev/null", "/dev/null"], capture_output=True)
    return done.returncode == 0


def run_without_gl(argv: list[str], tmp: Path, env: dict[str, str] | None = None, timeout: float = 600):
    """``subprocess.run(argv)`` (text output captured) where no GL library loads; returns the result."""
    env = dict(os.environ if env is None else env)
    if can_unshare():
        binds = " ".join(f"mount --bind /dev/null {shlex.quote(f)} &&" for f in gl_library_files())
        command = ["unshare", "-m", "sh", "-c", f"{binds} exec {shlex.join(argv)}"]
    else:
        site = tmp / "nogl_site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
        command = argv
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


PYTHON = sys.executable
