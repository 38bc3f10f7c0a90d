"""The SAC and TD3 update: a critic step, a delayed actor (and temperature) step, Polyak targets.

One `SAC` serves both algorithms: ``algorithm="sac"`` trains a squashed Gaussian actor with an
entropy bonus whose weight (the temperature alpha) is learned; ``"td3"`` trains a deterministic
actor, smooths the target actions with clipped noise and has no entropy term. The losses and
targets are the pure functions of `warplab.rl.off_policy_losses`; this module wires them to the
networks and optimizers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from warplab.rl import distributed
from warplab.rl.config import SacCfg
from warplab.rl.off_policy_graph import OffPolicyUpdateGraph
from warplab.rl.off_policy_losses import (
    actor_loss,
    categorical_critic_loss,
    categorical_mean,
    categorical_projection,
    categorical_support,
    critic_loss,
    min_distribution,
    polyak_update,
    soft_q_target,
    squashed_gaussian_sample,
    squashed_mode,
    td3_target_actions,
    temperature_loss,
)
from warplab.rl.off_policy_networks import OffPolicyActorCritic
from warplab.rl.replay import ReplayBatch, ReplayBuffer

_ADAM_IMPLEMENTATION_KEYS = ("foreach", "fused", "capturable", "differentiable")
"""Adam's options that pick an implementation rather than change the math."""


@contextmanager
def tf32_matmul(enabled: bool) -> Iterator[None]:
    """While inside, float32 matmuls on CUDA may use TF32 (when `enabled`); restored on exit, so the
    env's and the collection's matmuls keep their precision. No effect on the CPU."""
    if not enabled:
        yield
        return
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous


@contextmanager
def bf16_autocast(enabled: bool, device_type: str) -> Iterator[None]:
    """While inside (when `enabled`), autocast-eligible ops (matmuls) run in bfloat16 on
    `device_type` ("cuda" or "cpu"); disabled, nothing is entered and the float32 code runs as is.

    The cast cache is off: a cached bfloat16 copy of a weight would be made once, at the CUDA graph
    capture, and replays would then read a copy that the optimizer no longer updates.
    """
    if not enabled:
        yield
        return
    with torch.autocast(device_type, dtype=torch.bfloat16, cache_enabled=False):
        yield


class SAC:
    """Optimizers, temperature and sampling generator of one off-policy actor-critic.

    Args:
        model: the networks; ``model.deterministic`` must match the algorithm (TD3: True).
        cfg: the algorithm's settings.
        algorithm: "sac" or "td3".
        seed: seed of `generator`, which draws the replay samples and the update's noise.
        fused_adam: use Adam's fused implementation; None (default) means on CUDA only.
    """

    def __init__(
        self,
        model: OffPolicyActorCritic,
        cfg: SacCfg,
        algorithm: Literal["sac", "td3"] = "sac",
        seed: int = 0,
        fused_adam: bool | None = None,
    ) -> None:
        if algorithm not in ("sac", "td3"):
            raise ValueError(f"algorithm must be 'sac' or 'td3', got {algorithm!r}")
        if model.deterministic != (algorithm == "td3"):
            kind = "deterministic" if model.deterministic else "Gaussian"
            raise ValueError(f"algorithm {algorithm!r} does not fit a model with a {kind} actor")
        self.model = model
        self.cfg = cfg
        self.algorithm = algorithm
        device = next(model.parameters()).device
        self.device = device
        fused = device.type == "cuda" if fused_adam is None else bool(fused_adam)
        self._distributed = distributed.is_distributed()
        """Whether each step's gradients are averaged across ranks (`warplab.rl.distributed`)."""
        # Under data-parallel training the update runs eagerly: its all-reduces sit between each
        # backward pass and its optimizer's step, inside what the graph would record.
        self._graph_update = bool(cfg.graph_update) and device.type == "cuda" and not self._distributed
        """Whether sample+update replay a CUDA graph (``cfg.graph_update``; CUDA only, one rank only)."""
        self._graph: OffPolicyUpdateGraph | None = None

        def adam(params: list[nn.Parameter] | list[torch.Tensor], lr: float) -> torch.optim.Adam:
            # A captured Adam step keeps its step counters on the device (`capturable`).
            return torch.optim.Adam(params, lr=lr, fused=fused or None, capturable=self._graph_update)

        self.actor_parameters = [
            *model.actor_trunk.parameters(),
            *model.actor_mean.parameters(),
            *(model.actor_log_std.parameters() if model.actor_log_std is not None else []),
        ]
        self.critic_parameters = list(model.critic.parameters())
        self.target_parameters = list(model.target_critic.parameters())
        self.actor_optimizer = adam(self.actor_parameters, cfg.actor_learning_rate)
        self.critic_optimizer = adam(self.critic_parameters, cfg.critic_learning_rate)
        self.log_alpha = torch.full((), math.log(cfg.init_alpha), device=device, requires_grad=True)
        """0-d log temperature (SAC); its exponential weighs the entropy bonus, reward units per nat."""
        self.alpha_optimizer = adam([self.log_alpha], cfg.alpha_learning_rate)
        self.learns_alpha = algorithm == "sac" and cfg.autotune_alpha
        # The log-densities are of the scaled actions, whose entropy is log(action_scale) per action
        # above that of the same policy on [-1, 1], where the target is set.
        self.target_entropy = (
            float(cfg.target_entropy_per_action) + math.log(model.action_scale)
        ) * model.action_dim
        """Entropy the SAC policy is tuned to keep, nats of the scaled actions: (the target per action
        on [-1, 1] + log(action_scale)) times the action count."""
        self.support = (
            categorical_support(cfg.v_min, cfg.v_max, cfg.num_atoms, device) if cfg.distributional else None
        )
        """[K] atoms of the C51 critics, or None for scalar critics."""
        self.generator = torch.Generator(device=device)
        """Draws the replay samples and the update's noise (restored by a checkpoint)."""
        self.generator.manual_seed(seed)
        self.num_updates = 0
        """Updates taken so far (host counter: decides the actor's turn, ``policy_delay``)."""
        # The update's network forwards, compiled with ``cfg.compile_networks``. Kept as plain
        # attributes of this (non-module) object, so the model's state dict and its checkpoint keys
        # are the same either way.
        self._actor_net: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]] = (
            model.actor_forward
        )
        self._critic_net: Callable[..., torch.Tensor] = model.critic_values
        if cfg.compile_networks:
            self._actor_net = torch.compile(model.actor_forward, dynamic=False)
            self._critic_net = torch.compile(model.critic_values, dynamic=False)

    # Optimizer state ------------------------------------------------------------------------------

    def optimizer_state(self) -> dict[str, Any]:
        """The three optimizers' state dicts: ``{"actor", "critic", "alpha"}``."""
        return {
            "actor": self.actor_optimizer.state_dict(),
            "critic": self.critic_optimizer.state_dict(),
            "alpha": self.alpha_optimizer.state_dict(),
        }

    def load_optimizer_state(self, state: Mapping[str, Any]) -> None:
        """Load `optimizer_state` of a run on any device (the implementation options are this one's).

        Raises:
            ValueError, KeyError: the state does not fit these parameters.
        """
        for name, optimizer in (
            ("actor", self.actor_optimizer),
            ("critic", self.critic_optimizer),
            ("alpha", self.alpha_optimizer),
        ):
            saved = state[name]
            implementation = {key: optimizer.defaults[key] for key in _ADAM_IMPLEMENTATION_KEYS}
            groups = [{**group, **implementation} for group in saved["param_groups"]]
            optimizer.load_state_dict({**saved, "param_groups": groups})
        # Adam's state tensors are new objects now: a recorded graph would update the old ones.
        self._graph = None

    # Training -------------------------------------------------------------------------------------

    def train_step(self, replay: ReplayBuffer) -> dict[str, torch.Tensor]:
        """Sample ``batch_size`` transitions and take one update; the actor's turn comes every
        ``policy_delay`` updates. On CUDA with ``graph_update`` both are a replayed CUDA graph.

        Returns: the update's statistics (`update`), 0-d tensors on the device. No host sync.
        """
        update_actor = self.num_updates % self.cfg.policy_delay == 0
        graph = self._update_graph(replay)
        with tf32_matmul(self.cfg.tf32_matmul):
            if graph is not None:
                stats = graph.step(update_actor)
            else:
                stats = self.update(replay.sample(self.cfg.batch_size, self.generator), update_actor)
        self.num_updates += 1
        return stats

    def update(
        self, batch: ReplayBatch, update_actor: bool, set_grads_to_none: bool = True
    ) -> dict[str, torch.Tensor]:
        """One update on `batch`: the critics' step and the Polyak step of their targets; then, when
        `update_actor`, the actor's step and (SAC with autotune) the temperature's.

        ``set_grads_to_none=False`` zeroes gradients in place instead of freeing them (a CUDA graph
        needs the same gradient buffers at every replay); the numbers are the same.

        Returns: 0-d tensors (detached, on the device): ``Loss/critic``, ``Critic/q_mean`` (the
        online critics' mean Q of the batch), ``Critic/target_mean``, with C51 critics
        ``Critic/target_mass_at_v_min`` and ``Critic/target_mass_at_v_max`` (the target
        distributions' mean probability on the end atoms, where clipped targets land); with the actor step also
        ``Loss/actor`` and, for SAC, ``Policy/entropy`` (minus the mean log-density of fresh
        actions, nats), ``Policy/alpha`` and ``Loss/alpha`` (when autotuned).
        """
        stats = self._critic_step(batch, set_grads_to_none)
        if update_actor:
            stats.update(self._actor_step(batch, set_grads_to_none))
        return stats

    def _actor_forward(self, obs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`OffPolicyActorCritic.actor_forward` of raw observations, in bfloat16 with
        ``cfg.bf16_autocast``; the mean and log std come back float32 either way."""
        model = self.model
        actor_in = model.actor_input(obs)
        with bf16_autocast(self.cfg.bf16_autocast, self.device.type):
            mean, log_std = self._actor_net(actor_in)
        return mean.float(), None if log_std is None else log_std.float()

    def _critic_values(
        self,
        obs: Mapping[str, torch.Tensor],
        actions: torch.Tensor,
        target: bool = False,
        detach_params: bool = False,
    ) -> torch.Tensor:
        """`OffPolicyActorCritic.critic_values` of raw observations, in bfloat16 with
        ``cfg.bf16_autocast``; the values or C51 logits come back float32 either way, so that the
        losses, softmaxes and targets downstream are computed in float32."""
        model = self.model
        critic_in = model.critic_input(obs)
        with bf16_autocast(self.cfg.bf16_autocast, self.device.type):
            values = self._critic_net(critic_in, actions, target=target, detach_params=detach_params)
        return values.float()

    def _noise(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, generator=self.generator, device=like.device, dtype=like.dtype)

    def _step(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor, set_grads_to_none: bool) -> None:
        optimizer.zero_grad(set_to_none=set_grads_to_none)
        loss.backward()
        parameters = [p for group in optimizer.param_groups for p in group["params"]]
        if self._distributed:
            # Every rank steps with the mean of all ranks' gradients (each sampled its own replay).
            distributed.average_gradients(parameters)
        if self.cfg.max_grad_norm > 0.0:
            nn.utils.clip_grad_norm_(parameters, self.cfg.max_grad_norm)
        optimizer.step()

    def _critic_step(self, batch: ReplayBatch, set_grads_to_none: bool) -> dict[str, torch.Tensor]:
        cfg, model, support = self.cfg, self.model, self.support
        scale = model.action_scale
        alpha = self.log_alpha.detach().exp()
        with torch.no_grad():
            mean, log_std = self._actor_forward(batch.next_obs)
            noise = self._noise(mean)
            next_log_prob: torch.Tensor | None = None
            if log_std is not None:
                next_actions, next_log_prob = squashed_gaussian_sample(mean, log_std, noise, scale)
            else:
                next_actions = td3_target_actions(
                    squashed_mode(mean, scale),
                    noise,
                    cfg.target_noise_std * scale,
                    cfg.target_noise_clip * scale,
                    scale,
                )
            next_q = self._critic_values(batch.next_obs, next_actions, target=True)
            if support is not None:
                rewards = batch.rewards
                if next_log_prob is not None:
                    # The entropy bonus of the next step, folded into the reward (r + d (z - a logp)).
                    rewards = rewards - batch.discounts * alpha * next_log_prob
                next_dist = min_distribution(F.softmax(next_q, dim=-1), support)
                target = categorical_projection(next_dist, rewards, batch.discounts, support)
                target_mean = categorical_mean(target, support).mean()
                # Mass the projection put on the end atoms: targets beyond [v_min, v_max] are clipped
                # there, so a share that grows says the range is too narrow for the returns.
                edge_mass = {
                    "Critic/target_mass_at_v_min": target[:, 0].mean(),
                    "Critic/target_mass_at_v_max": target[:, -1].mean(),
                }
            else:
                target = soft_q_target(batch.rewards, batch.discounts, next_q, next_log_prob, alpha)
                target_mean = target.mean()
                edge_mass = {}

        q = self._critic_values(batch.obs, batch.actions)
        if support is not None:
            loss = categorical_critic_loss(q, target)
            q_mean = categorical_mean(F.softmax(q.detach(), dim=-1), support).mean()
        else:
            loss = critic_loss(q, target)
            q_mean = q.detach().mean()
        self._step(self.critic_optimizer, loss, set_grads_to_none)
        polyak_update(self.target_parameters, self.critic_parameters, cfg.tau)
        return {
            "Loss/critic": loss.detach(),
            "Critic/q_mean": q_mean,
            "Critic/target_mean": target_mean,
            **edge_mass,
        }

    def _actor_step(self, batch: ReplayBatch, set_grads_to_none: bool) -> dict[str, torch.Tensor]:
        model, support = self.model, self.support
        alpha = self.log_alpha.detach().exp()
        mean, log_std = self._actor_forward(batch.obs)
        log_prob: torch.Tensor | None = None
        if log_std is not None:
            actions, log_prob = squashed_gaussian_sample(mean, log_std, self._noise(mean), model.action_scale)
        else:
            actions = squashed_mode(mean, model.action_scale)
        # The critics' weights enter as constants: the actor's loss moves the actor only, and no
        # gradient is computed for (or left on) the critics.
        q = self._critic_values(batch.obs, actions, detach_params=True)
        if support is not None:
            q = categorical_mean(F.softmax(q, dim=-1), support)
        loss = actor_loss(q, log_prob, alpha)
        self._step(self.actor_optimizer, loss, set_grads_to_none)
        stats = {"Loss/actor": loss.detach()}
        if log_prob is not None:
            log_prob = log_prob.detach()
            stats["Policy/entropy"] = -log_prob.mean()
            if self.learns_alpha:
                alpha_loss = temperature_loss(self.log_alpha, log_prob, self.target_entropy)
                self._step(self.alpha_optimizer, alpha_loss, set_grads_to_none)
                stats["Loss/alpha"] = alpha_loss.detach()
            stats["Policy/alpha"] = self.log_alpha.detach().exp()
        return stats

    def _update_graph(self, replay: ReplayBuffer) -> OffPolicyUpdateGraph | None:
        """The CUDA graphs of sample+update for `replay` (``cfg.graph_update`` on CUDA), or None:
        the updates then run eagerly."""
        if not self._graph_update:
            return None
        graph = self._graph
        if graph is None or graph.replay is not replay:
            graph = self._graph = OffPolicyUpdateGraph(self, replay, self.cfg.batch_size)
        if graph.failed is not None:
            self._graph_update = False
            return None
        return graph
