"""What the handle tasks of the project's arm share (``arm-open-drawer``, ``arm-open-door``): a cabinet
on a stand in front of the arm, an articulated part (a drawer on a slide, a door on a hinge) with a
knob, and Isaac Lab's Franka cabinet contract (``isaaclab_tasks/manager_based/manipulation/cabinet/
cabinet_env_cfg.py``) written for this arm.

``make_handle_task_env_cfg`` builds a task from a ``HandleTaskSpec``, which holds only what differs
between the tasks: the scene, the joint, the command and its range, the names of the opening terms,
the critic's privileged view of the joint and the joint's randomization. The rest is here:

- actions: ``arm-lift``'s, joint position targets ``home + 0.5 * action`` rad for the seven arm
  joints and one binary gripper action (below 0 closes, else opens);
- commands: a target opening drawn at each reset (``tasks.handle_mdp.TargetOpeningCommand``);
- rewards, scaled by the policy step: approach ``1 - tanh(d / 0.1)`` x 2, grasp (fingers around the
  knob, gripper closed) x 2, opening ``grasped * min(q / target, 1)`` x 10, past the target x 10,
  action rate x -1e-2, joint velocity x -1e-4 (Isaac Lab's penalty weights);
- terminations: the 8 s time-out, and success (the joint at or past its target for
  ``SUCCESS_HOLD_STEPS`` policy steps), a truncation so that the learner bootstraps and the rate is
  logged as ``Episode_Termination/success``;
- observations: joint positions and velocities relative to home, the tool-centre-point-to-knob vector
  in the base frame, the joint's opening and velocity, the target, the last action; the critic adds
  the task's privileged terms;
- events: the knob's size and place (startup), the task's joint terms, the cabinet's position on its
  stand (every reset), the arm's joints around home (every reset).

The knob is grasped from above at home's wrist angle, the gripper's housing in front of the part's
face: the props' bar handles would need the wrist turned a quarter turn, over the cabinet's top.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import mujoco

from warplab.assets.robots.arm import (
    ARM_JOINT_NAMES,
    ARM_ROBOT_CFG,
    EE_SITE,
    FINGERTIP_SITES,
    GRIPPER_JOINT,
    GRIPPER_STROKE,
    TIMESTEP,
)
from warplab.assets.scene import ObjectCfg, Scene
from warplab.envs import mdp
from warplab.envs.config import (
    CommandTermCfg,
    EventTermCfg,
    NoiseCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.sim.simulation import SimCfg
from warplab.tasks import handle_mdp
from warplab.tasks.arm_common import arm_actions_cfg

Range = tuple[float, float]

BASE = "link0"
"""The arm's base body (on the floor at the world's origin): the frame of the observations."""
KNOB_RADIUS = 0.02
KNOB_OFFSET = 0.05
"""The knob's centre out from the part's face, m: the gripper's 6 cm deep housing passes in front of
the face while the fingers close on the knob."""
HANDLE_POS = (0.55, 0.0, 0.40)
"""The knob's grasp point with the part closed, world (= base) frame, m: 0.25 m in front of the tool
centre point's home position and 9 cm below it, so the arm reaches it and, pulling towards itself,
keeps it in reach as the part opens."""
CABINET_QUAT = (0.0, 0.0, 0.0, 1.0)
"""The cabinet faces the arm: turned half a turn about z, its front towards -x."""
SUCCESS_HOLD_STEPS = 10
"""Policy steps in a row at or past the target that count as success (0.2 s)."""
GRASP_DISTANCE_M = 0.03
"""The fingers are around the knob when the tool centre point is within this of its centre, m."""
GRASP_MAX_OPENING_M = 0.9 * GRIPPER_STROKE
"""... and each finger is closed to less than this, m (open: ``GRIPPER_STROKE``)."""
DECIMATION = 4
"""Four 5 ms physics steps per policy step: a 50 Hz policy."""
EPISODE_LENGTH_S = 8.0
"""Isaac Lab's cabinet episode is 8 s."""
JOINT_RESET_NOISE_RAD = 0.05
"""Reset: each arm joint at home plus a uniform offset within this, rad."""


@dataclasses.dataclass(frozen=True)
class OpeningObservation:
    """An observation of the part's joint: its name in the groups and its noise and scale."""

    name: str
    noise: float
    """Half-width of the policy's uniform noise, in the joint's unit (before ``scale``)."""
    scale: float = 1.0


@dataclasses.dataclass(frozen=True)
class HandleTaskSpec:
    """What one handle task sets; ``make_handle_task_env_cfg`` supplies the rest."""

    scene: Callable[[], mujoco.MjSpec]
    """Builds the arm and the cabinet (``handle_scene``), the closed part's knob at ``HANDLE_POS``."""
    cabinet_body: str
    """The cabinet's body, welded to the world: the one whose position is jittered."""
    joint: str
    """The part's one hinge or slide joint."""
    handle: str
    """The knob's site (its grasp point) and geom, which share this name."""
    command_name: str
    command: type[handle_mdp.TargetOpeningCommand]
    """The target's class; its ``range_param`` names the range in the command's params."""
    command_range: Range
    """The target's range, in the joint's unit (m, rad)."""
    opening_pos: OpeningObservation
    opening_vel: OpeningObservation
    critic_terms: dict[str, ObservationTermCfg]
    """The critic's privileged terms, after the policy's."""
    open_reward: str
    """The name of the reward for the opening while grasped."""
    past_target_reward: str
    """The name of the reward for the joint at or past its target."""
    joint_events: dict[str, EventTermCfg]
    """The joint's randomization, run after the knob's and before the cabinet's."""
    nconmax: int
    njmax: int


def handle_scene(
    cabinet: Callable[[mujoco.MjSpec], object],
    cabinet_pos: tuple[float, float, float],
    cabinet_size: tuple[float, float, float],
    model_name: str,
) -> mujoco.MjSpec:
    """The arm on the floor at the origin, facing +x, and a cabinet prop on a stand in front of it.

    Args:
      cabinet: adds the cabinet prop to the scene's spec (``Scene(props=...)``).
      cabinet_pos: the cabinet's footprint origin, world frame, m; the stand fills the space under it.
      cabinet_size: the cabinet's outside (width, depth, height), m.
      model_name: the compiled model's name.
    """
    width, depth, _ = cabinet_size
    stand_half_height = cabinet_pos[2] / 2
    stand = ObjectCfg(
        "stand",
        "box",
        size=(depth / 2 - 0.02, width / 2 - 0.02, stand_half_height),
        pos=(cabinet_pos[0], cabinet_pos[1], stand_half_height),
        fixed=True,
        friction=1.0,
        rgba=(0.4, 0.4, 0.42, 1.0),
    )
    spec = Scene(robot=ARM_ROBOT_CFG, terrain="flat", objects=(stand,), props=(cabinet,)).build()
    spec.modelname = model_name
    return spec


def make_handle_task_env_cfg(
    task: HandleTaskSpec,
    play: bool,
    knob_size: Range | None,
    knob_pos: Range | None,
    cabinet_pos: Range | None,
    observation_noise: float | None,
) -> RlEnvCfg:
    """A handle task for the project's arm.

    Args:
      task: what the task sets (its scene, joint, command, names, joint randomization).
      play: no observation noise (videos, evaluation); the model randomization stays.
      knob_size: factors on the knob's radius, at startup (None: off).
      knob_pos: offsets of the knob (and its grasp site) along the part's face's y and z, m, at startup.
      cabinet_pos: offsets of the cabinet along the world's x and y, m, at every reset.
      observation_noise: multiplies the policy's observation noise (None: none); never in play mode.
    """
    arm = list(ARM_JOINT_NAMES)
    joints = [*arm, GRIPPER_JOINT]
    joint, handle, target = task.joint, task.handle, task.command_name
    noise_factor = 0.0 if play else (observation_noise or 0.0)

    def noise(scale: float) -> NoiseCfg | None:
        return NoiseCfg("uniform", scale * noise_factor) if noise_factor > 0 else None

    def measured(noisy: bool) -> dict[str, ObservationTermCfg]:
        n = noise if noisy else (lambda scale: None)
        pos, vel = task.opening_pos, task.opening_vel
        return {
            "joint_pos": ObservationTermCfg(func=mdp.joint_pos_rel, params={"joints": joints}, noise=n(0.01)),
            "joint_vel": ObservationTermCfg(
                func=mdp.joint_vel, params={"joints": joints}, noise=n(0.5), scale=0.1
            ),
            "ee_to_handle": ObservationTermCfg(
                func=handle_mdp.site_offset_in_frame,
                params={"from_site": EE_SITE, "to_site": handle, "frame_body": BASE},
                noise=n(0.005),
            ),
            pos.name: ObservationTermCfg(
                func=mdp.object_joint_pos, params={"joints": joint}, noise=n(pos.noise), scale=pos.scale
            ),
            vel.name: ObservationTermCfg(
                func=mdp.object_joint_vel, params={"joints": joint}, noise=n(vel.noise), scale=vel.scale
            ),
            target: ObservationTermCfg(func=mdp.generated_commands, params={"command_name": target}),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }

    critic = {**measured(False), **task.critic_terms}

    grasp = {
        "ee_site": EE_SITE,
        "handle_site": handle,
        "fingertip_sites": FINGERTIP_SITES,
        "frame_body": BASE,
        "max_distance": GRASP_DISTANCE_M,
        "max_opening": GRASP_MAX_OPENING_M,
        "gripper_joint": GRIPPER_JOINT,
    }
    rewards = {
        "approach_handle": RewardTermCfg(
            func=handle_mdp.handle_distance_tanh,
            weight=2.0,
            params={"ee_site": EE_SITE, "handle_site": handle, "std": 0.1},
        ),
        # The fingertips straddle the knob along the base's y: a door's wrist turned with the door keeps
        # them on either side of it up to a quarter turn, past the largest target.
        "grasp_handle": RewardTermCfg(func=handle_mdp.handle_grasped, weight=2.0, params=grasp),
        task.open_reward: RewardTermCfg(
            func=handle_mdp.open_progress,
            weight=10.0,
            params={"joint": joint, "command_name": target, **grasp},
        ),
        task.past_target_reward: RewardTermCfg(
            func=handle_mdp.opened_past_target, weight=10.0, params={"joint": joint, "command_name": target}
        ),
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-1e-2),
        "joint_vel": RewardTermCfg(func=mdp.joint_vel_l2, weight=-1e-4, params={"joints": arm}),
    }
    terminations = {
        "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
        "success": TerminationTermCfg(
            func=handle_mdp.opened_and_held,
            params={"command_name": target, "hold_steps": SUCCESS_HOLD_STEPS},
            time_out=True,
        ),
    }

    # The order of the events is the order of their random draws: the knob's, the joint's, the
    # cabinet's, the arm's.
    events: dict[str, EventTermCfg] = {}
    if knob_size is not None:
        events["knob_size"] = EventTermCfg(
            func=mdp.randomize_geom_size, mode="startup", params={"ranges": knob_size, "geoms": handle}
        )
    if knob_pos is not None:
        # The part's frame: y along its face's width, z up.
        events["knob_pos"] = EventTermCfg(
            func=mdp.randomize_geom_pos,
            mode="startup",
            params={"ranges": {"y": knob_pos, "z": knob_pos}, "geoms": handle, "sites": handle},
        )
    events.update(task.joint_events)
    if cabinet_pos is not None:
        # It moves the cabinet's body_pos; the env's reset then places the cabinet's geoms, welded to
        # the world, from it (Simulation.update_static_poses).
        events["cabinet_pos"] = EventTermCfg(
            func=handle_mdp.jitter_fixed_body_pos,
            mode="reset",
            params={"body": task.cabinet_body, "x": cabinet_pos, "y": cabinet_pos},
        )
    events["reset_arm"] = EventTermCfg(
        func=mdp.reset_joints_by_offset,
        mode="reset",
        params={"position_range": (-JOINT_RESET_NOISE_RAD, JOINT_RESET_NOISE_RAD), "joints": arm},
    )

    return RlEnvCfg(
        scene=task.scene,
        init_keyframe="home",
        timestep=TIMESTEP,
        decimation=DECIMATION,
        episode_length_s=EPISODE_LENGTH_S,
        scale_rewards_by_dt=True,
        observations={
            "policy": ObservationGroupCfg(terms=measured(not play), enable_corruption=not play),
            "critic": ObservationGroupCfg(terms=critic),
        },
        actions=arm_actions_cfg(),
        commands={
            # Drawn at each reset; the timer is the episode's length, so one target an episode.
            target: CommandTermCfg(
                func=task.command,
                params={task.command.range_param: task.command_range, "joint": joint},
                resampling_time_range_s=(EPISODE_LENGTH_S, EPISODE_LENGTH_S),
            )
        },
        rewards=rewards,
        terminations=terminations,
        events=events,
        sim=SimCfg(nconmax=task.nconmax, njmax=task.njmax),
        viewer=ViewerCfg(track_body=BASE, distance=1.8, elevation=-25.0, azimuth=150.0),
        # The approach reward and the observations read sites that a forward pass derives from qpos
        # (and from the cabinet's jittered body_pos): a reset world's first observation needs them.
        reset_forward="positions_velocities",
    )
