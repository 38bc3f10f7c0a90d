"""warplab's humanoid model: structure, mass properties, the home pose, standing, and MuJoCo Warp.

Everything but the last two tests runs on MuJoCo's C engine only and takes well under a second.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch
from mass_properties import assert_mass_and_inertia_physical  # tests/assets is on the path

from warplab.assets.robots.humanoid import (
    HUMANOID_ROBOT,
    MOTORS,
    humanoid_robot_spec,
    humanoid_spec,
)

EXPECTED_JOINTS = [
    *(f"left_{j}" for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")),
    *(f"right_{j}" for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")),
    "waist_yaw",
    *(f"left_{j}" for j in ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow")),
    *(f"right_{j}" for j in ("shoulder_pitch", "shoulder_roll", "shoulder_yaw", "elbow")),
]
# Joints whose axis is x or z (roll and yaw): mirroring the left side into the right negates them.
MIRRORED_SIGN = ("_roll", "_yaw")
STAND_SECONDS = 2.0


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return humanoid_spec().compile()


def _home(model: mujoco.MjModel) -> mujoco.MjData:
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key(HUMANOID_ROBOT.home_keyframe).id)
    mujoco.mj_forward(model, data)
    return data


def _name(model: mujoco.MjModel, obj: mujoco.mjtObj, i: int) -> str:
    return mujoco.mj_id2name(model, obj, i)


def _geom_pairs(model: mujoco.MjModel, data: mujoco.MjData) -> list[tuple[str, str]]:
    return [
        tuple(sorted(_name(model, mujoco.mjtObj.mjOBJ_GEOM, g) for g in c.geom))
        for c in data.contact[: data.ncon]
    ]


# ---------------------------------------------------------------------------- structure
def test_compiles_with_and_without_floor():
    robot = humanoid_robot_spec().compile()
    scene = humanoid_spec().compile()
    assert mujoco.mj_name2id(robot, mujoco.mjtObj.mjOBJ_GEOM, "floor") == -1
    assert scene.geom("floor").type == mujoco.mjtGeom.mjGEOM_PLANE
    assert scene.nlight >= 1 and scene.ntex >= 1
    assert (robot.nq, robot.nv, robot.nu, robot.nbody) == (scene.nq, scene.nv, scene.nu, scene.nbody)
    # Each factory returns a fresh spec: editing one leaves the next untouched.
    spec = humanoid_spec()
    spec.body("pelvis").pos = [0, 0, 2]
    assert humanoid_spec().body("pelvis").pos[2] == pytest.approx(HUMANOID_ROBOT.standing_base_height)


def test_joints_and_actuators_in_action_order(model):
    assert list(HUMANOID_ROBOT.joint_names) == EXPECTED_JOINTS
    assert model.njnt == 22 and model.nu == 21
    assert model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE
    assert model.body(model.jnt_bodyid[0]).name == HUMANOID_ROBOT.base_body == "pelvis"
    hinges = [model.joint(j).name for j in range(1, model.njnt)]
    assert hinges == EXPECTED_JOINTS
    assert all(model.jnt_type[1:] == mujoco.mjtJoint.mjJNT_HINGE)
    actuators = [model.actuator(a).name for a in range(model.nu)]
    assert actuators == EXPECTED_JOINTS
    for a, name in enumerate(actuators):
        assert model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT
        assert model.joint(model.actuator_trnid[a, 0]).name == name


def test_named_bodies_exist(model):
    for body in (HUMANOID_ROBOT.base_body, HUMANOID_ROBOT.torso_body, *HUMANOID_ROBOT.foot_bodies):
        assert model.body(body).id > 0
    for side, foot, geom in zip(
        ("left", "right"), HUMANOID_ROBOT.foot_bodies, HUMANOID_ROBOT.foot_geoms, strict=True
    ):
        assert foot == f"{side}_ankle_roll_link"
        assert model.body(model.geom(geom).bodyid[0]).name == foot
    assert model.body(model.site(HUMANOID_ROBOT.imu_site).bodyid[0]).name == "pelvis"


def test_description_matches_model(model):
    """Gains, limits and armature in ``HUMANOID_ROBOT`` are those the model was built with."""
    r = HUMANOID_ROBOT
    jids = [model.joint(n).id for n in r.joint_names]
    kp = model.actuator_gainprm[:, 0]
    np.testing.assert_allclose(kp, r.kp, rtol=1e-5)
    np.testing.assert_allclose(model.actuator_biasprm[:, 1], -np.asarray(r.kp), rtol=1e-5)
    np.testing.assert_allclose(model.actuator_biasprm[:, 2], -np.asarray(r.kd), rtol=1e-5)
    assert all(model.actuator_forcelimited)
    np.testing.assert_allclose(model.actuator_forcerange[:, 1], r.effort_limit)
    np.testing.assert_allclose(model.actuator_forcerange[:, 0], -np.asarray(r.effort_limit))
    np.testing.assert_allclose(model.dof_armature[model.jnt_dofadr[jids]], r.armature, rtol=1e-5)
    np.testing.assert_allclose(r.action_scale, 0.25 * np.asarray(r.effort_limit) / np.asarray(r.kp))
    assert all(model.dof_damping[model.jnt_dofadr[jids]] > 0)
    # The gains follow the motor table: kd gives a damping ratio of 2 against the armature.
    for motor in MOTORS.values():
        assert motor.kp >= motor.armature * (2 * np.pi * 10.0) ** 2 - 1e-9
        assert motor.kd == pytest.approx(4.0 * np.sqrt(motor.kp * motor.armature))


def test_left_and_right_are_mirror_images(model):
    for b in range(1, model.nbody):
        name = model.body(b).name
        if not name.startswith("left_"):
            continue
        right = model.body(name.replace("left_", "right_", 1))
        mirror = np.array([1.0, -1.0, 1.0])
        np.testing.assert_allclose(right.pos, model.body(b).pos * mirror, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(right.ipos, model.body(b).ipos * mirror, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(right.mass, model.body(b).mass, err_msg=name)
        np.testing.assert_allclose(right.inertia, model.body(b).inertia, rtol=1e-9, err_msg=name)
    for name in EXPECTED_JOINTS:
        if not name.startswith("left_"):
            continue
        left, right = model.joint(name), model.joint(name.replace("left_", "right_", 1))
        if name.endswith(MIRRORED_SIGN):
            np.testing.assert_allclose(right.range, -left.range[::-1], err_msg=name)
        else:
            np.testing.assert_allclose(right.range, left.range, err_msg=name)


# ---------------------------------------------------------------------------- mass properties
def test_total_mass_and_height(model):
    assert 33.0 <= model.body_subtreemass[1] <= 37.0
    data = _home(model)
    head = model.geom("head")
    head_top = data.geom_xpos[head.id][2] + head.size[0]
    assert 1.2 <= head_top <= 1.4


def test_inertias_are_physical(model):
    assert_mass_and_inertia_physical(model)


# ---------------------------------------------------------------------------- home pose
def test_home_pose_within_joint_and_control_limits(model):
    key = model.key(HUMANOID_ROBOT.home_keyframe)
    home = np.asarray(HUMANOID_ROBOT.default_joint_pos)
    np.testing.assert_allclose(key.qpos[7:], home)
    np.testing.assert_allclose(key.ctrl, home)
    lo, hi = model.jnt_range[1:].T
    assert np.all((lo < home) & (home < hi))
    lo, hi = model.actuator_ctrlrange.T
    assert np.all((lo < home) & (home < hi))


def test_home_feet_flat_on_floor(model):
    data = _home(model)
    assert data.qpos[2] == pytest.approx(HUMANOID_ROBOT.standing_base_height)
    pairs = _geom_pairs(model, data)
    # Only the soles touch anything, and each touches the floor at its four corners.
    for sole in HUMANOID_ROBOT.foot_geoms:
        assert pairs.count(tuple(sorted(("floor", sole)))) == 4
    assert len(pairs) == 8
    for sole in HUMANOID_ROBOT.foot_geoms:
        geom = model.geom(sole)
        corners_z = data.geom_xpos[geom.id][2] - geom.size[2]
        assert -1e-5 <= corners_z <= 0.0, f"{sole}: bottom at {corners_z} m"
        # Flat: the sole's z axis is the world's.
        assert data.geom_xmat[geom.id][8] == pytest.approx(1.0, abs=1e-9)


def test_collision_filter():
    """Every collision geom meets the floor; legs meet the other leg; forearms meet the body."""
    model = humanoid_spec().compile()

    def collide(a: str, b: str) -> bool:
        ga, gb = model.geom(a), model.geom(b)
        return bool((ga.contype & gb.conaffinity) or (gb.contype & ga.conaffinity))

    colliding = [
        model.geom(g).name for g in range(model.ngeom) if model.geom_contype[g] or model.geom_conaffinity[g]
    ]
    for name in colliding:
        if name != "floor":
            assert collide(name, "floor"), name
    assert collide("left_sole", "right_sole") and collide("left_shin", "right_thigh")
    assert not collide("left_sole", "left_shin") and not collide("left_thigh", "pelvis")
    assert (
        collide("left_hand", "chest")
        and collide("right_forearm", "pelvis")
        and collide("left_hand", "right_upper_arm")
    )
    assert not collide("left_upper_arm", "chest") and not collide("left_hand", "right_hand")


# ---------------------------------------------------------------------------- standing
def test_stands_on_position_actuators(model):
    """Holding ctrl = home, the robot stands: gains, effort limits and contacts hold its weight."""
    data = _home(model)
    z0 = data.qpos[2]
    z = []
    for _ in range(round(STAND_SECONDS / model.opt.timestep)):
        mujoco.mj_step(model, data)
        z.append(data.qpos[2])
    assert np.max(np.abs(np.asarray(z) - z0)) < 0.05
    # Still upright (pelvis z axis within ~10 degrees of vertical) and on both feet.
    assert data.xmat[model.body("pelvis").id][8] > np.cos(0.17)
    assert set(HUMANOID_ROBOT.foot_geoms) <= {g for pair in _geom_pairs(model, data) for g in pair}
    # The touch sensors under the soles carry the robot's weight.
    weight = model.body_subtreemass[1] * -model.opt.gravity[2]
    touch = data.sensor("left_foot_touch").data[0] + data.sensor("right_foot_touch").data[0]
    assert touch == pytest.approx(weight, rel=0.05)
    # The IMU reads gravity (an accelerometer measures the reaction, +z) and little rotation.
    np.testing.assert_allclose(data.sensor("imu_acc").data, [0, 0, 9.81], atol=0.5)
    assert np.abs(data.sensor("imu_gyro").data).max() < 0.1
    np.testing.assert_allclose(data.sensor("imu_up").data, [0, 0, 1], atol=0.05)


def test_effort_limits_are_respected(model):
    """Far-off targets saturate the actuators, whose forces stay inside their forcerange."""
    data = _home(model)
    rng = np.random.default_rng(0)
    lo, hi = model.actuator_ctrlrange.T
    limit = model.actuator_forcerange[:, 1]
    peak = np.zeros(model.nu)
    for step in range(300):
        if step % 25 == 0:
            data.ctrl[:] = rng.uniform(lo, hi)
        mujoco.mj_step(model, data)
        force = np.abs(data.actuator_force)
        assert np.all(force <= limit + 1e-9)
        peak = np.maximum(peak, force)
    # The limits were reached, so the test exercised them.
    assert np.mean(peak >= limit - 1e-6) > 0.5


# ---------------------------------------------------------------------------- MuJoCo Warp
def test_loads_in_mujoco_warp(model):
    import mujoco_warp as mjw
    import warp as wp

    with wp.ScopedDevice("cpu"):
        mjw_model = mjw.put_model(model)
    assert mjw_model.nu == 21


def test_mujoco_warp_matches_c_engine_from_home(model):
    """A few steps of MuJoCo Warp (float32, CPU) from the home pose agree with ``mj_step`` to 1e-4."""
    from warplab.sim import Simulation

    torch.set_num_threads(1)
    sim = Simulation(humanoid_spec(), 2, "cpu")
    mjm = sim.mj_model
    home = _home(mjm)
    # Both engines start from the same float32 numbers. World 1 gets other targets, so it moves.
    qpos0 = home.qpos.astype(np.float32).astype(np.float64)
    ctrls = [home.ctrl.copy(), home.ctrl + np.tile([0.1, -0.1], 11)[: mjm.nu]]
    ctrls = [c.astype(np.float32).astype(np.float64) for c in ctrls]
    sim.set_state(torch.tensor(np.stack([qpos0, qpos0])), torch.zeros(2, mjm.nv))
    sim.ctrl.copy_(torch.tensor(np.stack(ctrls)))

    refs = []
    for ctrl in ctrls:
        ref = mujoco.MjData(mjm)
        ref.qpos[:], ref.ctrl[:] = qpos0, ctrl
        refs.append(ref)
    for _ in range(5):
        sim.step()
        for ref in refs:
            mujoco.mj_step(mjm, ref)
    for w, ref in enumerate(refs):
        np.testing.assert_allclose(sim.qpos[w].numpy(), ref.qpos, atol=1e-4, err_msg=f"qpos, world {w}")
        np.testing.assert_allclose(sim.qvel[w].numpy(), ref.qvel, atol=1e-4, err_msg=f"qvel, world {w}")
        # Contact forces come out of the constraint solver, whose float32 stopping tolerance leaves
        # errors proportional to the largest force (~170 N here), not to each entry: compare each
        # sensor to 1e-4 of its own magnitude.
        for s in range(mjm.nsensor):
            block = slice(mjm.sensor_adr[s], mjm.sensor_adr[s] + mjm.sensor_dim[s])
            scale = max(1.0, np.abs(ref.sensordata[block]).max())
            np.testing.assert_allclose(
                sim.sensordata[w, block].numpy(),
                ref.sensordata[block],
                atol=1e-4 * scale,
                err_msg=mjm.sensor(s).name,
            )
    assert np.abs(refs[1].qvel[6:]).max() > 1e-2, "world 1 should have moved"
