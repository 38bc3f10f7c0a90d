"""The PPO update: epochs of mini-batch gradient steps over one rollout."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from warplab.rl import distributed
from warplab.rl.config import PpoCfg
from warplab.rl.graphed_update import MiniBatchStepGraph
from warplab.rl.losses import gaussian_kl, ppo_losses
from warplab.rl.networks import ActorCritic
from warplab.rl.storage import MiniBatch, RolloutStorage

STAT_KEYS = ("surrogate", "value", "entropy", "total", "kl", "clip_fraction", "grad_norm")
"""The statistics each mini-batch step adds up (``PPO.mini_batch_step``)."""

_ADAM_IMPLEMENTATION_KEYS = ("foreach", "fused", "capturable", "differentiable")
"""Adam's options that pick an implementation rather than change the math."""


def adapt_learning_rate(lr: float, kl: float, cfg: PpoCfg) -> float:
    """rsl_rl's adaptive rule: lr / 1.5 when KL > 2 * desired_kl, lr * 1.5 when KL < desired_kl / 2.

    The result is clamped to [cfg.min_learning_rate, cfg.max_learning_rate]. The specification of
    `adapt_learning_rate_`, which applies the same rule on the device.
    """
    if kl > 2.0 * cfg.desired_kl:
        lr = lr / 1.5
    elif kl < 0.5 * cfg.desired_kl:
        lr = lr * 1.5
    return min(max(lr, cfg.min_learning_rate), cfg.max_learning_rate)


def adapt_learning_rate_(lr: torch.Tensor, kl: torch.Tensor, cfg: PpoCfg) -> torch.Tensor:
    """`adapt_learning_rate` on the device, in place, without reading `kl` on the host.

    Args:
        lr: 0-d float64 tensor, the learning rate; overwritten with the new rate.
        kl: 0-d tensor, the mini-batch's mean KL (float32 is fine).

    Returns: `lr`. Bit for bit the float rule: the KL is widened to float64 before the
    comparisons (a float32 comparison would round ``2 * desired_kl`` first), and float64
    arithmetic on the rate is Python's float arithmetic.
    """
    kl = kl.to(torch.float64)
    new_lr = torch.where(
        kl > 2.0 * cfg.desired_kl, lr / 1.5, torch.where(kl < 0.5 * cfg.desired_kl, lr * 1.5, lr)
    )
    return torch.clamp(new_lr, cfg.min_learning_rate, cfg.max_learning_rate, out=lr)


class PPO:
    """Owns the optimizer, the learning rate and the mini-batch shuffling of one policy.

    The learning rate is a 0-d float64 tensor on the policy's device (`lr`) that Adam reads
    directly, so the adaptive schedule never reads the KL on the host. On CUDA, Adam is the fused
    implementation (one kernel for every parameter), which takes the rate as a float32 tensor:
    a copy of `lr` made on the device after each change. On the CPU, Adam reads `lr` itself and
    steps exactly as with a Python float rate.

    Args:
        policy: the actor-critic to train.
        cfg: PPO settings.
        seed: seed of the CPU generator that shuffles mini-batches.
        fused_adam: use Adam's fused implementation; None (default) means on CUDA only, so the
            CPU keeps the numerics that examples/ppo_single_file.py reproduces.
    """

    def __init__(
        self, policy: ActorCritic, cfg: PpoCfg, seed: int = 0, fused_adam: bool | None = None
    ) -> None:
        self.policy = policy
        self.cfg = cfg
        device = next(policy.parameters()).device
        # `torch.full` fills on the device; `torch.tensor(x, device=...)` would copy from the host.
        self.lr = torch.full((), float(cfg.learning_rate), dtype=torch.float64, device=device)
        """0-d float64 tensor on the policy's device: the current learning rate."""
        fused = device.type == "cuda" if fused_adam is None else bool(fused_adam)
        self._adam_lr = self.lr.to(torch.float32) if fused else self.lr
        self._distributed = distributed.is_distributed()
        """Whether the gradients and the KL are averaged across ranks (`warplab.rl.distributed`)."""
        # Under data-parallel training the mini-batch step runs eagerly: its all-reduce sits between
        # the backward pass and Adam's step, in the middle of what the graph records, and a collective
        # captured in a graph would tie every rank's replays to NCCL's own capture support.
        self._graph_update = bool(cfg.graph_update) and device.type == "cuda" and not self._distributed
        """Whether mini-batch steps replay a CUDA graph (``cfg.graph_update``; CUDA only, one rank only)."""
        self._graph: MiniBatchStepGraph | None = None
        # A captured Adam step must keep its step counters on the device (`capturable`).
        self.optimizer = torch.optim.Adam(
            policy.parameters(),
            lr=self._adam_lr,
            fused=fused or None,
            capturable=self._graph_update,
        )
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(seed)

    @property
    def learning_rate(self) -> float:
        """The current learning rate as a Python float (reads the device: not for the hot loop)."""
        return float(self.lr)

    def set_learning_rate(self, lr: float) -> None:
        """Set the learning rate of every parameter group."""
        self.lr.fill_(float(lr))
        if self._adam_lr is not self.lr:
            self._adam_lr.copy_(self.lr)
        for group in self.optimizer.param_groups:
            group["lr"] = self._adam_lr

    def load_optimizer_state(self, state: Mapping[str, Any], learning_rate: float) -> None:
        """Load Adam's state (``optimizer.state_dict()`` of a run on any device) and the rate.

        The saved groups' implementation options (fused on CUDA, not on the CPU) are replaced by
        this optimizer's before loading, so Adam's step counters land where this implementation
        keeps them, and the groups read this PPO's rate tensor again.

        Raises:
            ValueError, KeyError: the state does not fit the policy's parameters.
        """
        implementation = {key: self.optimizer.defaults[key] for key in _ADAM_IMPLEMENTATION_KEYS}
        groups = [{**group, **implementation} for group in state["param_groups"]]
        self.optimizer.load_state_dict({**state, "param_groups": groups})
        self.set_learning_rate(learning_rate)
        # Adam's state tensors are new objects now: a recorded graph would update the old ones.
        self._graph = None

    def update(self, storage: RolloutStorage) -> dict[str, torch.Tensor]:
        """`_update`, with TF32 matmuls on CUDA while it runs when ``cfg.tf32_matmul`` is on.

        The switch is torch's process-wide one, so it is restored before returning: the env's and
        the collection's matmuls keep their precision.
        """
        if not self.cfg.tf32_matmul:
            return self._update(storage)
        previous = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = True
        try:
            return self._update(storage)
        finally:
            torch.backends.cuda.matmul.allow_tf32 = previous

    def _update(self, storage: RolloutStorage) -> dict[str, torch.Tensor]:
        """Run ``num_learning_epochs * num_mini_batches`` gradient steps on a full rollout.

        `storage` must hold advantages and returns (`RolloutStorage.compute_returns`).

        Nothing here reads a device value on the host: the adaptive schedule updates the rate
        tensor that Adam reads (`adapt_learning_rate_`), and the statistics stay on the device,
        so the host queues mini-batch after mini-batch without waiting for the device.

        Returns: 0-d tensors on the storage's device, averaged over the mini-batches:
        ``Loss/surrogate``, ``Loss/value``, ``Loss/entropy``, ``Loss/total``, ``Policy/kl``,
        ``Policy/clip_fraction``, ``Policy/grad_norm``, plus ``Policy/learning_rate`` (last LR)
        and ``Policy/action_std`` (mean over action dimensions after the update).
        """
        cfg = self.cfg
        if cfg.normalize_advantages:
            # Over the whole rollout rather than per mini-batch: one estimate from T * N samples.
            adv = storage.advantages
            storage.advantages.copy_((adv - adv.mean()) / (adv.std() + 1e-8))

        sums = {key: torch.zeros((), device=storage.device) for key in STAT_KEYS}
        indices = storage.sample_indices(cfg.num_mini_batches, cfg.num_learning_epochs, self.generator)
        graph = self._mini_batch_graph(storage)
        num_updates = 0
        for index in indices:
            if graph is not None:
                graph.step(index, sums)
            else:
                self.mini_batch_step(storage.gather(index), sums)
            num_updates += 1

        means = {key: value / num_updates for key, value in sums.items()}
        return {
            "Loss/surrogate": means["surrogate"],
            "Loss/value": means["value"],
            "Loss/entropy": means["entropy"],
            "Loss/total": means["total"],
            "Policy/kl": means["kl"],
            "Policy/clip_fraction": means["clip_fraction"],
            "Policy/grad_norm": means["grad_norm"],
            "Policy/learning_rate": self.lr.to(torch.float32),
            "Policy/action_std": self.policy.action_std.detach().mean(),
        }

    def mini_batch_step(
        self, batch: MiniBatch, sums: dict[str, torch.Tensor], set_grads_to_none: bool = True
    ) -> None:
        """One gradient step on ``batch``; adds each statistic of ``STAT_KEYS`` to ``sums`` (0-d
        tensors, in place). No host read: the adaptive rate changes on the device.

        ``set_grads_to_none=False`` zeroes the gradients in place instead of freeing them (what a
        CUDA graph of this step needs: the same gradient buffers at every replay); the numbers are
        the same.
        """
        cfg = self.cfg
        log_prob, entropy, mean, std = self.policy.log_prob_entropy(batch.obs, batch.actions)
        values = self.policy.evaluate(batch.obs)
        with torch.no_grad():
            kl = gaussian_kl(batch.old_mean, batch.old_std, mean, std).mean()

        terms = ppo_losses(
            log_prob,
            batch.old_log_prob,
            batch.advantages,
            values,
            batch.old_values,
            batch.returns,
            entropy,
            clip_param=cfg.clip_param,
            clipped_value_loss=cfg.clipped_value_loss,
            value_loss_coef=cfg.value_loss_coef,
            entropy_coef=cfg.entropy_coef,
        )
        self.optimizer.zero_grad(set_to_none=set_grads_to_none)
        terms.total.backward()
        if self._distributed:
            # One all-reduce carries the gradients and the KL: every rank then clips, adapts the rate
            # and steps with the same numbers, so the weights stay the same on every rank.
            averaged_kl = distributed.average_gradients(self.policy.parameters(), kl)
            assert averaged_kl is not None
            kl = averaged_kl
        # The rate is adapted after the backward pass (only Adam's step reads it), so that under
        # data-parallel training it reads the KL of every rank's mini-batch.
        if cfg.schedule == "adaptive":
            adapt_learning_rate_(self.lr, kl, cfg)
            if self._adam_lr is not self.lr:
                self._adam_lr.copy_(self.lr)
        grad_norm = nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
        self.optimizer.step()

        for key, value in (
            ("surrogate", terms.surrogate),
            ("value", terms.value),
            ("entropy", terms.entropy),
            ("total", terms.total),
            ("kl", kl),
            ("clip_fraction", terms.clip_fraction),
            ("grad_norm", grad_norm),
        ):
            sums[key] += value.detach()

    def _mini_batch_graph(self, storage: RolloutStorage) -> MiniBatchStepGraph | None:
        """The CUDA graph of the mini-batch step for ``storage`` (``cfg.graph_update`` on CUDA), or
        None: the steps then run eagerly."""
        if not self._graph_update:
            return None
        graph = self._graph
        if graph is None or graph.storage is not storage:
            size, rest = divmod(storage.batch_size, self.cfg.num_mini_batches)
            if rest:
                warnings.warn(
                    f"PpoCfg.graph_update: {storage.batch_size} samples do not split into "
                    f"{self.cfg.num_mini_batches} equal mini-batches; the update runs eagerly (make "
                    "num_envs x num_steps_per_env a multiple of num_mini_batches, or set "
                    "graph_update=False to silence this)",
                    stacklevel=3,
                )
                self._graph_update = False
                return None
            graph = self._graph = MiniBatchStepGraph(self, storage, size)
        if graph.failed is not None:
            self._graph_update = False
            return None
        return graph
