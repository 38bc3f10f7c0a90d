"""Terms of Gymnasium-Robotics' Fetch tasks (``FetchPickAndPlace-v4``), as the package computes them
(``gymnasium_robotics/envs/fetch/fetch_env.py``, ``pick_and_place.py``, ``utils/mujoco_utils.py``).

Positions are m in the world frame; quaternions are MuJoCo's (w, x, y, z). The goal is the block's
target position ``[x, y, z]``, the package's ``desired_goal``.

Kinematics between steps. After a physics step MuJoCo's poses and ``cdof`` describe the state at
the start of the last substep (``warplab.envs.reset_forward``); the package reads them there, and so
do these observation, reward and success terms. The action term reads the gripper's pose after the
env's forward pass, which warplab runs for every world after the resets of each step, and takes it
back one timestep to the pose the package reads (``MocapDeltaAction``); without that, 50 steps
drift apart by up to 7 mm (``docs/tasks/manipulation.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mujoco
import numpy as np
import torch
import warp as wp

from warplab.envs import draws
from warplab.envs.managers.protocols import ActionTerm, CommandTerm, EventTerm
from warplab.envs.mdp.math import quat_from_rotvec, quat_mul

if TYPE_CHECKING:
    from warplab.envs.config import ActionTermCfg, CommandTermCfg, EventTermCfg
    from warplab.envs.rl_env import RlEnv


# ---------------------------------------------------------------- the package's start state
@dataclass(frozen=True)
class FetchStart:
    """The state the package's ``_env_setup`` leaves the scene in, which every reset restores."""

    qpos: np.ndarray
    """``[nq]`` joint positions after the setup's settling."""
    qvel: np.ndarray
    """``[nv]`` joint velocities then (the arm is still moving a little)."""
    grip_pos: np.ndarray
    """``[3]`` the ``robot0:grip`` site then, m: the centre of object placement and goal draws."""
    object_height: float
    """The ``object0`` site's height then, m: the block resting on the table, the goals' floor."""


def fetch_start(
    env: RlEnv,
    initial_qpos: dict[str, list[float]],
    gripper_extra_height: float,
    settle_steps: int,
    substeps: int,
) -> FetchStart:
    """The package's ``_env_setup`` on MuJoCo's C engine, once per env (cached): joints set from
    ``initial_qpos`` (name to value(s)), the mocap moved ``(-0.498, 0.005, -0.431 +
    gripper_extra_height)`` m from the grip site with orientation (1, 0, 1, 0), then ``settle_steps``
    steps of ``substeps`` physics steps. It is deterministic: every episode starts from this state
    (the block then placed anew), as in the package, so it is computed where the package computes it
    rather than batched on the device."""

    def compute() -> FetchStart:
        m = env.mj_model
        d = mujoco.MjData(m)
        for name, value in initial_qpos.items():
            jid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)
            if jid < 0:
                raise ValueError(f"fetch start: joint {name!r} of initial_qpos is not in the model")
            adr = m.jnt_qposadr[jid]
            values = np.atleast_1d(np.asarray(value, dtype=np.float64))
            d.qpos[adr : adr + len(values)] = values
        mujoco.mj_forward(m, d)
        grip = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "robot0:grip")
        obj = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, "object0")
        mocap = m.body_mocapid[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "robot0:mocap")]
        d.mocap_pos[mocap] = np.array([-0.498, 0.005, -0.431 + gripper_extra_height]) + d.site_xpos[grip]
        d.mocap_quat[mocap] = [1.0, 0.0, 1.0, 0.0]
        for _ in range(settle_steps):
            mujoco.mj_step(m, d, nstep=substeps)
        return FetchStart(
            qpos=d.qpos.copy(),
            qvel=d.qvel.copy(),
            grip_pos=d.site_xpos[grip].copy(),
            object_height=float(d.site_xpos[obj][2]),
        )

    key = ("fetch_start", tuple(initial_qpos), gripper_extra_height, settle_steps, substeps)
    return env.index.once(key, compute)


# ---------------------------------------------------------------- action
class MocapDeltaAction(ActionTerm):
    """The package's Fetch action ``[dx, dy, dz, gripper]`` in [-1, 1] (clipped):

    - the mocap body ``mocap`` is put at the pose of the body welded to it (``body``) plus
      ``scale * (dx, dy, dz)`` m (``scale`` 0.05: at most 5 cm per step), its orientation that
      body's quaternion plus ``rotation`` (1, 0, 1, 0), normalized (MuJoCo's C engine normalizes
      a mocap quaternion when it reads it, MuJoCo Warp 4.0 does not, so the term writes it
      normalized); the weld then pulls the gripper there;
    - the package reads that body's pose where MuJoCo left it after the last step: computed at the
      start of the last physics substep, one timestep (2 ms) before the pose the step ended in.
      warplab runs a forward pass after every step, so the term takes the pose back one timestep
      along the body's velocity (``lag_s``, s; 0: the current pose), exact to first order (the
      Euler step moved the joints by ``timestep * qvel``): 50 steps then agree with the package's
      to 1e-4. After a reset the package reads the current pose; the gripper moves at under
      1e-3 m/s in the start state, so the lag moves it by 1e-6 m there;
    - each finger's position servo (every actuator ``fingers`` names) gets the target ``qpos`` of its
      joint plus ``gripper`` m (``ctrl_set_action``), clamped to its control range (0 to 0.2 m).

    Params: ``mocap`` ("robot0:mocap"), ``body`` ("robot0:gripper_link"), ``fingers`` (actuators,
    None: all), ``scale`` (0.05 m), ``rotation`` ((1, 0, 1, 0)), ``lag_s`` (s; default the
    model's timestep).
    """

    def __init__(self, cfg: ActionTermCfg, env: RlEnv) -> None:
        p = cfg.params
        self._env = env
        m, device, n = env.mj_model, env.device, env.num_envs
        (mocap_body,) = env.index.ids("body", p.get("mocap", "robot0:mocap"))
        self.mocap_id = int(m.body_mocapid[mocap_body])
        if self.mocap_id < 0:
            raise ValueError(f"MocapDeltaAction: body {p.get('mocap', 'robot0:mocap')!r} is not a mocap body")
        (self.body_id,) = env.index.ids("body", p.get("body", "robot0:gripper_link"))
        ids = env.index.ids("actuator", p.get("fingers"))
        self.actuator_ids = torch.as_tensor(ids, dtype=torch.long, device=device)
        self.finger_qpos_ids = torch.as_tensor(
            m.jnt_qposadr[m.actuator_trnid[ids, 0]], dtype=torch.long, device=device
        )
        ctrlrange = torch.as_tensor(m.actuator_ctrlrange[ids], dtype=torch.float32, device=device)
        limited = torch.as_tensor(m.actuator_ctrllimited[ids] > 0, device=device)
        self.ctrl_low = torch.where(limited, ctrlrange[:, 0], -torch.inf)
        self.ctrl_high = torch.where(limited, ctrlrange[:, 1], torch.inf)
        self.scale = float(p.get("scale", 0.05))
        self.rotation = torch.as_tensor(
            p.get("rotation", (1.0, 0.0, 1.0, 0.0)), dtype=torch.float32, device=device
        )
        self.lag_s = float(p.get("lag_s", m.opt.timestep))
        self.action_dim = 4
        self.clip = (-1.0, 1.0)
        self._mocap_pos = wp.to_torch(env.sim.data.mocap_pos)
        self._mocap_quat = wp.to_torch(env.sim.data.mocap_quat)
        self.mocap_pos = torch.zeros(n, 3, device=device)
        """Mocap position written at the next ``apply`` ``[N, 3]``, m, world frame."""
        self.mocap_quat = torch.zeros(n, 4, device=device)
        """Mocap orientation written at the next ``apply`` ``[N, 4]`` (unit)."""
        self.finger_targets = torch.zeros(n, len(ids), device=device)
        """Finger servo targets written at the next ``apply`` ``[N, n_fingers]``, m."""

    def action_range(self) -> tuple[float, float]:
        """The package's action space, [-1, 1]: ``process`` clamps to it."""
        return self.clip

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {
            "mocap_pos": self.mocap_pos,
            "mocap_quat": self.mocap_quat,
            "finger_targets": self.finger_targets,
        }

    def process(self, action: torch.Tensor) -> None:
        sim = self._env.sim
        action = action.clamp(self.clip[0], self.clip[1])
        pos, quat = sim.xpos[:, self.body_id], sim.xquat[:, self.body_id]
        if self.lag_s > 0.0:
            lin, ang = point_velocity(self._env, self.body_id, pos)
            pos = pos - self.lag_s * lin
            quat = quat_mul(quat_from_rotvec(-self.lag_s * ang), quat)  # ang: world frame
        self.mocap_pos.copy_(pos + self.scale * action[:, :3])
        quat = quat + self.rotation
        self.mocap_quat.copy_(quat / torch.linalg.vector_norm(quat, dim=-1, keepdim=True))
        targets = sim.qpos[:, self.finger_qpos_ids] + action[:, 3:4]
        torch.clamp(targets, self.ctrl_low, self.ctrl_high, out=self.finger_targets)

    def apply(self) -> None:
        sim = self._env.sim
        self._mocap_pos[:, self.mocap_id] = self.mocap_pos
        self._mocap_quat[:, self.mocap_id] = self.mocap_quat
        sim.ctrl[:, self.actuator_ids] = self.finger_targets


# ---------------------------------------------------------------- goal
class FetchGoal(CommandTerm):
    """The target position of the block ``[num_envs, 3]`` (m, world frame), drawn at each reset as
    the package's ``_sample_goal`` with an object: the start's grip position plus a uniform offset in
    ``[-target_range, target_range]^3`` plus ``target_offset``, its height set to the block's resting
    height, then, with ``target_in_the_air``, raised by a uniform draw in [0, ``air_height``] m with
    probability ``air_probability``. Never drawn again within an episode (give the term a
    ``resampling_time_range_s`` beyond the episode).

    Params: ``start`` (the keyword arguments of ``fetch_start``), ``target_range`` (m),
    ``target_offset`` (m, one number or three), ``target_in_the_air`` (bool), ``air_height`` (0.45 m),
    ``air_probability`` (0.5).
    """

    components = ("x", "y", "z")

    def __init__(self, cfg: CommandTermCfg, env: RlEnv) -> None:
        p = cfg.params
        self.env = env
        start = fetch_start(env, **p["start"])
        self.centre = torch.as_tensor(start.grip_pos, dtype=torch.float32, device=env.device)
        self.centre = self.centre + torch.as_tensor(p.get("target_offset", 0.0), dtype=torch.float32)
        self.height = float(start.object_height)
        self.target_range = float(p["target_range"])
        self.in_the_air = bool(p.get("target_in_the_air", True))
        self.air_height = float(p.get("air_height", 0.45))
        self.air_probability = float(p.get("air_probability", 0.5))
        self.command = self.centre.expand(env.num_envs, 3).clone()

    def resample(self, mask: torch.Tensor) -> None:
        env, n = self.env, self.env.num_envs
        offset = self.target_range * (2.0 * draws.rand((n, 3), env.rng, env.device) - 1.0)
        goal = self.centre + offset
        z = torch.full((n,), self.height, device=env.device)
        if self.in_the_air:
            up = draws.rand(n, env.rng, env.device) < self.air_probability
            z = z + torch.where(up, self.air_height * draws.rand(n, env.rng, env.device), 0.0)
        goal[:, 2] = z
        self.command.copy_(torch.where(mask[:, None], goal, self.command))

    def set(self, goal: torch.Tensor, worlds: list[int] | torch.Tensor) -> None:
        """Writes goals ``[len(worlds), 3]`` into ``worlds`` (a test copying another env's goal). Not
        for the step: it indexes by a list."""
        self.command[torch.as_tensor(worlds, device=self.command.device)] = torch.as_tensor(
            goal, dtype=torch.float32, device=self.command.device
        )


# ---------------------------------------------------------------- reset
class FetchStartStates(EventTerm):
    """Reset event: the package's ``_reset_sim``: the start state of ``fetch_start`` (joints and
    velocities), then the block's (x, y) moved to the start's grip position plus a uniform offset in
    ``[-obj_range, obj_range]^2``, drawn again while it lies within ``min_distance`` m of the grip.

    The package draws until a draw lands outside the circle (each misses with probability
    pi 0.1^2 / 0.3^2 = 0.35); a step cannot loop on the device without reading back a flag, so each
    world draws ``candidates`` offsets at once and takes the first outside the circle: all 32 miss
    with probability 0.35^32 < 1e-14, and then the last is taken.

    Params: ``start`` (``fetch_start``'s keyword arguments), ``object_joint``, ``obj_range`` (m),
    ``min_distance`` (0.1 m), ``candidates`` (32).
    """

    def __init__(self, cfg: EventTermCfg, env: RlEnv) -> None:
        p = cfg.params
        start = fetch_start(env, **p["start"])
        device = env.device
        self.start_qpos = torch.as_tensor(start.qpos, dtype=torch.float32, device=device)
        """``[nq]`` the start state's joint positions."""
        self.start_qvel = torch.as_tensor(start.qvel, dtype=torch.float32, device=device)
        """``[nv]`` its joint velocities."""
        self.grip_xy = torch.as_tensor(start.grip_pos[:2], dtype=torch.float32, device=device)
        (jid,) = env.index.ids("joint", p.get("object_joint", "object0:joint"))
        if int(env.mj_model.jnt_type[jid]) != int(mujoco.mjtJoint.mjJNT_FREE):
            raise ValueError(f"FetchStartStates: {p.get('object_joint')!r} is not a free joint")
        self.object_qadr = int(env.mj_model.jnt_qposadr[jid])
        self.obj_range = float(p["obj_range"])
        self.min_distance = float(p.get("min_distance", 0.1))
        self.candidates = int(p.get("candidates", 32))

    def draw_object_xy(self, env: RlEnv) -> torch.Tensor:
        """``[num_envs, 2]`` block positions (m, world frame), one draw of the package's loop each."""
        n, k = env.num_envs, self.candidates
        offsets = self.obj_range * (2.0 * draws.rand((n, k, 2), env.rng, env.device) - 1.0)
        outside = torch.linalg.vector_norm(offsets, dim=-1) >= self.min_distance
        outside[:, -1].fill_(True)  # the fallback of the docstring (fill_: no number copied from the host)
        first = torch.argmax(outside.to(torch.int8), dim=1)
        return self.grip_xy + offsets[torch.arange(n, device=env.device), first]

    def __call__(self, env: RlEnv, mask: torch.Tensor, **params: object) -> None:
        qpos = self.start_qpos.expand(env.num_envs, -1).clone()
        qpos[:, self.object_qadr : self.object_qadr + 2] = self.draw_object_xy(env)
        rows = mask[:, None]
        env.sim.qpos.copy_(torch.where(rows, qpos, env.sim.qpos))
        env.sim.qvel.copy_(torch.where(rows, self.start_qvel, env.sim.qvel))


# ---------------------------------------------------------------- observations
def site_pos(env: RlEnv, site: str) -> torch.Tensor:
    """``[num_envs, 3]`` the site's position, m, world frame (``get_site_xpos``)."""
    (sid,) = env.index.ids("site", site)
    return env.sim.site_xpos[:, sid]


def site_rel_pos(env: RlEnv, site: str, origin: str) -> torch.Tensor:
    """``[num_envs, 3]`` position of ``site`` minus that of ``origin``, m, world frame."""
    return site_pos(env, site) - site_pos(env, origin)


def mat2euler(mat: torch.Tensor) -> torch.Tensor:
    """``[..., 3]`` the package's Euler angles (``utils/rotations.mat2euler``), rad, of rotation
    matrices ``[..., 3, 3]``; a singular pose (``cy`` at most 4 float64 epsilons) as it handles it."""
    cy = torch.sqrt(mat[..., 2, 2] ** 2 + mat[..., 1, 2] ** 2)
    regular = cy > 4.0 * float(np.finfo(np.float64).eps)
    z = torch.where(
        regular,
        -torch.atan2(mat[..., 0, 1], mat[..., 0, 0]),
        -torch.atan2(-mat[..., 1, 0], mat[..., 1, 1]),
    )
    y = -torch.atan2(-mat[..., 0, 2], cy)
    x = torch.where(regular, -torch.atan2(mat[..., 1, 2], mat[..., 2, 2]), torch.zeros_like(cy))
    return torch.stack([x, y, z], dim=-1)


def site_euler(env: RlEnv, site: str) -> torch.Tensor:
    """``[num_envs, 3]`` the site's orientation as the package's Euler angles (``mat2euler``), rad."""
    (sid,) = env.index.ids("site", site)
    return mat2euler(env.sim.site_xmat[:, sid])


def _dof_chain(env: RlEnv, body: int) -> tuple[int, torch.Tensor]:
    """(root body of ``body``, ``[nv]`` float mask of the dofs that move it), looked up once."""

    def look_up() -> tuple[int, torch.Tensor]:
        m = env.mj_model
        chain, b = set(), body
        while b > 0:
            chain.add(b)
            b = int(m.body_parentid[b])
        mask = torch.tensor([float(int(d) in chain) for d in m.dof_bodyid], device=env.device)
        return int(m.body_rootid[body]), mask

    return env.index.once(("fetch_dof_chain", body), look_up)


def point_velocity(env: RlEnv, body: int, point: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear ``[num_envs, 3]`` (m/s) and angular ``[num_envs, 3]`` (rad/s) velocity, world frame,
    of ``point [num_envs, 3]`` (m, world frame) moving with body ``body`` (an id), as MuJoCo's
    Jacobian at that point times ``qvel`` (``mj_jac``): ``sum_d cdof_d qvel_d`` over the dofs that
    move the body, the linear part moved from the root's subtree centre of mass to the point
    (``lin + ang x (point - com)``). It reads the last kinematics (``cdof``, ``subtree_com``)."""
    root, mask = _dof_chain(env, body)
    # [N, nv, 6]: rotation, then translation. The torch view is made once (keyed by the array, which
    # lives as long as the data): making it at every call costs a host round trip.
    array = env.sim.data.cdof
    cdof = env.index.once(("cdof_view", id(array)), lambda: wp.to_torch(array))
    weighted = cdof * (env.sim.qvel * mask).unsqueeze(-1)
    ang = weighted[:, :, :3].sum(dim=1)
    lin = weighted[:, :, 3:].sum(dim=1)
    return lin + torch.linalg.cross(ang, point - env.sim.subtree_com[:, root]), ang


def site_velocity(env: RlEnv, site: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The site's linear ``[num_envs, 3]`` (m/s) and angular ``[num_envs, 3]`` (rad/s) velocity,
    world frame (``get_site_xvelp``, ``get_site_xvelr``: the site Jacobian times ``qvel``)."""
    (sid,) = env.index.ids("site", site)
    body = env.index.once(("fetch_site_body", site), lambda: int(env.mj_model.site_bodyid[sid]))
    return point_velocity(env, body, env.sim.site_xpos[:, sid])


def site_lin_vel_per_step(env: RlEnv, site: str, relative_to: str | None = None) -> torch.Tensor:
    """``[num_envs, 3]`` the site's linear velocity times the policy step (m per step, as the
    package scales it by ``dt``), minus that of ``relative_to`` if given."""
    vel = site_velocity(env, site)[0]
    if relative_to is not None:
        vel = vel - site_velocity(env, relative_to)[0]
    return vel * env.policy_dt


def site_ang_vel_per_step(env: RlEnv, site: str) -> torch.Tensor:
    """``[num_envs, 3]`` the site's angular velocity times the policy step, rad per step."""
    return site_velocity(env, site)[1] * env.policy_dt


def joint_qvel_per_step(env: RlEnv, joints: str) -> torch.Tensor:
    """``[num_envs, n]`` velocities of the slide/hinge ``joints`` (regex, model order) times the
    policy step, m or rad per step (the package's ``gripper_vel``)."""
    return env.sim.qvel[:, env.index.joint_dof_ids(joints)] * env.policy_dt


def goal_position(env: RlEnv, command: str) -> torch.Tensor:
    """``[num_envs, 3]`` the goal position of the command ``command`` (the package's ``desired_goal``)."""
    return env.command(command)


# ---------------------------------------------------------------- success and rewards
def goal_distance(env: RlEnv, command: str, site: str) -> torch.Tensor:
    """``[num_envs]`` distance from the site (the block's centre) to the goal, m."""
    return torch.linalg.vector_norm(site_pos(env, site) - env.command(command), dim=-1)


def is_success(env: RlEnv, command: str, site: str, distance_threshold: float) -> torch.Tensor:
    """``[num_envs]`` bool: the package's ``_is_success``, the block within ``distance_threshold`` m."""
    return goal_distance(env, command, site) < distance_threshold


def sparse_goal_reward(env: RlEnv, command: str, site: str, distance_threshold: float) -> torch.Tensor:
    """``[num_envs]`` the package's sparse reward ``-(d > distance_threshold)``: 0 at the goal, else -1."""
    return -(goal_distance(env, command, site) > distance_threshold).float()


def success_at_time_out(env: RlEnv, command: str, site: str, distance_threshold: float) -> torch.Tensor:
    """``[num_envs]`` bool: the episode times out now with the block at the goal; a termination with
    ``time_out=True`` that ends nothing early and logs the share of episodes ending at the goal."""
    timed_out = env.episode_length_buf >= env.max_episode_length
    return timed_out & is_success(env, command, site, distance_threshold)
