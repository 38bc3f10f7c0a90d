"""warplab beside mjlab 1.6 on mjlab's own Unitree G1 (issue 5's comparison): same model file, same
card, same world count, settings as close as the two task libraries allow.

The G1 is read at run time from mjlab's installed package (``--g1-xml``; on the GPU machine
``/tmp/site-mjlab/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml``) and never copied into the
project. That file has no actuators: ``g1_robot_cfg`` supplies position servos whose gains are
written here from the G1's public motor data (see ``MOTORS``). ``make_g1_env_cfg`` builds warplab's
velocity task for it with ``make_velocity_env_cfg`` and sets what mjlab's
``Mjlab-Velocity-Flat-Unitree-G1`` sets; ``DIFFERENCES`` lists what it cannot match.

Modes (each writes JSON under ``--out``):

  stand  the G1 in its home pose, servos holding it, on MuJoCo's C engine (an independent
         reference): pelvis height and tilt over ``--seconds``; exit status 1 if it falls.
  bench  ``warplab bench``'s measurements (raw physics, env steps, policy, PPO) for this task:
         ``warplab_bench.json``.
  train  PPO for ``--iterations`` or ``--minutes`` from the command's start, whichever comes first,
         env steps/s as ``benchmarks/train_task.py`` reports them (per iteration, and the mean over
         the iterations after the fifth): ``warplab_train.json``.
  table  reads those two files and mjlab's console log (``--mjlab-log``), whose rsl_rl "Steps per
         second" lines are the same quantity, averaged the same way: ``side_by_side.json`` and a
         table with the ratio. Needs nothing but Python, so it runs outside both sets.

On the CPU, with mjlab's wheel unpacked outside the repository
(``mkdir -p /tmp/mjlab_wheel && cd /tmp/mjlab_wheel && unzip -q -o .../mjlab-1.6.0-py3-none-any.whl``):

  G1=/tmp/mjlab_wheel/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml
  python benchmarks/mjlab_g1.py stand --g1-xml $G1
  python benchmarks/mjlab_g1.py train --g1-xml $G1 --device cpu --num-envs 4 --iterations 3 --out /tmp/g1

On the GPU machine (docs/benchmarking.md, "Side by side with mjlab", says why each call): the main
set first, then mjlab's, back to back on one machine, the last call running both sides. ``.carry-3``
holds the mujoco_studio wheel moved out of ``.carry-1``, which with the tracked tree would pass the
64 MiB a call may carry.

  call 1: carry [".carry-1"]        command: true
  call 2: carry [".carry-3"]        command: true
  call 3: carry [".carry-2"]        command: . .carry-2/install.sh
  call 4: carry [".carry-mjlab-1"]  command: true
  call 5: carry [".carry-mjlab-2"]  command: true
  call 6: carry [".carry-mjlab-4"]  command: true
  call 7: carry [".carry-mjlab-3"]  command:

  export MUJOCO_GL=disable; ( . .carry-mjlab-3/install.sh && timeout 240 python3 -m mjlab.scripts.train \
    Mjlab-Velocity-Flat-Unitree-G1 --env.scene.num-envs 4096 --agent.max-iterations 60 \
    --agent.logger tensorboard > $OUT/mjlab_train.log 2>&1; grep -a "Steps per second" \
    $OUT/mjlab_train.log | tail -3 ); ( . .carry-2/install.sh && timeout 150 python3 \
    benchmarks/mjlab_g1.py bench --num-envs 4096 --steps 100 --out $OUT; timeout 130 python3 \
    benchmarks/mjlab_g1.py train --num-envs 4096 --iterations 60 --minutes 2 \
    --tensorboard /tmp/warplab_g1_tb --out $OUT ); python3 benchmarks/mjlab_g1.py table \
    --mjlab-log $OUT/mjlab_train.log --out $OUT

Each set runs in its own subshell, so their PYTHONPATHs (warp 1.19 with mujoco 3.11 and MuJoCo Warp
3.11 for mjlab; mujoco 4.0 and MuJoCo Warp 4.0 for warplab) never mix. ``--minutes 2`` counts from
the start of warplab's ``train`` process; the timeouts keep the whole call under its 10 minutes.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

DEFAULT_G1_XML = Path("/tmp/site-mjlab/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml")
"""Where mjlab's install on the GPU machine puts its G1 (``.carry-mjlab-*``, installed by ``install.sh``)."""
TASK = "g1-velocity-flat-mjlab"
"""The name this script registers the task under (it is not one of warplab's built-in tasks)."""
NUM_ENVS = 4096

# ---------------------------------------------------------------------------------------------- motors
# Unitree's G1 (29 DoF) is driven by four motor classes, named by frame size and gear ratio: N7520-14.3
# (hip pitch and yaw, waist yaw), N7520-22.5 (hip roll, knee), N5020-16 (shoulders, elbows, wrist
# roll; two of them drive each ankle and the waist roll and pitch through rods) and W4010-25 (wrist
# pitch and yaw). Peak joint torques are those of Unitree's published 29-DoF G1 description (88, 139,
# 25 and 5 N·m). Rotor inertias are Unitree's figures for the motors' rotors; the planet stages behind
# them add under 2 % and are left out.
#
# Gains follow the two rules of warplab's own humanoid (``warplab.assets.robots.humanoid``,
# docs/robots/humanoid.md), and the larger wins. The armature rule: armature = rotor inertia * gear
# ratio², kp = armature * (2 pi * 10 Hz)² (the joint loop's natural frequency against the rotor's own
# inertia), kd = 2 * 2 * sqrt(kp * armature) (damping ratio 2, no overshoot). A joint driven by two
# motors through rods counts both rotors at a nominal 1:1 linkage, and twice the torque. The stance
# rule: standing on position servos is an inverted pendulum over the ankles whose gravity stiffness
# is m g h (33.3 kg, centre of mass 0.64 m above the ankles in the home pose: 209 N·m/rad, measured
# from the file by ``_home_pose``). The armature rule gives the ankles 28 and the knees 98 N·m/rad,
# and the G1 falls within 2 s (``stand`` on MuJoCo's C engine); 0.96 x m g h on the legs and waist
# still falls, 1.2 x stands with 5° of sway and 1.5 x with 3°, so every leg and waist joint gets at least STANCE_MARGIN x m g h (kd
# again for damping ratio 2 against the armature). Arms and wrists keep the armature rule.
STANCE_MARGIN = 1.5
"""Stiffness of each leg and waist servo over the robot's gravity stiffness about the ankles."""


@dataclasses.dataclass(frozen=True)
class G1Motor:
    """One class of G1 joint drive; ``motors`` rotors of it move the joint (two through the ankle
    and waist linkages)."""

    peak_torque: float
    """Peak torque of one motor at the joint, N·m."""
    rotor_inertia: float
    """Inertia of one motor's rotor, kg·m²."""
    gear_ratio: float
    motors: int = 1

    @property
    def effort_limit(self) -> float:
        """Largest torque the joint's servo applies, N·m."""
        return self.motors * self.peak_torque

    @property
    def armature(self) -> float:
        """Reflected rotor inertia at the joint, kg·m²."""
        return self.motors * self.rotor_inertia * self.gear_ratio**2

    @property
    def kp(self) -> float:
        """N·m/rad: a 10 Hz loop against the armature."""
        return self.armature * (2.0 * math.pi * 10.0) ** 2

    @property
    def kd(self) -> float:
        """N·m·s/rad: damping ratio 2 against the armature."""
        return 2.0 * 2.0 * math.sqrt(self.kp * self.armature)


N7520_14 = G1Motor(peak_torque=88.0, rotor_inertia=4.89e-5, gear_ratio=14.3)
N7520_22 = G1Motor(peak_torque=139.0, rotor_inertia=4.89e-5, gear_ratio=22.5)
N5020_16 = G1Motor(peak_torque=25.0, rotor_inertia=1.39e-5, gear_ratio=16.0)
W4010_25 = G1Motor(peak_torque=5.0, rotor_inertia=6.8e-6, gear_ratio=25.0)
LINKAGE_5020 = dataclasses.replace(N5020_16, motors=2)

MOTORS: dict[str, G1Motor] = {
    r".*_hip_pitch_joint|.*_hip_yaw_joint|waist_yaw_joint": N7520_14,
    r".*_hip_roll_joint|.*_knee_joint": N7520_22,
    r".*_ankle_(pitch|roll)_joint|waist_(roll|pitch)_joint": LINKAGE_5020,
    r".*_shoulder_.*_joint|.*_elbow_joint|.*_wrist_roll_joint": N5020_16,
    r".*_wrist_(pitch|yaw)_joint": W4010_25,
}
"""Joint pattern (full match) to its drive."""
STANCE_JOINTS = tuple(MOTORS)[:3]
"""The patterns of ``MOTORS`` whose servos hold the robot up: the legs and the waist."""


# ---------------------------------------------------------------------------------------------- pose
HOME_POSE: dict[str, float] = {
    # Knees bent by 0.6 rad with hip and ankle pitch at -0.3 each: the thigh and shin are parallel in
    # the model's zero pose, so hip + knee + ankle = 0 keeps the sole flat, and the centre of mass
    # then sits 1 cm behind the middle of the soles.
    r".*_hip_pitch_joint": -0.3,
    r".*_knee_joint": 0.6,
    r".*_ankle_pitch_joint": -0.3,
    # Arms a little forward and out, elbows bent, so the hands clear the thighs and the torso.
    r".*_shoulder_pitch_joint": 0.2,
    r"left_shoulder_roll_joint": 0.2,
    r"right_shoulder_roll_joint": -0.2,
    r".*_elbow_joint": 0.9,
}
"""Default joint positions, rad; joints not named are 0."""

FOOT_GEOMS = r"(left|right)_foot[1-7]_collision"
"""The seven small capsules under each foot, the only geoms meant to touch the floor."""


def _g1_spec_fn(xml: Path):
    def spec():
        import mujoco

        spec = mujoco.MjSpec.from_file(str(xml))
        # The same contact model as mjlab's G1 (so both simulate the same contacts): every collision
        # capsule collides with everything; the feet have friction (condim 3, mu 0.6) and priority
        # over the floor's parameters; the other contacts (self-collisions, a knee or hand on the
        # floor) are frictionless (condim 1), one constraint row each instead of four.
        for geom in spec.geoms:
            if not geom.name.endswith("_collision"):
                continue
            if re.fullmatch(FOOT_GEOMS, geom.name):
                geom.condim, geom.priority = 3, 1
                geom.friction = [0.6, geom.friction[1], geom.friction[2]]
            else:
                geom.condim = 1
        return spec

    return spec


def g1_robot_cfg(xml: Path | str = DEFAULT_G1_XML, stance_gains: bool = True):
    """The G1 of ``xml`` (mjlab's ``g1.xml``) as a warplab ``RobotCfg``.

    Joint order is the file's own (left leg, right leg, waist, left arm, right arm, each from the
    body outwards), read from the file. The base height is measured: the home pose's lowest foot
    capsule rests on z = 0. ``stance_gains=False`` keeps the armature rule on every joint (mjlab's
    servos; the G1 then cannot stand without a policy).

    Raises:
      FileNotFoundError: naming ``xml`` and how to get it.
    """
    import mujoco

    from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg

    xml = Path(xml)
    if not xml.is_file():
        raise FileNotFoundError(
            f"no G1 model at {xml}: pass --g1-xml; on a CPU unpack mjlab's wheel outside the repository "
            "(unzip mjlab-1.6.0-py3-none-any.whl) and point at mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml"
        )
    spec_fn = _g1_spec_fn(xml)
    model = spec_fn().compile()
    joints = tuple(
        model.joint(j).name for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE
    )

    def servos(stance_kp: float) -> tuple[ActuatorGroupCfg, ...]:
        groups = []
        for pattern, m in MOTORS.items():
            kp = max(m.kp, stance_kp) if pattern in STANCE_JOINTS else m.kp
            kd = 2.0 * 2.0 * math.sqrt(kp * m.armature)
            groups.append(
                ActuatorGroupCfg(
                    joints=pattern, kp=kp, kd=kd, effort_limit=m.effort_limit, armature=m.armature
                )
            )
        return tuple(groups)

    robot = RobotCfg(
        name="unitree_g1_mjlab_file",
        spec=spec_fn,
        joint_names=joints,
        default_joint_pos=dict(HOME_POSE),
        base_body="pelvis",
        feet_bodies=("left_ankle_roll_link", "right_ankle_roll_link"),
        torso_body="torso_link",
        base_height=0.0,
        actuators=servos(0.0),
        # An action of 1 asks a quarter of the peak torque of a servo tuned by the armature rule:
        # 0.25 * effort / kp rad. The stance rule stiffens the legs but leaves their range as it is.
        action_scale={pattern: 0.25 * m.effort_limit / m.kp for pattern, m in MOTORS.items()},
    )
    base_height, gravity_stiffness = _home_pose(robot)
    stance_kp = STANCE_MARGIN * gravity_stiffness if stance_gains else 0.0
    return dataclasses.replace(robot, base_height=base_height, actuators=servos(stance_kp))


def _home_pose(robot) -> tuple[float, float]:
    """The pelvis height that puts the home pose's lowest foot capsule on z = 0, m; and the robot's
    gravity stiffness about its ankles in that pose, m g h, N·m/rad."""
    import mujoco

    from warplab.assets.robot_cfg import build_robot_spec

    model = build_robot_spec(robot).compile()
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    lowest = min(
        data.geom_xpos[g][2] - model.geom_size[g][0]  # capsule: centre height minus radius
        for g in range(model.ngeom)
        if re.fullmatch(FOOT_GEOMS, model.geom(g).name)
    )
    base = model.body(robot.base_body).id
    ankles = [data.xpos[model.body(b).id][2] for b in robot.feet_bodies]
    com_above_ankles = data.subtree_com[base][2] - sum(ankles) / len(ankles)
    mgh = model.body_subtreemass[base] * -model.opt.gravity[2] * com_above_ankles
    return float(-lowest), float(mgh)


# ---------------------------------------------------------------------------------------------- task
MJLAB_SETTINGS = {
    "num_envs": 4096,
    "timestep_s": 0.005,
    "decimation": 4,
    "episode_length_s": 20.0,
    "integrator": "implicitfast",
    "cone": "pyramidal",
    "solver": "newton",
    "iterations": 10,
    "ls_iterations": 20,
    "ccd_iterations": 50,
    "njmax": 300,
    "nconmax": 48,
    "command_ranges": {"lin_vel_x": (-1.0, 1.0), "lin_vel_y": (-1.0, 1.0), "ang_vel_z": (-0.5, 0.5)},
    "command_resampling_s": (3.0, 8.0),
    "push_interval_s": (1.0, 3.0),
    "friction": (0.3, 1.2),
    "tilt_termination_deg": 70.0,
    "ppo": {
        "num_steps_per_env": 24,
        "num_learning_epochs": 5,
        "num_mini_batches": 4,
        "learning_rate": 1e-3,
        "schedule": "adaptive",
        "desired_kl": 0.01,
        "entropy_coef": 0.01,
        "gamma": 0.99,
        "lam": 0.95,
        "clip_param": 0.2,
        "value_loss_coef": 1.0,
        "max_grad_norm": 1.0,
        "hidden_dims": (512, 256, 128),
        "init_noise_std": 1.0,
    },
}
"""mjlab 1.6's ``Mjlab-Velocity-Flat-Unitree-G1`` settings that decide the work per step, as read from
its wheel (``tasks/velocity/velocity_env_cfg.py``, ``config/g1/env_cfgs.py`` and ``rl_cfg.py``,
``sim/sim.py``); this task sets each of them. ``nconmax``: mjlab leaves it to MuJoCo Warp 3.11, whose
rule gives 48 for a model without height fields."""

DIFFERENCES = (
    "Rewards: warplab's velocity terms (exp tracking std 0.5, lin_vel_z, ang_vel_xy, flat orientation, "
    "action rate, torques, joint limits, feet air time, feet slide, upper-body and hip deviation, "
    "termination penalty) vs mjlab's (tracking std sqrt 0.25 / sqrt 0.5, upright, variable posture, "
    "body angular velocity, angular momentum, joint limits at 0.9 of range, action rate, foot clearance, "
    "foot swing height, foot slip, soft landing, self-collision cost).",
    "Commands: mjlab also draws heading commands (30 % of worlds), forward-only ones (20 %) and has a "
    "velocity curriculum (its first stage is used here); warplab draws the three velocities uniformly, 10 % "
    "standing.",
    "Observations: the same actor inputs (mjlab's IMU linear velocity term is added here as the true base "
    "velocity with the same noise); mjlab's critic adds foot height, air time and contact flags, warplab's "
    "adds base height; the feet's contact forces come from cfrc_ext here and from MuJoCo contact sensors "
    "(feet-ground, self-collision) in mjlab, which adds sensor work to its physics step.",
    "Randomization: mjlab draws a per-world encoder bias and friction on the feet only; warplab one friction "
    "factor per world for every geom, and a centre-of-mass offset of the pelvis and torso (mjlab: torso) of "
    "±2.5 cm on all axes (mjlab: ±3 cm in z). Pushes: mjlab's also kick z, roll, pitch and yaw.",
    "Servos: the same armature rule (10 Hz, damping ratio 2; action scale 0.25 * effort / kp) with the "
    "numbers written here from the motor data, but the leg and waist servos are stiffened to 1.5 x the "
    "robot's gravity stiffness (313 N·m/rad, mjlab: 28-99) so the G1 stands without a policy; "
    "--armature-gains-only runs mjlab's kind of servos. The home pose differs slightly (knees 0.6 rad "
    "here, 0.669 in mjlab's).",
    "Floor: warplab's checkered plane (friction 1.0, condim 3) vs mjlab's terrain plane.",
    "Execution: warplab captures the whole env step in one CUDA graph; mjlab captures the physics step and "
    "runs its managers eagerly. That is the implementation being compared, not a setting.",
)
"""Every setting of mjlab's G1 flat task that this task does not match (none of them changes the physics
model or the solver's work per step beyond what is said)."""


def make_g1_env_cfg(xml: Path | str = DEFAULT_G1_XML, play: bool = False, stance_gains: bool = True):
    """warplab's velocity task on the G1 of ``xml``, with mjlab's settings (``MJLAB_SETTINGS``);
    ``stance_gains`` as in ``g1_robot_cfg``."""
    import mujoco

    from warplab.envs import mdp
    from warplab.envs.config import NoiseCfg, ObservationTermCfg
    from warplab.tasks.velocity import DomainRandomizationCfg, VelocityRanges, make_velocity_env_cfg

    s = MJLAB_SETTINGS
    robot = g1_robot_cfg(xml, stance_gains)
    randomization = DomainRandomizationCfg(
        friction=s["friction"],
        friction_per_geom=False,
        push_interval_s=s["push_interval_s"],
        com_offset_m=(-0.025, 0.025),
    )
    cfg = make_velocity_env_cfg(
        robot, play=play, ranges=VelocityRanges(**s["command_ranges"]), randomization=randomization
    )
    velocity_scene = cfg.scene

    def scene():
        spec = velocity_scene()
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
        spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
        spec.option.iterations, spec.option.ls_iterations = s["iterations"], s["ls_iterations"]
        spec.option.ccd_iterations = s["ccd_iterations"]
        return spec

    cfg.scene = scene
    cfg.timestep, cfg.decimation, cfg.episode_length_s = (
        s["timestep_s"],
        s["decimation"],
        s["episode_length_s"],
    )
    cfg.sim.njmax, cfg.sim.nconmax = s["njmax"], s["nconmax"]
    cfg.num_envs = s["num_envs"]
    cfg.commands["base_velocity"].resampling_time_range_s = s["command_resampling_s"]
    cfg.terminations["tilted"].params["limit_angle_rad"] = math.radians(s["tilt_termination_deg"])
    # mjlab ends an episode on tilt alone; its resets lift the base 1-5 cm and add no offsets.
    del cfg.terminations["fell"]
    cfg.events["reset_base"].params["pose_range"]["z"] = (0.01, 0.05)
    cfg.events["reset_base"].params["velocity_range"] = {}
    cfg.events["reset_joints"].params.update(position_range=(0.0, 0.0), velocity_range=(0.0, 0.0))
    # mjlab's actor also reads the base's linear velocity (from the IMU), with noise of ±0.5 m/s.
    noise = None if play else NoiseCfg("uniform", 0.5)
    policy = cfg.observations["policy"]
    policy.terms = {"base_lin_vel": ObservationTermCfg(func=mdp.base_lin_vel_b, noise=noise), **policy.terms}
    return cfg


def make_g1_agent_cfg():
    """PPO with mjlab's G1 settings (``MJLAB_SETTINGS["ppo"]``)."""
    from warplab.tasks.velocity import make_velocity_agent_cfg

    p = dict(MJLAB_SETTINGS["ppo"])
    agent = make_velocity_agent_cfg(TASK)
    agent.policy.actor_hidden_dims = agent.policy.critic_hidden_dims = p.pop("hidden_dims")
    agent.policy.init_noise_std = p.pop("init_noise_std")
    for name, value in p.items():
        setattr(agent.ppo, name, value)
    return agent


def register(xml: Path | str, stance_gains: bool = True) -> None:
    """Registers ``TASK`` for the G1 of ``xml`` (once per process)."""
    from warplab.tasks import register_task
    from warplab.tasks.registry import _TASKS

    if TASK in _TASKS:
        return
    register_task(
        TASK,
        lambda play=False: make_g1_env_cfg(xml, play=play, stance_gains=stance_gains),
        make_g1_agent_cfg,
        "warplab's velocity task on mjlab's G1 file, with mjlab's G1 flat settings.",
        num_envs_gpu=NUM_ENVS,
        num_envs_cpu=4,
    )


# ---------------------------------------------------------------------------------------------- stand
def stand(xml: Path | str, seconds: float = 5.0, stance_gains: bool = True) -> dict:
    """The G1 released in its home pose on the task's floor, servos holding the home targets, on
    MuJoCo's C engine with the task's physics options: the pelvis height and tilt over ``seconds``.

    ``stood`` is true when the pelvis stayed within 5 cm of its start height and tilted under 10°.
    """
    import mujoco
    import numpy as np

    cfg = make_g1_env_cfg(xml, play=True, stance_gains=stance_gains)
    spec = cfg.scene()
    model = spec.compile() if isinstance(spec, mujoco.MjSpec) else spec
    model.opt.timestep = cfg.timestep
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    pelvis = model.body("pelvis").id
    start_z = float(data.xpos[pelvis][2])
    heights, tilts, max_ncon = [], [], 0
    for _ in range(int(round(seconds / model.opt.timestep))):
        mujoco.mj_step(model, data)
        heights.append(float(data.xpos[pelvis][2]))
        # Tilt: the angle between the pelvis's z axis and the world's.
        tilts.append(math.degrees(math.acos(float(np.clip(data.xmat[pelvis][8], -1.0, 1.0)))))
        max_ncon = max(max_ncon, int(data.ncon))
    qpos_err = data.qpos[7:] - model.key("home").qpos[7:]
    result = {
        "seconds": seconds,
        "engine": f"MuJoCo C engine {mujoco.__version__}, mj_step",
        "timestep_s": model.opt.timestep,
        "base_height_start_m": start_z,
        "base_height_end_m": heights[-1],
        "base_height_min_m": min(heights),
        "max_tilt_deg": max(tilts),
        "max_joint_error_rad": float(np.abs(qpos_err).max()),
        "max_contacts": max_ncon,
    }
    result["stood"] = abs(result["base_height_min_m"] - start_z) < 0.05 and result["max_tilt_deg"] < 10.0
    return result


# ---------------------------------------------------------------------------------------------- bench, train
def bench(num_envs: list[int], device: str, steps: int, out: Path) -> dict:
    """``warplab bench``'s four measurements for ``TASK``; writes ``out/warplab_bench.json``."""
    from warplab.bench import BenchArgs, run

    args = BenchArgs(
        task=[TASK], num_envs=num_envs, device=device, steps=steps, json=out / "warplab_bench.json"
    )
    return run(args, command=" ".join(sys.argv))


def train(
    num_envs: int, device: str, iterations: int | None, minutes: float | None, tensorboard: Path | None
):
    """PPO on ``TASK`` for ``iterations``, or until ``minutes`` after this command started, whichever
    comes first.

    Rows and the summary carry the fields of ``benchmarks/train_task.py``: per iteration the
    collection and total env steps per second (samples over collection time, and over collection
    plus update time: rsl_rl's ``Perf/total_fps``), and their means over the iterations after the fifth.
    ``tensorboard``: a folder to log each iteration's scalars to, as mjlab's run does (None: no log).
    """
    import torch
    from train_task import progress_row  # benchmarks/ is this script's folder, first on sys.path

    from warplab.envs.rl_env import RlEnv
    from warplab.rl import OnPolicyRunner
    from warplab.tasks import get_task, make_env_cfg

    env_cfg = make_env_cfg(TASK)
    env_cfg.num_envs, env_cfg.device = num_envs, device
    agent = get_task(TASK).agent_cfg_factory()
    agent.logger, agent.console, agent.save_interval = "none", "lines", 10**9
    env = RlEnv(env_cfg)
    runner = OnPolicyRunner(env, agent, log_dir=None)
    writer = None
    if tensorboard is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(tensorboard), flush_secs=10)
    startup_s = time.perf_counter() - T0
    curve = []

    def more() -> bool:
        # Whichever limit comes first; a wall-clock cap keeps a slow run inside its device call.
        if iterations is not None and runner.iteration >= iterations:
            return False
        return minutes is None or time.perf_counter() - T0 < minutes * 60.0

    while more():
        runner.learn(1)
        s = runner.last_scalars
        row = progress_row(runner, T0)
        curve.append(row)
        if writer is not None:
            for key, value in s.items():
                if isinstance(value, float) and math.isfinite(value):
                    writer.add_scalar(key, value, runner.iteration)
        if runner.iteration % 10 == 0:
            print(
                json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}),
                flush=True,
            )
    if writer is not None:
        writer.close()
    steady = curve[5:] or curve
    return {
        "side": "warplab",
        "task": TASK,
        "device": torch.cuda.get_device_name() if device != "cpu" and torch.cuda.is_available() else "cpu",
        "num_envs": num_envs,
        "startup_s": startup_s,
        "train_wall_s": time.perf_counter() - T0,
        "iterations": runner.iteration,
        "mean_collect_steps_per_s": _mean(r["collect_steps_per_s"] for r in steady),
        "mean_total_steps_per_s": _mean(r["total_steps_per_s"] for r in steady),
        "mean_collection_s": _mean(r["collection_s"] for r in steady),
        "mean_learning_s": _mean(r["learning_s"] for r in steady),
        "njmax": env.sim.capacity.njmax,
        "nconmax": env.sim.capacity.nconmax,
        "observation_shapes": {g: list(v) for g, v in env.observation_shapes.items()},
        "action_dim": env.action_dim,
        "settings": MJLAB_SETTINGS,
        "differences_from_mjlab": list(DIFFERENCES),
        "curve": curve,
    }


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


# ---------------------------------------------------------------------------------------------- mjlab's log, table
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def read_mjlab_log(path: Path) -> dict:
    """Per-iteration steps/s, collection and learning times from rsl_rl's console log of an mjlab run,
    and their means over the iterations after the fifth (as for warplab)."""
    text = _ANSI.sub("", Path(path).read_text(errors="replace"))
    fps = [float(v) for v in re.findall(r"Steps per second:\s*([0-9.]+)", text)]
    collection = [float(v) for v in re.findall(r"Collection time:\s*([0-9.]+)s", text)]
    learning = [float(v) for v in re.findall(r"Learning time:\s*([0-9.]+)s", text)]
    steady = slice(5, None) if len(fps) > 5 else slice(None)
    return {
        "side": "mjlab",
        "task": "Mjlab-Velocity-Flat-Unitree-G1",
        "log": str(path),
        "iterations": len(fps),
        "mean_total_steps_per_s": _mean(fps[steady]),
        "mean_collection_s": _mean(collection[steady]),
        "mean_learning_s": _mean(learning[steady]),
        "total_steps_per_s": fps,
    }


def table(out: Path, mjlab_log: Path | None) -> dict:
    """Reads ``warplab_train.json``, ``warplab_bench.json`` and mjlab's log from ``out``; writes
    ``side_by_side.json`` and prints one table."""
    from warplab.atomic_files import atomic_write_json

    result: dict = {"warplab": None, "mjlab": None, "bench": None}
    for key, name in (("warplab", "warplab_train.json"), ("bench", "warplab_bench.json")):
        if (out / name).exists():
            result[key] = json.loads((out / name).read_text())
    if mjlab_log is not None and mjlab_log.exists():
        result["mjlab"] = read_mjlab_log(mjlab_log)
    w, m = result["warplab"] or {}, result["mjlab"] or {}
    ratio = None
    if w.get("mean_total_steps_per_s") and m.get("mean_total_steps_per_s"):
        ratio = w["mean_total_steps_per_s"] / m["mean_total_steps_per_s"]
    result["ratio_warplab_over_mjlab"] = ratio
    lines = ["side      iterations  env steps/s (training)  collection s/it  learning s/it"]
    for name, r in (("mjlab", m), ("warplab", w)):
        lines.append(
            f"{name:<9} {r.get('iterations', '-')!s:>10}  {_fmt(r.get('mean_total_steps_per_s'), ',.0f'):>22}  "
            f"{_fmt(r.get('mean_collection_s'), '.3f'):>15}  {_fmt(r.get('mean_learning_s'), '.3f'):>13}"
        )
    lines.append(f"warplab / mjlab: {_fmt(ratio, '.2f')} (issue 5's target: >= 2)")
    for row in (result["bench"] or {}).get("rows", []):
        lines.append(
            f"warplab bench x {row['num_envs']}: raw {_fmt(row.get('raw_env_steps_per_s'), ',.0f')}, "
            f"random {_fmt(row.get('env_steps_per_s_random'), ',.0f')}, "
            f"ppo {_fmt(row.get('ppo_env_steps_per_s'), ',.0f')} env steps/s"
        )
    atomic_write_json(out / "side_by_side.json", result, indent=1)
    print("\n".join(lines))
    return result


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


# ---------------------------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("stand", "bench", "train", "table"))
    ap.add_argument(
        "--g1-xml", type=Path, default=DEFAULT_G1_XML, help="mjlab's g1.xml (default: %(default)s)"
    )
    ap.add_argument("--num-envs", type=int, nargs="+", default=[NUM_ENVS], help="worlds (bench: several)")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    ap.add_argument("--steps", type=int, default=200, help="bench: timed calls (PPO: steps / 24 iterations)")
    ap.add_argument("--iterations", type=int, default=None, help="train: PPO iterations")
    ap.add_argument(
        "--minutes", type=float, default=None, help="train: wall-clock budget from the command's start"
    )
    ap.add_argument("--seconds", type=float, default=5.0, help="stand: simulated seconds")
    ap.add_argument("--tensorboard", type=Path, default=None, help="train: log scalars here each iteration")
    ap.add_argument(
        "--armature-gains-only",
        action="store_true",
        help="every servo by the armature rule alone, as mjlab's (no stance stiffness on the legs)",
    )
    ap.add_argument("--mjlab-log", type=Path, default=None, help="table: mjlab's console log")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.mode == "table":
        table(args.out, args.mjlab_log)
        return 0
    from warplab.atomic_files import atomic_write_json

    register(args.g1_xml, stance_gains=not args.armature_gains_only)
    if args.mode == "stand":
        result = stand(args.g1_xml, args.seconds, stance_gains=not args.armature_gains_only)
        atomic_write_json(args.out / "g1_stand.json", result, indent=1)
        print(json.dumps(result, indent=1))
        return 0 if result["stood"] else 1
    if args.mode == "bench":
        bench(args.num_envs, args.device, args.steps, args.out)
        return 0
    if args.iterations is None and args.minutes is None:
        ap.error("train needs --iterations or --minutes")
    summary = train(args.num_envs[0], args.device, args.iterations, args.minutes, args.tensorboard)
    atomic_write_json(args.out / "warplab_train.json", summary, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("curve", "settings")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
