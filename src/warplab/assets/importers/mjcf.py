"""MJCF files: any MuJoCo XML with its included files, meshes, height fields and textures.

MuJoCo resolves ``<include>`` files relative to the main file, and meshes and textures relative to
the compiler's ``meshdir``/``texturedir``/``assetdir`` (themselves relative to the main file). The
same rules are applied here first, so that every referenced file is checked (inside the asset
folder, present, within ``ImportLimits``) before MuJoCo opens it.
"""

from __future__ import annotations

import os
import pathlib
import xml.etree.ElementTree as ET

import mujoco

from warplab.assets.importers.files import (
    DEFAULT_LIMITS,
    AssetError,
    ImportLimits,
    check_mesh,
    inside,
    mujoco_reason,
    mujoco_warnings,
    parse_xml,
)
from warplab.assets.importers.spec_checks import check_spec

_MESH_TAGS = ("mesh", "hfield", "skin", "flexcomp")
_TEXTURE_FILES = ("file", "fileright", "fileleft", "fileup", "filedown", "filefront", "fileback")


def load_mjcf(
    path: str | os.PathLike,
    *,
    asset_root: str | os.PathLike | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> mujoco.MjSpec:
    """A MuJoCo XML file as an editable ``MjSpec``, after checking every file it refers to.

    Args:
      path: the model's XML file.
      asset_root: the folder every referenced file must lie in; None: the model file's folder.
      limits: size limits of the XML files and meshes.

    Raises:
      FileNotFoundError: the file, an included file or an asset is missing (naming the path tried).
      AssetError: broken XML (file, line and column), a reference that leads outside ``asset_root``
        (after links and ``..``), a mesh over ``limits``, a model MuJoCo refuses to read (with
        MuJoCo's reason, on one line), or a number MuJoCo would take but should not (``check_spec``:
        a joint range whose lower end is above its upper, a NaN, a negative damping...).
    """
    path = pathlib.Path(path).absolute()
    root = pathlib.Path(asset_root).absolute() if asset_root is not None else path.parent
    check_mjcf_files(path, [root], limits)
    with mujoco_warnings(path):
        try:
            spec = mujoco.MjSpec.from_file(str(path))
        except ValueError as e:
            raise AssetError(f"{path}: MuJoCo cannot read this model: {mujoco_reason(e)}") from None
        return check_spec(spec, path)


def check_mjcf_files(path: pathlib.Path, roots: list[pathlib.Path], limits: ImportLimits) -> None:
    """Checks the XML of ``path`` and its includes, and every mesh, height field and texture file."""
    base = path.parent
    elements: list[tuple[pathlib.Path, ET.Element]] = []
    _collect(path, base, roots, limits, elements, seen=set())
    # The compiler's folders, wherever they are set (the last setting wins, as in MuJoCo).
    dirs = {"meshdir": "", "texturedir": ""}
    strip = False
    for _, element in elements:
        if element.tag == "compiler":
            if "assetdir" in element.attrib:
                dirs["meshdir"] = dirs["texturedir"] = element.attrib["assetdir"]
            for key in dirs:
                dirs[key] = element.attrib.get(key, dirs[key])
            strip = element.attrib.get("strippath", "true" if strip else "false") == "true"
    for source, element in elements:
        if element.tag in _MESH_TAGS or element.tag == "texture":
            folder = dirs["meshdir"] if element.tag in _MESH_TAGS else dirs["texturedir"]
            for attr in _TEXTURE_FILES if element.tag == "texture" else ("file",):
                ref = element.attrib.get(attr)
                if ref:
                    # With strippath MuJoCo keeps only the file's name, under the compiler's folder.
                    name = pathlib.PurePath(ref).name if strip else ref
                    target = inside(base / folder / name, roots, source, ref)
                    if element.tag in ("mesh", "flexcomp"):
                        check_mesh(target, limits, source, ref)
                    elif not target.is_file():
                        raise FileNotFoundError(f"{source}: {element.tag} {ref!r} not found: tried {target}")
        elif element.tag == "model" and element.attrib.get("file"):
            ref = element.attrib["file"]
            target = inside(base / ref, roots, source, ref)
            check_mjcf_files(target, roots, limits)


def _collect(
    path: pathlib.Path,
    base: pathlib.Path,
    roots: list[pathlib.Path],
    limits: ImportLimits,
    out: list[tuple[pathlib.Path, ET.Element]],
    seen: set[pathlib.Path],
) -> None:
    # Included files are spliced where they stand, so their own references resolve like the main
    # file's; an include cycle would never end in MuJoCo either.
    if path in seen:
        raise AssetError(f"{path}: included again from within itself (an include cycle)")
    seen.add(path)
    for element in parse_xml(path, limits).iter():
        if element.tag == "include":
            ref = element.attrib.get("file")
            if not ref:
                raise AssetError(f"{path}: <include> without a file attribute")
            target = inside(base / ref, roots, path, ref)
            if not target.is_file():
                raise FileNotFoundError(f"{path}: included file {ref!r} not found: tried {target}")
            _collect(target, base, roots, limits, out, seen)
        else:
            out.append((path, element))
    seen.discard(path)
