"""``arm-open-drawer``: the project's arm grasps the knob of a drawer in a cabinet in front of it and
pulls the drawer out to a target travel.

The contract is Isaac Lab's Franka cabinet task (``isaaclab_tasks/manager_based/manipulation/cabinet/
cabinet_env_cfg.py``), written here for this arm and the project's drawer prop:

- actions: as ``arm-lift``'s, joint position targets ``home + 0.5 * action`` rad for the seven arm
  joints and one binary gripper action (below 0 closes, else opens);
- commands: a target travel uniform in ``TARGET_TRAVEL`` m, drawn at each reset (Isaac Lab opens to a
  fixed 0.2 / 0.3 m bonus threshold; a drawn target makes the policy read how far to go);
- rewards, scaled by the policy step: approach ``1 - tanh(d / 0.1)`` x 2, grasp (fingers around the
  knob, gripper closed) x 2, opening ``grasped * min(q / target, 1)`` x 10, past the target x 10,
  action rate x -1e-2, joint velocity x -1e-4 (Isaac Lab's penalty weights);
- terminations: the 8 s time-out, and success (the drawer at or past its target for
  ``SUCCESS_HOLD_STEPS`` policy steps), a truncation so that the learner bootstraps and the rate is
  logged as ``Episode_Termination/success``;
- observations: joint positions and velocities relative to home, the tool-centre-point-to-knob vector
  in the base frame, the drawer's opening and velocity, the target travel, the last action; the
  critic adds the slide's damping and friction.

The drawer prop's bar handle lies along y: closing the fingers (which open along the base's y at
home) from above would squeeze along the bar, and turning the wrist a quarter turn puts the
gripper's 0.2 m housing over the cabinet top. A knob is grasped from above at home's wrist angle,
the housing in front of the drawer's face, so the task uses a knob.

Per world: the slide's damping and friction loss, the knob's size and place on the drawer's face,
the cabinet's position on its stand (``DrawerRandomizationCfg``).
"""

from __future__ import annotations

import dataclasses
import functools

import mujoco

from warplab.assets.props import add_drawer_cabinet
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
from warplab.tasks.drawer import mdp as drawer_mdp

Range = tuple[float, float]

DRAWER = "drawer"
"""The prop's name: body ``drawer`` (the cabinet), joint ``drawer_slide``, site ``drawer_handle``."""
SLIDE = f"{DRAWER}_slide"
HANDLE_SITE = f"{DRAWER}_handle"
HANDLE_GEOM = f"{DRAWER}_handle"
TARGET = "target_travel"
"""The command's name."""
BASE = "link0"
"""The arm's base body (on the floor at the world's origin): the frame of the observations."""
CABINET_WIDTH, CABINET_DEPTH, CABINET_HEIGHT = 0.40, 0.40, 0.20
"""The cabinet's outside, m."""
DRAWER_TRAVEL = 0.25
"""The slide's range, m: [0, 0.25]."""
KNOB_RADIUS = 0.02
KNOB_OFFSET = 0.05
"""The knob's centre out from the drawer's face, m: the gripper's 6 cm deep housing passes in front of
the face while the fingers close on the knob."""
HANDLE_POS = (0.55, 0.0, 0.40)
"""The knob's grasp point with the drawer closed, world (= base) frame, m: 0.25 m in front of the
tool centre point's home position and 9 cm below it, so the arm reaches it and, pulling towards
itself, keeps it in reach over the whole travel."""
# The cabinet faces the arm (turned half a turn about z, its front towards -x); its footprint's origin
# sits so that the closed drawer's knob is at HANDLE_POS (the prop's knob is at depth / 2 + offset in
# front of the footprint's centre, at half the height).
CABINET_POS = (
    HANDLE_POS[0] + CABINET_DEPTH / 2 + KNOB_OFFSET,
    HANDLE_POS[1],
    HANDLE_POS[2] - CABINET_HEIGHT / 2,
)
CABINET_QUAT = (0.0, 0.0, 0.0, 1.0)
DRAWER_DAMPING = 5.0
"""The slide's nominal viscous damping, N·s/m."""
DRAWER_FRICTIONLOSS = 2.0
"""The slide's nominal dry friction, N."""
TARGET_TRAVEL = (0.10, 0.20)
"""The target travel's range, m."""
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
# lifted to 200 and 800 so nothing was cut): 150 steps of uniform random actions used at most 0
# contacts and 11 constraint rows; random actions three times as large, 20 and 70; those biased to
# swing the arm forward into the cabinet, its stand and the floor, 32 and 114; the scripted
# approach-grasp-pull of tests/tasks/test_arm_open_drawer.py 4 and 26. These are 2.0 and 2.1 times
# that worst case, as the probe's own factor of 2 (SimCfg.capacity_headroom).
NCONMAX = 64
NJMAX = 240


@dataclasses.dataclass
class DrawerRandomizationCfg:
    """What the task randomizes per world; None turns a term off. Ranges are factors on the nominal
    value unless said otherwise."""

    damping: Range | None = (0.5, 2.0)
    """The slide's viscous damping, at every reset."""
    frictionloss: Range | None = (0.5, 2.0)
    """The slide's dry friction, at every reset."""
    knob_size: Range | None = (0.8, 1.2)
    """The knob's radius, at startup (its collision bounds follow through ``set_const``)."""
    knob_pos: Range | None = (-0.01, 0.01)
    """Offsets of the knob (and its grasp site) along the drawer face's y and z, m, at startup."""
    cabinet_pos: Range | None = (-0.03, 0.03)
    """Offsets of the cabinet along the world's x and y, m, at every reset."""
    observation_noise: float | None = 1.0
    """Multiplies the policy's observation noise (None: none); never in play mode."""

    @classmethod
    def off(cls) -> DrawerRandomizationCfg:
        """No randomization: the nominal drawer in every world, exact observations."""
        return cls(None, None, None, None, None, None)


def drawer_scene() -> mujoco.MjSpec:
    """The arm on the floor at the origin, facing +x, and the drawer cabinet on a stand in front of it,
    its front towards the arm and its closed knob at ``HANDLE_POS``."""
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
        add_drawer_cabinet,
        pos=CABINET_POS,
        quat=CABINET_QUAT,
        name=DRAWER,
        width=CABINET_WIDTH,
        depth=CABINET_DEPTH,
        height=CABINET_HEIGHT,
        travel=DRAWER_TRAVEL,
        damping=DRAWER_DAMPING,
        frictionloss=DRAWER_FRICTIONLOSS,
        handle="knob",
        handle_radius=KNOB_RADIUS,
        handle_offset=KNOB_OFFSET,
    )
    spec = Scene(robot=ARM_ROBOT_CFG, terrain="flat", objects=(stand,), props=(cabinet,)).build()
    spec.modelname = "warplab_arm_open_drawer"
    return spec


def make_arm_open_drawer_env_cfg(
    play: bool = False, randomization: DrawerRandomizationCfg | None = None
) -> RlEnvCfg:
    """The drawer-opening task for the project's arm.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``DrawerRandomizationCfg()``, every term on).
    """
    dr = randomization or DrawerRandomizationCfg()
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
            "drawer_pos": ObservationTermCfg(
                func=mdp.object_joint_pos, params={"joints": SLIDE}, noise=n(0.005)
            ),
            "drawer_vel": ObservationTermCfg(
                func=mdp.object_joint_vel, params={"joints": SLIDE}, noise=n(0.05)
            ),
            "target_travel": ObservationTermCfg(func=mdp.generated_commands, params={"command_name": TARGET}),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }

    critic = measured(False)
    # Divided down to order one: damping of a few N·s/m, friction of a few N.
    critic["slide_damping_friction"] = ObservationTermCfg(
        func=drawer_mdp.slide_damping_friction, params={"joint": SLIDE}, scale=0.1
    )

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
        "grasp_handle": RewardTermCfg(func=drawer_mdp.handle_grasped, weight=2.0, params=grasp),
        "open_drawer": RewardTermCfg(
            func=drawer_mdp.open_progress,
            weight=10.0,
            params={"joint": SLIDE, "command_name": TARGET, **grasp},
        ),
        "drawer_past_target": RewardTermCfg(
            func=drawer_mdp.drawer_past_target, weight=10.0, params={"joint": SLIDE, "command_name": TARGET}
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
        events["knob_pos"] = EventTermCfg(
            func=mdp.randomize_geom_pos,
            mode="startup",
            params={
                "ranges": {"y": dr.knob_pos, "z": dr.knob_pos},
                "geoms": HANDLE_GEOM,
                "sites": HANDLE_SITE,
            },
        )
    if dr.damping is not None:
        events["slide_damping"] = EventTermCfg(
            func=mdp.randomize_joint_damping, mode="reset", params={"ranges": dr.damping, "joints": SLIDE}
        )
    if dr.frictionloss is not None:
        events["slide_frictionloss"] = EventTermCfg(
            func=mdp.randomize_joint_frictionloss,
            mode="reset",
            params={"ranges": dr.frictionloss, "joints": SLIDE},
        )
    if dr.cabinet_pos is not None:
        events["cabinet_pos"] = EventTermCfg(
            func=drawer_mdp.jitter_fixed_body_pos,
            mode="reset",
            params={"body": DRAWER, "x": dr.cabinet_pos, "y": dr.cabinet_pos},
        )
    events["reset_arm"] = EventTermCfg(
        func=mdp.reset_joints_by_offset,
        mode="reset",
        params={"position_range": (-JOINT_RESET_NOISE_RAD, JOINT_RESET_NOISE_RAD), "joints": arm},
    )

    return RlEnvCfg(
        scene=drawer_scene,
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
                func=drawer_mdp.TargetTravelCommand,
                params={"travel": TARGET_TRAVEL, "joint": SLIDE},
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
