"""Terms of the handle tasks (``tasks.handle_task``: ``arm-open-drawer``, ``arm-open-door``): the target
opening command (which also counts how long the joint has been held past it), the handle's position
relative to the gripper, the grasp test and the rewards built on them. They read one hinge or slide
joint, so a door's hinge serves them as a drawer's slide does.

The reward contract follows Isaac Lab's Franka cabinet task (``isaaclab_tasks/manager_based/
manipulation/cabinet/mdp/rewards.py``: approach the handle, grasp around it, open the drawer, a bonus
past a threshold, penalties on the action rate), written here for a knob grasped from above with a
tanh kernel on the distance (the lift task's) where Isaac Lab uses an inverse square.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import mujoco
import torch

from warplab.envs.managers.protocols import CommandTerm
from warplab.envs.mdp.math import quat_rotate_inverse, uniform
from warplab.envs.mdp.objects import frame_pose_w
from warplab.term_export import ObservationExport, declares

if TYPE_CHECKING:
    from warplab.envs.config import CommandTermCfg
    from warplab.envs.rl_env import RlEnv


class TargetOpeningCommand(CommandTerm):
    """How far to open a hinge or slide joint: ``command [num_envs, 1]``, in the joint's unit (m of a
    slide's travel, rad of a hinge's angle), drawn uniformly from ``(low, high)`` at each reset. It
    also counts, per world, the policy steps in a row that the joint has been at or past the target
    (``held_steps [num_envs]`` long), which the success termination reads.

    Params: the range under the name ``range_param`` (a subclass names it for its unit); ``joint``:
    one hinge or slide joint.
    """

    components: ClassVar[tuple[str, ...] | None] = ("opening",)
    range_param: ClassVar[str] = "opening"

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        name = type(self).__name__
        p = dict(cfg.params)
        known = {self.range_param, "joint"}
        if set(p) != known:
            raise ValueError(f"{name} params has {sorted(p)}; it takes {sorted(known)}")
        lo, hi = (float(v) for v in p[self.range_param])
        if not 0.0 <= lo <= hi:
            raise ValueError(f"{name} {self.range_param} needs 0 <= low <= high, got {(lo, hi)}")
        self.range = (lo, hi)
        self.ranges = [self.range]
        self.joint: str = p["joint"]
        self._env = env
        ids = env.index.ids("joint", self.joint)
        scalar = (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE)
        if len(ids) != 1 or int(env.mj_model.jnt_type[ids[0]]) not in scalar:
            raise ValueError(f"{name} joint {self.joint!r} must name one hinge or slide joint")
        self._qpos = env.index.joint_qpos_ids(self.joint)
        self.command = torch.zeros(env.num_envs, 1, device=env.device)
        self.held_steps = torch.zeros(env.num_envs, dtype=torch.long, device=env.device)

    def export_params(self) -> dict[str, object]:
        """The joint the target is for (a robot measures it as the signal ``object_joint_pos``)."""
        return {"joint": self.joint}

    def resample(self, mask: torch.Tensor) -> None:
        env = self._env
        draw = uniform(*self.range, (env.num_envs, 1), env.rng, env.device)
        self.command.copy_(torch.where(mask[:, None], draw, self.command))

    def update(self, dt: float) -> None:
        # Indexed by the id tensor, not by its element: a 0-d index would be read on the host.
        past = self._env.sim.qpos[:, self._qpos][:, 0] >= self.command[:, 0]
        self.held_steps.copy_(torch.where(past, self.held_steps + 1, 0))

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        self.held_steps.masked_fill_(mask, 0)


def _target_command(env: RlEnv, command_name: str) -> TargetOpeningCommand:
    term = env.command_manager.term(command_name)
    if not isinstance(term, TargetOpeningCommand):
        raise ValueError(f"command {command_name!r} is a {type(term).__name__}, not a TargetOpeningCommand")
    return term


def joint_opening(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs]`` the position of one hinge or slide joint: a drawer's slide, m, or a door's hinge,
    rad (0 closed)."""
    return env.sim.qpos[:, env.index.joint_qpos_ids(joint)][:, 0]


def _site_offset_export(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "from_site": params["from_site"],
        "to_site": params["to_site"],
        "frame": {"body": params["frame_body"]},
    }


@declares(ObservationExport("site_offset", extra=_site_offset_export))
def site_offset_in_frame(env: RlEnv, from_site: str, to_site: str, frame_body: str) -> torch.Tensor:
    """``[num_envs, 3]`` the vector from site ``from_site`` to site ``to_site`` in the axes of
    ``frame_body`` (the arm's base), m: the gripper's tool centre point to the handle's grasp point.

    On a robot both points come as the signal ``site_pos`` in the policy's object frame (this
    ``frame_body``): the tool centre point from forward kinematics, the handle's grasp point from the
    tracker of the drawer or door; export declares the signal ``site_offset``, their difference."""
    a, b = env.index.once(("handle_sites", from_site, to_site), lambda: _two_sites(env, from_site, to_site))
    frame = frame_pose_w(env, frame_body=frame_body)
    assert frame is not None
    return quat_rotate_inverse(frame[1], env.sim.site_xpos[:, b] - env.sim.site_xpos[:, a])


def _two_sites(env: RlEnv, a: str, b: str) -> tuple[int, int]:
    ids = [env.index.ids("site", name) for name in (a, b)]
    for name, found in zip((a, b), ids, strict=True):
        if len(found) != 1:
            raise ValueError(f"site {name!r} must name one site of the model, it matches {len(found)}")
    return ids[0][0], ids[1][0]


def handle_distance_tanh(env: RlEnv, ee_site: str, handle_site: str, std: float) -> torch.Tensor:
    """``[num_envs]`` approach reward ``1 - tanh(d / std)`` in (0, 1], ``d`` the distance from the tool
    centre point to the handle's grasp point, m; ``std`` in m."""
    a, b = env.index.once(
        ("handle_sites", ee_site, handle_site), lambda: _two_sites(env, ee_site, handle_site)
    )
    d = torch.linalg.vector_norm(env.sim.site_xpos[:, b] - env.sim.site_xpos[:, a], dim=1)
    return 1.0 - torch.tanh(d / std)


def handle_grasped(
    env: RlEnv,
    ee_site: str,
    handle_site: str,
    fingertip_sites: tuple[str, str],
    frame_body: str,
    max_distance: float,
    max_opening: float,
    gripper_joint: str,
) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the fingers are around the handle, else 0.0: the tool centre point
    within ``max_distance`` m of the grasp point, the two fingertips on opposite sides of it along the
    base's y (the direction the fingers close in, as Isaac Lab's ``align_grasp_around_handle``), and
    the gripper closed to less than ``max_opening`` m per finger (``grasp_handle``)."""
    a, b = env.index.once(
        ("handle_sites", ee_site, handle_site), lambda: _two_sites(env, ee_site, handle_site)
    )
    left, right = env.index.once(
        ("handle_sites", *fingertip_sites), lambda: _two_sites(env, *fingertip_sites)
    )
    frame = frame_pose_w(env, frame_body=frame_body)
    assert frame is not None
    quat = frame[1]
    handle = env.sim.site_xpos[:, b]
    y_left = quat_rotate_inverse(quat, env.sim.site_xpos[:, left] - handle)[:, 1]
    y_right = quat_rotate_inverse(quat, env.sim.site_xpos[:, right] - handle)[:, 1]
    near = torch.linalg.vector_norm(handle - env.sim.site_xpos[:, a], dim=1) < max_distance
    closed = env.sim.qpos[:, env.index.joint_qpos_ids(gripper_joint)][:, 0] < max_opening
    return (near & (y_left * y_right < 0) & closed).float()


def open_progress(env: RlEnv, joint: str, command_name: str, **grasp: object) -> torch.Tensor:
    """``[num_envs]`` the opening as a fraction of the target (``TargetOpeningCommand``: a travel or
    an angle), clipped to [0, 1], while the handle is grasped (``handle_grasped`` with ``grasp``),
    else 0: Isaac Lab's ``open_drawer_bonus`` (grasped times opening), measured against this
    episode's target."""
    target = _target_command(env, command_name).command[:, 0]
    fraction = (joint_opening(env, joint) / target.clamp(min=1e-3)).clamp(0.0, 1.0)
    return handle_grasped(env, **grasp) * fraction  # type: ignore[arg-type]


def opened_past_target(env: RlEnv, joint: str, command_name: str) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the joint (a drawer's slide, a door's hinge) is open to its target or
    further, else 0.0 (Isaac Lab's ``multi_stage_open_drawer`` bonus, at the target)."""
    target = _target_command(env, command_name).command[:, 0]
    return (joint_opening(env, joint) >= target).float()


def opened_and_held(env: RlEnv, command_name: str, hold_steps: int) -> torch.Tensor:
    """``[num_envs]`` bool: the joint has been at or past its target for ``hold_steps`` policy steps in
    a row (counted by ``TargetOpeningCommand``): the episode's success."""
    return _target_command(env, command_name).held_steps >= hold_steps


def slide_damping_friction(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs, 2]`` the joint's viscous damping and dry friction in each world (a slide's N·s/m and
    N, a hinge's N·m·s/rad and N·m): the critic's privileged view of how hard it is to pull."""
    dof = env.index.joint_dof_ids(joint)
    damping = env.sim.model_field("dof_damping")[:, dof]
    friction = env.sim.model_field("dof_frictionloss")[:, dof]
    return torch.cat([damping, friction], dim=1)


def jitter_fixed_body_pos(
    env: RlEnv, mask: torch.Tensor, body: str, x: tuple[float, float], y: tuple[float, float]
) -> None:
    """Moves a body welded to the world (a prop: the cabinet) by a uniform offset in the world's
    ``x`` and ``y`` (m) from its compiled place, one draw per world, through its ``body_pos``; its
    geoms, children (the drawer on its slide) and sites follow. The geoms welded to the world are
    placed by the env's reset after the reset events (``Simulation.update_static_poses``).
    """
    body_id = env.index.once(("fixed_body", body), lambda: _fixed_body(env, body))
    body_pos = env.sim.model_field("body_pos")
    body_pos0 = env.sim.fields.default("body_pos")[body_id]
    offset = torch.zeros(env.num_envs, 3, device=env.device)
    offset[:, 0] = uniform(*x, (env.num_envs,), env.rng, env.device)
    offset[:, 1] = uniform(*y, (env.num_envs,), env.rng, env.device)
    body_pos[:, body_id] = torch.where(mask[:, None], body_pos0 + offset, body_pos[:, body_id])


def _fixed_body(env: RlEnv, body: str) -> int:
    ids = env.index.ids("body", body)
    if len(ids) != 1:
        raise ValueError(f"jitter_fixed_body_pos: body {body!r} must name one body, it matches {len(ids)}")
    m = env.mj_model
    (b,) = ids
    if m.body_parentid[b] != 0 or m.body_weldid[b] != 0 or m.body_mocapid[b] != -1:
        raise ValueError(
            f"jitter_fixed_body_pos: body {body!r} must be a child of the world welded to it (a fixed prop)"
        )
    return int(b)


__all__ = [
    "TargetOpeningCommand",
    "handle_distance_tanh",
    "handle_grasped",
    "jitter_fixed_body_pos",
    "joint_opening",
    "open_progress",
    "opened_and_held",
    "opened_past_target",
    "site_offset_in_frame",
    "slide_damping_friction",
]
