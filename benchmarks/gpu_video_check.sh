#!/usr/bin/env bash
# Videos on a GPU machine, in one call: trains cartpole-balance on CUDA for a few iterations, then
# `warplab play`s it with each renderer (auto, egl, warp) and plays the stored humanoid policy
# (benchmarks/results) with auto and warp. For each video it prints which renderer drew it, the
# frames, the frame rate and duration the MP4 declares, the mean pixel (0-255) and the wall time;
# it writes the videos and frames.png (the first frame of each, side by side) to OUT.
#
#   bash benchmarks/gpu_video_check.sh OUT            # DEVICE=cpu to try it on a CPU
#
# On the lent GPU machine, which lacks PyOpenGL (MuJoCo's EGL context needs it), imageio-ffmpeg and
# the EGL loader libraries, prepare once here (imageio-ffmpeg 0.6.0's wheel is 29 MB, 0.8.1's 68 MB):
#   mkdir -p .carry-vid && pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --platform manylinux2014_x86_64 -d .carry-vid pyopengl==3.1.10 imageio-ffmpeg==0.6.0
# and the EGL packages into .gl/ (/work/.library/device/README.md), then call back to back:
#   call 1: carry [".carry-1"], command: true
#   call 2: carry [".carry-2"], command: . .carry-2/install.sh
#   call 3: carry [".carry-vid", ".gl"], command:
#     for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; \
#     pip install -q --no-index --no-deps --target /tmp/site-vid .carry-vid/*.whl && \
#     PYTHONPATH=/tmp/site:/tmp/site-vid:$PWD/src bash benchmarks/gpu_video_check.sh $OUT
# Without the .gl step EGL is missing and `auto` falls back to MuJoCo Warp's ray tracer on the GPU.
set -euo pipefail
OUT=${1:-/tmp/gpu_video_check}
DEVICE=${DEVICE:-cuda}
HUMANOID=${HUMANOID:-1}
mkdir -p "$OUT"
unset MUJOCO_GL PYOPENGL_PLATFORM
python3 - "$OUT" "$DEVICE" "$HUMANOID" <<'PY'
import pathlib
import sys
import time

import imageio.v2 as imageio
import numpy as np

from warplab.cli.commands import PlayArgs, TrainArgs, play_command, train_command
from warplab.viz import RenderError, choose_renderer

out, device, humanoid = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
root = pathlib.Path.cwd()
t0 = time.time()
runs = out / "runs"
train_command(TrainArgs(task="cartpole-balance", device=device, max_iterations=10, runs_dir=runs), [])
(cartpole,) = runs.glob("cartpole-balance/*/model_10.pt")
print(f"trained in {time.time() - t0:.0f} s", flush=True)

plays = [("cartpole", cartpole, renderer) for renderer in ("auto", "egl", "warp")]
if humanoid:
    stored = root / "benchmarks" / "results" / "humanoid_velocity_flat_4096_h100_policy.pt"
    plays += [("humanoid", stored, renderer) for renderer in ("auto", "warp")]
firsts, lines = [], []
for name, checkpoint, renderer in plays:
    video = out / f"{name}_{renderer}.mp4"
    start = time.time()
    try:
        drawn_by = choose_renderer(device, renderer)
        play_command(PlayArgs(checkpoint=checkpoint, device=device, video=video, seconds=4.0, renderer=renderer), [])
    except RenderError as error:
        lines.append(f"{name} {renderer}: RenderError: {error}")
        print(lines[-1], flush=True)
        continue
    with imageio.get_reader(video) as reader:
        meta = reader.get_meta_data()
        frames = [frame for frame in reader]
    firsts.append(frames[len(frames) // 2][::2, ::2])
    lines.append(
        f"{name} {renderer}: drawn by {drawn_by}; {len(frames)} frames, {meta['fps']:g} fps, "
        f"{meta['duration']:.2f} s, mean pixel {np.mean(frames):.1f}, {time.time() - start:.1f} s wall"
    )
    print(lines[-1], flush=True)
if firsts:
    imageio.imwrite(out / "frames.png", np.concatenate(firsts, axis=1))
print("\n".join(["summary:", *lines]))
PY
