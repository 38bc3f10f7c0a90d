"""Terms of the Gymnasium-Robotics block task (``HandManipulateBlockRotateXYZ-v1``), as the package
computes them (``gymnasium_robotics/envs/shadow_dexterous_hand/manipulate.py`` and ``hand_env.py``).

Quaternions are MuJoCo's (w, x, y, z). The goal is ``[x, y, z, qw, qx, qy, qz]``: the block's
position (m, world frame) and orientation, the package's ``desired_goal``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from warplab.envs import draws
from warplab.envs.managers.protocols import CommandTerm, EventTerm
from warplab.envs.mdp.actions import JointPositionAction
from warplab.envs.mdp.math import quat_mul

if TYPE_CHECKING:
    from warplab.envs.config import ActionTermCfg, CommandTermCfg, EventTermCfg
    from warplab.envs.rl_env import RlEnv


# ---------------------------------------------------------------- rotations
def quat_from_angle_axis(angle: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """``[..., 4]`` unit quaternions of rotations by ``angle [...]`` rad about ``axis [..., 3]``
    (any length: normalized first, as the package's ``quat_from_angle_and_axis``)."""
    axis = axis / torch.linalg.vector_norm(axis, dim=-1, keepdim=True).clamp_min(1e-12)
    half = 0.5 * angle.unsqueeze(-1)
    quat = torch.cat([torch.cos(half), torch.sin(half) * axis], dim=-1)
    return quat / torch.linalg.vector_norm(quat, dim=-1, keepdim=True)


def rotation_distance(quat_a: torch.Tensor, quat_b: torch.Tensor) -> torch.Tensor:
    """``[...]`` the package's angle between orientations, rad, in [0, 2 pi]:
    ``2 arccos(clip(w, -1, 1))`` with ``w`` the real part of ``a * conj(b)``, i.e. ``a . b``.

    As in the package there is no absolute value: ``q`` and ``-q``, the same rotation, are 2 pi
    apart, so a block whose quaternion has the other sign than the goal's is not at the goal.
    """
    w = torch.sum(quat_a * quat_b, dim=-1)
    return 2.0 * torch.arccos(w.clamp(-1.0, 1.0))


# ---------------------------------------------------------------- scene lookups
def _free_joint_columns(env: RlEnv, joint: str) -> tuple[int, int]:
    """(qpos address, dof address) of the free joint ``joint``, looked up once."""

    def look_up() -> tuple[int, int]:
        (jid,) = env.index.ids("joint", joint)
        if int(env.mj_model.jnt_type[jid]) != 0:  # mjJNT_FREE
            raise ValueError(f"joint {joint!r} is not a free joint; the block's pose needs its free joint")
        return int(env.mj_model.jnt_qposadr[jid]), int(env.mj_model.jnt_dofadr[jid])

    return env.index.once(("gym_robotics_free_joint", joint), look_up)


# ---------------------------------------------------------------- action
class CtrlRangePositionAction(JointPositionAction):
    """Absolute position targets in each actuator's control range, as the package's hand envs with
    ``relative_control=False``: the action is clipped to [-1, 1] and mapped linearly onto
    ``ctrlrange``, ``ctrl = centre + action * half_range`` (rad), -1 to the low end, 1 to the high.

    Params: ``actuators`` (names or regex; None: all, in model order).
    """

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        super().__init__(cfg, env)
        ids = self.actuator_ids.cpu().numpy()
        ctrlrange = torch.as_tensor(env.mj_model.actuator_ctrlrange[ids], dtype=torch.float64)
        self.offset = ((ctrlrange[:, 1] + ctrlrange[:, 0]) / 2.0).float().to(env.device)
        self.scale = ((ctrlrange[:, 1] - ctrlrange[:, 0]) / 2.0).float().to(env.device)
        self.clip = (-1.0, 1.0)


# ---------------------------------------------------------------- goal
class BlockGoal(CommandTerm):
    """The goal pose ``[num_envs, 7]`` (``[x, y, z, qw, qx, qy, qz]``, m, world frame), drawn at each
    reset as the package's ``_sample_goal`` with ``target_position="ignore"`` and
    ``target_rotation="xyz"``: the position is the block's after the reset (ignored by success and
    reward), the orientation a rotation by an angle uniform in [-pi, pi] about an axis uniform in
    the cube [-1, 1]^3, normalized. The package never draws a new goal within an episode, reaching
    it included: give this term a ``resampling_time_range_s`` beyond the episode.

    Params: ``object_joint`` (the block's free joint).
    """

    components = ("x", "y", "z", "qw", "qx", "qy", "qz")

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        self.env = env
        self.object_joint = str(cfg.params["object_joint"])
        self.command = torch.zeros(env.num_envs, 7, device=env.device)
        self.command[:, 3] = 1.0

    def resample(self, mask: torch.Tensor) -> None:
        env = self.env
        qadr, _ = _free_joint_columns(env, self.object_joint)
        angle = math.pi * (2.0 * draws.rand(env.num_envs, env.rng, env.device) - 1.0)
        axis = 2.0 * draws.rand((env.num_envs, 3), env.rng, env.device) - 1.0
        goal = torch.cat([env.sim.qpos[:, qadr : qadr + 3], quat_from_angle_axis(angle, axis)], dim=1)
        self.command.copy_(torch.where(mask[:, None], goal, self.command))

    def set(self, goal: torch.Tensor, worlds: list[int] | torch.Tensor) -> None:
        """Writes goals ``[len(worlds), 7]`` into ``worlds`` (a test copying another env's goal, a
        curriculum of goals). Not for the step: it indexes by a list."""
        self.command[torch.as_tensor(worlds, device=self.command.device)] = torch.as_tensor(
            goal, dtype=torch.float32, device=self.command.device
        )


# ---------------------------------------------------------------- reset
class SettledStartStates(EventTerm):
    """Reset event: each reset world starts from a state the package's ``_reset_sim`` reaches.

    The package's reset puts the hand at its initial pose (every joint 0, at rest), turns the block
    by an angle uniform in [-pi, pi] about an axis uniform in [-1, 1]^3 (normalized), moves it by
    normal noise of ``position_std`` m on each axis, then steps the physics ``settle_substeps``
    times (10 steps of 20) with the hand's targets at the centre of their ranges (action 0), and
    starts over with new draws if the block's centre ends below ``on_palm_height`` m (off the palm).

    The settling is physics, 10 policy steps of it, which a batched step cannot run for the few worlds
    that reset without running it for all. So when the env is built this term runs the package's
    procedure in every world at once, ``rounds`` times, and keeps the states that stay on the palm
    (``start_qpos``, ``start_qvel``: each an independent draw of the package's start distribution);
    a reset world then takes one of them, uniformly. The goal is drawn afresh at every reset
    (``BlockGoal``), so starts and goals do not repeat as pairs.

    Params: ``object_joint``, ``rounds`` (default 4), ``settle_substeps`` (200), ``position_std``
    (0.005 m), ``on_palm_height`` (0.04 m).
    """

    def __init__(self, cfg: EventTermCfg, env: RlEnv) -> None:
        p = cfg.params
        rounds = int(p.get("rounds", 4))
        if rounds < 1:
            raise ValueError(f"SettledStartStates: rounds must be at least 1, got {rounds}")
        qpos, qvel = [], []
        for _ in range(rounds):
            q, v, ok = settle_block(
                env,
                str(p["object_joint"]),
                int(p.get("settle_substeps", 200)),
                float(p.get("position_std", 0.005)),
                float(p.get("on_palm_height", 0.04)),
            )
            qpos.append(q[ok])
            qvel.append(v[ok])
        self.start_qpos = torch.cat(qpos)
        """``[num_starts, nq]`` settled start states."""
        self.start_qvel = torch.cat(qvel)
        """``[num_starts, nv]`` their velocities (the hand is still moving after the settling)."""
        if len(self.start_qpos) == 0:
            raise RuntimeError(
                f"SettledStartStates: the block fell off the palm in all {rounds * env.num_envs} settled "
                "starts; the scene does not hold the block"
            )
        env.sim.reset()

    def __call__(self, env: RlEnv, mask: torch.Tensor, **params: object) -> None:
        pick = draws.randint(0, self.start_qpos.shape[0], env.num_envs, env.rng, env.device)
        rows = mask[:, None]
        env.sim.qpos.copy_(torch.where(rows, self.start_qpos[pick], env.sim.qpos))
        env.sim.qvel.copy_(torch.where(rows, self.start_qvel[pick], env.sim.qvel))


def settle_block(
    env: RlEnv, object_joint: str, settle_substeps: int, position_std: float, on_palm_height: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The package's reset in every world at once (see ``SettledStartStates``): random block pose,
    ``settle_substeps`` physics steps with the targets at the centre of the control ranges.

    Returns:
      qpos ``[num_envs, nq]``, qvel ``[num_envs, nv]`` after the settling, and ``[num_envs]`` bool:
      the block is on the palm (centre above ``on_palm_height`` m) and the world did not diverge.
      Leaves the worlds in those states. Not for the step: it runs the physics.
    """
    sim, n = env.sim, env.num_envs
    qadr, _ = _free_joint_columns(env, object_joint)
    qpos = sim.init_qpos.expand(n, -1).clone()
    angle = math.pi * (2.0 * draws.rand(n, env.rng, env.device) - 1.0)
    axis = 2.0 * draws.rand((n, 3), env.rng, env.device) - 1.0
    quat = quat_mul(qpos[:, qadr + 3 : qadr + 7], quat_from_angle_axis(angle, axis))
    qpos[:, qadr + 3 : qadr + 7] = quat / torch.linalg.vector_norm(quat, dim=1, keepdim=True)
    qpos[:, qadr : qadr + 3] += position_std * draws.randn((n, 3), env.rng, env.device)
    sim.reset()  # zero velocities, controls and the solver's warm start
    sim.set_state(qpos=qpos, qvel=sim.init_qvel.expand(n, -1))
    ctrlrange = torch.as_tensor(env.mj_model.actuator_ctrlrange, dtype=torch.float32, device=env.device)
    sim.ctrl.copy_(ctrlrange.mean(dim=1).expand(n, -1))
    sim.step(settle_substeps)
    # The block's centre site sits at its body's origin, which is the free joint's position.
    on_palm = (sim.qpos[:, qadr + 2] > on_palm_height) & ~sim.diverged
    return sim.qpos.clone(), sim.qvel.clone(), on_palm


# ---------------------------------------------------------------- observations
def joint_qpos(env: RlEnv, joints: str) -> torch.Tensor:
    """``[num_envs, len(joints)]`` positions of the hinge joints ``joints`` (regex), rad, model order."""
    return env.sim.qpos[:, env.index.joint_qpos_ids(joints)]


def joint_qvel(env: RlEnv, joints: str) -> torch.Tensor:
    """``[num_envs, len(joints)]`` velocities of the hinge joints ``joints`` (regex), rad/s."""
    return env.sim.qvel[:, env.index.joint_dof_ids(joints)]


def free_joint_qpos(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs, 7]`` the free joint's qpos: position (m, world) and orientation (w, x, y, z)."""
    qadr, _ = _free_joint_columns(env, joint)
    return env.sim.qpos[:, qadr : qadr + 7]


def free_joint_qvel(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs, 6]`` the free joint's qvel: linear velocity (m/s, world frame), then angular
    velocity (rad/s, body frame), MuJoCo's order."""
    _, dadr = _free_joint_columns(env, joint)
    return env.sim.qvel[:, dadr : dadr + 6]


def goal_pose(env: RlEnv, command: str) -> torch.Tensor:
    """``[num_envs, 7]`` the goal pose of the command ``command`` (the package's ``desired_goal``)."""
    return env.command(command)


# ---------------------------------------------------------------- success and rewards
def goal_rotation_distance(env: RlEnv, command: str, object_joint: str) -> torch.Tensor:
    """``[num_envs]`` angle between the block's orientation and the goal's, rad (``rotation_distance``)."""
    return rotation_distance(free_joint_qpos(env, object_joint)[:, 3:], env.command(command)[:, 3:])


def is_success(env: RlEnv, command: str, object_joint: str, rotation_threshold: float) -> torch.Tensor:
    """``[num_envs]`` bool: the package's ``_is_success`` with the position ignored: the block is
    within ``rotation_threshold`` rad of the goal orientation."""
    return goal_rotation_distance(env, command, object_joint) < rotation_threshold


def sparse_goal_reward(
    env: RlEnv, command: str, object_joint: str, rotation_threshold: float
) -> torch.Tensor:
    """``[num_envs]`` the package's sparse reward: 0 at the goal, -1 elsewhere (``success - 1``)."""
    return is_success(env, command, object_joint, rotation_threshold).float() - 1.0


def success_at_time_out(
    env: RlEnv, command: str, object_joint: str, rotation_threshold: float
) -> torch.Tensor:
    """``[num_envs]`` bool: the episode times out now with the block at the goal.

    A termination term with ``time_out=True`` that fires only together with the time-out, so it
    ends nothing early: the episode statistics log the share of episodes that end at the goal
    (``Episode_Termination/<name>``), the package's ``is_success`` of an episode's last step.
    """
    timed_out = env.episode_length_buf >= env.max_episode_length
    return timed_out & is_success(env, command, object_joint, rotation_threshold)
