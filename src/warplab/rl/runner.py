"""The on-policy training loop: collect a rollout, update PPO, log, save; and resume."""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from warplab.atomic_files import atomic_write_bytes, atomic_write_json
from warplab.rl.checkpoint import (
    FORMAT_VERSION,
    CheckpointError,
    capture_rng_states,
    check_model_state,
    load_checkpoint,
    restore_rng_states,
    save_checkpoint,
)
from warplab.rl.config import RunnerCfg, to_plain, validate
from warplab.rl.env_protocol import VecEnv
from warplab.rl.gae import bootstrap_timeouts
from warplab.rl.networks import ActorCritic
from warplab.rl.ppo import PPO
from warplab.rl.run_logger import ConsoleProgress, ScalarWriter, import_wandb
from warplab.rl.storage import RolloutStorage


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


def _synchronize(device: torch.device) -> None:
    # Only for timing: without it, GPU work queued during collection would be billed to learning.
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _memory_scalars(device: torch.device) -> dict[str, float]:
    """Device memory held by torch's caching allocator, MiB (CUDA only: empty elsewhere). Read from
    the allocator's own counters on the host, so it costs no sync; logged every iteration so that a
    long run shows any growth."""
    if device.type != "cuda":
        return {}
    return {
        "Perf/torch_memory_allocated_mib": torch.cuda.memory_allocated(device) / 2**20,
        "Perf/torch_memory_reserved_mib": torch.cuda.memory_reserved(device) / 2**20,
    }


class OnPolicyRunner:
    """Trains an `ActorCritic` with PPO on any env that follows `VecEnv` (see docs/training.md).

    Construction seeds torch, numpy and `random` with ``cfg.seed`` and builds the networks; the
    env is reset (with ``seed=cfg.seed``) at the first `learn()` unless `load()` restored it.

    Args:
        env: the vectorized env.
        cfg: the run's settings; checked with `validate`.
        log_dir: run folder for event files, checkpoints and ``resolved_config.json``; None writes
            nothing to disk.
        device: where the networks and the rollout live; default ``env.device``.
        exporter: ``exporter(policy, path)`` writes the policy to ``path`` (an ``.onnx`` file); the
            runner calls it after each checkpoint while ``cfg.export_onnx`` is on (``warplab train``
            passes ``warplab.deploy.export.checkpoint_exporter``). Its failure is a warning, not
            the end of training.
    """

    def __init__(
        self,
        env: VecEnv,
        cfg: RunnerCfg,
        log_dir: str | Path | None = None,
        device: torch.device | str | None = None,
        exporter: Callable[[ActorCritic, Path], Any] | None = None,
    ) -> None:
        validate(cfg)
        self.exporter = exporter
        self.env = env
        self.cfg = cfg
        self.device = torch.device(device if device is not None else env.device)
        self.log_dir = Path(log_dir) if log_dir is not None else None
        batch_size = cfg.ppo.num_steps_per_env * env.num_envs
        if cfg.ppo.num_mini_batches > batch_size:
            raise ValueError(
                f"RunnerCfg.ppo.num_mini_batches must be <= num_steps_per_env * num_envs = {batch_size}, "
                f"got {cfg.ppo.num_mini_batches}"
            )
        if cfg.logger == "wandb" and self.log_dir is not None:
            import_wandb()  # Fail now, not after the first iteration.

        seed_everything(cfg.seed)
        self.policy = ActorCritic(env.observation_shapes, env.action_dim, cfg.policy).to(self.device)
        self.ppo = PPO(self.policy, cfg.ppo, seed=cfg.seed)
        self.storage = RolloutStorage(
            cfg.ppo.num_steps_per_env, env.num_envs, env.observation_shapes, env.action_dim, self.device
        )
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

    # Training -------------------------------------------------------------------------------------

    def collect_rollout(self) -> None:
        """Step the env ``num_steps_per_env`` times with the current policy and fill the storage.

        Runs under ``torch.inference_mode()``; the storage's buffers were allocated outside it, so
        what is copied into them can be used by autograd in the update. Time-outs are bootstrapped
        with the critic's value of ``info["final_obs"]``; terminations are not.
        """
        obs = self._reset_env(self.cfg.seed) if self._obs is None else self._obs
        cfg = self.cfg.ppo
        env, policy, storage = self.env, self.policy, self.storage
        storage.clear()
        with torch.inference_mode():
            for _ in range(cfg.num_steps_per_env):
                actions, log_probs, mean, std = policy.act(obs)
                storage.record_action(obs, actions, log_probs, mean, std, policy.evaluate(obs))
                next_obs, rewards, terminated, truncated, info = env.step(actions.to(env.device))
                if "final_obs" not in info:
                    raise KeyError(
                        "env.step() must return info['final_obs'] (the terminal observation of worlds that "
                        "finished this step) so that time-outs can be bootstrapped; see docs/training.md"
                    )
                final_values = policy.evaluate(self._to_device(info["final_obs"]))
                terminated = terminated.to(self.device)
                truncated = truncated.to(self.device)
                rewards = bootstrap_timeouts(
                    rewards.to(self.device, torch.float32), terminated, truncated, final_values, cfg.gamma
                )
                storage.record_outcome(rewards, terminated | truncated)
                obs = self._to_device(next_obs)
            storage.compute_returns(policy.evaluate(obs), cfg.gamma, cfg.lam)
        self._obs = obs

    def update(self) -> dict[str, torch.Tensor]:
        """One PPO update on the stored rollout, then the observation normalizers.

        The normalizers see the rollout only after the update, so the update evaluates the policy
        with exactly the statistics the rollout was collected with (the first mini-batch's
        probability ratio is exactly 1), and the next rollout uses the new statistics.
        """
        losses = self.ppo.update(self.storage)
        self.policy.update_normalizers(self.storage.flat_obs())
        return losses

    def learn(self, num_iterations: int | None = None) -> None:
        """Train for `num_iterations` (default ``cfg.max_iterations``) more iterations.

        Each iteration collects one rollout, updates, logs and, every ``save_interval``
        iterations and at the end, saves ``model_<iteration>.pt`` in the run folder.
        """
        num_iterations = self.cfg.max_iterations if num_iterations is None else int(num_iterations)
        if num_iterations < 1:
            raise ValueError(f"num_iterations must be >= 1, got {num_iterations}")
        if self._obs is None:
            self._reset_env(self.cfg.seed)
        self._open_log()
        progress = ConsoleProgress(self.cfg.console, self.iteration, num_iterations, self.cfg.print_interval)
        samples = self.storage.batch_size
        try:
            for _ in range(num_iterations):
                started = time.perf_counter()
                self.collect_rollout()
                _synchronize(self.device)
                collected = time.perf_counter()
                losses = self.update()
                _synchronize(self.device)
                learned = time.perf_counter()
                self.iteration += 1

                # The iteration's only host syncs: the losses and the env's episode statistics.
                values = torch.stack([value.float() for value in losses.values()]).tolist()
                scalars = dict(zip(losses.keys(), values, strict=True))
                scalars.update(self.env.pop_episode_stats())
                collection_s, learning_s = collected - started, learned - collected
                scalars.update(
                    {
                        "Perf/collection_steps_per_s": samples / collection_s,
                        "Perf/learning_steps_per_s": samples / learning_s,
                        "Perf/total_steps_per_s": samples / (collection_s + learning_s),
                        "Perf/collection_time_s": collection_s,
                        "Perf/learning_time_s": learning_s,
                        "Perf/total_env_steps": float(samples * self.iteration),
                        **_memory_scalars(self.device),
                    }
                )
                self.last_scalars = scalars
                if self._writer is not None:
                    self._writer.write(scalars, self.iteration)
                progress.update(self.iteration, scalars)
                if self.log_dir is not None and self.iteration % self.cfg.save_interval == 0:
                    self.save()
            if self.log_dir is not None and self.iteration % self.cfg.save_interval != 0:
                self.save()
        finally:
            progress.close()
            if self._writer is not None:
                self._writer.flush()

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
        env = self.env
        rng = capture_rng_states()
        rng["minibatch"] = self.ppo.generator.get_state()
        env_rng = _env_generator(env)
        if env_rng is not None:
            rng["env"] = env_rng.get_state()
        get_state = getattr(env, "get_state", None)
        return {
            "format_version": FORMAT_VERSION,
            "iteration": self.iteration,
            "model": self.policy.state_dict(),
            "optimizer": self.ppo.optimizer.state_dict(),
            "learning_rate": self.ppo.learning_rate,
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

    def _export_onnx(self, exporter: Callable[[ActorCritic, Path], Any], checkpoint: Path) -> None:
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

    def load(self, path: str | Path, load_optimizer: bool = True) -> dict[str, Any]:
        """Restore a checkpoint written by `save` and return it.

        Restores the weights and normalizers, the optimizer and learning rate (unless
        `load_optimizer` is False, e.g. to fine-tune), the iteration, every RNG, and the env:
        when the env has ``set_state`` and the checkpoint holds its state for as many worlds,
        the env and the last observation are restored, so training continues exactly as if it
        had not stopped. Otherwise the env's generator (if any) is restored and the worlds are
        reset from it: training goes on, but episodes in progress restart.

        Raises:
            CheckpointError: the file is missing, unreadable, or does not fit this policy.
        """
        checkpoint = load_checkpoint(path)
        check_model_state(path, checkpoint, self.policy, to_plain(self.cfg.policy))
        self.policy.load_state_dict(checkpoint["model"])
        if load_optimizer:
            try:
                self.ppo.load_optimizer_state(checkpoint["optimizer"], checkpoint["learning_rate"])
            except (ValueError, KeyError, TypeError) as error:
                raise CheckpointError(
                    f"checkpoint {path}: the optimizer state does not fit: {error}"
                ) from error
        self.iteration = int(checkpoint["iteration"])
        rng = checkpoint["rng"]
        try:
            restore_rng_states(rng)
            self.ppo.generator.set_state(rng["minibatch"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as error:
            raise CheckpointError(
                f"checkpoint {path}: its random generator states cannot be restored "
                f"({type(error).__name__}: {error}); it was not written by this warplab's runner"
            ) from error
        self._restore_env(path, checkpoint)
        return checkpoint

    def _restore_env(self, path: str | Path, checkpoint: Mapping[str, Any]) -> None:
        env = self.env
        env_rng = checkpoint["rng"].get("env")
        generator = _env_generator(env)
        # set_state is an optional member of VecEnv (see env_protocol), so it is looked up here.
        set_state = getattr(env, "set_state", None)
        saved_for_this_env = (
            checkpoint.get("env_state") is not None
            and checkpoint.get("last_obs") is not None
            and checkpoint.get("num_envs") == env.num_envs
        )
        if callable(set_state) and saved_for_this_env:
            _check_last_obs(path, checkpoint["last_obs"], env)
            # set_state receives CPU tensors, as loaded; the env moves them to its device.
            try:
                set_state(checkpoint["env_state"])
            except ValueError as error:  # The env's EnvStateError says what differs.
                raise CheckpointError(
                    f"checkpoint {path}: the env's saved state does not fit: {error}"
                ) from error
            if env_rng is not None and generator is not None:
                _set_generator_state(generator, env_rng, path)
            self._obs = self._to_device(checkpoint["last_obs"])
            return
        warnings.warn(
            f"resuming from {path} without the env's state (the env has no set_state, or the checkpoint was "
            f"saved with another number of worlds): the worlds are reset and training continues, but not "
            f"exactly as the original run would have",
            stacklevel=3,
        )
        if env_rng is not None and generator is not None:
            _set_generator_state(generator, env_rng, path)
        self._reset_env(seed=None)


def _env_generator(env: VecEnv) -> torch.Generator | None:
    """The env's optional ``rng`` (see `VecEnv`), or None when it has no torch generator."""
    rng = getattr(env, "rng", None)
    return rng if isinstance(rng, torch.Generator) else None


def _check_last_obs(path: str | Path, last_obs: Any, env: VecEnv) -> None:
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


def _set_generator_state(generator: torch.Generator, state: torch.Tensor, path: str | Path) -> None:
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
