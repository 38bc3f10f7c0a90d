"""Train a registered task to a wall-clock budget on the GPU, then evaluate the policy.

  python3 benchmarks/train_task.py --task humanoid-velocity-flat --num-envs 4096 --minutes 9 --out $OUT

Wall-clock counts from the start of the command (imports, model compile and start-up included).
Writes ``train.json`` (per-iteration return, env steps, steps per second), ``curve.png``, the final
policy ``policy.pt`` (weights and normalizers, for ``warplab play``) and ``eval.json``: the policy in
play mode (no observation noise, no pushes), one episode per world. Velocity-tracking tasks report
their mean velocity error and the share of worlds that fell; ``humanoid-velocity-rough`` adds each
terrain type and difficulty (``task_eval.evaluate_rough``), ``humanoid-getup`` reports how many
worlds stand up and how fast (``task_eval.evaluate_getup``), ``humanoid-push-recovery`` the survival
per push strength. The manipulation and hand tasks report their success over one episode per world
(``task_eval.evaluate_success``: the share of successful episodes, the goals reached in a row for
the reorientation tasks, episode lengths and what ended each episode).

``--evaluate-only CHECKPOINT`` skips training and evaluates a saved policy (on the CPU too):

  python3 benchmarks/train_task.py --evaluate-only benchmarks/results/humanoid_getup_4096_h200_scratch_policy.pt \
      --eval-envs 256 --out /tmp/getup_eval
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

ENV_SET: list[tuple[str, str]] = []
"""``--env-set`` pairs, applied to every env this script builds (training and evaluation)."""


def _set_fields(cfg, pairs) -> None:
    for key, value in pairs or []:
        *path, last = key.split(".")
        target = cfg
        for part in path:
            target = getattr(target, part)
        current = getattr(target, last)
        if isinstance(current, bool):
            parsed = {"true": True, "false": False}[value.lower()]
        elif isinstance(current, tuple):
            parsed = tuple(json.loads(value))
        else:
            parsed = type(current)(value)
        setattr(target, last, parsed)


def progress_row(runner, start: float) -> dict:
    """The row every training script here records after each iteration: wall-clock since ``start``
    (a ``time.perf_counter()``), iteration, env steps, episode return and length, steps per second
    while collecting and overall, the iteration's collection and learning times, s, and torch's
    device memory allocated and reserved, MiB (None on the CPU)."""
    s = runner.last_scalars
    return {
        "wall_s": time.perf_counter() - start,
        "iteration": runner.iteration,
        "env_steps": s.get("Perf/total_env_steps"),
        "return": s.get("Episode/return"),
        "length": s.get("Episode/length"),
        "collect_steps_per_s": s.get("Perf/collection_steps_per_s"),
        "total_steps_per_s": s.get("Perf/total_steps_per_s"),
        "collection_s": s.get("Perf/collection_time_s"),
        "learning_s": s.get("Perf/learning_time_s"),
        "memory_allocated_mib": s.get("Perf/torch_memory_allocated_mib"),
        "memory_reserved_mib": s.get("Perf/torch_memory_reserved_mib"),
    }


def train(
    task: str,
    num_envs: int,
    minutes: float,
    out: Path,
    agent_overrides=None,
    target: float | None = None,
    t0: float | None = None,
    init_from: str | None = None,
    algo: str | None = None,
):
    """Trains ``task`` until ``minutes`` after ``t0`` (default: the start of this command).

    ``init_from``: a checkpoint to continue from (weights, normalizers and iteration; its optimizer
    too when it holds one, as ``resume.pt`` does). ``algo``: ppo, sac or td3 in place of the task
    agent's own ``algorithm`` (None keeps it). Its worlds restart from their reset state: the
    saved files carry no env state, so a terrain curriculum starts over at its first levels."""
    start = T0 if t0 is None else t0
    import warplab  # noqa: F401
    from warplab.envs.rl_env import RlEnv
    from warplab.rl import make_runner
    from warplab.rl.config import to_plain
    from warplab.tasks import get_task, make_env_cfg

    spec = get_task(task)
    env_cfg = make_env_cfg(task)
    env_cfg.num_envs = num_envs
    _set_fields(env_cfg, ENV_SET)
    agent = spec.agent_cfg_factory()
    agent.logger, agent.console, agent.save_interval = "none", "lines", 10_000
    if algo is not None:
        agent.algorithm = algo
    _set_fields(agent, agent_overrides)
    env = RlEnv(env_cfg)
    runner = make_runner(env, agent, log_dir=None)
    if init_from is not None:
        import warnings

        from warplab.rl.checkpoint import load_checkpoint

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="resuming from .* without the env's state")
            runner.load(init_from, load_optimizer=bool(load_checkpoint(init_from).get("optimizer")))
        print(f"continuing from {init_from} at iteration {runner.iteration}", flush=True)
    startup_s = time.perf_counter() - start
    curve = []
    while time.perf_counter() - start < minutes * 60.0:
        runner.learn(1)
        s = runner.last_scalars
        row = progress_row(runner, start)
        row.update(
            {
                k: v
                for k, v in s.items()
                # The learner's own statistics too (SAC's Critic/q_mean and target mass at the
                # support's ends, PPO's KL...): a curve that collapses shows why.
                if k.startswith(
                    ("Episode_Reward/", "Episode_Termination/", "Curriculum/", "Loss/", "Critic/", "Policy/")
                )
            }
        )
        curve.append(row)
        if runner.iteration % 20 == 0:
            print(
                json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}),
                flush=True,
            )
    # The policy alone (weights, normalizers, config): the env's state of thousands of worlds would make
    # the file too large to bring back, and playing the policy needs none of it.
    from warplab.rl.checkpoint import save_checkpoint

    state = runner.state()
    state.update(env_state=None, last_obs=None)
    # resume.pt keeps the optimizer (about twice the weights) for --init-from; policy.pt, the file
    # that is kept in the repository, has none.
    save_checkpoint(out / "resume.pt", state)
    state.update(optimizer={})
    save_checkpoint(out / "policy.pt", state)
    steady = curve[5:] or curve
    reached = [r for r in curve if target is not None and r["return"] is not None and r["return"] >= target]
    summary = {
        "task": task,
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "num_envs": num_envs,
        "startup_s": startup_s,
        "train_wall_s": time.perf_counter() - start,
        "iterations": runner.iteration,
        "target_return": target,
        # The first iteration whose mean episode return reached the target: wall-clock since the
        # command started (start-up included) and env steps, or None.
        "target_reached": {k: reached[0][k] for k in ("wall_s", "iteration", "env_steps")}
        if reached
        else None,
        "final": curve[-1] if curve else None,
        "mean_collect_steps_per_s": sum(r["collect_steps_per_s"] for r in steady) / max(len(steady), 1),
        "mean_total_steps_per_s": sum(r["total_steps_per_s"] for r in steady) / max(len(steady), 1),
        "algorithm": agent.algorithm,
        "agent": to_plain(agent),
        "curve": curve,
    }
    _plot(curve, task, num_envs, summary["device"], out / "curve.png", target)
    return summary, runner.policy


def _eval_env(cfg, num_envs: int):
    """The env an evaluation plays in: ``cfg`` with ``num_envs`` worlds, the evaluation seed and the
    ``--env-set`` changes."""
    from warplab.envs.rl_env import RlEnv

    cfg.num_envs, cfg.seed = num_envs, 123
    _set_fields(cfg, ENV_SET)
    return RlEnv(cfg)


def evaluate_velocity(task: str, policy, num_envs: int) -> dict:
    """One full play-mode episode in every world: velocity tracking error and falls."""
    from warplab.envs.mdp import _state
    from warplab.tasks import make_env_cfg

    env = _eval_env(make_env_cfg(task, play=True), num_envs)
    obs, _ = env.reset()
    done = torch.zeros(num_envs, dtype=torch.bool, device=env.device)
    fell = torch.zeros_like(done)
    lin_err = torch.zeros(num_envs, device=env.device)
    yaw_err = torch.zeros(num_envs, device=env.device)
    steps = torch.zeros(num_envs, device=env.device)
    with torch.inference_mode():
        for _ in range(env.max_episode_length):
            obs, _, terminated, truncated, _ = env.step(policy.act_inference(obs))
            command = env.command("base_velocity")
            alive = ~done & ~terminated & ~truncated
            v = _state.root_lin_vel_b(env)[:, :2]
            w = _state.root_ang_vel_b(env)[:, 2]
            lin_err += torch.linalg.vector_norm(command[:, :2] - v, dim=1) * alive
            yaw_err += (command[:, 2] - w).abs() * alive
            steps += alive
            fell |= terminated & ~done
            done |= terminated | truncated
    steps = steps.clamp(min=1)
    return {
        "worlds": num_envs,
        "episode_s": env.max_episode_length * env.policy_dt,
        "mean_lin_vel_error_m_s": float((lin_err / steps).mean()),
        "mean_yaw_rate_error_rad_s": float((yaw_err / steps).mean()),
        "fall_fraction": float(fell.float().mean()),
    }


def evaluate_push_survival(policy, num_envs: int, strengths: list[float]) -> dict:
    """humanoid-push-recovery in play mode: the share of worlds that survive a full episode of pushes
    of each fixed strength (m/s velocity kicks every 3-6 s)."""
    from warplab.tasks.recovery import make_humanoid_push_recovery_env_cfg

    rows = []
    for strength in strengths:
        env = _eval_env(make_humanoid_push_recovery_env_cfg(play=True, push_strength=strength), num_envs)
        obs, _ = env.reset()
        done = torch.zeros(num_envs, dtype=torch.bool, device=env.device)
        fell = torch.zeros_like(done)
        with torch.inference_mode():
            for _ in range(env.max_episode_length):
                obs, _, terminated, truncated, _ = env.step(policy.act_inference(obs))
                fell |= terminated & ~done
                done |= terminated | truncated
        rows.append({"push_strength_m_s": strength, "survival": 1.0 - float(fell.float().mean())})
        print(json.dumps(rows[-1]), flush=True)
    return {"worlds": num_envs, "rows": rows}


def _plot(curve, task, num_envs, device, path, target: float | None = None) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    xs = [r["wall_s"] / 60 for r in curve if r["return"] is not None]
    ys = [r["return"] for r in curve if r["return"] is not None]
    plt.figure(figsize=(6, 4))
    plt.plot(xs, ys)
    if target is not None:
        plt.axhline(target, ls="--", c="gray")
    plt.xlabel("wall-clock since the command started, min")
    plt.ylabel("mean episode return")
    plt.title(f"{task}, {num_envs} worlds, {device}")
    plt.tight_layout()
    from warplab.atomic_files import atomic_path

    # The temporary name keeps the .png suffix, from which matplotlib takes the format.
    with atomic_path(path) as tmp:
        plt.savefig(tmp, dpi=100)


ROUGH_TASKS = ("humanoid-velocity-rough", "humanoid-velocity-rough-scan", "humanoid-velocity-rough-boxes")
"""The humanoid's terrain tasks: the terrain evaluation runs each on its own task (the scanning policy
needs its scan, the box terrain its boxes)."""

EVALUATORS = ("velocity", "push", "getup", "rough", "success")
"""What ``evaluate`` can run; ``task_evaluators`` picks those that fit a task."""


def task_evaluators(task: str) -> list[str]:
    """The evaluations that fit ``task`` (none for tasks without one): ``success`` for every task that
    defines a per-episode success (the manipulation and hand tasks: ``task_eval.has_success``)."""
    import task_eval

    if task_eval.has_success(task):
        return ["success"]
    if task == "humanoid-push-recovery":
        return ["push"]
    if task == "humanoid-getup":
        return ["getup"]
    if task in ROUGH_TASKS:
        return ["velocity", "rough"]
    return ["velocity"] if "velocity" in task else []


def evaluate(task: str, policy, num_envs: int, evaluators: list[str], rough_episode_s: float = 20.0):
    """Runs ``evaluators`` (of ``EVALUATORS``) on ``policy``; None when the list is empty. The velocity
    figures stay at the top level of the result (as earlier ``eval.json`` files have them), the others
    go under their name."""
    import task_eval

    result = {}
    for name in evaluators:
        if name == "velocity":
            result.update(evaluate_velocity(task, policy, num_envs))
        elif name == "push":
            result["push"] = evaluate_push_survival(policy, num_envs, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
        elif name == "getup":
            result["getup"] = task_eval.evaluate_getup(policy, num_envs, build_env=_eval_env)
        elif name == "rough":
            rough = task_eval.RoughEvalCfg(
                task=task if task in ROUGH_TASKS else task_eval.ROUGH_TASK, episode_s=rough_episode_s
            )
            result["rough"] = task_eval.evaluate_rough(policy, num_envs, rough, build_env=_eval_env)
        elif name == "success":
            result["success"] = task_eval.evaluate_success(task, policy, num_envs, build_env=_eval_env)
        else:
            raise ValueError(f"unknown evaluator {name!r}; known: {list(EVALUATORS)}")
        print(json.dumps({name: _brief(result.get(name, result))}), flush=True)
    return result or None


def _brief(result: dict) -> dict:
    # The console gets the summary; the per-world lists go to the file only.
    return {k: v for k, v in result.items() if k != "per_world"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--task",
        help="registered task (default: humanoid-velocity-flat, or the checkpoint's with --evaluate-only)",
    )
    ap.add_argument("--num-envs", type=int, default=4096)
    ap.add_argument("--minutes", type=float, default=9.0)
    ap.add_argument("--eval-envs", type=int, default=1024)
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument(
        "--set",
        nargs=2,
        action="append",
        metavar=("FIELD", "VALUE"),
        help="agent field, e.g. ppo.learning_rate 3e-4",
    )
    ap.add_argument(
        "--env-set",
        nargs=2,
        action="append",
        default=[],
        metavar=("FIELD", "VALUE"),
        help="env config field of every env built here, e.g. graph_step false",
    )
    ap.add_argument(
        "--evaluate-only",
        metavar="CHECKPOINT",
        help="no training: evaluate this saved policy (its task unless --task is given) into --out/eval.json",
    )
    ap.add_argument(
        "--evaluators",
        nargs="*",
        choices=EVALUATORS,
        help="evaluations to run (default: those that fit the task)",
    )
    ap.add_argument(
        "--target",
        type=float,
        help="a mean episode return: train.json records when it is first reached (e.g. 6000 for Humanoid-v5)",
    )
    ap.add_argument(
        "--algo",
        choices=("ppo", "sac", "td3"),
        help="the learner (default: the task agent's own algorithm, ppo); --set sac.FIELD VALUE changes SAC/TD3 settings",
    )
    ap.add_argument(
        "--init-from",
        metavar="CHECKPOINT",
        help="continue training from this checkpoint (policy.pt or resume.pt of an earlier run)",
    )
    ap.add_argument(
        "--rough-episode-s", type=float, default=20.0, help="episode of the terrain evaluation, s"
    )
    ap.add_argument(
        "--video-tile",
        nargs=2,
        metavar=("TYPE", "DIFFICULTY"),
        help="after the evaluations, write tile_<TYPE>_<DIFFICULTY>.mp4: one world walking forward on a "
        "single terrain tile (rough task; needs MUJOCO_GL=osmesa on a CPU)",
    )
    args = ap.parse_args()
    ENV_SET.extend(args.env_set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from warplab.atomic_files import atomic_write_json

    if args.evaluate_only:
        from warplab.rl.inference import load_policy
        from warplab.sim import resolve_device

        policy, trained_on = load_policy(args.evaluate_only, device=resolve_device("auto"))
        task = args.task or trained_on
        if task is None:
            raise SystemExit(f"{args.evaluate_only} does not say which task it was trained on: pass --task")
    else:
        task = args.task or "humanoid-velocity-flat"
        summary, policy = train(
            task,
            args.num_envs,
            args.minutes,
            out,
            args.set,
            init_from=args.init_from,
            algo=args.algo,
            target=args.target,
        )
        atomic_write_json(out / "train.json", summary, indent=1)
        print(json.dumps({k: v for k, v in summary.items() if k != "curve"}, indent=1))
        policy.eval()
    evaluators = task_evaluators(task) if args.evaluators is None else args.evaluators
    result = evaluate(task, policy, args.eval_envs, evaluators, args.rough_episode_s)
    if result is not None:
        result.update(
            task=task,
            checkpoint=args.evaluate_only,
            device=torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
            wall_s_at_end=time.perf_counter() - T0,
        )
        atomic_write_json(out / "eval.json", result, indent=1)
    if args.video_tile:
        import task_eval

        kind, difficulty = args.video_tile[0], float(args.video_tile[1])
        path = task_eval.record_rough_tile(
            policy, kind, difficulty, out / f"tile_{kind}_{difficulty:g}.mp4", build_env=_eval_env
        )
        print(f"video: {path}", flush=True)


if __name__ == "__main__":
    main()
