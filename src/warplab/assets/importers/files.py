"""What every importer checks before MuJoCo reads a file: size limits, XML syntax, and where the
files a model refers to really are.

A robot description names other files (meshes, textures, included XML). Those paths come from
whoever wrote the file, so each one is resolved here first, and refused when it leads out of the
folder the user said the assets live in (``../../etc/passwd``), when it does not exist (naming the
path that was tried), or when it is too large to be a sane robot part (``ImportLimits``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import re
import struct
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import mujoco


class AssetError(ValueError):
    """A robot or scene file that cannot be imported; the message names the file and the fault."""


@dataclasses.dataclass(frozen=True)
class ImportLimits:
    """Upper bounds on what an imported file may hold; a file over one is refused before it is loaded.

    The defaults admit any robot of MuJoCo Menagerie with a wide margin. A collision mesh is reduced
    to its convex hull by MuJoCo, so a mesh of more than a few thousand faces costs compile time and
    memory without changing contacts: decimate large scans rather than raising the limits.
    """

    max_file_bytes: int = 64 * 2**20
    """Largest robot or scene description (XML, URDF, USD), bytes."""
    max_mesh_bytes: int = 64 * 2**20
    """Largest mesh file, bytes."""
    max_mesh_faces: int = 1_000_000
    """Most triangles in one mesh (counted from the file's header or its face records)."""


DEFAULT_LIMITS = ImportLimits()


def check_file(path: pathlib.Path, limits: ImportLimits, what: str = "file") -> None:
    """Raises ``FileNotFoundError`` or ``AssetError`` for a missing or oversized ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise AssetError(
            f"{path}: {size} bytes is over the limit of {limits.max_file_bytes} bytes for a {what} "
            "(ImportLimits.max_file_bytes)"
        )


def parse_xml(path: pathlib.Path, limits: ImportLimits) -> ET.Element:
    """The root element of an XML file; a syntax error names the file, line and column.

    Python's XML parser does not fetch external entities, and its expat refuses entity expansion
    attacks ("billion laughs"), so a hostile file fails here rather than exhausting memory.
    """
    check_file(path, limits, "XML file")
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        line, column = e.position
        reason = re.sub(r": line \d+, column \d+$", "", str(e))
        raise AssetError(f"{path}:{line}:{column}: broken XML: {reason}") from None


def inside(path: pathlib.Path, roots: list[pathlib.Path], source: pathlib.Path, ref: str) -> pathlib.Path:
    """``path`` with links resolved, provided it lies inside one of ``roots``.

    Raises:
      AssetError: the path leads outside every root; the message names the reference as written in
        ``source``, where it leads, and the folders allowed.
    """
    real = pathlib.Path(os.path.realpath(path))
    for root in roots:
        if real.is_relative_to(pathlib.Path(os.path.realpath(root))):
            return real
    allowed = ", ".join(str(r) for r in roots)
    raise AssetError(
        f"{source}: {ref!r} resolves to {real}, outside the asset folder ({allowed}); refusing to read "
        "it. Move the file into the asset folder, or, if you trust that folder, pass asset_root= "
        "(warplab inspect: --asset-root) a folder that holds both"
    )


def mujoco_reason(error: Exception | str, *, drop_lines: bool = False) -> str:
    """MuJoCo's error text on one line: its "Element name ..." and "line N" notes joined with "; ".

    Args:
      drop_lines: leave out MuJoCo's line numbers, where they count lines of a text rewritten here
        (a URDF) rather than of the user's file.
    """
    text = str(error).strip()
    if drop_lines:
        text = re.sub(r",? line \d+", "", text)
    parts = [re.sub(r"^(XML )?Error: ", "", part.strip()) for part in text.splitlines() if part.strip()]
    return "; ".join(parts)


def check_mesh(path: pathlib.Path, limits: ImportLimits, source: pathlib.Path, ref: str) -> None:
    """Refuses a missing mesh (naming the path tried) or one over ``limits``."""
    if not path.is_file():
        raise FileNotFoundError(f"{source}: mesh {ref!r} not found: tried {path}")
    size = path.stat().st_size
    if size > limits.max_mesh_bytes:
        raise AssetError(
            f"{source}: mesh {ref!r} ({path}) is {size} bytes, over the limit of {limits.max_mesh_bytes} "
            "(ImportLimits.max_mesh_bytes); decimate it or raise the limit"
        )
    faces = mesh_face_count(path)
    if faces is not None and faces > limits.max_mesh_faces:
        raise AssetError(
            f"{source}: mesh {ref!r} ({path}) has {faces} faces, over the limit of {limits.max_mesh_faces} "
            "(ImportLimits.max_mesh_faces); decimate it or raise the limit"
        )


def mesh_face_count(path: pathlib.Path) -> int | None:
    """Triangles in an STL, OBJ or MuJoCo MSH file, read without loading the mesh; None for others."""
    suffix = path.suffix.lower()
    if suffix == ".stl":
        with path.open("rb") as f:
            head = f.read(84)
            if len(head) == 84 and path.stat().st_size == 84 + 50 * struct.unpack("<I", head[80:])[0]:
                return struct.unpack("<I", head[80:])[0]
        # ASCII STL: one "facet" record per triangle.
        with path.open("rb") as f:
            return sum(1 for line in f if line.lstrip().startswith(b"facet"))
    if suffix == ".obj":
        count = 0
        with path.open("rb") as f:
            for line in f:
                if line.startswith(b"f "):
                    count += max(len(line.split()) - 3, 1)  # a polygon of n corners is n - 2 triangles
        return count
    if suffix == ".msh":
        # MuJoCo's binary MSH: four int32 counts (vertices, normals, texture coordinates, faces),
        # then the arrays. A gmsh file (flexcomp type="gmsh") has the same suffix and is text
        # ("$MeshFormat"): a file whose size does not match its counts is not MuJoCo's, and not counted.
        with path.open("rb") as f:
            head = f.read(16)
        if len(head) == 16:
            nvert, nnormal, ntex, nface = struct.unpack("<4i", head)
            if min(nvert, nnormal, ntex, nface) >= 0 and path.stat().st_size == 16 + 4 * (
                3 * nvert + 3 * nnormal + 2 * ntex + 3 * nface
            ):
                return nface
    return None


@contextlib.contextmanager
def mujoco_warnings(source: pathlib.Path) -> Iterator[None]:
    """Holds MuJoCo's warnings back while a file is read, and repeats them, naming ``source``, as
    Python warnings when the block succeeds; when it fails, its one-line error says what is wrong
    and MuJoCo's notes about the same fault ("XML contains a 'NaN'") are dropped.
    """
    held: list[str] = []
    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(held.append)
    try:
        yield
    finally:
        mujoco.set_mju_user_warning(previous)
    for text in held:
        warnings.warn(f"{source}: MuJoCo: {mujoco_reason(text)}", stacklevel=3)
