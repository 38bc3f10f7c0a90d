"""``warplab sim2sim``: an exported policy on MuJoCo's C engine, with a JSON report."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import tyro

from warplab.atomic_files import atomic_write_text, check_not_an_input
from warplab.deploy.sim2sim import Sim2SimCfg


@dataclasses.dataclass
class Sim2SimArgs:
    """Run an exported policy (ONNX) on MuJoCo's C engine through warplab.deploy.Policy, as a robot
    would, with sensor latency, observation noise, motor strength and pushes; print the report as
    JSON (docs/deployment.md, "Sim-to-sim")."""

    policy: Path
    """An ONNX file written by `warplab export` (or next to a checkpoint by `warplab train`)."""
    check: Annotated[Sim2SimCfg, tyro.conf.OmitArgPrefixes] = dataclasses.field(default_factory=Sim2SimCfg)
    model: Path | None = None
    """Run in this model (MJCF, URDF or .mjb) instead of the policy's own scene."""
    robot: str | None = None
    """Run on this robot on a flat floor instead: 'humanoid' or a MuJoCo Menagerie name."""
    terrain: str | None = None
    """For a task on generated terrain: one tile of this type instead of its play terrain ('stairs_up',
    'stairs_down', 'rough', 'slope_up', 'slope_down', 'stepping_stones', 'flat'); the robot starts on
    the tile's platform."""
    terrain_difficulty: float = 0.5
    """Difficulty of that tile, in [0, 1] (0.5: 7 cm stair risers)."""
    video: Path | None = None
    """Write an MP4 of the episodes here, 30 frames a second in real time (the renderer is chosen as by
    `warplab play`: EGL or MuJoCo Warp's ray tracer on a GPU, OSMesa on a CPU; docs/training.md)."""
    json_out: Path | None = None
    """Also write the report to this JSON file."""


def sim2sim_command(args: Sim2SimArgs) -> int:
    from warplab.cli.paths import check_writable_file
    from warplab.deploy.sim2sim import run_sim2sim, summary_line

    # Before the episodes run, not when their report or video is written.
    for option, path in (("--video", args.video), ("--json-out", args.json_out)):
        if path is not None:
            check_writable_file(path, option)
            check_not_an_input(path, {"--policy file": args.policy, "--model file": args.model})
    report = run_sim2sim(
        args.policy,
        args.check,
        model=args.model,
        robot=args.robot,
        video=args.video,
        terrain=args.terrain,
        terrain_difficulty=args.terrain_difficulty,
    )
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out is not None:
        atomic_write_text(args.json_out, text + "\n")
    print(f"sim2sim: {summary_line(report)}", flush=True)
    return 0
