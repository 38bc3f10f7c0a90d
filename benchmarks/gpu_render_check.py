"""Which renderers draw on this machine, and what their frames look like: no video encoder needed.

For each task's scene and each renderer (``auto``, ``egl``, ``osmesa``, ``warp``) it draws a few
frames of the robot in its start pose, prints the renderer ``auto`` chose, the mean pixel (0-255),
the share of pixels the robot changes (against the same view with the robot moved far away) and
the time a frame took, and writes the first frame of each as a PNG. Run with ``MUJOCO_GL`` unset,
as a user's machine has it:

    python3 benchmarks/gpu_render_check.py --device cuda:0 --out OUT

On the lent GPU machine, whose EGL loader libraries must be carried (/work/.library/device/README.md),
this is the check that videos render there (EGL, else MuJoCo Warp's ray tracer).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--task", nargs="+", default=["cartpole-balance", "humanoid-velocity-flat"])
    parser.add_argument("--renderer", nargs="+", default=["auto", "egl", "osmesa", "warp"])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("render_check"))
    args = parser.parse_args()

    from PIL import Image

    from warplab.atomic_files import atomic_path, atomic_write_json
    from warplab.tasks import make_env_cfg
    from warplab.viz import RenderError, choose_renderer, render_frames

    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for task in args.task:
        cfg = make_env_cfg(task, play=True)
        spec_or_model = cfg.scene()
        model = spec_or_model.compile() if hasattr(spec_or_model, "compile") else spec_or_model
        qpos = np.repeat(model.qpos0[None], args.frames, axis=0)
        away = qpos.copy()
        # The robot moved far out of view (its first free joint or first coordinate), for contrast.
        away[:, 0] += 1e3
        view = cfg.viewer
        for renderer in args.renderer:
            row = {"task": task, "renderer": renderer}
            try:
                row["chosen"] = choose_renderer(args.device, renderer)
                start = time.perf_counter()
                frames = render_frames(
                    model,
                    qpos,
                    640,
                    480,
                    view.track_body,
                    view.distance,
                    view.elevation,
                    view.azimuth,
                    device=args.device,
                    renderer=renderer,
                )
                row["s_per_frame"] = round((time.perf_counter() - start) / len(frames), 4)
                background = render_frames(
                    model,
                    away[:1],
                    640,
                    480,
                    None,
                    view.distance,
                    view.elevation,
                    view.azimuth,
                    device=args.device,
                    renderer=renderer,
                )[0]
                first = frames[0]
                row["mean_pixel"] = round(float(first.mean()), 1)
                row["robot_pixels_share"] = round(
                    float((np.abs(first.astype(int) - background).sum(-1) > 30).mean()), 3
                )
                with atomic_path(args.out / f"{task}_{renderer}.png") as tmp:
                    Image.fromarray(first).save(tmp)
            except (RenderError, ValueError) as error:
                row["error"] = str(error)
            rows.append(row)
            print(json.dumps(row), flush=True)
    atomic_write_json(args.out / "render_check.json", rows)
    print(
        "\n".join(
            f"{r['task']:<24} {r['renderer']:<7} -> {r.get('chosen', '-'):<7} "
            f"{r.get('mean_pixel', r.get('error', ''))}"
            for r in rows
        )
    )


if __name__ == "__main__":
    main()
