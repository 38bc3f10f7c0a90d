"""Checks of the numbers in an ``RlEnvCfg``, before anything is built.

Two layers. A generic walk visits every number the config holds (its own fields, ``sim``,
``viewer``, and every term's fields and ``params``, through dicts, tuples and lists) and refuses
NaN anywhere, infinity anywhere but a clip bound, and integers outside the signed 32-bit range
(Warp sizes its arrays with 32-bit integers). Then field rules give the ranges of the fields whose
meaning is known here (``num_envs >= 1``, ``episode_length_s > 0``...). A term checks the meaning
of its own ``params`` when it is bound. Each error names the field by its path, the value, and what
would be right.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from warplab._values import is_number as _is_number
from warplab.envs.managers.term import ConfigError

INT_LIMIT = 2**31 - 1
"""Largest integer a config may hold: Warp's array dimensions and many counts are signed 32-bit."""

SEED_LIMIT = 2**32 - 1
"""Largest seed: NumPy's legacy seeding (used by the runner) takes 0 .. 2**32 - 1."""

MAX_EPISODE_STEPS = 2**62
"""Most policy steps an episode may last (the step counters are 64-bit integers)."""

INF_ALLOWED = frozenset(
    {"clip", "limits", "max_abs_qvel", "max_abs_qacc", "joint_range_margin", "max_free_distance"}
)
"""Fields and params whose numbers may be infinite: bounds, where inf leaves that side open (a
clip; a curriculum's ``limits``, such as ``PushStrengthCurriculum``'s default ``(0, inf)``) or
turns the check off (the divergence guard's bounds, ``SimCfg``)."""


def _is_range_key(key: Any) -> bool:
    return isinstance(key, str) and "range" in key


def check_numbers(obj: Any, path: str, inf_ok: bool = False, in_range: bool = False) -> None:
    """Walks a config and refuses NaN, unallowed infinities, integers beyond 32 bits and reversed
    ranges.

    The convention of terms' ``params`` for ranges is checked too: below a dict key that says
    ``range`` (``position_range``, ``velocity_range``, ``ranges``), every pair of numbers is
    ``(low, high)``, and a dict holding both ``low`` and ``high`` numbers is one; ``low > high`` is
    refused. (Dataclass fields are left to their managers: a terrain's ``stone_size_range`` goes
    from easy to hard.)

    Args:
      obj: a dataclass, mapping, sequence or leaf value.
      path: how the user names ``obj`` (``RlEnvCfg.rewards.alive.weight``).
      inf_ok: whether infinities are allowed below here (a field in ``INF_ALLOWED``).
      in_range: whether ``obj`` lies below a dict key that says ``range``.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for field in dataclasses.fields(obj):
            if field.name == "func":
                continue
            value = getattr(obj, field.name)
            ok_inf = inf_ok or field.name in INF_ALLOWED
            # A dataclass's own range fields may mean something else (a terrain's (easy, hard) sizes);
            # its manager checks them. The convention holds for the dicts of params.
            check_numbers(value, f"{path}.{field.name}", ok_inf)
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            check_numbers(
                value, f"{path}.{key}", inf_ok or key in INF_ALLOWED, in_range or _is_range_key(key)
            )
        low, high = obj.get("low"), obj.get("high")
        if _is_number(low) and _is_number(high) and low > high:
            raise ConfigError(f"{path}: low must be <= high, got low={low!r}, high={high!r}")
    elif isinstance(obj, (tuple, list)):
        for i, value in enumerate(obj):
            check_numbers(value, f"{path}[{i}]", inf_ok, in_range)
        if in_range and len(obj) == 2 and all(_is_number(v) for v in obj) and obj[0] > obj[1]:
            raise ConfigError(f"{path} must be (low, high) with low <= high, got {tuple(obj)!r}")
    elif isinstance(obj, float):
        if math.isnan(obj) or (math.isinf(obj) and not inf_ok):
            raise ConfigError(f"{path} must be a finite number, got {obj!r}")
    elif _is_number(obj) and abs(obj) > INT_LIMIT and not path.endswith(".seed"):
        raise ConfigError(f"{path} must lie within -{INT_LIMIT}..{INT_LIMIT} (32-bit), got {obj!r}")


def _require(ok: bool, path: str, rule: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{path} must be {rule}, got {value!r}")


def _int_at_least(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= INT_LIMIT


def _positive(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value) and value > 0


def check_fields(cfg: Any) -> None:
    """The ranges of ``RlEnvCfg``'s own fields, of ``sim`` and ``viewer``, and of the term fields
    every manager shares (weights, scales, histories, noise). ``cfg`` is an ``RlEnvCfg``."""
    p = "RlEnvCfg"
    _require(
        _int_at_least(cfg.num_envs, 1),
        f"{p}.num_envs",
        f"a positive integer (at most {INT_LIMIT})",
        cfg.num_envs,
    )
    _require(_int_at_least(cfg.decimation, 1), f"{p}.decimation", "a positive integer", cfg.decimation)
    _require(
        _positive(cfg.episode_length_s),
        f"{p}.episode_length_s",
        "a finite number > 0 (s)",
        cfg.episode_length_s,
    )
    _require(
        cfg.timestep is None or _positive(cfg.timestep),
        f"{p}.timestep",
        "a finite number > 0 (s) or None",
        cfg.timestep,
    )
    if cfg.timestep is not None:
        episode_steps(cfg.episode_length_s, cfg.decimation * cfg.timestep)
    seed = cfg.seed
    _require(
        isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= SEED_LIMIT,
        f"{p}.seed",
        f"an integer in 0..{SEED_LIMIT}",
        seed,
    )
    _require(
        _int_at_least(cfg.graph_warmup_steps, 0),
        f"{p}.graph_warmup_steps",
        "an integer >= 0",
        cfg.graph_warmup_steps,
    )
    for name in ("scale_rewards_by_dt", "debug", "final_observation", "graph_step"):
        _require(isinstance(getattr(cfg, name), bool), f"{p}.{name}", "true or false", getattr(cfg, name))

    sim = cfg.sim
    for name in ("nconmax", "njmax"):
        value = getattr(sim, name)
        _require(
            value is None or _int_at_least(value, 1),
            f"{p}.sim.{name}",
            "a positive integer or None (sized from the model)",
            value,
        )
    headroom = sim.capacity_headroom
    _require(
        _is_number(headroom) and 1.0 <= headroom <= 1e3,
        f"{p}.sim.capacity_headroom",
        "a number in [1, 1000]",
        headroom,
    )
    # The divergence guard's bounds (warplab.sim.divergence checks them again, as SimCfg's, for a
    # Simulation built alone); here they are refused before anything is built, by their env path.
    qvel, qacc = getattr(sim, "max_abs_qvel", None), getattr(sim, "max_abs_qacc", 1.0)
    ok = qvel is None or (_is_number(qvel) and qvel > 0)
    _require(ok, f"{p}.sim.max_abs_qvel", "a number > 0 (inf: unchecked) or None (from the model)", qvel)
    _require(_is_number(qacc) and qacc > 0, f"{p}.sim.max_abs_qacc", "a number > 0 (inf: unchecked)", qacc)
    margin = getattr(sim, "joint_range_margin", 0.0)
    _require(
        _is_number(margin) and margin >= 0,
        f"{p}.sim.joint_range_margin",
        "a number >= 0 (inf: ranges unchecked)",
        margin,
    )
    distance = getattr(sim, "max_free_distance", None)
    _require(
        distance is None or (_is_number(distance) and distance > 0),
        f"{p}.sim.max_free_distance",
        "a number > 0 (m; inf: unchecked) or None (from the model)",
        distance,
    )
    _require(
        isinstance(sim.use_cuda_graph, bool), f"{p}.sim.use_cuda_graph", "true or false", sim.use_cuda_graph
    )

    viewer = cfg.viewer
    _require(_positive(viewer.distance), f"{p}.viewer.distance", "a finite number > 0 (m)", viewer.distance)
    _require(
        _is_number(viewer.elevation) and -90.0 <= viewer.elevation <= 90.0,
        f"{p}.viewer.elevation",
        "in [-90, 90] degrees",
        viewer.elevation,
    )

    for group, gcfg in cfg.observations.items():
        where = f"{p}.observations.{group}"
        _require(
            gcfg.history_length is None or _int_at_least(gcfg.history_length, 0),
            f"{where}.history_length",
            "an integer >= 0 or None",
            gcfg.history_length,
        )
        for term, tcfg in gcfg.terms.items():
            _require(
                _int_at_least(tcfg.history_length, 0),
                f"{where}.terms.{term}.history_length",
                "an integer >= 0",
                tcfg.history_length,
            )
            if tcfg.noise is not None:
                scale = tcfg.noise.scale
                _require(
                    _is_number(scale) and scale >= 0,
                    f"{where}.terms.{term}.noise.scale",
                    "a finite number >= 0",
                    scale,
                )
            if tcfg.clip is not None:
                clip = tcfg.clip
                ok = len(clip) == 2 and all(_is_number(c) for c in clip) and clip[0] <= clip[1]
                _require(ok, f"{where}.terms.{term}.clip", "(low, high) with low <= high, or None", clip)


def episode_steps(episode_length_s: float, policy_dt: float) -> int:
    """Policy steps in an episode of ``episode_length_s`` s at ``policy_dt`` s a step.

    Rounded first so that float error (0.14 / 0.02 = 7.000000000000001) adds no extra step.
    Raises ``ConfigError`` when the count does not fit the env's 64-bit step counters.
    """
    steps = episode_length_s / policy_dt
    if not steps <= MAX_EPISODE_STEPS:
        raise ConfigError(
            f"RlEnvCfg.episode_length_s={episode_length_s!r} s at a policy step of {policy_dt!r} s "
            f"is {steps:.3g} steps; an episode may last at most {MAX_EPISODE_STEPS:.3g} steps"
        )
    return max(math.ceil(round(steps, 6)), 1)


def check_env_cfg_numbers(cfg: Any) -> None:
    """Every number of an ``RlEnvCfg``: the field rules, then the generic walk (``ConfigError``)."""
    # The field rules first: where both object, theirs is the more telling message.
    check_fields(cfg)
    check_numbers(cfg, "RlEnvCfg")
