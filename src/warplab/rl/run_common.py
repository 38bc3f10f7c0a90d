"""What the on-policy and the off-policy runners share: run folders, seeding, the env's reset and
restore, the log files, the per-iteration scalars, checkpoint files and ONNX export."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from warplab.atomic_files import atomic_write_bytes, atomic_write_json
from warplab.rl import distributed
from warplab.rl.checkpoint import FORMAT_VERSION, CheckpointError, save_checkpoint
from warplab.rl.config import RunnerCfg, to_plain
from warplab.rl.env_protocol import VecEnv
from warplab.rl.run_logger import ConsoleProgress, ScalarWriter, import_wandb


def run_dir(task: str, run_name: str = "", root: str | Path = "runs") -> Path:
    """Create and return ``<root>/<task>/<YYYY-mm-dd_HH-MM-SS>[_<run_name>]/``.

    Two runs started in the same second get ``_1``, ``_2``... appended rather than sharing a folder.
    """
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    base = Path(root) / task / (f"{stamp}_{run_name}" if run_name else stamp)
    path, suffix = base, 0
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            suffix += 1
            path = base.with_name(f"{base.name}_{suffix}")


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy's global RNG and Python's `random`."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def synchronize(device: torch.device) -> None:
    # Only for timing: without it, GPU work queued during collection would be billed to learning.
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def memory_scalars(device: torch.device) -> dict[str, float]:
    """Device memory held by torch's caching allocator, MiB (CUDA only: empty elsewhere). Read from
    the allocator's own counters on the host, so it costs no sync; logged every iteration so that a
    long run shows any growth."""
    if device.type != "cuda":
        return {}
    return {
        "Perf/torch_memory_allocated_mib": torch.cuda.memory_allocated(device) / 2**20,
        "Perf/torch_memory_reserved_mib": torch.cuda.memory_reserved(device) / 2**20,
    }


def perf_scalars(
    samples: int, collection_s: float, learning_s: float, total_env_steps: int, device: torch.device
) -> dict[str, float]:
    """The ``Perf/*`` scalars of one iteration that collected `samples` transitions (all worlds) in
    `collection_s` seconds and learned for `learning_s` seconds; `total_env_steps` since the start.
    ``Perf/learning_steps_per_s`` is left out of an iteration that did not learn (an off-policy
    warm-up)."""
    scalars = {
        "Perf/collection_steps_per_s": samples / collection_s,
        "Perf/learning_steps_per_s": samples / learning_s if learning_s > 0 else None,
        "Perf/total_steps_per_s": samples / (collection_s + learning_s),
        "Perf/collection_time_s": collection_s,
        "Perf/learning_time_s": learning_s,
        "Perf/total_env_steps": float(total_env_steps),
        **memory_scalars(device),
    }
    return {key: value for key, value in scalars.items() if value is not None}


class RunnerBase:
    """The parts of a runner that do not depend on the algorithm. A subclass builds ``policy`` and
    its learner, and defines ``_iterate`` (one iteration: `learn` runs them), ``state`` and ``load``.

    Args:
        env: the vectorized env.
        cfg: the run's settings (already validated by the subclass).
        log_dir: run folder for event files, checkpoints and ``resolved_config.json``; None writes
            nothing to disk. Under data-parallel training (`warplab.rl.distributed`) only rank 0
            writes: the other ranks ignore it and keep quiet on the console.
        device: where the networks live; default ``env.device``.
        exporter: ``exporter(policy, path)`` writes the policy to ``path`` (an ``.onnx`` file) after
            each checkpoint while ``cfg.export_onnx`` is on; its failure is a warning.
    """

    policy: nn.Module
    """The networks being trained (built by the subclass)."""

    def __init__(
        self,
        env: VecEnv,
        cfg: RunnerCfg,
        log_dir: str | Path | None,
        device: torch.device | str | None,
        exporter: Callable[[Any, Path], Any] | None,
    ) -> None:
        self.exporter = exporter
        self.env = env
        self.cfg = cfg
        self.device = torch.device(device if device is not None else env.device)
        self.rank = distributed.rank()
        """This process's rank under data-parallel training; 0 in a single-process run."""
        self.world_size = distributed.world_size()
        """Ranks training together; 1 in a single-process run."""
        self.seed = distributed.rank_seed(cfg.seed, self.rank)
        """Seed of this rank's worlds, mini-batches, samples and noise (``cfg.seed + rank``)."""
        self.log_dir = Path(log_dir) if log_dir is not None and self.rank == 0 else None
        self._console = cfg.console if self.rank == 0 else "off"
        if cfg.logger == "wandb" and self.log_dir is not None:
            import_wandb()  # Fail now, not after the first iteration.
        self.iteration = 0
        """Iterations completed so far (also the number in ``model_<iteration>.pt``)."""
        self.last_scalars: dict[str, float] = {}
        """The last iteration's logged scalars, {tag: value}."""
        self._obs: dict[str, torch.Tensor] | None = None
        self._writer: ScalarWriter | None = None

    # Observations ---------------------------------------------------------------------------------

    def _to_device(self, obs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: value.to(self.device) for name, value in obs.items()}

    def _reset_env(self, seed: int | None) -> dict[str, torch.Tensor]:
        """Reset every world; keeps and returns the observation on the learner's device."""
        obs, _ = self.env.reset(seed=seed)
        self._obs = self._to_device(obs)
        return self._obs

    # Iterations -----------------------------------------------------------------------------------

    def learn(
        self,
        num_iterations: int | None = None,
        on_iteration: Callable[[RunnerBase], None] | None = None,
    ) -> None:
        """Train for `num_iterations` (default ``cfg.max_iterations``) more iterations.

        Each iteration is the learner's own (`_iterate`: PPO collects one rollout and updates; SAC
        and TD3 take ``sac.num_steps_per_env`` env steps, each followed by its updates); then it is
        logged and, every ``save_interval`` iterations and at the end, ``model_<iteration>.pt`` is
        saved in the run folder.

        `on_iteration`, when given, is called with the runner after each iteration is logged and
        saved (its scalars are ``last_scalars``), once the event files are flushed: a sweep reports
        the iteration to its scheduler there, which may end the process without returning.
        """
        num_iterations = self.cfg.max_iterations if num_iterations is None else int(num_iterations)
        if num_iterations < 1:
            raise ValueError(f"num_iterations must be >= 1, got {num_iterations}")
        if self._obs is None:
            self._reset_env(self.seed)
        self._open_log()
        progress = ConsoleProgress(self._console, self.iteration, num_iterations, self.cfg.print_interval)
        try:
            for _ in range(num_iterations):
                self._finish_iteration(self._iterate(), progress)
                if on_iteration is not None:
                    if self._writer is not None:
                        self._writer.flush()
                    on_iteration(self)
            if self.log_dir is not None and self.iteration % self.cfg.save_interval != 0:
                self.save()
        finally:
            progress.close()
            if self._writer is not None:
                self._writer.flush()

    def _iterate(self) -> dict[str, float]:
        """One iteration of the learner, counted in ``self.iteration``; returns its scalars."""
        raise NotImplementedError

    def _finish_iteration(self, scalars: dict[str, float], progress: ConsoleProgress) -> None:
        """Log one finished iteration's scalars and save when its number is due."""
        self.last_scalars = scalars
        if self._writer is not None:
            self._writer.write(scalars, self.iteration)
        progress.update(self.iteration, scalars)
        if self.log_dir is not None and self.iteration % self.cfg.save_interval == 0:
            self.save()

    def close(self) -> None:
        """Close the event files and the W&B run."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # Logging --------------------------------------------------------------------------------------

    def resolved_config(self) -> dict[str, Any]:
        """The runner's and the env's configs, and the env's shapes, as plain values."""
        env = self.env
        return {
            "runner": to_plain(self.cfg),
            "env": to_plain(getattr(env, "cfg", None)),
            "env_info": {
                "num_envs": int(env.num_envs),
                "action_dim": int(env.action_dim),
                "observation_shapes": {name: list(shape) for name, shape in env.observation_shapes.items()},
                "policy_dt": float(env.policy_dt),
                "max_episode_length": int(env.max_episode_length),
                "device": str(env.device),
            },
        }

    def _open_log(self) -> None:
        if self.log_dir is None or self._writer is not None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        config = self.resolved_config()
        atomic_write_json(self.log_dir / "resolved_config.json", config, indent=2)
        self._writer = ScalarWriter(self.log_dir, self.cfg, config)

    # Checkpoints ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything `load` needs to continue this run exactly, as ``weights_only``-safe values."""
        raise NotImplementedError

    def _start_rank_streams(self) -> int:
        """After `load` on a rank other than 0: reseed torch, numpy and `random` and reset this rank's
        worlds from `distributed.resume_seed`, and return that seed for the learner's own generators.

        A checkpoint holds rank 0's random states, env state and last observations only; restored on
        another rank they would make it draw rank 0's worlds and samples again.
        """
        seed = distributed.resume_seed(self.cfg.seed, self.rank, self.iteration)
        seed_everything(seed)
        self._reset_env(seed)
        return seed

    def _common_state(self, rng: dict[str, Any]) -> dict[str, Any]:
        """The checkpoint entries every runner writes; `rng` is `capture_rng_states` plus the
        learner's own generators (the env's is added here)."""
        env = self.env
        env_rng = env_generator(env)
        if env_rng is not None:
            rng["env"] = env_rng.get_state()
        get_state = getattr(env, "get_state", None)
        return {
            "format_version": FORMAT_VERSION,
            "iteration": self.iteration,
            "rng": rng,
            "env_state": get_state() if callable(get_state) else None,
            "last_obs": None
            if self._obs is None
            else {k: v.detach().cpu().clone() for k, v in self._obs.items()},
            "config": to_plain(self.cfg),
            "env_config": to_plain(getattr(env, "cfg", None)),
            "obs_shapes": {name: list(shape) for name, shape in env.observation_shapes.items()},
            "action_dim": int(env.action_dim),
            "num_envs": int(env.num_envs),
            # Informative only: any number of ranks resumes it (docs/training.md, "Several GPUs").
            "world_size": self.world_size,
        }

    def save(self, path: str | Path | None = None) -> Path:
        """Write a checkpoint atomically; default path ``<log_dir>/model_<iteration>.pt``.

        Then, while ``cfg.export_onnx`` is on, ``model_<iteration>.onnx`` and ``policy.onnx``.

        Raises:
            CheckpointError: the weights, normalizers or optimizer state hold NaN or inf (training
                diverged); nothing is written, and the files already in the run folder are kept.
        """
        if path is None:
            if self.log_dir is None:
                raise ValueError("save() needs a path when the runner has no log_dir")
            path = self.log_dir / f"model_{self.iteration}.pt"
        saved = save_checkpoint(path, self.state())
        if self.cfg.export_onnx and self.exporter is not None:
            self._export_onnx(self.exporter, Path(saved))
        return saved

    def _export_onnx(self, exporter: Callable[[Any, Path], Any], checkpoint: Path) -> None:
        """``<checkpoint>.onnx`` and ``policy.onnx`` (a copy of the latest) beside the checkpoint."""
        out = checkpoint.with_suffix(".onnx")
        target = out
        try:
            exporter(self.policy, out)
            target = out.with_name("policy.onnx")
            atomic_write_bytes(target, out.read_bytes())
        except Exception as error:  # noqa: BLE001 - an export must never end a training run.
            warnings.warn(
                f"could not write {target} beside the checkpoint ({type(error).__name__}: {error}); training goes "
                "on. Export later with `warplab export --checkpoint`, or turn this off with "
                "--agent.export-onnx False",
                stacklevel=2,
            )

    def _restore_env(self, path: str | Path, checkpoint: Mapping[str, Any]) -> None:
        env = self.env
        env_rng = checkpoint["rng"].get("env")
        generator = env_generator(env)
        # set_state is an optional member of VecEnv (see env_protocol), so it is looked up here.
        set_state = getattr(env, "set_state", None)
        saved_for_this_env = (
            checkpoint.get("env_state") is not None
            and checkpoint.get("last_obs") is not None
            and checkpoint.get("num_envs") == env.num_envs
        )
        if callable(set_state) and saved_for_this_env:
            check_last_obs(path, checkpoint["last_obs"], env)
            # set_state receives CPU tensors, as loaded; the env moves them to its device.
            try:
                set_state(checkpoint["env_state"])
            except ValueError as error:  # The env's EnvStateError says what differs.
                raise CheckpointError(
                    f"checkpoint {path}: the env's saved state does not fit: {error}"
                ) from error
            if env_rng is not None and generator is not None:
                set_generator_state(generator, env_rng, path)
            self._obs = self._to_device(checkpoint["last_obs"])
            return
        warnings.warn(
            f"resuming from {path} without the env's state (the env has no set_state, or the checkpoint was "
            f"saved with another number of worlds): the worlds are reset and training continues, but not "
            f"exactly as the original run would have",
            stacklevel=3,
        )
        if env_rng is not None and generator is not None:
            set_generator_state(generator, env_rng, path)
        self._reset_env(seed=None)


def env_generator(env: VecEnv) -> torch.Generator | None:
    """The env's optional ``rng`` (see `VecEnv`), or None when it has no torch generator."""
    rng = getattr(env, "rng", None)
    return rng if isinstance(rng, torch.Generator) else None


def check_last_obs(path: str | Path, last_obs: Any, env: VecEnv) -> None:
    """Raise `CheckpointError` unless the saved last observations are ``{group: [num_envs, *shape]}``
    tensors of this env: the first rollout of the resumed run starts from them."""
    expected = {name: [env.num_envs, *shape] for name, shape in env.observation_shapes.items()}
    if isinstance(last_obs, Mapping):
        saved: Any = {
            name: list(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            for name, value in last_obs.items()
        }
    else:
        saved = type(last_obs).__name__
    if saved != expected:
        raise CheckpointError(
            f"checkpoint {path}: its last observations have shapes {saved}, this env gives {expected}"
        )


def set_generator_state(generator: torch.Generator, state: torch.Tensor, path: str | Path) -> None:
    """Restores the env's generator, or, when the checkpoint's state is of a generator on another
    kind of device (a CUDA run resumed on the CPU: their states differ in size), warns and keeps
    this generator's own stream: the run continues, but its random draws are not the original's."""
    try:
        generator.set_state(state)
    except RuntimeError as error:
        warnings.warn(
            f"{path}: the env's random generator was saved on another kind of device ({error}); its "
            f"stream starts from this env's seed instead",
            stacklevel=3,
        )
