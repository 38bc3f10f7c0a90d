"""``warplab inspect FILE``: what a robot or scene file holds, and what in it commonly breaks."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import tyro


@dataclasses.dataclass
class InspectArgs:
    """Print the bodies, joints, actuators, sensors, masses and contact pairs of an MJCF, URDF or USD
    file, and warn about what commonly breaks a simulation: zero or tiny masses, missing collision
    geometry, parts overlapping in the default pose, unlimited joints (docs/robots/importing.md)."""

    file: Annotated[Path, tyro.conf.Positional]
    """The robot or scene file (.xml, .urdf, .usd, .usda, .usdc, .usdz)."""
    floating_base: bool = False
    """URDF: give the root link a free joint (a mobile robot)."""
    package_path: tuple[Path, ...] = ()
    """URDF: folders that hold the packages named by package:// mesh paths."""
    asset_root: Path | None = None
    """The folder every file the model refers to must lie in (default: the file's own folder or package)."""
    strict: bool = False
    """Exit with status 1 when there is a warning (for CI checks of robot files)."""


def inspect_command(args: InspectArgs) -> int:
    from warplab.assets.importers import file_format
    from warplab.assets.inspect import inspect_file

    options: dict = {"asset_root": args.asset_root}
    if file_format(args.file) == "urdf":
        options.update(floating_base=args.floating_base, package_paths=list(args.package_path))
    elif args.floating_base or args.package_path:
        raise ValueError("--floating-base and --package-path apply to URDF files only")
    report = inspect_file(args.file, **options)
    print(report.text())
    return 1 if args.strict and report.warnings else 0
