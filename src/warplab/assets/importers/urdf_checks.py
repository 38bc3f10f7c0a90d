"""What a URDF must hold before MuJoCo's URDF compiler sees it, checked in the file's own terms.

MuJoCo's URDF compiler turns a joint whose ``lower`` is above its ``upper`` (or whose limit is NaN)
into an unlimited joint, keeps the first of two joints of one name, takes a NaN origin, axis,
effort or damping, and reports a cycle as "URDF body not found". ``check_urdf`` refuses each of
these with one line that names the file, the link or joint, the attribute and its value.
"""

from __future__ import annotations

import math
import pathlib
import warnings
import xml.etree.ElementTree as ET
from typing import overload

import numpy as np

from warplab.assets.importers.files import AssetError

JOINT_TYPES = ("revolute", "continuous", "prismatic", "fixed", "floating", "planar")
"""The joint types of the URDF specification."""

_MOVING = ("revolute", "continuous", "prismatic", "floating", "planar")


class _Checker:
    def __init__(self, path: pathlib.Path, balance_inertia: bool):
        self.path = path
        self.balance_inertia = balance_inertia
        """The URDF asks MuJoCo to round inertias that break the triangle inequality."""
        self.dropped: list[str] = []
        """Links whose ``<visual>`` of size 0 was removed."""

    def fail(self, where: str, message: str) -> AssetError:
        return AssetError(f"{self.path}: {where}: {message}")

    def numbers(
        self, element: ET.Element, attr: str, where: str, count: int, default: str | None = None
    ) -> list[float]:
        """``count`` finite floats from ``element``'s attribute ``attr`` (``default`` where it is absent)."""
        text = element.attrib.get(attr, default)
        tag = f"<{element.tag} {attr}={text!r}>"
        if text is None:
            raise self.fail(where, f"<{element.tag}> has no {attr} attribute")
        try:
            values = [float(v) for v in text.split()]
        except ValueError:
            raise self.fail(
                where, f"{tag} is not {'a number' if count == 1 else f'{count} numbers'}"
            ) from None
        if len(values) != count:
            raise self.fail(where, f"{tag} holds {len(values)} numbers, not {count}")
        if not all(math.isfinite(v) for v in values):
            raise self.fail(where, f"{tag} is not finite; give a real value")
        return values

    # With a default the attribute always yields a number; without one an absent attribute is None.
    @overload
    def number(
        self,
        element: ET.Element,
        attr: str,
        where: str,
        default: str,
        minimum: float | None = None,
        why: str = "",
    ) -> float: ...

    @overload
    def number(
        self,
        element: ET.Element,
        attr: str,
        where: str,
        default: None = None,
        minimum: float | None = None,
        why: str = "",
    ) -> float | None: ...

    def number(
        self,
        element: ET.Element,
        attr: str,
        where: str,
        default: str | None = None,
        minimum: float | None = None,
        why: str = "",
    ) -> float | None:
        """One finite float from ``element``'s attribute ``attr``; None when absent and no ``default``."""
        if attr not in element.attrib and default is None:
            return None
        (value,) = self.numbers(element, attr, where, 1, default)
        if minimum is not None and value < minimum:
            raise self.fail(
                where, f"<{element.tag} {attr}={element.attrib[attr]!r}> is below {minimum:g}; {why}"
            )
        return value


def check_urdf(robot: ET.Element, path: pathlib.Path) -> tuple[list[str], str]:
    """Checks names, the tree and the numbers of a URDF's ``<robot>`` element.

    A ``<visual>`` whose box, cylinder or sphere has a size of 0 draws nothing and MuJoCo refuses it:
    it is removed from ``robot``, and a warning names its links.

    Returns:
      The link names in file order, and the root link (the link that is no joint's child).

    Raises:
      AssetError: naming the file and the link or joint at fault, the attribute and its value.
    """
    compiler = robot.find("mujoco/compiler")
    c = _Checker(path, compiler is not None and compiler.attrib.get("balanceinertia") == "true")
    links = _unique_names(c, robot, "link")
    if not links:
        raise AssetError(f"{path}: no <link> in <robot>; a URDF robot has at least one link")
    joints = _unique_names(c, robot, "joint")
    parent_of: dict[str, tuple[str, ET.Element]] = {}
    for joint, name in zip(robot.findall("joint"), joints, strict=True):
        where = f"joint {name!r}"
        kind = joint.attrib.get("type")
        if kind not in JOINT_TYPES:
            raise c.fail(
                where, f"type {kind!r} is not a URDF joint type; use one of {', '.join(JOINT_TYPES)}"
            )
        ends = {}
        for end in ("parent", "child"):
            named = [e.attrib.get("link") for e in joint.findall(end)]
            if len(named) != 1 or named[0] not in links:
                raise c.fail(
                    where,
                    f"{end} link {named[0] if named else None!r} is not a link of this file; its links are {links}",
                )
            ends[end] = named[0]
        if ends["parent"] == ends["child"]:
            raise c.fail(where, f"joins link {ends['child']!r} to itself")
        if ends["child"] in parent_of:
            raise c.fail(
                where,
                f"link {ends['child']!r} is already the child of joint {parent_of[ends['child']][1].attrib['name']!r}; "
                "a link has one parent (URDF is a tree; close a loop with an equality constraint instead)",
            )
        parent_of[ends["child"]] = (ends["parent"], joint)
        _check_joint(c, joint, where, kind)
    roots = [name for name in links if name not in parent_of]
    if len(roots) != 1:
        if not roots:
            raise c.fail(
                "links", "every link is some joint's child: the joints form a cycle; a URDF is a tree"
            )
        raise AssetError(f"{path}: a URDF has one root link (a link that is no joint's child); found {roots}")
    _check_cycles(c, links, parent_of)
    for link, name in zip(robot.findall("link"), links, strict=True):
        _check_link(c, link, f"link {name!r}")
    if c.dropped:
        warnings.warn(
            f"{path}: <visual> of size 0 (it draws nothing) left out in links {sorted(set(c.dropped))}",
            stacklevel=3,
        )
    _check_moving_mass(c, robot, links, parent_of)
    return links, roots[0]


def _unique_names(c: _Checker, robot: ET.Element, tag: str) -> list[str]:
    names: list[str] = []
    for i, element in enumerate(robot.findall(tag)):
        name = element.attrib.get("name")
        if not name:
            raise c.fail(f"<{tag}> #{i + 1}", "has no name attribute")
        if name in names:
            raise c.fail(f"{tag} {name!r}", f"the name is given twice; {tag} names must be unique")
        names.append(name)
    return names


def _check_cycles(c: _Checker, links: list[str], parent_of: dict) -> None:
    for start in links:
        seen, link = {start}, start
        while link in parent_of:
            link = parent_of[link][0]
            if link in seen:
                raise c.fail(
                    f"link {start!r}", "its chain of parent joints loops back on itself; a URDF is a tree"
                )
            seen.add(link)


def _origin(c: _Checker, element: ET.Element, where: str) -> None:
    for origin in element.findall("origin"):
        c.numbers(origin, "xyz", where, 3, "0 0 0")
        c.numbers(origin, "rpy", where, 3, "0 0 0")


def _check_joint(c: _Checker, joint: ET.Element, where: str, kind: str) -> None:
    _origin(c, joint, where)
    for axis in joint.findall("axis"):
        xyz = c.numbers(axis, "xyz", where, 3, "1 0 0")
        if kind != "fixed" and np.linalg.norm(xyz) < 1e-9:
            raise c.fail(
                where, f"<axis xyz={axis.attrib.get('xyz')!r}> has zero length; give the joint's axis"
            )
    for limit in joint.findall("limit"):
        lower = c.number(limit, "lower", where, default="0")
        upper = c.number(limit, "upper", where, default="0")
        if kind in ("revolute", "prismatic") and lower > upper:
            raise c.fail(
                where,
                f"<limit lower={limit.attrib.get('lower', '0')!r} upper={limit.attrib.get('upper', '0')!r}>: "
                "lower is above upper (MuJoCo would make the joint unlimited); give lower < upper",
            )
        for attr in ("effort", "velocity"):
            c.number(limit, attr, where, minimum=0, why=f"a joint's {attr} limit is a magnitude, at least 0")
    for dynamics in joint.findall("dynamics"):
        for attr in ("damping", "friction"):
            c.number(dynamics, attr, where, minimum=0, why="a negative value feeds energy into the joint")
    for mimic in joint.findall("mimic"):
        for attr in ("multiplier", "offset"):
            c.number(mimic, attr, where)
    for safety in joint.findall("safety_controller"):
        for attr in ("soft_lower_limit", "soft_upper_limit", "k_position", "k_velocity"):
            c.number(safety, attr, where)


def _check_link(c: _Checker, link: ET.Element, where: str) -> None:
    for inertial in link.findall("inertial"):
        _origin(c, inertial, where)
        for mass in inertial.findall("mass"):
            c.number(mass, "value", where, default=None, minimum=0, why="a mass is at least 0 kg")
        for inertia in inertial.findall("inertia"):
            names = ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")
            ixx, ixy, ixz, iyy, iyz, izz = (c.numbers(inertia, n, where, 1, "0")[0] for n in names)
            matrix = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
            moments = np.linalg.eigvalsh(matrix)
            scale = max(float(np.abs(matrix).max()), 1e-300)
            given = " ".join(f"{n}={inertia.attrib.get(n, '0')}" for n in names)
            if moments[0] < -1e-9 * scale:
                raise c.fail(
                    where,
                    f"<inertia {given}> is not positive semi-definite (principal moments "
                    f"{', '.join(f'{m:.3g}' for m in moments)} kg·m²); check its signs and off-diagonal terms",
                )
            a, b, cc = sorted(max(m, 0.0) for m in moments)
            if a + b < cc * (1 - 1e-6) and not c.balance_inertia:
                raise c.fail(
                    where,
                    f"<inertia {given}>: principal moments {a:.3g}, {b:.3g}, {cc:.3g} kg·m² break the triangle "
                    "inequality (no rigid body has them: the two smaller must add up to the largest); fix "
                    'it, or let MuJoCo round it: <mujoco><compiler balanceinertia="true"/></mujoco>',
                )
    for part in ("visual", "collision"):
        for element in list(link.findall(part)):
            _origin(c, element, where)
            for geometry in element.findall("geometry"):
                if _check_geometry(c, geometry, f"{where} <{part}>", visual=part == "visual"):
                    # A shape of size 0 draws nothing, and MuJoCo refuses it ("size 0 must be
                    # positive"): robots ship such placeholders (Laikago's toe spheres of radius 0).
                    link.remove(element)
                    c.dropped.append(link.attrib["name"])
                    break


def _check_geometry(c: _Checker, geometry: ET.Element, where: str, visual: bool = False) -> bool:
    """Raises for a size that is not a positive, finite length; returns True for a ``visual`` shape
    of size 0 (to be dropped)."""
    sizes = {"box": (("size", 3),), "cylinder": (("radius", 1), ("length", 1)), "sphere": (("radius", 1),)}
    empty = False
    for shape in geometry:
        if shape.tag == "mesh":
            if "scale" in shape.attrib and 0 in c.numbers(shape, "scale", where, 3):
                raise c.fail(where, f"<mesh scale={shape.attrib['scale']!r}> flattens the mesh to nothing")
        for attr, count in sizes.get(shape.tag, ()):
            values = c.numbers(shape, attr, where, count)
            if visual and min(values) == 0:
                empty = True
            elif min(values) <= 0:
                raise c.fail(
                    where, f"<{shape.tag} {attr}={shape.attrib[attr]!r}>: sizes must be positive, in m"
                )
    return empty


def _check_moving_mass(c: _Checker, robot: ET.Element, links: list[str], parent_of: dict) -> None:
    # MuJoCo needs mass on every body that moves; links fixed to it count with it. A link without
    # <inertial> takes its mass from its collision geometry.
    elements = dict(zip(links, robot.findall("link"), strict=True))

    def has_mass(name: str) -> bool:
        inertial = elements[name].find("inertial")
        if inertial is None:
            return elements[name].find("collision") is not None
        mass = inertial.find("mass")
        return mass is not None and float(mass.attrib.get("value", "0")) > 0

    welded: dict[str, list[str]] = {name: [] for name in links}
    for child, (parent, joint) in parent_of.items():
        if joint.attrib["type"] == "fixed":
            welded[parent].append(child)
    for child, (_, joint) in parent_of.items():
        if joint.attrib["type"] not in _MOVING:
            continue
        group, stack = [], [child]
        while stack:
            group.append(stack.pop())
            stack += welded[group[-1]]
        if not any(has_mass(name) for name in group):
            raise c.fail(
                f"link {child!r}",
                f"moves on joint {joint.attrib['name']!r} but has no mass (its <inertial> mass is 0 or missing, "
                "and no link fixed to it has any); give it its real <inertial>",
            )
