"""A goal for an object: a target orientation (and position), success within a tolerance, a new goal
on success; and the observations that read it.

The goal is in the world frame. Success is judged on the orientation alone unless a position
tolerance is given. Within one env step the rewards and terminations run before the commands
(``warplab.envs.step_phases.evaluate``), so they ask the command ``is_success()`` of the state they
see, and ``update`` then counts that same success and draws the next goal: a goal bonus, the
count, and a success cap agree step for step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch

from warplab.envs.managers.protocols import CommandTerm
from warplab.envs.mdp.math import (
    quat_canonical,
    quat_conjugate,
    quat_error_angle,
    quat_from_axis_angle,
    quat_mul,
    quat_normalize,
    random_quat_uniform,
    uniform,
)
from warplab.envs.mdp.objects import (
    frame_pose_w,
    in_named_frame,
    object_free_joint,
    object_pos_w,
    object_quat_w,
    term_frame,
)
from warplab.term_export import ObservationExport, declares

if TYPE_CHECKING:
    from warplab.envs.config import CommandTermCfg
    from warplab.envs.rl_env import RlEnv

_ROTATIONS = ("xyz", "x", "y", "z", "fixed")
_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


class OrientationGoalCommand(CommandTerm):
    """A target pose per world for object ``object``: ``command [num_envs, 7]`` = position (x, y, z)
    in the world frame, m, then orientation (w, x, y, z) in the world frame, canonical sign.

    Params:
      object: the object's body (on a free joint).
      tolerance_rad: success when the orientation error (the angle of the smallest rotation from
        the object's orientation to the goal's) is below this, rad (default 0.1, as OpenAI's and
        Isaac Lab's Shadow-hand reorientation).
      rotation: how goal orientations are drawn: ``"xyz"`` uniform over all rotations (Shoemake),
        ``"x"``/``"y"``/``"z"`` a uniform angle in [-pi, pi) about that world axis applied to
        ``base_quat``, ``"fixed"`` always ``base_quat``.
      base_quat: (w, x, y, z), default identity.
      position: the goal position's centre in the world frame, m; default: the object's position in
        the model (``qpos0``).
      position_range: ``{"x": (low, high), "y": ..., "z": ...}`` offsets drawn uniformly about
        ``position``, m (missing axes: 0).
      position_tolerance_m: when given, success needs the position error below it as well.

    State (per world, saved by ``get_state``): ``command``; ``success_this_step`` bool, what the last
    ``update`` counted; ``consecutive_successes`` goals reached this episode (int64; a goal is
    followed by the next at once, so every success of an episode is consecutive); and
    ``steps_since_success`` policy steps since the last success or the episode's start (int64).
    Recorded for evaluations (not saved): ``last_episode_successes`` (int64), the
    ``consecutive_successes`` of the world's last ended episode, written at its reset and kept until
    the next one ends (the reset clears ``consecutive_successes`` within the step that ends it).

    Use it with ``CommandTermCfg(resampling_time_range_s=(1e9, 1e9))``: goals change on success and
    at resets, not on the manager's timer. Logged (``pop_log``): ``consecutive_successes``, the mean
    over the episodes that ended since the last call.
    """

    components = ("pos_x", "pos_y", "pos_z", "quat_w", "quat_x", "quat_y", "quat_z")

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        known = {"object", "tolerance_rad", "rotation", "base_quat", "position", "position_range",
                 "position_tolerance_m"}  # fmt: skip
        unknown = sorted(set(p) - known)
        if unknown:
            raise ValueError(f"OrientationGoalCommand params has {unknown}; it takes {sorted(known)}")
        if "object" not in p:
            raise ValueError("OrientationGoalCommand needs params['object'], the object's body name")
        self._env = env
        self.object: str = p["object"]
        q, _ = object_free_joint(env, self.object)
        self.tolerance_rad = float(p.get("tolerance_rad", 0.1))
        if not 0.0 < self.tolerance_rad <= math.pi:
            raise ValueError(f"tolerance_rad must be in (0, pi], got {self.tolerance_rad}")
        self.rotation: str = p.get("rotation", "xyz")
        if self.rotation not in _ROTATIONS:
            raise ValueError(f"rotation must be one of {list(_ROTATIONS)}, got {self.rotation!r}")
        dev, n = env.device, env.num_envs
        base = torch.as_tensor(p.get("base_quat", (1.0, 0.0, 0.0, 0.0)), dtype=torch.float32, device=dev)
        if base.shape != (4,) or not 0.75 < float(base.norm()) < 1.25:
            raise ValueError(f"base_quat must be a unit quaternion (w, x, y, z), got {p.get('base_quat')}")
        self.base_quat = quat_normalize(base)
        self.axis = torch.as_tensor(_AXES.get(self.rotation, (0.0, 0.0, 1.0)), device=dev)
        centre = p.get("position")
        self.position = (
            env.sim.init_qpos[q : q + 3].clone()
            if centre is None
            else torch.as_tensor(centre, dtype=torch.float32, device=dev)
        )
        ranges: dict[str, Any] = dict(p.get("position_range") or {})
        if set(ranges) - set(_AXES):
            raise ValueError(f"position_range has keys {sorted(set(ranges) - set(_AXES))}; allowed: x, y, z")
        self._position_range = [tuple(float(v) for v in ranges.get(k, (0.0, 0.0))) for k in _AXES]
        if any(lo > hi for lo, hi in self._position_range):
            raise ValueError(f"position_range needs low <= high, got {ranges}")
        tol = p.get("position_tolerance_m")
        self.position_tolerance_m = None if tol is None else float(tol)
        self.command = torch.zeros(n, 7, device=dev)
        self.command[:, :3] = self.position
        self.command[:, 3:] = self.base_quat
        self.success_this_step = torch.zeros(n, dtype=torch.bool, device=dev)
        self.consecutive_successes = torch.zeros(n, dtype=torch.int64, device=dev)
        self.steps_since_success = torch.zeros(n, dtype=torch.int64, device=dev)
        self.last_episode_successes = torch.zeros(n, dtype=torch.int64, device=dev)
        self.ended_episodes = torch.zeros((), dtype=torch.int64, device=dev)
        """Episodes ended since the last ``pop_log``."""
        self.ended_successes = torch.zeros((), dtype=torch.int64, device=dev)
        """Their successes, summed."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor but ``last_episode_successes``: a record for evaluations, which a resumed run
        does not need and states saved before it lack."""
        state = super().state_tensors()
        del state["last_episode_successes"]
        return state

    def export_params(self) -> dict[str, Any]:
        """How goals are drawn and judged, for a robot or a sim-to-sim check that runs the goal itself:
        ``object``, ``tolerance_rad``, ``rotation``, ``base_quat``, ``position`` (the centre, m, world
        frame), ``position_range`` (``[[low, high]]`` per axis x, y, z, m) and ``position_tolerance_m``."""
        return {
            "object": self.object,
            "tolerance_rad": self.tolerance_rad,
            "rotation": self.rotation,
            "base_quat": self.base_quat.tolist(),
            "position": self.position.tolist(),
            "position_range": [list(r) for r in self._position_range],
            "position_tolerance_m": self.position_tolerance_m,
        }

    # ------------------------------------------------------------ goal error, now
    def orientation_error(self) -> torch.Tensor:
        """``[num_envs]`` angle between the object's orientation and the goal's, rad in [0, pi]."""
        quat = quat_normalize(object_quat_w(self._env, self.object))
        return quat_error_angle(quat, self.command[:, 3:7])

    def position_error(self) -> torch.Tensor:
        """``[num_envs]`` distance from the object's body origin to the goal position, m."""
        return torch.linalg.vector_norm(object_pos_w(self._env, self.object) - self.command[:, :3], dim=1)

    def is_success(self) -> torch.Tensor:
        """``[num_envs]`` bool: the object is at its goal now (orientation error below ``tolerance_rad``,
        and the position within ``position_tolerance_m`` when given)."""
        ok = self.orientation_error() < self.tolerance_rad
        if self.position_tolerance_m is not None:
            ok = ok & (self.position_error() < self.position_tolerance_m)
        return ok

    # ------------------------------------------------------------ manager hooks
    def resample(self, mask: torch.Tensor) -> None:
        """Draws new goals (orientation and position) for the worlds in ``mask``."""
        env = self._env
        n = env.num_envs
        if self.rotation == "xyz":
            quat = random_quat_uniform((n,), env.rng, env.device)
        elif self.rotation == "fixed":
            quat = self.base_quat.expand(n, 4)
        else:
            angle = uniform(-math.pi, math.pi, (n,), env.rng, env.device)
            quat = quat_canonical(
                quat_mul(quat_from_axis_angle(self.axis.expand(n, 3), angle), self.base_quat)
            )
        pos = self.position + torch.stack(
            [uniform(lo, hi, (n,), env.rng, env.device) for lo, hi in self._position_range], dim=1
        )
        self.command.copy_(torch.where(mask[:, None], torch.cat([pos, quat], dim=1), self.command))

    def update(self, dt: float) -> None:
        """Counts this step's successes (the state the rewards saw) and gives those worlds a new goal."""
        success = self.is_success()
        self.success_this_step.copy_(success)
        self.consecutive_successes += success
        self.steps_since_success.add_(1).mul_(~success)
        self.resample(success)

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The worlds in ``mask`` start an episode (their goal was drawn by ``resample``): their
        counts go into the log, then to zero. A world that never stepped (the first reset) is not
        an episode and is not logged."""
        ended = mask & (env.episode_length_buf > 0)
        self.ended_episodes += ended.sum()
        self.ended_successes += (self.consecutive_successes * ended).sum()
        self.last_episode_successes.copy_(
            torch.where(ended, self.consecutive_successes, self.last_episode_successes)
        )
        self.consecutive_successes.masked_fill_(mask, 0)
        self.steps_since_success.masked_fill_(mask, 0)
        self.success_this_step.masked_fill_(mask, False)

    def pop_log(self) -> dict[str, float]:
        """``{"consecutive_successes": mean over episodes ended since the last call}`` (empty when
        none ended); reads the device once."""
        ended, successes = self.ended_episodes.item(), self.ended_successes.item()
        self.ended_episodes.zero_()
        self.ended_successes.zero_()
        return {"consecutive_successes": successes / ended} if ended else {}


def goal_command(env: RlEnv, command_name: str) -> OrientationGoalCommand:
    """The env's command ``command_name``, checked to be an ``OrientationGoalCommand`` (for terms that
    read its counters, errors or goal).

    Raises:
      ValueError: the command is of another type.
    """
    term = env.command_manager.term(command_name)
    if not isinstance(term, OrientationGoalCommand):
        raise ValueError(
            f"command {command_name!r} is a {type(term).__name__}, not an OrientationGoalCommand"
        )
    return term


@declares(ObservationExport("command", extra=lambda params: {"command_slice": [3, 7]}))
def goal_quat(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, 4]`` the goal orientation (w, x, y, z) in the world frame, canonical sign."""
    return env.command(command_name)[:, 3:7]


@declares(
    ObservationExport(
        "goal_quat_in_frame", extra=lambda params: {"frame": term_frame(params)}, frame_pose=in_named_frame
    )
)
def goal_quat_in_frame(
    env: RlEnv, command_name: str, frame_body: str | None = None, frame_site: str | None = None
) -> torch.Tensor:
    """``[num_envs, 4]`` the goal orientation in a frame of the robot (a palm), ``conj(q_frame) *
    q_goal`` (w, x, y, z), canonical sign: the goal in the same frame as ``object_quat_in_frame``
    (the world's when no frame is given). A robot computes it from the goal command and the frame's
    pose (``docs/deployment.md``, "Manipulation signals")."""
    quat = env.command(command_name)[:, 3:7]
    frame = frame_pose_w(env, frame_body, frame_site)
    if frame is not None:
        quat = quat_mul(quat_conjugate(frame[1]), quat)
    return quat_canonical(quat)


@declares(ObservationExport("command", extra=lambda params: {"command_slice": [0, 3]}))
def goal_position(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, 3]`` the goal position in the world frame, m."""
    return env.command(command_name)[:, 0:3]


def _object_in_world(params: Mapping[str, Any]) -> bool:
    """The term reads the object's orientation in the world frame: a robot gives it in the policy's
    object frame, so the term needs that frame's pose (where there is one)."""
    return True


@declares(ObservationExport("goal_quat_diff", frame_pose=_object_in_world))
def goal_quat_diff(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, 4]`` the orientation difference ``q_object * conj(q_goal)`` (w, x, y, z),
    canonical sign: the rotation, in world axes, that takes the goal's orientation to the
    object's (identity at the goal; its angle is ``goal_orientation_error``)."""
    goal = goal_command(env, command_name)
    quat = quat_normalize(object_quat_w(env, goal.object))
    return quat_canonical(quat_mul(quat, quat_conjugate(goal.command[:, 3:7])))


@declares(ObservationExport("goal_orientation_error", frame_pose=_object_in_world))
def goal_orientation_error(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, 1]`` angle between the object's orientation and the goal's, rad in [0, pi]."""
    return goal_command(env, command_name).orientation_error()[:, None]
