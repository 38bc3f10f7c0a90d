"""``arm-pour``: the project's arm holds a cup of small spheres and pours them into a bowl on the table.

The episode starts with the cup already grasped: the arm at its home pose, the gripper closed on the
cup's wall, the spheres resting inside it. The task is the pour itself (move over the bowl, tilt,
keep the spheres off the table), not the grasp, which ``arm-lift`` and ``arm-pick-place`` already
teach; starting from a grasp also keeps every episode's first steps informative, where an open
gripper would drop the cup in most early episodes. The gripper therefore has no action: the reset
closes it (ctrl 0, the full grip force) and nothing opens it; a robot runs the policy with its
gripper closed on the cup.

- actions: joint position targets for the seven arm joints, ``home + 0.5 * action`` rad (arm-lift's
  ``arm`` term);
- scene: ``props.add_cup`` (3 cm inside radius so that its 7 cm outer width fits the gripper's 8 cm,
  8 cm tall) in the gripper, ``props.add_bowl`` (5 to 9 cm, 6 cm tall, free on the table; scaled per
  world, below) placed per world at each reset within ``BOWL_POS_RANGE`` of ``BOWL_POS``, ``NUM_SPHERES`` free spheres of
  ``SPHERE_RADIUS`` on a lattice in the cup with ``SPHERE_JITTER_M`` of jitter;
- observations: joint positions and velocities, the cup's pose in the base frame, the bowl's position
  relative to the cup and its rim's inside radius, the share of the spheres in the bowl and in the cup (a count a camera could
  give), the last action; the critic adds each sphere's position relative to the cup and the cup's
  velocities;
- rewards, scaled by the policy step: the cup's lip over the bowl ``1 - tanh(d_xy / 0.1)`` x 1, tilt
  over the bowl ``(1 - cos tilt) / 2 * (1 - tanh(d_xy / 0.05))`` x 2, the share in the bowl x 10, the
  share spilled (on the table or floor) x -10, action rate x -1e-3, joint velocity x -1e-4;
- terminations: the 6 s time-out; success, ``SUCCESS_SHARE`` of the spheres in the bowl (a truncation,
  logged as ``Episode_Termination/success``); the cup lost from the gripper.

Randomized per world (``PourRandomizationCfg``): the bowl's position (at each reset); the bowl's size,
the spheres' mass and the friction of the spheres, cup and bowl (at startup). The bowl is a ring of 16
wall boxes around a bottom: one factor per world scales every length of it (``BOWL_SCALE_RANGE``,
``pour_mdp.randomize_container_scale``), a similar bowl whose walls keep their slope, so only the
geoms' sizes and places in the bowl's frame change (and its centre of mass and inertia, with the
collision bounds that follow); every term that judges the bowl's inside (the counts, the spill
height, the success) reads each world's scale (``pour_mdp.container_scale``). The cup's size is not
drawn: its width is tied to the grasp. ``docs/tasks/manipulation.md`` has the tables of terms and weights.
"""

from __future__ import annotations

import dataclasses
import functools

import mujoco

from warplab.assets import props
from warplab.assets.robots.arm import (
    ARM_JOINT_NAMES,
    ARM_ROBOT_CFG,
    EE_SITE,
    GRIPPER_JOINT,
    TABLE_CENTER_X,
    TABLE_HALF_SIZE,
    TABLE_HEIGHT,
    TIMESTEP,
    arm_spec,
)
from warplab.assets.scene import ObjectCfg, Scene
from warplab.envs import mdp
from warplab.envs.config import (
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
from warplab.tasks.pour import mdp as pour_mdp

Range = tuple[float, float]

CUP, BOWL, BASE = "cup", "bowl", "link0"
CUP_RADIUS = 0.03
"""Inside radius of the cup, m; with its 5 mm wall it is 7 cm across, within the gripper's 8 cm."""
CUP_HEIGHT = 0.08
CUP_WALL = 0.005
CUP_FLOOR = 0.012
CUP_MASS = 0.15
BOWL_BOTTOM_RADIUS, BOWL_TOP_RADIUS, BOWL_HEIGHT, BOWL_FLOOR = 0.05, 0.09, 0.06, 0.012
"""The bowl's inner shape, m (``props.add_bowl``'s defaults)."""
CUP_SHAPE = {
    "body": CUP,
    "bottom_radius": CUP_RADIUS,
    "top_radius": CUP_RADIUS,
    "height": CUP_HEIGHT,
    "floor": CUP_FLOOR,
}
BOWL_SHAPE = {
    "body": BOWL,
    "bottom_radius": BOWL_BOTTOM_RADIUS,
    "top_radius": BOWL_TOP_RADIUS,
    "height": BOWL_HEIGHT,
    "floor": BOWL_FLOOR,
}
GRIP_HEIGHT = 0.055
"""The TCP (the pads' centre) is this far up the cup's axis from its underside, m: the rim is 2.5 cm
over the pads' centre, under the gripper's housing (4.3 cm over it)."""
FINGER_QPOS = CUP_RADIUS + CUP_WALL - 0.0005
"""Each finger's slide at a reset, m: the pads 0.5 mm into the cup's outer wall (the servo then
squeezes with the full grip force)."""
NUM_SPHERES = 10
SPHERES = tuple(f"sphere{i}" for i in range(NUM_SPHERES))
SPHERE_RADIUS = 0.01
SPHERE_MASS = 0.005
"""kg: light, as dry beans or beads."""
SPHERE_JITTER_M = 0.0015
"""Uniform x and y jitter of each sphere's lattice place at a reset, m (the lattice keeps 4 mm between
neighbours, so they never start in contact)."""
SPHERE_LATTICE = pour_mdp.sphere_lattice(NUM_SPHERES, CUP_RADIUS, CUP_FLOOR, SPHERE_RADIUS)
BOWL_POS = (0.42, 0.0)
"""The centre of the bowl's positions, (x, y) in the base frame, m."""
BOWL_POS_RANGE = {"x": (-0.04, 0.04), "y": (-0.15, 0.15)}
SUCCESS_SHARE = 0.7
BOWL_SCALE_RANGE = (0.8, 1.3)
"""The bowl's per-world scale (``PourRandomizationCfg.bowl_scale``): inside radius 4 to 6.5 cm at the
bottom and 7.2 to 11.7 cm at the rim, 4.8 to 7.8 cm tall; its widest outer radius (12.4 cm) keeps it on
the table anywhere in ``BOWL_POS_RANGE``."""
DECIMATION = 4
EPISODE_LENGTH_S = 6.0
CUP_LOST_M = 0.05
# Contact capacity, measured per world after each policy step (CPU, 2026-12, MuJoCo Warp 4.0, the
# sizing lifted so nothing was cut): the scripted pour of tests/tasks/test_arm_pour.py (4 worlds) used
# at most 80 contacts and 258 constraint rows with the bowl as built, 104 and 300 with the bowl's
# per-world scale (ten spheres against each other and the cup's and bowl's walls, the pads on the cup);
# 150 steps of random actions three times the action range (8 worlds: the cup dropped, spheres scattered
# on the table) 105 and 205 as built, 101 and 241 scaled. These are 2.1 times the worst of each, as the
# probe's own factor of 2 (SimCfg.capacity_headroom); an overflow raises CapacityError
# (env.pop_episode_stats).
NCONMAX = 224
NJMAX = 640


@dataclasses.dataclass
class PourRandomizationCfg:
    """What the task randomizes per world; None turns a term off. Ranges are factors on the nominal
    value unless said otherwise."""

    bowl_position: dict[str, Range] | None = dataclasses.field(default_factory=lambda: dict(BOWL_POS_RANGE))
    """Offsets of the bowl's position from ``BOWL_POS`` (m, base frame), at every reset."""
    sphere_mass: Range | None = (0.5, 1.5)
    """The spheres' mass, one factor per sphere per world, at startup."""
    bowl_scale: Range | None = BOWL_SCALE_RANGE
    """One factor per world on every length of the bowl (inside radii, height, wall, bottom: a similar
    bowl of the same mass), at startup (``pour_mdp.randomize_container_scale``)."""
    friction: Range | None = (0.7, 1.3)
    """Sliding friction of the spheres', cup's and bowl's geoms, one factor per world, at startup (a
    contact takes the larger of its geoms' coefficients, so all three are scaled together)."""
    observation_noise: float | None = 1.0
    """Multiplies the policy's observation noise (None: none); never in play mode."""

    @classmethod
    def off(cls) -> PourRandomizationCfg:
        """No randomization: the bowl at ``BOWL_POS``, nominal spheres, exact observations."""
        return cls(None, None, None, None, None)


def pour_scene(model_name: str = "warplab_arm_pour") -> mujoco.MjSpec:
    """The arm on its table (as ``lift_scene``), a cup with ``NUM_SPHERES`` spheres in it standing on
    the table (the reset moves it into the gripper) and a bowl in front of the arm."""
    robot = dataclasses.replace(
        ARM_ROBOT_CFG, spec=functools.partial(arm_spec, base_pos=(0.0, 0.0, TABLE_HEIGHT))
    )
    table = ObjectCfg(
        "table",
        "box",
        size=(*TABLE_HALF_SIZE, TABLE_HEIGHT / 2),
        pos=(TABLE_CENTER_X, 0.0, TABLE_HEIGHT / 2),
        fixed=True,
        friction=1.0,
        rgba=(0.55, 0.45, 0.35, 1.0),
    )
    cup_at = (0.3, 0.3, TABLE_HEIGHT)
    spheres = tuple(
        ObjectCfg(
            name,
            "sphere",
            size=(SPHERE_RADIUS,),
            pos=(cup_at[0] + x, cup_at[1] + y, cup_at[2] + z),
            mass=SPHERE_MASS,
            friction=1.0,
            rgba=(0.85, 0.2, 0.15, 1.0),
        )
        for name, (x, y, z) in zip(SPHERES, SPHERE_LATTICE, strict=True)
    )
    cup = functools.partial(
        props.add_cup,
        pos=cup_at,
        name=CUP,
        radius=CUP_RADIUS,
        height=CUP_HEIGHT,
        wall=CUP_WALL,
        floor=CUP_FLOOR,
        mass=CUP_MASS,
    )
    bowl = functools.partial(props.add_bowl, pos=(*BOWL_POS, TABLE_HEIGHT), name=BOWL)
    spec = Scene(robot=robot, terrain="flat", objects=(table, *spheres), props=(cup, bowl)).build()
    spec.modelname = model_name
    return spec


def make_arm_pour_env_cfg(play: bool = False, randomization: PourRandomizationCfg | None = None) -> RlEnvCfg:
    """The pour task for the project's arm.

    Args:
      play: no observation noise (videos, evaluation); the model randomization stays.
      randomization: what to randomize (None: ``PourRandomizationCfg()``, every term on).
    """
    dr = randomization or PourRandomizationCfg()
    arm = list(ARM_JOINT_NAMES)
    joints = [*arm, GRIPPER_JOINT]
    spheres = list(SPHERES)
    cup_in_base = {"object": CUP, "frame_body": BASE}
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
            "cup_pos": ObservationTermCfg(func=mdp.object_pos_in_frame, params=cup_in_base, noise=n(0.005)),
            "cup_quat": ObservationTermCfg(func=mdp.object_quat_in_frame, params=cup_in_base, noise=n(0.02)),
            "bowl_rel_cup": ObservationTermCfg(
                func=pour_mdp.bowl_pos_rel_cup, params={"cup": CUP, "bowl": BOWL}, noise=n(0.005)
            ),
            "bowl_radius": ObservationTermCfg(
                func=pour_mdp.container_top_radius, params={"container": BOWL_SHAPE}, noise=n(0.005)
            ),
            "share_in_bowl": ObservationTermCfg(
                func=pour_mdp.share_inside, params={"spheres": spheres, "container": BOWL_SHAPE}
            ),
            "share_in_cup": ObservationTermCfg(
                func=pour_mdp.share_inside, params={"spheres": spheres, "container": CUP_SHAPE}
            ),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }

    critic = measured(False)
    critic["sphere_pos_rel_cup"] = ObservationTermCfg(
        func=pour_mdp.sphere_positions_rel_cup, params={"spheres": spheres, "cup": CUP}
    )
    critic["cup_lin_vel"] = ObservationTermCfg(func=mdp.object_lin_vel_in_frame, params=cup_in_base)
    critic["cup_ang_vel"] = ObservationTermCfg(
        func=mdp.object_ang_vel_in_frame, params=cup_in_base, scale=0.1
    )

    over = {"cup": CUP_SHAPE, "bowl": BOWL}
    rewards = {
        "cup_over_bowl": RewardTermCfg(
            func=pour_mdp.cup_over_bowl_tanh, weight=1.0, params={**over, "std": 0.1}
        ),
        "tilt_over_bowl": RewardTermCfg(
            func=pour_mdp.tilt_over_bowl, weight=2.0, params={**over, "std": 0.05}
        ),
        "spheres_in_bowl": RewardTermCfg(
            func=pour_mdp.share_in_bowl, weight=10.0, params={"spheres": spheres, "bowl": BOWL_SHAPE}
        ),
        "spheres_spilled": RewardTermCfg(
            func=pour_mdp.share_spilled,
            weight=-10.0,
            params={"spheres": spheres, "cup": CUP_SHAPE, "bowl": BOWL_SHAPE, "table_height": TABLE_HEIGHT},
        ),
        "action_rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-1e-3),
        "joint_vel": RewardTermCfg(func=mdp.joint_vel_l2, weight=-1e-4, params={"joints": arm}),
    }
    terminations = {
        "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
        "success": TerminationTermCfg(
            func=pour_mdp.pour_succeeded,
            params={"spheres": spheres, "bowl": BOWL_SHAPE, "min_share": SUCCESS_SHARE},
            time_out=True,
        ),
        "cup_lost": TerminationTermCfg(
            func=pour_mdp.cup_lost,
            params={"cup": CUP, "ee_site": EE_SITE, "grip_height": GRIP_HEIGHT, "max_distance": CUP_LOST_M},
        ),
    }

    events: dict[str, EventTermCfg] = {}
    if dr.friction is not None:
        events["friction"] = EventTermCfg(
            func=mdp.randomize_friction,
            mode="startup",
            params={"ranges": dr.friction, "geoms": r"(cup|bowl|sphere).*"},
        )
    if dr.bowl_scale is not None:
        events["bowl_scale"] = EventTermCfg(
            func=pour_mdp.randomize_container_scale,
            mode="startup",
            params={"container": BOWL, "scale_range": dr.bowl_scale},
        )
    if dr.sphere_mass is not None:
        events["sphere_mass"] = EventTermCfg(
            func=mdp.randomize_mass, mode="startup", params={"ranges": dr.sphere_mass, "bodies": spheres}
        )
    # The arm starts exactly at home (no joint noise): the cup's place in the gripper is worked out
    # for that pose. The variety between episodes is the bowl's place and the spheres' jitter.
    events["reset_cup"] = EventTermCfg(
        func=pour_mdp.reset_cup_in_gripper,
        mode="reset",
        params={
            "cup": CUP,
            "spheres": spheres,
            "lattice": SPHERE_LATTICE.tolist(),
            "jitter": SPHERE_JITTER_M,
            "keyframe": "home",
            "ee_site": EE_SITE,
            "grip_height": GRIP_HEIGHT,
            "fingers": ["finger_left", "finger_right"],
            "gripper_actuator": GRIPPER_JOINT,
            "finger_qpos": FINGER_QPOS,
        },
    )
    events["reset_bowl"] = EventTermCfg(
        func=mdp.reset_object_pose,
        mode="reset",
        params={
            "object": BOWL,
            "frame_body": BASE,
            # 1 mm over the table top (the base stands on it), so it settles rather than starts in it.
            "position": (*BOWL_POS, 0.001),
            "position_range": dr.bowl_position or {},
        },
    )

    return RlEnvCfg(
        scene=pour_scene,
        init_keyframe="home",
        timestep=TIMESTEP,
        decimation=DECIMATION,
        episode_length_s=EPISODE_LENGTH_S,
        scale_rewards_by_dt=True,
        observations={
            "policy": ObservationGroupCfg(terms=measured(not play), enable_corruption=not play),
            "critic": ObservationGroupCfg(terms=critic),
        },
        actions={"arm": arm_actions_cfg()["arm"]},
        rewards=rewards,
        terminations=terminations,
        events=events,
        sim=SimCfg(nconmax=NCONMAX, njmax=NJMAX),
        viewer=ViewerCfg(track_body=BASE, distance=1.6, elevation=-25.0, azimuth=150.0),
        # The cup-lost termination reads the TCP site, which a forward pass derives from qpos.
        reset_forward="positions_velocities",
    )
