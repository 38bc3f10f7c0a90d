"""``arm-open-drawer``: the project's arm grasps the knob of a drawer in a cabinet in front of it and
pulls the drawer out to a target travel.

A handle task (``tasks.handle_task``: Isaac Lab's Franka cabinet contract written for this arm, with
its actions, rewards, terminations and observations) on the project's drawer prop. What is the
drawer's:

- commands: a target travel uniform in ``TARGET_TRAVEL`` m, drawn at each reset (Isaac Lab opens to a
  fixed 0.2 / 0.3 m bonus threshold; a drawn target makes the policy read how far to go);
- rewards ``open_drawer`` (``grasped * min(q / target, 1)``) and ``drawer_past_target``;
- observations: the drawer's opening and velocity, the target travel; the critic adds the slide's
  damping and friction.

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
from warplab.envs import mdp
from warplab.envs.config import EventTermCfg, ObservationTermCfg, RlEnvCfg
from warplab.tasks import handle_mdp
from warplab.tasks.drawer.mdp import TargetTravelCommand
from warplab.tasks.handle_task import (
    CABINET_QUAT,
    HANDLE_POS,
    KNOB_OFFSET,
    KNOB_RADIUS,
    HandleTaskSpec,
    OpeningObservation,
    handle_scene,
    make_handle_task_env_cfg,
)

Range = tuple[float, float]

DRAWER = "drawer"
"""The prop's name: body ``drawer`` (the cabinet), joint ``drawer_slide``, site ``drawer_handle``."""
SLIDE = f"{DRAWER}_slide"
HANDLE_SITE = f"{DRAWER}_handle"
HANDLE_GEOM = f"{DRAWER}_handle"
TARGET = "target_travel"
"""The command's name."""
CABINET_WIDTH, CABINET_DEPTH, CABINET_HEIGHT = 0.40, 0.40, 0.20
"""The cabinet's outside, m."""
DRAWER_TRAVEL = 0.25
"""The slide's range, m: [0, 0.25]."""
# The cabinet faces the arm (turned half a turn about z, its front towards -x); its footprint's origin
# sits so that the closed drawer's knob is at HANDLE_POS (the prop's knob is at depth / 2 + offset in
# front of the footprint's centre, at half the height).
CABINET_POS = (
    HANDLE_POS[0] + CABINET_DEPTH / 2 + KNOB_OFFSET,
    HANDLE_POS[1],
    HANDLE_POS[2] - CABINET_HEIGHT / 2,
)
DRAWER_DAMPING = 5.0
"""The slide's nominal viscous damping, N·s/m."""
DRAWER_FRICTIONLOSS = 2.0
"""The slide's nominal dry friction, N."""
TARGET_TRAVEL = (0.10, 0.20)
"""The target travel's range, m."""
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
    return handle_scene(
        cabinet, CABINET_POS, (CABINET_WIDTH, CABINET_DEPTH, CABINET_HEIGHT), "warplab_arm_open_drawer"
    )


def make_arm_open_drawer_env_cfg(
    play: bool = False, randomization: DrawerRandomizationCfg | None = None
) -> RlEnvCfg:
    """The drawer-opening task for the project's arm.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``DrawerRandomizationCfg()``, every term on).
    """
    dr = randomization or DrawerRandomizationCfg()
    joint_events: dict[str, EventTermCfg] = {}
    if dr.damping is not None:
        joint_events["slide_damping"] = EventTermCfg(
            func=mdp.randomize_joint_damping, mode="reset", params={"ranges": dr.damping, "joints": SLIDE}
        )
    if dr.frictionloss is not None:
        joint_events["slide_frictionloss"] = EventTermCfg(
            func=mdp.randomize_joint_frictionloss,
            mode="reset",
            params={"ranges": dr.frictionloss, "joints": SLIDE},
        )
    task = HandleTaskSpec(
        scene=drawer_scene,
        cabinet_body=DRAWER,
        joint=SLIDE,
        handle=HANDLE_SITE,
        command_name=TARGET,
        command=TargetTravelCommand,
        command_range=TARGET_TRAVEL,
        opening_pos=OpeningObservation("drawer_pos", noise=0.005),
        opening_vel=OpeningObservation("drawer_vel", noise=0.05),
        critic_terms={
            # Divided down to order one: damping of a few N·s/m, friction of a few N.
            "slide_damping_friction": ObservationTermCfg(
                func=handle_mdp.slide_damping_friction, params={"joint": SLIDE}, scale=0.1
            )
        },
        # The names of the logs and of the documentation (docs/tasks/manipulation.md).
        open_reward="open_drawer",
        past_target_reward="drawer_past_target",
        joint_events=joint_events,
        nconmax=NCONMAX,
        njmax=NJMAX,
    )
    return make_handle_task_env_cfg(
        task, play, dr.knob_size, dr.knob_pos, dr.cabinet_pos, dr.observation_noise
    )
