"""The PPO update: epochs of mini-batch gradient steps over one rollout."""

from __future__ import annotations

import torch
from torch import nn

from warplab.rl.config import PpoCfg
from warplab.rl.losses import gaussian_kl, ppo_losses
from warplab.rl.networks import ActorCritic
from warplab.rl.storage import RolloutStorage


def adapt_learning_rate(lr: float, kl: float, cfg: PpoCfg) -> float:
    """rsl_rl's adaptive rule: lr / 1.5 when KL > 2 * desired_kl, lr * 1.5 when KL < desired_kl / 2.

    The result is clamped to [cfg.min_learning_rate, cfg.max_learning_rate].
    """
    if kl > 2.0 * cfg.desired_kl:
        lr = lr / 1.5
    elif kl < 0.5 * cfg.desired_kl:
        lr = lr * 1.5
    return min(max(lr, cfg.min_learning_rate), cfg.max_learning_rate)


class PPO:
    """Owns the optimizer, the learning rate and the mini-batch shuffling of one policy.

    Args:
        policy: the actor-critic to train.
        cfg: PPO settings.
        seed: seed of the CPU generator that shuffles mini-batches.
    """

    def __init__(self, policy: ActorCritic, cfg: PpoCfg, seed: int = 0) -> None:
        self.policy = policy
        self.cfg = cfg
        self.learning_rate = float(cfg.learning_rate)
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=self.learning_rate)
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(seed)

    def set_learning_rate(self, lr: float) -> None:
        """Set the learning rate of every parameter group."""
        self.learning_rate = float(lr)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate

    def update(self, storage: RolloutStorage) -> dict[str, torch.Tensor]:
        """Run ``num_learning_epochs * num_mini_batches`` gradient steps on a full rollout.

        `storage` must hold advantages and returns (`RolloutStorage.compute_returns`).

        With the adaptive schedule the KL of each mini-batch is read on the host (one sync per
        mini-batch, as rsl_rl does): the next mini-batch's learning rate depends on it. This is
        in the update, never in the env step.

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

        keys = ("surrogate", "value", "entropy", "total", "kl", "clip_fraction", "grad_norm")
        sums = {key: torch.zeros((), device=storage.device) for key in keys}
        num_updates = 0
        for batch in storage.mini_batches(cfg.num_mini_batches, cfg.num_learning_epochs, self.generator):
            log_prob, entropy, mean, std = self.policy.log_prob_entropy(batch.obs, batch.actions)
            values = self.policy.evaluate(batch.obs)
            with torch.no_grad():
                kl = gaussian_kl(batch.old_mean, batch.old_std, mean, std).mean()
            if cfg.schedule == "adaptive":
                self.set_learning_rate(adapt_learning_rate(self.learning_rate, kl.item(), cfg))

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
            self.optimizer.zero_grad(set_to_none=True)
            terms.total.backward()
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
            "Policy/learning_rate": torch.tensor(self.learning_rate, device=storage.device),
            "Policy/action_std": self.policy.action_std.detach().mean(),
        }
