"""``warplab sweep``: trials of one task over a search space, run by Ray Tune (``pip install
'warplab[sweep]'``).

Each trial is a normal ``warplab train`` run (`warplab.cli.commands._train`) in a Ray worker process
of its own, with the trial's sample given as ``--env.*``/``--agent.*`` overrides; it writes its own
run folder (event files, checkpoints) under ``<sweep folder>/trials/`` and reports the mean episode
return of each iteration to Tune, whose scheduler (FIFO, or ASHA with ``--scheduler asha``) may stop
it early. When all trials are over, the results table is printed and written as ``results.csv`` and
``results.md`` in the sweep folder. warplab never reads back Tune's own files (under ``tune/``, some
of them pickles): the sweep's results are the table and the trials' run folders.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Literal

from warplab.cli.sweep_space import SpaceEntry

METRIC = "episode_return"
"""What a trial reports to Tune each iteration: the mean return of the episodes that ended in it
(the last iteration's where none did; NaN before the first ends). Tune maximizes it."""


@dataclasses.dataclass
class SweepArgs:
    """Train trials of one task over a search space with Ray Tune: one trial per GPU by default, each
    a normal training run with its own run folder. Give the space as repeated --space PATH KIND
    VALUE... (kinds: uniform LOW HIGH, loguniform LOW HIGH, choice VALUE...), e.g. --space
    agent.ppo.learning_rate loguniform 1e-4 1e-3; --env.FIELD VALUE and --agent.FIELD VALUE set a
    field for every trial: docs/training.md, Sweeps."""

    task: str | None = None
    """Registered task (see `warplab list`). Default: the humanoid on a GPU, cartpole-balance on a CPU."""
    algo: Literal["agent", "ppo", "sac", "td3"] = "agent"
    """The learner of every trial (see `warplab train --help`)."""
    num_envs: int | None = None
    """Parallel worlds of each trial. Default: the task's own."""
    max_iterations: int | None = None
    """Iterations of each trial (ASHA's max_t). Default: the task's own."""
    seed: int | None = None
    """Seed of every trial's training (the same for all, so trials differ by their samples only) and of
    the sampling of the space. Default: the task's own."""
    num_samples: int = 4
    """Trials: samples drawn from the space."""
    gpus_per_trial: float | None = None
    """GPUs per trial, fractions allowed (0.5: two trials share a GPU). Default: 1 where Ray sees a
    GPU, else 0 (CPU trials)."""
    cpus_per_trial: float = 1.0
    """CPU cores Ray reserves for each trial."""
    max_concurrent_trials: int | None = None
    """Trials running at once. Default: as many as the resources allow."""
    scheduler: Literal["fifo", "asha"] = "fifo"
    """fifo: every trial runs --max-iterations; asha: asynchronous successive halving stops trials
    whose return falls behind at each rung (iterations grace_period x reduction_factor^k)."""
    grace_period: int = 10
    """ASHA: iterations every trial runs before it can be stopped."""
    reduction_factor: float = 2.0
    """ASHA: the rungs' spacing and the share of trials kept at each (1/reduction_factor)."""
    name: str = ""
    """Suffix of the sweep folder sweeps/<task>/<date>_<name>."""
    sweeps_dir: Path = Path("sweeps")
    """Where sweep folders are created."""
    num_cpus: int | None = None
    """CPU cores of the local Ray instance (ray.init's num_cpus). Default: Ray's own (all)."""


@dataclasses.dataclass(frozen=True)
class TrialSetup:
    """What every trial shares, sent to the Ray workers (plain values only)."""

    task: str
    algo: str
    num_envs: int | None
    max_iterations: int
    seed: int | None
    device: str
    runs_dir: Path
    overrides: tuple[str, ...]
    save_at: frozenset[int]
    """Iterations after which the trial saves a checkpoint before it reports: those where the
    scheduler may stop it (`stop_points`), which would end its process before the run's own last save."""


def run_trial(config: dict[str, Any], setup: TrialSetup) -> None:
    """One trial, in its Ray worker: ``warplab train`` with the trial's sample as overrides, reporting
    each iteration's `METRIC` (and the best so far, the iteration, the run folder) to Tune."""
    from ray import tune

    from warplab.cli.commands import TrainArgs, _train
    from warplab.cli.sweep_space import override_args

    trial_id = tune.get_context().get_trial_id()
    args = TrainArgs(
        task=setup.task,
        algo=setup.algo,  # type: ignore[arg-type]
        num_envs=setup.num_envs,
        device=setup.device,
        max_iterations=setup.max_iterations,
        seed=setup.seed,
        run_name=str(trial_id),
        runs_dir=setup.runs_dir,
    )
    returns = {"last": math.nan, "best": math.nan}

    def report(runner: Any) -> None:
        value = runner.last_scalars.get("Episode/return")
        if value is not None:
            returns["last"] = float(value)
            returns["best"] = value if math.isnan(returns["best"]) else max(returns["best"], value)
        saved = runner.iteration % runner.cfg.save_interval == 0
        if runner.log_dir is not None and runner.iteration in setup.save_at and not saved:
            runner.save()
        tune.report(
            {
                METRIC: returns["last"],
                "best_return": returns["best"],
                "iteration": runner.iteration,
                "run_folder": str(runner.log_dir),
            }
        )

    _train(args, [*setup.overrides, *override_args(config)], on_iteration=report)


def recording_asha(asha_class: type, **kwargs: Any) -> Any:
    """An instance of Ray Tune's ASHA scheduler class ``asha_class`` (passed in: Ray is imported only when
    a sweep runs) built with ``kwargs`` (``time_attr`` and ``max_t`` among them), which also records in
    ``stopped`` (a set of trial ids) every trial it decided to stop before ``max_t``.

    Tune ends a stopped trial's process asynchronously: a trial whose iterations take a second may report
    one or more further iterations, even its last, before it ends, so the last reported iteration cannot
    tell a stop from a finish.
    """

    time_attr, max_t = kwargs["time_attr"], kwargs["max_t"]

    class RecordingAsha(asha_class):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.stopped: set[str] = set()

        def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
            action = super().on_trial_result(tune_controller, trial, result)
            # ASHA also says STOP to a trial that reached max_t: that one finished.
            if action == self.STOP and result.get(time_attr, 0) < max_t:
                self.stopped.add(trial.trial_id)
            return action

    return RecordingAsha(**kwargs)


def stop_points(
    scheduler: str, max_iterations: int, grace_period: int, reduction_factor: float
) -> frozenset[int]:
    """Iterations after whose report Tune may stop a trial: the last, and with ASHA each rung
    (``grace_period x reduction_factor^k`` below the last, reached at the first iteration at or past it)."""
    points = {max_iterations}
    if scheduler == "asha":
        k = 0
        while (rung := grace_period * reduction_factor**k) < max_iterations:
            points.add(math.ceil(rung))
            k += 1
    return frozenset(points)


def _tune_space(space: list[SpaceEntry]) -> dict[str, Any]:
    from ray import tune

    out: dict[str, Any] = {}
    for entry in space:
        if entry.kind == "choice":
            out[entry.path] = tune.choice(list(entry.values))
        elif entry.kind == "uniform":
            out[entry.path] = tune.uniform(*entry.bounds())
        else:
            out[entry.path] = tune.loguniform(*entry.bounds())
    return out


def _check_args(args: SweepArgs) -> None:
    def need(ok: bool, text: str) -> None:
        if not ok:
            raise ValueError(text)

    need(args.num_samples >= 1, f"--num-samples must be >= 1, got {args.num_samples}")
    need(args.cpus_per_trial > 0, f"--cpus-per-trial must be > 0, got {args.cpus_per_trial}")
    need(
        args.gpus_per_trial is None or args.gpus_per_trial >= 0,
        f"--gpus-per-trial must be >= 0, got {args.gpus_per_trial}",
    )
    need(args.grace_period >= 1, f"--grace-period must be >= 1, got {args.grace_period}")
    need(args.reduction_factor > 1, f"--reduction-factor must be > 1, got {args.reduction_factor}")
    need(
        args.max_concurrent_trials is None or args.max_concurrent_trials >= 1,
        f"--max-concurrent-trials must be >= 1, got {args.max_concurrent_trials}",
    )


def sweep_command(args: SweepArgs, space_words: list[list[str]], unknown: list[str]) -> int:
    """``warplab sweep``: checks the space and the overrides against the task's configs, runs the
    trials with Ray Tune, then prints and writes the results table."""
    from warplab.atomic_files import atomic_write_text
    from warplab.cli.commands import default_task
    from warplab.cli.overrides import apply_text_overrides, refuse_cli_owned_fields, split_overrides
    from warplab.cli.paths import check_writable_folder
    from warplab.cli.sweep_space import check_space_fits, parse_space, table_csv, table_markdown, table_rows
    from warplab.envs.managers.term import ConfigError
    from warplab.sim import resolve_device
    from warplab.tasks import get_task, make_env_cfg

    _check_args(args)
    space = parse_space(space_words)
    overrides = split_overrides(unknown)
    refuse_cli_owned_fields(overrides["env"])
    try:
        import ray
        from ray import tune
        from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
        from ray.tune.search.basic_variant import BasicVariantGenerator
    except ImportError:
        raise ConfigError("warplab sweep needs Ray Tune: pip install 'warplab[sweep]'") from None

    # Everything a trial would refuse is refused here, before Ray starts (seconds) and the trials
    # build their envs (a minute).
    check_writable_folder(args.sweeps_dir, "--sweeps-dir")
    gpus = args.gpus_per_trial
    if gpus is None:
        # Ray counts the GPUs that CUDA sees; asking torch avoids starting Ray to learn it.
        gpus = 1.0 if resolve_device("auto").startswith("cuda") else 0.0
    device = "cuda" if gpus > 0 else "cpu"
    task = args.task or default_task(device)
    spec = get_task(task)
    if spec.agent_cfg_factory is None:
        raise ConfigError(f"task {task!r} has no learner settings registered (agent_cfg_factory)")
    env_cfg = apply_text_overrides(make_env_cfg(task), overrides["env"], "env")
    agent_cfg = apply_text_overrides(spec.agent_cfg_factory(), overrides["agent"], "agent")
    owned = {"num_envs": "--num-envs", "seed": "--seed", "device": "--gpus-per-trial"}
    check_space_fits(space, env_cfg, agent_cfg, owned)
    max_iterations = args.max_iterations if args.max_iterations is not None else agent_cfg.max_iterations
    if max_iterations < 1:
        raise ValueError(f"--max-iterations must be >= 1, got {max_iterations}")

    from warplab.rl import run_dir

    grace_period = min(args.grace_period, max_iterations)

    folder = run_dir(task, args.name, root=args.sweeps_dir).resolve()
    setup = TrialSetup(
        task=task,
        algo=args.algo,
        num_envs=args.num_envs,
        max_iterations=max_iterations,
        seed=args.seed,
        device=device,
        runs_dir=folder / "trials",
        overrides=tuple(unknown),
        save_at=stop_points(args.scheduler, max_iterations, grace_period, args.reduction_factor),
    )
    scheduler: Any = (
        recording_asha(
            ASHAScheduler,
            time_attr="training_iteration",
            max_t=max_iterations,
            grace_period=grace_period,
            reduction_factor=args.reduction_factor,
        )
        if args.scheduler == "asha"
        else FIFOScheduler()
    )
    print(
        f"warplab sweep: {args.num_samples} trials of {task} ({max_iterations} iterations each, "
        f"{gpus:g} GPU and {args.cpus_per_trial:g} CPU per trial, {args.scheduler}) in {folder}",
        flush=True,
    )
    tuner = tune.Tuner(
        tune.with_resources(
            tune.with_parameters(run_trial, setup=setup), {"cpu": args.cpus_per_trial, "gpu": gpus}
        ),
        param_space=_tune_space(space),
        tune_config=tune.TuneConfig(
            metric=METRIC,
            mode="max",
            num_samples=args.num_samples,
            scheduler=scheduler,
            search_alg=BasicVariantGenerator(random_state=args.seed),
            max_concurrent_trials=args.max_concurrent_trials,
        ),
        run_config=tune.RunConfig(name="tune", storage_path=str(folder), verbose=1),
    )
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False)
    try:
        results = tuner.fit()
    finally:
        if started_ray:
            ray.shutdown()

    trials = []
    for index in range(len(results)):
        result = results[index]
        metrics = result.metrics or {}
        iterations = int(metrics.get("iteration", 0))
        # A trial the scheduler stopped may still have reported an iteration or more (even its last)
        # before Tune ended its process, so the scheduler's own record decides, not the count.
        stopped = metrics.get("trial_id") in getattr(scheduler, "stopped", ())
        if result.error:
            status = "error"
        elif stopped or iterations < max_iterations:
            status = "stopped early"
        else:
            status = "done"
        run_folder = metrics.get("run_folder")
        trials.append(
            {
                "trial": metrics.get("trial_id", Path(result.path).name),
                "status": status,
                "iterations": iterations,
                "best_return": metrics.get("best_return"),
                "last_return": metrics.get(METRIC),
                "config": dict(result.config or {}),
                "run_folder": Path(run_folder) if run_folder and run_folder != "None" else None,
            }
        )
    header, rows = table_rows(trials, space)
    atomic_write_text(folder / "results.csv", table_csv(header, rows))
    markdown = table_markdown(header, rows)
    atomic_write_text(folder / "results.md", markdown)
    print(markdown, end="")
    print(f"sweep folder: {folder}\nresults: {folder / 'results.csv'}, {folder / 'results.md'}")
    return 1 if any(trial["status"] == "error" for trial in trials) else 0
