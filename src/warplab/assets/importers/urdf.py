"""URDF files through MuJoCo's own URDF compiler, with the parts it leaves to the user done here.

MuJoCo reads URDF but cannot resolve ``package://`` mesh paths, fixes the root link to the world,
fuses links mounted by ``fixed`` joints into their parents, and adds no actuators (URDF has none).
``load_urdf`` resolves every mesh path to a checked file, chooses a floating or fixed base, keeps
every link as a body, and sets contact defaults; ``RobotCfg.actuators`` (``build_robot_spec``) adds
the actuators.

``package://NAME/path`` is looked up, in order, in ``package_paths`` (``{NAME: folder}``, or folders
that are the package or hold a folder ``NAME``), the folders of ``ROS_PACKAGE_PATH`` (the same way),
``AMENT_PREFIX_PATH`` (``share/NAME``), the URDF's own tree: the asset folder and the folders
between it and the URDF (a folder named ``NAME``, or with a ``package.xml`` naming it, or holding a
folder ``NAME``), and the ROS packages beside the asset folder (``ws/src/NAME`` with a
``package.xml`` naming ``NAME``, in a folder above it). Folders above the asset folder are otherwise
never searched, and whatever a reference names must lie, after links and ``..`` are resolved,
inside its package or the asset folder.
"""

from __future__ import annotations

import os
import pathlib
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

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
from warplab.assets.importers.urdf_checks import check_urdf

PathLike = str | os.PathLike


def load_urdf(
    path: PathLike,
    *,
    floating_base: bool = False,
    package_paths: Mapping[str, PathLike] | Sequence[PathLike] = (),
    asset_root: PathLike | None = None,
    keep_visual: bool = True,
    self_collisions: bool = False,
    fuse_fixed_links: bool = False,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> mujoco.MjSpec:
    """A URDF robot as an editable ``MjSpec``.

    Args:
      path: the URDF file.
      floating_base: give the root link a free joint (a mobile robot); False fixes it to the world
        (an arm on a table).
      package_paths: where ``package://`` packages are: ``{name: folder}``, or folders that are
        packages or hold them. These folders are trusted: meshes may lie anywhere inside them.
      asset_root: the folder every mesh must lie in, besides the folders of the packages it uses;
        None: the package the URDF lives in (the nearest folder above it with a ``package.xml``),
        else the URDF's folder.
      keep_visual: keep ``<visual>`` geometry (group 1, no contacts, no mass) for rendering.
      self_collisions: let the robot's collision geoms touch each other (MuJoCo always skips a body
        and its parent). False: they touch the world and objects only, which avoids the contacts
        that overlapping meshes of neighbouring links make in many URDF files.
      fuse_fixed_links: let MuJoCo fuse links mounted by ``fixed`` joints into their parents (fewer
        bodies, but a foot or sensor link named in a ``RobotCfg`` disappears).
      limits: size limits of the URDF and its meshes.

    Collision geoms get ``condim`` 3 and MuJoCo's default friction; masses and inertias are the
    ``<inertial>`` values of the file (a link without one takes MuJoCo's mass of its collision
    geometry).

    Raises:
      FileNotFoundError: the URDF, a mesh or a package is missing (naming every path tried).
      AssetError: broken XML (file and line), a file that is not a URDF, a link or joint whose
        names, tree or numbers are wrong (``urdf_checks``: a ``lower`` above ``upper``, a NaN, a
        negative mass, an inertia no body has, a moving link without mass...), a mesh outside its
        package and the asset folder or over ``limits``, or a model MuJoCo refuses (its reason).
    """
    path = pathlib.Path(path).absolute()
    robot = parse_xml(path, limits)
    if robot.tag != "robot":
        raise AssetError(f"{path}: not a URDF: the root element is <{robot.tag}>, a URDF's is <robot>")
    _, root_link = check_urdf(robot, path)
    base = [root_link]
    roots = [pathlib.Path(asset_root).absolute()] if asset_root is not None else [_home_folder(path)]
    for mesh in robot.iter("mesh"):
        ref = mesh.attrib.get("filename")
        if not ref:
            raise AssetError(f"{path}: a <mesh> without a filename attribute")
        target = resolve_mesh(ref, path, package_paths, roots, limits)
        mesh.attrib["filename"] = str(target)
    _set_compiler(robot, discardvisual=not keep_visual, fusestatic=fuse_fixed_links)
    with mujoco_warnings(path):
        try:
            spec = mujoco.MjSpec.from_string(ET.tostring(robot, encoding="unicode"))
        except ValueError as e:
            # MuJoCo's line numbers count lines of the text rewritten here, not of the user's file.
            reason = mujoco_reason(e, drop_lines=True)
            raise AssetError(f"{path}: MuJoCo cannot read this URDF: {reason}") from None
    spec.modelname = robot.attrib.get("name", spec.modelname)
    if floating_base:
        if fuse_fixed_links and spec.body(base[0]) is None:
            raise AssetError(f"{path}: the root link {base[0]!r} was fused into the world; cannot float it")
        spec.body(base[0]).add_freejoint(name=f"{base[0]}_floating")
    for geom in spec.geoms:
        if geom.contype == 0 and geom.conaffinity == 0:
            continue  # visual geometry
        geom.condim = 3
        if not self_collisions:
            # Bit 1 is the world's (floor, terrain, objects): the robot meets what has it in contype.
            geom.contype, geom.conaffinity = 0, 1
    return check_spec(spec, path)


def _set_compiler(robot: ET.Element, **attrs: bool) -> None:
    extension = robot.find("mujoco")
    if extension is None:
        extension = ET.Element("mujoco")
        robot.insert(0, extension)
    compiler = extension.find("compiler")
    if compiler is None:
        compiler = ET.SubElement(extension, "compiler")
    for key, value in attrs.items():
        compiler.attrib[key] = "true" if value else "false"
    # Every mesh path is already the absolute path of a checked file. A URDF's own <mujoco> block
    # could otherwise make MuJoCo open another one: strippath cuts the folder off, and meshdir or
    # assetdir puts a folder of the file's choosing in its place.
    compiler.attrib["strippath"] = "false"
    for key in ("meshdir", "texturedir", "assetdir"):
        compiler.attrib.pop(key, None)


def _home_folder(path: pathlib.Path) -> pathlib.Path:
    for folder in path.parents:
        if (folder / "package.xml").is_file():
            return folder
    return path.parent


def _package_name(folder: pathlib.Path) -> str | None:
    manifest = folder / "package.xml"
    if manifest.is_file():
        match = re.search(r"<name>\s*([^<\s]+)\s*</name>", manifest.read_text(errors="replace"))
        if match:
            return match.group(1)
    return None


def _is_package(folder: pathlib.Path, name: str) -> bool:
    return folder.name == name or _package_name(folder) == name


def _holding(folders: Sequence[pathlib.Path], name: str) -> list[pathlib.Path]:
    """The package ``name`` in folders that either are it or hold it."""
    out = []
    for folder in folders:
        out += [folder] if _is_package(folder, name) else []
        out.append(folder / name)
    return out


def _package_candidates(
    name: str,
    urdf: pathlib.Path,
    package_paths: Mapping[str, PathLike] | Sequence[PathLike],
    roots: list[pathlib.Path],
) -> list[pathlib.Path]:
    """Folders that may be the package ``name``, in the order they are tried.

    Only folders the user chose (``package_paths``, ``ROS_PACKAGE_PATH``, ``AMENT_PREFIX_PATH``), the
    URDF's own tree (the asset folders, and the folders between them and the URDF) and real ROS
    packages beside it (a ``package.xml`` naming ``name``) are searched: a folder above the tree that
    happens to bear the package's name (``/etc``, ``/home``) is not.
    """
    out: list[pathlib.Path] = []
    if isinstance(package_paths, Mapping):
        if name in package_paths:
            out.append(pathlib.Path(package_paths[name]).absolute())
    else:
        out += _holding([pathlib.Path(p).absolute() for p in package_paths], name)
    env = os.environ
    out += _holding([pathlib.Path(p) for p in env.get("ROS_PACKAGE_PATH", "").split(os.pathsep) if p], name)
    out += [pathlib.Path(p) / "share" / name for p in env.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    tree: list[pathlib.Path] = []
    for root in roots:
        between = [f for f in (urdf.parent, *urdf.parent.parents) if f.is_relative_to(root)]
        tree += [f for f in between or [root] if f not in tree]
    out += _holding(tree, name)
    # Another package of the robot's ROS workspace (``ws/src/NAME`` beside ``ws/src/mybot``), found
    # as ROS finds packages: only a folder whose package.xml names it counts, so a folder above the
    # tree that merely bears the name (``/etc``, ``/home``) is never taken for one.
    for root in roots:
        out += [f / name for f in root.parents if f / name not in out and _package_name(f / name) == name]
    return out


def _named_above(name: str, urdf: pathlib.Path, roots: list[pathlib.Path]) -> pathlib.Path | None:
    """The nearest folder above the asset folders that bears the name ``name`` (not searched)."""
    for folder in urdf.parents:
        if folder.name == name and not any(folder.is_relative_to(root) for root in roots):
            return folder
    return None


_PACKAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def resolve_mesh(
    ref: str,
    urdf: pathlib.Path,
    package_paths: Mapping[str, PathLike] | Sequence[PathLike],
    roots: list[pathlib.Path],
    limits: ImportLimits = DEFAULT_LIMITS,
) -> pathlib.Path:
    """The checked file a URDF mesh reference names, with links and ``..`` resolved.

    A ``package://NAME/rest`` reference must resolve, after links and ``..``, inside the package it
    was found in or inside the asset folders ``roots``; a plain or ``file://`` path inside ``roots``.

    Raises:
      AssetError: a reference that leads out of those folders (saying how to allow a folder), a
        package name that is not one, a URI scheme other than ``package://`` and ``file://``, a mesh
        over ``limits``.
      FileNotFoundError: no candidate holds the file; naming every path tried.
    """
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*)://", ref)
    if scheme and scheme.group(1) not in ("package", "file"):
        raise AssetError(
            f"{urdf}: mesh {ref!r}: {scheme.group(1)}:// paths are not read; give a package:// URI, a file:// "
            "URI or a path relative to the URDF"
        )
    if ref.startswith("package://"):
        name, _, rest = ref[len("package://") :].partition("/")
        if not _PACKAGE_NAME.fullmatch(name):
            raise AssetError(f"{urdf}: mesh {ref!r}: {name!r} is not a package name")
        tried = []
        for folder in _package_candidates(name, urdf, package_paths, roots):
            if not folder.is_dir():
                tried.append(folder / rest)
                continue
            # A package is a folder of its own: what it names must stay inside it (or the asset folder).
            target = _inside_package(folder, folder / rest, roots, urdf, ref)
            if target.is_file():
                check_mesh(target, limits, urdf, ref)
                return target
            tried.append(folder / rest)
        listed = ", ".join(str(t) for t in dict.fromkeys(tried))
        above = _named_above(name, urdf, roots)
        where = (
            f"; {above} bears its name but lies above the asset folder and has no package.xml naming it, "
            "so it is not searched"
            if above is not None
            else ""
        )
        raise FileNotFoundError(
            f"{urdf}: mesh {ref!r} not found; tried {listed}{where}. Pass package_paths={{{name!r}: "
            f"'{above or f'/path/to/{name}'}'}} (warplab inspect: --package-path FOLDER) or set ROS_PACKAGE_PATH "
            "if the package lives elsewhere"
        )
    plain = urllib.parse.unquote(ref[len("file://") :]) if ref.startswith("file://") else ref
    target = inside(urdf.parent / plain, roots, urdf, ref)
    check_mesh(target, limits, urdf, ref)
    return target


def _inside_package(
    package: pathlib.Path, path: pathlib.Path, roots: list[pathlib.Path], urdf: pathlib.Path, ref: str
) -> pathlib.Path:
    real = pathlib.Path(os.path.realpath(path))
    for folder in (package, *roots):
        if real.is_relative_to(os.path.realpath(folder)):
            return real
    raise AssetError(
        f"{urdf}: mesh {ref!r} resolves to {real}, outside the asset folder "
        f"({', '.join(str(r) for r in roots)}) and its package {package}; refusing to read it. If you "
        "trust the folder that holds it, pass asset_root= (warplab inspect: --asset-root) a folder that "
        "holds both"
    )
