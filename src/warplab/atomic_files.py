"""Files written whole or not at all: every file warplab writes goes through this module.

A writer gets a temporary file in the destination's own folder; only when it has finished is the
temporary file flushed to disk (``fsync``), renamed over the destination with ``os.replace`` (atomic
on POSIX and Windows within one file system) and the folder fsynced, so that the rename itself
survives a power cut. A process killed at any moment therefore leaves either the previous file or
the new one under the destination's name, never a torn or empty one. If the writer raises, the
temporary file is removed and the destination is untouched. Only a kill (``SIGKILL``, power cut)
can leave a temporary file behind: a hidden ``.<stem>.tmp-<pid>-<token><suffix>`` beside the
destination, safe to delete.

The temporary name keeps the destination's suffix (``.mp4``, ``.onnx``, ``.json``), so writers that
choose a format from the file name (video encoders) write the right one.

Use `atomic_path` for a writer that takes a file name, `atomic_write` for one that takes an open
file, and `atomic_write_bytes` / `atomic_write_text` / `atomic_write_json` for data already in hand;
`check_not_an_input` refuses an output that names a file the command reads.
``tests/test_atomic_files.py`` fails if a module of ``src/warplab`` writes a file any other way.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

__all__ = [
    "FileWriteError",
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "check_not_an_input",
    "temp_path_for",
]


# What the file system answers when a file cannot be written where the user asked: a folder that is
# not writable or read-only, a full disk or quota, a file past a size limit, a name that is a
# folder, a parent that is a file, a name too long. Other errors (a writer's bug) pass unchanged.
_USER_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EFBIG,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.ENAMETOOLONG,
}


class FileWriteError(OSError):
    """A file cannot be written where it was asked for; the message names the file and says why.

    The previous file under that name, if any, is kept as it was.
    """


def _write_error(path: Path, error: OSError) -> FileWriteError:
    reason = error.strerror or str(error)
    return FileWriteError(
        f"cannot write {path}: {reason}; nothing was written there (a file already there is kept)"
    )


def check_not_an_input(path: str | Path, inputs: Mapping[str, str | Path | None]) -> None:
    """Raise `FileWriteError` when `path` is one of the files a command reads, ``{what: path}``
    (the same file under another spelling or through a link included; None entries are skipped).

    An output named like an input (``--out`` the checkpoint itself, ``--json-out`` the policy) would
    replace the file being read, whole and atomically but lost all the same.
    """
    path = Path(path)
    for what, source in inputs.items():
        if source is None:
            continue
        source = Path(source)
        try:
            same = path.resolve() == source.resolve() or (
                path.exists() and source.exists() and path.samefile(source)
            )
        except (OSError, RuntimeError):  # An unreadable folder or a link loop: not provably the same.
            same = False
        if same:
            raise FileWriteError(
                f"cannot write {path}: it is the {what} being read ({source}); give another file name "
                "(nothing was written)"
            )


def temp_path_for(path: str | Path) -> Path:
    """A fresh temporary name beside `path` with the same suffix, e.g. ``.video.tmp-4242-9f3a1c2e.mp4``.

    The process id and a random token keep two writers of one destination apart; the leading dot
    keeps the file out of ``ls`` and of ``model_*.pt``-style patterns.
    """
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    # Persists the rename itself. Not every platform lets a folder be opened for this (Windows does
    # not), and there a rename is made durable by the file system on its own.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` for a writer that takes a file name; install it on exit.

    On a normal exit the temporary file (which the writer must have created) is fsynced, renamed
    over `path` and the folder fsynced. On an exception, ``KeyboardInterrupt`` included, the
    temporary file is removed and `path` keeps its previous content. Missing folders are created.

    Raises:
        FileWriteError: `path` cannot be written (a folder by that name, no permission, a
            read-only file system, a full disk...): one line naming `path` and the reason, in place
            of the file system's error, whose name would be the temporary file's.

    Example::

        with atomic_path(out) as tmp:
            torch.onnx.export(model, args, str(tmp))
    """
    path = Path(path)
    if path.is_dir():
        raise FileWriteError(f"cannot write {path}: it is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        if error.errno in _USER_ERRNOS or isinstance(error, FileExistsError):
            raise _write_error(path, error) from error
        raise
    tmp = temp_path_for(path)
    try:
        yield tmp
        if not tmp.is_file():
            raise RuntimeError(f"the writer of {path} created no file at {tmp}; {path} is left as it was")
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if (
            isinstance(error, OSError)
            and not isinstance(error, FileWriteError)
            and error.errno in _USER_ERRNOS
        ):
            raise _write_error(path, error) from error
        raise
    _fsync_folder(path.parent)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Yield an open temporary file beside `path` (`mode` ``"wb"`` or ``"w"``); install it on exit.

    The same guarantees as `atomic_path`. Text mode writes UTF-8 unless `encoding` says otherwise.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    if mode == "w" and encoding is None:
        encoding = "utf-8"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding) as file:
        yield file


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all; returns `path`."""
    with atomic_write(path, "wb") as file:
        file.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` whole or not at all; returns `path`."""
    with atomic_write(path, "w", encoding=encoding) as file:
        file.write(text)
    return Path(path)


def atomic_write_json(path: str | Path, value: Any, indent: int | None = 2, **dumps_kwargs: Any) -> Path:
    """Write ``json.dumps(value)`` and a final newline to `path` whole or not at all; returns `path`.

    The text is built before the file is opened, so a value JSON cannot hold leaves no file at all.
    """
    return atomic_write_text(path, json.dumps(value, indent=indent, **dumps_kwargs) + "\n")
