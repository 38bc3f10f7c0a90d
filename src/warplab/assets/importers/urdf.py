"""URDF files through MuJoCo's own URDF compiler, with the parts it leaves to the user done here.

MuJoCo reads URDF but cannot resolve ``package://`` mesh paths, fixes the root link to the world,
fuses links mounted by ``fixed`` joints into their parents, and adds no actuators (URDF has none).
``load_urdf`` resolves every mesh path to a checked file, chooses a floating or fixed base, keeps
every link as a body, and sets contact defaults; ``RobotCfg.actuators`` (``build_robot_spec``) adds
the actuators.

``package://NAME/path`` is looked up, in order, in ``package_paths`` (``{NAME: folder}``, or folders
that hold a folder ``NAME``), the folders of ``ROS_PACKAGE_PATH``, and the URDF's own ancestors (a
folder named ``NAME``, or with a ``package.xml`` naming it, or holding a folder ``NAME``).
"""

from __future__ import annotations

import os
import pathlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

import mujoco

from warplab.assets.importers.files import (
    DEFAULT_LIMITS,
    AssetError,
    ImportLimits,
    check_mesh,
    inside,
    parse_xml,
)

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
      package_paths: where ``package://`` packages are: ``{name: folder}``, or folders holding them.
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
    ``<inertial>`` values of the file, never computed from geometry.

    Raises:
      FileNotFoundError: the URDF, a mesh or a package is missing (naming every path tried).
      AssetError: broken XML (file and line), a file that is not a URDF, a mesh outside the asset
        folders or over ``limits``, or a model MuJoCo refuses (with its reason).
    """
    path = pathlib.Path(path).absolute()
    robot = parse_xml(path, limits)
    if robot.tag != "robot":
        raise AssetError(f"{path}: not a URDF: the root element is <{robot.tag}>, a URDF's is <robot>")
    roots = [pathlib.Path(asset_root).absolute()] if asset_root is not None else [_home_folder(path)]
    for mesh in robot.iter("mesh"):
        ref = mesh.attrib.get("filename")
        if not ref:
            raise AssetError(f"{path}: a <mesh> without a filename attribute")
        target = _resolve(ref, path, package_paths, roots, limits)
        mesh.attrib["filename"] = str(target)
    links = [link.attrib.get("name") for link in robot.iter("link")]
    for joint in robot.iter("joint"):
        for end in ("parent", "child"):
            named = [e.attrib.get("link") for e in joint.iter(end)]
            if len(named) != 1 or named[0] not in links:
                raise AssetError(
                    f"{path}: joint {joint.attrib.get('name')!r}: {end} link {named[0] if named else None!r} "
                    f"is not a link of this file; its links are {links}"
                )
    children = {c.attrib.get("link") for j in robot.iter("joint") for c in j.iter("child")}
    base = [name for name in links if name not in children]
    if len(base) != 1:
        raise AssetError(f"{path}: a URDF has one root link (a link that is no joint's child); found {base}")
    _set_compiler(robot, discardvisual=not keep_visual, fusestatic=fuse_fixed_links)
    try:
        spec = mujoco.MjSpec.from_string(ET.tostring(robot, encoding="unicode"))
    except ValueError as e:
        # MuJoCo's line numbers count lines of the text rewritten here, not of the user's file.
        reason = re.sub(r",? line \d+", "", str(e).strip())
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
    return spec


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


def _package_candidates(
    name: str, urdf: pathlib.Path, package_paths: Mapping[str, PathLike] | Sequence[PathLike]
) -> list[pathlib.Path]:
    out: list[pathlib.Path] = []
    if isinstance(package_paths, Mapping):
        if name in package_paths:
            out.append(pathlib.Path(package_paths[name]).absolute())
    else:
        out += [pathlib.Path(p).absolute() / name for p in package_paths]
    out += [pathlib.Path(p) / name for p in os.environ.get("ROS_PACKAGE_PATH", "").split(os.pathsep) if p]
    for folder in urdf.parents:
        if folder.name == name or _package_name(folder) == name:
            out.append(folder)
        out.append(folder / name)
    return out


def _resolve(
    ref: str,
    urdf: pathlib.Path,
    package_paths: Mapping[str, PathLike] | Sequence[PathLike],
    roots: list[pathlib.Path],
    limits: ImportLimits,
) -> pathlib.Path:
    if ref.startswith("package://"):
        name, _, rest = ref[len("package://") :].partition("/")
        tried = [(folder, folder / rest) for folder in _package_candidates(name, urdf, package_paths)]
        found = next(((folder, t) for folder, t in tried if t.is_file()), None)
        if found is None:
            listed = "\n  ".join(str(t) for _, t in tried)
            raise FileNotFoundError(
                f"{urdf}: mesh {ref!r} not found; tried\n  {listed}\nPass package_paths={{{name!r}: "
                f"'/path/to/{name}'}} (or set ROS_PACKAGE_PATH) if the package lives elsewhere"
            )
        # A package is a folder of its own: what it names must stay inside it.
        package, found = found
        target = inside(found, [*roots, package], urdf, ref)
    else:
        plain = ref[len("file://") :] if ref.startswith("file://") else ref
        target = inside(urdf.parent / plain, roots, urdf, ref)
    check_mesh(target, limits, urdf, ref)
    return target
