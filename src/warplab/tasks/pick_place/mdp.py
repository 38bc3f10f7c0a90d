"""Terms only the pick-and-place task uses: a goal on the table drawn away from the object's start
(which also tracks, per world, whether the object has been lifted this episode and how long it has
rested placed and released at its goal), the object's resting point and its offset to the goal, and
the rewards and the success built on them.

The success is Gymnasium-Robotics FetchPickAndPlace's (``fetch/pick_and_place.py``, through
``fetch_env.goal_distance``: the object within 5 cm of the goal) made a place: within 3 cm, resting
(slow), the gripper open, for a few policy steps. The reaching and lifting tests are the lift task's
(``warplab.tasks.lift.mdp``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch

from warplab.assets.object_shapes import PARKED_MARGIN, SHAPE_DIMS
from warplab.envs.mdp.math import quat_rotate, quat_rotate_inverse, uniform
from warplab.envs.mdp.object_shapes import object_extent_below
from warplab.envs.mdp.objects import (
    frame_pose_w,
    object_lin_vel_w,
    object_pos_in_frame,
    object_pos_w,
    object_quat_w,
)
from warplab.tasks.lift.mdp import BasePositionGoalCommand, goal_position_w, object_lifted
from warplab.term_export import ObservationExport, declares

if TYPE_CHECKING:
    from warplab.envs.config import CommandTermCfg
    from warplab.envs.rl_env import RlEnv

CANDIDATES = 16
"""Goals drawn per reset; the first far enough from the object is kept (no host sync, no loop)."""


class PlaceGoalCommand(BasePositionGoalCommand):
    """Where to put the object down: ``command [num_envs, 3]`` (x, y, z) in the robot's base frame, m,
    x and y uniform in their ranges, z fixed at the table top's height in that frame, drawn at each
    reset at least ``min_distance`` m (in x-y) from where the object starts. Of ``CANDIDATES`` uniform
    draws the first far enough is kept, the farthest if none is (with this task's ranges the chance of
    that is below 1e-8).

    It also keeps, per world, the episode state the rewards and the success read:
    ``lifted_once [num_envs]`` (bool: the object has been lifted, as ``object_lifted``, this episode)
    and ``held_steps [num_envs]`` (long: policy steps in a row the object has been placed, as
    ``object_placed``). Both are updated after the step's rewards and terminations, so those read
    the previous step's values.

    Params: ``x``, ``y``: ``(low, high)`` m; ``z``: m; ``frame_body``: the robot's base body;
    ``object``: the object's body; ``min_distance``: m; ``surface_height`` (world z, m) and
    ``min_clearance`` (m): the lift test; ``tolerance`` (m), ``max_speed`` (m/s), ``gripper_joint``,
    ``min_opening`` (m): the place test (``object_placed``).
    """

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        p = dict(cfg.params)
        known = {
            "x",
            "y",
            "z",
            "frame_body",
            "object",
            "min_distance",
            "surface_height",
            "min_clearance",
            "tolerance",
            "max_speed",
            "gripper_joint",
            "min_opening",
        }
        unknown, missing = sorted(set(p) - known), sorted(known - set(p))
        if unknown or missing:
            raise ValueError(
                f"PlaceGoalCommand params: unknown {unknown}, missing {missing}; it takes {sorted(known)}"
            )
        z = float(p["z"])
        self.ranges = [(float(p["x"][0]), float(p["x"][1])), (float(p["y"][0]), float(p["y"][1])), (z, z)]
        for axis, (lo, hi) in zip("xy", self.ranges[:2], strict=True):
            if not lo <= hi:
                raise ValueError(f"PlaceGoalCommand range {axis} needs low <= high, got {(lo, hi)}")
        self.min_distance = float(p["min_distance"])
        if self.min_distance < 0:
            raise ValueError(f"PlaceGoalCommand min_distance must be >= 0 m, got {self.min_distance}")
        self.frame_body = str(p["frame_body"])
        self.object = str(p["object"])
        self.surface_height = float(p["surface_height"])
        self.min_clearance = float(p["min_clearance"])
        self.tolerance = float(p["tolerance"])
        self.max_speed = float(p["max_speed"])
        self.gripper_joint = str(p["gripper_joint"])
        self.min_opening = float(p["min_opening"])
        self._env = env
        self.gripper_qpos = env.index.joint_qpos_ids(self.gripper_joint)
        if len(self.gripper_qpos) != 1:
            raise ValueError(
                f"PlaceGoalCommand gripper_joint {self.gripper_joint!r} must name one slide joint"
            )
        self.command = torch.zeros(env.num_envs, 3, device=env.device)
        self.lifted_once = torch.zeros(env.num_envs, dtype=torch.bool, device=env.device)
        self.held_steps = torch.zeros(env.num_envs, dtype=torch.long, device=env.device)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The goal and the episode state (the gripper's qpos column is a constant of the model)."""
        return {"command": self.command, "lifted_once": self.lifted_once, "held_steps": self.held_steps}

    def export_params(self) -> dict[str, object]:
        """The goal's frame and how it is drawn and reached: ``frame_body``, ``min_distance`` (m) and
        the place test's ``tolerance`` (m), ``max_speed`` (m/s), ``min_opening`` (m)."""
        return {
            "frame_body": self.frame_body,
            "min_distance": self.min_distance,
            "tolerance": self.tolerance,
            "max_speed": self.max_speed,
            "min_opening": self.min_opening,
        }

    def resample(self, mask: torch.Tensor) -> None:
        env = self._env
        n = env.num_envs
        (x_lo, x_hi), (y_lo, y_hi), (z, _) = self.ranges
        xy = torch.stack(
            [
                uniform(x_lo, x_hi, (n, CANDIDATES), env.rng, env.device),
                uniform(y_lo, y_hi, (n, CANDIDATES), env.rng, env.device),
            ],
            dim=2,
        )
        start = object_pos_in_frame(env, self.object, frame_body=self.frame_body)[:, None, :2]
        distance = torch.linalg.vector_norm(xy - start, dim=2)
        far = distance >= self.min_distance
        # argmax of a bool row is its first True; a row without one takes its farthest draw.
        pick = torch.where(far.any(dim=1), far.long().argmax(dim=1), distance.argmax(dim=1))
        chosen = xy.gather(1, pick[:, None, None].expand(n, 1, 2))[:, 0]
        draw = torch.cat([chosen, torch.full((n, 1), z, device=env.device)], dim=1)
        self.command.copy_(torch.where(mask[:, None], draw, self.command))

    def update(self, dt: float) -> None:
        env = self._env
        self.lifted_once |= _lifted_now(env, self)
        placed = self.lifted_once & _placed_now(env, self)
        self.held_steps.copy_(torch.where(placed, self.held_steps + 1, 0))

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        self.lifted_once.masked_fill_(mask, False)
        self.held_steps.masked_fill_(mask, 0)


def _place_goal(env: RlEnv, command_name: str) -> PlaceGoalCommand:
    term = env.command_manager.term(command_name)
    if not isinstance(term, PlaceGoalCommand):
        raise ValueError(f"command {command_name!r} is a {type(term).__name__}, not a PlaceGoalCommand")
    return term


def object_rest_point_w(env: RlEnv, object: str) -> torch.Tensor:
    """``[num_envs, 3]`` the point below the object's origin at its lowest point's height (world, m):
    its origin lowered by its extent below the origin in its current orientation. For an object
    resting on the table it lies on the table top whatever the shape, so one goal on the table
    serves a sphere and an upright cylinder alike."""
    quat = object_quat_w(env, object)
    quat = quat / torch.linalg.vector_norm(quat, dim=1, keepdim=True)
    point = object_pos_w(env, object).clone()
    point[:, 2] -= object_extent_below(env, object, quat)
    return point


def _goal_offset_facts(env: RlEnv, params: Mapping[str, Any]) -> dict[str, Any]:
    """What a robot needs to compute ``object_goal_offset_in_frame``: the goal's frame (the object
    frame its ``object_pos`` and ``object_quat`` come in) and the object's geoms in model order
    (``object_shape``'s columns): MuJoCo type name, position and orientation in the body, and the
    compiled size; ``shape_set``: one geom is active per world (the ``object_shape`` one-hot says
    which, the signal ``object_size`` gives its size), else all count at their compiled sizes."""
    goal = _place_goal(env, params["command_name"])
    m = env.mj_model
    body = m.body(params["object"]).id
    geoms = [g for g in range(m.ngeom) if int(m.geom_bodyid[g]) == body]
    kinds = {int(kind): name for name, (kind, _) in SHAPE_DIMS.items()}
    odd = [int(m.geom_type[g]) for g in geoms if int(m.geom_type[g]) not in kinds]
    if not geoms or odd:
        raise ValueError(
            f"object {params['object']!r} needs primitive geoms ({sorted(SHAPE_DIMS)}) for a robot to compute "
            f"its rest point; it has geom types {odd or 'none'}"
        )
    return {
        "object": params["object"],
        "frame": {"body": goal.frame_body},
        "geoms": [
            {
                "type": kinds[int(m.geom_type[g])],
                "pos": m.geom_pos[g].tolist(),
                "quat": m.geom_quat[g].tolist(),
                "size": m.geom_size[g].tolist(),
            }
            for g in geoms
        ],
        "shape_set": any(m.geom_margin[g] == PARKED_MARGIN for g in geoms),
    }


@declares(ObservationExport("object_goal_offset", facts=_goal_offset_facts, frame_pose=lambda params: True))
def object_goal_offset_in_frame(env: RlEnv, object: str, command_name: str) -> torch.Tensor:
    """``[num_envs, 3]`` the vector from the object's rest point (``object_rest_point_w``) to the
    goal, in the axes of the goal's frame (the arm's base), m.

    A robot computes it (export declares the signal ``object_goal_offset``) from the object's pose in
    that frame (``object_pos``, ``object_quat``), the goal command, which geom is active
    (``object_shape``) and its size (``object_size``), with the geoms' placement from the metadata."""
    frame = frame_pose_w(env, frame_body=_place_goal(env, command_name).frame_body)
    assert frame is not None
    offset = goal_position_w(env, command_name) - object_rest_point_w(env, object)
    return quat_rotate_inverse(frame[1], offset)


def object_goal_distance(env: RlEnv, object: str, command_name: str) -> torch.Tensor:
    """``[num_envs]`` the distance from the object's rest point to the goal, m."""
    return torch.linalg.vector_norm(
        goal_position_w(env, command_name) - object_rest_point_w(env, object), dim=1
    )


def _goal_w(env: RlEnv, goal: PlaceGoalCommand) -> torch.Tensor:
    frame = frame_pose_w(env, frame_body=goal.frame_body)
    assert frame is not None
    return frame[0] + quat_rotate(frame[1], goal.command)


def _lifted_now(env: RlEnv, goal: PlaceGoalCommand) -> torch.Tensor:
    """``[num_envs]`` bool: ``object_lifted`` with the command's lift test."""
    return object_lifted(env, goal.object, goal.surface_height, goal.min_clearance) > 0


def _placed_now(env: RlEnv, goal: PlaceGoalCommand) -> torch.Tensor:
    """``[num_envs]`` bool: the place test now, without the lifted-once gate (``object_placed``)."""
    offset = _goal_w(env, goal) - object_rest_point_w(env, goal.object)
    near = torch.linalg.vector_norm(offset, dim=1) < goal.tolerance
    slow = torch.linalg.vector_norm(object_lin_vel_w(env, goal.object), dim=1) < goal.max_speed
    # Indexed by the id tensor, not by its element: a 0-d index would be read on the host.
    opened = env.sim.qpos[:, goal.gripper_qpos][:, 0] >= goal.min_opening
    return near & slow & opened


def object_placed(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the object, lifted earlier this episode, now rests placed and released:
    its rest point within ``tolerance`` m of the goal, its speed below ``max_speed`` m/s and the
    gripper open to at least ``min_opening`` m (the params of ``PlaceGoalCommand`` ``command_name``),
    else 0.0. The lifted-once gate leaves a push along the table unrewarded."""
    goal = _place_goal(env, command_name)
    return (goal.lifted_once & _placed_now(env, goal)).float()


def lifted_until_near_goal(env: RlEnv, command_name: str, near_radius: float) -> torch.Tensor:
    """``[num_envs]`` 1.0 while the object is lifted (``object_lifted`` with the command's lift test);
    and, once it has been lifted this episode, also while its rest point is within ``near_radius`` m of
    the goal in x-y, where it has to come down to be placed: the lift is asked for until the object
    is over its goal, so lowering it there keeps this reward rather than giving it up. Else 0.0."""
    goal = _place_goal(env, command_name)
    lifted = _lifted_now(env, goal)
    offset = _goal_w(env, goal) - object_rest_point_w(env, goal.object)
    near = torch.linalg.vector_norm(offset[:, :2], dim=1) < near_radius
    return (lifted | (goal.lifted_once & near)).float()


def carry_distance_tanh(env: RlEnv, command_name: str, std: float) -> torch.Tensor:
    """``[num_envs]`` carrying reward ``1 - tanh(d / std)`` once the object has been lifted this
    episode, 0 before; ``d`` the distance from its rest point to the goal (m), ``std`` m. The gate
    keeps a push along the table from earning it."""
    goal = _place_goal(env, command_name)
    d = torch.linalg.vector_norm(_goal_w(env, goal) - object_rest_point_w(env, goal.object), dim=1)
    return goal.lifted_once.float() * (1.0 - torch.tanh(d / std))


def object_lifted_once(env: RlEnv, command_name: str) -> torch.Tensor:
    """``[num_envs, 1]`` 1.0 once the object has been lifted this episode, else 0.0 (for the critic)."""
    return _place_goal(env, command_name).lifted_once.float()[:, None]


def place_succeeded(env: RlEnv, command_name: str, hold_steps: int) -> torch.Tensor:
    """``[num_envs]`` bool: the object has been placed (``object_placed``) for ``hold_steps`` policy
    steps in a row, counted by ``PlaceGoalCommand``: the episode's success."""
    return _place_goal(env, command_name).held_steps >= hold_steps


__all__ = [
    "PlaceGoalCommand",
    "carry_distance_tanh",
    "lifted_until_near_goal",
    "object_goal_distance",
    "object_goal_offset_in_frame",
    "object_lifted_once",
    "object_placed",
    "object_rest_point_w",
    "place_succeeded",
]
