"""Object observations, the object reset and the object randomizations, against MuJoCo's C engine
(``mj_forward`` on the same state) and values worked out by hand."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch

from warplab.envs import (
    ActionTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RlEnv,
    RlEnvCfg,
    mdp,
)

from ._hand_scene import CUBE_HALF, PALM_POS, PALM_QUAT, hand_spec

N = 4
PALM = {"frame_body": "palm"}
SITE = {"frame_site": "palm_site"}
RESET_POS = (0.08, 0.0, 0.06)
RESET_RANGE = {"x": (-0.01, 0.01), "y": (-0.02, 0.0), "z": (0.0, 0.03)}


def _cfg(**fields) -> RlEnvCfg:
    obs = {
        "pos": ObservationTermCfg(func=mdp.object_pos_in_frame, params={"object": "cube", **PALM}),
        "quat": ObservationTermCfg(func=mdp.object_quat_in_frame, params={"object": "cube", **SITE}),
        "lin_vel": ObservationTermCfg(func=mdp.object_lin_vel_in_frame, params={"object": "cube", **PALM}),
        "ang_vel": ObservationTermCfg(func=mdp.object_ang_vel_in_frame, params={"object": "cube", **SITE}),
        "tips": ObservationTermCfg(func=mdp.fingertip_positions, params={"sites": "tip.*", **SITE}),
        "touch": ObservationTermCfg(func=mdp.touch_sensors, params={"sensors": ["touch_.*", "tip1_pos"]}),
        "last_action": ObservationTermCfg(func=mdp.last_action),
    }
    cfg = RlEnvCfg(
        scene=hand_spec,
        decimation=2,
        episode_length_s=100.0,
        num_envs=N,
        device="cpu",
        seed=5,
        observations={"policy": ObservationGroupCfg(terms=obs)},
        actions={"finger": ActionTermCfg(func=mdp.JointPositionAction, params={"actuators": "finger_pos"})},
        rewards={},
        terminations={},
        events={
            "place": EventTermCfg(
                func=mdp.reset_object_pose,
                mode="reset",
                params={
                    "object": "cube",
                    **PALM,
                    "position": RESET_POS,
                    "position_range": RESET_RANGE,
                    "rotation": "z",
                },
            )
        },
    )
    for name, value in fields.items():
        setattr(cfg, name, value)
    return cfg


@pytest.fixture(scope="module")
def env() -> RlEnv:
    return RlEnv(_cfg())


def _c_data(env: RlEnv, world: int) -> mujoco.MjData:
    """MuJoCo's C engine in the state of ``world``, after ``mj_forward``."""
    m = env.mj_model
    d = mujoco.MjData(m)
    d.qpos[:] = env.sim.qpos[world].double().numpy()
    d.qvel[:] = env.sim.qvel[world].double().numpy()
    mujoco.mj_forward(m, d)
    return d


def _mat(q: np.ndarray) -> np.ndarray:
    out = np.zeros(9)
    mujoco.mju_quat2Mat(out, q)
    return out.reshape(3, 3)


def _canonical(q: np.ndarray) -> np.ndarray:
    return -q if q[0] < 0 else q


def _random_states(env: RlEnv, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    qpos = np.tile(env.mj_model.qpos0, (N, 1))
    qvel = np.zeros((N, env.mj_model.nv))
    qpos[:, 0] = rng.uniform(-0.8, 0.8, N)  # the finger
    qpos[:, 1:4] = rng.uniform(-0.3, 0.3, (N, 3)) + np.array([0.3, 0.0, 0.9])  # clear of the hand
    quat = rng.normal(size=(N, 4))
    qpos[:, 4:8] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    qvel[:, 0] = rng.uniform(-1, 1, N)
    qvel[:, 1:7] = rng.uniform(-2, 2, (N, 6))
    return qpos, qvel


def test_object_observations_match_mujoco_c_engine(env):
    qpos, qvel = _random_states(env, 0)
    env.set_physical_state(qpos=qpos, qvel=qvel)
    m = env.mj_model
    palm, site = m.body("palm").id, m.site("palm_site").id
    cube = m.body("cube").id
    out = {
        "pos": mdp.object_pos_in_frame(env, "cube", **PALM),
        "quat": mdp.object_quat_in_frame(env, "cube", **SITE),
        "lin_vel": mdp.object_lin_vel_in_frame(env, "cube", **PALM),
        "ang_vel": mdp.object_ang_vel_in_frame(env, "cube", **SITE),
        "ang_vel_w": mdp.object_ang_vel_in_frame(env, "cube"),
        "tips": mdp.fingertip_positions(env, "tip.*", **SITE),
    }
    for w in range(N):
        d = _c_data(env, w)
        r_palm, r_site = d.xmat[palm].reshape(3, 3), d.site_xmat[site].reshape(3, 3)
        # Velocity of the cube's body frame (its origin, world axes): rot then lin.
        vel = np.zeros(6)
        mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, cube, vel, 0)
        site_quat = np.zeros(4)
        mujoco.mju_mat2Quat(site_quat, d.site_xmat[site])
        neg, rel = np.zeros(4), np.zeros(4)
        mujoco.mju_negQuat(neg, site_quat)
        mujoco.mju_mulQuat(rel, neg, d.xquat[cube])
        tips = sorted(m.site(f"tip{i}").id for i in range(3))  # model order: tip2 (on the palm) first
        expected = {
            "pos": r_palm.T @ (d.xpos[cube] - d.xpos[palm]),
            "quat": _canonical(rel),
            "lin_vel": r_palm.T @ vel[3:],
            "ang_vel": r_site.T @ vel[:3],
            "ang_vel_w": vel[:3],
            "tips": np.concatenate([r_site.T @ (d.site_xpos[t] - d.site_xpos[site]) for t in tips]),
        }
        for key, value in expected.items():
            np.testing.assert_allclose(out[key][w].numpy(), value, atol=2e-5, err_msg=f"{key}, world {w}")
    assert out["quat"][:, 0].min() >= 0.0


def test_free_joint_velocities_are_world_linear_and_body_angular(env):
    """What the terms rely on: MuJoCo's free-joint qvel holds the origin's linear velocity in world
    axes and the angular velocity in the body's axes (checked with the C engine)."""
    qpos, qvel = _random_states(env, 1)
    m = env.mj_model
    d = mujoco.MjData(m)
    d.qpos[:], d.qvel[:] = qpos[0], qvel[0]
    mujoco.mj_forward(m, d)
    vel = np.zeros(6)
    mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, m.body("cube").id, vel, 0)
    np.testing.assert_allclose(vel[3:], qvel[0, 1:4], atol=1e-12)
    np.testing.assert_allclose(vel[:3], _mat(qpos[0, 4:8]) @ qvel[0, 4:7], atol=1e-12)


def test_frames_by_hand_for_the_cube_above_the_palm(env):
    """The cube 0.1 m along the palm's own z axis, turned like the palm: (0, 0, 0.1) and identity in
    the palm frame; the palm is turned 45 degrees about y, so its z axis is (sin 45, 0, cos 45)."""
    s = math.sqrt(0.5)
    qpos = env.mj_model.qpos0.copy()
    qpos[1:4] = np.array(PALM_POS) + 0.1 * np.array([s, 0.0, s])
    qpos[4:8] = PALM_QUAT
    qvel = np.zeros(env.mj_model.nv)
    qvel[1:4] = (0.0, 0.0, 1.0)  # straight up in the world: (-s, 0, s) in the palm frame
    env.set_physical_state(qpos=qpos, qvel=qvel, worlds=[2])
    torch.testing.assert_close(mdp.object_pos_in_frame(env, "cube", **PALM)[2], torch.tensor([0.0, 0.0, 0.1]))
    q = mdp.object_quat_in_frame(env, "cube", frame_body="palm")[2]
    torch.testing.assert_close(q, torch.tensor([1.0, 0.0, 0.0, 0.0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(
        mdp.object_lin_vel_in_frame(env, "cube", **PALM)[2], torch.tensor([-s, 0.0, s])
    )


def test_touch_sensors_read_the_named_sensors_in_model_order(env):
    """The cube pressed into fingertip 0: its touch sensor reads a force; the columns are touch_tip0
    (1), tip1_pos (3), touch_tip1 (1), each equal to MuJoCo's C engine."""
    m = env.mj_model
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    tip = d.site_xpos[m.site("tip0").id]
    qpos = m.qpos0.copy()
    qpos[1:4] = tip + np.array([0.0, 0.0, CUBE_HALF + 0.008 - 0.002])  # 2 mm into the finger's capsule
    env.set_physical_state(qpos=qpos, qvel=np.zeros(m.nv), worlds=[1])
    touch = mdp.touch_sensors(env, ["touch_.*", "tip1_pos"])
    assert touch.shape == (N, 5)
    d = _c_data(env, 1)
    expected = np.concatenate(
        [d.sensor("touch_tip0").data, d.sensor("tip1_pos").data, d.sensor("touch_tip1").data]
    )
    assert expected[0] > 0.1  # a contact force, N
    np.testing.assert_allclose(touch[1, 1:4].numpy(), expected[1:4], atol=1e-5)
    np.testing.assert_allclose(touch[1].numpy(), expected, rtol=0.02, atol=1e-4)
    obs = env.observations["policy"]
    width = 3 + 4 + 3 + 3 + 9
    torch.testing.assert_close(obs[1, width : width + 5], touch[1])


def test_reset_places_the_cube_in_the_palm_frame_within_its_ranges(env):
    env.reset()
    pos = mdp.object_pos_in_frame(env, "cube", **PALM)
    for axis, key in enumerate("xyz"):
        low, high = RESET_RANGE[key]
        assert (
            (pos[:, axis] >= RESET_POS[axis] + low - 1e-6) & (pos[:, axis] <= RESET_POS[axis] + high + 1e-6)
        ).all()
    assert pos.std(dim=0).min() > 0.0  # drawn per world
    quat = mdp.object_quat_in_frame(env, "cube", **PALM)
    # Turned about the palm's z axis only, by angles that differ between worlds.
    torch.testing.assert_close(quat[:, 1:3], torch.zeros(N, 2), atol=1e-6, rtol=0)
    assert quat[:, 3].abs().std() > 0.0
    assert (env.sim.qvel[:, 1:7] == 0).all()


def test_reset_object_pose_changes_only_the_masked_worlds(env):
    env.reset()
    before_q = env.sim.qpos.clone()
    env.sim.qvel[:, 1:7] = 1.0
    mask = torch.tensor([True, False, True, False])
    mdp.reset_object_pose(env, mask, "cube", position=(0.0, 0.0, 0.3), rotation="xyz")
    torch.testing.assert_close(env.sim.qpos[~mask], before_q[~mask], atol=0, rtol=0)
    assert (env.sim.qvel[~mask, 1:7] == 1.0).all() and (env.sim.qvel[mask, 1:7] == 0.0).all()
    torch.testing.assert_close(env.sim.qpos[mask, 1:4], torch.tensor([[0.0, 0.0, 0.3]] * 2))
    quat = env.sim.qpos[mask, 4:8]
    torch.testing.assert_close(quat.norm(dim=1), torch.ones(2))
    assert (quat[:, 0] >= 0).all() and not torch.allclose(quat[0], quat[1])


def test_object_terms_name_what_is_wrong(env):
    with pytest.raises(ValueError, match="'palm': body has no free joint"):
        mdp.object_pos_in_frame(env, "palm")
    with pytest.raises(ValueError, match="not both"):
        mdp.object_pos_in_frame(env, "cube", frame_body="palm", frame_site="palm_site")
    with pytest.raises(ValueError, match="rotation must be one of"):
        mdp.reset_object_pose(env, torch.ones(N, dtype=torch.bool), "cube", rotation="yaw")


def test_object_size_and_colour_per_world():
    env = RlEnv(_cfg(num_envs=N, events={}))
    mask = torch.tensor([True, True, True, False])
    geom, body = env.mj_model.geom("cube_geom").id, env.mj_model.body("cube").id
    mdp.randomize_mass(env, mask, (0.5, 2.0), bodies="cube")
    mdp.randomize_object_size(env, mask, "cube", (0.5, 1.5))
    size = env.sim.model_field("geom_size")[:, geom]
    scale = size[:, 0] / CUBE_HALF
    assert ((scale[:3] >= 0.5) & (scale[:3] <= 1.5)).all() and scale[3] == 1.0
    torch.testing.assert_close(size, scale[:, None].expand(N, 3) * CUBE_HALF)
    mass = env.sim.model_field("body_mass")[:, body]
    inertia = env.sim.model_field("body_inertia")[:, body]
    # A solid cube of side 2h and mass m: I = m (2h)^2 / 6 about each axis.
    expected = mass * (2 * CUBE_HALF * scale) ** 2 / 6
    torch.testing.assert_close(inertia, expected[:, None].expand(N, 3), rtol=1e-4, atol=0)
    # The contact bound follows the size (set_const): a box's bounding sphere is its half diagonal.
    rbound = env.sim.model_field("geom_rbound")[:, geom]
    torch.testing.assert_close(rbound, CUBE_HALF * scale * math.sqrt(3), rtol=1e-5, atol=0)

    palette = [(1.0, 0.0, 0.0, 1.0), (0.0, 0.0, 1.0, 0.5)]
    before = env.sim.model_field("geom_rgba")[:, geom].clone()
    mdp.randomize_geom_color(env, mask, "cube_geom", colors=palette)
    rgba = env.sim.model_field("geom_rgba")[:, geom]
    assert all(tuple(rgba[w].tolist()) in palette for w in range(3))
    torch.testing.assert_close(rgba[3], before[3], atol=0, rtol=0)
    mdp.randomize_geom_color(env, mask, "cube_geom", rgb_range=(0.2, 0.4))
    rgba = env.sim.model_field("geom_rgba")[:, geom]
    assert ((rgba[:3, :3] >= 0.2) & (rgba[:3, :3] <= 0.4)).all()
    with pytest.raises(ValueError, match="colors must be a list of"):
        mdp.randomize_geom_color(env, mask, "cube_geom", colors=[(1.0, 0.0, 0.0)])
    with pytest.raises(ValueError, match="meshes or offset"):
        mdp.randomize_object_size(env, mask, "finger", (0.9, 1.1))
