"""The on-policy training loop: collect a rollout, update PPO, log, save; and resume."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from warplab.rl import distributed
from warplab.rl.checkpoint import (
    CheckpointError,
    capture_rng_states,
    check_model_state,
    load_checkpoint,
    restore_rng_states,
)
from warplab.rl.config import RunnerCfg, to_plain, validate
from warplab.rl.env_protocol import VecEnv
from warplab.rl.gae import bootstrap_timeouts
from warplab.rl.networks import ActorCritic
from warplab.rl.ppo import PPO
from warplab.rl.run_common import RunnerBase, perf_scalars, run_dir, seed_everything, synchronize
from warplab.rl.storage import RolloutStorage

__all__ = ["OnPolicyRunner", "run_dir", "seed_everything"]


class OnPolicyRunner(RunnerBase):
    """Trains an `ActorCritic` with PPO on any env that follows `VecEnv` (see docs/training.md).

    Construction seeds torch, numpy and `random` with ``cfg.seed`` and builds the networks; the
    env is reset (with ``seed=cfg.seed``) at the first `learn()` unless `load()` restored it. Under
    data-parallel training (`warplab.rl.distributed`) the seed is ``cfg.seed + rank`` and every rank
    starts from rank 0's weights.

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

    policy: ActorCritic

    def __init__(
        self,
        env: VecEnv,
        cfg: RunnerCfg,
        log_dir: str | Path | None = None,
        device: torch.device | str | None = None,
        exporter: Callable[[ActorCritic, Path], Any] | None = None,
    ) -> None:
        validate(cfg)
        super().__init__(env, cfg, log_dir, device, exporter)
        batch_size = cfg.ppo.num_steps_per_env * env.num_envs
        if cfg.ppo.num_mini_batches > batch_size:
            raise ValueError(
                f"RunnerCfg.ppo.num_mini_batches must be <= num_steps_per_env * num_envs = {batch_size}, "
                f"got {cfg.ppo.num_mini_batches}"
            )

        seed_everything(self.seed)
        self.policy = ActorCritic(env.observation_shapes, env.action_dim, cfg.policy).to(self.device)
        # Every rank starts from rank 0's weights (each drew its own from its own seed).
        distributed.broadcast_module(self.policy)
        self.ppo = PPO(self.policy, cfg.ppo, seed=self.seed)
        self.storage = RolloutStorage(
            cfg.ppo.num_steps_per_env, env.num_envs, env.observation_shapes, env.action_dim, self.device
        )

    # Training -------------------------------------------------------------------------------------

    def collect_rollout(self) -> None:
        """Step the env ``num_steps_per_env`` times with the current policy and fill the storage.

        Runs under ``torch.inference_mode()``; the storage's buffers were allocated outside it, so
        what is copied into them can be used by autograd in the update. Time-outs are bootstrapped
        with the critic's value of ``info["final_obs"]``; terminations are not.
        """
        obs = self._reset_env(self.seed) if self._obs is None else self._obs
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
        self.policy.update_normalizers(self.storage.flat_obs(), all_ranks=self.world_size > 1)
        return losses

    def _iterate(self) -> dict[str, float]:
        """One iteration: collect one rollout, update; returns its scalars (losses, episode
        statistics, ``Perf/*``)."""
        samples = self.storage.batch_size
        started = time.perf_counter()
        self.collect_rollout()
        synchronize(self.device)
        collected = time.perf_counter()
        losses = self.update()
        synchronize(self.device)
        learned = time.perf_counter()
        self.iteration += 1

        # The iteration's only host syncs: the losses and the env's episode statistics.
        values = torch.stack([value.float() for value in losses.values()]).tolist()
        scalars = dict(zip(losses.keys(), values, strict=True))
        scalars.update(self.env.pop_episode_stats())
        scalars.update(
            perf_scalars(
                samples,
                collected - started,
                learned - collected,
                samples * self.iteration,
                self.device,
            )
        )
        return scalars

    # Checkpoints ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything `load` needs to continue this run exactly, as ``weights_only``-safe values."""
        rng = capture_rng_states()
        rng["minibatch"] = self.ppo.generator.get_state()
        return {
            **self._common_state(rng),
            "model": self.policy.state_dict(),
            "optimizer": self.ppo.optimizer.state_dict(),
            "learning_rate": self.ppo.learning_rate,
        }

    def load(self, path: str | Path, load_optimizer: bool = True) -> dict[str, Any]:
        """Restore a checkpoint written by `save` and return it.

        Restores the weights and normalizers, the optimizer and learning rate (unless
        `load_optimizer` is False, e.g. to fine-tune), the iteration, every RNG, and the env:
        when the env has ``set_state`` and the checkpoint holds its state for as many worlds,
        the env and the last observation are restored, so training continues exactly as if it
        had not stopped. Otherwise the env's generator (if any) is restored and the worlds are
        reset from it: training goes on, but episodes in progress restart.

        Under data-parallel training every rank loads the weights, normalizers, optimizer and
        iteration; rank 0 restores the random states and the env as above, the other ranks draw
        fresh ones (`RunnerBase._start_rank_streams`), whatever number of ranks wrote the file.

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
        if self.rank != 0:
            self.ppo.generator.manual_seed(self._start_rank_streams())
            return checkpoint
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
