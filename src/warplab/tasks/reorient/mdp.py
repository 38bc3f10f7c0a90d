"""Terms only the reorientation tasks use: the action mapping, joint positions normalized to their
range, the goal in the palm's frame, the critic's view of the goal counters, and a joint reset that
stays within the joints' ranges. The object, goal, reward and termination terms themselves are the
generic ones of ``warplab.envs.mdp`` (``objects``, ``goals``, ``object_rewards``, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.actions import JointPositionAction
from warplab.envs.mdp.events import _rows
from warplab.envs.mdp.goals import OrientationGoalCommand
from warplab.envs.mdp.math import quat_canonical, quat_conjugate, quat_mul, uniform
from warplab.envs.mdp.objects import frame_pose_w

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


def _joint_limits(env: RlEnv, joints: Names) -> tuple[torch.Tensor, torch.Tensor]:
    def look_up() -> tuple[torch.Tensor, torch.Tensor]:
        ids = env.index.ids("joint", joints)
        limits = torch.as_tensor(env.mj_model.jnt_range[ids], dtype=torch.float32, device=env.device)
        if not bool((limits[:, 1] > limits[:, 0]).all()):
            names = [env.index.names["joint"][i] for i, (lo, hi) in zip(ids, limits.tolist()) if hi <= lo]
            raise ValueError(f"joints {names} have no range (jnt_range); they cannot be normalized")
        return limits[:, 0], limits[:, 1]

    return env.index.once(("reorient_joint_limits", str(joints)), look_up)


def joint_pos_normalized(env: RlEnv, joints: Names) -> torch.Tensor:
    """``[num_envs, num_joints]`` joint positions mapped linearly from their range onto [-1, 1]
    (``(2 q - high - low) / (high - low)``; -1 at the lower limit; outside [-1, 1] past a limit)."""
    low, high = _joint_limits(env, joints)
    q = env.sim.qpos[:, env.index.joint_qpos_ids(joints)]
    return (2.0 * q - high - low) / (high - low)


def reset_joints_in_range(
    env: RlEnv, mask: torch.Tensor, joints: Names, position_range: tuple[float, float]
) -> None:
    """Reset event: the joints at their default position plus a uniform offset from
    ``position_range`` (rad), clamped to each joint's range, at rest; masked worlds only."""
    qids, vids = env.index.joint_qpos_ids(joints), env.index.joint_dof_ids(joints)
    low, high = _joint_limits(env, joints)
    n = env.num_envs
    default = env.sim.init_qpos[qids]
    pos = default + uniform(position_range[0], position_range[1], (n, len(qids)), env.rng, env.device)
    pos = torch.minimum(torch.maximum(pos, low), high)
    sim = env.sim
    sim.qpos[:, qids] = _rows(mask, pos, sim.qpos[:, qids])
    sim.qvel[:, vids] = _rows(mask, torch.zeros_like(sim.qvel[:, vids]), sim.qvel[:, vids])


def _goal_command(env: RlEnv, command_name: str) -> OrientationGoalCommand:
    term = env.command_manager.term(command_name)
    if not isinstance(term, OrientationGoalCommand):
        raise ValueError(f"command {command_name!r} is a {type(term).__name__}, not an OrientationGoalCommand")
    return term


def goal_quat_in_frame(
    env: RlEnv, command_name: str, frame_body: str | None = None, frame_site: str | None = None
) -> torch.Tensor:
    """``[num_envs, 4]`` the goal orientation in the frame (a palm), ``conj(q_frame) * q_goal``
    (w, x, y, z), canonical sign: the goal in the same frame as ``mdp.object_quat_in_frame``."""
    quat = env.command(command_name)[:, 3:7]
    frame = frame_pose_w(env, frame_body, frame_site)
    if frame is not None:
        quat = quat_mul(quat_conjugate(frame[1]), quat)
    return quat_canonical(quat)


def goal_progress(env: RlEnv, command_name: str, max_successes: int, max_steps: int) -> torch.Tensor:
    """``[num_envs, 2]`` for the critic: the goals reached this episode over ``max_successes`` and
    the policy steps since the last one over ``max_steps`` (both reach 1 where the episode is
    truncated: the success cap and the time limit of one goal)."""
    goal = _goal_command(env, command_name)
    return torch.stack(
        [goal.consecutive_successes.float() / max_successes, goal.steps_since_success.float() / max_steps],
        dim=1,
    )
