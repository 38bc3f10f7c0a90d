"""warplab's hand: structure, mass properties, the home pose, holding a cube, touch sensing, MuJoCo Warp.

Everything but the last test runs on MuJoCo's C engine only and takes well under a second.
"""

from __future__ import annotations

import dataclasses
import math

import mujoco
import numpy as np
import pytest
import torch
from mass_properties import assert_mass_and_inertia_physical  # tests/assets is on the path

from warplab.assets import ObjectCfg, Scene, build_robot_spec
from warplab.assets.robots import HAND_ROBOT_CFG, hand_spec, hand_with_cube_spec
from warplab.assets.robots.hand import (
    CUBE_HALF_SIZE,
    HAND_HOME,
    HAND_JOINT_NAMES,
    HAND_JOINT_RANGES,
    MOTORS,
    TIP_RADIUS,
    TIP_SITES,
    TOUCH_SENSORS,
)

FINGER_JOINTS = ("mcp_spread", "mcp_flex", "pip_flex", "dip_flex")
THUMB_JOINTS = ("cmc_rot", "cmc_flex", "mcp_flex", "ip_flex")
EXPECTED_JOINTS = [
    *(f"{finger}_{j}" for finger in ("index", "middle", "ring") for j in FINGER_JOINTS),
    *(f"thumb_{j}" for j in THUMB_JOINTS),
]
MASS_RANGE_KG = (0.9, 1.2)
"""The documented total: in the class of the Allegro hand (1.08 kg published)."""
HOLD_SECONDS = 2.0


@pytest.fixture(scope="module")
def hand() -> mujoco.MjModel:
    return hand_spec().compile()


@pytest.fixture(scope="module")
def scene() -> mujoco.MjModel:
    return hand_with_cube_spec().compile()


def _home(model: mujoco.MjModel) -> mujoco.MjData:
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    return data


def _touch(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    return np.array([data.sensor(name).data[0] for name in TOUCH_SENSORS])


# ---------------------------------------------------------------------------- structure
def test_joints_and_actuators_in_action_order(hand):
    assert list(HAND_JOINT_NAMES) == EXPECTED_JOINTS == list(HAND_ROBOT_CFG.joint_names)
    assert (hand.njnt, hand.nq, hand.nv, hand.nu) == (16, 16, 16, 16)
    assert all(hand.jnt_type == mujoco.mjtJoint.mjJNT_HINGE)
    assert [hand.joint(j).name for j in range(hand.njnt)] == EXPECTED_JOINTS
    # Fixed to the world: the palm hangs from the world body with no joint, palm face up.
    palm = hand.body("palm")
    assert palm.parentid[0] == 0 and palm.jntnum[0] == 0
    data = _home(hand)
    np.testing.assert_allclose(data.xmat[palm.id].reshape(3, 3)[:, 2], [0, 0, 1], atol=1e-12)
    assert data.site("palm_center").xpos[2] == pytest.approx(0.3)
    for a in range(hand.nu):
        assert hand.actuator(a).name == EXPECTED_JOINTS[a]
        assert hand.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT
        assert hand.joint(hand.actuator_trnid[a, 0]).name == EXPECTED_JOINTS[a]


def test_height_and_orientation_parameters():
    data = _home(hand_spec(height=0.5, quat=(0.0, 1.0, 0.0, 0.0)).compile())
    assert data.site("palm_center").xpos[2] == pytest.approx(0.5)
    # Turned half a turn about x: palm down.
    np.testing.assert_allclose(data.site_xmat[0].reshape(3, 3)[:, 2], [0, 0, -1], atol=1e-12)
    with pytest.raises(ValueError, match="height"):
        hand_spec(height=float("nan"))
    with pytest.raises(ValueError, match="quat"):
        hand_spec(quat=(0.0, 0.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="cube_half_size"):
        hand_with_cube_spec(cube_half_size=0.08)


def test_gains_follow_the_motor_table(hand):
    motor = MOTORS["xc330"]
    # The numbers worked out by hand: armature 1.5e-8 * 288.35² = 1.2472e-3 kg·m²,
    # kp = armature * (2 pi 10)² = 4.924 N·m/rad, kd = 2 sqrt(kp armature) = 0.1567 N·m·s/rad.
    assert motor.armature == pytest.approx(1.2472e-3, rel=1e-4)
    assert motor.kp == pytest.approx(4.9237, rel=1e-4)
    assert motor.kd == pytest.approx(0.15673, rel=1e-4)
    np.testing.assert_allclose(hand.actuator_gainprm[:, 0], motor.kp, rtol=1e-9)
    np.testing.assert_allclose(hand.actuator_biasprm[:, 1], -motor.kp, rtol=1e-9)
    np.testing.assert_allclose(hand.actuator_biasprm[:, 2], -motor.kd, rtol=1e-9)
    assert all(hand.actuator_forcelimited)
    np.testing.assert_allclose(hand.actuator_forcerange, [[-0.93, 0.93]] * 16)
    np.testing.assert_allclose(hand.dof_armature, motor.armature, rtol=1e-9)
    np.testing.assert_allclose(hand.dof_damping, motor.damping)
    np.testing.assert_allclose(hand.dof_frictionloss, motor.frictionloss)
    for group in HAND_ROBOT_CFG.actuators:
        assert (group.kp, group.kd, group.effort_limit) == (motor.kp, motor.kd, motor.stall_torque)


def test_sites_sensors_and_contact_geometry(scene):
    for site in (*TIP_SITES, "palm_center"):
        assert scene.site(site).id >= 0
    for sensor, finger in zip(TOUCH_SENSORS, ("index", "middle", "ring", "thumb"), strict=True):
        s = scene.sensor(sensor)
        assert s.type[0] == mujoco.mjtSensor.mjSENS_TOUCH
        assert scene.site(s.objid[0]).name == f"{finger}_pad"
        # The tip site and the pad volume sit on the distal link.
        assert scene.body(scene.site(f"{finger}_tip").bodyid[0]).name == f"{finger}_distal"
    # Contacts stay cheap: the hand collides through primitives only (the floor is a plane).
    allowed = {
        int(mujoco.mjtGeom.mjGEOM_BOX),
        int(mujoco.mjtGeom.mjGEOM_CAPSULE),
        int(mujoco.mjtGeom.mjGEOM_SPHERE),
    }
    for g in range(scene.ngeom):
        if (scene.geom_contype[g] or scene.geom_conaffinity[g]) and scene.geom(g).name != "floor":
            assert int(scene.geom_type[g]) in allowed, scene.geom(g).name
    assert scene.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC
    assert scene.opt.integrator == mujoco.mjtIntegrator.mjINT_IMPLICITFAST


def test_collision_filter(scene):
    """Links meet the world only; tips meet the world, each other and the palm."""

    def collide(a: str, b: str) -> bool:
        ga, gb = scene.geom(a), scene.geom(b)
        return bool((ga.contype & gb.conaffinity) or (gb.contype & ga.conaffinity))

    hand_geoms = [
        scene.geom(g).name
        for g in range(scene.ngeom)
        if scene.geom_contype[g] and scene.geom(g).name not in ("floor", "cube")
    ]
    assert len(hand_geoms) == 1 + 4 * 3 + 4  # palm, three links and a tip per finger and thumb
    for name in hand_geoms:
        assert collide(name, "cube") and collide(name, "floor"), name
    assert collide("thumb_tip", "index_tip") and collide("index_tip", "palm")
    assert not collide("index_proximal", "palm") and not collide("thumb_metacarpal", "palm")
    assert not collide("index_middle", "middle_middle") and not collide("index_distal", "index_tip")


# ---------------------------------------------------------------------------- mass properties
def test_mass_and_inertia_are_physical(hand):
    assert MASS_RANGE_KG[0] <= hand.body_subtreemass[0] <= MASS_RANGE_KG[1]
    assert hand.body_subtreemass[0] == pytest.approx(1.056)
    assert_mass_and_inertia_physical(hand)


def test_proportions(hand):
    """A 0.10 m palm and fingers of about 0.12 m from the knuckle, like Allegro's."""
    data = mujoco.MjData(hand)
    mujoco.mj_forward(hand, data)  # all joints at zero: fingers straight
    palm = hand.geom("palm")
    assert 2 * palm.size[0] == pytest.approx(0.10) and 2 * palm.size[1] == pytest.approx(0.10)
    tip_end_x = data.site("middle_tip").xpos[0] + 0.012
    assert 0.10 <= tip_end_x - 0.05 <= 0.13  # from the palm's front edge to the fingertip


@pytest.mark.parametrize("finger", ["index", "middle", "ring"])
def test_thumb_opposes_each_finger(hand, finger):
    """Within the joint ranges the thumb's pad meets each finger's pad: damped least squares on the
    two chains, from ``home``, brings the tip centres within two pad radii (the pads touch)."""
    data = _home(hand)
    joints = [
        hand.joint(f"{f}_{j}").id
        for f in (finger, "thumb")
        for j in (FINGER_JOINTS if f != "thumb" else THUMB_JOINTS)
    ]
    dofs = hand.jnt_dofadr[joints]
    lo, hi = hand.jnt_range[joints].T
    jac_thumb, jac_finger = np.zeros((3, hand.nv)), np.zeros((3, hand.nv))
    for _ in range(200):
        mujoco.mj_kinematics(hand, data)
        mujoco.mj_comPos(hand, data)
        error = data.site(f"{finger}_tip").xpos - data.site("thumb_tip").xpos
        mujoco.mj_jacSite(hand, data, jac_thumb, None, hand.site("thumb_tip").id)
        mujoco.mj_jacSite(hand, data, jac_finger, None, hand.site(f"{finger}_tip").id)
        jac = (jac_finger - jac_thumb)[:, dofs]
        step = -jac.T @ np.linalg.solve(jac @ jac.T + 1e-4 * np.eye(3), error)
        data.qpos[dofs] = np.clip(data.qpos[dofs] + 0.5 * step, lo, hi)
    assert np.linalg.norm(error) < 2 * TIP_RADIUS


def test_random_targets_stay_finite_and_within_effort_limits(scene):
    """Targets redrawn every 50 ms for 2 s, the cube in the palm: the state stays finite, actuator
    forces stay inside their forcerange and reach it (the limits were exercised)."""
    data = _home(scene)
    rng = np.random.default_rng(0)
    lo, hi = scene.actuator_ctrlrange.T
    limit = scene.actuator_forcerange[:, 1]
    peak = np.zeros(scene.nu)
    for step in range(400):
        if step % 10 == 0:
            data.ctrl[:] = rng.uniform(lo, hi)
        mujoco.mj_step(scene, data)
        force = np.abs(data.actuator_force)
        assert np.all(force <= limit + 1e-9)
        peak = np.maximum(peak, force)
    assert np.all(np.isfinite(data.qpos)) and np.abs(data.qvel).max() < 100.0
    assert np.mean(peak >= limit - 1e-6) > 0.5


# ---------------------------------------------------------------------------- home pose
def test_home_within_joint_and_control_limits(hand):
    home = np.array([HAND_HOME[n] for n in EXPECTED_JOINTS])
    key = hand.key("home")
    np.testing.assert_allclose(key.qpos, home)
    np.testing.assert_allclose(key.ctrl, home)
    lo, hi = hand.jnt_range.T
    assert np.all((lo < home) & (home < hi))
    np.testing.assert_allclose(hand.actuator_ctrlrange, hand.jnt_range)
    assert all(hand.actuator_ctrllimited)
    for name, limits in HAND_JOINT_RANGES.items():
        np.testing.assert_allclose(hand.joint(name).range, limits)
    # The keyframe that RobotCfg writes holds the same pose.
    model = build_robot_spec(HAND_ROBOT_CFG).compile()
    np.testing.assert_allclose(model.key("home").qpos, home)


def test_home_scene_cube_rests_on_palm_alone(scene):
    data = _home(scene)
    cube_z = data.body("cube").xpos[2] - data.site("palm_center").xpos[2]
    assert cube_z == pytest.approx(CUBE_HALF_SIZE)
    pairs = {tuple(sorted(scene.geom(g).name for g in c.geom)) for c in data.contact[: data.ncon]}
    assert pairs == {("cube", "palm")}
    # Free air at every fingertip.
    np.testing.assert_array_equal(_touch(scene, data), 0.0)


# ---------------------------------------------------------------------------- holding
def test_holds_a_cube_on_its_servos(scene):
    """ctrl = home; the cube is dropped from 2 cm and thrown at the fingers at 0.8 m/s. For 2 s it
    stays on the palm, never passes through it, comes to rest against the curled fingers, and the
    finger joints stay near their targets."""
    data = _home(scene)
    cube = scene.body("cube")
    qadr, vadr = scene.jnt_qposadr[cube.jntadr[0]], scene.jnt_dofadr[cube.jntadr[0]]
    data.qpos[qadr + 2] += 0.02
    data.qvel[vadr] = 0.8
    mujoco.mj_forward(scene, data)
    home = data.ctrl.copy()
    palm = data.site("palm_center").xpos.copy()
    rel, joint_err = [], []
    for _ in range(round(HOLD_SECONDS / scene.opt.timestep)):
        mujoco.mj_step(scene, data)
        rel.append(data.xpos[cube.id] - palm)
        joint_err.append(np.abs(data.qpos[:16] - home).max())
    rel = np.asarray(rel)
    # On the palm (its half width is 5 cm) and above it: the lowest the centre gets is its half
    # size, less a few millimetres of contact softness at the landing.
    assert np.abs(rel[:, :2]).max() < 0.06
    assert rel[:, 2].min() > CUBE_HALF_SIZE - 0.003
    assert rel[:, 2].max() < CUBE_HALF_SIZE + 0.03
    # At rest, against the fingers.
    assert np.abs(data.qvel[vadr : vadr + 6]).max() < 1e-2
    assert rel[-1, 0] > 0.02
    finger_links = {f"{f}_{link}" for f in ("index", "middle", "ring") for link in ("proximal", "middle")}
    touching = {scene.geom(g).name for c in data.contact[: data.ncon] for g in c.geom}
    assert touching & finger_links
    # The servos hold: within 0.05 rad of their targets throughout, 0.02 rad at the end.
    assert max(joint_err) < 0.05 and joint_err[-1] < 0.02


def test_touch_sensors_read_the_contact_force_on_the_fingertips():
    """Fingers straight; a 60 g plate laid across the index, middle and ring fingertips. Each of those
    touch sensors reads the normal force of the plate's contacts on its distal link (the solver's
    contact forces, ``mj_contactForce``); the thumb's reads 0, and all contacts carry the weight."""
    straight = {n: 0.0 for n in EXPECTED_JOINTS if not n.startswith("thumb")}
    robot = dataclasses.replace(HAND_ROBOT_CFG, default_joint_pos={**HAND_HOME, **straight})
    plate_mass = 0.06
    # Tip centres 0.156 m ahead of the palm centre, 1 cm under its face; the pads' tops 2 mm over it.
    plate = ObjectCfg(
        "plate", "box", size=(0.015, 0.055, 0.004), pos=(0.15, 0.0, 0.3 + 0.002 + 0.004), mass=plate_mass
    )
    model = Scene(robot=robot, terrain=None, objects=(plate,)).build().compile()
    data = _home(model)
    for _ in range(300):
        mujoco.mj_step(model, data)
    assert np.abs(data.qvel).max() < 1e-3  # at rest
    expected = np.zeros(4)
    total = 0.0
    force = np.zeros(6)
    for i, contact in enumerate(data.contact[: data.ncon]):
        mujoco.mj_contactForce(model, data, i, force)  # force[0]: normal component, contact frame
        total += force[0] * contact.frame[2]  # its vertical part (the plate's contacts are near flat)
        bodies = {model.body(model.geom_bodyid[g]).name for g in contact.geom}
        for k, finger in enumerate(("index", "middle", "ring", "thumb")):
            if f"{finger}_distal" in bodies:
                expected[k] += force[0]
    touch = _touch(model, data)
    assert np.all(touch[:3] > 0.05) and touch[3] == 0.0
    np.testing.assert_allclose(touch, expected, rtol=1e-9, atol=1e-12)
    assert total == pytest.approx(plate_mass * 9.81, rel=0.01)


# ---------------------------------------------------------------------------- MuJoCo Warp
def test_mujoco_warp_matches_c_engine_from_home():
    """Twenty steps of MuJoCo Warp (float32, CPU) from the home pose with the cube agree with ``mj_step``.

    World 0 holds ``home``: qpos to 1e-5, qvel to 1e-4. World 1 curls its fingers in free air and closes
    its thumb onto the cube, which it reaches at step 12: qpos to 1e-5, qvel to 1e-3. The looser qvel
    bound is the onset of a contact: the first step's penetration, float32 against float64, gives
    impulses that differ by about 1e-3 of themselves (5e-4 rad/s of the cube's spin, measured).
    Touch sensors agree to 1e-3 N (a thousandth of the cube's weight).
    """
    from warplab.sim import Simulation

    torch.set_num_threads(1)
    sim = Simulation(hand_with_cube_spec(), 2, "cpu")
    mjm = sim.mj_model
    home = _home(mjm)
    # Both engines start from the same float32 numbers.
    qpos0 = home.qpos.astype(np.float32).astype(np.float64)
    curl = np.array([0.0, 0.3, 0.3, 0.2] * 3 + [0.1, 0.15, 0.25, 0.25])
    ctrls = [home.ctrl.copy(), np.clip(home.ctrl + curl, *mjm.actuator_ctrlrange.T)]
    ctrls = [c.astype(np.float32).astype(np.float64) for c in ctrls]
    sim.set_state(torch.tensor(np.stack([qpos0, qpos0])), torch.zeros(2, mjm.nv))
    sim.ctrl.copy_(torch.tensor(np.stack(ctrls)))
    refs = []
    for ctrl in ctrls:
        ref = mujoco.MjData(mjm)
        ref.qpos[:], ref.ctrl[:] = qpos0, ctrl
        refs.append(ref)
    for _ in range(20):
        sim.step()
        for ref in refs:
            mujoco.mj_step(mjm, ref)
    for w, (ref, qvel_tol) in enumerate(zip(refs, (1e-4, 1e-3), strict=True)):
        np.testing.assert_allclose(sim.qpos[w].numpy(), ref.qpos, atol=1e-5, err_msg=f"qpos, world {w}")
        np.testing.assert_allclose(sim.qvel[w].numpy(), ref.qvel, atol=qvel_tol, err_msg=f"qvel, world {w}")
        np.testing.assert_allclose(
            sim.sensordata[w].numpy(), ref.sensordata, atol=1e-3, err_msg=f"touch, world {w}"
        )
    # The comparison saw what it should: world 1 moved and its thumb presses on the cube.
    assert np.abs(refs[1].qvel[:16]).max() > 0.1
    assert refs[1].sensor("thumb_touch").data[0] > 0.1 and refs[0].sensor("thumb_touch").data[0] == 0.0
    assert math.isclose(sim.timestep, 0.005)
