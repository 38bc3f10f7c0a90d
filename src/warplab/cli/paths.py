"""Checks that the places a command will write to can be written, before it builds anything.

A run folder that cannot be created used to end in a ``PermissionError`` traceback after the
environment had been built (and its kernels compiled); a video or ONNX path inside a file, after
the whole rollout. Each command now checks its output paths first. The check is a real one: a
temporary file is created (and removed at once) in the nearest folder that exists, so that it also
fails where permission bits say nothing (root, a read-only file system); no folder is created.
"""

from __future__ import annotations

import tempfile
from pathlib import Path


class OutputPathError(ValueError):
    """A path a command would write to cannot be written; the message names the option and why."""


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(".")


def _probe(folder: Path, option: str, path: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".warplab-write-check-"):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputPathError(
            f"{option} {path}: cannot write in {folder} ({reason}); choose a folder you can write to"
        ) from None


def _check_folder(folder: Path, option: str, named: Path) -> None:
    """Raises unless ``folder`` is, or can be created as, a folder one can write in; ``named`` is
    the path as the user gave it, for the message."""
    existing = _nearest_existing(folder.absolute())
    if not existing.is_dir():
        where = "is" if existing == named.absolute() else "lies inside"
        what = "a link to nothing" if existing.is_symlink() and not existing.exists() else "a file"
        raise OutputPathError(f"{option} {named}: {where} {existing}, which is {what}, not a folder")
    _probe(existing, option, named)


def check_writable_folder(path: Path, option: str) -> None:
    """Raises ``OutputPathError`` unless ``path`` is, or can be created as, a folder one can write in.

    Args:
      path: the folder (it need not exist yet).
      option: the command-line option that named it (``--runs-dir``), for the message.
    """
    _check_folder(Path(path), option, Path(path))


def check_writable_file(path: Path, option: str) -> None:
    """Raises ``OutputPathError`` unless a file can be written at ``path`` (its folder may not exist
    yet; an existing file is replaced, as the command would).

    Args:
      path: the file to be written.
      option: the command-line option that named it (``--video``), for the message.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{option} {path}: is a folder; give a file name")
    _check_folder(path.parent, option, path)
