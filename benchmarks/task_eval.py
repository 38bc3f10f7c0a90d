"""What a trained policy reaches: getting up (``humanoid-getup``), terrain
(``humanoid-velocity-rough``) and the success of the manipulation and hand tasks (``evaluate_success``),
in play mode, one episode per world.

``train_task.py`` calls both after training on the GPU, and its ``--evaluate-only CHECKPOINT`` runs
them on a saved policy anywhere (a CPU included). Each evaluator returns a dict that is written as
JSON: the summary first, then ``per_world``, one list per measured quantity (world ``i`` is entry
``i`` of every list), from which every summary figure can be recounted.

The getup and terrain evaluators run their horizon with the env's episode made longer than it, so that no world times
out inside it: the state after the last step is the one a time-out would judge (the getup task's
``success_standing`` looks at the same state), and no reset overwrites it first. A world that
terminates (a fall, or diverged physics) is reset by the env and plays on; it is no longer measured.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

GETUP_TASK = "humanoid-getup"
ROUGH_TASK = "humanoid-velocity-rough"
AIRBORNE_M = 0.02
"""A robot whose every collision geom is this high above the floor (m) is in the air (a leap)."""
EVAL_SEED = 123
"""Seed of every evaluation env (the same as ``train_task._eval_env``)."""


def build_eval_env(cfg, num_envs: int):
    """``cfg`` with ``num_envs`` worlds and the evaluation seed: the default ``build_env``."""
    from warplab.envs.rl_env import RlEnv

    cfg.num_envs, cfg.seed = num_envs, EVAL_SEED
    return RlEnv(cfg)


def _nearest_rank(values: np.ndarray, q: float) -> float | None:
    """The ``q`` quantile of ``values`` by nearest rank (an element of ``values``, never an
    interpolation); None when there are none or it is infinite (a world that never got there)."""
    if values.size == 0:
        return None
    value = float(np.quantile(values, q, method="inverted_cdf"))
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------- getting up
def getup_eval_cfg(episode_s: float = 10.0):
    """The getup task in play mode, with an episode ``episode_s + 1`` s long (see the module's
    docstring); returns the config and the standing criterion of its ``success_standing`` term."""
    from warplab.tasks import make_env_cfg

    cfg = make_env_cfg(GETUP_TASK, play=True)
    standing = dict(cfg.terminations["success_standing"].params)
    cfg.episode_length_s = episode_s + 1.0
    return cfg, standing


def evaluate_getup(
    policy,
    num_envs: int,
    episode_s: float = 10.0,
    hold_s: float = 2.0,
    build_env: Callable | None = None,
    standing: dict | None = None,
) -> dict:
    """One ``episode_s`` episode per world from the task's random lying starts.

    Standing is the task's own criterion (``recovery.is_standing`` with the params of its
    ``success_standing`` term: base above 0.9 of the standing height, tilt cosine above 0.9), or
    ``standing`` where given (tests loosen it).

    Returns (shares over worlds, times in s from the start of the episode):
      ``standing_at_end``: standing after the last step (the training log's success rate);
      ``standing_whole_last_s``: standing at every step of the last ``hold_s``;
      ``ever_stood``; ``time_to_stand_s_median`` and ``_p90``: the first step standing, nearest rank
      over all worlds (None where that rank falls on a world that never stood);
      ``ever_airborne``, ``airborne_s_mean`` and ``max_base_up_speed_m_s_median``: how many worlds
      leave the floor entirely (every collision geom above ``AIRBORNE_M``), for how long in all, and
      the median of each world's fastest upward base speed (a leap rather than a climb shows here);
      ``start_base_height_m_max`` and ``start_upright_max``: the highest and most upright base of
      the starts (tilt cosine; standing is 1), which show that every world starts lying;
      ``holding``: joint speed (RMS over joints), base speed and height, averaged over the last
      ``hold_s`` of the worlds standing throughout it (a policy that stands by flailing shows here);
      ``by_pose``: the same per starting pose (``recovery.LYING_POSES``);
      ``diverged``: worlds whose physics diverged (counted as not standing from then on).
    """
    from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
    from warplab.envs.mdp import _state
    from warplab.tasks.recovery import mdp as recovery

    cfg, task_standing = getup_eval_cfg(episode_s)
    standing = standing or task_standing
    env = (build_env or build_eval_env)(cfg, num_envs)
    steps = round(episode_s / env.policy_dt)
    hold_steps = max(1, round(hold_s / env.policy_dt))
    if hold_steps > steps:
        raise ValueError(f"hold_s = {hold_s} s must not exceed episode_s = {episode_s} s")
    dof = env.index.joint_dof_ids(list(HUMANOID_ROBOT_CFG.joint_names))
    obs, _ = env.reset()
    lying = recovery.find_event_term(env, "reset_lying")
    pose = lying.pose.clone()
    start_height = _state.root_pos_w(env)[:, 2].clone()
    start_upright = -_state.gravity_b(env)[:, 2]
    dev = env.device
    airborne_steps = torch.zeros(num_envs, device=dev)
    up_speed = torch.zeros(num_envs, device=dev)
    done = torch.zeros(num_envs, dtype=torch.bool, device=dev)
    never = torch.full((num_envs,), steps, dtype=torch.long, device=dev)
    first_stand = never.clone()
    held = torch.ones(num_envs, dtype=torch.bool, device=dev)
    stand_now = torch.zeros_like(done)
    joint_speed = torch.zeros(num_envs, device=dev)
    base_speed = torch.zeros(num_envs, device=dev)
    base_height = torch.zeros(num_envs, device=dev)
    with torch.inference_mode():
        for step in range(steps):
            obs, _, terminated, _, _ = env.step(policy.act_inference(obs))
            done |= terminated
            stand_now = recovery.is_standing(env, **standing).bool() & ~done
            first_stand = torch.where(stand_now & (first_stand == steps), step, first_stand)
            airborne_steps += (lying.lowest_z() > AIRBORNE_M) & ~done
            up_speed = torch.where(done, up_speed, torch.maximum(up_speed, _state.root_lin_vel_w(env)[:, 2]))
            if step >= steps - hold_steps:
                held &= stand_now
                joint_speed += env.sim.qvel[:, dof].square().mean(dim=1).sqrt()
                base_speed += torch.linalg.vector_norm(_state.root_lin_vel_w(env)[:, :2], dim=1)
                base_height += _state.root_pos_w(env)[:, 2]
    per_world = {
        "pose": [recovery.LYING_POSES[i] for i in pose.tolist()],
        "start_base_height_m": start_height.tolist(),
        "start_upright": start_upright.tolist(),
        "standing_at_end": stand_now.tolist(),
        "standing_whole_last_s": held.tolist(),
        "time_to_stand_s": [
            None if s == steps else round((s + 1) * env.policy_dt, 6) for s in first_stand.tolist()
        ],
        "diverged": done.tolist(),
        "airborne_s": (airborne_steps * env.policy_dt).tolist(),
        "max_base_up_speed_m_s": up_speed.tolist(),
        "joint_speed_rms_rad_s": (joint_speed / hold_steps).tolist(),
        "base_speed_m_s": (base_speed / hold_steps).tolist(),
        "base_height_m": (base_height / hold_steps).tolist(),
    }
    summary = summarize_getup(per_world)
    by_pose = {
        name: summarize_getup(
            {
                k: [v for v, p in zip(vs, per_world["pose"], strict=True) if p == name]
                for k, vs in per_world.items()
            }
        )
        for name in recovery.LYING_POSES
    }
    return {
        "task": GETUP_TASK,
        "worlds": num_envs,
        "episode_s": steps * env.policy_dt,
        "hold_s": hold_steps * env.policy_dt,
        "standing": standing,
        **summary,
        "by_pose": by_pose,
        "per_world": per_world,
    }


def summarize_getup(per_world: dict[str, list]) -> dict:
    """The shares, times and holding figures of ``evaluate_getup`` from its ``per_world`` lists."""
    n = len(per_world["standing_at_end"])
    times = np.array([math.inf if t is None else t for t in per_world["time_to_stand_s"]])
    held = np.array(per_world["standing_whole_last_s"], dtype=bool)

    def mean(values, mask):
        picked = np.asarray(values, dtype=float)[mask]
        return float(picked.mean()) if picked.size else None

    return {
        "worlds": n,
        "standing_at_end": float(np.mean(per_world["standing_at_end"])) if n else None,
        "standing_whole_last_s": float(held.mean()) if n else None,
        "ever_stood": float(np.isfinite(times).mean()) if n else None,
        "time_to_stand_s_median": _nearest_rank(times, 0.5),
        "time_to_stand_s_p90": _nearest_rank(times, 0.9),
        "diverged": int(np.sum(per_world["diverged"])),
        "ever_airborne": float(np.mean(np.asarray(per_world["airborne_s"]) > 0)) if n else None,
        "airborne_s_mean": float(np.mean(per_world["airborne_s"])) if n else None,
        "max_base_up_speed_m_s_median": _nearest_rank(np.asarray(per_world["max_base_up_speed_m_s"]), 0.5),
        "start_base_height_m_max": max(per_world["start_base_height_m"], default=None),
        "start_upright_max": max(per_world["start_upright"], default=None),
        "holding": {
            "worlds": int(held.sum()),
            "joint_speed_rms_rad_s": mean(per_world["joint_speed_rms_rad_s"], held),
            "base_speed_m_s": mean(per_world["base_speed_m_s"], held),
            "base_height_m": mean(per_world["base_height_m"], held),
        },
    }


# ---------------------------------------------------------------------------- success
SUCCESS_TERMINATIONS = {"FrankaKitchenMicrowave-v1": "microwave_open"}
"""Tasks whose success is a termination term not named ``success`` (the kitchen ends its episode at the
completion of its task, as Gymnasium-Robotics does)."""
GOAL_COUNT_TARGET = 20
"""Consecutive successes an episode of a goal-count task is measured against (issue 21's target is a
mean of this many or more)."""
ALL_ENDED_CHECK_STEPS = 25
"""Every this many steps the loop asks the device whether every world has ended (one host sync) and
stops if so: a reorientation episode may last up to 50 goals' time, most end far sooner."""


@dataclasses.dataclass(frozen=True)
class SuccessSource:
    """Where a task's per-episode success is read.

    ``kind``: ``"termination"`` (the episode ended by the termination term ``name``: its column of
    ``termination_manager.term_flags`` at the step it ended), ``"held_goal"`` (the ``HeldGoalCommand``
    ``name``: its ``last_episode_succeeded``, written when the episode ended) or ``"goal_count"`` (the
    ``OrientationGoalCommand`` ``name``: its ``last_episode_successes``, goals reached in the episode;
    success is at least one).
    """

    kind: str
    name: str


def success_source(task: str, cfg) -> SuccessSource | None:
    """How ``task`` (with its env config ``cfg``) defines an episode's success, None if it has none: a
    termination named ``success`` (or ``SUCCESS_TERMINATIONS[task]``) first, then a goal command that
    records it."""
    from warplab.envs.mdp.goals import OrientationGoalCommand
    from warplab.tasks.lift.mdp import HeldGoalCommand

    term = SUCCESS_TERMINATIONS.get(task, "success")
    if term in cfg.terminations:
        return SuccessSource("termination", term)
    for name, command in cfg.commands.items():
        if isinstance(command.func, type) and issubclass(command.func, HeldGoalCommand):
            return SuccessSource("held_goal", name)
        if isinstance(command.func, type) and issubclass(command.func, OrientationGoalCommand):
            return SuccessSource("goal_count", name)
    return None


def has_success(task: str) -> bool:
    """Whether ``task`` defines a per-episode success (``success_source``)."""
    from warplab.tasks import make_env_cfg

    return success_source(task, make_env_cfg(task)) is not None


def _success_reader(env, source: SuccessSource) -> Callable[[], torch.Tensor]:
    """A function that returns ``[num_envs]`` (long) the outcome of each world's last ended episode, read
    after the step that ended it: 0/1 success, or the goals reached (``goal_count``)."""
    if source.kind == "termination":
        column = env.termination_manager.names.index(source.name)
        return lambda: env.termination_manager.term_flags[:, column].long()
    term = env.command_manager.term(source.name)
    if source.kind == "held_goal":
        return lambda: term.last_episode_succeeded.long()
    return lambda: term.last_episode_successes


def evaluate_success(
    task: str,
    policy,
    num_envs: int,
    play: bool = True,
    build_env: Callable | None = None,
) -> dict:
    """One full episode in every world of ``task``, each world counted once, at its first episode end
    (terminated or truncated), with deterministic actions (``policy.act_inference``).

    Play mode by default: every manipulation and hand task's play mode is documented for evaluation
    (no observation noise; the model randomization, the starts and the episode stay those of
    training), and the Gymnasium-Robotics tasks have none (the same env). ``play=False`` measures with
    the training's observation noise.

    Success per episode (``success_source``): the termination ``success`` fired at its last step
    (arm-open-drawer, arm-open-door, arm-pick-place, arm-pour, Fetch, Adroit, the hand block; the
    kitchen's ``microwave_open``); the goal command's held-at-goal flag (arm-lift, hand-grasp-lift,
    arm-pick-up-dropped); at least one goal reached (the reorientation tasks, which also report the
    goals reached: ``consecutive_successes``).

    Returns: ``task``, ``play``, ``success_source``, ``worlds``, ``policy_dt``, ``max_episode_steps``,
    the summary of ``summarize_success`` and ``per_world``: ``success``, ``episode_steps``,
    ``terminated`` (a failure or divergence, not a time-out), ``ended_by`` (the termination terms that
    fired at the last step; ``nan``: diverged) and, for goal-count tasks, ``consecutive_successes``.

    Raises:
      ValueError: the task defines no success.
      RuntimeError: a world had not ended after ``max_episode_length + 1`` steps.
    """
    from warplab.tasks import make_env_cfg

    cfg = make_env_cfg(task, play=play)
    source = success_source(task, cfg)
    if source is None:
        raise ValueError(
            f"task {task!r} defines no success: no termination named "
            f"{SUCCESS_TERMINATIONS.get(task, 'success')!r}, no HeldGoalCommand or OrientationGoalCommand"
        )
    env = (build_env or build_eval_env)(cfg, num_envs)
    read = _success_reader(env, source)
    names = list(env.termination_manager.names)
    limit = int(env.max_episode_length) + 1
    dev = env.device
    done = torch.zeros(num_envs, dtype=torch.bool, device=dev)
    terminated_first = torch.zeros_like(done)
    length = torch.zeros(num_envs, dtype=torch.long, device=dev)
    outcome = torch.zeros(num_envs, dtype=torch.long, device=dev)
    causes = torch.zeros(num_envs, len(names), dtype=torch.bool, device=dev)
    obs, _ = env.reset()
    with torch.inference_mode():
        for step in range(limit):
            obs, _, terminated, truncated, _ = env.step(policy.act_inference(obs))
            ended = (terminated | truncated) & ~done
            length = torch.where(ended, step + 1, length)
            terminated_first |= terminated & ended
            causes |= env.termination_manager.term_flags & ended[:, None]
            outcome = torch.where(ended, read(), outcome)
            done |= ended
            if (step + 1) % ALL_ENDED_CHECK_STEPS == 0 and bool(done.all()):
                break
    never = int((~done).sum())
    if never:
        raise RuntimeError(
            f"{task}: {never} of {num_envs} worlds had not ended after {limit} steps "
            f"(max_episode_length {env.max_episode_length} + 1): the episode's time-out does not end it"
        )
    per_world: dict[str, list] = {
        "success": (outcome > 0).tolist(),
        "episode_steps": length.tolist(),
        "terminated": terminated_first.tolist(),
        "ended_by": [[n for n, fired in zip(names, row, strict=True) if fired] for row in causes.tolist()],
    }
    if source.kind == "goal_count":
        per_world["consecutive_successes"] = outcome.tolist()
    return {
        "task": task,
        "play": play,
        "success_source": dataclasses.asdict(source),
        "worlds": num_envs,
        "policy_dt": env.policy_dt,
        "max_episode_steps": int(env.max_episode_length),
        **summarize_success(per_world, names, env.policy_dt),
        "per_world": per_world,
    }


def summarize_success(per_world: dict[str, list], term_names: Sequence[str], policy_dt: float) -> dict:
    """The figures of ``evaluate_success`` from its ``per_world`` lists: ``success`` (share of worlds),
    ``terminated`` (share ended by a failure), ``episode_s_mean``, ``episode_steps_mean``,
    ``terminations`` (per term name, the share of worlds whose last step it fired at; a time-out and a
    success may fire together) and, where ``consecutive_successes`` is given, its ``_mean``, ``_median``
    and ``at_least_20``: the share of episodes with ``GOAL_COUNT_TARGET`` or more."""
    n = len(per_world["success"])
    steps = np.asarray(per_world["episode_steps"], dtype=float)
    out: dict = {
        "success": float(np.mean(per_world["success"])) if n else None,
        "terminated": float(np.mean(per_world["terminated"])) if n else None,
        "episode_steps_mean": float(steps.mean()) if n else None,
        "episode_s_mean": float(steps.mean()) * policy_dt if n else None,
        "terminations": {
            name: (sum(name in ended for ended in per_world["ended_by"]) / n if n else None)
            for name in term_names
        },
    }
    if "consecutive_successes" in per_world:
        counts = np.asarray(per_world["consecutive_successes"], dtype=float)
        out["consecutive_successes_mean"] = float(counts.mean()) if n else None
        out["consecutive_successes_median"] = float(np.median(counts)) if n else None
        out[f"at_least_{GOAL_COUNT_TARGET}"] = float(np.mean(counts >= GOAL_COUNT_TARGET)) if n else None
    return out


# ---------------------------------------------------------------------------- terrain
@dataclasses.dataclass(frozen=True)
class RoughEvalCfg:
    """The cells of the terrain evaluation and what each world is asked to do."""

    task: str = ROUGH_TASK
    """The registered task to evaluate: the humanoid's rough task, or another robot's velocity task
    built on terrain the same way (``add_rough_terrain``: a ``terrain_levels`` curriculum holding the
    ``TerrainCfg``, the ``base_velocity`` command)."""
    types: tuple[str, ...] = ()
    """Terrain types, one column each (empty: every one of ``TERRAIN_TYPES``)."""
    difficulties: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    """Difficulties, one row of tiles each; evenly spaced, since the generator spans its
    ``difficulty_range`` evenly over the rows."""
    speed_m_s: float = 0.5
    """Forward speed commanded to every world (no lateral speed, no turning)."""
    episode_s: float = 20.0
    """Length of the one episode, s: the training episode's 20 s; at 0.5 m/s, 8 s is the least time
    in which a world can walk off its 8 m tile."""


def rough_eval_cfg(rough: RoughEvalCfg):
    """The rough task in play mode over a grid of one row per difficulty and one column per type, with
    a fixed forward command; returns the env config and its ``TerrainCfg`` (the object the scene and
    the ``terrain_levels`` term both read)."""
    from warplab.assets.terrain_generator import TERRAIN_TYPES, level_difficulties
    from warplab.tasks import make_env_cfg

    types = tuple(rough.types) or TERRAIN_TYPES
    diffs = tuple(float(d) for d in rough.difficulties)
    cfg = make_env_cfg(rough.task, play=True)
    if "terrain_levels" not in cfg.curriculum:
        raise ValueError(f"task {rough.task!r} has no 'terrain_levels' curriculum: it is not on terrain")
    terrain = cfg.curriculum["terrain_levels"].params["terrain"]
    terrain.num_levels, terrain.num_cols = len(diffs), len(types)
    terrain.proportions = {t: (1.0 if t in types else 0.0) for t in TERRAIN_TYPES}
    terrain.difficulty_range = (diffs[0], diffs[-1])
    if not np.allclose(level_difficulties(terrain), diffs, atol=1e-9):
        raise ValueError(f"RoughEvalCfg.difficulties must be evenly spaced and increasing, got {diffs}")
    command = cfg.commands["base_velocity"].params
    command.update(
        lin_vel_x=(rough.speed_m_s, rough.speed_m_s),
        lin_vel_y=(0.0, 0.0),
        ang_vel_z=(0.0, 0.0),
        rel_standing_envs=0.0,
    )
    cfg.episode_length_s = rough.episode_s + 1.0
    return cfg, terrain


def evaluate_rough(
    policy,
    num_envs: int,
    rough: RoughEvalCfg | None = None,
    build_env: Callable | None = None,
) -> dict:
    """One episode per world on every (terrain type, difficulty) cell, ``num_envs // cells`` worlds
    per cell, each walking forward at a fixed speed from its tile's centre.

    Each world spawns as in training (``reset_root_on_terrain``: within 0.5 m of the tile's centre,
    facing a random way) and is asked to walk straight ahead. Per cell:
      ``fall``: share of worlds that terminated (fell, or diverged: ``diverged`` counts those apart);
      ``fall_first_1s``: share that terminated within 1 s (a bad spawn shows here);
      ``distance_m``: mean planar distance from the tile's centre at the end (or the step before a
      fall): the distance the curriculum judges;
      ``forward_m``: mean displacement along the heading the world started with;
      ``walked_off``: share whose ``distance_m`` exceeds half a tile (the curriculum's promotion);
      slopes and stairs only: ``height_change_m``, the mean over worlds of the largest change of the
      ground height under the base from the tile's centre while on its own tile (how far up or down
      a world got; on rough ground and stepping stones it would measure the noise and the pits);
      stairs only: ``step_height_m`` (the generator's ``tile_parameters``), ``steps_to_rim`` (read off
      the generated tile) and ``steps_reached`` (mean over worlds of ``height_change_m`` in steps,
      rounded per world).
    """
    from warplab.assets.terrain_generator import cached_terrain, tile_parameters
    from warplab.envs.mdp import _state
    from warplab.envs.mdp.math import yaw_from_quat
    from warplab.envs.mdp.terrain import terrain_levels_term

    rough = rough or RoughEvalCfg()
    cfg, terrain_cfg = rough_eval_cfg(rough)
    terrain = cached_terrain(terrain_cfg)
    levels, cols = terrain_cfg.num_levels, terrain_cfg.num_cols
    per_cell = num_envs // (levels * cols)
    if per_cell < 1:
        raise ValueError(
            f"num_envs = {num_envs} is fewer than the {levels * cols} cells (types x difficulties)"
        )
    num_envs = per_cell * levels * cols
    env = (build_env or build_eval_env)(cfg, num_envs)
    dev = env.device
    cell = torch.arange(num_envs, device=dev) // per_cell
    term = terrain_levels_term(env)
    term.levels.copy_(cell // cols)
    term.types.copy_(cell % cols)
    obs, _ = env.reset()  # the spawn points follow the levels and columns just set
    centre = term.origins.clone()
    start = _state.root_pos_w(env)[:, :2].clone()
    heading = yaw_from_quat(_state.root_quat_w(env))
    direction = torch.stack([torch.cos(heading), torch.sin(heading)], dim=1)
    ground = _GroundHeight(terrain, dev)

    half_tile = 0.5 * terrain_cfg.tile_size
    steps = round(rough.episode_s / env.policy_dt)
    done = torch.zeros(num_envs, dtype=torch.bool, device=dev)
    fell_step = torch.full((num_envs,), -1, dtype=torch.long, device=dev)
    diverged = torch.zeros_like(done)
    last_xy = start.clone()
    height_change = torch.zeros(num_envs, device=dev)
    with torch.inference_mode():
        for step in range(steps):
            obs, _, terminated, _, _ = env.step(policy.act_inference(obs))
            ended = terminated & ~done
            fell_step = torch.where(ended, step, fell_step)
            diverged |= ended & env.sim.diverged
            done |= terminated
            xy = _state.root_pos_w(env)[:, :2]
            # A world that ends here has been reset already: it keeps the position of the step before.
            last_xy = torch.where(done[:, None], last_xy, xy)
            # Only the world's own tile counts: a neighbour (another type, or a pit of stepping
            # stones) would credit it with climbs it never made.
            on_tile = (xy - centre[:, :2]).abs().amax(dim=1) <= half_tile
            change = torch.where(on_tile, (ground(xy) - centre[:, 2]).abs(), 0.0)
            height_change = torch.where(done, height_change, torch.maximum(height_change, change))
    distance = torch.linalg.vector_norm(last_xy - centre[:, :2], dim=1)
    per_world = {
        "type": [terrain.column_types[c] for c in (cell % cols).tolist()],
        "difficulty": [float(terrain.difficulties[lv]) for lv in (cell // cols).tolist()],
        "fell_at_s": [None if s < 0 else round((s + 1) * env.policy_dt, 6) for s in fell_step.tolist()],
        "diverged": diverged.tolist(),
        "distance_m": distance.tolist(),
        "forward_m": ((last_xy - start) * direction).sum(dim=1).tolist(),
        "height_change_m": height_change.tolist(),
    }
    cells = []
    for level in range(levels):
        for col in range(cols):
            kind, difficulty = terrain.column_types[col], float(terrain.difficulties[level])
            rows = [i for i in range(num_envs) if i // per_cell == level * cols + col]
            row = {"type": kind, "difficulty": difficulty}
            if kind.startswith("stairs"):
                step_height = tile_parameters(terrain_cfg, difficulty)["step_height"]
                rim = abs(float(terrain.origins[level, col, 2]))
                row.update(step_height_m=step_height, steps_to_rim=round(rim / step_height))
            climbs = kind.startswith(("slope", "stairs"))
            row.update(
                summarize_rough_cell(per_world, rows, half_tile, 1.0, row.get("step_height_m"), climbs)
            )
            cells.append(row)
    return {
        "task": rough.task,
        "worlds": num_envs,
        "worlds_per_cell": per_cell,
        "episode_s": steps * env.policy_dt,
        "speed_m_s": rough.speed_m_s,
        "tile_size_m": terrain_cfg.tile_size,
        "cells": cells,
        "per_world": per_world,
    }


def summarize_rough_cell(
    per_world: dict[str, list],
    rows: Sequence[int],
    half_tile: float,
    early_s: float = 1.0,
    step_height: float | None = None,
    climbs: bool = True,
) -> dict:
    """The figures of one cell of ``evaluate_rough`` from the ``per_world`` lists of its worlds ``rows``."""

    def pick(key):
        return [per_world[key][i] for i in rows]

    fell_at = pick("fell_at_s")
    distance = np.array(pick("distance_m"))
    change = np.array(pick("height_change_m"))
    out = {
        "worlds": len(rows),
        "fall": float(np.mean([t is not None for t in fell_at])),
        "fall_first_1s": float(np.mean([t is not None and t <= early_s + 1e-9 for t in fell_at])),
        "diverged": int(np.sum(pick("diverged"))),
        "distance_m": float(distance.mean()),
        "forward_m": float(np.mean(pick("forward_m"))),
        "walked_off": float(np.mean(distance > half_tile)),
    }
    if climbs:
        out["height_change_m"] = float(change.mean())
    if step_height:
        out["steps_reached"] = float(np.mean(np.round(change / step_height)))
    return out


def record_rough_tile(
    policy,
    terrain_type: str,
    difficulty: float,
    path,
    seconds: float = 10.0,
    speed_m_s: float = 0.5,
    build_env: Callable | None = None,
    fps: float = 25.0,
):
    """An MP4 of one world walking forward at ``speed_m_s`` from the centre of a single tile of
    ``terrain_type`` at ``difficulty`` (the terrain evaluation's setting, one cell); returns the path.
    The camera follows the base as in ``warplab play``; the renderer is chosen as there (OSMesa on a
    CPU, EGL or MuJoCo Warp's ray tracer on a GPU)."""
    from warplab.viz import frame_indices, record_qpos, render_frames, write_mp4

    rough = RoughEvalCfg(
        types=(terrain_type,),
        difficulties=(float(difficulty),),
        speed_m_s=speed_m_s,
        episode_s=float(seconds),
    )
    cfg, _ = rough_eval_cfg(rough)
    env = (build_env or build_eval_env)(cfg, 1)
    qpos, _ = record_qpos(env, policy.act_inference, seconds)
    steps = frame_indices(len(qpos), env.policy_dt, fps)
    v = cfg.viewer
    frames = render_frames(
        env.mj_model, qpos[steps], 640, 480, v.track_body, v.distance, v.elevation, v.azimuth
    )
    return write_mp4(frames, path, fps=fps)


class _GroundHeight:
    """Ground height of a generated terrain under world points, m: the nearest height sample."""

    def __init__(self, terrain, device):
        self.heights = torch.as_tensor(terrain.heights, dtype=torch.float32, device=device)
        self.scale = terrain.horizontal_scale
        self.size_x, self.size_y = terrain.size_x, terrain.size_y

    def __call__(self, xy: torch.Tensor) -> torch.Tensor:
        ny, nx = self.heights.shape
        col = torch.round((xy[:, 0] + self.size_x) / self.scale).long().clamp(0, nx - 1)
        row = torch.round((xy[:, 1] + self.size_y) / self.scale).long().clamp(0, ny - 1)
        return self.heights[row, col]
