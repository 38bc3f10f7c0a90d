"""Building scenes: robots from MJCF, URDF or MuJoCo Menagerie described by a ``RobotCfg``, the
project's own robots (``warplab.assets.robots``), and terrain."""

from warplab.assets.menagerie import (
    MenagerieNotCachedError,
    MenagerieNotInstalledError,
    load_menagerie,
    menagerie_names,
    menagerie_robot_cfg,
    menagerie_xml,
)
from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg, build_robot_spec

__all__ = [
    "ActuatorGroupCfg",
    "MenagerieNotCachedError",
    "MenagerieNotInstalledError",
    "RobotCfg",
    "build_robot_spec",
    "load_menagerie",
    "menagerie_names",
    "menagerie_robot_cfg",
    "menagerie_xml",
]
