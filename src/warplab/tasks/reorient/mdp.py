"""Terms only the reorientation tasks use: the action mapping, the critic's view of the goal
counters, a joint reset that stays within the joints' ranges and the cube's face-down reset. The
observations (joint positions normalized to their range, the object, the goal in the palm's frame),
rewards and terminations are the generic ones of ``warplab.envs.mdp`` (``observations``, ``objects``,
``goals``, ``object_rewards``, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.actions import JointPositionAction
from warplab.envs.mdp.events import _rows
from warplab.envs.mdp.goals import goal_command
from warplab.envs.mdp.math import (
    quat_from_axis_angle,
    quat_mul,
    quat_rotate,
    random_quat_uniform,
    uniform,
)
from warplab.envs.mdp.object_events import place_object_at_rest, position_offsets
from warplab.envs.mdp.observations import joint_limits

if TYPE_CHECKING:
    from warplab.envs.config import ActionTermCfg
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


class HomeCenteredPositionAction(JointPositionAction):
    """Absolute position targets about the home pose that reach each joint's whole control range:
    ``ctrl = home + scale * clip(action, -1, 1)`` with ``scale = max(high - home, home - low)`` per
    actuator, rad; MuJoCo clamps ``ctrl`` to ``ctrlrange``. Action 0 holds the hand at home (the cube
    rests on the palm there), and +-1 reaches the far end of the range on either side.

    The map is affine, so ``actuator_targets()`` (inherited) describes it exactly for export.

    Params: ``actuators`` (names or regex; None: all).

    Raises:
      ValueError: an actuator has no control range (``ctrllimited``), so full reach is undefined.
    """

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        unknown = sorted(set(cfg.params) - {"actuators"})
        if unknown:
            raise ValueError(f"HomeCenteredPositionAction params has {unknown}; it takes ['actuators']")
        super().__init__(cfg, env)  # offset: the joints' positions in the initial (home) state
        m = env.mj_model
        ids = self.actuator_ids.tolist()
        unlimited = [env.index.names["actuator"][i] for i in ids if not m.actuator_ctrllimited[i]]
        if unlimited:
            raise ValueError(
                f"HomeCenteredPositionAction needs limited controls (ctrlrange); actuators {unlimited} have none"
            )
        ctrlrange = torch.as_tensor(m.actuator_ctrlrange[ids], dtype=torch.float32, device=env.device)
        low, high = ctrlrange[:, 0], ctrlrange[:, 1]
        self.scale = torch.maximum(high - self.offset, self.offset - low).clamp_min(1e-6)
        self.clip = (-1.0, 1.0)


def reset_joints_in_range(
    env: RlEnv, mask: torch.Tensor, joints: Names, position_range: tuple[float, float]
) -> None:
    """Reset event: the joints at their default position plus a uniform offset from
    ``position_range`` (rad), clamped to each joint's range, at rest; masked worlds only."""
    qids, vids = env.index.joint_qpos_ids(joints), env.index.joint_dof_ids(joints)
    low, high = joint_limits(env, joints)
    n = env.num_envs
    default = env.sim.init_qpos[qids]
    pos = default + uniform(position_range[0], position_range[1], (n, len(qids)), env.rng, env.device)
    pos = torch.minimum(torch.maximum(pos, low), high)
    sim = env.sim
    sim.qpos[:, qids] = _rows(mask, pos, sim.qpos[:, qids])
    sim.qvel[:, vids] = _rows(mask, torch.zeros_like(sim.qvel[:, vids]), sim.qvel[:, vids])


def reset_cube_face_down(
    env: RlEnv,
    mask: torch.Tensor,
    object: str,
    normal: tuple[float, float, float],
    position: tuple[float, float, float],
    position_range: dict[str, tuple[float, float]] | None = None,
    frame_body: str | None = None,
    frame_site: str | None = None,
) -> None:
    """Reset event: the cube lies on the palm with a random face down and a uniform turn about the
    palm's normal, at rest, at ``position`` (m, frame axes) plus uniform offsets ``position_range``.

    A uniform rotation is drawn and then turned by the smallest rotation that brings the cube axis
    nearest to ``normal`` (the palm's outward normal, frame axes) onto it: by the cube's symmetry
    each of its 24 face-down orientations is equally likely, with a uniform angle about the normal.
    The cube then starts resting, not dropped: a cube dropped on a corner from above the palm may
    tumble off it before the policy acts. Masked worlds only.
    """
    n, dev = env.num_envs, env.device
    # Built once (env.index.once): a tensor made from Python numbers in the step is a host-to-device copy.
    up_unit, centre, eye = env.index.once(
        ("cube_face_down_constants", tuple(normal), tuple(position)),
        lambda: _face_down_constants(normal, position, dev),
    )
    up = up_unit.expand(n, 3)
    quat = random_quat_uniform((n,), env.rng, dev)
    axes = torch.stack([quat_rotate(quat, eye[i].expand(n, 3)) for i in range(3)], dim=1)
    dots = (axes * up[:, None, :]).sum(-1)  # [n, 3] cosines of the cube's axes with the normal
    k = dots.abs().argmax(dim=1)
    pick = torch.gather(axes, 1, k.view(n, 1, 1).expand(n, 1, 3))[:, 0]
    pick = pick * torch.sign(torch.gather(dots, 1, k[:, None]))
    cross = torch.linalg.cross(pick, up)
    sin = torch.linalg.vector_norm(cross, dim=1)
    angle = torch.atan2(sin, (pick * up).sum(-1))
    axis = torch.where(sin[:, None] > 1e-9, cross / sin.clamp_min(1e-9)[:, None], up)
    local = quat_mul(quat_from_axis_angle(axis, angle), quat)
    pos = centre + position_offsets(env, position_range)
    place_object_at_rest(env, mask, object, pos, local, frame_body, frame_site)


def _face_down_constants(
    normal: Sequence[float], position: Sequence[float], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The unit normal [3], the cube's centre [3] (frame coordinates, m) and the identity [3, 3]."""
    up = torch.as_tensor(normal, dtype=torch.float32, device=device)
    return (
        up / torch.linalg.vector_norm(up),
        torch.as_tensor(position, dtype=torch.float32, device=device),
        torch.eye(3, device=device),
    )


def goal_progress(env: RlEnv, command_name: str, max_successes: int, max_steps: int) -> torch.Tensor:
    """``[num_envs, 2]`` for the critic: the goals reached this episode over ``max_successes`` and
    the policy steps since the last one over ``max_steps`` (both reach 1 where the episode is
    truncated: the success cap and the time limit of one goal)."""
    goal = goal_command(env, command_name)
    return torch.stack(
        [goal.consecutive_successes.float() / max_successes, goal.steps_since_success.float() / max_steps],
        dim=1,
    )
