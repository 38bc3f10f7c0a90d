"""Building scenes: robots from MJCF, URDF, USD or MuJoCo Menagerie described by a ``RobotCfg``, the
project's own robots (``warplab.assets.robots``), terrain, objects, lights and cameras (``Scene``),
props built in code (``warplab.assets.props``: drawers, doors, furniture, containers), and
``inspect_file`` for what a robot file holds."""

from warplab.assets.importers import AssetError, ImportLimits, load_robot, write_usd
from warplab.assets.inspect import inspect_file, inspect_model
from warplab.assets.menagerie import (
    MenagerieNotCachedError,
    MenagerieNotInstalledError,
    load_menagerie,
    menagerie_names,
    menagerie_robot_cfg,
    menagerie_xml,
)
from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg, build_robot_spec
from warplab.assets.scene import CameraCfg, HeightfieldCfg, LightCfg, ObjectCfg, Scene

__all__ = [
    "ActuatorGroupCfg",
    "AssetError",
    "CameraCfg",
    "HeightfieldCfg",
    "ImportLimits",
    "LightCfg",
    "ObjectCfg",
    "Scene",
    "inspect_file",
    "inspect_model",
    "load_robot",
    "menagerie",
    "write_usd",
    "MenagerieNotCachedError",
    "MenagerieNotInstalledError",
    "RobotCfg",
    "build_robot_spec",
    "load_menagerie",
    "menagerie_names",
    "menagerie_robot_cfg",
    "menagerie_xml",
]
