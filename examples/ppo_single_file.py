"""PPO in one file: the algorithm of `warplab.rl`, written to be read from top to bottom.

    python examples/ppo_single_file.py                      # cartpole-balance, 16 worlds, CPU
    python examples/ppo_single_file.py --help               # every setting, with its meaning
    python examples/ppo_single_file.py --device cuda --num-envs 4096 --tensorboard-dir runs/ppo

This file is a reference, not a second library: it imports only torch, tyro, the standard library
and `warplab.make`, and it computes what `warplab.rl` computes (same GAE, losses, learning-rate rule
and normalization), so that a reader can check the modular version against it. The order is:

1. `Args`: every setting, read from the command line by tyro.
2. The math as pure functions: Gaussian log-probability, entropy and KL; GAE with time-outs.
3. The networks: a running observation normalizer, a Gaussian actor and a critic.
4. `main`: the rollout, the update, the logging; once per iteration.

The env contract (docs/training.md): ``obs`` is a dict of groups (``"policy"``, optionally
``"critic"``), ``terminated`` and ``truncated`` come apart, finished worlds are reset inside
``step``, and ``info["final_obs"]`` holds the last observation of the episodes that just ended.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import tyro
from torch import nn

import warplab


@dataclass
class Args:
    """PPO on a warplab task. The defaults balance cartpole on a CPU in about a minute."""

    task: str = "cartpole-balance"
    """Registered warplab task to train (`warplab list` names them)."""
    num_envs: int = 16
    """Worlds simulated together; each iteration collects num_steps * num_envs samples."""
    device: str = "cpu"
    """Where the worlds and the networks live: 'cpu', 'cuda', 'cuda:N' or 'auto'."""
    seed: int = 42
    """Seeds torch (initial weights, action noise), the env and the mini-batch shuffling."""
    iterations: int = 60
    """Iterations to run; each is one rollout followed by one update."""
    num_steps: int = 32
    """Policy steps every world takes per rollout (the rollout is [num_steps, num_envs])."""
    learning_rate: float = 3e-3
    """Initial Adam learning rate; the adaptive schedule then moves it to hold the KL near desired_kl."""
    adaptive_lr: bool = True
    """Adapt the learning rate from the KL of each mini-batch; False keeps it fixed."""
    desired_kl: float = 0.01
    """Target KL between the rollout policy and the updated one."""
    min_learning_rate: float = 1e-5
    """Lower bound of the adaptive learning rate."""
    max_learning_rate: float = 1e-2
    """Upper bound of the adaptive learning rate."""
    gamma: float = 0.99
    """Discount per policy step."""
    lam: float = 0.95
    """GAE lambda: 0 is the one-step TD error, 1 the Monte Carlo return."""
    num_epochs: int = 5
    """Passes over the rollout per update."""
    num_minibatches: int = 4
    """Mini-batches per pass, one gradient step each."""
    clip_coef: float = 0.2
    """PPO clip range of the probability ratio, and of the value change."""
    clip_value_loss: bool = True
    """Clip the change of the value prediction to clip_coef around the rollout's value."""
    value_coef: float = 1.0
    """Weight of the value loss (squared error, no factor 1/2)."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus, which pays for wide action noise; 0 leaves the noise to the surrogate."""
    max_grad_norm: float = 1.0
    """Clip the global gradient norm to this value."""
    hidden_dims: tuple[int, ...] = (32, 32)
    """Widths of the hidden layers of the actor and of the critic."""
    init_std: float = 0.5
    """Initial standard deviation of the action noise, in action units."""
    obs_clip: float = 5.0
    """Normalized observations are clamped to [-obs_clip, obs_clip] standard deviations."""
    torch_threads: int = 1
    """CPU threads for torch; small networks run fastest on one."""
    tensorboard_dir: str | None = None
    """Write TensorBoard scalars to this folder (nothing is written when not given)."""


# ---------------------------------------------------------------------------------------------------
# The math. Pure functions of tensors, so each can be checked against numbers worked out by hand.
# ---------------------------------------------------------------------------------------------------

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def gaussian_log_prob(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """[B] log-density of actions ``x [B, A]`` under independent normals, summed over actions."""
    # Written out rather than through torch.distributions.Normal, whose argument checks read a
    # value back from the GPU at every call and would stall the rollout.
    return (-0.5 * ((x - mean) / std).square() - torch.log(std) - LOG_SQRT_2PI).sum(-1)


def gaussian_entropy(std: torch.Tensor) -> torch.Tensor:
    """[B] entropy of independent normals with ``std [B, A]``, summed over actions, nats."""
    return (0.5 + LOG_SQRT_2PI + torch.log(std)).sum(-1)


def gaussian_kl(
    mean0: torch.Tensor, std0: torch.Tensor, mean1: torch.Tensor, std1: torch.Tensor
) -> torch.Tensor:
    """[B] KL(old || new) of independent normals (old: mean0, std0), ``[B, A]`` inputs, summed over actions."""
    return (
        torch.log(std1 / std0) + (std0.square() + (mean0 - mean1).square()) / (2 * std1.square()) - 0.5
    ).sum(-1)


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    terminated: torch.Tensor,
    truncated: torch.Tensor,
    final_values: torch.Tensor,
    last_values: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns by GAE(gamma, lambda), with time-outs bootstrapped.

    Args:
        rewards: [T, N] reward of each step.
        values: [T, N] critic value of the observation each action was taken from.
        terminated: [T, N] bool, the episode ended at this step for good (the pole fell).
        truncated: [T, N] bool, the episode was cut at this step by a time limit.
        final_values: [T, N] critic value of ``info["final_obs"]`` (only read where truncated).
        last_values: [N] critic value of the observation after the last step of the rollout.
        gamma, lam: discount and GAE lambda.

    Returns: advantages [T, N] and returns [T, N] = advantages + values (the critic's target).
    """
    # What step t is worth after its reward, V(s_{t+1}), depends on how the step ended:
    # - it did not end: the next row of the rollout holds s_{t+1}, so V(s_{t+1}) = values[t + 1];
    # - it was terminated: nothing comes after a fall, so the future is worth 0;
    # - it timed out: the world would have gone on, the clock is not part of the state, so cutting
    #   it must not look like a fall to the critic. Its future is worth V(final_obs). The next row
    #   belongs to the new episode the env has already started, so values[t + 1] would be wrong.
    # A step both terminated and truncated counts as terminated.
    done = terminated | truncated
    timed_out = (truncated & ~terminated).to(rewards.dtype)
    not_done = 1.0 - done.to(rewards.dtype)
    advantages = torch.zeros_like(rewards)
    next_advantage = torch.zeros_like(last_values)
    next_values = last_values
    for t in reversed(range(rewards.shape[0])):
        value_after = not_done[t] * next_values + timed_out[t] * final_values[t]
        delta = rewards[t] + gamma * value_after - values[t]
        # The recursion A_t = delta_t + gamma * lam * A_{t+1} stops at any episode end, whatever
        # its cause: A_{t+1} belongs to another episode.
        next_advantage = delta + gamma * lam * not_done[t] * next_advantage
        advantages[t] = next_advantage
        next_values = values[t]
    return advantages, advantages + values


# ---------------------------------------------------------------------------------------------------
# The networks.
# ---------------------------------------------------------------------------------------------------


class RunningNorm(nn.Module):
    """Normalizes inputs by the mean and variance of every sample seen so far.

    Observations come in their own units (metres, radians, rad/s) whose scales differ by orders of
    magnitude and are not known in advance; the networks learn faster on inputs near mean 0 and
    std 1. Batches are merged exactly (Chan et al.'s parallel form of Welford's algorithm), so the
    statistics equal those of all the samples concatenated without keeping them.
    """

    def __init__(self, dim: int, clip: float, epsilon: float = 1e-4) -> None:
        super().__init__()
        self.clip, self.epsilon = clip, epsilon
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Merge a batch ``x [B, dim]`` into the statistics."""
        batch_mean, batch_var = x.mean(0), x.var(0, unbiased=False)
        total = self.count + x.shape[0]
        new_fraction = x.shape[0] / total  # Stays on the device: no host sync.
        delta = batch_mean - self.mean
        self.mean += delta * new_fraction
        self.var.copy_(
            self.var * (1 - new_fraction)
            + batch_var * new_fraction
            + delta.square() * new_fraction * (1 - new_fraction)
        )
        self.count.copy_(total)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The clamp keeps one wild observation (a world about to diverge) from saturating the net.
        return ((x - self.mean) / torch.sqrt(self.var + self.epsilon)).clamp(-self.clip, self.clip)


def mlp(in_dim: int, hidden_dims: tuple[int, ...], out_dim: int, out_gain: float) -> nn.Sequential:
    """ELU MLP with orthogonal weights (gain sqrt(2) inside, `out_gain` on the output) and zero biases."""
    dims = (in_dim, *hidden_dims)
    layers: list[nn.Module] = []
    for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Linear(d_in, d_out), nn.ELU()]
    layers.append(nn.Linear(dims[-1], out_dim))
    linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
    for layer in linears:
        nn.init.orthogonal_(layer.weight, gain=out_gain if layer is linears[-1] else math.sqrt(2.0))
        nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """A Gaussian policy over the "policy" observations and a value function.

    The critic reads the "critic" group when the env has one (privileged state the robot will
    not have, allowed because the critic is thrown away after training), else "policy". Each
    network has its own normalizer, as the two inputs may differ.
    """

    def __init__(self, actor_dim: int, critic_dim: int, action_dim: int, args: Args) -> None:
        super().__init__()
        self.actor_norm = RunningNorm(actor_dim, args.obs_clip)
        self.critic_norm = RunningNorm(critic_dim, args.obs_clip)
        # A small output gain starts every action near 0 (a push of nothing) and every value near 0,
        # whatever the scale of the inputs.
        self.actor = mlp(actor_dim, args.hidden_dims, action_dim, out_gain=0.01)
        self.critic = mlp(critic_dim, args.hidden_dims, 1, out_gain=1.0)
        # The noise does not depend on the state: one log-std per action, learned by the same
        # gradient. The log keeps the std positive whatever step the optimizer takes.
        self.log_std = nn.Parameter(torch.full((action_dim,), math.log(args.init_std)))

    def action_mean(self, actor_obs: torch.Tensor) -> torch.Tensor:
        """[B, A] mean action (what the robot runs after training) of ``actor_obs [B, actor_dim]``."""
        return self.actor(self.actor_norm(actor_obs))

    def value(self, critic_obs: torch.Tensor) -> torch.Tensor:
        """[B] value of ``critic_obs [B, critic_dim]``, in discounted reward."""
        return self.critic(self.critic_norm(critic_obs)).squeeze(-1)


# ---------------------------------------------------------------------------------------------------
# Training.
# ---------------------------------------------------------------------------------------------------


def main(args: Args) -> list[dict[str, float]]:
    """Train and return one dict of logged scalars per iteration."""
    if not 1 <= args.num_minibatches <= args.num_steps * args.num_envs:
        raise ValueError(
            f"Args.num_minibatches must be in [1, num_steps * num_envs = {args.num_steps * args.num_envs}], "
            f"got {args.num_minibatches}"
        )
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)  # Action noise and network initialization.
    env = warplab.make(args.task, num_envs=args.num_envs, device=args.device, seed=args.seed)
    device, T, N, A = env.device, args.num_steps, env.num_envs, env.action_dim
    critic_group = "critic" if "critic" in env.observation_shapes else "policy"
    actor_dim = math.prod(env.observation_shapes["policy"])
    critic_dim = math.prod(env.observation_shapes[critic_group])

    agent = ActorCritic(actor_dim, critic_dim, A, args).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate)
    learning_rate = args.learning_rate
    # Mini-batches are drawn from their own CPU generator, so the shuffling is the same on any device.
    shuffle_rng = torch.Generator().manual_seed(args.seed)

    # The rollout buffers are allocated once, outside inference mode: the rollout writes into them
    # under torch.inference_mode() (fast, no autograd bookkeeping), and the update can then read
    # them with autograd, which it could not do with tensors created in inference mode.
    def buffer(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.zeros(shape, dtype=dtype, device=device)

    actor_obs, critic_obs = buffer(T, N, actor_dim), buffer(T, N, critic_dim)
    actions, old_means, old_log_probs = buffer(T, N, A), buffer(T, N, A), buffer(T, N)
    values, final_values, rewards = buffer(T, N), buffer(T, N), buffer(T, N)
    terminated, truncated = buffer(T, N, dtype=torch.bool), buffer(T, N, dtype=torch.bool)
    last_values = buffer(N)

    writer = None
    if args.tensorboard_dir is not None:
        from torch.utils.tensorboard import SummaryWriter  # Imported only when asked for.

        writer = SummaryWriter(args.tensorboard_dir)

    def flat(x: torch.Tensor) -> torch.Tensor:
        """[T, N, ...] -> [T * N, ...]: the update sees samples, not steps of worlds."""
        return x.flatten(0, 1)

    history: list[dict[str, float]] = []
    obs, _ = env.reset(seed=args.seed)
    started = time.perf_counter()

    for iteration in range(1, args.iterations + 1):
        iteration_start = time.perf_counter()

        # ---- Rollout: T steps of every world with the current policy. No value is read back to
        # the host here: on a GPU the whole loop stays queued on the device.
        # The std does not depend on the state, so one copy serves the whole rollout.
        old_std = agent.log_std.detach().exp()
        with torch.inference_mode():
            for t in range(T):
                # Copied before env.step, which may overwrite its observation buffers in place.
                actor_obs[t] = obs["policy"].flatten(1)
                critic_obs[t] = obs[critic_group].flatten(1)
                mean = agent.action_mean(actor_obs[t])
                action = mean + old_std * torch.randn_like(mean)
                actions[t], old_means[t] = action, mean
                old_log_probs[t] = gaussian_log_prob(action, mean, old_std)
                values[t] = agent.value(critic_obs[t])

                obs, reward, done_for_good, timed_out, info = env.step(action)
                rewards[t], terminated[t], truncated[t] = reward, done_for_good, timed_out
                # V(final_obs) is computed for every world, finished or not: choosing the rows on
                # the host would need a sync, and GAE only reads it where a time-out happened.
                final_values[t] = agent.value(info["final_obs"][critic_group].flatten(1))
            last_values[:] = agent.value(obs[critic_group].flatten(1))
        advantages, returns = compute_gae(
            rewards, values, terminated, truncated, final_values, last_values, args.gamma, args.lam
        )

        # ---- Update: num_epochs passes over the T * N samples in shuffled mini-batches.
        b_actor_obs, b_critic_obs, b_actions = flat(actor_obs), flat(critic_obs), flat(actions)
        b_old_means, b_old_log_probs, b_values = flat(old_means), flat(old_log_probs), flat(values)
        b_returns = flat(returns)
        # Normalized once over the whole rollout (not per mini-batch): one estimate from T * N
        # samples. It makes the step size independent of the scale of the rewards.
        b_advantages = flat((advantages - advantages.mean()) / (advantages.std() + 1e-8))

        sums: dict[str, torch.Tensor] = {}
        num_updates = 0
        for _ in range(args.num_epochs):
            permutation = torch.randperm(T * N, generator=shuffle_rng).to(device)
            for index in torch.tensor_split(permutation, args.num_minibatches):
                # The normalizers have not moved since the rollout, so the first mini-batch sees
                # exactly the rollout's policy: its ratio is 1 and its KL 0.
                mean = agent.action_mean(b_actor_obs[index])
                new_std = agent.log_std.exp().expand_as(mean)
                log_prob = gaussian_log_prob(b_actions[index], mean, new_std)
                entropy = gaussian_entropy(new_std).mean()
                value = agent.value(b_critic_obs[index])

                # Adaptive learning rate: measure how far the policy has moved from the rollout's
                # (KL) and set the step size of this mini-batch from it. Too far (KL > 2 x target):
                # the samples no longer describe this policy, so slow down; too timid (KL < target
                # / 2): speed up. This replaces a hand-tuned schedule. The .item() is a host sync,
                # but in the update, never in the env step.
                with torch.no_grad():
                    kl = gaussian_kl(b_old_means[index], old_std.expand_as(mean), mean, new_std).mean()
                if args.adaptive_lr:
                    kl_value = kl.item()
                    if kl_value > 2.0 * args.desired_kl:
                        learning_rate /= 1.5
                    elif kl_value < 0.5 * args.desired_kl:
                        learning_rate *= 1.5
                    learning_rate = min(max(learning_rate, args.min_learning_rate), args.max_learning_rate)
                    for group in optimizer.param_groups:
                        group["lr"] = learning_rate

                # Clipped surrogate: the ratio pi_new / pi_old weighs each advantage. Taking the
                # larger loss of the plain and the clipped ratio removes any gain from moving the
                # ratio beyond [1 - clip, 1 + clip], so one rollout cannot push the policy far.
                ratio = torch.exp(log_prob - b_old_log_probs[index])
                adv = b_advantages[index]
                clipped_ratio = ratio.clamp(1.0 - args.clip_coef, 1.0 + args.clip_coef)
                surrogate = torch.maximum(-adv * ratio, -adv * clipped_ratio).mean()

                # Value loss, clipped the same way around the rollout's value: the critic cannot
                # jump on one batch of returns either.
                target = b_returns[index]
                value_loss = (value - target).square()
                if args.clip_value_loss:
                    old_value = b_values[index]
                    value_clipped = old_value + (value - old_value).clamp(-args.clip_coef, args.clip_coef)
                    value_loss = torch.maximum(value_loss, (value_clipped - target).square())
                value_loss = value_loss.mean()

                # The entropy bonus pays for keeping the noise wide, i.e. for exploring longer.
                loss = surrogate + args.value_coef * value_loss - args.entropy_coef * entropy
                optimizer.zero_grad()
                loss.backward()
                # Clipping the gradient norm bounds the step on a batch with a few huge advantages.
                grad_norm = nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

                clip_fraction = ((ratio - 1.0).abs() > args.clip_coef).float().mean()
                for key, x in (
                    ("Loss/surrogate", surrogate),
                    ("Loss/value", value_loss),
                    ("Loss/entropy", entropy),
                    ("Policy/kl", kl),
                    ("Policy/clip_fraction", clip_fraction),
                    ("Policy/grad_norm", grad_norm),
                ):
                    sums[key] = sums[key] + x.detach() if key in sums else x.detach()
                num_updates += 1

        # The normalizers learn from this rollout only now, after the update, so that the update
        # evaluated the policy exactly as it acted; the next rollout uses the new statistics.
        agent.actor_norm.update(b_actor_obs)
        agent.critic_norm.update(b_critic_obs)

        # ---- Logging: the iteration's host syncs (the loss sums and the env's episode statistics).
        # The clock stops after the first of them, so that on a GPU it counts the queued work too.
        scalars = {key: float(value) / num_updates for key, value in sums.items()}
        end = time.perf_counter()
        scalars["Policy/learning_rate"] = learning_rate
        scalars["Policy/action_std"] = float(agent.log_std.detach().exp().mean())
        scalars.update(env.pop_episode_stats())  # {} of episode keys when no episode ended.
        scalars["Perf/steps_per_s"] = T * N / (end - iteration_start)
        scalars["Perf/total_env_steps"] = float(T * N * iteration)
        history.append(scalars)
        if writer is not None:
            for key, value in scalars.items():
                writer.add_scalar(key, value, iteration)
        episode_return = scalars.get("Episode/return")
        shown_return = f"{episode_return:8.1f}" if episode_return is not None else f"{'-':>8}"
        print(
            f"iter {iteration:4d} | return {shown_return} | steps/s {scalars['Perf/steps_per_s']:7.0f} | "
            f"value loss {scalars['Loss/value']:8.3f} | kl {scalars['Policy/kl']:.4f} | "
            f"lr {learning_rate:.1e} | std {scalars['Policy/action_std']:.3f} | "
            f"{end - started:6.1f} s",
            flush=True,
        )

    if writer is not None:
        writer.close()
    env.close()
    return history


if __name__ == "__main__":
    main(tyro.cli(Args))
