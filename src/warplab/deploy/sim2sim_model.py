"""Which MuJoCo model a sim-to-sim check runs the policy in, and how the policy's joints drive it.

Sources, in the order ``load_model`` tries them:

1. ``model=FILE``: a model file of the user's (MJCF or URDF, or a compiled ``.mjb``), as is;
2. ``robot=NAME``: one of warplab's own robots (``humanoid``) or a MuJoCo Menagerie robot by name,
   alone on a flat floor, at the policy's physics timestep;
3. the scene the policy was trained in: the MJCF the export embedded (``metadata["scene"]["xml"]``),
   or, for a scene that could not be embedded (meshes, generated terrain) and for files exported
   before the scene was recorded, the task's scene built from warplab's task registry.

Only the third needs warplab's training stack (torch) installed, and only when nothing is embedded.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from warplab.deploy.policy import Policy, PolicyError
from warplab.term_export import DropExport, FallExport, SuccessCapExport, declared

PROJECT_ROBOTS = ("humanoid",)
"""Names ``robot=`` accepts besides MuJoCo Menagerie's."""


class Sim2SimError(ValueError):
    """A sim-to-sim check cannot run as asked; the message names the option or field at fault."""


def load_model(
    policy: Policy,
    model: str | Path | None = None,
    robot: str | None = None,
    terrain: str | None = None,
    terrain_difficulty: float = 0.5,
) -> tuple[mujoco.MjModel, str]:
    """The ``MjModel`` to run ``policy`` in, and a one-line description of where it came from.

    A task on generated terrain (a ``TerrainLevels`` curriculum term) is built from the registry with
    its play terrain, and the robot's home pose is moved onto the spawn point of the tile under it
    (a tile's platform may lie up to 1.2 m above or below z = 0). ``terrain`` (a terrain type such as
    ``"stairs_up"``) builds that task with one tile of that type alone, at ``terrain_difficulty``.

    Raises:
      Sim2SimError: the file is missing or does not compile, the robot is unknown, the policy's
        task is not registered here and its file embeds no scene, or ``terrain`` is given for a task
        without generated terrain or names no terrain type.
    """
    if model is not None and robot is not None:
        raise Sim2SimError("give --model or --robot, not both")
    if terrain is not None:
        if model is not None or robot is not None:
            raise Sim2SimError(
                "--terrain builds the policy's own task scene: give it without --model or --robot"
            )
        return _from_registry(policy, terrain, terrain_difficulty), (
            f"scene of {policy.metadata['task']} on {terrain} terrain at difficulty {terrain_difficulty:g}"
        )
    if model is not None:
        return _from_file(Path(model)), f"file {model}"
    if robot is not None:
        return _from_robot(robot, policy), f"robot {robot} on a flat floor"
    scene = policy.metadata.get("scene") or {}
    if scene.get("xml"):
        try:
            return mujoco.MjModel.from_xml_string(
                scene["xml"]
            ), f"scene of {policy.metadata['task']} (embedded)"
        except ValueError as error:
            raise Sim2SimError(
                f"policy {policy.source}: its embedded scene does not compile ({error})"
            ) from error
    return _from_registry(policy), f"scene of {policy.metadata['task']} (task registry)"


def fall_thresholds(terminations: dict[str, Any], joint_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The fall terminations of a task's ``terminations``, as thresholds a robot or a sim-to-sim check
    can apply.

    Returns:
      ``{"min_base_height": m, "max_tilt_rad": rad, "joint_ranges": {joint: [low, high]}}``: None where
      the task has no term that declares that threshold (``warplab.term_export.FallExport``:
      ``root_height_below``, ``bad_orientation``); ``joint_ranges`` from its terms that declare a
      joint range (``joint_pos_out_of_range``; rad or m: the cart-pole's pole and cart), their joint
      patterns matched against ``joint_names`` (empty without them); ``object_dropped``: ``[{object,
      frame, max_distance, min_height}]`` from its terms that declare a drop (``object_dropped``:
      farther than ``max_distance`` m from the frame's origin, ``{"body": name}`` or ``{"site":
      name}``, or None for the world's, or lower than ``min_height`` m; None where not used).
    """
    out: dict[str, Any] = {
        "min_base_height": None,
        "max_tilt_rad": None,
        "joint_ranges": {},
        "object_dropped": [],
    }
    for term in terminations.values():
        fall = declared(term.func)
        if isinstance(fall, DropExport):
            out["object_dropped"].append(_drop_threshold(fall, term.params))
        if not isinstance(fall, FallExport):
            continue
        if fall.quantity in ("min_base_height", "max_tilt_rad"):
            out[fall.quantity] = float(term.params[fall.param])
        elif fall.quantity == "joint_range" and joint_names is not None:
            patterns = term.params[fall.joints_param]
            patterns = [patterns] if isinstance(patterns, str) else list(patterns)
            low, high = float(term.params[fall.low_param]), float(term.params[fall.high_param])
            for joint in joint_names:
                if joint and any(re.fullmatch(p, joint) for p in patterns):
                    # Two terms on one joint: the episode ends at the first range it leaves.
                    old = out["joint_ranges"].get(joint, [-math.inf, math.inf])
                    out["joint_ranges"][joint] = [max(old[0], low), min(old[1], high)]
    return out


def _drop_threshold(drop: DropExport, params: dict[str, Any]) -> dict[str, Any]:
    def number(key: str) -> float | None:
        value = params.get(key)
        return None if value is None else float(value)

    body, site = params.get(drop.frame_body_param), params.get(drop.frame_site_param)
    frame = {"body": str(body)} if body is not None else {"site": str(site)} if site is not None else None
    return {
        "object": str(params[drop.object_param]),
        "frame": frame,
        "max_distance": number(drop.max_distance_param),
        "min_height": number(drop.min_height_param),
    }


def success_cap(terminations: dict[str, Any]) -> dict[str, Any] | None:
    """``{command_name, max_successes}`` of the task's termination that declares a success cap
    (``warplab.term_export.SuccessCapExport``: ``success_cap``), or None."""
    for term in terminations.values():
        cap = declared(term.func)
        if isinstance(cap, SuccessCapExport):
            return {
                "command_name": str(term.params[cap.command_param]),
                "max_successes": int(term.params[cap.max_param]),
            }
    return None


def registry_fall_thresholds(policy: Policy, joint_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The fall thresholds of the policy's task from the task registry, for files exported before
    they were recorded; Nones (and no joint ranges) where the task is not registered here."""
    try:
        from warplab.tasks import UnknownTaskError, make_env_cfg

        return fall_thresholds(make_env_cfg(policy.metadata["task"], play=True).terminations, joint_names)
    except (ImportError, UnknownTaskError):
        return {"min_base_height": None, "max_tilt_rad": None, "joint_ranges": {}}


def _from_file(path: Path) -> mujoco.MjModel:
    if not path.is_file():
        raise Sim2SimError(f"--model {path}: no such file")
    try:
        if path.suffix == ".mjb":
            return mujoco.MjModel.from_binary_path(str(path))
        return mujoco.MjModel.from_xml_path(str(path))
    except ValueError as error:
        raise Sim2SimError(f"--model {path}: MuJoCo cannot load it ({error})") from error


def _from_robot(name: str, policy: Policy) -> mujoco.MjModel:
    from warplab.assets.robot_cfg import build_robot_spec
    from warplab.assets.terrain import add_flat_ground

    if name == "humanoid":
        from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG

        spec = build_robot_spec(HUMANOID_ROBOT_CFG)
    else:
        from warplab.assets import menagerie

        try:
            known = menagerie.menagerie_names()
        except menagerie.MenagerieNotInstalledError:
            known = []
        if name not in known:
            hint = "" if known else f" (Menagerie robots need {menagerie.INSTALL_HINT})"
            raise Sim2SimError(
                f"--robot {name!r}: unknown robot; warplab's own: {list(PROJECT_ROBOTS)}, or a MuJoCo "
                f"Menagerie name{hint}"
            )
        spec = menagerie.load_menagerie(name)
    add_flat_ground(spec)
    dt = (policy.metadata.get("scene") or {}).get("physics_dt")
    if dt:
        spec.option.timestep = float(dt)
    return spec.compile()


def _from_registry(
    policy: Policy, terrain_type: str | None = None, difficulty: float = 0.5
) -> mujoco.MjModel:
    task = policy.metadata["task"]
    try:
        from warplab.tasks import UnknownTaskError, make_env_cfg
    except ImportError as error:
        raise Sim2SimError(
            f"policy {policy.source} embeds no scene and warplab's tasks cannot be imported here ({error}); "
            "pass --model FILE.xml"
        ) from error
    try:
        cfg = make_env_cfg(task, play=True)
    except UnknownTaskError as error:
        raise Sim2SimError(
            f"policy {policy.source}: its task {task!r} is not registered here and the file embeds no scene; "
            "pass --model FILE.xml or --robot NAME"
        ) from error
    terrain = _task_terrain(cfg)
    if terrain_type is not None:
        if terrain is None:
            raise Sim2SimError(f"--terrain {terrain_type}: task {task!r} has no generated terrain")
        _one_tile(terrain, terrain_type, difficulty)
    spec = cfg.scene()
    if isinstance(spec, mujoco.MjModel):
        model = spec
    else:
        model = None
    if cfg.timestep is not None:
        if model is not None:
            model.opt.timestep = cfg.timestep
        else:
            spec.option.timestep = cfg.timestep
    model = model if model is not None else spec.compile()
    if terrain is not None:
        _spawn_on_terrain(model, terrain)
    return model


def _task_terrain(cfg: Any) -> Any:
    """The ``TerrainCfg`` of a task's ``TerrainLevels`` curriculum term (the object its scene reads),
    or None for a task without generated terrain."""
    from warplab.envs.mdp.terrain import TerrainLevels

    for term in cfg.curriculum.values():
        if term.func is TerrainLevels:
            return term.params["terrain"]
    return None


def _one_tile(terrain: Any, terrain_type: str, difficulty: float) -> None:
    """Edits ``terrain`` (the scene reads it when built) into one tile of ``terrain_type`` at
    ``difficulty``, with a 4 m border, centred on the origin."""
    from warplab.assets.terrain_generator import TERRAIN_TYPES

    if terrain_type not in TERRAIN_TYPES:
        raise Sim2SimError(
            f"--terrain {terrain_type!r} is no terrain type; one of {', '.join(TERRAIN_TYPES)}"
        )
    if not 0.0 <= difficulty <= 1.0:
        raise Sim2SimError(f"--terrain-difficulty must be in [0, 1], got {difficulty}")
    terrain.num_levels, terrain.num_cols, terrain.border_width = 1, 1, 4.0
    terrain.proportions = {terrain_type: 1.0}
    terrain.difficulty_range = (difficulty, difficulty)


def _spawn_on_terrain(model: mujoco.MjModel, terrain: Any) -> None:
    """Moves the robot's free joint, in ``qpos0`` and every keyframe, by the spawn point of the tile
    whose spawn point is nearest its home position (x, y): the task's reset does the same
    (``reset_root_on_terrain``), and a home pose at z = its standing height would stand inside a
    summit or above a pit."""
    from warplab.assets.terrain_generator import cached_terrain

    free = np.flatnonzero(model.jnt_type == mujoco.mjtJoint.mjJNT_FREE)
    if free.size == 0:
        return
    adr = int(model.jnt_qposadr[free[0]])
    origins = np.asarray(cached_terrain(terrain).origins, dtype=np.float64).reshape(-1, 3)
    home = model.key_qpos[0, adr : adr + 2] if model.nkey > 0 else model.qpos0[adr : adr + 2]
    origin = origins[np.argmin(np.linalg.norm(origins[:, :2] - home, axis=1))]
    model.qpos0[adr : adr + 3] += origin
    for k in range(model.nkey):
        model.key_qpos[k, adr : adr + 3] += origin


@dataclasses.dataclass
class RobotBinding:
    """Where the policy's joints, the base and the actuators are in one ``MjModel``, and how each
    joint is driven.

    Per-joint arrays follow ``policy.joint_names``. A joint is driven in one of three ways:
    ``servo`` (a position action on a position servo: MuJoCo computes its PD force, implicitly in
    velocity with the ``implicitfast`` integrator), ``pd`` (a position action on a motor: the check
    computes the PD torque at every physics step) or ``effort`` (an effort action on a motor: the
    target is the effort, sent as the control).
    """

    qpos_adr: np.ndarray
    dof_adr: np.ndarray
    actuator: np.ndarray
    """Actuator id driving each joint."""
    servo: np.ndarray
    """True where a position action drives a position servo."""
    pd: np.ndarray
    """True where a position action drives a motor (torque = ctrl * gear), which the check drives
    with an explicit PD law at every physics step."""
    effort: np.ndarray
    """True where an effort action drives a motor."""
    gear: np.ndarray
    kp: np.ndarray
    """Stiffness, N·m/rad: the policy's (metadata) where given, else the model's servo gain; NaN for
    effort joints."""
    kd: np.ndarray
    effort_limit: np.ndarray
    """Force limit of the actuator, N·m or N (MuJoCo's ``forcerange``): the policy's where given,
    else the model's; ``inf`` where unlimited."""
    target_range: np.ndarray
    """``[n, 2]`` the range targets are clamped to: the policy's (its actuators' control range in
    training) where given, else the model's control range for servos and effort motors, else
    unlimited."""
    effort_per_target: np.ndarray
    """Effort joints: the joint effort one unit of the policy's target gives (the training model's
    gear times gain, from the metadata; the model's own where the file does not say); NaN elsewhere."""
    motor_gain: np.ndarray
    """Effort joints: the model's motor gain (``gainprm[0]``) before any motor strength; NaN elsewhere."""
    sensed_joints: list[str]
    """The joints whose positions and velocities the robot measures: the policy's, then those only
    its observation terms read (the cart-pole's unactuated hinge)."""
    sensed_qpos_adr: np.ndarray
    sensed_dof_adr: np.ndarray
    base_body: int | None
    base_qpos_adr: int | None
    base_dof_adr: int | None
    init_qpos: np.ndarray
    """The start of every episode: the policy's keyframe (or the model's first), with the policy's
    joints at their default positions."""

    def base_adr(self) -> tuple[int, int]:
        """``(qpos address, dof address)`` of the base's free joint: position ``qpos[q:q+3]`` (m,
        world frame), orientation ``qpos[q+3:q+7]`` (w, x, y, z), velocity ``qvel[v:v+3]`` (m/s,
        world frame), angular velocity ``qvel[v+3:v+6]`` (rad/s, body frame).

        Raises:
          Sim2SimError: the model has no free joint (a fixed-base robot): callers reading the base
            check ``base_body`` first.
        """
        if self.base_qpos_adr is None or self.base_dof_adr is None:
            raise Sim2SimError(
                "the robot has no free-joint base: the model has no free joint to read the base from"
            )
        return self.base_qpos_adr, self.base_dof_adr


def bind_robot(model: mujoco.MjModel, policy: Policy) -> RobotBinding:
    """Find the policy's joints and their actuators in ``model``.

    Raises:
      Sim2SimError: a joint is missing or not driven by an actuator, the policy's actions are neither
        positions nor efforts, an effort joint's actuator is not a motor, an actuator is neither a
        position servo nor a motor, or a motor has no kp where the policy gives position targets.
    """
    m, meta, names_ = model, policy.metadata, policy.joint_names
    names = {m.joint(i).name: i for i in range(m.njnt)}
    missing = [j for j in names_ if j not in names]
    if missing:
        raise Sim2SimError(f"the model lacks the policy's joints {missing}")
    kinds = list(policy.action_kind)
    unknown = [j for j, k in zip(names_, kinds, strict=True) if k is None]
    if unknown:
        types = sorted({str(t.get("type")) for t in meta.get("action_terms") or []})
        raise Sim2SimError(
            f"joints {unknown}: the policy's actions (terms {types}) are neither joint positions nor efforts; "
            "sim2sim runs policies whose actions are joint position targets (JointPositionAction) or joint "
            "efforts (JointEffortAction)"
        )
    joints = np.array([names[j] for j in names_])
    drivers: dict[int, int] = {}
    for a in range(m.nu):
        if int(m.actuator_trntype[a]) == int(mujoco.mjtTrn.mjTRN_JOINT):
            drivers.setdefault(int(m.actuator_trnid[a, 0]), a)
    undriven = [names_[i] for i, j in enumerate(joints) if int(j) not in drivers]
    if undriven:
        raise Sim2SimError(f"the model has no actuator on the policy's joints {undriven}")
    actuator = np.array([drivers[int(j)] for j in joints])
    fixed = np.array([int(m.actuator_gaintype[a]) == int(mujoco.mjtGain.mjGAIN_FIXED) for a in actuator])
    affine = np.array([int(m.actuator_biastype[a]) == int(mujoco.mjtBias.mjBIAS_AFFINE) for a in actuator])
    no_bias = np.array([int(m.actuator_biastype[a]) == int(mujoco.mjtBias.mjBIAS_NONE) for a in actuator])
    odd = [names_[i] for i in range(len(actuator)) if not fixed[i] or not (affine[i] or no_bias[i])]
    if odd:
        raise Sim2SimError(f"the actuators of joints {odd} are neither position servos nor motors")
    effort = np.array([k == "effort" for k in kinds])
    servo, pd = ~effort & affine, ~effort & no_bias
    on_servo = [names_[i] for i in np.flatnonzero(effort & affine)]
    if on_servo:
        raise Sim2SimError(
            f"joints {on_servo}: the policy's actions are efforts, but the model drives these joints with "
            "position servos; sim2sim sends efforts to motors only: give a --model with <motor> actuators there"
        )

    def per_joint(key: str, fallback) -> np.ndarray:
        values = meta.get(key) or [None] * len(actuator)
        return np.array([float(v) if v is not None else fallback(i) for i, v in enumerate(values)])

    def model_kp(i: int) -> float:
        if effort[i]:
            return math.nan
        if servo[i]:
            return float(m.actuator_gainprm[actuator[i], 0])
        raise Sim2SimError(
            f"joint {names_[i]!r}: the policy gives it position targets, the model drives it with a motor, and "
            "the policy gives no kp to close the PD loop with; give a --model with a position servo there"
        )

    kp = per_joint("kp", model_kp)
    kd = per_joint("kd", lambda i: float(-m.actuator_biasprm[actuator[i], 2]) if servo[i] else 0.0)
    kp[effort], kd[effort] = math.nan, math.nan
    limit = per_joint(
        "effort_limit",
        lambda i: (
            float(m.actuator_forcerange[actuator[i], 1]) if m.actuator_forcelimited[actuator[i]] else np.inf
        ),
    )
    ranges = meta.get("target_range") or [None] * len(actuator)
    clamps = servo | effort
    target_range = np.array(
        [
            r
            if r is not None
            else (m.actuator_ctrlrange[a] if clamps[i] and m.actuator_ctrllimited[a] else (-np.inf, np.inf))
            for i, (a, r) in enumerate(zip(actuator, ranges, strict=True))
        ],
        dtype=np.float64,
    )
    gear = m.actuator_gear[actuator, 0].copy()
    gain = np.where(effort, m.actuator_gainprm[actuator, 0], np.nan)
    per_target = per_joint("effort_per_target", lambda i: gear[i] * gain[i] if effort[i] else math.nan)
    observed = [j for t in policy.observation_terms for j in (t.get("params") or {}).get("joints", [])]
    sensed = list(dict.fromkeys([*names_, *observed]))
    missing = [j for j in sensed if j not in names]
    if missing:
        raise Sim2SimError(f"the model lacks the joints {missing} that the policy observes")
    scalar = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
    odd = [j for j in sensed if int(m.jnt_type[names[j]]) not in scalar]
    if odd:
        raise Sim2SimError(f"the policy's joints {odd} are not hinge or slide joints in the model")
    sensed_ids = np.array([names[j] for j in sensed])
    base_body, base_q, base_v = _base(m, meta)
    return RobotBinding(
        qpos_adr=m.jnt_qposadr[joints].copy(),
        dof_adr=m.jnt_dofadr[joints].copy(),
        actuator=actuator,
        servo=servo,
        pd=pd,
        effort=effort,
        gear=gear,
        kp=kp,
        kd=kd,
        effort_limit=limit,
        target_range=target_range,
        effort_per_target=np.where(effort, per_target, np.nan),
        motor_gain=gain,
        sensed_joints=sensed,
        sensed_qpos_adr=m.jnt_qposadr[sensed_ids].copy(),
        sensed_dof_adr=m.jnt_dofadr[sensed_ids].copy(),
        base_body=base_body,
        base_qpos_adr=base_q,
        base_dof_adr=base_v,
        init_qpos=_init_qpos(m, meta, m.jnt_qposadr[joints], policy.default_joint_pos),
    )


def _base(m: mujoco.MjModel, meta: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    """The robot's floating base in ``m``: ``(body, qpos address, dof address)``, or Nones for a robot
    fixed to the world.

    A file that says its robot is fixed (``scene.fixed_base``) has no base, whatever free bodies the
    scene holds (a cube in a hand is not the robot). Otherwise the free joint of the metadata's
    ``base_body``, and for a model without that body (a user's model) or a file written before the
    base was recorded, the model's first free joint.
    """
    scene = meta.get("scene") or {}
    if scene.get("fixed_base") is True:
        return None, None, None
    free = [j for j in range(m.njnt) if int(m.jnt_type[j]) == int(mujoco.mjtJoint.mjJNT_FREE)]
    if not free:
        return None, None, None
    wanted = scene.get("base_body")
    chosen = free[0]
    for j in free:
        if m.body(int(m.jnt_bodyid[j])).name == wanted:
            chosen = j
    return int(m.jnt_bodyid[chosen]), int(m.jnt_qposadr[chosen]), int(m.jnt_dofadr[chosen])


def _init_qpos(m: mujoco.MjModel, meta: dict[str, Any], qpos_adr, default_joint_pos) -> np.ndarray:
    qpos = m.qpos0.copy()
    key = (meta.get("scene") or {}).get("init_keyframe") or "home"
    key_id = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_KEY, key)
    if key_id < 0 and m.nkey > 0:
        key_id = 0
    if key_id >= 0:
        qpos = m.key_qpos[key_id].copy()
    qpos[qpos_adr] = default_joint_pos
    return qpos


def set_gains(model: mujoco.MjModel, robot: RobotBinding, strength: float) -> None:
    """Give the position servos the policy's gains and torque limits, and the effort motors the
    policy's force limits, times ``strength``.

    A robot is run with the gains it was trained with (``docs/deployment.md``); motor strength
    scales all of the torque, as ``mdp.randomize_motor_strength`` does in training: kp, kd and the
    limit alike for a servo, the gain and the limit for an effort motor (a PD law computed by the
    check, ``Sim2Sim.actuate``, scales its own torque).
    """
    for i, a in enumerate(robot.actuator):
        limit = robot.effort_limit[i] * strength
        if robot.servo[i]:
            kp, kd = robot.kp[i] * strength, robot.kd[i] * strength
            model.actuator_gainprm[a, 0] = kp
            model.actuator_biasprm[a, 1] = -kp
            model.actuator_biasprm[a, 2] = -kd
            low, high = robot.target_range[i]
            model.actuator_ctrllimited[a] = int(np.isfinite(low) or np.isfinite(high))
            model.actuator_ctrlrange[a] = (low, high) if model.actuator_ctrllimited[a] else (0.0, 0.0)
        elif robot.effort[i]:
            model.actuator_gainprm[a, 0] = robot.motor_gain[i] * strength
        else:
            continue
        if np.isfinite(limit):
            model.actuator_forcelimited[a] = 1
            model.actuator_forcerange[a] = (-limit, limit)
        else:
            model.actuator_forcelimited[a] = 0


def check_policy_fits(policy: Policy) -> None:
    """Refuse, naming the term, a policy whose observations this check cannot produce."""
    known = {"joint_pos", "joint_pos_rel", "joint_vel", "base_ang_vel", "projected_gravity", "command"}
    known |= {
        "last_action",
        "height_scan",
        "fingertip_pos",
        "touch",
        "goal_quat_diff",
        "goal_orientation_error",
    }
    known |= {"object_pos", "object_quat", "object_lin_vel", "object_ang_vel"}
    known |= {"joint_pos_normalized", "goal_quat_in_frame", "object_shape"}
    known |= {"object_joint_pos", "object_joint_vel", "site_offset", "object_goal_offset"}
    for term in policy.observation_terms:
        if term.get("signal") not in known:
            raise PolicyError(
                f"policy {policy.source}: observation term {term['name']!r} ({term.get('func')}) reads no signal "
                "that a robot supplies to warplab.deploy.Policy; sim-to-sim cannot feed it"
            )
