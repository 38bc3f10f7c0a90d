"""Train one task with warplab's PPO and with rsl_rl, rl_games, skrl and SB3, each for the same
wall-clock budget, the same world count and the same card; compare throughput and return.

  python3 benchmarks/libraries.py --task Humanoid-v5 --num-envs 4096 --minutes 1.5 \\
      --libraries warplab rsl_rl rl_games skrl sb3 --out $OUT
  python3 benchmarks/libraries.py --task cartpole-balance --num-envs 16 --minutes 0.3 --device cpu --out /tmp/lib
  python3 benchmarks/libraries.py --merge a/libraries.json b/libraries.json --out merged   # runs of two calls

Each library trains in a fresh subprocess (its GPU memory and global state cannot reach the next;
a crash or a time-out is recorded, not fatal). The budget counts from the moment the parent starts
that subprocess, so Python imports, building the env, kernel compiles and the library's own set-up
are inside it; ``startup_s`` (up to the end of the library's first ``env.step``) is reported apart.

Return is measured the same way for every library, on warplab's env under the adapter: every
``num_steps_per_env`` steps (the task's rollout length) the probe reads ``env.pop_episode_stats()``
(the mean undiscounted return of the episodes finished since the last read) and notes the
wall-clock. The adapters' own reads get that same read back, so no library steals episodes from
another's log. When the budget is spent the probe stops the library from inside ``env.step``.

PPO settings are the task's registered agent config (``warplab.tasks.get_task(task).agent_cfg_factory()``)
translated as closely as each library allows; each record lists the settings passed and, under
``deviations``, what the library cannot match. Outputs in ``--out`` (4 files): ``libraries.json``
(per library: settings, curve of return against wall-clock, throughput, errors), ``libraries.md``
(a table), ``libraries.png`` (return against wall-clock; needs matplotlib) and ``libraries.log``
(the last lines of each subprocess's output).

On the GPU machine (no Warp, MuJoCo or RL libraries there; see docs/benchmarking.md). Two calls back
to back: carry [".carry-1"] with command ``true``, then carry [".carry-2", ".carry-intwhl"]:

  . .carry-2/install.sh && \\
  pip install -q --no-index --no-deps --target /tmp/site-int .carry-intwhl/*.whl && \\
  export PYTHONPATH=/tmp/site-int:$PYTHONPATH MUJOCO_GL=disable && \\
  python3 benchmarks/libraries.py --task Humanoid-v5 --num-envs 4096 --minutes 1.5 \\
      --libraries warplab rsl_rl rl_games skrl sb3 --out $OUT

A device command may run 10 minutes: budget x libraries plus about a minute of kernel compiles
must fit, or split the libraries over calls and ``--merge`` their libraries.json here.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ("warplab", "rsl_rl", "rl_games", "skrl", "sb3")
DISTRIBUTIONS = {
    "warplab": "warplab",
    "rsl_rl": "rsl-rl-lib",
    "rl_games": "rl-games",
    "skrl": "skrl",
    "sb3": "stable-baselines3",
}
FOREVER = 10**9
"""Iterations, epochs or timesteps passed to a library: the probe ends training, not the library."""


class BudgetReached(Exception):
    """Raised by the probe from inside ``env.step`` when the wall-clock budget is spent."""


class ReturnProbe:
    """Owns ``env.pop_episode_stats`` for one run and stops it at the budget.

    Replaces ``env.step`` and ``env.pop_episode_stats`` on the instance: every ``interval`` steps
    it reads the episode statistics (one host sync) into ``curve``; a library's own read gets the
    latest of those reads, once.
    """

    def __init__(self, env, started_at: float, budget_s: float, interval: int):
        self.env, self.started_at, self.budget_s, self.interval = env, started_at, budget_s, interval
        self._step, self._pop = env.step, env.pop_episode_stats
        env.step, env.pop_episode_stats = self.step, self.pop
        self.calls = 0
        self.env_steps = 0
        self.startup_s: float | None = None
        self.curve: list[dict] = []
        self._latest: dict[str, float] = {}

    def step(self, actions):
        out = self._step(actions)
        self.calls += 1
        self.env_steps += self.env.num_envs
        if self.startup_s is None:
            self.startup_s = time.time() - self.started_at
        if self.calls % self.interval == 0:
            self.record()
        if time.time() - self.started_at >= self.budget_s:
            if self.calls % self.interval:
                self.record()
            raise BudgetReached
        return out

    def pop(self) -> dict[str, float]:
        latest, self._latest = self._latest, {}
        return latest

    def record(self) -> None:
        stats = self._pop()
        self._latest = stats
        self.curve.append(
            {
                "wall_s": round(time.time() - self.started_at, 3),
                "env_steps": self.env_steps,
                "return": stats.get("Episode/return"),
                "length": stats.get("Episode/length"),
                "episodes": int(stats.get("Episode/count", 0)),
            }
        )


# ---------------------------------------------------------------------- one library per subprocess
def _make_env(args):
    import warplab

    return warplab.make(args.task, num_envs=args.num_envs, device=args.device, seed=args.seed)


def setup_warplab(args, rc, probe_env, tmp):
    from warplab.rl import OnPolicyRunner

    rc.logger, rc.console, rc.save_interval, rc.export_onnx, rc.seed = (
        "none",
        "off",
        FOREVER,
        False,
        args.seed,
    )
    env = probe_env(_make_env(args))
    runner = OnPolicyRunner(env, rc, log_dir=None)
    settings = {"ppo": vars(rc.ppo), "policy": vars(rc.policy)}
    return lambda: runner.learn(FOREVER), settings, []


def setup_rsl_rl(args, rc, probe_env, tmp):
    import rsl_rl_ppo

    example = rsl_rl_ppo.Args(
        task=args.task,
        num_envs=args.num_envs,
        device=args.device,
        seed=args.seed,
        log_dir=tmp,
        init_at_random_ep_len=False,  # as the other libraries: every world starts a fresh episode
    )
    runner, _ = rsl_rl_ppo.make_runner(example)
    runner.cfg["save_interval"] = FOREVER
    probe_env(runner.env.env)
    deviations = ["adaptive learning rate bounded by rsl_rl's own 1e-5..1e-2", "advantages always normalized"]
    return lambda: runner.learn(FOREVER, init_at_random_ep_len=False), runner.cfg, deviations


def setup_rl_games(args, rc, probe_env, tmp):
    import rl_games_ppo
    from rl_games.torch_runner import Runner

    from warplab.integrations.rl_games import RlGamesObserver, register

    env = probe_env(_make_env(args))
    register(env=env)
    example = rl_games_ppo.Args(
        task=args.task, num_envs=args.num_envs, device=args.device, seed=args.seed, train_dir=tmp
    )
    params = rl_games_ppo.make_params(example)
    params["torch_threads"] = 0  # leave torch's threads as the worker set them, as for the others
    ppo, policy, n = rc.ppo, rc.policy, rc.ppo.num_steps_per_env
    params["network"]["separate"] = True
    params["network"]["mlp"].update(units=list(policy.actor_hidden_dims), activation=policy.activation)
    params["network"]["space"]["continuous"]["sigma_init"]["val"] = math.log(policy.init_noise_std)
    config = params["config"]
    config["env_config"] = {}  # the env is built above, with the probe on it
    config.pop("minibatch_size_per_env", None)
    config.update(
        horizon_length=n, minibatch_size=n * args.num_envs // ppo.num_mini_batches, mini_epochs=ppo.num_learning_epochs,
        learning_rate=ppo.learning_rate, lr_schedule="adaptive" if ppo.schedule == "adaptive" else None,
        kl_threshold=ppo.desired_kl, gamma=ppo.gamma, tau=ppo.lam, e_clip=ppo.clip_param,
        entropy_coef=ppo.entropy_coef, critic_coef=2.0 * ppo.value_loss_coef,  # rl_games halves the value loss
        clip_value=ppo.clipped_value_loss, grad_norm=ppo.max_grad_norm, truncate_grads=True,
        normalize_input=policy.actor_obs_normalization, normalize_value=False,
        normalize_advantage=ppo.normalize_advantages, max_epochs=FOREVER, save_frequency=FOREVER,
        save_best_after=FOREVER, print_stats=False,
    )  # fmt: skip
    deviations = ["adaptive learning rate bounded by rl_games' own 1e-6..1e-2"]
    if policy.critic_hidden_dims != policy.actor_hidden_dims:
        deviations.append(f"critic has the actor's widths {policy.actor_hidden_dims} (rl_games: one 'units')")
    if "critic" in env.observation_shapes:
        deviations.append("the critic reads the policy observations (no central_value_config)")
    runner = Runner(algo_observer=RlGamesObserver())
    runner.load({"params": params})
    return lambda: runner.run({"train": True, "play": False}), params, deviations


def setup_skrl(args, rc, probe_env, tmp):
    import skrl_ppo
    from skrl.resources.schedulers.torch import KLAdaptiveLR

    from warplab.integrations.skrl import SkrlVecEnv

    ppo, policy, n = rc.ppo, rc.policy, rc.ppo.num_steps_per_env
    env = SkrlVecEnv(probe_env(_make_env(args)), log_interval=n)
    example = skrl_ppo.Args(
        task=args.task, num_envs=args.num_envs, device=args.device, rollouts=n, learning_rate=ppo.learning_rate,
        hidden_dims=policy.actor_hidden_dims, init_std=policy.init_noise_std, seed=args.seed, log_dir=tmp,
    )  # fmt: skip
    cfg = {
        "learning_epochs": ppo.num_learning_epochs,
        "mini_batches": ppo.num_mini_batches,
        "discount_factor": ppo.gamma,
        "gae_lambda": ppo.lam,
        "learning_rate_scheduler": KLAdaptiveLR if ppo.schedule == "adaptive" else None,
        "learning_rate_scheduler_kwargs": {
            "kl_threshold": ppo.desired_kl, "min_lr": ppo.min_learning_rate, "max_lr": ppo.max_learning_rate,
        },
        "grad_norm_clip": ppo.max_grad_norm,
        "ratio_clip": ppo.clip_param,
        "value_clip": ppo.clip_param if ppo.clipped_value_loss else 0.0,
        "entropy_loss_scale": ppo.entropy_coef,
        "value_loss_scale": ppo.value_loss_coef,
    }  # fmt: skip
    if not policy.actor_obs_normalization:
        cfg["observation_preprocessor"] = None
    agent = skrl_ppo.make_agent(env, example, **cfg)
    deviations = ["advantages always normalized by skrl", "ELU activation (the example's networks)"]
    if policy.critic_hidden_dims != policy.actor_hidden_dims:
        deviations.append(
            f"critic has the actor's widths {policy.actor_hidden_dims} (the example's one hidden_dims)"
        )
    from skrl.trainers.torch import SequentialTrainer

    trainer_cfg = {
        "timesteps": FOREVER,
        "headless": True,
        "disable_progressbar": True,
        "close_environment_at_exit": False,
    }
    trainer = SequentialTrainer(env=env, agents=agent, cfg=trainer_cfg)
    return trainer.train, {"args": vars(example), "ppo": cfg, "trainer": trainer_cfg}, deviations


def setup_sb3(args, rc, probe_env, tmp):
    import sb3_ppo
    import torch
    from stable_baselines3.common.vec_env import VecNormalize

    from warplab.integrations.sb3 import make_sb3_env

    ppo, policy, n = rc.ppo, rc.policy, rc.ppo.num_steps_per_env
    venv = make_sb3_env(args.task, args.num_envs, device=args.device, seed=args.seed)
    probe_env(venv.env)
    if policy.actor_obs_normalization:  # observations only, as warplab: the rewards stay as they are
        venv = VecNormalize(venv, norm_reward=False, clip_obs=policy.obs_clip, gamma=ppo.gamma)
    example = sb3_ppo.Args(
        task=args.task, num_envs=args.num_envs, device=args.device, policy_device=args.device, seed=args.seed,
        n_steps=n, batch_size=n * args.num_envs // ppo.num_mini_batches, n_epochs=ppo.num_learning_epochs,
        learning_rate=ppo.learning_rate, gamma=ppo.gamma, verbose=0,
    )  # fmt: skip
    kwargs = {
        "gae_lambda": ppo.lam,
        "clip_range": ppo.clip_param,
        "clip_range_vf": ppo.clip_param if ppo.clipped_value_loss else None,
        "ent_coef": ppo.entropy_coef,
        "vf_coef": ppo.value_loss_coef,
        "max_grad_norm": ppo.max_grad_norm,
        "normalize_advantage": ppo.normalize_advantages,
        "policy_kwargs": {
            "net_arch": {"pi": list(policy.actor_hidden_dims), "vf": list(policy.critic_hidden_dims)},
            "activation_fn": getattr(
                torch.nn, {"elu": "ELU", "relu": "ReLU", "tanh": "Tanh"}[policy.activation]
            ),
            "log_std_init": math.log(policy.init_noise_std),
        },
    }
    model = sb3_ppo.make_model(example, venv, **kwargs)
    deviations = [
        "fixed learning rate (SB3 has no KL-adaptive schedule)",
        "numpy at the boundary: one device-host copy per step",
    ]
    return lambda: model.learn(total_timesteps=FOREVER), {"args": vars(example), "ppo": kwargs}, deviations


SETUPS = {
    "warplab": setup_warplab,
    "rsl_rl": setup_rsl_rl,
    "rl_games": setup_rl_games,
    "skrl": setup_skrl,
    "sb3": setup_sb3,
}


def worker(args) -> None:
    """Trains ``args.worker`` until the budget and writes its record to ``args.result``."""

    import torch

    sys.path.insert(0, str(ROOT / "examples"))
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    from warplab.tasks import get_task

    rc = get_task(args.task).agent_cfg_factory()
    budget_s = args.minutes * 60.0
    probes = []

    def probe_env(env):
        probes.append(ReturnProbe(env, args.started_at, budget_s, rc.ppo.num_steps_per_env))
        return env

    record = {"library": args.worker, "version": _library_version(args.worker)}
    with tempfile.TemporaryDirectory() as tmp:
        train, settings, deviations = SETUPS[args.worker](args, rc, probe_env, tmp)
        record.update(settings=settings, deviations=deviations)
        try:
            train()
            record["error"] = "the library stopped before the budget was spent"
        except BudgetReached:
            pass
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    wall_s = time.time() - args.started_at
    (probe,) = probes
    returns = [row["return"] for row in probe.curve if row["return"] is not None]
    training_s = wall_s - (probe.startup_s or wall_s)
    record.update(
        startup_s=probe.startup_s, wall_s=wall_s, env_steps=probe.env_steps,
        env_steps_per_s=probe.env_steps / training_s if training_s > 0 else None,
        env_steps_per_s_overall=probe.env_steps / wall_s,
        final_return=returns[-1] if returns else None, max_return=max(returns) if returns else None,
        curve=probe.curve,
    )  # fmt: skip
    _atomic_files().atomic_write_json(args.result, record, indent=None, default=str)


# ---------------------------------------------------------------------- the parent
def run_library(library: str, args, tmp: Path, log) -> dict:
    result = tmp / f"{library}.json"
    command = [
        sys.executable, __file__, "--worker", library, "--task", args.task, "--num-envs", str(args.num_envs),
        "--minutes", str(args.minutes), "--device", args.device, "--seed", str(args.seed),
        "--torch-threads", str(args.torch_threads), "--result", str(result),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    started_at = time.time()
    print(f"[{library}] training for {args.minutes} min ...", flush=True)
    try:
        proc = subprocess.run(
            [*command, "--started-at", repr(started_at)], env=env, capture_output=True, text=True,
            timeout=args.minutes * 60.0 + args.startup_allowance_s,
        )  # fmt: skip
        output, status = proc.stdout + proc.stderr, f"exit status {proc.returncode}"
    except subprocess.TimeoutExpired as error:
        output = "".join(x.decode() if isinstance(x, bytes) else x for x in (error.stdout, error.stderr) if x)
        status = f"killed after {args.minutes * 60.0 + args.startup_allowance_s:.0f} s"
    tail = "\n".join(output.splitlines()[-40:])
    log.write(f"===== {library}: {status}\n{tail}\n")
    if result.exists():
        record = json.loads(result.read_text())
    else:
        record = {
            "library": library,
            "error": f"{status}; no result. Last lines:\n" + "\n".join(output.splitlines()[-8:]),
        }
    print(f"[{library}] {status}; " + (f"error: {record['error']}" if "error" in record else
          f"{record['env_steps']} env steps, {record['env_steps_per_s']:.0f} steps/s, final return {record['final_return']}"), flush=True)  # fmt: skip
    return record


def _atomic_files():
    """``warplab.atomic_files``, through which every output is written whole or not at all. This
    parent process may run from a checkout where warplab is not installed (its workers get ``src/``
    on PYTHONPATH), so ``src/`` is tried after what is installed."""
    if str(ROOT / "src") not in sys.path:
        sys.path.append(str(ROOT / "src"))
    import warplab.atomic_files

    return warplab.atomic_files


def write_outputs(summary: dict, out: Path) -> None:
    atomic = _atomic_files()
    atomic.atomic_write_json(out / "libraries.json", summary, indent=1, default=str)
    rows = [
        f"{summary['task']}, {summary['num_envs']} worlds, {summary['minutes']} min each, on {summary['device_name']} "
        f"({summary['date']}).",
        "",
        "| library | version | start-up s | env steps | env steps/s (training) | env steps/s (overall) | final return | max return | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v, f: "-" if v is None else format(v, f)  # noqa: E731
    for r in summary["libraries"].values():
        status = "ok" if "error" not in r else r["error"].splitlines()[0][:80]
        rows.append(
            f"| {r['library']} | {r.get('version', '-')} | {fmt(r.get('startup_s'), '.1f')} | {fmt(r.get('env_steps'), 'd')} "
            f"| {fmt(r.get('env_steps_per_s'), '.0f')} | {fmt(r.get('env_steps_per_s_overall'), '.0f')} "
            f"| {fmt(r.get('final_return'), '.1f')} | {fmt(r.get('max_return'), '.1f')} | {status} |"
        )
    atomic.atomic_write_text(out / "libraries.md", "\n".join(rows) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no libraries.png", flush=True)
        return
    plt.figure(figsize=(7, 4.5))
    for r in summary["libraries"].values():
        points = [
            (row["wall_s"] / 60, row["return"]) for row in r.get("curve", []) if row["return"] is not None
        ]
        if points:
            plt.plot(*zip(*points, strict=True), label=r["library"])
    plt.xlabel("wall-clock since the library's process started, min")
    plt.ylabel("mean episode return")
    plt.title(f"{summary['task']}, {summary['num_envs']} worlds, {summary['device_name']}")
    plt.legend()
    plt.tight_layout()
    # The temporary name keeps the .png suffix, from which matplotlib takes the format.
    with atomic.atomic_path(out / "libraries.png") as tmp:
        plt.savefig(tmp, dpi=100)


def _library_version(library: str) -> str:
    """The installed distribution's version; a library run from a source tree on PYTHONPATH (warplab on
    the GPU machine) has no distribution metadata, so its module's ``__version__`` stands in."""
    try:
        return importlib.metadata.version(DISTRIBUTIONS[library])
    except importlib.metadata.PackageNotFoundError:
        return getattr(importlib.import_module(library), "__version__", "source tree")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="Humanoid-v5")
    ap.add_argument("--num-envs", type=int, default=4096)
    ap.add_argument(
        "--minutes", type=float, default=1.5, help="wall-clock budget of each library, start-up included"
    )
    ap.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="torch CPU threads in each subprocess; 0: torch's default",
    )
    ap.add_argument(
        "--startup-allowance-s",
        type=float,
        default=300.0,
        help="kill a subprocess this long after its budget",
    )
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="combine libraries.json files of earlier runs into --out (a library in several: the last file wins, so a rerun replaces a failed run)",
    )
    ap.add_argument("--worker", choices=LIBRARIES, help=argparse.SUPPRESS)
    ap.add_argument("--started-at", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    out = Path(args.out)
    if args.merge:
        parts = [json.loads(Path(p).read_text()) for p in args.merge]
        summary = {
            **parts[0],
            "libraries": {k: v for p in parts for k, v in p["libraries"].items()},
            "merged_from": args.merge,
        }
        return write_outputs(summary, out)

    import datetime

    import torch

    device_name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    summary = {
        "task": args.task, "num_envs": args.num_envs, "minutes": args.minutes, "device": args.device,
        "device_name": device_name, "torch": torch.__version__, "seed": args.seed, "command": " ".join(sys.argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "libraries": {},
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    # The log is written as the libraries run, not at the end, so that a run killed half-way
    # still says what happened: it is the one file here not written through warplab.atomic_files.
    with tempfile.TemporaryDirectory() as tmp, open(out / "libraries.log", "w") as log:
        for library in args.libraries:
            summary["libraries"][library] = run_library(library, args, Path(tmp), log)
    write_outputs(summary, out)
    print((out / "libraries.md").read_text(), flush=True)


if __name__ == "__main__":
    main()
