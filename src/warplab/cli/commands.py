"""What ``warplab list``, ``train`` and ``play`` do."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from warplab.cli.paths import check_writable_file, check_writable_folder

if TYPE_CHECKING:
    from collections.abc import Callable

    from warplab.envs.rl_env import RlEnv
    from warplab.rl.config import RunnerCfg
    from warplab.rl.run_common import RunnerBase

# The options' dataclasses are read by `warplab COMMAND --help`, which must not wait for torch and
# Warp: what the commands need beyond them is imported inside each command.


@dataclasses.dataclass
class TrainArgs:
    """Train a policy with PPO, SAC or TD3 (--algo). Change any field of the task's configs with
    --env.FIELD VALUE or --agent.FIELD VALUE (e.g. --env.episode_length_s 10
    --agent.ppo.learning_rate 3e-4, --agent.sac.batch_size 1024): docs/training.md."""

    task: str | None = None
    """Registered task (see `warplab list`). Default: the humanoid on a GPU, cartpole-balance on a CPU."""
    algo: Literal["agent", "ppo", "sac", "td3"] = "agent"
    """The learner: ppo (on-policy; settings --agent.ppo.*, --agent.policy.*), sac or td3
    (off-policy, with a replay buffer; settings --agent.sac.*, --agent.sac_policy.*), or agent: the
    task's agent config's own (--agent.algorithm), ppo for every registered task."""
    num_envs: int | None = None
    """Parallel worlds. Default: the task's own (thousands on a GPU, a few on a CPU)."""
    device: str = "auto"
    """auto (CUDA when present), cpu, cuda or cuda:N."""
    max_iterations: int | None = None
    """Iterations (PPO: one rollout and its update; SAC and TD3: --agent.sac.num_steps_per_env env
    steps, each followed by its updates). Default: the task's own."""
    seed: int | None = None
    """Seed of every random draw. Default: the task's own."""
    run_name: str = ""
    """Suffix of the run folder runs/<task>/<date>_<run_name>."""
    resume: Path | None = None
    """Checkpoint to continue from (model_<iteration>.pt of an earlier run)."""
    runs_dir: Path = Path("runs")
    """Where run folders are created."""
    video: bool = False
    """After training, write video.mp4 of the policy into the run folder."""
    video_seconds: float = 10.0
    """Length of that video, s of simulated time."""
    print_config: bool = False
    """Print the resolved configs and exit without training."""
    nproc_per_node: int | None = None
    """Train data-parallel with this many processes on this machine (one per GPU; on a CPU, gloo):
    starts `python -m torch.distributed.run` with this command. --num-envs is per process."""
    nnodes: str | None = None
    """Multi-node: torchrun's --nnodes (e.g. 2, or 1:4 for an elastic range)."""
    node_rank: int | None = None
    """Multi-node: torchrun's --node-rank, this machine's index."""
    rdzv_backend: str | None = None
    """Multi-node: torchrun's --rdzv-backend (c10d)."""
    rdzv_endpoint: str | None = None
    """Multi-node: torchrun's --rdzv-endpoint, host:port of the rendezvous."""
    rdzv_id: str | None = None
    """Multi-node: torchrun's --rdzv-id, the same on every node."""
    master_addr: str | None = None
    """Multi-node without a rendezvous backend: torchrun's --master-addr."""
    master_port: int | None = None
    """torchrun's --master-port."""


LAUNCH_OPTIONS = (
    "nnodes",
    "node_rank",
    "rdzv_backend",
    "rdzv_endpoint",
    "rdzv_id",
    "master_addr",
    "master_port",
)
"""The fields of `TrainArgs` passed through to ``torch.distributed.run`` as they are, when set."""


def torchrun_command(args: TrainArgs, argv: list[str]) -> list[str]:
    """The command line that starts ``warplab train`` under ``torch.distributed.run``: its launch options
    (``--nproc-per-node`` and the rendezvous options of `LAUNCH_OPTIONS` that are set, or
    ``--standalone`` when none is), then ``-m
    warplab.cli train`` and `argv`, this command's own arguments, unchanged (each rank sees it runs
    under torchrun and trains instead of launching again)."""
    launch = ["--nproc-per-node", str(args.nproc_per_node)]
    for name in LAUNCH_OPTIONS:
        value = getattr(args, name)
        if value is not None:
            launch += [f"--{name.replace('_', '-')}", str(value)]
    if len(launch) == 2:
        # One machine and no rendezvous asked for: torchrun's standalone mode finds a free port
        # (its default, 127.0.0.1:29500, may be taken by another run).
        launch.append("--standalone")
    return [sys.executable, "-m", "torch.distributed.run", *launch, "-m", "warplab.cli", "train", *argv]


def launch_torchrun(args: TrainArgs, argv: list[str]) -> int:
    """Run `torchrun_command` and return its exit status."""
    import subprocess

    if args.nproc_per_node is None or args.nproc_per_node < 1:
        raise ValueError(f"--nproc-per-node must be >= 1, got {args.nproc_per_node}")
    command = torchrun_command(args, argv)
    print(f"warplab train: {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, check=False).returncode


@dataclasses.dataclass
class PlayArgs:
    """Run a trained policy (deterministic actions, play mode) and write an MP4 that plays in real time."""

    checkpoint: Path
    """A model_<iteration>.pt written by `warplab train`."""
    task: str | None = None
    """Task to play in. Default: the task the checkpoint was trained on."""
    num_envs: int = 1
    """Worlds to simulate (the video shows world 0)."""
    device: str = "auto"
    """auto, cpu, cuda or cuda:N."""
    video: Path | None = None
    """Output MP4. Default: video.mp4 next to the checkpoint."""
    seconds: float = 10.0
    """Simulated time to run, s (at most 3600); the video lasts as long."""
    fps: float = 30.0
    """Frames per second of the video (at most 240); each frame shows the policy step nearest its time,
    so steps are skipped below 1/policy_dt (50 for most tasks) and repeated above."""
    width: int = 640
    """Pixels, 1 to 4096."""
    height: int = 480
    """Pixels, 1 to 4096."""
    renderer: str = "auto"
    """auto, egl, osmesa, glfw or warp (MuJoCo Warp's ray tracer, no GL library needed). auto: EGL, then
    MuJoCo Warp on a GPU; OSMesa, then EGL on a CPU; MUJOCO_GL, when set, names the GL backend to use."""


@dataclasses.dataclass
class ExportArgs:
    """Export a trained policy to ONNX (actor with observation normalization, deterministic actions)
    with its deployment metadata (joints, default pose, gains, observation terms): docs/deployment.md."""

    checkpoint: Path
    """A model_<iteration>.pt written by `warplab train`."""
    task: str | None = None
    """Task whose env gives the metadata. Default: the task the checkpoint was trained on."""
    out: Path | None = None
    """Output ONNX file. Default: the checkpoint's path with the suffix .onnx."""


def list_command() -> int:
    from warplab.tasks import get_task, list_tasks

    names = list_tasks()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:<{width}}  {get_task(name).description}")
    return 0


def check_checkpoint_file(path: Path, option: str) -> None:
    """Raises ``FileNotFoundError`` naming ``option`` unless ``path`` is a file (a folder is named as one)."""
    if path.is_dir():
        raise FileNotFoundError(
            f"{option} {path}: a folder; give a checkpoint file in it (model_<iteration>.pt)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"{option} {path}: no such checkpoint file")


def default_task(device: str) -> str:
    """The task `warplab train` runs when none is named: the walking humanoid on a GPU, the cart-pole on a CPU."""
    return "humanoid-velocity-flat" if device.startswith("cuda") else "cartpole-balance"


def check_rollout_fits(env: RlEnv, num_steps: int, device: str) -> None:
    """Refuses a rollout that cannot fit the device's free memory, before PPO allocates it.

    PPO keeps ``num_steps x num_envs`` samples (every observation group, the action with its mean
    and std, six scalars) and gathers each mini-batch into copies of about the same size again.
    """
    from warplab.envs.managers.term import ConfigError
    from warplab.sim.memory import format_bytes, free_memory

    floats = sum(math.prod(shape) for shape in env.observation_shapes.values()) + 3 * env.action_dim + 6
    per_world = 2 * num_steps * floats * 4
    free, source = free_memory(device)
    if env.num_envs * per_world > free:
        fit = free // per_world
        fix = (
            f"lower --num-envs (at most {fit}) or --agent.ppo.num_steps_per_env"
            if fit >= 1
            else f"lower --agent.ppo.num_steps_per_env (one world's rollout alone needs {format_bytes(per_world)})"
        )
        raise ConfigError(
            f"PPO's rollout of {num_steps} steps x {env.num_envs} worlds needs about "
            f"{format_bytes(env.num_envs * per_world)} but {format_bytes(free)} is {source} on {device}: {fix}"
        )


def check_replay_fits(env: RlEnv, cfg: RunnerCfg, device: str) -> None:
    """Refuses a replay buffer that cannot fit the device's free memory, before SAC or TD3 allocate it.

    The buffer holds ``replay_size_per_env x num_envs`` transitions (`warplab.rl.replay.replay_nbytes`:
    observations twice, action, reward, flags) of the groups the networks read (``policy``, and
    ``critic`` where the env has it, as `OffPolicyRunner` stores them); each update gathers
    ``batch_size`` of them into a batch of about that size per transition again, whatever the
    world count.
    """
    from warplab.envs.managers.term import ConfigError
    from warplab.rl.replay import replay_nbytes
    from warplab.sim.memory import format_bytes, free_memory

    sac, actions = cfg.sac, env.action_dim
    shapes = {g: s for g, s in env.observation_shapes.items() if g in ("policy", "critic")}
    needed = replay_nbytes(sac.replay_size_per_env, env.num_envs, shapes, actions)
    batch = replay_nbytes(1, sac.batch_size, shapes, actions)
    free, source = free_memory(device)
    if needed + batch <= free:
        return
    room = max(free - batch, 0)
    worlds = room // replay_nbytes(sac.replay_size_per_env, 1, shapes, actions)
    size = room // replay_nbytes(1, env.num_envs, shapes, actions)
    raise ConfigError(
        f"{cfg.algorithm.upper()}'s replay buffer of {sac.replay_size_per_env} transitions per world x "
        f"{env.num_envs} worlds needs about {format_bytes(needed + batch)} but {format_bytes(free)} is "
        f"{source} on {device}: lower --agent.sac.replay_size_per_env (at most {size} with these worlds) "
        f"or --num-envs (at most {worlds} with this size)"
    )


def check_learner_fits(env: RlEnv, cfg: RunnerCfg, device: str) -> None:
    """Refuses what the learner of ``cfg.algorithm`` would allocate beyond the device's free memory:
    PPO's rollout (`check_rollout_fits`) or the SAC/TD3 replay buffer (`check_replay_fits`)."""
    if cfg.algorithm == "ppo":
        check_rollout_fits(env, cfg.ppo.num_steps_per_env, device)
    else:
        check_replay_fits(env, cfg, device)


def check_resume_algorithm(path: Path, checkpoint: Mapping[str, Any], algorithm: str) -> None:
    """Raises ``CheckpointError`` (one line naming both) when ``--resume`` names a checkpoint of
    another algorithm than the run's: its networks and optimizer state do not fit the learner."""
    from warplab.rl.checkpoint import CheckpointError
    from warplab.rl.inference import checkpoint_algorithm

    try:
        saved = checkpoint_algorithm(checkpoint)
    except ValueError as error:
        raise CheckpointError(f"--resume {path}: {error}") from error
    if saved != algorithm:
        raise CheckpointError(
            f"--resume {path} was trained with {saved}, but this run trains {algorithm}: "
            f"pass --algo {saved} to resume it (or train {algorithm} without --resume)"
        )


def train_command(args: TrainArgs, unknown: list[str], argv: list[str] | None = None) -> int:
    """``warplab train``. With ``--nproc-per-node`` (outside torchrun) it starts torchrun on `argv`, the
    command's own arguments; under torchrun with several ranks each rank trains its own worlds."""
    from warplab.rl import distributed

    if args.nproc_per_node is not None and not distributed.under_torchrun():
        return launch_torchrun(args, list(unknown) if argv is None else argv)
    try:
        return _train(args, unknown)
    finally:
        distributed.destroy_process_group()


def _train(
    args: TrainArgs, unknown: list[str], on_iteration: Callable[[RunnerBase], None] | None = None
) -> int:
    """One training run (one process, or one rank under torchrun). `on_iteration` is passed to
    ``runner.learn``: ``warplab sweep`` reports each iteration of a trial to its scheduler there."""
    from warplab.cli.overrides import apply_text_overrides, refuse_cli_owned_fields, split_overrides
    from warplab.envs.managers.term import ConfigError
    from warplab.envs.rl_env import RlEnv, validate_cfg
    from warplab.rl import distributed, make_runner, run_dir, validate
    from warplab.sim import resolve_device
    from warplab.tasks import get_task, make_env_cfg

    device = resolve_device(args.device)
    if distributed.torchrun_world_size() > 1:
        device = distributed.init_process_group(device)
    rank = distributed.rank()
    # Only rank 0 speaks and writes; the other ranks train in silence.
    say: Any = print if rank == 0 else (lambda *_, **__: None)
    task = args.task or default_task(device)
    spec = get_task(task)
    overrides = split_overrides(unknown)
    refuse_cli_owned_fields(overrides["env"])
    env_cfg = apply_text_overrides(make_env_cfg(task), overrides["env"], "env")
    if args.num_envs is not None:
        env_cfg.num_envs = args.num_envs  # 0 or less is refused below, not replaced by the default
    else:
        env_cfg.num_envs = spec.num_envs_gpu if device.startswith("cuda") else spec.num_envs_cpu
    env_cfg.device = device
    if spec.agent_cfg_factory is None:
        raise ConfigError(f"task {task!r} has no learner settings registered (agent_cfg_factory)")
    agent_cfg = apply_text_overrides(spec.agent_cfg_factory(), overrides["agent"], "agent")
    agent_cfg.experiment_name = task
    if args.algo != "agent":
        agent_cfg.algorithm = args.algo  # --algo wins over --agent.algorithm
    if args.max_iterations is not None:
        agent_cfg.max_iterations = args.max_iterations
    if args.seed is not None:
        agent_cfg.seed = args.seed
    agent_cfg.run_name = args.run_name or agent_cfg.run_name
    env_cfg.seed = distributed.rank_seed(agent_cfg.seed, rank)
    validate(agent_cfg)
    validate_cfg(env_cfg)
    if args.resume is not None:
        check_checkpoint_file(args.resume, "--resume")
    if args.resume is not None:
        from warplab.rl.checkpoint import load_checkpoint

        # An unreadable checkpoint, one with NaN weights, or one of another algorithm is refused
        # before the env is built.
        check_resume_algorithm(args.resume, load_checkpoint(args.resume), agent_cfg.algorithm)
    if args.print_config:
        from warplab.rl.config import to_plain

        resolved = {
            "task": task,
            "algorithm": agent_cfg.algorithm,
            "env": to_plain(env_cfg),
            "agent": to_plain(agent_cfg),
        }
        say(json.dumps(resolved, indent=2))
        return 0

    if args.video:
        # Checked before the env is built, not once training is over.
        from warplab.viz import choose_renderer

        check_video_args(args.video_seconds, prefix="--video-")
        choose_renderer(device)
    # Checked before the env is built (and its kernels compiled), not when the first checkpoint is saved.
    if rank == 0:
        check_writable_folder(args.runs_dir, "--runs-dir")
    threads = ""
    if device == "cpu":
        from warplab.rl.cpu_threads import use_cpu_threads

        threads = f", {use_cpu_threads()}"
    # PPO's line is as it always was; an off-policy run says which learner it is.
    learner = "" if agent_cfg.algorithm == "ppo" else f"{agent_cfg.algorithm.upper()} on "
    ranks = distributed.world_size()
    on = f"on {device}" if ranks == 1 else f"per rank on each of {ranks} ranks ({device} here)"
    say(f"warplab train: {learner}{task} with {env_cfg.num_envs} worlds {on}{threads}", flush=True)
    env = RlEnv(env_cfg)
    check_learner_fits(env, agent_cfg, device)
    if env.compiles_managers:
        # Else the user sees a first iteration that takes half a minute and no reason for it.
        say(
            "managers compiled with torch.compile (--env.compile_managers): the first run on a machine, "
            "and each new world count, compiles them for about half a minute before the first iteration "
            "ends; later runs load them from Inductor's cache in seconds",
            flush=True,
        )
    log_dir = run_dir(task, agent_cfg.run_name, root=args.runs_dir) if rank == 0 else None
    from warplab.deploy.export import checkpoint_exporter

    runner = make_runner(env, agent_cfg, log_dir=log_dir, exporter=checkpoint_exporter(env, task))
    if args.resume is not None:
        runner.load(args.resume)
        say(f"resumed from {args.resume} at iteration {runner.iteration}", flush=True)
    try:
        runner.learn(agent_cfg.max_iterations, on_iteration=on_iteration)
    except KeyboardInterrupt:
        if log_dir is not None:
            path = runner.save()
            print(f"\ninterrupted: saved {path}", file=sys.stderr)
        raise
    finally:
        runner.close()
    if log_dir is None:
        return 0
    checkpoint = log_dir / f"model_{runner.iteration}.pt"
    print(f"run folder: {log_dir}\ncheckpoint: {checkpoint}")
    if args.video:
        out = _write_video(
            task, checkpoint, "cpu" if device == "cpu" else device, log_dir / "video.mp4", args.video_seconds
        )
        print(f"video: {out}")
    return 0


MAX_VIDEO_SECONDS = 3600.0
"""The longest video, s of simulated time."""
MAX_VIDEO_FPS = 240.0
"""The highest frame rate of a video."""


def check_video_args(
    seconds: float, fps: float = 30.0, width: int = 640, height: int = 480, prefix: str = "--"
) -> None:
    """Refuses a video's length, frame rate or size before anything is built, naming the option."""
    from warplab.envs.managers.term import ConfigError
    from warplab.viz.camera import MAX_VIDEO_SIZE

    for option, value, most in (("seconds", seconds, MAX_VIDEO_SECONDS), ("fps", fps, MAX_VIDEO_FPS)):
        if not (math.isfinite(value) and 0 < value <= most):
            raise ConfigError(f"{prefix}{option} must be > 0 and at most {most:g}, got {value}")
    for option, value in (("width", width), ("height", height)):
        if not 1 <= value <= MAX_VIDEO_SIZE:
            raise ConfigError(f"--{option} must be 1 to {MAX_VIDEO_SIZE} pixels, got {value}")


def _check_play_args(args: PlayArgs) -> None:
    from warplab.envs.managers.term import ConfigError
    from warplab.viz import RENDERERS

    check_video_args(args.seconds, args.fps, args.width, args.height)
    if args.num_envs < 1:
        raise ConfigError(f"--num-envs must be a positive integer, got {args.num_envs}")
    if args.renderer not in RENDERERS:
        raise ConfigError(f"--renderer {args.renderer!r}: use one of {', '.join(RENDERERS)}")


def play_command(args: PlayArgs, unknown: list[str]) -> int:
    from warplab.cli.overrides import refuse_cli_owned_fields, split_overrides
    from warplab.envs.managers.term import ConfigError
    from warplab.sim import resolve_device
    from warplab.viz.video import check_video_path

    _check_play_args(args)
    if unknown:
        overrides = split_overrides(unknown)
        if overrides["agent"]:
            raise ConfigError("play takes no --agent.* options")
        refuse_cli_owned_fields(overrides["env"], {"num_envs": "--num-envs", "device": "--device"})
    check_checkpoint_file(args.checkpoint, "--checkpoint")
    video = args.video or args.checkpoint.with_name("video.mp4")
    check_video_path(video)
    # Before the env is built and the rollout played, not when the video is written.
    check_writable_file(video, "--video" if args.video else "--video (default: next to the checkpoint)")
    out = _write_video(
        args.task,
        args.checkpoint,
        resolve_device(args.device),
        video,
        args.seconds,
        args.num_envs,
        args.fps,
        args.width,
        args.height,
        split_overrides(unknown)["env"] if unknown else {},
        args.renderer,
    )
    print(f"video: {out}")
    return 0


def _write_video(
    task: str | None,
    checkpoint: Path,
    device: str,
    out: Path,
    seconds: float,
    num_envs: int = 1,
    fps: float = 30.0,
    width: int = 640,
    height: int = 480,
    env_overrides: dict[str, str] | None = None,
    renderer: str = "auto",
) -> Path:
    """Plays ``checkpoint`` for ``seconds`` in world 0 and writes ``out``: ``fps`` frames a second in
    real time, drawn on ``device``'s machine by the renderer ``choose_renderer`` finds (EGL or MuJoCo
    Warp's ray tracer on a GPU, OSMesa on a CPU), which is chosen before anything is built."""
    from warplab.cli.overrides import apply_text_overrides
    from warplab.envs.managers.term import ConfigError
    from warplab.envs.rl_env import RlEnv
    from warplab.rl.inference import load_policy
    from warplab.tasks import make_env_cfg
    from warplab.viz import choose_renderer, frame_indices, record_qpos, write_mp4
    from warplab.viz.backends import DESCRIPTIONS
    from warplab.viz.render import iter_frames

    renderer = choose_renderer(device, renderer)
    policy, trained_on = load_policy(checkpoint, device=device)
    task = task or trained_on
    if task is None:
        raise ConfigError(f"{checkpoint} does not say which task it was trained on: pass --task")
    env_cfg = apply_text_overrides(make_env_cfg(task, play=True), env_overrides or {}, "env")
    env_cfg.num_envs, env_cfg.device = num_envs, device
    env = RlEnv(env_cfg)
    policy.check_compatible(env.observation_shapes, env.action_dim, checkpoint)
    qpos, summary = record_qpos(env, lambda obs: policy.act_inference(obs), seconds)
    steps = frame_indices(len(qpos), env.policy_dt, fps)
    viewer = env_cfg.viewer
    frames = iter_frames(
        env.sim.world_mj_model(0),  # the recorded world, with its own sizes, colours and shapes
        qpos[steps],
        width,
        height,
        viewer.track_body,
        viewer.distance,
        viewer.elevation,
        viewer.azimuth,
        device=device,
        renderer=renderer,
    )
    path = write_mp4(frames, out, fps=fps)
    print(
        f"played {seconds:.1f} s: return {summary['return']:.1f}, episodes ended {summary['episodes_finished']:.0f}; "
        f"{len(steps)} frames at {fps:g} fps drawn by {DESCRIPTIONS[renderer]}"
    )
    return path


def export_command(args: ExportArgs) -> int:
    from warplab.deploy.export import export_checkpoint

    check_checkpoint_file(args.checkpoint, "--checkpoint")
    # Before the checkpoint is loaded and the env built, not when the ONNX file is written.
    out = args.out or args.checkpoint.with_suffix(".onnx")
    check_writable_file(out, "--out" if args.out else "--out (default: the checkpoint's path with .onnx)")
    out = export_checkpoint(args.checkpoint, args.out, args.task)
    print(f"policy: {out}")
    return 0
