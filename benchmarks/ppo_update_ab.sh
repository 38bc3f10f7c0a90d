#!/usr/bin/env bash
# Issue 5, NOTES.md attempt 3: the PPO iteration with the update that syncs with the host (before
# 767629e) and without (now), and without plus TF32 matmuls, in one device call on one card.
#
# On the development machine (it needs git), once:
#
#   bash benchmarks/ppo_update_ab.sh --prepare
#
# writes .carry-ppo-baseline/src: today's src/ with src/warplab/rl/{ppo,storage,runner}.py as they
# were before 767629e, so only the update differs. Then, on the GPU machine, carrying .carry-2 and
# .carry-ppo-baseline:
#
#   . .carry-2/install.sh && bash benchmarks/ppo_update_ab.sh
#
# runs the CUDA tests of warplab.rl (the update under sync debug mode 'error'), then `warplab bench`
# five times, new / old / new+TF32 / old / new, so drift of the card shows as a difference between
# the repeats. Results: $OUT/ppo_ab/*.json and summary.txt. TASK, NUM_ENVS, STEPS, DEVICE override
# the defaults (humanoid-velocity-flat, 4096, 240: 10 PPO iterations, auto).
set -u
BASELINE=.carry-ppo-baseline
if [ "${1:-}" = "--prepare" ]; then
  rm -rf "$BASELINE" && mkdir -p "$BASELINE" && cp -r src "$BASELINE/"
  find "$BASELINE" -name __pycache__ -prune -exec rm -rf {} +
  for name in ppo storage runner; do
    git show "767629e^:src/warplab/rl/$name.py" > "$BASELINE/src/warplab/rl/$name.py" || exit 1
  done
  echo "wrote $BASELINE/src ($(du -sh "$BASELINE" | cut -f1))"
  exit 0
fi
[ -d "$BASELINE/src/warplab" ] || { echo "no $BASELINE/src: run with --prepare first and carry it" >&2; exit 2; }

OUT=${OUT:-out}
work="$OUT/ppo_ab"
mkdir -p "$work"
export MUJOCO_GL=disable
TASK=${TASK:-humanoid-velocity-flat}
NUM_ENVS=${NUM_ENVS:-4096}
STEPS=${STEPS:-240}
DEVICE=${DEVICE:-auto}

echo "== CUDA tests of warplab.rl" | tee -a "$work/summary.txt"
timeout 180 python3 -m pytest tests/rl/test_cuda.py -m gpu -q -p no:cacheprovider > "$work/tests.txt" 2>&1
tail -n 5 "$work/tests.txt" | tee -a "$work/summary.txt"

run() {  # run <label> <PYTHONPATH prefix or ''> [bench flags...]
  local label=$1 path=$2
  shift 2
  PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}" timeout 240 python3 -c \
    'import warplab.rl.ppo as m, sys; print(m.__file__, "device rate:", hasattr(m, "adapt_learning_rate_"))' \
    > "$work/$label.txt" 2>&1
  PYTHONPATH="$path${PYTHONPATH:+:$PYTHONPATH}" timeout 240 python3 -m warplab.bench --task "$TASK" \
    --num-envs "$NUM_ENVS" --steps "$STEPS" --device "$DEVICE" --json "$work/$label.json" "$@" \
    >> "$work/$label.txt" 2>&1
  python3 - "$work/$label.json" "$label" "$(head -n 1 "$work/$label.txt")" <<'EOF' | tee -a "$work/summary.txt"
import json, sys
path, label, module = sys.argv[1:4]
try:
    row = json.load(open(path))["rows"][0]
except (OSError, ValueError, KeyError, IndexError) as error:
    print(f"{label}: no result ({error})")
    raise SystemExit
print(
    f"{label:10s} env {row['env_steps_per_s_random']:9.0f}/s  ppo {row['ppo_env_steps_per_s']:9.0f}/s  "
    f"ppo/env {row['ppo_over_env']:.3f}  collection {1e3 * row['ppo_collection_s_per_iteration']:6.1f} ms  "
    f"learning {1e3 * row['ppo_learning_s_per_iteration']:6.1f} ms  [{module}]"
)
EOF
}

echo "== $TASK x $NUM_ENVS, --steps $STEPS" | tee -a "$work/summary.txt"
run new1 "" --tf32-matmul off
run old1 "$BASELINE/src" --tf32-matmul off
run tf32 "" --tf32-matmul on
run old2 "$BASELINE/src" --tf32-matmul off
run new2 "" --tf32-matmul off
