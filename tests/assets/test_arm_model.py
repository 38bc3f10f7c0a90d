"""warplab's arm: published limits and kinematics, mass properties, gains, gravity compensation, holding,
the gripper, a grasp and lift, the arm with the hand, and MuJoCo Warp.

Everything but the MuJoCo Warp test runs on MuJoCo's C engine and takes well under a second.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch
from mass_properties import assert_mass_and_inertia_physical  # tests/assets is on the path

from warplab.assets import build_robot_spec
from warplab.assets.inspect import inspect_robot
from warplab.assets.robots import (
    ARM_ROBOT_CFG,
    ARM_WITH_HAND_ROBOT_CFG,
    arm_spec,
    arm_with_hand_spec,
    arm_with_table_and_object_spec,
)
from warplab.assets.robots.arm import (
    ARM_JOINTS,
    ARM_MASS,
    CUBE_HALF_SIZE,
    FINGER_DAMPING,
    GRIPPER_KP,
    GRIPPER_MASS,
    HAND_PREFIX,
    OMEGA,
    REACH,
    TABLE_HEIGHT,
)
from warplab.assets.robots.hand import HAND_HOME, HAND_JOINT_NAMES

# The Franka control interface's published limits for the Panda arm, copied here from the
# specification (not from the model): q_min, q_max (rad), dq_max (rad/s), tau_max (N·m).
DATASHEET = {
    "joint1": (-2.8973, 2.8973, 2.1750, 87.0),
    "joint2": (-1.7628, 1.7628, 2.1750, 87.0),
    "joint3": (-2.8973, 2.8973, 2.1750, 87.0),
    "joint4": (-3.0718, -0.0698, 2.1750, 87.0),
    "joint5": (-2.8973, 2.8973, 2.6100, 12.0),
    "joint6": (-0.0175, 3.7525, 2.6100, 12.0),
    "joint7": (-2.8973, 2.8973, 2.6100, 12.0),
}
# Its Denavit-Hartenberg table (Craig's convention): a, d, alpha per joint, then the flange.
DH_TABLE = [
    (0.0, 0.333, 0.0),
    (0.0, 0.0, -math.pi / 2),
    (0.0, 0.316, math.pi / 2),
    (0.0825, 0.0, math.pi / 2),
    (-0.0825, 0.384, -math.pi / 2),
    (0.0, 0.0, math.pi / 2),
    (0.088, 0.0, math.pi / 2),
]
FLANGE = (0.0, 0.107, 0.0)
ARM = list(DATASHEET)
HOLD_SECONDS = 2.0


@pytest.fixture(scope="module")
def arm() -> mujoco.MjModel:
    return arm_spec().compile()


@pytest.fixture(scope="module")
def scene() -> mujoco.MjModel:
    return arm_with_table_and_object_spec().compile()


def _home(model: mujoco.MjModel) -> mujoco.MjData:
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    return data


def _dh_flange(q: np.ndarray) -> np.ndarray:
    """The flange's pose [4, 4] in the base frame by the DH product, written out independently."""

    def link(a: float, d: float, alpha: float, theta: float) -> np.ndarray:
        ca, sa, ct, st = math.cos(alpha), math.sin(alpha), math.cos(theta), math.sin(theta)
        return np.array(
            [
                [ct, -st, 0.0, a],
                [st * ca, ct * ca, -sa, -d * sa],
                [st * sa, ct * sa, ca, d * ca],
                [0.0, 0.0, 0.0, 1.0],
            ]
        )

    pose = np.eye(4)
    for (a, d, alpha), theta in zip([*DH_TABLE, FLANGE], [*q, 0.0], strict=True):
        pose = pose @ link(a, d, alpha, theta)
    return pose


# ---------------------------------------------------------------------------- structure and limits
def test_joints_and_actuators_in_action_order(arm):
    assert list(ARM_ROBOT_CFG.joint_names) == [*ARM, "finger_left"]
    assert (arm.njnt, arm.nq, arm.nv, arm.nu) == (9, 9, 9, 8)
    assert [arm.joint(j).name for j in range(arm.njnt)] == [*ARM, "finger_left", "finger_right"]
    assert all(arm.jnt_type[:7] == mujoco.mjtJoint.mjJNT_HINGE)
    assert all(arm.jnt_type[7:] == mujoco.mjtJoint.mjJNT_SLIDE)
    base = arm.body("link0")
    assert base.parentid[0] == 0 and base.jntnum[0] == 0  # fixed to the world
    for a, name in enumerate([*ARM, "finger_left"]):
        assert arm.actuator(a).name == name
        assert arm.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT
        assert arm.joint(arm.actuator_trnid[a, 0]).name == name
    # One actuator for the gripper: the right finger follows through the equality.
    assert arm.neq == 1 and arm.eq_type[0] == mujoco.mjtEq.mjEQ_JOINT
    assert {arm.joint(arm.eq_obj1id[0]).name, arm.joint(arm.eq_obj2id[0]).name} == {
        "finger_left",
        "finger_right",
    }


def test_joint_ranges_and_limits_equal_the_datasheet(arm):
    for i, (name, (low, high, speed, torque)) in enumerate(DATASHEET.items()):
        np.testing.assert_array_equal(arm.joint(name).range, [low, high])
        np.testing.assert_array_equal(arm.actuator(name).ctrlrange, [low, high])
        np.testing.assert_array_equal(arm.actuator(name).forcerange, [-torque, torque])
        # Servo plus gravity compensation share the motor's limit.
        np.testing.assert_array_equal(arm.jnt_actfrcrange[i], [-torque, torque])
        assert arm.jnt_actfrclimited[i] and arm.jnt_actgravcomp[i]
        joint = ARM_JOINTS[i]
        assert (joint.velocity_limit, joint.torque_limit) == (speed, torque)
    np.testing.assert_array_equal(arm.jnt_range[7:], [[0.0, 0.04]] * 2)
    np.testing.assert_array_equal(arm.actuator("finger_left").ctrlrange, [0.0, 0.04])
    np.testing.assert_array_equal(arm.actuator("finger_left").forcerange, [-140.0, 140.0])


def test_kinematics_follow_the_published_parameters(arm):
    """At random joint angles the flange site is where the DH product puts it, and qpos is the
    published joint angle; in ``home`` the TCP is where the Franka robot's ready pose puts it."""
    data = mujoco.MjData(arm)
    rng = np.random.default_rng(0)
    lo, hi = arm.jnt_range[:7].T
    for _ in range(20):
        q = rng.uniform(lo, hi)
        data.qpos[:7] = q
        mujoco.mj_kinematics(arm, data)
        pose = _dh_flange(q)
        np.testing.assert_allclose(data.site("flange").xpos, pose[:3, 3], atol=1e-12)
        np.testing.assert_allclose(data.site("flange").xmat.reshape(3, 3), pose[:3, :3], atol=1e-12)
    data = _home(arm)
    np.testing.assert_allclose(
        arm.qpos0[:7], [0, -math.pi / 4, 0, -3 * math.pi / 4, 0, math.pi / 2, math.pi / 4]
    )
    # Worked out by hand in the x-z plane, where joints 2, 4 and 6 turn about y (2: +y, 4 and 6: -y),
    # Ry(t) taking (x, z) to (x cos t + z sin t, -x sin t + z cos t). Shoulder (0, 0.333); elbow
    # = shoulder + Ry(q2 = -pi/4) (0.0825, 0.316) = (-0.16511, 0.61478); wrist = elbow +
    # Ry(q2 - q4 = pi/2) (-0.0825, 0.384) = (0.21889, 0.69728); TCP = wrist + Ry(q2 - q4 - q6 = 0)
    # (0.088, -0.107 - 0.1034) = (0.30689, 0.48688): the Franka robot's ready pose.
    np.testing.assert_allclose(data.site("ee").xpos, [0.30689, 0.0, 0.48688], atol=1e-5)
    # The TCP points down, the fingers open along the base's y.
    np.testing.assert_allclose(data.site("ee").xmat.reshape(3, 3), np.diag([1.0, -1.0, -1.0]), atol=1e-12)
    gap = data.site("finger_left_tip").xpos - data.site("finger_right_tip").xpos
    np.testing.assert_allclose(gap, [0.0, -0.08, 0.0], atol=1e-12)


def test_reach(arm):
    """The farthest the flange gets from the shoulder (joint 2's axis point) within the ranges, found
    by projected gradient ascent from random starts, is the published 0.855 m."""
    data = mujoco.MjData(arm)
    shoulder = np.array([0.0, 0.0, 0.333])
    lo, hi = arm.jnt_range[:7].T
    jac = np.zeros((3, arm.nv))
    rng = np.random.default_rng(1)
    best = 0.0
    for _ in range(8):
        q = rng.uniform(lo, hi)
        for _ in range(150):
            data.qpos[:7] = q
            mujoco.mj_kinematics(arm, data)
            mujoco.mj_comPos(arm, data)
            offset = data.site("flange").xpos - shoulder
            mujoco.mj_jacSite(arm, data, jac, None, arm.site("flange").id)
            q = np.clip(q + 2.0 * jac[:, :7].T @ offset, lo, hi)
        best = max(best, float(np.linalg.norm(offset)))
    assert REACH == 0.855
    assert best == pytest.approx(REACH, abs=0.01)


# ---------------------------------------------------------------------------- mass properties
def test_mass_and_inertia_are_physical(arm):
    assert_mass_and_inertia_physical(arm)
    gripper = arm.body_subtreemass[arm.body("gripper").id]
    assert GRIPPER_MASS == pytest.approx(0.73) and ARM_MASS == 18.0  # Franka: about 0.7 kg and 18 kg
    assert gripper == pytest.approx(GRIPPER_MASS)
    assert arm.body_subtreemass[0] - gripper == pytest.approx(ARM_MASS)
    # Published link masses (Gaz et al. 2019), rounded, and the base with the rest.
    masses = [
        arm.body_subtreemass[arm.body(f"link{i}").id] - arm.body_subtreemass[arm.body(f"link{i + 1}").id]
        for i in range(7)
    ]
    np.testing.assert_allclose(masses, [1.92, 4.97, 0.65, 3.23, 3.59, 1.23, 1.67], atol=1e-9)


# ---------------------------------------------------------------------------- gains and gravity
def test_gains_follow_the_rule(arm):
    """kp = I * (2 pi 10 Hz)², kd = 2 kp / omega, where I is the diagonal of MuJoCo's mass matrix in home."""
    data = _home(arm)
    mass_matrix = np.zeros((arm.nv, arm.nv))
    mujoco.mj_fullM(arm, data, mass_matrix)
    inertia = np.diag(mass_matrix)[:7]
    np.testing.assert_allclose([j.inertia for j in ARM_JOINTS], inertia, rtol=2e-3)
    # Worked out by hand for joint 2: 1.443 * (20 pi)² = 5696.8 N·m/rad, kd = 2 * 5696.8 / (20 pi) = 181.3.
    assert ARM_JOINTS[1].kp == pytest.approx(5696.8, rel=1e-4)
    assert ARM_JOINTS[1].kd == pytest.approx(181.34, rel=1e-4)
    for a, joint in enumerate(ARM_JOINTS):
        assert joint.kp == pytest.approx(joint.inertia * OMEGA**2)
        assert arm.actuator_gainprm[a, 0] == pytest.approx(joint.kp)
        assert arm.actuator_biasprm[a, 1] == pytest.approx(-joint.kp)
        assert arm.actuator_biasprm[a, 2] == pytest.approx(-joint.kd)
        assert arm.dof_armature[a] == joint.armature and arm.dof_damping[a] == joint.damping
        assert arm.dof_frictionloss[a] == joint.frictionloss
    # The gripper: full force (140 N on the driven finger) at 5 mm, and 700 N·s/m per finger.
    assert GRIPPER_KP == pytest.approx(28000.0) and FINGER_DAMPING == pytest.approx(700.0)
    assert arm.actuator_gainprm[7, 0] == pytest.approx(28000.0)
    np.testing.assert_allclose(arm.dof_damping[7:], 700.0)
    for group, joint in zip(ARM_ROBOT_CFG.actuators, ARM_JOINTS, strict=False):
        assert (group.joints, group.kp, group.kd, group.effort_limit) == (
            joint.name,
            joint.kp,
            joint.kd,
            joint.torque_limit,
        )


def test_gravity_compensation_cancels_gravity(arm):
    """At rest in home with ctrl = home, each arm joint's actuator force is the gravity torque
    (``qfrc_bias`` at rest); without compensation the servos sag by that torque over kp."""
    data = _home(arm)
    assert np.abs(data.qfrc_bias[:7]).max() > 10.0  # there is gravity to cancel (17 N·m at joint 4)
    np.testing.assert_allclose(data.qfrc_actuator[:7], data.qfrc_bias[:7], atol=1e-9)
    model = arm_spec().compile()
    model.body_gravcomp[:] = 0.0
    data = _home(model)
    gravity = data.qfrc_bias[:7].copy()
    for _ in range(600):
        mujoco.mj_step(model, data)
    sag = data.qpos[:7] - data.ctrl[:7]
    expected = -gravity / np.array([j.kp for j in ARM_JOINTS])
    big = np.abs(expected) > 1e-3  # joints 4 and 6: 5.4 and 7.6 mrad
    assert big.sum() == 2
    np.testing.assert_allclose(sag[big], expected[big], rtol=0.05)


def test_holds_home_on_its_servos(arm):
    """ctrl = home for 2 s: every arm joint stays within 1e-4 rad of its target and at rest."""
    data = _home(arm)
    err = []
    for _ in range(round(HOLD_SECONDS / arm.opt.timestep)):
        mujoco.mj_step(arm, data)
        err.append(np.abs(data.qpos[:8] - data.ctrl[:8]).max())
    assert max(err) < 1e-4
    assert np.abs(data.qvel).max() < 1e-4
    np.testing.assert_allclose(data.qpos[7:], 0.04, atol=1e-6)  # the gripper stays open


# ---------------------------------------------------------------------------- the gripper
def test_gripper_closes_at_its_speed_and_squeezes_with_its_force(scene):
    """In free air the fingers close together at 0.1 m/s; on a 5 cm cube each pad presses 70 N."""
    model = arm_spec().compile()
    data = _home(model)
    data.ctrl[7] = 0.0
    positions = []
    for _ in range(60):
        mujoco.mj_step(model, data)
        positions.append(data.qpos[7:9].copy())
    positions = np.array(positions)
    speed = -np.diff(positions[10:, 0]) / model.opt.timestep
    np.testing.assert_allclose(speed, 0.1, rtol=0.03)
    assert np.abs(positions[:, 0] - positions[:, 1]).max() < 1e-3  # the coupling holds them together

    # The cube held in the air by the pads alone: the scene's cube, put at the TCP between pads
    # opened half a millimetre wider than it, so that they catch it before it falls.
    data = _home(scene)
    cube = scene.body("cube")
    qadr = scene.jnt_qposadr[cube.jntadr[0]]
    data.qpos[qadr : qadr + 3] = data.site("ee").xpos
    data.qpos[7:9] = CUBE_HALF_SIZE + 0.0005
    data.ctrl[7] = 0.0
    mujoco.mj_forward(scene, data)
    for _ in range(200):
        mujoco.mj_step(scene, data)
    force = np.zeros(6)
    pressed = {"finger_left_pad": 0.0, "finger_right_pad": 0.0}
    for i, contact in enumerate(data.contact[: data.ncon]):
        names = {scene.geom(g).name for g in contact.geom}
        mujoco.mj_contactForce(scene, data, i, force)
        for pad in pressed:
            if names == {pad, "cube"}:
                pressed[pad] += force[0]
    assert pressed["finger_left_pad"] == pytest.approx(70.0, rel=0.02)
    assert pressed["finger_right_pad"] == pytest.approx(70.0, rel=0.02)
    # The pads stand 1.5 mm or less inside the cube's faces.
    assert data.qpos[7] > CUBE_HALF_SIZE - 0.002 and data.qpos[8] > CUBE_HALF_SIZE - 0.002


def _ik(model, data, q0, site, position, rotation):
    """Joint angles [7] that put ``site`` at ``position`` with ``rotation``, by damped least squares."""
    work = mujoco.MjData(model)
    work.qpos[:] = data.qpos
    work.qpos[:7] = q0
    lo, hi = model.jnt_range[:7].T
    jacp, jacr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
    for _ in range(100):
        mujoco.mj_kinematics(model, work)
        mujoco.mj_comPos(model, work)
        current = work.site(site).xmat.reshape(3, 3)
        error = np.concatenate(
            [position - work.site(site).xpos, 0.5 * np.cross(current, rotation, axis=0).sum(axis=1)]
        )
        mujoco.mj_jacSite(model, work, jacp, jacr, model.site(site).id)
        jac = np.vstack([jacp, jacr])[:, :7]
        work.qpos[:7] = np.clip(
            work.qpos[:7] + jac.T @ np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), error), lo, hi
        )
    assert np.abs(error).max() < 1e-6
    return work.qpos[:7].copy()


def test_grasps_and_lifts_a_cube(scene):
    """A scripted joint trajectory: over the cube, down, close, lift 10 cm, hold. The cube rises
    10 cm with the TCP and stays centred between the pads, pressed by both."""
    data = _home(scene)
    rotation = data.site("ee").xmat.reshape(3, 3).copy()
    cube = data.body("cube").xpos.copy()
    home = data.qpos[:7].copy()
    above = _ik(scene, data, home, "ee", cube + [0, 0, 0.1], rotation)
    grasp = _ik(scene, data, above, "ee", cube, rotation)
    lifted = _ik(scene, data, grasp, "ee", cube + [0, 0, 0.1], rotation)
    dt = scene.opt.timestep

    def move(start, end, seconds, gripper):
        steps = round(seconds / dt)
        for k in range(1, steps + 1):
            s = k / steps
            data.ctrl[:7] = start + (3 * s**2 - 2 * s**3) * (end - start)  # smooth start and stop
            data.ctrl[7] = gripper
            mujoco.mj_step(scene, data)

    move(home, above, 1.0, 0.04)
    move(above, grasp, 1.0, 0.04)
    move(grasp, grasp, 0.6, 0.0)  # close
    z_before = data.body("cube").xpos[2]
    move(grasp, lifted, 1.0, 0.0)
    move(lifted, lifted, 0.5, 0.0)
    assert data.body("cube").xpos[2] - z_before == pytest.approx(0.10, abs=0.003)
    # Between the pads: the cube's centre in the gripper's frame sits at the TCP, within 2 mm.
    ee = data.site("ee")
    offset = ee.xmat.reshape(3, 3).T @ (data.body("cube").xpos - ee.xpos)
    assert np.abs(offset).max() < 0.002
    touching = {tuple(sorted(scene.geom(g).name for g in c.geom)) for c in data.contact[: data.ncon]}
    assert touching == {("cube", "finger_left_pad"), ("cube", "finger_right_pad")}
    assert np.abs(data.qvel[-6:]).max() < 1e-2  # at rest in the grip


# ---------------------------------------------------------------------------- the scene
def test_table_scene_home(scene):
    data = _home(scene)
    assert data.site("ee").xpos[2] == pytest.approx(TABLE_HEIGHT + 0.48688, abs=1e-5)  # over the table
    assert data.body("cube").xpos[2] == pytest.approx(TABLE_HEIGHT + CUBE_HALF_SIZE)
    pairs = {tuple(sorted(scene.geom(g).name for g in c.geom)) for c in data.contact[: data.ncon]}
    assert pairs == {("cube", "table")}
    np.testing.assert_allclose(scene.key("home").qpos[:9], arm_spec().compile().qpos0)
    for bad, match in (
        ({"cube_half_size": 0.05}, "cube_half_size"),
        ({"cube_pos": (1.2, 0.0)}, "off the table"),
        ({"table_height": 0.0}, "table_height"),
    ):
        with pytest.raises(ValueError, match=match):
            arm_with_table_and_object_spec(**bad)
    with pytest.raises(ValueError, match="base_quat"):
        arm_spec(base_quat=(0.0, 0.0, 0.0, 0.0))


def test_inspect_finds_nothing_wrong():
    """``warplab inspect arm``: no tiny masses, no parts without collision, no overlap in home."""
    report = inspect_robot("arm")
    assert report.warnings == []
    model = build_robot_spec(ARM_ROBOT_CFG).compile()
    np.testing.assert_allclose(model.key("home").qpos, model.qpos0)


# ---------------------------------------------------------------------------- the arm with the hand
def test_arm_with_hand_mounts_the_hand_and_holds_its_pose():
    """The hand on the flange: palm frame where documented; ctrl = home for 2 s holds the arm within
    1e-4 rad and the fingers within 0.02 rad."""
    model = build_robot_spec(ARM_WITH_HAND_ROBOT_CFG).compile()
    assert (model.nq, model.nu) == (23, 23)
    assert [model.actuator(a).name for a in range(7, 23)] == [HAND_PREFIX + n for n in HAND_JOINT_NAMES]
    data = _home(model)
    np.testing.assert_allclose(data.qpos[7:], [HAND_HOME[n] for n in HAND_JOINT_NAMES])
    flange = data.site("flange")
    palm = data.body(HAND_PREFIX + "palm")
    axis = flange.xmat.reshape(3, 3)[:, 2]
    palm_rot = palm.xmat.reshape(3, 3)
    np.testing.assert_allclose(palm_rot[:, 0], axis, atol=1e-12)  # fingers along the flange's axis
    np.testing.assert_allclose(palm_rot[:, 2], [1.0, 0.0, 0.0], atol=1e-12)  # palm faces forward in home
    np.testing.assert_allclose(palm.xpos, flange.xpos + 0.11 * axis + 0.015 * palm_rot[:, 2], atol=1e-12)
    assert data.ncon == 0
    hand_err, arm_err = [], []
    for _ in range(round(HOLD_SECONDS / model.opt.timestep)):
        mujoco.mj_step(model, data)
        arm_err.append(np.abs(data.qpos[:7] - data.ctrl[:7]).max())
        hand_err.append(np.abs(data.qpos[7:] - data.ctrl[7:]).max())
    assert max(arm_err) < 1e-4 and max(hand_err) < 0.02
    assert np.abs(data.qvel).max() < 1e-3
    np.testing.assert_allclose(arm_with_hand_spec().compile().qpos0[:7], model.qpos0[:7])


# ---------------------------------------------------------------------------- MuJoCo Warp
def test_mujoco_warp_matches_c_engine_from_home():
    """Twenty steps of MuJoCo Warp (float32, CPU) from home on the table agree with ``mj_step``.

    World 0 holds home; world 1 drives every arm joint towards a target 0.2-0.5 rad away (each servo
    at its torque limit at first) and closes the gripper in free air. No contact starts in either, so
    both are held to the hand's tolerances for a world without one: qpos to 1e-5, qvel to 1e-4 (seen:
    3e-8 and 3e-6 at most). The actuator forces on the joints, gravity compensation included (body
    ``gravcomp``, routed through the joints by ``actuatorgravcomp`` and clamped by their force
    ranges: all supported by MuJoCo Warp 4.0), agree to 1e-3 of their largest (seen: 6e-4 N of 140 N).
    """
    from warplab.sim import Simulation

    torch.set_num_threads(1)
    sim = Simulation(arm_with_table_and_object_spec(), 2, "cpu")
    mjm = sim.mj_model
    home = _home(mjm)
    qpos0 = home.qpos.astype(np.float32).astype(np.float64)
    move = np.array([0.3, 0.2, -0.3, 0.3, 0.5, -0.4, 0.5, -0.04])
    ctrls = [home.ctrl.copy(), np.clip(home.ctrl + move, *mjm.actuator_ctrlrange.T)]
    ctrls = [c.astype(np.float32).astype(np.float64) for c in ctrls]
    sim.set_state(torch.tensor(np.stack([qpos0, qpos0])), torch.zeros(2, mjm.nv))
    sim.ctrl.copy_(torch.tensor(np.stack(ctrls)))
    refs = []
    for ctrl in ctrls:
        ref = mujoco.MjData(mjm)
        ref.qpos[:], ref.ctrl[:] = qpos0, ctrl
        refs.append(ref)
    peak = np.zeros(mjm.nu)
    for _ in range(20):
        sim.step()
        for ref in refs:
            mujoco.mj_step(mjm, ref)
        peak = np.maximum(peak, np.abs(refs[1].actuator_force))
    for w, ref in enumerate(refs):
        np.testing.assert_allclose(sim.qpos[w].numpy(), ref.qpos, atol=1e-5, err_msg=f"qpos, world {w}")
        np.testing.assert_allclose(sim.qvel[w].numpy(), ref.qvel, atol=1e-4, err_msg=f"qvel, world {w}")
        scale = np.abs(ref.qfrc_actuator).max()
        np.testing.assert_allclose(
            sim.qfrc_actuator[w].numpy(),
            ref.qfrc_actuator,
            atol=1e-3 * scale,
            err_msg=f"qfrc_actuator, world {w}",
        )
    # The comparison saw what it should: gravity compensation at work, world 1 moving at its limits.
    assert np.abs(refs[0].qfrc_gravcomp[:7]).max() > 10.0
    assert np.abs(refs[1].qvel[:7]).max() > 0.3
    assert np.sum(peak >= mjm.actuator_forcerange[:, 1] - 1e-6) >= 3


def test_random_targets_stay_finite_and_within_torque_limits(scene):
    """Arm and gripper targets redrawn every 0.25 s across the ranges for 3 s, the cube on the table:
    the state stays finite, each joint's total actuator torque (servo plus gravity compensation) stays
    within its limit, and most limits are reached. Joint speeds are not limited by the model (seen:
    up to 76 rad/s on joint 5, against the real arm's 2.61; see docs/robots/arm.md), only bounded."""
    data = _home(scene)
    rng = np.random.default_rng(0)
    lo, hi = scene.actuator_ctrlrange.T
    limit = np.array([j.torque_limit for j in ARM_JOINTS])
    peak, speed = np.zeros(7), 0.0
    for step in range(600):
        if step % 50 == 0:
            data.ctrl[:] = rng.uniform(lo, hi)
        mujoco.mj_step(scene, data)
        torque = np.abs(data.qfrc_actuator[:7])
        assert np.all(torque <= limit + 1e-9)
        peak = np.maximum(peak, torque)
        speed = max(speed, np.abs(data.qvel).max())
    assert np.all(np.isfinite(data.qpos)) and speed < 100.0
    assert np.sum(peak >= limit - 1e-6) >= 5
