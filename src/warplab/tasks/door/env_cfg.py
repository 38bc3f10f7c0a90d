"""``arm-open-door``: the project's arm grasps the knob of a cabinet's door in front of it and swings
the door open past a target angle.

The contract is Isaac Lab's Franka cabinet task (``isaaclab_tasks/manager_based/manipulation/cabinet/
cabinet_env_cfg.py``), as ``arm-open-drawer`` writes it for this arm, with a hinge for the slide:

- actions: ``arm-lift``'s, joint position targets ``home + 0.5 * action`` rad for the seven arm joints
  and one binary gripper action (below 0 closes, else opens);
- commands: a target angle uniform in ``TARGET_ANGLE`` rad, drawn at each reset;
- rewards, scaled by the policy step: approach ``1 - tanh(d / 0.1)`` x 2, grasp (fingers around the
  knob, gripper closed) x 2, opening ``grasped * min(angle / target, 1)`` x 10, past the target x 10,
  action rate x -1e-2, joint velocity x -1e-4 (Isaac Lab's penalty weights);
- terminations: the 8 s time-out, and success (the door at or past its target for
  ``SUCCESS_HOLD_STEPS`` policy steps), a truncation, logged as ``Episode_Termination/success``;
- observations: joint positions and velocities relative to home, the tool-centre-point-to-knob vector
  in the base frame, the door's angle and angular velocity, the target angle, the last action; the
  critic adds the hinge's damping, friction, spring stiffness and spring rest angle.

Which way the door swings. The cabinet-door prop hinges its door on the prop's -y edge and swings it
out of its front. The cabinet is turned half a turn to face the arm, so the hinge stands on the arm's
left (world +y) and the knob, near the free edge, straight in front of the arm's base (world y = 0).
Opening turns the door about the world's -z: the knob moves on a circle of about 0.34 m radius
towards the arm and to its left, so pulling it towards the base opens the door, and over the targets'
range it stays within the arm's reach (0.7 rad brings it from 0.55 m to about 0.34 m in front of the
base, 0.11 m to the left). The knob is grasped from above at home's wrist angle, the fingers closing
along the door's face with the stem between them and the gripper's housing in front of the face; a
wrist that turns with the door keeps that grasp as it swings. A knob rather than the prop's bar:
a vertical bar would need the fingers horizontal, the wrist turned a quarter turn over the cabinet.

Per world: the hinge's damping, friction loss, spring stiffness and spring rest angle, the knob's size
and place on the door, the cabinet's position on its stand (``DoorRandomizationCfg``).
"""

from __future__ import annotations

import dataclasses
import functools

import mujoco

from warplab.assets.props import add_cabinet_door
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
from warplab.tasks.arm_common import arm_actions_cfg
from warplab.tasks.door import mdp as door_mdp
from warplab.tasks.drawer import mdp as drawer_mdp

Range = tuple[float, float]

CABINET = "cabinet"
"""The prop's name: body ``cabinet`` (fixed), body ``cabinet_panel`` (the door), joint
``cabinet_hinge``, sites ``cabinet_handle`` (the knob's centre) and ``cabinet_joint`` (on the hinge's
axis, at the cabinet's underside)."""
HINGE = f"{CABINET}_hinge"
HANDLE_SITE = f"{CABINET}_handle"
HANDLE_GEOM = f"{CABINET}_handle"
HINGE_SITE = f"{CABINET}_joint"
TARGET = "target_angle"
"""The command's name."""
BASE = "link0"
"""The arm's base body (on the floor at the world's origin): the frame of the observations."""
CABINET_WIDTH, CABINET_DEPTH, CABINET_HEIGHT = 0.40, 0.30, 0.24
"""The cabinet's outside, m; the door is as wide and as tall."""
DOOR_THICKNESS = 0.018
DOOR_MASS = 1.5
"""The door with its knob, kg."""
HINGE_CLEARANCE = 0.003
"""The prop's gap between the door and the cabinet, m."""
OPEN_ANGLE = 1.5
"""The hinge's range, rad: [0, 1.5]."""
KNOB_RADIUS = 0.02
KNOB_OFFSET = 0.05
"""The knob's centre out from the door's face, m: the gripper's 6 cm deep housing passes in front of
the face while the fingers close on the knob."""
KNOB_INSET = 0.06
"""The knob's centre in from the door's free edge, m (the prop's ``max(0.06, 2 * radius + 0.02)``)."""
HANDLE_POS = (0.55, 0.0, 0.40)
"""The knob's grasp point with the door closed, world (= base) frame, m: 0.25 m in front of the tool
centre point's home position and 9 cm below it, as ``arm-open-drawer``'s knob."""
# The cabinet faces the arm (half a turn about z, its front towards -x). In the prop's frame the knob
# is at (depth / 2 + clearance + door thickness + offset, width / 2 - inset, height / 2); turned, x
# and y change sign, so the footprint's origin sits that far behind and to the left of HANDLE_POS.
CABINET_POS = (
    HANDLE_POS[0] + CABINET_DEPTH / 2 + HINGE_CLEARANCE + DOOR_THICKNESS + KNOB_OFFSET,
    HANDLE_POS[1] + CABINET_WIDTH / 2 - KNOB_INSET,
    HANDLE_POS[2] - CABINET_HEIGHT / 2,
)
CABINET_QUAT = (0.0, 0.0, 0.0, 1.0)
HINGE_DAMPING = 1.0
"""The hinge's nominal viscous damping, N·m·s/rad."""
HINGE_FRICTIONLOSS = 0.5
"""The hinge's nominal dry friction, N·m (non-zero: a factor on zero would stay zero)."""
HINGE_STIFFNESS = 1.0
"""The hinge's nominal return spring, N·m/rad, towards ``springref`` 0 (closed)."""
TARGET_ANGLE = (0.4, 0.8)
"""The target angle's range, rad (23-46 degrees)."""
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
# Contact capacity, measured per world after each policy step (CPU, 2026-12, 16 worlds, the sizing
# lifted to 200 and 800 so nothing was cut): 150 steps of uniform random actions used at most 4
# contacts and 23 constraint rows; random actions three times as large, 24 and 82; those biased to
# swing the arm forward into the cabinet, its stand and the floor (joint2 with joint4 or joint6,
# joint2 alone), at most 24 and 97; the scripted approach-grasp-swing of
# tests/tasks/test_arm_open_door.py 6 and 25. These are 2.0 and 2.1 times that worst case, as the
# probe's own factor of 2 (SimCfg.capacity_headroom).
NCONMAX = 48
NJMAX = 200


@dataclasses.dataclass
class DoorRandomizationCfg:
    """What the task randomizes per world; None turns a term off. Ranges are factors on the nominal
    value unless said otherwise."""

    damping: Range | None = (0.5, 2.0)
    """The hinge's viscous damping, at every reset."""
    frictionloss: Range | None = (0.5, 2.0)
    """The hinge's dry friction, at every reset."""
    stiffness: Range | None = (0.5, 2.0)
    """The hinge's return spring, at every reset."""
    springref: Range | None = (-0.1, 0.1)
    """Offset of the spring's rest angle from closed, rad, at every reset: a door that the spring
    presses shut, or that rests a little open where the friction holds it."""
    knob_size: Range | None = (0.8, 1.2)
    """The knob's radius, at startup (its collision bounds follow through ``set_const``)."""
    knob_pos: Range | None = (-0.01, 0.01)
    """Offsets of the knob (and its grasp site) along the door's width and height, m, at startup."""
    cabinet_pos: Range | None = (-0.03, 0.03)
    """Offsets of the cabinet along the world's x and y, m, at every reset."""
    observation_noise: float | None = 1.0
    """Multiplies the policy's observation noise (None: none); never in play mode."""

    @classmethod
    def off(cls) -> DoorRandomizationCfg:
        """No randomization: the nominal door in every world, exact observations."""
        return cls(None, None, None, None, None, None, None, None)


def door_scene() -> mujoco.MjSpec:
    """The arm on the floor at the origin, facing +x, and the cabinet on a stand in front of it, its
    door towards the arm, hinged on the arm's left, the closed door's knob at ``HANDLE_POS``."""
    stand_half_height = CABINET_POS[2] / 2
    stand = ObjectCfg(
        "stand",
        "box",
        size=(CABINET_DEPTH / 2 - 0.02, CABINET_WIDTH / 2 - 0.02, stand_half_height),
        pos=(CABINET_POS[0], CABINET_POS[1], stand_half_height),
        fixed=True,
        friction=1.0,
        rgba=(0.4, 0.4, 0.42, 1.0),
    )
    cabinet = functools.partial(
        add_cabinet_door,
        pos=CABINET_POS,
        quat=CABINET_QUAT,
        name=CABINET,
        width=CABINET_WIDTH,
        depth=CABINET_DEPTH,
        height=CABINET_HEIGHT,
        shelves=0,
        door_thickness=DOOR_THICKNESS,
        door_mass=DOOR_MASS,
        open_angle=OPEN_ANGLE,
        stiffness=HINGE_STIFFNESS,
        damping=HINGE_DAMPING,
        frictionloss=HINGE_FRICTIONLOSS,
        handle="knob",
        handle_radius=KNOB_RADIUS,
        handle_offset=KNOB_OFFSET,
        clearance=HINGE_CLEARANCE,
    )
    spec = Scene(robot=ARM_ROBOT_CFG, terrain="flat", objects=(stand,), props=(cabinet,)).build()
    spec.modelname = "warplab_arm_open_door"
    return spec


def make_arm_open_door_env_cfg(
    play: bool = False, randomization: DoorRandomizationCfg | None = None
) -> RlEnvCfg:
    """The door-opening task for the project's arm.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``DoorRandomizationCfg()``, every term on).
    """
    dr = randomization or DoorRandomizationCfg()
    arm = list(ARM_JOINT_NAMES)
    joints = [*arm, GRIPPER_JOINT]
    noise_factor = 0.0 if play else (dr.observation_noise or 0.0)

    def noise(scale: float) -> NoiseCfg | None:
        return NoiseCfg("uniform", scale * noise_factor) if noise_factor > 0 else None

    def measured(noisy: bool) -> dict[str, ObservationTermCfg]:
        n = noise if noisy else (lambda scale: None)
        return {
            "joint_pos": ObservationTermCfg(func=mdp.joint_pos_rel, params={"joints": joints}, noise=n(0.01)),
            "joint_vel": ObservationTermCfg(
                func=mdp.joint_vel, params={"joints": joints}, noise=n(0.5), scale=0.1
            ),
            "ee_to_handle": ObservationTermCfg(
                func=drawer_mdp.site_offset_in_frame,
                params={"from_site": EE_SITE, "to_site": HANDLE_SITE, "frame_body": BASE},
                noise=n(0.005),
            ),
            "door_angle": ObservationTermCfg(
                func=mdp.object_joint_pos, params={"joints": HINGE}, noise=n(0.01)
            ),
            "door_vel": ObservationTermCfg(
                func=mdp.object_joint_vel, params={"joints": HINGE}, noise=n(0.1), scale=0.1
            ),
            "target_angle": ObservationTermCfg(func=mdp.generated_commands, params={"command_name": TARGET}),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }

    critic = measured(False)
    # Damping, friction and stiffness of order one (N·m·s/rad, N·m, N·m/rad), the rest angle a tenth
    # of a rad: no scale needed.
    critic["hinge_dynamics"] = ObservationTermCfg(func=door_mdp.hinge_dynamics, params={"joint": HINGE})

    grasp = {
        "ee_site": EE_SITE,
        "handle_site": HANDLE_SITE,
        "fingertip_sites": FINGERTIP_SITES,
        "frame_body": BASE,
        "max_distance": GRASP_DISTANCE_M,
        "max_opening": GRASP_MAX_OPENING_M,
        "gripper_joint": GRIPPER_JOINT,
    }
    rewards = {
        "approach_handle": RewardTermCfg(
            func=drawer_mdp.handle_distance_tanh,
            weight=2.0,
            params={"ee_site": EE_SITE, "handle_site": HANDLE_SITE, "std": 0.1},
        ),
        # The fingertips straddle the knob along the base's y: with the wrist turned with the door they
        # stay on either side of it up to a quarter turn, past the largest target.
        "grasp_handle": RewardTermCfg(func=drawer_mdp.handle_grasped, weight=2.0, params=grasp),
        "open_door": RewardTermCfg(
            func=drawer_mdp.open_progress,
            weight=10.0,
            params={"joint": HINGE, "command_name": TARGET, **grasp},
        ),
        "door_past_target": RewardTermCfg(
            func=drawer_mdp.drawer_past_target, weight=10.0, params={"joint": HINGE, "command_name": TARGET}
        ),
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-1e-2),
        "joint_vel": RewardTermCfg(func=mdp.joint_vel_l2, weight=-1e-4, params={"joints": arm}),
    }
    terminations = {
        "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
        "success": TerminationTermCfg(
            func=drawer_mdp.drawer_opened,
            params={"command_name": TARGET, "hold_steps": SUCCESS_HOLD_STEPS},
            time_out=True,
        ),
    }

    events: dict[str, EventTermCfg] = {}
    if dr.knob_size is not None:
        events["knob_size"] = EventTermCfg(
            func=mdp.randomize_geom_size,
            mode="startup",
            params={"ranges": dr.knob_size, "geoms": HANDLE_GEOM},
        )
    if dr.knob_pos is not None:
        # The door's frame: y along its width, z up.
        events["knob_pos"] = EventTermCfg(
            func=mdp.randomize_geom_pos,
            mode="startup",
            params={
                "ranges": {"y": dr.knob_pos, "z": dr.knob_pos},
                "geoms": HANDLE_GEOM,
                "sites": HANDLE_SITE,
            },
        )
    joint_events = (
        ("hinge_damping", mdp.randomize_joint_damping, dr.damping),
        ("hinge_frictionloss", mdp.randomize_joint_frictionloss, dr.frictionloss),
        ("hinge_stiffness", mdp.randomize_joint_stiffness, dr.stiffness),
        ("hinge_springref", mdp.randomize_joint_springref, dr.springref),
    )
    for name, func, ranges in joint_events:
        if ranges is not None:
            events[name] = EventTermCfg(func=func, mode="reset", params={"ranges": ranges, "joints": HINGE})
    if dr.cabinet_pos is not None:
        # The drawer's event: it moves the cabinet's body_pos; the env's reset then places the cabinet's
        # geoms, welded to the world, from it (Simulation.update_static_poses).
        events["cabinet_pos"] = EventTermCfg(
            func=drawer_mdp.jitter_fixed_body_pos,
            mode="reset",
            params={"body": CABINET, "x": dr.cabinet_pos, "y": dr.cabinet_pos},
        )
    events["reset_arm"] = EventTermCfg(
        func=mdp.reset_joints_by_offset,
        mode="reset",
        params={"position_range": (-JOINT_RESET_NOISE_RAD, JOINT_RESET_NOISE_RAD), "joints": arm},
    )

    return RlEnvCfg(
        scene=door_scene,
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
            TARGET: CommandTermCfg(
                func=door_mdp.TargetAngleCommand,
                params={"angle": TARGET_ANGLE, "joint": HINGE},
                resampling_time_range_s=(EPISODE_LENGTH_S, EPISODE_LENGTH_S),
            )
        },
        rewards=rewards,
        terminations=terminations,
        events=events,
        sim=SimCfg(nconmax=NCONMAX, njmax=NJMAX),
        viewer=ViewerCfg(track_body=BASE, distance=1.8, elevation=-25.0, azimuth=150.0),
        # The approach reward and the observations read sites that a forward pass derives from qpos
        # (and from the cabinet's jittered body_pos): a reset world's first observation needs them.
        reset_forward="positions_velocities",
    )
