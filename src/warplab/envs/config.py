"""Configuration of an RL environment: plain dataclasses, one dict of terms per manager.

A task is a factory function returning an ``RlEnvCfg``; a variant edits a copy
(``dataclasses.replace`` or ``copy.deepcopy``). Terms are plain functions ``f(env, **params)``, or
classes built once as ``cls(cfg, env)`` and then called like functions (for terms that keep state or
resolve names once).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

import mujoco

from warplab.sim import SimCfg


@dataclasses.dataclass
class NoiseCfg:
    """Additive noise on an observation term (applied when the group is corrupted)."""

    kind: Literal["uniform", "gaussian"] = "uniform"
    """``uniform`` draws from [-scale, scale]; ``gaussian`` has standard deviation ``scale``."""
    scale: float = 0.0
    """Half-width (uniform) or standard deviation (gaussian), in the term's own unit."""


@dataclasses.dataclass
class ObservationTermCfg:
    """One observation term: ``func(env, **params) -> [num_envs, ...]``."""

    func: Callable[..., Any]
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    noise: NoiseCfg | None = None
    """Noise added before clipping and scaling, when the group is corrupted."""
    clip: tuple[float, float] | None = None
    """Clip the noisy value to [low, high]."""
    scale: float = 1.0
    """Multiply after clipping."""
    history_length: int = 0
    """Stack this many past values (0: only the current one), oldest first, flattened."""


@dataclasses.dataclass
class ObservationGroupCfg:
    """A named observation vector (``policy``, ``critic``...): its terms concatenated in order."""

    terms: dict[str, ObservationTermCfg]
    enable_corruption: bool = False
    """Add the terms' noise (off for privileged critic observations and play mode)."""
    history_length: int | None = None
    """Overrides every term's history length when set."""


@dataclasses.dataclass
class ActionTermCfg:
    """One action term: a class ``cls(cfg, env)`` that maps its slice of the action to controls."""

    func: type
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class RewardTermCfg:
    """One reward term: ``weight * func(env, **params)`` (``[num_envs]``), per policy step."""

    func: Callable[..., Any]
    weight: float = 1.0
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class TerminationTermCfg:
    """One end-of-episode condition: ``func(env, **params) -> [num_envs] bool``."""

    func: Callable[..., Any]
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    time_out: bool = False
    """A time-out truncates (the learner bootstraps from the value) rather than terminates."""


@dataclasses.dataclass
class EventTermCfg:
    """An event: ``func(env, mask [num_envs] bool, **params)`` acting on the masked worlds."""

    func: Callable[..., Any]
    mode: Literal["startup", "reset", "interval"] = "reset"
    """``startup``: once, on all worlds; ``reset``: on worlds being reset; ``interval``: on a timer."""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    interval_range_s: tuple[float, float] = (10.0, 15.0)
    """For ``interval`` events: each world waits a time drawn uniformly from this range, s."""


@dataclasses.dataclass
class CommandTermCfg:
    """A command generator: a class ``cls(cfg, env)`` with ``command [num_envs, dim]``."""

    func: type
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    resampling_time_range_s: tuple[float, float] = (10.0, 10.0)
    """Each world draws a new command after a time drawn from this range, s."""


@dataclasses.dataclass
class CurriculumTermCfg:
    """A curriculum: ``func(env, mask [num_envs] bool, **params) -> Tensor | float | None``, on reset."""

    func: Callable[..., Any]
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ViewerCfg:
    """How videos frame the scene."""

    track_body: str | None = None
    """Body the camera follows (None: a fixed camera)."""
    distance: float = 4.0
    """Camera distance from the tracked point, m."""
    elevation: float = -20.0
    """Camera elevation, degrees."""
    azimuth: float = 90.0
    """Camera azimuth, degrees."""


@dataclasses.dataclass
class RlEnvCfg:
    """Everything that defines an RL environment."""

    scene: Callable[[], mujoco.MjSpec | mujoco.MjModel]
    """Builds the model of one world."""
    observations: dict[str, ObservationGroupCfg]
    actions: dict[str, ActionTermCfg]
    rewards: dict[str, RewardTermCfg]
    terminations: dict[str, TerminationTermCfg]
    events: dict[str, EventTermCfg] = dataclasses.field(default_factory=dict)
    commands: dict[str, CommandTermCfg] = dataclasses.field(default_factory=dict)
    curriculum: dict[str, CurriculumTermCfg] = dataclasses.field(default_factory=dict)
    decimation: int = 4
    """Physics substeps per policy step: ``policy_dt = decimation * timestep``."""
    episode_length_s: float = 20.0
    """Episodes are truncated after this long, s."""
    timestep: float | None = None
    """Physics time step, s (None: the model's own). One the model cannot be stable at is refused
    when the env is built, one near that limit warned about (``warplab.sim.stability``)."""
    init_keyframe: str | None = None
    """Keyframe whose qpos and qvel worlds reset to (before reset events); None: the model's qpos0."""
    scale_rewards_by_dt: bool = True
    """Multiply each weighted reward term by ``policy_dt`` (rates become per-step amounts)."""
    num_envs: int = 1
    device: str = "auto"
    seed: int = 0
    sim: SimCfg = dataclasses.field(default_factory=SimCfg)
    viewer: ViewerCfg = dataclasses.field(default_factory=ViewerCfg)
    debug: bool = False
    """Raise on NaN or inf actions (syncs with the host every step) instead of zeroing and counting them."""
    final_observation: bool = True
    """Compute the terminal observation of finished worlds (``info["final_obs"]``) for bootstrapping."""
    graph_step: bool = True
    """On CUDA, capture the whole env step (actions, physics, managers, resets) in one CUDA graph
    after ``graph_warmup_steps`` eager steps and replay it: the host then launches one graph rather
    than hundreds of kernels. Ignored on the CPU and in debug mode."""
    graph_warmup_steps: int = 3
    """Eager steps before the env step is captured (lazy buffers and kernel loads happen in them)."""
    compile_managers: bool | str = "auto"
    """Compile the managers' work in the step (actions, terminations, rewards, commands, events,
    observations, resets) with ``torch.compile`` (Inductor), so the few hundred small torch
    operations of a step run as a few dozen fused kernels. Same numbers as without, to float
    rounding. ``True``: always; ``False``: never; ``"auto"`` (the default): on CUDA, where it makes
    the humanoid's env step about a tenth faster (``benchmarks/RESULTS.md``), and not on the CPU,
    where Inductor's C++ compile takes about a minute the first time for the few worlds a CPU runs,
    nor in debug mode (its host checks would cut the compiled phases). Under ``"auto"`` a machine
    where Inductor cannot compile warns and runs plain. The first run on a machine
    compiles for real (about 25 s on an H200 machine); later processes find the kernels in
    Inductor's disk cache and only trace (about 4 s). Play configs (``make_env_cfg(task,
    play=True)``) set ``False``: a short run does not repay the compile. See
    ``docs/environments.md``."""
    reset_forward: str = "full"
    """What the step recomputes after resetting worlds, for their first observation (all worlds are
    recomputed: MuJoCo Warp has no per-world forward). ``"full"``: a whole forward pass, about one
    physics step's cost (1.6 ms of an 8.6 ms humanoid step at 4,096 worlds on an H100).
    ``"positions_velocities"``: poses, centres of mass, body velocities and position/velocity
    sensors only (``Simulation.forward(positions_velocities_only=True)``); a reset world's first
    observation then shows contact forces, accelerations, actuator forces and force/acceleration
    sensors from before its reset. Choose it when no observation term reads those (the reward and
    termination of the next step are computed after a full physics step either way). ``"none"``:
    no forward pass; for tasks whose observation terms and manager resets read qpos, qvel and the
    managers' own buffers alone (the velocity tasks), where it changes no output of the step. The
    env checks this when it is built and raises ``ConfigError`` naming each term that reads a
    derived quantity (``warplab.envs.reset_forward``)."""
