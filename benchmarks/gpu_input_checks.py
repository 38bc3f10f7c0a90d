"""Bad input on a CUDA machine, and a first training run through to its video, in one device call.

The CPU suite cannot build a CUDA env, so these inputs are tried here by hand:

1. a CPU action tensor given to a CUDA env's ``step`` (one line naming both devices);
2. ``warplab train --num-envs 100000000`` (one line naming how many worlds fit, exit 2);
3. ``resolve_device("cuda:7")`` on a one-GPU machine (one line naming the GPUs there are);
4. ``warplab train --video --max-iterations 20`` of the default task as a new user types it:
   the run must write an MP4 that plays (frames, fps) and a checkpoint.

Run on the GPU machine from the project root after the carry calls (imageio-ffmpeg and the EGL
loader libraries carried, see gpu_video_check.sh)::

    python3 benchmarks/gpu_input_checks.py $OUT

Prints one line a check and writes ``input_checks.json`` to the folder given.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys
import time

from warplab.atomic_files import atomic_write_json


def _cli(args: list[str], timeout: float) -> dict:
    """Runs ``python -m warplab.cli.main ARGS`` (the `warplab` command); returns its exit code, last stderr lines and wall time."""
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "warplab.cli.main", *args], capture_output=True, text=True, timeout=timeout
    )
    return {
        "args": args,
        "returncode": done.returncode,
        "stderr_tail": done.stderr.strip().splitlines()[-3:],
        "stdout_tail": done.stdout.strip().splitlines()[-3:],
        "wall_s": round(time.time() - start, 1),
    }


def check_cpu_action_to_cuda_env() -> dict:
    import torch

    import warplab

    env = warplab.make("humanoid-velocity-flat", num_envs=8, device="cuda")
    try:
        env.reset()
        env.step(torch.zeros(env.num_envs, env.action_dim))
    except Exception as error:  # the check is what the user sees: its type and its one line
        message = str(error)
        return {
            "refused": True,
            "type": type(error).__name__,
            "message": message,
            "one_line": "\n" not in message,
        }
    return {"refused": False}


def check_resolve_device() -> dict:
    from warplab.sim.device import DeviceError, resolve_device

    try:
        resolve_device("cuda:7")
    except DeviceError as error:
        return {"refused": True, "message": str(error), "one_line": "\n" not in str(error)}
    return {"refused": False}


def check_first_video_run(out: pathlib.Path) -> dict:
    import imageio.v2 as imageio

    runs = out / "runs"
    result = _cli(["train", "--video", "--max-iterations", "20", "--runs-dir", str(runs)], timeout=420)
    videos = sorted(runs.rglob("*.mp4"))
    result["videos"] = [str(v.relative_to(out)) for v in videos]
    result["checkpoints"] = [str(c.relative_to(out)) for c in sorted(runs.rglob("model_*.pt"))]
    if videos:
        with imageio.get_reader(videos[-1]) as reader:
            meta = reader.get_meta_data()
            frames = [frame for frame in reader]
        result["video"] = {
            "frames": len(frames),
            "fps": meta.get("fps"),
            "duration_s": meta.get("duration"),
            "mean_pixel": float(sum(f.mean() for f in frames) / max(len(frames), 1)),
        }
    return result


def main() -> None:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gpu_input_checks")
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, run in (
        ("cpu_action_to_cuda_env", check_cpu_action_to_cuda_env),
        ("resolve_device_cuda7", check_resolve_device),
        (
            "train_too_many_worlds",
            lambda: _cli(["train", "--num-envs", "100000000", "--max-iterations", "1"], 300),
        ),
        ("first_video_run", lambda: check_first_video_run(out)),
    ):
        if name == "first_video_run" and importlib.util.find_spec("imageio_ffmpeg") is None:
            # The GPU machine lacks it unless its wheel is carried (29 MB: a call of its own).
            results[name] = {"skipped": "imageio-ffmpeg is not installed here"}
            print(f"{name}: skipped (imageio-ffmpeg is not installed here)", flush=True)
            continue
        try:
            results[name] = run()
        except Exception as error:  # record and go on: one broken check must not hide the others
            results[name] = {"crashed": f"{type(error).__name__}: {error}"}
        print(f"{name}: {results[name]}", flush=True)
    atomic_write_json(out / "input_checks.json", results)


if __name__ == "__main__":
    main()
