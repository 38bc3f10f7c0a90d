"""MuJoCo Menagerie robots by name, through the ``mujoco-menagerie`` package and its cache.

``pip install "warplab[menagerie]"`` installs that package. It ships the index of every Menagerie
robot (names, categories, entry-point XML files, archive digests) and downloads no robot until one is
used: the first load of a robot fetches its ``.tar.xz`` from the Menagerie GitHub release (or the
mirror in ``MENAGERIE_BASE_URL``), checks it against the digest in the index, and unpacks it into
``<cache>/models/<name>-<oid[:16]>/``, where a ``.complete`` file marks it whole. Later loads read the
cache only, with no network. The cache is ``cache_dir`` where given, else ``MENAGERIE_CACHE_DIR``,
else ``$XDG_CACHE_HOME/mujoco_menagerie`` (``~/.cache/mujoco_menagerie``); ``MENAGERIE_ROOT`` points at
a Menagerie checkout instead, and then no cache is used.

Example::

    spec = load_menagerie("unitree_g1")  # the robot alone: g1.xml
    spec = warplab.assets.menagerie("unitree_g1")  # the same: the module is callable
    robot = menagerie_robot_cfg("unitree_g1", joint_names=..., base_body="pelvis", ...)
"""

from __future__ import annotations

import difflib
import functools
import os
import pathlib
import sys
import types
from typing import Any

import mujoco

from warplab.assets.robot_cfg import RobotCfg

INSTALL_HINT = 'pip install "warplab[menagerie]"'
"""How to install the optional ``mujoco-menagerie`` package."""


class MenagerieNotInstalledError(ImportError):
    """The optional ``mujoco-menagerie`` package is not installed."""


class MenagerieNotCachedError(RuntimeError):
    """A robot is not in the Menagerie cache, and it could not (or was not allowed to) be downloaded."""

    def __init__(self, message: str, name: str, cache_path: pathlib.Path):
        super().__init__(message)
        self.name = name
        """The robot's Menagerie name."""
        self.cache_path = cache_path
        """The directory the robot would occupy in the cache."""


def _package():
    try:
        import mujoco_menagerie
    except ImportError as e:
        raise MenagerieNotInstalledError(
            f"loading MuJoCo Menagerie robots by name needs the mujoco-menagerie package: {INSTALL_HINT} "
            "(or pip install mujoco-menagerie)"
        ) from e
    return mujoco_menagerie


def menagerie_names(category: str | None = None) -> list[str]:
    """Names of the Menagerie robots, sorted; those of one ``category`` (e.g. ``"humanoid"``) if given.

    Reads the index shipped in the package: no download.
    """
    mm = _package()
    return sorted(r.name for r in mm.robots(category))


def _robot(mm, name: str):
    try:
        return mm.get(name)
    except mm.UnknownRobotError:
        names = mm.names()
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        humanoids = ", ".join(r.name for r in mm.robots("humanoid"))
        raise ValueError(
            f"unknown Menagerie robot {name!r}.{hint} Its humanoids: {humanoids}; "
            "menagerie_names() lists all of them."
        ) from None


def menagerie_xml(
    name: str,
    entry: str | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> pathlib.Path:
    """Path of a Menagerie robot's XML file in the cache, downloading the robot on its first use.

    Args:
      name: the robot's Menagerie name, e.g. ``"unitree_g1"`` (``menagerie_names()`` lists them).
      entry: an entry point of the robot (``"g1"``, ``"scene"``, ``"g1_mjx"``...), or an XML file
        relative to its directory (``"g1_mjlab.xml"``); None: the robot alone, without floor or
        lights (the package's ``default_model``; the package's own ``load`` picks the scene instead).
      cache_dir: the cache directory; None: ``MENAGERIE_CACHE_DIR`` or the package's default.
      download: False forbids the network: a robot not in the cache raises at once.

    Raises:
      MenagerieNotInstalledError: the package is missing.
      ValueError: an unknown robot (naming close matches) or entry (naming the robot's entries).
      MenagerieNotCachedError: the robot is not in the cache and could not be downloaded; the message
        names the cache path it looked in.
    """
    mm = _package()
    robot = _robot(mm, name)
    as_file = entry is not None and entry.endswith(".xml")
    if entry is None:
        file = robot.entry(robot.default_model).file
    elif entry in robot.entry_names:
        file = robot.entry(entry).file
    elif as_file:
        file = entry
    else:
        raise ValueError(
            f"Menagerie robot {name!r} has no entry point {entry!r}; its entry points are "
            f"{list(robot.entry_names)} (or give an XML file of its directory, ending in .xml)"
        )
    directory = _robot_dir(mm, robot, mm.Cache(dir=cache_dir), download)
    path = directory / file
    if not path.is_file():
        xmls = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.xml"))
        raise ValueError(
            f"Menagerie robot {name!r} has no file {file!r} in {directory}; its XML files are {xmls}"
        )
    return path


def _robot_dir(mm, robot, cache, download: bool) -> pathlib.Path:
    where = cache.model_path(robot)
    if cache.root is None and not download and not cache.is_cached(robot):
        raise MenagerieNotCachedError(
            f"Menagerie robot {robot.name!r} is not in the cache: looked in {where} (download=False). "
            f"Download it once with the network on (`mujoco-menagerie prefetch {robot.name}`, or load it "
            "with download=True), or point cache_dir / MENAGERIE_CACHE_DIR at a cache that has it.",
            robot.name,
            where,
        )
    try:
        return robot.path(cache)
    except mm.DownloadError as e:
        raise MenagerieNotCachedError(
            f"Menagerie robot {robot.name!r} is not in the cache (looked in {where}) and downloading it "
            f"failed: {e}. A download is needed once, from {cache.base_url} (or a mirror in "
            f"MENAGERIE_BASE_URL); where this machine is offline, run `mujoco-menagerie prefetch "
            f"{robot.name}` on one that is online and copy its cache, or point cache_dir / "
            "MENAGERIE_CACHE_DIR at a cache that has the robot.",
            robot.name,
            where,
        ) from e
    except OSError as e:
        # The package stages a download inside the cache directory; a read-only cache fails here.
        raise MenagerieNotCachedError(
            f"Menagerie robot {robot.name!r} is not in the cache (looked in {where}), and the cache "
            f"directory {cache.dir} cannot take a download: {e}. Point cache_dir / MENAGERIE_CACHE_DIR "
            "at a writable directory, or at a cache that has the robot.",
            robot.name,
            where,
        ) from e


def load_menagerie(
    name: str,
    entry: str | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> mujoco.MjSpec:
    """A Menagerie robot as an editable ``MjSpec``, read from the cache (downloaded on first use).

    Included files, meshes and textures resolve relative to the XML file in the cache, as MuJoCo
    does for any file it reads. Arguments and errors are those of ``menagerie_xml``.
    """
    return mujoco.MjSpec.from_file(str(menagerie_xml(name, entry, cache_dir=cache_dir, download=download)))


def menagerie_robot_cfg(
    name: str,
    entry: str | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
    **fields: Any,
) -> RobotCfg:
    """A ``RobotCfg`` whose model is the Menagerie robot ``name``; ``fields`` are ``RobotCfg``'s.

    Nothing is loaded or downloaded until a task builds the robot (``RobotCfg.spec`` is called).
    Most Menagerie humanoids drive their joints with torque motors; give ``actuators`` and
    ``replace_actuators=True`` for the position actuators that joint-target tasks expect.

    Example::

        G1 = menagerie_robot_cfg(
            "unitree_g1",
            joint_names=(...),  # the actuated joints in action order
            default_joint_pos={".*_knee_joint": 0.3},
            base_body="pelvis",
            feet_bodies=("left_ankle_roll_link", "right_ankle_roll_link"),
            base_height=0.76,
            actuators=(ActuatorGroupCfg(".*", kp=100.0, kd=2.0, effort_limit=88.0),),
            replace_actuators=True,
        )
    """
    fields.setdefault("name", name)
    spec = functools.partial(load_menagerie, name, entry, cache_dir=cache_dir, download=download)
    return RobotCfg(spec=spec, **fields)


class _CallableModule(types.ModuleType):
    """This module, callable: ``warplab.assets.menagerie("unitree_g1")`` is ``load_menagerie("unitree_g1")``.

    The module keeps its attributes (``from warplab.assets.menagerie import menagerie_xml``); calling
    it is the short name of its main function.
    """

    def __call__(
        self,
        name: str,
        entry: str | None = None,
        *,
        cache_dir: str | os.PathLike | None = None,
        download: bool = True,
    ) -> mujoco.MjSpec:
        return load_menagerie(name, entry, cache_dir=cache_dir, download=download)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "INSTALL_HINT",
    "MenagerieNotCachedError",
    "MenagerieNotInstalledError",
    "load_menagerie",
    "menagerie_names",
    "menagerie_robot_cfg",
    "menagerie_xml",
]
