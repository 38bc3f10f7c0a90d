"""Setting the physical state of chosen worlds of an ``RlEnv``: ``RlEnv.set_physical_state``.

A user puts worlds in a state of their choosing (a frame of a demonstration, a start state drawn by
a curriculum, a state a test compares with another engine) and the env goes on from there, every
term computing from the new state:

1. the given joint positions ``qpos``, velocities ``qvel`` and actuator activations ``act`` are
   checked on the host (shape, dtype, device, NaN/inf, quaternion norms, the divergence guard's
   bounds on positions and speeds, world indices) and written in place into the chosen worlds;
2. MuJoCo's forward pass recomputes everything derived from them in every world (body poses,
   centres of mass, contacts, contact forces, sensors, accelerations);
3. every manager tells its terms (``StateSetHook.on_state_set``): a term that keeps a quantity of
   the physical state across steps (the forward reward's position before the step, the feet's
   contacts of the last step) takes it from the new state;
4. the observations of those worlds are computed from the new state and returned.

What is *physical state* and what is *episode history*:

- physical state, set or recomputed: qpos, qvel, act, everything MuJoCo derives from them, and the
  terms' caches of such quantities (``StateSetHook``). The divergence flag of the chosen worlds is
  cleared (their state is finite).
- episode history, kept: the episode's length and its time limit, reward sums, the last actions
  (``action``, ``prev_action``, action delay buffers), commands and their timers, event timers,
  pushes, curricula, feet air times (except that a foot on the ground in the new state has none),
  MuJoCo's ``time``, controls, applied forces and the solver's warm start. Observation histories
  keep their past entries; the newest entry becomes the observation of the new state (every entry
  for a world that has not stepped in its episode yet, as after a reset).

An exact snapshot of the whole env is another thing: ``RlEnv.get_state`` / ``RlEnv.set_state``
(``warplab.envs.env_state``) save and restore every buffer bit for bit.

None of this is on the step's hot path: the checks read the given values on the host. Everything
is written in place, so a captured step (``warplab.envs.step_graph``) reads the new state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mujoco
import numpy as np
import torch

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

QUAT_NORM_TOLERANCE = 0.25
"""Quaternions (free and ball joints in qpos, ``(w, x, y, z)``) whose norm is within this of 1 are
written as given; others are refused. MuJoCo normalizes a quaternion wherever it uses one (poses)
and the first physics step writes it back normalized, so a norm near 1 is a rotation: Gymnasium's
resets add noise to quaternions without normalizing (up to 0.12 off for Ant-v5's +-0.1), and a
state read back from an env must set that same state. A norm further off is not noise on a rotation
but a mistake: a zero quaternion (no rotation at all), angles or a position in its place."""

Worlds = int | list[int] | tuple[int, ...] | np.ndarray | torch.Tensor | None


def set_physical_state(
    env: RlEnv,
    qpos: Any = None,
    qvel: Any = None,
    act: Any = None,
    worlds: Worlds = None,
) -> dict[str, torch.Tensor]:
    """Writes the physical state of the chosen worlds and lets every term follow it (see the module
    docstring). Arguments and result as ``RlEnv.set_physical_state``."""
    if qpos is None and qvel is None and act is None:
        raise ValueError("set_physical_state: nothing to set; give qpos, qvel or act (or several)")
    rows = _world_rows(worlds, env.num_envs)
    m = env.mj_model
    values = {}
    for name, value, width in (("qpos", qpos, m.nq), ("qvel", qvel, m.nv), ("act", act, m.na)):
        if value is not None:
            values[name] = _rows_of(name, value, width, worlds, rows, env)
    if "qpos" in values:
        _check_quaternions(values["qpos"], rows, m)
    _check_divergence_bounds(values, rows, env)

    sim = env.sim
    index = torch.as_tensor(rows, dtype=torch.long, device=env.device)
    with torch.no_grad():
        for name, value in values.items():
            getattr(sim, name).index_copy_(0, index, value)
        sim.diverged.index_fill_(0, index, False)
        sim.forward()
        mask = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
        mask.index_fill_(0, index, True)
        for manager in (
            env.action_manager,
            env.reward_manager,
            env.termination_manager,
            env.observation_manager,
            env.command_manager,
            env.event_manager,
            env.curriculum_manager,
        ):
            manager.on_state_set(mask)
        fresh = env.observation_manager.compute(state_set=mask)
        latest = env.observations
        return {g: torch.where(mask[:, None], value, latest[g]) for g, value in fresh.items()}


def _world_rows(worlds: Worlds, num_envs: int) -> list[int]:
    """The chosen worlds as a sorted list of distinct indices (a bool mask keeps its order)."""
    if worlds is None:
        return list(range(num_envs))
    if isinstance(worlds, torch.Tensor):
        worlds = worlds.detach().cpu().numpy()
    array = np.asarray(worlds)
    if array.dtype == bool:
        if array.shape != (num_envs,):
            raise ValueError(
                f"worlds: a bool mask must have shape [num_envs={num_envs}], got {list(array.shape)}"
            )
        rows = np.flatnonzero(array).tolist()
        if not rows:
            raise ValueError("worlds: the mask selects no world")
        return rows
    if array.ndim > 1 or not (np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(
            f"worlds must be None, a world index, a 1-D list of indices or a bool mask [{num_envs}], "
            f"got {array.dtype} {list(array.shape)}"
        )
    rows = np.atleast_1d(array).astype(np.int64).tolist()
    if not rows:
        raise ValueError("worlds: an empty list selects no world")
    outside = [w for w in rows if not 0 <= w < num_envs]
    if outside:
        raise ValueError(f"worlds {outside} out of range: this env has worlds 0 to {num_envs - 1}")
    # Counted with numpy: a list's count() per entry took over a minute for 100,000 worlds.
    values, counts = np.unique(np.asarray(rows, dtype=np.int64), return_counts=True)
    repeated = values[counts > 1].tolist()
    if repeated:
        raise ValueError(f"worlds {repeated} appear more than once; give each world once")
    return rows


def _rows_of(name: str, value: Any, width: int, worlds: Worlds, rows: list[int], env: RlEnv) -> torch.Tensor:
    """``value`` as float32 ``[len(rows), width]`` on the env's device, checked; raises ValueError."""
    if width == 0:
        size = {"qpos": "nq", "qvel": "nv", "act": "na"}[name]
        raise ValueError(f"{name}: this model has no such entries ({size} = 0); leave {name} out")
    if isinstance(value, torch.Tensor):
        if value.device.type != "cpu" and value.device != env.device:
            raise ValueError(
                f"{name} is on {value.device}, this env on {env.device}: give it on {env.device} or the CPU"
            )
        if not value.is_floating_point():
            raise ValueError(f"{name} must hold floating-point numbers, got {value.dtype}")
        tensor = value.detach()
    elif isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.floating):
            raise ValueError(f"{name} must hold floating-point numbers, got numpy {value.dtype}")
        # Through a contiguous float64 copy: torch.from_numpy refuses what numpy arrays may be
        # (reversed rows with negative strides, big-endian data from a file, float128).
        tensor = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float64))
    else:
        raise ValueError(f"{name} must be a torch.Tensor or a numpy array, got {type(value).__name__}")
    chosen = _row_count_description(worlds, len(rows), env.num_envs)
    if tensor.ndim == 1 and tensor.shape[0] == width:
        tensor = tensor.expand(len(rows), width)
    elif _is_mask(worlds) and tuple(tensor.shape) == (env.num_envs, width):
        tensor = tensor[torch.as_tensor(rows, device=tensor.device)]
    elif tuple(tensor.shape) != (len(rows), width):
        raise ValueError(
            f"{name} must have shape [{len(rows)}, {width}] ({chosen}) or [{width}] (the same for "
            f"each), got {list(tensor.shape)}"
        )
    tensor = tensor.to(device=env.device, dtype=torch.float32)
    bad = ~torch.isfinite(tensor)
    if bool(bad.any()):
        row, col = (int(i) for i in torch.nonzero(bad)[0])
        worlds_bad = [rows[r] for r in torch.nonzero(bad.any(dim=1)).flatten().tolist()]
        raise ValueError(
            f"{name} for world {rows[row]} is not finite: entry {col} ({_entry_name(name, col, env.mj_model)}) "
            f"is {float(tensor[row, col])} as float32; worlds with NaN or inf: {worlds_bad}"
        )
    return tensor.contiguous()


def _is_mask(worlds: Worlds) -> bool:
    if isinstance(worlds, torch.Tensor):
        return worlds.dtype == torch.bool
    return worlds is not None and np.asarray(worlds).dtype == bool


def _row_count_description(worlds: Worlds, count: int, num_envs: int) -> str:
    if worlds is None:
        return "a row for each world"
    if _is_mask(worlds):
        return f"a row for each of the {count} worlds of the mask, or all {num_envs} rows"
    return f"a row for each of the {count} worlds in worlds"


def _check_quaternions(qpos: torch.Tensor, rows: list[int], m: mujoco.MjModel) -> None:
    """Refuses a free or ball joint's quaternion whose norm is further than ``QUAT_NORM_TOLERANCE``
    from 1, naming the joint and the world."""
    for joint in range(m.njnt):
        kind = int(m.jnt_type[joint])
        if kind == mujoco.mjtJoint.mjJNT_FREE:
            adr = int(m.jnt_qposadr[joint]) + 3  # position (3), then the quaternion (4)
        elif kind == mujoco.mjtJoint.mjJNT_BALL:
            adr = int(m.jnt_qposadr[joint])
        else:
            continue
        quat = qpos[:, adr : adr + 4]
        norm = torch.linalg.vector_norm(quat, dim=1)
        off = (norm - 1.0).abs() > QUAT_NORM_TOLERANCE
        if bool(off.any()):
            r = int(torch.nonzero(off)[0])
            raise ValueError(
                f"qpos for world {rows[r]}: the quaternion (w, x, y, z) of joint {_joint_name(m, joint)} "
                f"(entries {adr}:{adr + 4}) has norm {float(norm[r]):.6g}; a rotation needs norm 1 "
                f"(within {QUAT_NORM_TOLERANCE})"
            )


def _check_divergence_bounds(values: dict[str, torch.Tensor], rows: list[int], env: RlEnv) -> None:
    """Refuses a state the divergence guard would end at the next step (``warplab.sim.divergence``):
    a joint far past its range, a body far outside the scene, a speed no step resolves."""
    bounds = env.sim.divergence_bounds
    if "qpos" in values:
        qpos = values["qpos"]
        outside = (qpos - bounds.qpos_center).abs() > bounds.qpos_half
        if bool(outside.any()):
            row, col = (int(i) for i in torch.nonzero(outside)[0])
            low = float(bounds.qpos_center[col] - bounds.qpos_half[col])
            high = float(bounds.qpos_center[col] + bounds.qpos_half[col])
            raise ValueError(
                f"qpos for world {rows[row]}: entry {col} ({_entry_name('qpos', col, env.mj_model)}) is "
                f"{float(qpos[row, col]):.6g}, outside [{low:.6g}, {high:.6g}], beyond which the divergence "
                "guard ends the episode at the next step (SimCfg.joint_range_margin, max_free_distance)"
            )
    if "qvel" in values:
        qvel = values["qvel"]
        fast = qvel.abs() > bounds.qvel_max
        if bool(fast.any()):
            row, col = (int(i) for i in torch.nonzero(fast)[0])
            raise ValueError(
                f"qvel for world {rows[row]}: entry {col} ({_entry_name('qvel', col, env.mj_model)}) is "
                f"{float(qvel[row, col]):.6g}, beyond {float(bounds.qvel_max[col]):.6g}, above which the "
                "divergence guard ends the episode at the next step (SimCfg.max_abs_qvel)"
            )


def _joint_name(m: mujoco.MjModel, joint: int) -> str:
    name = m.joint(joint).name
    return repr(name) if name else f"#{joint}"


def _entry_name(kind: str, col: int, m: mujoco.MjModel) -> str:
    """Which joint (or actuator) entry ``col`` of qpos, qvel or act belongs to, for messages."""
    if kind == "act":
        actuators = [
            a
            for a in range(m.nu)
            if m.actuator_actadr[a] <= col < m.actuator_actadr[a] + m.actuator_actnum[a]
        ]
        return f"actuator {m.actuator(actuators[0]).name!r}" if actuators else "an activation"
    starts = m.jnt_qposadr if kind == "qpos" else m.jnt_dofadr
    joint = int(np.searchsorted(starts, col, side="right")) - 1
    return f"joint {_joint_name(m, joint)}"
