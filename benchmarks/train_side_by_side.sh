#!/usr/bin/env bash
# Several trainings at once on one GPU, in one device call, their outputs in one tarball.
#
#   . .carry-2/install.sh && bash benchmarks/train_side_by_side.sh 7.5 humanoid-getup humanoid-push-recovery
#
# Arguments: the minutes each run trains (start-up included; train_task.py's --minutes), then the
# tasks. Each task trains with benchmarks/train_task.py at 4,096 worlds (WORLDS=... to change) into
# $OUT/side_by_side/<task>/ and is evaluated there by train_task's evaluators for that task (push
# survival up to 3 m/s, getting up, terrain); EXTRA="..." is passed to every run (e.g.
# EXTRA="--env-set graph_step false"). All runs share the GPU: their steps per second are not the
# card's alone, say so wherever they are reported.
#
# Why a script: a device call returns at most 8 files (everything is tarred into
# $OUT/side_by_side.tgz), and waiting on background runs with `pgrep -f <name>` matches the waiting
# shell's own command line (it holds the same name) and never ends; `wait` on the PIDs does not.
# Evaluation time comes on top of the minutes: leave the call 1.5-2 minutes for it.
set -u
if [ $# -lt 2 ]; then
  echo "usage: train_side_by_side.sh MINUTES TASK [TASK ...]" >&2
  exit 2
fi
minutes=$1
shift
OUT=${OUT:-out}
work="$OUT/side_by_side"
mkdir -p "$work"
export MUJOCO_GL=${MUJOCO_GL:-disable}
pids=()
for task in "$@"; do
  mkdir -p "$work/$task"
  # shellcheck disable=SC2086  # EXTRA is a list of options
  python3 benchmarks/train_task.py --task "$task" --num-envs "${WORLDS:-4096}" --minutes "$minutes" \
    --out "$work/$task" ${EXTRA:-} > "$work/$task/log.txt" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { status=1; echo "run ${i} exited with an error: see its log.txt" >&2; }
done
for task in "$@"; do
  echo "== $task"
  python3 - "$work/$task" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
if (out / "train.json").is_file():
    t = json.loads((out / "train.json").read_text())
    final = t.get("final") or {}
    keys = ("startup_s", "train_wall_s", "iterations", "mean_collect_steps_per_s", "mean_total_steps_per_s")
    print({k: t.get(k) for k in keys} | {"final_return": final.get("return")})
if (out / "eval.json").is_file():
    print(json.dumps(json.loads((out / "eval.json").read_text()))[:1500])
PY
done
tar czf "$OUT/side_by_side.tgz" -C "$OUT" side_by_side && rm -rf "$work"
exit $status
