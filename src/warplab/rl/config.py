"""Configuration of PPO, the actor-critic and the runner.

Plain dataclasses read by tyro: each field's docstring becomes its ``--help`` line. Nothing here
changes a value the user passed; `validate` only checks and raises `ValueError` naming the field,
the allowed range and the value it got.
"""

from __future__ import annotations

import dataclasses
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
class RunnerCfg:
    """The training run: length, saving, logging, seed, and the PPO and policy settings."""

    max_iterations: int = 1500
    """Iterations `learn()` runs when not told otherwise (one rollout and one update each)."""
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
    """Network settings."""


INT_LIMIT = 2**31 - 1
"""Largest count a config may hold (Warp and the rollout buffers index with 32-bit integers)."""

SEED_LIMIT = 2**32 - 1
"""Largest seed: NumPy's legacy seeding (``np.random.seed``) takes 0 .. 2**32 - 1."""

MAX_LEARNING_RATE = 1.0
"""Largest learning rate accepted: Adam steps of more than 1 diverge at once."""


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


def _validate_policy(cfg: PolicyCfg, prefix: str) -> None:
    for name in ("actor_hidden_dims", "critic_hidden_dims"):
        dims = getattr(cfg, name)
        ok = (
            isinstance(dims, (tuple, list))
            and len(dims) > 0
            and all(_is_int(d) and 1 <= d <= INT_LIMIT for d in dims)
        )
        _check(ok, f"{prefix}.{name}", f"a non-empty sequence of integers >= 1 (at most {INT_LIMIT})", dims)
    _check(cfg.activation in ACTIVATIONS, f"{prefix}.activation", f"one of {ACTIVATIONS}", cfg.activation)
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
    _validate_ppo(cfg.ppo, f"{prefix}.ppo")
    _validate_policy(cfg.policy, f"{prefix}.policy")


def validate(cfg: RunnerCfg | PpoCfg | PolicyCfg) -> None:
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
    else:
        raise TypeError(f"validate() takes a RunnerCfg, PpoCfg or PolicyCfg, got {type(cfg).__name__}")


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

    Unknown keys raise `ValueError` so a checkpoint from another version is not read silently wrong.
    """

    def build(cls: type, values: Mapping[str, Any], prefix: str) -> Any:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"{prefix} has unknown fields {unknown}; known fields: {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name == "ppo":
                kwargs[name] = build(PpoCfg, value, f"{prefix}.ppo")
            elif name == "policy":
                kwargs[name] = build(PolicyCfg, value, f"{prefix}.policy")
            elif name in ("actor_hidden_dims", "critic_hidden_dims"):
                kwargs[name] = tuple(value)
            else:
                kwargs[name] = value
        return cls(**kwargs)

    return build(RunnerCfg, data, "RunnerCfg")
