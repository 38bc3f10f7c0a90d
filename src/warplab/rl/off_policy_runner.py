"""The off-policy training loop (SAC, TD3): step the env, store the transition, update, log, save."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from fractions import Fraction
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
from warplab.rl.off_policy_networks import OffPolicyActorCritic
from warplab.rl.replay import ReplayBuffer
from warplab.rl.run_common import (
    RunnerBase,
    perf_scalars,
    seed_everything,
    set_generator_state,
    synchronize,
)
from warplab.rl.sac import SAC


class SectionTimer:
    """Seconds spent in one section of a loop (the updates), read once at the end of an iteration.

    On CUDA each section is bracketed by two events on the current stream, so timing it never makes
    the host wait; `total_s` (after a synchronize) adds up the device time between them. On the CPU
    the work is done when the call returns, and the host's clock is read.

    Args:
        device: where the timed work runs.
        capacity: most sections per iteration (events are allocated once).
    """

    def __init__(self, device: torch.device, capacity: int) -> None:
        self.cuda = device.type == "cuda"
        self._events = (
            [
                (torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                for _ in range(capacity)
            ]
            if self.cuda
            else []
        )
        self._count = 0
        self._host_s = 0.0
        self._started = 0.0

    def start(self) -> None:
        if self.cuda:
            self._events[self._count][0].record()
        else:
            self._started = time.perf_counter()

    def stop(self) -> None:
        if self.cuda:
            self._events[self._count][1].record()
            self._count += 1
        else:
            self._host_s += time.perf_counter() - self._started

    def total_s(self) -> float:
        """Seconds in the sections since the last call (the device must be synchronized first)."""
        total = (
            self._host_s + sum(start.elapsed_time(end) for start, end in self._events[: self._count]) / 1e3
        )
        self._count, self._host_s = 0, 0.0
        return total


EDGE_MASS_WARNING = 0.1
"""Share of the C51 target mass on an end atom of the support above which the runner warns that the
returns leave ``[v_min, v_max]``: with a range that covers them it falls towards 0 as the critics
learn (it starts near ``1 / num_atoms``, the untrained critics' spread over every atom). The warning
also needs three times that starting share, for coarse supports."""


class OffPolicyRunner(RunnerBase):
    """Trains an `OffPolicyActorCritic` with SAC or TD3 (``cfg.algorithm``) on any `VecEnv`.

    Each iteration takes ``cfg.sac.num_steps_per_env`` env steps; after each the runner stores the
    transition of every world in the replay buffer (bootstrapping from ``info["final_obs"]``),
    merges the observations into the normalizers and takes the updates the replay ratio asks for:
    ``replay_ratio * num_envs / batch_size`` per step, the fraction carried over exactly on the host,
    so each transition is sampled ``replay_ratio`` times on average whatever the world count. The
    first ``random_steps`` steps act uniformly at random; updates start after ``learning_starts``
    steps. Its public surface is `OnPolicyRunner`'s.

    Args:
        env: the vectorized env.
        cfg: the run's settings; checked with `validate`; ``cfg.algorithm`` is "sac" or "td3".
        log_dir: run folder for event files, checkpoints and ``resolved_config.json``; None writes
            nothing to disk.
        device: where the networks and the replay buffer live; default ``env.device``.
        exporter: ``exporter(policy, path)`` writes the policy to ``path`` (an ``.onnx`` file) after
            each checkpoint while ``cfg.export_onnx`` is on; its failure is a warning.
    """

    policy: OffPolicyActorCritic

    def __init__(
        self,
        env: VecEnv,
        cfg: RunnerCfg,
        log_dir: str | Path | None = None,
        device: torch.device | str | None = None,
        exporter: Callable[[OffPolicyActorCritic, Path], Any] | None = None,
    ) -> None:
        validate(cfg)
        if cfg.algorithm not in ("sac", "td3"):
            raise ValueError(
                f"RunnerCfg.algorithm must be 'sac' or 'td3' for OffPolicyRunner, got {cfg.algorithm!r} "
                f"(warplab.rl.make_runner picks the runner of the algorithm)"
            )
        super().__init__(env, cfg, log_dir, device, exporter)
        sac = cfg.sac
        seed_everything(self.seed)
        self.policy = OffPolicyActorCritic(
            env.observation_shapes, env.action_dim, cfg.sac_policy, sac, deterministic=cfg.algorithm == "td3"
        ).to(self.device)
        # Every rank starts from rank 0's weights (each drew its own from its own seed).
        distributed.broadcast_module(self.policy)
        self.agent = SAC(self.policy, sac, cfg.algorithm, seed=self.seed)
        # Only the groups the networks read are stored (an env may provide others, images say).
        stored_groups = dict.fromkeys(("policy", self.policy.critic_group))
        self.replay = ReplayBuffer(
            sac.replay_size_per_env,
            env.num_envs,
            {group: env.observation_shapes[group] for group in stored_groups},
            env.action_dim,
            self.device,
            n_step=sac.n_step,
            gamma=sac.gamma,
        )
        self.updates_per_step = Fraction(sac.replay_ratio) * env.num_envs / sac.batch_size
        """Updates per env step, exactly (replay_ratio * num_envs / batch_size)."""
        self.env_steps = 0
        """Env steps each world has taken in training so far."""
        self.update_steps = 0
        """Env steps after which updates were due (the first ``learning_starts`` are not); with
        `updates_per_step` it says how many updates are due in all, so no fraction is lost."""
        self._timer = SectionTimer(self.device, sac.num_steps_per_env)
        self._range_warned: set[str] = set()

    # Training -------------------------------------------------------------------------------------

    def collect_step(self) -> None:
        """One env step of every world: act (uniformly at random during ``random_steps``), step,
        store the transition, update the normalizers. Under ``torch.inference_mode()``; no host sync."""
        obs = self._reset_env(self.seed) if self._obs is None else self._obs
        env, policy = self.env, self.policy
        with torch.inference_mode():
            if self.env_steps < self.cfg.sac.random_steps:
                scale = policy.action_scale
                actions = scale * (2.0 * torch.rand(env.num_envs, env.action_dim, device=self.device) - 1.0)
            else:
                actions = policy.act(obs)
            next_obs, rewards, terminated, truncated, info = env.step(actions.to(env.device))
            if "final_obs" not in info:
                raise KeyError(
                    "env.step() must return info['final_obs'] (the terminal observation of worlds that "
                    "finished this step) so that time-outs can be bootstrapped; see docs/training.md"
                )
            self.replay.add(
                obs,
                actions,
                rewards.to(self.device, torch.float32),
                self._to_device(info["final_obs"]),
                terminated.to(self.device),
                truncated.to(self.device),
            )
            policy.update_normalizers(obs, all_ranks=self.world_size > 1)
            self._obs = self._to_device(next_obs)
        self.env_steps += 1

    def updates_due(self) -> int:
        """Updates to take after the step just collected (0 during ``learning_starts``, and after a
        resume without the replay buffer until it holds ``learning_starts`` steps again)."""
        starts = self.cfg.sac.learning_starts
        if self.env_steps < starts or self.replay.num_added_steps < min(starts, self.replay.capacity_per_env):
            return 0
        self.update_steps += 1
        rate = self.updates_per_step
        return int(rate * self.update_steps) - int(rate * (self.update_steps - 1))

    def _iterate(self) -> dict[str, float]:
        """One iteration: ``sac.num_steps_per_env`` env steps, each followed by its updates; returns
        its scalars (mean update statistics, episode statistics, ``Perf/*``, ``Train/*``)."""
        num_envs = self.env.num_envs
        samples = self.cfg.sac.num_steps_per_env * num_envs
        started = time.perf_counter()
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        for _ in range(self.cfg.sac.num_steps_per_env):
            self.collect_step()
            updates = self.updates_due()
            if updates == 0:
                continue
            self._timer.start()
            for _ in range(updates):
                for key, value in self.agent.train_step(self.replay).items():
                    sums[key] = sums[key] + value if key in sums else value
                    counts[key] = counts.get(key, 0) + 1
            self._timer.stop()
        synchronize(self.device)
        total_s = time.perf_counter() - started
        learning_s = self._timer.total_s()
        self.iteration += 1

        # The iteration's only host syncs: the statistics and the env's episode statistics.
        values = torch.stack([value.float() for value in sums.values()]).tolist() if sums else []
        scalars = {key: v / counts[key] for key, v in zip(sums, values, strict=True)}
        scalars.update(self.env.pop_episode_stats())
        collection_s = max(total_s - learning_s, 1e-9)
        scalars.update(
            perf_scalars(samples, collection_s, learning_s, self.env_steps * num_envs, self.device)
        )
        self._warn_if_returns_leave_the_support(scalars)
        scalars["Perf/update_share"] = learning_s / (collection_s + learning_s)
        scalars["Train/updates"] = float(self.agent.num_updates)
        scalars["Train/replay_transitions"] = float(self.replay.num_stored_steps * num_envs)
        return scalars

    def _warn_if_returns_leave_the_support(self, scalars: Mapping[str, float]) -> None:
        """Warns once per end when the C51 targets pile up on an end atom: the returns the critic
        sees lie beyond ``[v_min, v_max]``, every good action then looks equally good (the clipped
        end), and learning stalls."""
        sac = self.cfg.sac
        for end, value in (("v_max", sac.v_max), ("v_min", sac.v_min)):
            mass = scalars.get(f"Critic/target_mass_at_{end}")
            threshold = max(EDGE_MASS_WARNING, 3.0 / sac.num_atoms)
            if mass is None or mass < threshold or end in self._range_warned:
                continue
            self._range_warned.add(end)
            direction = "raise" if end == "v_max" else "lower"
            warnings.warn(
                f"sac.{end}={value:g}: {mass:.0%} of the critics' target distribution sits on the "
                f"{'top' if end == 'v_max' else 'bottom'} atom at iteration {self.iteration}, so returns "
                f"beyond it are clipped; {direction} sac.{end} to cover about (reward per step) / "
                f"(1 - gamma) = {self._return_scale_hint(scalars)} (docs/training.md, 'distributional')",
                stacklevel=3,
            )

    def _return_scale_hint(self, scalars: Mapping[str, float]) -> str:
        """The discounted return of this iteration's episodes' mean reward per step, as text."""
        ret, length = scalars.get("Episode/return"), scalars.get("Episode/length")
        if not ret or not length:
            return "the largest per-step reward / (1 - gamma)"
        return (
            f"{ret / length / (1.0 - self.cfg.sac.gamma):,.0f} at the latest episodes' mean reward per step"
        )

    # Checkpoints ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything `load` needs to continue this run exactly, as ``weights_only``-safe values.

        The replay buffer is included only with ``cfg.sac.save_replay`` (it can be gigabytes);
        without it a resumed run refills the buffer and is not the same run after that.
        """
        rng = capture_rng_states()
        rng["sampling"] = self.agent.generator.get_state()
        return {
            **self._common_state(rng),
            "algorithm": self.cfg.algorithm,
            "model": self.policy.state_dict(),
            "optimizer": self.agent.optimizer_state(),
            # The checkpoint format asks for one rate: the critics' (SAC's rates do not change).
            "learning_rate": float(self.cfg.sac.critic_learning_rate),
            "log_alpha": self.agent.log_alpha.detach().cpu().clone(),
            "counters": {
                "env_steps": self.env_steps,
                "update_steps": self.update_steps,
                "updates": self.agent.num_updates,
            },
            "replay": self.replay.state_dict() if self.cfg.sac.save_replay else None,
        }

    def load(self, path: str | Path, load_optimizer: bool = True) -> dict[str, Any]:
        """Restore a checkpoint written by `save` and return it.

        Restores the networks (targets and normalizers included), log(alpha), the optimizers
        (unless `load_optimizer` is False), the iteration and step counters, every RNG (the
        sampling generator's too), the replay buffer when the checkpoint holds it, and the env as
        `OnPolicyRunner.load` does. With the buffer and the env's state, training continues
        exactly as if it had not stopped. Under data-parallel training every rank restores the
        saved buffer (the one rank 0 wrote) and the networks; only rank 0 restores the random
        states and the env, the others draw fresh ones (`RunnerBase._start_rank_streams`).

        Raises:
            CheckpointError: the file is missing or unreadable, or was trained with another
                algorithm or networks, or its replay buffer does not fit this one.
        """
        checkpoint = load_checkpoint(path)
        saved_algorithm = checkpoint.get("algorithm", checkpoint["config"].get("algorithm", "ppo"))
        if saved_algorithm != self.cfg.algorithm:
            raise CheckpointError(
                f"checkpoint {path} was trained with algorithm {saved_algorithm!r}; this runner trains "
                f"{self.cfg.algorithm!r} (set RunnerCfg.algorithm={saved_algorithm!r} to resume it)"
            )
        check_model_state(path, checkpoint, self.policy, to_plain(self.cfg.sac_policy))
        self.policy.load_state_dict(checkpoint["model"])
        try:
            with torch.no_grad():
                self.agent.log_alpha.copy_(checkpoint["log_alpha"])
            if load_optimizer:
                self.agent.load_optimizer_state(checkpoint["optimizer"])
            counters = checkpoint["counters"]
            self.env_steps = int(counters["env_steps"])
            self.update_steps = int(counters["update_steps"])
            self.agent.num_updates = int(counters["updates"])
        except (ValueError, KeyError, TypeError, RuntimeError) as error:
            raise CheckpointError(
                f"checkpoint {path}: its optimizer state, temperature or counters do not fit "
                f"({type(error).__name__}: {error})"
            ) from error
        self.iteration = int(checkpoint["iteration"])
        # Every rank restores the saved buffer (rank 0's), so that all ranks agree on when updates are
        # due; the transitions each rank adds from then on are its own.
        self._restore_replay(path, checkpoint.get("replay"))
        if self.rank != 0:
            self.agent.generator.manual_seed(self._start_rank_streams())
            return checkpoint
        rng = checkpoint["rng"]
        try:
            restore_rng_states(rng)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as error:
            raise CheckpointError(
                f"checkpoint {path}: its random generator states cannot be restored "
                f"({type(error).__name__}: {error}); it was not written by this warplab's runner"
            ) from error
        if "sampling" in rng:
            set_generator_state(self.agent.generator, rng["sampling"], path)
        self._restore_env(path, checkpoint)
        return checkpoint

    def _restore_replay(self, path: str | Path, state: Mapping[str, Any] | None) -> None:
        if state is None:
            # Saved without the buffer: this runner's buffer is kept (empty in a fresh runner), and
            # updates wait until it holds learning_starts steps (`updates_due`).
            return
        try:
            self.replay.load_state_dict(state)
        except ValueError as error:
            raise CheckpointError(f"checkpoint {path}: its replay buffer does not fit: {error}") from error
