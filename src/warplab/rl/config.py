"""Configuration of PPO, SAC and TD3, their networks, and the runner.

Plain dataclasses read by tyro: each field's docstring becomes its ``--help`` line. Nothing here
changes a value the user passed; `validate` only checks and raises `ValueError` naming the field,
the allowed range and the value it got.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from warplab._values import is_finite_number as _is_real
from warplab._values import is_int as _is_int

ACTIVATIONS = ("elu", "selu", "relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid", "softsign")
"""Names accepted by `PolicyCfg.activation`."""

LOGGERS = ("tensorboard", "wandb", "none")
CONSOLES = ("auto", "bar", "lines", "off")
SCHEDULES = ("adaptive", "fixed")
ALGORITHMS = ("ppo", "sac", "td3")


@dataclass
class PpoCfg:
    """Proximal Policy Optimization: rollout length, loss and optimizer settings."""

    num_steps_per_env: int = 24
    """Policy steps each world collects per iteration; a rollout is [num_steps_per_env, num_envs]."""
    num_learning_epochs: int = 5
    """Passes over the rollout per iteration."""
    num_mini_batches: int = 4
    """Mini-batches each pass is split into (one gradient step each)."""
    gamma: float = 0.99
    """Discount factor per policy step."""
    lam: float = 0.95
    """GAE lambda: 0 is one-step TD, 1 is the Monte Carlo return."""
    clip_param: float = 0.2
    """PPO clip range of the probability ratio (and of the value change when clipped_value_loss)."""
    value_loss_coef: float = 1.0
    """Weight of the value loss (squared error, no 1/2) in the total loss."""
    clipped_value_loss: bool = True
    """Clip the change of the value prediction to clip_param around the rollout's value."""
    entropy_coef: float = 0.005
    """Weight of the entropy bonus."""
    learning_rate: float = 1e-3
    """Adam learning rate at the start (the adaptive schedule changes it)."""
    schedule: Literal["adaptive", "fixed"] = "adaptive"
    """'adaptive': divide the LR by 1.5 when KL > 2*desired_kl, multiply by 1.5 when KL < desired_kl/2."""
    desired_kl: float = 0.01
    """Target KL divergence between the rollout policy and the updated one (adaptive schedule)."""
    min_learning_rate: float = 1e-5
    """Lower bound of the adaptive learning rate."""
    max_learning_rate: float = 1e-2
    """Upper bound of the adaptive learning rate."""
    max_grad_norm: float = 1.0
    """Clip the global gradient norm to this value."""
    normalize_advantages: bool = True
    """Normalize advantages to mean 0, std 1 over the whole rollout before the update."""
    tf32_matmul: bool = True
    """Let the update's float32 matmuls on CUDA use TF32 (10-bit mantissa, several times the FP32
    rate on Ampere and later GPUs); the env, the collection and everything outside the update stay in
    FP32, and the CPU is unaffected. On an H200 (humanoid-velocity-flat, 4,096 worlds) the update
    takes 0.033 s an iteration instead of 0.052 s, and the same training from one seed learns the
    same curve at equal iterations (benchmarks/RESULTS.md, eighth session). Off: FP32 updates."""
    graph_update: bool = True
    """On CUDA, record one mini-batch step (gather, forward, losses, backward, gradient clipping,
    Adam) as a CUDA graph at the first update and replay it for every mini-batch after: the host
    then launches one graph instead of some hundred kernels a mini-batch. Same numbers as the eager
    step. Needs the samples (num_steps_per_env x worlds) to split into equal mini-batches, else the
    update runs eagerly with a warning. Ignored on the CPU. On an H200 (humanoid-velocity-flat,
    4,096 worlds) the update takes 0.05 s an iteration instead of 0.12 s."""


@dataclass
class PolicyCfg:
    """Actor-critic networks: Gaussian actor with a state-independent std, MLP critic."""

    actor_hidden_dims: tuple[int, ...] = (256, 128, 64)
    """Widths of the actor's hidden layers."""
    critic_hidden_dims: tuple[int, ...] = (256, 128, 64)
    """Widths of the critic's hidden layers."""
    activation: Literal[
        "elu", "selu", "relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid", "softsign"
    ] = "elu"
    """Activation after each hidden layer."""
    init_noise_std: float = 1.0
    """Initial standard deviation of the action noise, in action units."""
    actor_obs_normalization: bool = True
    """Normalize the actor's input with a running mean and variance."""
    critic_obs_normalization: bool = True
    """Normalize the critic's input with its own running mean and variance."""
    obs_clip: float = 5.0
    """Normalized observations are clamped to [-obs_clip, obs_clip] (in standard deviations)."""


@dataclass
class SacCfg:
    """SAC and TD3: collection, replay, targets, optimizers and the update's speed settings.

    The defaults are for thousands of worlds on one GPU, in the manner of FastTD3 (Seo et al. 2025)
    and FastSAC: big batches from a replay buffer on the device, a distributional (C51) critic,
    several updates per env step and targets that move fast. They are starting points, not yet
    tuned on warplab's tasks (docs/training.md). A task with few worlds (the cart-pole on a CPU,
    say) sets its own batch size and value range.
    """

    num_steps_per_env: int = 24
    """Env steps each world takes per iteration, each followed by its updates. An iteration is only
    the unit of logging and checkpoints here; 24 makes an iteration collect as many transitions as
    a PPO iteration, so max_iterations and the logged curves compare."""
    replay_size_per_env: int = 1024
    """Transitions the replay buffer holds per world (a ring: the oldest step is overwritten).
    At 4,096 worlds 1,024 a world is 4 M transitions, a few GB on the device for a humanoid."""
    batch_size: int = 8192
    """Transitions per gradient update. Large batches (FastTD3's published settings use 32,768)
    keep the GPU busy and the gradient steady while many updates follow each env step."""
    replay_ratio: float = 16.0
    """Gradient samples per collected transition: after each env step the runner takes
    replay_ratio * num_envs / batch_size updates, carrying the fraction over on the host, so each
    transition is used replay_ratio times on average whatever the world count. With the defaults
    that is 8 updates a step at 4,096 worlds. (FastTD3's Isaac Lab velocity settings, 4 updates of
    32,768 a step at 4,096 worlds, are a ratio of 32.)"""
    learning_starts: int = 10
    """Env steps per world before the first update (FastTD3: 10); with thousands of
    worlds that is already tens of thousands of transitions."""
    random_steps: int = 0
    """Env steps per world at the start that act uniformly at random in [-action_scale,
    action_scale] instead of with the policy. 0: thousands of worlds under the untrained stochastic
    policy already cover the start states; small runs may want some."""
    gamma: float = 0.99
    """Discount factor per policy step (as PPO's, so a task's rewards mean the same horizon)."""
    n_step: int = 1
    """Steps of reward summed in each target before bootstrapping (n-step returns): 1 is the plain
    one-step target, the unbiased one; longer windows speed up the spread of reward (FastTD3 uses
    3 to 8 on locomotion) but are biased by the old policy's actions."""
    tau: float = 0.1
    """Polyak rate of the target critics after every update: target += tau * (online - target).
    Fast (FastTD3: 0.1) because many updates follow each env step."""
    actor_learning_rate: float = 3e-4
    """Adam learning rate of the actor (SAC's and FastTD3's 3e-4)."""
    critic_learning_rate: float = 3e-4
    """Adam learning rate of the critics."""
    alpha_learning_rate: float = 3e-4
    """Adam learning rate of log(alpha), the temperature (SAC with autotune_alpha)."""
    init_alpha: float = 0.001
    """Temperature at the start (SAC): the weight of the entropy bonus, in reward units per nat.
    Small, because robot tasks' rewards per step are small; the autotuning raises it
    where the policy's entropy falls below target."""
    autotune_alpha: bool = True
    """Learn the temperature so that the policy's entropy tracks the target (Haarnoja et al. 2018);
    off: alpha stays init_alpha."""
    target_entropy_per_action: float = -1.0
    """Target entropy of the squashed policy per action dimension, nats, measured on the policy's
    own range [-1, 1] before ``action_scale`` (SAC with autotune_alpha; SAC's classic -1). Below
    log 2 = 0.69, the uniform distribution's and the most a squashed action can have: a target
    above what the policy can reach makes the temperature grow without bound until the entropy
    bonus outweighs the task's rewards and the policy unlearns. The agent adds
    ``log(action_scale)`` per action, since its log-densities are those of the scaled actions."""
    policy_delay: int = 2
    """Update the actor (and the temperature) on every policy_delay-th update only; the critics
    update every time. TD3's and FastTD3's 2: the actor follows a critic that has settled."""
    num_critics: int = 2
    """Critics in the ensemble; targets take their minimum (clipped double Q, against the
    overestimation of a maximized value), the actor their mean."""
    distributional: bool = True
    """C51 critics: each predicts a categorical distribution of the return on num_atoms fixed atoms
    in [v_min, v_max] and learns by cross-entropy to the projected target (FastTD3 uses it with
    large batches for its steadier targets). Off: plain critics trained by squared error."""
    num_atoms: int = 101
    """Atoms of the C51 distribution (FastTD3: 101)."""
    v_min: float = -20.0
    """Lowest return the C51 critic can represent, in discounted reward units; targets below are
    clipped. Set v_min and v_max to cover the task's discounted returns (about max reward per step
    / (1 - gamma)); the default +-20 fits rewards of order 0.1 per step."""
    v_max: float = 20.0
    """Highest return the C51 critic can represent (see v_min)."""
    max_grad_norm: float = 0.0
    """Clip each network's gradient norm to this; 0 turns clipping off (FastTD3: off; the layer
    norms keep the gradients in range and the clipping costs a norm per update)."""
    exploration_noise_std: float = 0.2
    """TD3: std of the Gaussian noise added to the actor's action while collecting, as a fraction of
    action_scale (FastTD3 draws each world's std from [0.001, 0.4]: 0.2 is its middle)."""
    target_noise_std: float = 0.2
    """TD3: std of the noise on the target actions (target policy smoothing), as a fraction of
    action_scale (TD3's 0.2)."""
    target_noise_clip: float = 0.5
    """TD3: the target-action noise is clipped to +-target_noise_clip * action_scale (TD3's 0.5)."""
    tf32_matmul: bool = True
    """Let the update's float32 matmuls on CUDA use TF32 (as PpoCfg.tf32_matmul); the CPU is
    unaffected. Off: FP32 updates."""
    graph_update: bool = True
    """On CUDA, record the replay sampling and the update (one graph with the actor step, one
    without) as CUDA graphs and replay them: an update is some hundreds of small kernels that the
    host would otherwise launch one by one. Same numbers as the eager update. Ignored on the CPU."""
    bf16_autocast: bool = False
    """Run the networks' forward passes in the update (critics, actor, target critics) under
    ``torch.autocast(device_type, dtype=torch.bfloat16, cache_enabled=False)`` (the cast cache must
    be off for the CUDA graph capture of graph_update): their matmuls take bfloat16 inputs. The
    logits and values are cast to float32 as they leave the networks, so the losses, the softmax
    and log-softmax of C51 logits, the C51 projection, the targets, Polyak averaging, the optimizer
    states and the weights all stay float32; collection (acting) stays float32 too. Off by default
    until measured on a GPU (it may not pay at these network sizes)."""
    compile_networks: bool = False
    """Run the networks' forward passes in the update (actor, critics, target critics) through
    ``torch.compile`` (Inductor, no CUDA graphs of its own): it fuses each layer's bias, layer norm
    and activation, and their backward, into fewer kernels. Compiled once per input shape at the
    first updates (tens of seconds on a GPU; the warm-up updates of graph_update run them, so the
    captured graphs replay the compiled kernels). The random draws stay outside (SAC's generator),
    so the numbers are the eager update's up to the fused kernels' rounding. Collection (acting)
    is not compiled. Off by default until measured on a GPU."""
    save_replay: bool = False
    """Checkpoints hold the replay buffer, so a resumed run continues exactly. Off by default: the
    buffer is gigabytes at thousands of worlds, and a run resumed without it refills it (the
    networks and optimizers are restored either way)."""


@dataclass
class SacPolicyCfg:
    """Off-policy networks: a squashed Gaussian (SAC) or deterministic (TD3) actor and a critic
    ensemble, each with its own observation normalizer."""

    actor_hidden_dims: tuple[int, ...] = (512, 256, 128)
    """Widths of the actor's hidden layers."""
    critic_hidden_dims: tuple[int, ...] = (768, 384, 192)
    """Widths of each critic's hidden layers: the critic does the hard part of off-policy learning
    and gets the bigger network."""
    activation: Literal[
        "elu", "selu", "relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid", "softsign"
    ] = "silu"
    """Activation after each hidden layer (and its layer norm)."""
    layer_norm: bool = True
    """Layer normalization after each hidden linear layer of the actor and the critics: it keeps
    the critic's features bounded as its targets move, which large-batch, high-update-rate SAC and
    TD3 need to stay stable."""
    action_scale: float = 1.0
    """Actions are action_scale * tanh(u), in the env's action units: the actor's range is
    [-action_scale, action_scale]."""
    log_std_min: float = -5.0
    """Lowest log std of the SAC actor's Gaussian before squashing."""
    log_std_max: float = 0.0
    """Highest log std of the SAC actor's Gaussian (0: a std of at most 1 before tanh, so the
    squashed samples do not pile up at the bounds)."""
    actor_obs_normalization: bool = True
    """Normalize the actor's input with a running mean and variance of the collected observations."""
    critic_obs_normalization: bool = True
    """Normalize the critics' input with their own running statistics."""
    obs_clip: float = 5.0
    """Normalized observations are clamped to [-obs_clip, obs_clip] (in standard deviations)."""


@dataclass
class RunnerCfg:
    """The training run: length, saving, logging, seed, the algorithm and its settings."""

    algorithm: Literal["ppo", "sac", "td3"] = "ppo"
    """The learner: 'ppo' (OnPolicyRunner, settings in ppo and policy), 'sac' or 'td3'
    (OffPolicyRunner, settings in sac and sac_policy)."""

    max_iterations: int = 1500
    """Iterations `learn()` runs when not told otherwise (PPO: one rollout and one update each;
    SAC and TD3: ``sac.num_steps_per_env`` env steps, each followed by its updates)."""
    save_interval: int = 100
    """Save a checkpoint every this many iterations (and always at the end)."""
    experiment_name: str = "default"
    """Folder under runs/ that groups the runs of one task."""
    run_name: str = ""
    """Suffix of the run folder, after the date and time."""
    logger: Literal["tensorboard", "wandb", "none"] = "tensorboard"
    """Where scalars go: TensorBoard event files, W&B (plus TensorBoard files), or nowhere."""
    wandb_project: str = "warplab"
    """W&B project when logger='wandb'."""
    console: Literal["auto", "bar", "lines", "off"] = "auto"
    """Console output: 'auto' is a progress bar on a terminal and lines otherwise."""
    print_interval: int = 10
    """Without a progress bar, print one line every this many iterations."""
    seed: int = 42
    """Seed of torch, numpy, Python's random, the env and the mini-batch shuffling."""
    export_onnx: bool = True
    """Also write model_<iteration>.onnx and policy.onnx (the latest) beside each checkpoint, when
    the runner was given an exporter (`warplab train` gives one); a failed export only warns."""
    ppo: PpoCfg = field(default_factory=PpoCfg)
    """PPO settings."""
    policy: PolicyCfg = field(default_factory=PolicyCfg)
    """Network settings of PPO."""
    sac: SacCfg = field(default_factory=SacCfg)
    """SAC and TD3 settings."""
    sac_policy: SacPolicyCfg = field(default_factory=SacPolicyCfg)
    """Network settings of SAC and TD3."""


INT_LIMIT = 2**31 - 1
"""Largest count a config may hold (Warp and the rollout buffers index with 32-bit integers)."""

SEED_LIMIT = 2**32 - 1
"""Largest seed: NumPy's legacy seeding (``np.random.seed``) takes 0 .. 2**32 - 1."""

MAX_LEARNING_RATE = 1.0
"""Largest learning rate accepted: Adam steps of more than 1 diverge at once."""

MAX_SQUASHED_ENTROPY = math.log(2.0)
"""Most entropy a squashed action on [-1, 1] can have, nats per action: the uniform distribution's."""


def _check(ok: bool, name: str, rule: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{name} must be {rule}, got {value!r}")


def _validate_ppo(cfg: PpoCfg, prefix: str) -> None:
    for name in ("num_steps_per_env", "num_learning_epochs", "num_mini_batches"):
        value = getattr(cfg, name)
        _check(_is_int(value) and value >= 1, f"{prefix}.{name}", "an integer >= 1", value)
        _check(value <= INT_LIMIT, f"{prefix}.{name}", f"at most {INT_LIMIT} (32-bit)", value)
    for name in ("gamma", "lam"):
        value = getattr(cfg, name)
        _check(_is_real(value) and 0.0 <= value <= 1.0, f"{prefix}.{name}", "in [0, 1]", value)
    _check(
        _is_real(cfg.clip_param) and 0.0 < cfg.clip_param < 1.0,
        f"{prefix}.clip_param",
        "in (0, 1)",
        cfg.clip_param,
    )
    for name in ("value_loss_coef", "entropy_coef"):
        value = getattr(cfg, name)
        _check(_is_real(value) and value >= 0.0, f"{prefix}.{name}", ">= 0", value)
    for name in ("learning_rate", "desired_kl", "max_grad_norm", "min_learning_rate", "max_learning_rate"):
        value = getattr(cfg, name)
        _check(_is_real(value) and value > 0.0, f"{prefix}.{name}", "> 0", value)
    for name in ("learning_rate", "min_learning_rate", "max_learning_rate"):
        value = getattr(cfg, name)
        _check(value <= MAX_LEARNING_RATE, f"{prefix}.{name}", f"in (0, {MAX_LEARNING_RATE:g}]", value)
    _check(
        cfg.min_learning_rate <= cfg.max_learning_rate,
        f"{prefix}.min_learning_rate",
        f"<= max_learning_rate ({cfg.max_learning_rate})",
        cfg.min_learning_rate,
    )
    _check(cfg.schedule in SCHEDULES, f"{prefix}.schedule", f"one of {SCHEDULES}", cfg.schedule)
    for name in ("clipped_value_loss", "normalize_advantages", "tf32_matmul", "graph_update"):
        value = getattr(cfg, name)
        _check(isinstance(value, bool), f"{prefix}.{name}", "True or False", value)


def _validate_hidden_dims(cfg: PolicyCfg | SacPolicyCfg, prefix: str) -> None:
    for name in ("actor_hidden_dims", "critic_hidden_dims"):
        dims = getattr(cfg, name)
        ok = (
            isinstance(dims, (tuple, list))
            and len(dims) > 0
            and all(_is_int(d) and 1 <= d <= INT_LIMIT for d in dims)
        )
        _check(ok, f"{prefix}.{name}", f"a non-empty sequence of integers >= 1 (at most {INT_LIMIT})", dims)
    _check(cfg.activation in ACTIVATIONS, f"{prefix}.activation", f"one of {ACTIVATIONS}", cfg.activation)


def _validate_policy(cfg: PolicyCfg, prefix: str) -> None:
    _validate_hidden_dims(cfg, prefix)
    _check(
        _is_real(cfg.init_noise_std) and cfg.init_noise_std > 0.0,
        f"{prefix}.init_noise_std",
        "> 0",
        cfg.init_noise_std,
    )
    _check(_is_real(cfg.obs_clip) and cfg.obs_clip > 0.0, f"{prefix}.obs_clip", "> 0", cfg.obs_clip)
    for name in ("actor_obs_normalization", "critic_obs_normalization"):
        value = getattr(cfg, name)
        _check(isinstance(value, bool), f"{prefix}.{name}", "True or False", value)


def _check_counts(cfg: Any, prefix: str, names: tuple[str, ...], minimum: int) -> None:
    for name in names:
        value = getattr(cfg, name)
        _check(_is_int(value) and value >= minimum, f"{prefix}.{name}", f"an integer >= {minimum}", value)
        _check(value <= INT_LIMIT, f"{prefix}.{name}", f"at most {INT_LIMIT} (32-bit)", value)


def _check_bools(cfg: Any, prefix: str, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(cfg, name)
        _check(isinstance(value, bool), f"{prefix}.{name}", "True or False", value)


def _validate_sac(cfg: SacCfg, prefix: str) -> None:
    _check_counts(
        cfg,
        prefix,
        ("num_steps_per_env", "replay_size_per_env", "batch_size", "n_step", "policy_delay", "num_critics"),
        1,
    )
    _check_counts(cfg, prefix, ("learning_starts", "random_steps"), 0)
    _check_counts(cfg, prefix, ("num_atoms",), 2)
    _check(
        cfg.n_step <= cfg.replay_size_per_env,
        f"{prefix}.n_step",
        f"<= replay_size_per_env ({cfg.replay_size_per_env})",
        cfg.n_step,
    )
    _check(
        _is_real(cfg.replay_ratio) and cfg.replay_ratio > 0.0,
        f"{prefix}.replay_ratio",
        "> 0",
        cfg.replay_ratio,
    )
    _check(_is_real(cfg.gamma) and 0.0 <= cfg.gamma <= 1.0, f"{prefix}.gamma", "in [0, 1]", cfg.gamma)
    _check(_is_real(cfg.tau) and 0.0 < cfg.tau <= 1.0, f"{prefix}.tau", "in (0, 1]", cfg.tau)
    for name in ("actor_learning_rate", "critic_learning_rate", "alpha_learning_rate"):
        value = getattr(cfg, name)
        ok = _is_real(value) and 0.0 < value <= MAX_LEARNING_RATE
        _check(ok, f"{prefix}.{name}", f"in (0, {MAX_LEARNING_RATE:g}]", value)
    _check(_is_real(cfg.init_alpha) and cfg.init_alpha > 0.0, f"{prefix}.init_alpha", "> 0", cfg.init_alpha)
    _check(
        _is_real(cfg.target_entropy_per_action) and cfg.target_entropy_per_action < MAX_SQUASHED_ENTROPY,
        f"{prefix}.target_entropy_per_action",
        f"a finite number below log 2 = {MAX_SQUASHED_ENTROPY:.3f} (nats per action on [-1, 1]; a higher"
        " target is out of reach and the temperature grows without bound)",
        cfg.target_entropy_per_action,
    )
    for name in ("v_min", "v_max"):
        value = getattr(cfg, name)
        _check(_is_real(value), f"{prefix}.{name}", "a finite number", value)
    _check(cfg.v_min < cfg.v_max, f"{prefix}.v_min", f"< v_max ({cfg.v_max})", cfg.v_min)
    for name in ("max_grad_norm", "exploration_noise_std", "target_noise_std", "target_noise_clip"):
        value = getattr(cfg, name)
        _check(_is_real(value) and value >= 0.0, f"{prefix}.{name}", ">= 0", value)
    _check_bools(
        cfg,
        prefix,
        (
            "autotune_alpha",
            "distributional",
            "tf32_matmul",
            "graph_update",
            "bf16_autocast",
            "compile_networks",
            "save_replay",
        ),
    )


def _validate_sac_policy(cfg: SacPolicyCfg, prefix: str) -> None:
    _validate_hidden_dims(cfg, prefix)
    _check(
        _is_real(cfg.action_scale) and cfg.action_scale > 0.0,
        f"{prefix}.action_scale",
        "> 0",
        cfg.action_scale,
    )
    for name in ("log_std_min", "log_std_max"):
        value = getattr(cfg, name)
        _check(_is_real(value), f"{prefix}.{name}", "a finite number", value)
    _check(
        cfg.log_std_min < cfg.log_std_max,
        f"{prefix}.log_std_min",
        f"< log_std_max ({cfg.log_std_max})",
        cfg.log_std_min,
    )
    _check(_is_real(cfg.obs_clip) and cfg.obs_clip > 0.0, f"{prefix}.obs_clip", "> 0", cfg.obs_clip)
    _check_bools(cfg, prefix, ("layer_norm", "actor_obs_normalization", "critic_obs_normalization"))


def _validate_runner(cfg: RunnerCfg, prefix: str) -> None:
    for name in ("max_iterations", "save_interval", "print_interval"):
        value = getattr(cfg, name)
        _check(_is_int(value) and value >= 1, f"{prefix}.{name}", "an integer >= 1", value)
        _check(value <= INT_LIMIT, f"{prefix}.{name}", f"at most {INT_LIMIT} (32-bit)", value)
    _check(_is_int(cfg.seed) and cfg.seed >= 0, f"{prefix}.seed", "an integer >= 0", cfg.seed)
    _check(
        cfg.seed <= SEED_LIMIT, f"{prefix}.seed", f"at most {SEED_LIMIT} (NumPy's seeds are 32-bit)", cfg.seed
    )
    for name in ("experiment_name", "run_name"):
        value = getattr(cfg, name)
        ok = isinstance(value, str) and "/" not in value and "\\" not in value and value not in (".", "..")
        _check(ok, f"{prefix}.{name}", "a string without path separators", value)
    _check(bool(cfg.experiment_name), f"{prefix}.experiment_name", "a non-empty string", cfg.experiment_name)
    _check(cfg.logger in LOGGERS, f"{prefix}.logger", f"one of {LOGGERS}", cfg.logger)
    _check(cfg.console in CONSOLES, f"{prefix}.console", f"one of {CONSOLES}", cfg.console)
    _check(cfg.algorithm in ALGORITHMS, f"{prefix}.algorithm", f"one of {ALGORITHMS}", cfg.algorithm)
    _validate_ppo(cfg.ppo, f"{prefix}.ppo")
    _validate_policy(cfg.policy, f"{prefix}.policy")
    _validate_sac(cfg.sac, f"{prefix}.sac")
    _validate_sac_policy(cfg.sac_policy, f"{prefix}.sac_policy")


def validate(cfg: RunnerCfg | PpoCfg | PolicyCfg | SacCfg | SacPolicyCfg) -> None:
    """Check every field of `cfg` (and of the configs nested in it).

    Raises:
        ValueError: naming the first wrong field, its allowed range and the value it got, e.g.
            ``PpoCfg.clip_param must be in (0, 1), got 1.5``.
    """
    if isinstance(cfg, RunnerCfg):
        _validate_runner(cfg, "RunnerCfg")
    elif isinstance(cfg, PpoCfg):
        _validate_ppo(cfg, "PpoCfg")
    elif isinstance(cfg, PolicyCfg):
        _validate_policy(cfg, "PolicyCfg")
    elif isinstance(cfg, SacCfg):
        _validate_sac(cfg, "SacCfg")
    elif isinstance(cfg, SacPolicyCfg):
        _validate_sac_policy(cfg, "SacPolicyCfg")
    else:
        raise TypeError(
            f"validate() takes a RunnerCfg, PpoCfg, PolicyCfg, SacCfg or SacPolicyCfg, got {type(cfg).__name__}"
        )


def to_plain(obj: Any) -> Any:
    """Convert a config (dataclasses, mappings, sequences) into JSON- and ``weights_only``-safe values.

    Dataclasses become dicts of their fields, tuples and sets become lists, functions become
    ``"module:qualname"``, paths become strings; any other object becomes its ``repr`` so that an
    env config holding, say, a tensor or a MuJoCo spec can still be written down.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(key): to_plain(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_plain(value) for value in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if callable(obj) and hasattr(obj, "__qualname__"):
        return f"{getattr(obj, '__module__', '?')}:{obj.__qualname__}"
    return repr(obj)


def runner_cfg_from_dict(data: Mapping[str, Any]) -> RunnerCfg:
    """Rebuild a `RunnerCfg` from `to_plain(cfg)` (e.g. the ``config`` entry of a checkpoint).

    Unknown keys raise `ValueError` so a checkpoint from another version is not read silently wrong;
    missing keys take their defaults, so a checkpoint written before SAC existed (no ``algorithm``,
    ``sac`` or ``sac_policy``) loads as the PPO run it was.
    """
    nested: dict[str, type] = {"ppo": PpoCfg, "policy": PolicyCfg, "sac": SacCfg, "sac_policy": SacPolicyCfg}

    def build(cls: type, values: Mapping[str, Any], prefix: str) -> Any:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"{prefix} has unknown fields {unknown}; known fields: {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name in nested:
                if not isinstance(value, Mapping):
                    raise ValueError(f"{prefix}.{name} must be a dict of fields, got {type(value).__name__}")
                kwargs[name] = build(nested[name], value, f"{prefix}.{name}")
            elif name in ("actor_hidden_dims", "critic_hidden_dims"):
                kwargs[name] = tuple(value)
            else:
                kwargs[name] = value
        return cls(**kwargs)

    return build(RunnerCfg, data, "RunnerCfg")
