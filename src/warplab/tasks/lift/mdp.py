"""Terms only the lift task uses: the goal position in the robot's base frame, and the reaching,
lifting and goal-tracking rewards with their tanh kernels (after Isaac Lab's Franka lift task,
``isaaclab_tasks/manager_based/manipulation/lift/mdp/rewards.py``: ``object_ee_distance``,
``object_is_lifted``, ``object_goal_distance``). Lifting is judged on the object's clearance over
the table (its lowest point, so an upright cylinder and a flat box count alike), not on its
origin's height as there.

Success (``HeldGoalCommand``): the goal command also counts, per world, the policy steps in a row the
object has met a criterion at the goal: within ``SUCCESS_RADIUS_M`` of it (arm-lift, hand-grasp-lift)
or at its height (arm-pick-up-dropped). It changes no reward, termination or observation."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from warplab.envs.managers.protocols import CommandTerm, CurriculumTerm
from warplab.envs.managers.term import ConfigError
from warplab.envs.mdp.math import quat_rotate, uniform
from warplab.envs.mdp.object_shapes import object_extent_below
from warplab.envs.mdp.objects import frame_pose_w, object_pos_in_frame, object_pos_w, object_quat_w

if TYPE_CHECKING:
    from warplab.envs.config import CommandTermCfg, CurriculumTermCfg
    from warplab.envs.rl_env import RlEnv

_AXES = ("x", "y", "z")

SUCCESS_RADIUS_M = 0.05
"""arm-lift's and hand-grasp-lift's success: the object's origin within this of the goal, m
(FetchPickAndPlace's ``distance_threshold``)."""
SUCCESS_HOLD_STEPS = 10
"""... for this many policy steps in a row (0.2 s at the 50 Hz policy), at any time in the episode."""
SUCCESS_CRITERIA = ("distance", "height")


class BasePositionGoalCommand(CommandTerm):
    """A goal position for the object in the robot's base frame: ``command [num_envs, 3]`` (x, y, z),
    m, from the base's origin along its axes, drawn uniformly per axis (Isaac Lab's
    ``UniformPoseCommand``, position only: the object may arrive in any orientation).

    Params: ``x``, ``y``, ``z``: ``(low, high)`` ranges, m; ``frame_body``: the robot's base body.
    """

    components = ("pos_x", "pos_y", "pos_z")
    ranges: Sequence[tuple[float, float]]

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        known = {"x", "y", "z", "frame_body"}
        unknown, missing = sorted(set(p) - known), sorted(known - set(p))
        if unknown or missing:
            raise ValueError(
                f"BasePositionGoalCommand params: unknown {unknown}, missing {missing}; it takes {sorted(known)}"
            )
        self.ranges = [(float(p[k][0]), float(p[k][1])) for k in _AXES]
        for k, (lo, hi) in zip(_AXES, self.ranges, strict=True):
            if not lo <= hi:
                raise ValueError(f"BasePositionGoalCommand range {k} needs low <= high, got {(lo, hi)}")
        self.frame_body: str = p["frame_body"]
        self._env = env
        self.command = torch.zeros(env.num_envs, 3, device=env.device)

    def export_params(self) -> dict[str, object]:
        """The frame the goal is in: ``{"frame_body": name}``."""
        return {"frame_body": self.frame_body}

    def resample(self, mask: torch.Tensor) -> None:
        env = self._env
        n = env.num_envs
        draw = torch.stack([uniform(lo, hi, (n,), env.rng, env.device) for lo, hi in self.ranges], dim=1)
        self.command.copy_(torch.where(mask[:, None], draw, self.command))


class HeldGoalCommand(BasePositionGoalCommand):
    """The goal position in the base frame (``BasePositionGoalCommand``), which also counts, per world,
    the policy steps in a row the object has met the success ``criterion`` (``at_goal``):

    - ``"distance"``: the object's origin closer than ``tolerance`` m to the goal (arm-lift,
      hand-grasp-lift: ``SUCCESS_RADIUS_M``);
    - ``"height"``: the object's origin no lower than ``tolerance`` m under the goal's z, in the base
      frame (``at_goal_height``; arm-pick-up-dropped, whose goal's z is at least 0.25 m over the table,
      so only an object carried up counts; one still falling from its drop passes that height for
      well under ``success_steps``).

    The episode succeeded once that count reaches ``success_steps``, at any time in it; success ends
    nothing and rewards nothing (the task's terms do that, or not).

    State: ``held_steps [num_envs]`` (long, updated after the step's rewards and terminations),
    ``succeeded [num_envs]`` (bool: ``held_steps`` reached ``success_steps`` this episode) and
    ``last_episode_succeeded [num_envs]`` (bool: ``succeeded`` of the world's last ended episode, written
    at its reset and kept until the next one ends: what an evaluation reads after the step that ended
    it, since the reset has cleared ``succeeded`` by then).
    Logged (``pop_log``): ``success``, the share of the episodes ended since the last call that
    succeeded.

    Params: the ``x``, ``y``, ``z`` ranges (m) and ``frame_body`` of ``BasePositionGoalCommand``;
    ``object``; ``criterion`` (``SUCCESS_CRITERIA``); ``tolerance`` (m); ``success_steps`` (policy steps).
    """

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        own = {"object", "criterion", "tolerance", "success_steps"}
        missing = sorted(own - set(p))
        if missing:
            raise ValueError(f"HeldGoalCommand params: missing {missing}")
        self.object = str(p.pop("object"))
        self.criterion = str(p.pop("criterion"))
        if self.criterion not in SUCCESS_CRITERIA:
            raise ValueError(
                f"HeldGoalCommand criterion must be one of {list(SUCCESS_CRITERIA)}, got {self.criterion!r}"
            )
        self.tolerance = float(p.pop("tolerance"))
        if not self.tolerance >= 0.0:
            raise ValueError(f"HeldGoalCommand tolerance must be >= 0 m, got {self.tolerance}")
        self.success_steps = int(p.pop("success_steps"))
        if self.success_steps < 1:
            raise ValueError(f"HeldGoalCommand success_steps must be >= 1, got {self.success_steps}")
        super().__init__(dataclasses.replace(cfg, params=p), env)
        n, dev = env.num_envs, env.device
        self.held_steps = torch.zeros(n, dtype=torch.long, device=dev)
        self.succeeded = torch.zeros(n, dtype=torch.bool, device=dev)
        self.last_episode_succeeded = torch.zeros(n, dtype=torch.bool, device=dev)
        self.ended_episodes = torch.zeros((), dtype=torch.int64, device=dev)
        self.ended_successes = torch.zeros((), dtype=torch.int64, device=dev)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The goal and the episode state (``last_episode_succeeded`` is a record for evaluations,
        not state a resumed run needs)."""
        return {"command": self.command, "held_steps": self.held_steps, "succeeded": self.succeeded}

    def export_params(self) -> dict[str, object]:
        """The goal's frame and the success test: ``frame_body``, ``criterion``, ``tolerance`` (m),
        ``success_steps``."""
        return {
            "frame_body": self.frame_body,
            "criterion": self.criterion,
            "tolerance": self.tolerance,
            "success_steps": self.success_steps,
        }

    def goal_distance(self) -> torch.Tensor:
        """``[num_envs]`` distance from the object's origin to the goal, m."""
        pos = object_pos_in_frame(self._env, self.object, frame_body=self.frame_body)
        return torch.linalg.vector_norm(pos - self.command, dim=1)

    def at_goal_height(self) -> torch.Tensor:
        """``[num_envs]`` bool: the object's origin is at most ``tolerance`` m under the goal's z (base
        frame) or higher."""
        z = object_pos_in_frame(self._env, self.object, frame_body=self.frame_body)[:, 2]
        return z >= self.command[:, 2] - self.tolerance

    def at_goal(self) -> torch.Tensor:
        """``[num_envs]`` bool: the object meets the ``criterion`` now."""
        if self.criterion == "distance":
            return self.goal_distance() < self.tolerance
        return self.at_goal_height()

    def update(self, dt: float) -> None:
        self.held_steps.copy_(torch.where(self.at_goal(), self.held_steps + 1, 0))
        self.succeeded |= self.held_steps >= self.success_steps

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        # A world that never stepped (the first reset) ended no episode.
        ended = mask & (env.episode_length_buf > 0)
        self.ended_episodes += ended.sum()
        self.ended_successes += (self.succeeded & ended).sum()
        self.last_episode_succeeded.copy_(torch.where(ended, self.succeeded, self.last_episode_succeeded))
        self.held_steps.masked_fill_(mask, 0)
        self.succeeded.masked_fill_(mask, False)

    def pop_log(self) -> dict[str, float]:
        """``{"success": share of the episodes ended since the last call}`` (empty when none ended);
        reads the device once."""
        ended, successes = int(self.ended_episodes.item()), int(self.ended_successes.item())
        self.ended_episodes.zero_()
        self.ended_successes.zero_()
        return {"success": successes / ended} if ended else {}


def goal_position_w(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, 3]`` the goal of ``BasePositionGoalCommand`` ``command_name`` in the world frame, m."""
    term = env.command_manager.term(command_name)
    if not isinstance(term, BasePositionGoalCommand):
        raise ValueError(
            f"command {command_name!r} is a {type(term).__name__}, not a BasePositionGoalCommand"
        )
    frame = frame_pose_w(env, frame_body=term.frame_body)
    assert frame is not None  # a frame_body was named
    pos, quat = frame
    return pos + quat_rotate(quat, term.command)


def object_clearance(env: RlEnv, object: str, surface_height: float) -> torch.Tensor:
    """``[num_envs]`` height of the object's lowest point over a horizontal surface at
    ``surface_height`` (m, world z): its origin's height minus its extent below the origin in its
    current orientation (``object_extent_below``, the active shape at each world's size), m. Zero
    for an object resting on the surface."""
    quat = object_quat_w(env, object)
    quat = quat / torch.linalg.vector_norm(quat, dim=1, keepdim=True)
    return object_pos_w(env, object)[:, 2] - object_extent_below(env, object, quat) - surface_height


def ee_object_distance_tanh(env: RlEnv, object: str, ee_site: str, std: float) -> torch.Tensor:
    """``[num_envs]`` reaching reward ``1 - tanh(d / std)`` in (0, 1], ``d`` the distance from the
    site ``ee_site`` (the gripper's tool centre point) to the object's origin, m; ``std`` in m."""
    site = env.index.once(("lift_ee_site", ee_site), lambda: _one_site(env, ee_site))
    d = torch.linalg.vector_norm(object_pos_w(env, object) - env.sim.site_xpos[:, site], dim=1)
    return 1.0 - torch.tanh(d / std)


def _one_site(env: RlEnv, name: str) -> int:
    ids = env.index.ids("site", name)
    if len(ids) != 1:
        raise ValueError(f"ee_site {name!r} must name one site of the model, it matches {len(ids)}")
    return ids[0]


def object_lifted(env: RlEnv, object: str, surface_height: float, min_clearance: float) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the object's lowest point is more than ``min_clearance`` m over the
    table top at ``surface_height`` m, else 0.0."""
    return (object_clearance(env, object, surface_height) > min_clearance).float()


def object_goal_distance_tanh(
    env: RlEnv, object: str, command_name: str, std: float, surface_height: float, min_clearance: float
) -> torch.Tensor:
    """``[num_envs]`` goal tracking ``1 - tanh(d / std)`` while the object is lifted (as
    ``object_lifted``), 0 otherwise; ``d`` the distance from the object's origin to the goal, m."""
    d = torch.linalg.vector_norm(goal_position_w(env, command_name) - object_pos_w(env, object), dim=1)
    return object_lifted(env, object, surface_height, min_clearance) * (1.0 - torch.tanh(d / std))


class RewardWeightStep(CurriculumTerm):
    """Multiplies the weights of reward terms by ``factor`` once the env has taken ``num_steps``
    policy steps (``env.step_count``, counted over all worlds together as one), as Isaac Lab's
    ``modify_reward_weight`` curriculum: the lift task's action-rate and joint-velocity penalties go
    from -1e-4 to -1e-1 after 10,000 steps, once reaching and lifting have been found.

    Params: ``rewards`` (names of reward terms), ``num_steps`` (policy steps), ``factor``.

    Returns (logged as ``Curriculum/<name>``): the factor now in force ``[]`` (1 before the step).
    """

    def __init__(self, cfg: CurriculumTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        known = {"rewards", "num_steps", "factor"}
        if set(p) != known:
            raise ValueError(f"RewardWeightStep params has {sorted(p)}; it takes {sorted(known)}")
        self.reward_names = list(p["rewards"])
        self.num_steps = int(p["num_steps"])
        self.factor = float(p["factor"])
        if self.num_steps < 0:
            raise ValueError(f"RewardWeightStep num_steps must be >= 0, got {self.num_steps}")
        self._columns: torch.Tensor | None = None

    def __call__(self, env: RlEnv, mask: torch.Tensor, **_: object) -> torch.Tensor:
        if self._columns is None:
            # The reward manager is built after the curriculum's: look the names up at the first call.
            try:
                columns = [env.reward_manager.index(name) for name in self.reward_names]
            except KeyError as error:
                raise ConfigError(f"RewardWeightStep params['rewards']: {error.args[0]}") from None
            self._columns = torch.tensor(columns, device=env.device)
        scale = torch.where(env.step_count >= self.num_steps, self.factor, 1.0).float()
        env.reward_manager.weight_scales.index_put_((self._columns,), scale.expand(len(self.reward_names)))
        return scale


__all__ = [
    "SUCCESS_CRITERIA",
    "SUCCESS_HOLD_STEPS",
    "SUCCESS_RADIUS_M",
    "BasePositionGoalCommand",
    "HeldGoalCommand",
    "RewardWeightStep",
    "ee_object_distance_tanh",
    "goal_position_w",
    "object_clearance",
    "object_goal_distance_tanh",
    "object_lifted",
]
