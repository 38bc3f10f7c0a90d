"""warplab beside mjlab 1.6 on mjlab's own Unitree G1 (issue 5's comparison): same model file, same
card, same world count, settings as close as the two task libraries allow.

The G1 is read at run time from mjlab's installed package (``--g1-xml``; on the GPU machine
``/tmp/site-mjlab/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml``) and never copied into the
project. That file has no actuators: ``g1_robot_cfg`` supplies position servos whose gains are
written here from the G1's public motor data (see ``MOTORS``). ``make_g1_env_cfg`` builds warplab's
velocity task for it with ``make_velocity_env_cfg`` and sets what mjlab's
``Mjlab-Velocity-Flat-Unitree-G1`` sets; ``DIFFERENCES`` lists what it cannot match. ``--terrain rough``
runs warplab's rough-terrain task on the G1 instead (``make_g1_rough_env_cfg``: the humanoid rough
task's terrain, curriculum and height scans, stairs up to 15 cm) beside mjlab's
``Mjlab-Velocity-Rough-Unitree-G1``; ``ROUGH_DIFFERENCES`` lists what differs there too. Its files
carry ``rough`` in their names (``output_files``), so both comparisons can share one folder.

Modes (each writes JSON under ``--out``):

  stand  the G1 in its home pose, servos holding it, on MuJoCo's C engine (an independent
         reference): pelvis height and tilt over ``--seconds``; exit status 1 if it falls.
  bench  ``warplab bench``'s measurements (raw physics, env steps, policy, PPO) for this task:
         ``warplab_bench.json``.
  train  PPO for ``--iterations`` or ``--minutes`` from the command's start, whichever comes first,
         env steps/s as ``benchmarks/train_task.py`` reports them (per iteration, and the mean over
         the iterations after the fifth): ``warplab_train.json``. Rough: also the policy
         (``warplab_rough_policy.pt``, which ``--init-from`` continues), the curriculum's mean level,
         and with ``--eval-envs N`` the terrain evaluation below right after training.
  evaluate  (rough) ``task_eval.evaluate_rough`` of a trained policy (``--checkpoint``, default the
         one in ``--out``): every terrain type at difficulties 0 to 1, 0.5 m/s forward, and
         ``stairs_top``, the share of the top level's 15 cm steps climbed up and down:
         ``warplab_rough_eval.json``.
  table  reads those files and mjlab's console log (``--mjlab-log``), whose rsl_rl "Steps per
         second" lines are the same quantity, averaged the same way: ``side_by_side.json`` (rough:
         ``side_by_side_rough.json``) and a table with the ratio. Needs nothing but Python, so it
         runs outside both sets.

On the CPU, with mjlab's wheel unpacked outside the repository
(``mkdir -p /tmp/mjlab_wheel && cd /tmp/mjlab_wheel && unzip -q -o .../mjlab-1.6.0-py3-none-any.whl``):

  G1=/tmp/mjlab_wheel/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml
  python benchmarks/mjlab_g1.py stand --g1-xml $G1
  python benchmarks/mjlab_g1.py train --g1-xml $G1 --device cpu --num-envs 4 --iterations 3 --out /tmp/g1
  python benchmarks/mjlab_g1.py train --terrain rough --g1-xml $G1 --device cpu --num-envs 4 --iterations 2 \
    --out /tmp/g1

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

Rough terrain (docs/benchmarking.md): calls 1-6 as above, then two calls on the same warm machine.
Call 7 compiles both sides' kernels with 64 worlds (mjlab's rough start-up compiles its terrain
collisions cold; warplab's ``bench`` measures the rough task on the way); call 8 measures, trains and
evaluates, with a timeout on every part so the call stays under 10 minutes, start-ups included:

  call 7: carry [".carry-mjlab-3"]  command:
  export MUJOCO_GL=disable PYTHONUNBUFFERED=1; ( . .carry-mjlab-3/install.sh && timeout 300 python3 -m \
    mjlab.scripts.train Mjlab-Velocity-Rough-Unitree-G1 --env.scene.num-envs 64 --agent.max-iterations 2 \
    --agent.logger tensorboard > $OUT/mjlab_rough_warmup.log 2>&1; tail -3 $OUT/mjlab_rough_warmup.log ); \
    ( . .carry-2/install.sh && timeout 250 python3 benchmarks/mjlab_g1.py bench --terrain rough \
    --num-envs 4096 --steps 50 --out /tmp/g1rough; cp /tmp/g1rough/* $OUT/ )
  call 8: carry [".carry-mjlab-3"]  command:
  export MUJOCO_GL=disable PYTHONUNBUFFERED=1; ( . .carry-mjlab-3/install.sh && timeout 240 python3 -m \
    mjlab.scripts.train Mjlab-Velocity-Rough-Unitree-G1 --env.scene.num-envs 4096 --agent.max-iterations 40 \
    --agent.logger tensorboard > $OUT/mjlab_rough_train.log 2>&1; grep -a "Steps per second" \
    $OUT/mjlab_rough_train.log | tail -3 ); ( . .carry-2/install.sh && timeout 185 python3 \
    benchmarks/mjlab_g1.py train --terrain rough --num-envs 4096 --minutes 2.6 \
    --tensorboard /tmp/warplab_g1_rough_tb --out /tmp/g1rough; timeout 100 python3 benchmarks/mjlab_g1.py \
    evaluate --terrain rough --eval-envs 1050 --out /tmp/g1rough; cp /tmp/g1rough/* $OUT/ ); python3 \
    benchmarks/mjlab_g1.py table --terrain rough --mjlab-log $OUT/mjlab_rough_train.log --out $OUT

The policy stays in /tmp/g1rough on the machine: a later call continues it for up to 9 minutes
(``train --terrain rough --minutes 9 --init-from /tmp/g1rough/warplab_rough_policy.pt --out
/tmp/g1rough``, then ``evaluate`` as above), while the machine is warm.
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
ROUGH_TASK = "g1-velocity-rough-mjlab"
"""The name of the G1's rough-terrain task (``--terrain rough``)."""
TERRAINS = ("flat", "rough")
MJLAB_TASKS = {"flat": "Mjlab-Velocity-Flat-Unitree-G1", "rough": "Mjlab-Velocity-Rough-Unitree-G1"}
"""mjlab's task ids for the same comparison (its ``tasks/velocity/config/g1/__init__.py``)."""
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
    return _g1_velocity_cfg(g1_robot_cfg(xml, stance_gains), play, MJLAB_SETTINGS)


def _set_physics_options(spec, s: dict) -> None:
    """mjlab's integrator, cone, solver and iteration counts of settings ``s`` on ``spec``."""
    import mujoco

    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
    spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
    spec.option.iterations, spec.option.ls_iterations = s["iterations"], s["ls_iterations"]
    spec.option.ccd_iterations = s["ccd_iterations"]


def _g1_velocity_cfg(robot, play: bool, s: dict):
    # The flat task of ``robot`` with the settings ``s`` (MJLAB_SETTINGS or MJLAB_ROUGH_SETTINGS).
    from warplab.envs import mdp
    from warplab.envs.config import NoiseCfg, ObservationTermCfg
    from warplab.tasks.velocity import DomainRandomizationCfg, VelocityRanges, make_velocity_env_cfg

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
        _set_physics_options(spec, s)
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


# ---------------------------------------------------------------------------------------------- rough task
G1_TOP_RISER_M = 0.15
"""Riser of the G1's stairs at the top level, m. warplab's humanoid climbs 0.12 m at the top, a
building's 0.17-0.18 m riser scaled to its 0.6 m leg; the G1's leg (hip to sole in its home pose,
about 0.7 m) is nearer an adult's, and issue 23 asks 0.15 m of it. The whole riser range is scaled
by the same factor (0.15 / 0.12), so level 0 keeps the humanoid's ratio of easiest to hardest."""

MJLAB_ROUGH_SETTINGS = {
    **MJLAB_SETTINGS,
    "ccd_iterations": 500,
    "njmax": 1500,
    "nconmax": 70,
    "terrain": {
        "tile_size_m": 8.0,
        "border_width_m": 20.0,
        "num_levels": 10,
        "num_cols": 20,
        "max_init_level": 5,
        "curriculum": "up when the base is more than half a tile from the tile's centre at the end of "
        "an episode; down when it covered less than half the commanded distance",
        "height_scan": {"size_m": (1.6, 1.0), "resolution_m": 0.1, "frame": "pelvis, yaw only"},
    },
}
"""mjlab 1.6's ``Mjlab-Velocity-Rough-Unitree-G1`` settings that this task matches, as read from its
wheel: the flat task's (``MJLAB_SETTINGS``; mjlab builds its flat G1 from the rough one) except the
collision work (``config/g1/env_cfgs.py``: 500 CCD iterations, 70 contacts a world; its base task's
1,500 constraint rows a world, which its flat G1 lowers to 300), and the terrain grid, curriculum and
height scan of ``tasks/velocity/velocity_env_cfg.py`` and ``terrains/config.py`` (``ROUGH_TERRAINS_CFG``),
which warplab's rough task has too. The actor sees the scan in both."""

ROUGH_DIFFERENCES = (
    "Terrain types (mjlab's ROUGH_TERRAINS_CFG: flat 0.2, box stairs up and down 0.2 each with risers "
    "0 -> 0.10 m on 0.3 m treads around a 3 m platform, height-field pyramid slopes up and down 0.1 each "
    "with gradients 0 -> 1.0, random rough 0.1 (0.02-0.10 m), waves 0.1 (0 -> 0.2 m); warplab's: flat 0.1, "
    "rough 0.2 (0.01 -> 0.06 m), slopes 0.1 each (0 -> 0.4), stairs 0.2 each with risers 0.025 -> 0.15 m on "
    "0.3 m treads around a 2 m platform, stepping stones 0.1). warplab's stairs are height fields unless "
    "--terrain-representation boxes (mjlab's are boxes).",
    "Commands: warplab's rough task asks forward speed in [0, 1] m/s and no lateral speed (mjlab's rough "
    "G1: the flat task's ranges, [-1, 1] m/s both ways); the yaw rate keeps mjlab's [-0.5, 0.5] rad/s.",
    "Height scan: both read 1.6 m x 1.0 m every 0.1 m around the pelvis, heading-aligned. mjlab casts "
    "its rays at the terrain's geoms each step, scales the distance by 1/5 and adds uniform noise of "
    "+-0.1 m for the actor; warplab reads the generated height grid (no ray casts), clips to +-1 m and "
    "gives the actor +-0.02 m noise, a one-step delay, 5 % dropout and a per-episode offset of +-0.03 m.",
    "Foot sensors: mjlab's rough G1 also casts 2 x 6 rays for the feet's height (critic and foot "
    "clearance rewards) and its contact sensors match up to 500 contacts; warplab has neither.",
    "Terminations: mjlab also ends an episode (as a time-out) when the robot leaves the terrain; warplab's "
    "20 m border leaves room, and both end on a 70 degree tilt alone.",
    "Play mode: mjlab's plays a 5 x 5 grid with random levels; warplab's one tile of each type at the "
    "middle difficulty (the evaluation builds its own grid).",
)
"""Every setting of mjlab's G1 rough task that this task does not match, beyond the flat task's
``DIFFERENCES`` (which hold here too, but for the floor)."""


def g1_rough_terrain_cfg(play: bool = False, representation: str = "hfield"):
    """warplab's rough terrain (``rough_terrain_cfg``) with the stairs' risers scaled so that the top
    level's is ``G1_TOP_RISER_M``; everything else as the humanoid's."""
    from warplab.tasks.velocity.rough_env_cfg import rough_terrain_cfg

    terrain = rough_terrain_cfg(play, representation)
    low, high = terrain.step_height_range
    scale = G1_TOP_RISER_M / high
    terrain.step_height_range = (low * scale, G1_TOP_RISER_M)
    return terrain


def make_g1_rough_env_cfg(
    xml: Path | str = DEFAULT_G1_XML,
    play: bool = False,
    stance_gains: bool = True,
    terrain_representation: str = "hfield",
):
    """warplab's rough-terrain velocity task on the G1 of ``xml``, with mjlab's rough G1 settings
    (``MJLAB_ROUGH_SETTINGS``; ``ROUGH_DIFFERENCES`` says what differs).

    The G1's flat task (``make_g1_env_cfg``, with the rough task's collision settings) moved onto the
    terrain of ``g1_rough_terrain_cfg`` by ``add_rough_terrain``, the humanoid's rough task's own
    builder: spawn at the tile centres, the ``terrain_levels`` curriculum, the critic's height scan.
    The actor sees the scan as well (``add_policy_height_scan``, as ``humanoid-velocity-rough-scan``),
    as mjlab's G1 actor does. Commands: the rough task's forward-only speeds, mjlab's yaw rates.
    """
    from warplab.tasks.velocity import add_policy_height_scan, add_rough_terrain

    s = MJLAB_ROUGH_SETTINGS
    robot = g1_robot_cfg(xml, stance_gains)
    cfg = _g1_velocity_cfg(robot, play, s)
    terrain = g1_rough_terrain_cfg(play, terrain_representation)
    add_rough_terrain(cfg, robot, terrain, nconmax=s["nconmax"], njmax=s["njmax"])
    terrain_scene = cfg.scene

    def scene():
        spec = terrain_scene()
        _set_physics_options(spec, s)
        return spec

    cfg.scene = scene
    add_policy_height_scan(cfg, play)
    command = cfg.commands["base_velocity"].params
    command["lin_vel_x"], command["lin_vel_y"] = (0.0, 1.0), (0.0, 0.0)
    return cfg


def make_g1_agent_cfg(task: str = TASK):
    """PPO with mjlab's G1 settings (``MJLAB_SETTINGS["ppo"]``, the same for its flat and rough tasks),
    under the experiment name ``task``."""
    from warplab.tasks.velocity import make_velocity_agent_cfg

    p = dict(MJLAB_SETTINGS["ppo"])
    agent = make_velocity_agent_cfg(task)
    agent.policy.actor_hidden_dims = agent.policy.critic_hidden_dims = p.pop("hidden_dims")
    agent.policy.init_noise_std = p.pop("init_noise_std")
    for name, value in p.items():
        setattr(agent.ppo, name, value)
    return agent


def task_name(terrain: str) -> str:
    """The name this script registers the G1 task on ``terrain`` ("flat" or "rough") under."""
    if terrain not in TERRAINS:
        raise ValueError(f"terrain must be one of {TERRAINS}, got {terrain!r}")
    return TASK if terrain == "flat" else ROUGH_TASK


def register(
    xml: Path | str, stance_gains: bool = True, terrain: str = "flat", terrain_representation: str = "hfield"
) -> str:
    """Registers the G1 task on ``terrain`` for the G1 of ``xml`` (once per process); returns its name.
    ``terrain_representation``: the rough terrain's (``make_g1_rough_env_cfg``)."""
    from warplab.tasks import register_task
    from warplab.tasks.registry import _TASKS

    name = task_name(terrain)
    if name in _TASKS:
        return name
    if terrain == "flat":
        env_factory = lambda play=False: make_g1_env_cfg(xml, play=play, stance_gains=stance_gains)  # noqa: E731
        about = "warplab's velocity task on mjlab's G1 file, with mjlab's G1 flat settings."
    else:
        env_factory = lambda play=False: make_g1_rough_env_cfg(  # noqa: E731
            xml, play=play, stance_gains=stance_gains, terrain_representation=terrain_representation
        )
        about = "warplab's rough-terrain velocity task on mjlab's G1 file, with mjlab's G1 rough settings."
    register_task(
        name,
        env_factory,
        lambda: make_g1_agent_cfg(name),
        about,
        num_envs_gpu=NUM_ENVS,
        num_envs_cpu=4,
    )
    return name


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
def output_files(terrain: str = "flat") -> dict[str, str]:
    """The names of the files each mode writes under ``--out`` for ``terrain``: the flat names as they
    always were, the rough ones with ``rough`` in them, so both comparisons can share one folder."""
    tag = "" if terrain == "flat" else "_rough"
    return {
        "bench": f"warplab{tag}_bench.json",
        "train": f"warplab{tag}_train.json",
        "policy": f"warplab{tag}_policy.pt",
        "eval": f"warplab{tag}_eval.json",
        "table": f"side_by_side{tag}.json",
    }


def bench(num_envs: list[int], device: str, steps: int, out: Path, terrain: str = "flat") -> dict:
    """``warplab bench``'s four measurements for the G1 task on ``terrain`` (registered first);
    writes ``out/warplab_bench.json`` (rough: ``warplab_rough_bench.json``)."""
    from warplab.bench import BenchArgs, run

    args = BenchArgs(
        task=[task_name(terrain)],
        num_envs=num_envs,
        device=device,
        steps=steps,
        json=out / output_files(terrain)["bench"],
    )
    return run(args, command=" ".join(sys.argv))


def train(
    num_envs: int,
    device: str,
    iterations: int | None,
    minutes: float | None,
    tensorboard: Path | None,
    terrain: str = "flat",
    policy_path: Path | None = None,
    init_from: Path | None = None,
):
    """PPO on the G1 task on ``terrain`` (registered first) for ``iterations`` more, or until
    ``minutes`` after this command started, whichever comes first.

    Rows and the summary carry the fields of ``benchmarks/train_task.py``: per iteration the
    collection and total env steps per second (samples over collection time, and over collection
    plus update time: rsl_rl's ``Perf/total_fps``), and their means over the iterations after the fifth.
    ``tensorboard``: a folder to log each iteration's scalars to, as mjlab's run does (None: no log).
    ``policy_path``: where to save the trained runner's state (weights, normalizers, optimizer; not the
    env's) for ``evaluate`` and ``init_from``. ``init_from``: such a file to continue from (the worlds
    start again from the curriculum's first levels).

    Returns the summary and the trained policy.
    """
    import torch
    from train_task import progress_row  # benchmarks/ is this script's folder, first on sys.path

    from warplab.envs.rl_env import RlEnv
    from warplab.rl import OnPolicyRunner
    from warplab.tasks import get_task, make_env_cfg

    task = task_name(terrain)
    env_cfg = make_env_cfg(task)
    env_cfg.num_envs, env_cfg.device = num_envs, device
    agent = get_task(task).agent_cfg_factory()
    agent.logger, agent.console, agent.save_interval = "none", "lines", 10**9
    env = RlEnv(env_cfg)
    runner = OnPolicyRunner(env, agent, log_dir=None)
    if init_from is not None:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="resuming from .* without the env's state")
            runner.load(init_from)
        print(f"continuing from {init_from} at iteration {runner.iteration}", flush=True)
    first_iteration = runner.iteration
    writer = None
    if tensorboard is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(tensorboard), flush_secs=10)
    startup_s = time.perf_counter() - T0
    curve = []

    def more() -> bool:
        # Whichever limit comes first; a wall-clock cap keeps a slow run inside its device call.
        if iterations is not None and runner.iteration - first_iteration >= iterations:
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
    if policy_path is not None:
        from warplab.rl.checkpoint import save_checkpoint

        # Without the env's state of thousands of worlds, which would make the file too large to bring back.
        state = runner.state()
        state.update(env_state=None, last_obs=None)
        save_checkpoint(policy_path, state)
    steady = curve[5:] or curve
    summary = {
        "side": "warplab",
        "task": task,
        "terrain": terrain,
        "device": torch.cuda.get_device_name() if device != "cpu" and torch.cuda.is_available() else "cpu",
        "num_envs": num_envs,
        "startup_s": startup_s,
        "train_wall_s": time.perf_counter() - T0,
        "iterations": runner.iteration - first_iteration,
        "first_iteration": first_iteration,
        "init_from": None if init_from is None else str(init_from),
        "mean_collect_steps_per_s": _mean(r["collect_steps_per_s"] for r in steady),
        "mean_total_steps_per_s": _mean(r["total_steps_per_s"] for r in steady),
        "mean_collection_s": _mean(r["collection_s"] for r in steady),
        "mean_learning_s": _mean(r["learning_s"] for r in steady),
        "njmax": env.sim.capacity.njmax,
        "nconmax": env.sim.capacity.nconmax,
        "observation_shapes": {g: list(v) for g, v in env.observation_shapes.items()},
        "action_dim": env.action_dim,
        "settings": MJLAB_SETTINGS if terrain == "flat" else MJLAB_ROUGH_SETTINGS,
        "differences_from_mjlab": list(DIFFERENCES if terrain == "flat" else DIFFERENCES + ROUGH_DIFFERENCES),
        "curve": curve,
    }
    if terrain == "rough":
        from warplab.envs.mdp.terrain import terrain_levels_term

        # Where the curriculum has taken the worlds (level 0 to 9): how far the training got.
        levels = terrain_levels_term(env).levels.float()
        summary.update(terrain_level_mean=float(levels.mean()), terrain_level_max=int(levels.max()))
    return summary, runner.policy


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


# ---------------------------------------------------------------------------------------------- evaluate
def evaluate(
    policy,
    num_envs: int,
    episode_s: float = 20.0,
    device: str = "auto",
    types: tuple[str, ...] = (),
    difficulties: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
) -> dict:
    """``task_eval.evaluate_rough`` of the G1 rough task (registered first) with ``policy``: each of
    ``types`` (empty: every terrain type) at each of ``difficulties``, walking forward at 0.5 m/s for
    ``episode_s``; ``num_envs`` worlds in all. Adds ``stairs_top``: for stairs up and down at the
    highest difficulty, the riser (m), the steps to the rim and the share of them climbed
    (``steps_reached / steps_to_rim``, mean over worlds)."""
    import task_eval  # benchmarks/ is this script's folder, first on sys.path
    import torch

    from warplab.envs.rl_env import RlEnv

    def build_env(cfg, n):
        cfg.num_envs, cfg.seed, cfg.device = n, task_eval.EVAL_SEED, device
        return RlEnv(cfg)

    rough = task_eval.RoughEvalCfg(
        task=ROUGH_TASK, types=tuple(types), difficulties=tuple(difficulties), episode_s=episode_s
    )
    result = task_eval.evaluate_rough(policy, num_envs, rough, build_env=build_env)
    top = max(c["difficulty"] for c in result["cells"])
    result["stairs_top"] = {
        c["type"]: {
            "step_height_m": c["step_height_m"],
            "steps_to_rim": c["steps_to_rim"],
            "steps_reached": c["steps_reached"],
            "share_of_steps": c["steps_reached"] / c["steps_to_rim"] if c["steps_to_rim"] else None,
            "fall": c["fall"],
        }
        for c in result["cells"]
        if c["type"].startswith("stairs") and c["difficulty"] == top
    }
    result["device"] = (
        torch.cuda.get_device_name() if device != "cpu" and torch.cuda.is_available() else "cpu"
    )
    return result


# ---------------------------------------------------------------------------------------------- mjlab's log, table
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def read_mjlab_log(path: Path, terrain: str = "flat") -> dict:
    """Per-iteration steps/s, collection and learning times from rsl_rl's console log of an mjlab run
    (of ``MJLAB_TASKS[terrain]``), and their means over the iterations after the fifth (as for warplab)."""
    text = _ANSI.sub("", Path(path).read_text(errors="replace"))
    fps = [float(v) for v in re.findall(r"Steps per second:\s*([0-9.]+)", text)]
    collection = [float(v) for v in re.findall(r"Collection time:\s*([0-9.]+)s", text)]
    learning = [float(v) for v in re.findall(r"Learning time:\s*([0-9.]+)s", text)]
    steady = slice(5, None) if len(fps) > 5 else slice(None)
    return {
        "side": "mjlab",
        "task": MJLAB_TASKS[terrain],
        "log": str(path),
        "iterations": len(fps),
        "mean_total_steps_per_s": _mean(fps[steady]),
        "mean_collection_s": _mean(collection[steady]),
        "mean_learning_s": _mean(learning[steady]),
        "total_steps_per_s": fps,
    }


def table(out: Path, mjlab_log: Path | None, terrain: str = "flat") -> dict:
    """Reads warplab's train and bench files for ``terrain`` (``output_files``), its terrain evaluation
    (rough) and mjlab's log from ``out``; writes ``side_by_side.json`` (rough: ``side_by_side_rough.json``)
    and prints one table."""
    from warplab.atomic_files import atomic_write_json

    files = output_files(terrain)
    result: dict = {"terrain": terrain, "warplab": None, "mjlab": None, "bench": None}
    for key in ("train", "bench", "eval"):
        if (out / files[key]).exists():
            result["warplab" if key == "train" else key] = json.loads((out / files[key]).read_text())
    if mjlab_log is not None and mjlab_log.exists():
        result["mjlab"] = read_mjlab_log(mjlab_log, terrain)
    w, m = result["warplab"] or {}, result["mjlab"] or {}
    ratio = None
    if w.get("mean_total_steps_per_s") and m.get("mean_total_steps_per_s"):
        ratio = w["mean_total_steps_per_s"] / m["mean_total_steps_per_s"]
    result["ratio_warplab_over_mjlab"] = ratio
    lines = [f"G1 on {terrain} ground ({MJLAB_TASKS[terrain]} against {task_name(terrain)})"]
    lines.append("side      iterations  env steps/s (training)  collection s/it  learning s/it")
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
    for kind, c in ((result.get("eval") or {}).get("stairs_top") or {}).items():
        lines.append(
            f"warplab {kind} at {c['step_height_m']:.3f} m: {_fmt(c['steps_reached'], '.1f')} of "
            f"{c['steps_to_rim']} steps ({_fmt(c['share_of_steps'], '.0%')}), falls {_fmt(c['fall'], '.0%')}"
        )
    atomic_write_json(out / files["table"], result, indent=1)
    print("\n".join(lines))
    return result


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


# ---------------------------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("stand", "bench", "train", "evaluate", "table"))
    ap.add_argument(
        "--g1-xml", type=Path, default=DEFAULT_G1_XML, help="mjlab's g1.xml (default: %(default)s)"
    )
    ap.add_argument(
        "--terrain",
        choices=TERRAINS,
        default="flat",
        help="bench, train, evaluate, table: mjlab's flat G1 task or its rough one (default: %(default)s)",
    )
    ap.add_argument(
        "--terrain-representation",
        choices=("hfield", "boxes"),
        default="hfield",
        help="rough: the terrain as height fields, or stairs, stones and flat tiles as boxes (mjlab's stairs)",
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
    ap.add_argument(
        "--init-from", type=Path, default=None, help="train: continue from a policy file train wrote"
    )
    ap.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="evaluate: the policy file (default: --out's warplab_rough_policy.pt)",
    )
    ap.add_argument(
        "--eval-envs",
        type=int,
        default=0,
        help="train --terrain rough: after training, evaluate with this many worlds (0: no evaluation); "
        "evaluate: the worlds (default 1,050, 30 a cell)",
    )
    ap.add_argument("--eval-episode-s", type=float, default=20.0, help="evaluate: episode length, s")
    ap.add_argument("--mjlab-log", type=Path, default=None, help="table: mjlab's console log")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = output_files(args.terrain)
    if args.mode == "table":
        table(args.out, args.mjlab_log, args.terrain)
        return 0
    from warplab.atomic_files import atomic_write_json

    register(
        args.g1_xml,
        stance_gains=not args.armature_gains_only,
        terrain=args.terrain,
        terrain_representation=args.terrain_representation,
    )
    if args.mode == "stand":
        result = stand(args.g1_xml, args.seconds, stance_gains=not args.armature_gains_only)
        atomic_write_json(args.out / "g1_stand.json", result, indent=1)
        print(json.dumps(result, indent=1))
        return 0 if result["stood"] else 1
    if args.mode == "bench":
        bench(args.num_envs, args.device, args.steps, args.out, args.terrain)
        return 0
    if args.mode in ("evaluate",) or (args.mode == "train" and args.eval_envs > 0):
        if args.terrain != "rough":
            ap.error("the terrain evaluation needs --terrain rough")
    if args.mode == "evaluate":
        from warplab.rl.inference import load_policy
        from warplab.sim import resolve_device

        checkpoint = args.checkpoint or args.out / files["policy"]
        policy, _ = load_policy(checkpoint, device=resolve_device(args.device))
        result = evaluate(policy, args.eval_envs or 1050, args.eval_episode_s, args.device)
        result["checkpoint"] = str(checkpoint)
        _write_eval(args.out / files["eval"], result)
        return 0
    if args.iterations is None and args.minutes is None:
        ap.error("train needs --iterations or --minutes")
    summary, policy = train(
        args.num_envs[0],
        args.device,
        args.iterations,
        args.minutes,
        args.tensorboard,
        terrain=args.terrain,
        policy_path=args.out / files["policy"] if args.terrain == "rough" else None,
        init_from=args.init_from,
    )
    atomic_write_json(args.out / files["train"], summary, indent=1)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("curve", "settings")}, indent=1))
    if args.eval_envs > 0:
        policy.eval()
        result = evaluate(policy, args.eval_envs, args.eval_episode_s, args.device)
        result["checkpoint"] = str(args.out / files["policy"])
        _write_eval(args.out / files["eval"], result)
    return 0


def _write_eval(path: Path, result: dict) -> None:
    from warplab.atomic_files import atomic_write_json

    atomic_write_json(path, result, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k not in ("per_world", "cells")}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
