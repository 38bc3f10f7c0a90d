#!/usr/bin/env bash
# The CUDA-only checks, in one device call, their outputs in one tarball ($OUT/checks.tgz: a call
# returns at most 8 files). Run on the GPU machine from the project root, after the carry calls:
#
#   . .carry-2/install.sh && bash benchmarks/gpu_checks.sh
#
# Sections, in the order they run:
#   warmup    a tiny bench that fills the kernel cache (so the timeouts below are not spent compiling);
#   warmup_manip  the same for the manipulation tasks: a tiny bench of WARMUP_MANIP_TASKS (default arm-lift
#             arm-open-drawer), so that a later call's bench or training of them does not spend its
#             time compiling (arm-lift's cold bench at 8,192 worlds printed nothing in 245 s on an H100);
#   bench     (group `second`) warplab bench of humanoid-velocity-flat at 4,096 and 8,192 worlds:
#             managers plain and compiled (RlEnvCfg.compile_managers), each row's PPO iterations
#             with the update plain and as a CUDA graph (PpoCfg.graph_update); the task's own reset
#             forward (positions/velocities); about 8 minutes with a warm cache;
#   bench_v5  (group `v5`) the same for Humanoid-v5;
#   rough     humanoid-velocity-rough at 4,096 worlds: bench (raw against env) and profile_step.py;
#   tests     the GPU tests: the captured env step against the eager one, PPO and SAC/TD3 on CUDA (graphed
#             update included);
#   graph     benchmarks/graph_check.py on the randomized, push and rough tasks;
#   baseline  rough's eager-vs-eager floor (two eager envs from one state);
#   compiled  the captured step with compiled managers against the plain eager one;
#   compiled_bench  (group `fast`) humanoid-velocity-flat and Humanoid-v5 at 4,096 and 8,192 worlds
#             with compiled managers only, PPO update plain and graphed (about 6 minutes);
#   ab        humanoid-velocity-flat at 4,096 and 8,192 worlds in the default config, reset_forward
#             positions_velocities against none in one process, twice; then the PPO update in FP32
#             (TF32 off) at 4,096, and benchmarks/graph_kernels.py (the default step's kernels beyond the
#             physics); about 5 minutes;
#   tf32_learning  humanoid-velocity-flat trained 2.5 minutes with and without TF32 matmuls in the
#             PPO update (same seed): returns at equal iterations and the evaluations (about 7 min);
#   warmstart short trainings of humanoid-velocity-flat in the default config (managers compiled on
#             CUDA), one after the other: from the second on, the warm start with Inductor's and
#             Triton's caches full;
#             then plain managers, and a cProfile top list of a compiled start (startup_compiled.txt);
#             with a Python bytecode cache (PYTHONPYCACHEPREFIX) unless WARMSTART_PYCACHE=0;
#   memory    device memory of humanoid-velocity-flat at 4,096 worlds in the default config: over 10 M
#             env steps of the bench, and every iteration of a 3-minute training;
#   base_ab   the session's starting commit against the working tree: `warplab bench` of AB_TASKS
#             (default humanoid-velocity-flat) at AB_WORLDS (default 4096 8192), the bench's default
#             200 steps, each version in its own process (AB_RUNS, default "base tree base2": a run
#             named tree* uses ./src, mid* .mid/src, any other the base), the base's
#             sources from BASE_SRC (default .base/src: `git archive <commit> src | tar -x -C .base`,
#             carried); about 3 minutes a process with Warp's cache warm (AB_TIMEOUT, default 280 s, bounds each);
#   kernels_ab benchmarks/graph_kernels.py of KA_TASK (default Humanoid-v5) at KA_WORLDS (default 8,192)
#             for each of KA_RUNS (default "base tree"): tree* runs the tree, mid* .mid, others .base,
#             each with its own version's script (carry it: see the section); where a step's time goes;
#   sac_bench SAC's throughput (issue 20): warplab bench --algo sac of SAC_TASKS (default Humanoid-v5
#             humanoid-velocity-flat) at 1,024 and 4,096 worlds, the update as the task's agent sets it,
#             then with sac.bf16_autocast=True, then with sac.compile_networks=True (SAC_VARIANTS picks;
#             each in its own process, SAC_TIMEOUT bounds each, default 200 s); then
#             benchmarks/profile_sac_update.py on Humanoid-v5 at 4,096 (ms an update, its kernels);
#   bg_train  starts a train_task.py training of BG_TASK (default humanoid-getup) with BG_WORLDS
#             worlds (default 4,096) for BG_MINUTES (default 9.3), detached from the call (setsid), so
#             it runs on across the next calls while the machine stays warm; BG_ARGS adds options
#             (e.g. "--init-from FILE"); output in /tmp/bg/train. Only correctness checks and carry
#             calls belong beside it (it shares the GPU);
#   bg_wait   waits for that training (and its evaluation) to end and packs it into $OUT/bg_train.tgz.
# Groups: first = warmup tests graph baseline (about 7 min cold), second = bench, v5 = bench_v5,
# third = compiled, all = everything (over 10 minutes: split it into calls). Each call returns its
# own checks.tgz. Memory over 10 M env steps was measured flat on 2026-11-25 (`--memory-env-steps
# 10000000` on a bench to repeat it). Example: `gpu_checks.sh warmup bench`.
set -u
OUT=${OUT:-out}
work="$OUT/checks"
mkdir -p "$work"
export MUJOCO_GL=disable
# The sections to run: each argument is a section or a group of them.
sections=" "
for part in "${@:-all}"; do
  case "$part" in
    all) sections+="warmup tests graph baseline bench bench_v5 rough compiled " ;;
    first) sections+="warmup tests graph baseline " ;;
    second) sections+="bench " ;;
    v5) sections+="bench_v5 " ;;
    third) sections+="compiled " ;;
    fast) sections+="compiled_bench " ;;
    warmup | warmup_manip | tests | graph | baseline | bench | bench_v5 | rough | compiled | compiled_bench | ab | tf32_learning | warmstart | memory | base_ab | kernels_ab | sac_bench | bg_train | bg_wait)
      sections+="$part " ;;
    *) echo "gpu_checks.sh: unknown section '$part' (warmup warmup_manip tests graph baseline bench bench_v5 rough compiled compiled_bench ab tf32_learning warmstart memory base_ab kernels_ab sac_bench bg_train bg_wait, or first second third fast all)" >&2; exit 2 ;;
  esac
done
wants() { [[ "$sections" == *" $1 "* ]]; }
section() { echo "== $1" | tee -a "$work/summary.txt"; }

if wants bg_train; then
section "${BG_TASK:-humanoid-getup} training started in the background (${BG_MINUTES:-9.3} min)"
mkdir -p /tmp/bg/train
# setsid puts the run in a session of its own, so it outlives this call; the shell records its PID
# before exec-ing Python, so bg_wait can wait on exactly that process.
BG_TASK=${BG_TASK:-humanoid-getup} BG_MINUTES=${BG_MINUTES:-9.3} BG_ARGS=${BG_ARGS:-} BG_WORLDS=${BG_WORLDS:-4096} \
  setsid bash -c 'echo $$ > /tmp/bg/train.pid; exec python3 benchmarks/train_task.py --task "$BG_TASK" \
  --num-envs "$BG_WORLDS" --minutes "$BG_MINUTES" --out /tmp/bg/train $BG_ARGS' \
  > /tmp/bg/train/log.txt 2>&1 < /dev/null &
sleep 2
echo "pid $(cat /tmp/bg/train.pid)" | tee -a "$work/summary.txt"
fi

if wants bg_wait; then
section "waiting for the background training"
pid=$(cat /tmp/bg/train.pid 2>/dev/null)
for _ in $(seq 1 ${BG_WAIT_S:-540}); do
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
kill -0 "$pid" 2>/dev/null && echo "still running after ${BG_WAIT_S:-540} s: packing what is there" | tee -a "$work/summary.txt"
tail -n 30 /tmp/bg/train/log.txt | tee -a "$work/summary.txt"
tar czf "$OUT/bg_train.tgz" -C /tmp/bg train
fi

if wants warmup; then
section "warm-up"
# Managers plain: this fills Warp's kernel cache; compiling 64-world phases would only add Inductor's.
timeout 300 python3 -m warplab.bench --task humanoid-velocity-flat Humanoid-v5 --num-envs 64 --steps 5 \
  --compile-managers off > "$work/warmup.txt" 2>&1
tail -n 3 "$work/warmup.txt" | tee -a "$work/summary.txt"
fi

if wants warmup_manip; then
section "warm-up of the manipulation tasks: ${WARMUP_MANIP_TASKS:-arm-lift arm-open-drawer}"
# shellcheck disable=SC2086
timeout ${WARMUP_MANIP_TIMEOUT:-500} python3 -m warplab.bench --task ${WARMUP_MANIP_TASKS:-arm-lift arm-open-drawer} \
  --num-envs 64 --steps 5 > "$work/warmup_manip.txt" 2>&1
tail -n 4 "$work/warmup_manip.txt" | tee -a "$work/summary.txt"
fi

if wants bench; then
section "bench: humanoid-velocity-flat at 4,096 and 8,192 worlds, managers plain and compiled, PPO update plain and graphed"
timeout 540 python3 -m warplab.bench --task humanoid-velocity-flat --num-envs 4096 8192 --steps 100 \
  --compile-managers both --graph-update both --json "$work/bench.json" > "$work/bench.txt" 2>&1
tail -n 12 "$work/bench.txt" | tee -a "$work/summary.txt"
fi

if wants bench_v5; then
section "bench: Humanoid-v5 at 4,096 and 8,192 worlds, managers plain and compiled, PPO update plain and graphed"
timeout 540 python3 -m warplab.bench --task Humanoid-v5 --num-envs 4096 8192 --steps 100 \
  --compile-managers both --graph-update both --json "$work/bench_v5.json" > "$work/bench_v5.txt" 2>&1
tail -n 12 "$work/bench_v5.txt" | tee -a "$work/summary.txt"
fi

if wants rough; then
section "rough: bench (raw physics against the env step) and a profile of the captured step, 4,096 worlds"
timeout 300 python3 -m warplab.bench --task humanoid-velocity-rough --num-envs 4096 --steps 50 \
  --json "$work/bench_rough.json" > "$work/bench_rough.txt" 2>&1
tail -n 4 "$work/bench_rough.txt" | tee -a "$work/summary.txt"
timeout 240 python3 benchmarks/profile_step.py --task humanoid-velocity-rough --num-envs 4096 --steps 20 \
  --out "$work" > "$work/profile_rough.txt" 2>&1
grep -A 16 "^== " "$work/profile_rough.txt" | tee -a "$work/summary.txt"
fi

if wants memory; then
section "memory: humanoid-velocity-flat, 4,096 worlds, default config (managers compiled, update graphed)"
# Device memory over 10 M env steps of random actions (the bench), then over a 3-minute training
# (every iteration's torch memory, PPO updates included; train.json's curve).
timeout 300 python3 -m warplab.bench --task humanoid-velocity-flat --num-envs 4096 --steps 50 \
  --memory-env-steps 10000000 --json "$work/bench_memory.json" > "$work/bench_memory.txt" 2>&1
tail -n 4 "$work/bench_memory.txt" | tee -a "$work/summary.txt"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['rows'][0]; print(json.dumps(r.get('memory_over_steps')))" \
  "$work/bench_memory.json" | tee -a "$work/summary.txt"
timeout 240 python3 benchmarks/train_task.py --task humanoid-velocity-flat --num-envs 4096 --minutes 3 \
  --evaluators --out "$work/memory_train" > "$work/memory_train.txt" 2>&1
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['curve']; pick=[c[0], c[len(c)//4], c[len(c)//2], c[3*len(c)//4], c[-1]]; [print('iteration', r['iteration'], 'env steps', r['env_steps'], 'allocated MiB', r['memory_allocated_mib'], 'reserved MiB', r['memory_reserved_mib']) for r in pick]" \
  "$work/memory_train/train.json" | tee -a "$work/summary.txt"
find "$work" -name '*.pt' -delete
fi

if wants base_ab; then
section "base against tree: ${AB_TASKS:-humanoid-velocity-flat} at ${AB_WORLDS:-4096 8192} worlds, default config, base / tree / base"
# Each version in a process of its own (a second configuration in one process measured slower at
# 4,096 worlds, raw physics included: RESULTS.md, eighth session), the base run twice to show the drift.
base_src=$(cd "${BASE_SRC:-.base/src}" && pwd) || exit 1
for run in ${AB_RUNS:-base tree base2}; do
  # Runs named tree* use the working tree's sources, the others (base, base2, ...) the base's.
  # Runs named mid* use .mid/src (a second older version: `git archive <commit> src | tar -x -C .mid`).
  case "$run" in tree*) path=$PWD/src ;; mid*) path=$PWD/.mid/src ;; *) path=$base_src ;; esac
  # shellcheck disable=SC2086
  PYTHONPATH=$path:${PYTHONPATH:-} timeout ${AB_TIMEOUT:-280} python3 -c "import sys, warplab; print('warplab from', warplab.__file__); sys.argv[0] = 'bench'; from warplab.bench import main; main()" \
    --task ${AB_TASKS:-humanoid-velocity-flat} --num-envs ${AB_WORLDS:-4096 8192} \
    --json "$work/base_ab_$run.json" > "$work/base_ab_$run.txt" 2>&1
  grep -E "^(warplab from|humanoid|Humanoid|NVIDIA)" "$work/base_ab_$run.txt" | sed "s/^/$run: /" | tee -a "$work/summary.txt"
done
fi

if wants kernels_ab; then
section "kernel by kernel: ${KA_TASK:-Humanoid-v5} at ${KA_WORLDS:-8192} worlds, for each of ${KA_RUNS:-base tree}"
# graph_kernels.py of each version with that version's sources: an older tree's script is carried
# beside its sources (`git archive <commit> src benchmarks/graph_kernels.py | tar -x -C .base`).
for run in ${KA_RUNS:-base tree}; do
  case "$run" in
    tree*) path=$PWD/src script=benchmarks/graph_kernels.py ;;
    mid*) path=$PWD/.mid/src script=.mid/benchmarks/graph_kernels.py ;;
    *) path=$PWD/.base/src script=.base/benchmarks/graph_kernels.py ;;
  esac
  PYTHONPATH=$path:${PYTHONPATH:-} timeout ${KA_TIMEOUT:-200} python3 "$script" --task ${KA_TASK:-Humanoid-v5} \
    --num-envs ${KA_WORLDS:-8192} --out "$work/kernels_$run" > "$work/kernels_$run.txt" 2>&1
  grep -A 40 "^== " "$work/kernels_$run.txt" | sed "s/^/$run: /" | tee -a "$work/summary.txt"
done
fi

if wants sac_bench; then
section "SAC throughput: ${SAC_TASKS:-Humanoid-v5 humanoid-velocity-flat} at 1,024 and 4,096 worlds: ${SAC_VARIANTS:-agent bf16 compiled}"
for variant in ${SAC_VARIANTS:-agent bf16 compiled}; do
  case "$variant" in
    agent) overrides=() ;;
    bf16) overrides=(--agent-overrides sac.bf16_autocast=True) ;;
    compiled) overrides=(--agent-overrides sac.compile_networks=True) ;;
    *) echo "gpu_checks.sh: SAC_VARIANTS: unknown variant '$variant' (agent bf16 compiled)" >&2; continue ;;
  esac
  # shellcheck disable=SC2086
  timeout ${SAC_TIMEOUT:-200} python3 -m warplab.bench --algo sac --task ${SAC_TASKS:-Humanoid-v5 humanoid-velocity-flat} \
    --num-envs 1024 4096 "${overrides[@]}" --json "$work/sac_bench_$variant.json" > "$work/sac_bench_$variant.txt" 2>&1
  grep -E "SAC|NVIDIA" "$work/sac_bench_$variant.txt" | sed "s/^/$variant: /" | tee -a "$work/summary.txt"
done
# Where an update's time goes: ms an update of each variant (graphed), and the eager update's kernels.
timeout ${SAC_TIMEOUT:-200} python3 benchmarks/profile_sac_update.py --task Humanoid-v5 --num-envs 4096 \
  --out "$work" > "$work/profile_sac_update.txt" 2>&1
tail -n 36 "$work/profile_sac_update.txt" | tee -a "$work/summary.txt"
fi

if wants tests; then
section "GPU tests"
timeout 300 python3 -m pytest tests/envs/test_step_graph.py tests/envs/test_reset_forward.py tests/sim/test_forward_positions_velocities.py tests/rl/test_cuda.py tests/rl/test_sac_cuda.py tests/envs/test_physical_state.py tests/tasks/test_physical_bounds.py -m gpu -q -p no:cacheprovider \
  > "$work/gpu_tests.txt" 2>&1
tail -n 15 "$work/gpu_tests.txt" | tee -a "$work/summary.txt"
fi

if wants graph; then
section "graph check"
timeout 240 python3 benchmarks/graph_check.py --ignore-unsafe --json "$work/graph_check.json" \
  --task humanoid-velocity-flat-dr humanoid-push-recovery humanoid-velocity-rough \
  > "$work/graph_check.txt" 2>&1
grep -E '"(task|captured|max_output_difference|done_flags_differing|draws_follow_generator|safe)"' \
  "$work/graph_check.txt" | tee -a "$work/summary.txt"
fi

if wants baseline; then
section "rough: eager against eager"
# The floor for the rough task: two eager envs from one state (its captured step differed by 0.36 in
# an output and 7 m/s in a qvel on 2026-11-25; is that capture, or heightfield contacts amplifying
# float-atomic rounding that any two runs show?).
timeout 120 python3 benchmarks/graph_check.py --baseline --json "$work/graph_check_baseline.json" \
  --task humanoid-velocity-rough > "$work/graph_check_baseline.txt" 2>&1
grep -E '"(task|max_output_difference|max_state_difference|done_flags_differing)"' \
  "$work/graph_check_baseline.txt" | tee -a "$work/summary.txt"

fi

if wants compiled; then
section "graph check, managers compiled"
timeout 240 python3 benchmarks/graph_check.py --compile-managers --json "$work/graph_check_compiled.json" \
  --task humanoid-velocity-flat-dr Humanoid-v5 > "$work/graph_check_compiled.txt" 2>&1
grep -E '"(task|captured|max_output_difference|done_flags_differing|draws_follow_generator|safe)"' \
  "$work/graph_check_compiled.txt" | tee -a "$work/summary.txt"
fi

if wants compiled_bench; then
section "bench: humanoid-velocity-flat and Humanoid-v5 at 4,096 and 8,192 worlds, managers compiled, PPO update plain and graphed"
timeout 540 python3 -m warplab.bench --task humanoid-velocity-flat Humanoid-v5 --num-envs 4096 8192 --steps 100 \
  --compile-managers on --graph-update both --json "$work/bench_compiled.json" > "$work/bench_compiled.txt" 2>&1
tail -n 12 "$work/bench_compiled.txt" | tee -a "$work/summary.txt"
fi

if wants ab; then
section "A/B: humanoid-velocity-flat, 4,096 and 8,192 worlds, default config: reset forward positions_velocities against none, then the PPO update without TF32 matmuls; twice"
# One process measures both forwards (same card, same call); the second process repeats it. The
# bench's default 200 steps, as a user runs it. About 4 minutes with Warp's cache warm.
for run in 1 2; do
  timeout 200 python3 -m warplab.bench --task humanoid-velocity-flat --num-envs 4096 8192 \
    --reset-forward positions_velocities none --json "$work/ab_forward_$run.json" > "$work/ab_forward_$run.txt" 2>&1
  grep -E "^(humanoid|NVIDIA)" "$work/ab_forward_$run.txt" | tee -a "$work/summary.txt"
done
timeout 120 python3 -m warplab.bench --task humanoid-velocity-flat --num-envs 4096 --tf32-matmul off \
  --json "$work/ab_tf32.json" > "$work/ab_tf32.txt" 2>&1
grep -E "^(humanoid|NVIDIA)" "$work/ab_tf32.txt" | tee -a "$work/summary.txt"
# What the default step still runs beyond the physics, kernel by kernel.
timeout 150 python3 benchmarks/graph_kernels.py --task humanoid-velocity-flat --num-envs 4096 --out "$work" \
  > "$work/graph_kernels.txt" 2>&1
grep -A 30 "^== " "$work/graph_kernels.txt" | tee -a "$work/summary.txt"
fi

if wants tf32_learning; then
section "TF32 matmuls in the PPO update against FP32: humanoid-velocity-flat, 4,096 worlds, 2.5 minutes each, same seed"
# Whether PpoCfg.tf32_matmul could be the default: the same training with and without it, compared
# at equal iterations (TF32 runs more of them in the same minutes) and by the evaluation at the end.
for mode in fp32 tf32; do
  extra=(--set ppo.tf32_matmul true)
  if [ "$mode" = fp32 ]; then extra=(--set ppo.tf32_matmul false); fi
  timeout 280 python3 benchmarks/train_task.py --task humanoid-velocity-flat --num-envs 4096 --minutes 2.5 \
    "${extra[@]}" --eval-envs 512 --out "$work/tf32_$mode" > "$work/tf32_$mode.txt" 2>&1
  find "$work/tf32_$mode" -name '*.pt' -delete
done
python3 - "$work" <<'PY' | tee -a "$work/summary.txt"
import json, sys
runs = {m: json.load(open(f"{sys.argv[1]}/tf32_{m}/train.json")) for m in ("fp32", "tf32")}
common = min(len(r["curve"]) for r in runs.values())
for i in sorted({9, 49, 99, 199, 299, common - 1}):
    if i < common:
        print("iteration", i + 1, " ".join(f"{m} return {r['curve'][i]['return']:.2f} learn {r['curve'][i]['learning_s']:.3f} s" for m, r in runs.items()))
for m, r in runs.items():
    f = r["final"]
    print(m, "iterations", r["iterations"], "final return", round(f["return"], 2), "length", round(f["length"], 1), "learning_s", round(f["learning_s"], 3))
    try:
        print(m, "eval", json.dumps(json.load(open(f"{sys.argv[1]}/tf32_{m}/eval.json")))[:600])
    except OSError as error:
        print(m, "no eval.json:", error)
PY
fi

if wants warmstart; then
section "warm start: the default config (compile_managers auto: compiled on CUDA) with cold then full compile caches, plain managers, each twice; then cProfile of a compiled start"
# The lent GPU machine's torch has no bytecode cache (no .pyc beside its modules), so every process
# there compiled about 2,000 modules from source: 6-7 s of each start-up (cProfile, 2026-12-03). A
# pip install writes that cache on a user's machine; PYTHONPYCACHEPREFIX gives these runs one, filled
# by run 1. WARMSTART_PYCACHE=0 measures without it.
python3 -c "import os, sys, torch; d = os.path.join(os.path.dirname(torch.__file__), '__pycache__'); print('torch bytecode cache beside its modules:', os.path.isdir(d), '| sys.dont_write_bytecode:', sys.dont_write_bytecode)" | tee -a "$work/summary.txt"
if [ "${WARMSTART_PYCACHE:-1}" = 1 ]; then
  unset PYTHONDONTWRITEBYTECODE
  export PYTHONPYCACHEPREFIX=/tmp/pycache
fi
echo "PYTHONPYCACHEPREFIX=${PYTHONPYCACHEPREFIX:-unset}" | tee -a "$work/summary.txt"
# Each run trains until 0.4 min after its command (run 1, cold, until 0.8): its first iteration is
# the figure. The profiled run comes after the timed ones (cProfile slows Python about 2x).
ws_report() {  # ws_report RUN: one line of the run's start-up figures
  python3 -c "import json,sys; t=json.load(open(sys.argv[1])); c=t['curve'][0]; print('run', sys.argv[2], 'startup_s', round(t['startup_s'], 1), 'first iteration done at', round(c['wall_s'], 1), 's (collection', round(c['collection_s'], 1), 's, learning', round(c['learning_s'], 1), 's); iterations', t['iterations'])" \
    "$work/warmstart_$1/train.json" "$1" | tee -a "$work/summary.txt"
}
for run in 1 2 plain 2b plainb; do
  compiled=auto minutes=0.4
  case "$run" in 1) minutes=0.8 ;; plain*) compiled=false ;; esac
  timeout 150 python3 benchmarks/train_task.py --task humanoid-velocity-flat --num-envs 4096 \
    --minutes $minutes --evaluators --env-set compile_managers $compiled --out "$work/warmstart_$run" > "$work/warmstart_$run.txt" 2>&1
  ws_report "$run"
done
timeout 150 python3 -m cProfile -o "$work/startup_compiled.prof" benchmarks/train_task.py --task humanoid-velocity-flat \
  --num-envs 4096 --minutes 0.4 --evaluators --env-set compile_managers auto --out "$work/profile_compiled" > /dev/null 2>&1
python3 -c "import pstats,sys; p=pstats.Stats(sys.argv[1], stream=sys.stdout); p.sort_stats('cumulative').print_stats(70); p.sort_stats('tottime').print_stats(30)" \
  "$work/startup_compiled.prof" > "$work/startup_compiled.txt"
# The policies and checkpoints are not needed back (and would make the tarball too large to return).
find "$work" -name '*.pt' -delete
fi

tar czf "$OUT/checks.tgz" -C "$OUT" checks && rm -rf "$work"
