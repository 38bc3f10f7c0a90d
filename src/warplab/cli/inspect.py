"""``warplab inspect ROBOT``: what a robot or scene holds, and what in it commonly breaks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import tyro


@dataclasses.dataclass
class InspectArgs:
    """Print the bodies, joints, actuators, sensors, masses and contact pairs of an MJCF, URDF or USD
    file, of one of warplab's robots by name (humanoid, hand, arm, cartpole), or of a MuJoCo Menagerie robot
    already in its cache, and warn about what commonly breaks a simulation: zero or tiny masses,
    missing collision geometry, parts overlapping in the default pose, unlimited joints
    (docs/robots/importing.md)."""

    robot: Annotated[str, tyro.conf.Positional, tyro.conf.arg(metavar="ROBOT")]
    """A robot or scene file (.xml, .urdf, .usd, .usda, .usdc, .usdz), or a name: humanoid, hand, arm, cartpole, or a cached Menagerie robot."""
    floating_base: bool = False
    """URDF: give the root link a free joint (a mobile robot)."""
    package_path: tuple[Path, ...] = ()
    """URDF: folders that are, or hold, the packages of package:// mesh paths (trusted: read anywhere inside)."""
    asset_root: Path | None = None
    """The folder every file the model refers to must lie in (default: the file's folder; a URDF's package)."""
    strict: bool = False
    """Exit with status 1 when there is a warning (for CI checks of robot files)."""


def inspect_command(args: InspectArgs) -> int:
    from warplab.assets.inspect import inspect_robot

    report = inspect_robot(
        args.robot,
        asset_root=args.asset_root,
        floating_base=args.floating_base,
        package_paths=list(args.package_path),
    )
    print(report.text())
    return 1 if args.strict and report.warnings else 0
