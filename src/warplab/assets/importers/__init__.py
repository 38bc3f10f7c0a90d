"""Robots and scenes from the formats teams use: MJCF, URDF and USD, one entry point for all.

``load_robot(path)`` reads any of them into an editable ``mujoco.MjSpec``, choosing the reader by
the file's suffix; every reader checks the files a model refers to (inside the asset folder,
present, within ``ImportLimits``) and raises errors that name the file and what is wrong.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import mujoco

from warplab.assets.importers.files import DEFAULT_LIMITS, AssetError, ImportLimits
from warplab.assets.importers.mjcf import load_mjcf
from warplab.assets.importers.urdf import load_urdf
from warplab.assets.importers.usd import load_usd
from warplab.assets.importers.usd_write import write_usd

SUFFIXES = {
    ".xml": "mjcf",
    ".mjcf": "mjcf",
    ".urdf": "urdf",
    ".usd": "usd",
    ".usda": "usd",
    ".usdc": "usd",
    ".usdz": "usd",
}
"""File suffixes ``load_robot`` reads, and the format of each."""


def file_format(path: str | os.PathLike) -> str:
    """``"mjcf"``, ``"urdf"`` or ``"usd"`` for ``path``, from its suffix.

    Raises:
      AssetError: a suffix none of the readers takes (naming those that are taken).
    """
    suffix = pathlib.Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise AssetError(
            f"{path}: unknown robot file type {suffix or '(no suffix)'!r}; warplab reads "
            f"{', '.join(SUFFIXES)} (MJCF, URDF, USD)"
        )
    return SUFFIXES[suffix]


def load_robot(
    path: str | os.PathLike,
    *,
    asset_root: str | os.PathLike | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
    **options: Any,
) -> mujoco.MjSpec:
    """A robot or scene file of any supported format as an editable ``MjSpec``.

    Args:
      path: an MJCF (``.xml``), URDF (``.urdf``) or USD (``.usd``, ``.usda``, ``.usdc``, ``.usdz``) file.
      asset_root: the folder the files it refers to must lie in (see each reader for the default).
      limits: size limits of the file and its meshes.
      options: the URDF reader's own (``floating_base``, ``package_paths``, ``keep_visual``,
        ``self_collisions``, ``fuse_fixed_links``; see ``load_urdf``).

    Raises:
      FileNotFoundError: the file or something it refers to is missing (naming the path tried).
      AssetError: see ``load_mjcf``, ``load_urdf`` and ``load_usd``.
      TypeError: ``options`` given for a format that takes none.
    """
    kind = file_format(path)
    if kind == "urdf":
        return load_urdf(path, asset_root=asset_root, limits=limits, **options)
    if options:
        raise TypeError(f"{path}: options {sorted(options)} apply to URDF files only")
    if kind == "mjcf":
        return load_mjcf(path, asset_root=asset_root, limits=limits)
    return load_usd(path, asset_root=asset_root, limits=limits)


__all__ = [
    "DEFAULT_LIMITS",
    "SUFFIXES",
    "AssetError",
    "ImportLimits",
    "file_format",
    "load_mjcf",
    "load_robot",
    "load_urdf",
    "load_usd",
    "write_usd",
]
