"""Quaternion helpers against MuJoCo's own functions; base-frame terms on a tilted body by hand."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch

from warplab.envs import RlEnv, mdp
from warplab.envs.mdp import math as wmath

from ._cfgs import free_body_cfg


def _random_quats(n: int, seed: int = 0) -> np.ndarray:
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _mat(q: np.ndarray) -> np.ndarray:
    m = np.zeros(9)
    mujoco.mju_quat2Mat(m, q)
    return m.reshape(3, 3)


def test_quat_rotate_and_inverse_match_mujoco_rotation_matrices():
    quats = _random_quats(16)
    vecs = np.random.default_rng(1).normal(size=(16, 3))
    rotated = wmath.quat_rotate(torch.tensor(quats), torch.tensor(vecs)).numpy()
    back = wmath.quat_rotate_inverse(torch.tensor(quats), torch.tensor(vecs)).numpy()
    for q, v, r, b in zip(quats, vecs, rotated, back, strict=True):
        np.testing.assert_allclose(r, _mat(q) @ v, atol=1e-12)
        np.testing.assert_allclose(b, _mat(q).T @ v, atol=1e-12)


def test_quat_mul_and_conjugate_match_mujoco():
    a, b = _random_quats(8, 2), _random_quats(8, 3)
    prod = wmath.quat_mul(torch.tensor(a), torch.tensor(b)).numpy()
    conj = wmath.quat_conjugate(torch.tensor(a)).numpy()
    for qa, qb, p, c in zip(a, b, prod, conj, strict=True):
        ref = np.zeros(4)
        mujoco.mju_mulQuat(ref, qa, qb)
        np.testing.assert_allclose(p, ref, atol=1e-12)
        mujoco.mju_negQuat(ref, qa)
        np.testing.assert_allclose(c, ref, atol=1e-12)


def test_yaw_helpers():
    yaw = torch.tensor([-3.0, -1.0, 0.0, 0.5, 2.5], dtype=torch.float64)
    q = wmath.quat_from_yaw(yaw)
    for angle, quat in zip(yaw.tolist(), q.numpy(), strict=True):
        # A rotation by `angle` about z maps the x axis to (cos, sin, 0).
        np.testing.assert_allclose(_mat(quat) @ [1, 0, 0], [math.cos(angle), math.sin(angle), 0], atol=1e-12)
    torch.testing.assert_close(wmath.yaw_from_quat(q), yaw)


@pytest.fixture(scope="module")
def free_body():
    return RlEnv(free_body_cfg(num_envs=2))


def test_base_frame_terms_on_a_body_tilted_about_x(free_body):
    env = free_body
    theta = 0.5
    c, s = math.cos(theta), math.sin(theta)
    # World 0: tilted by theta about the world x axis; world 1: upright.
    qpos = torch.tensor(
        [
            [0.0, 0.0, 1.2, math.cos(theta / 2), math.sin(theta / 2), 0.0, 0.0, 0.3, 0.0],
            [0.0, 0.0, 0.4, 1.0, 0.0, 0.0, 0.0, 0.3, 0.0],
        ]
    )
    v = (0.3, -0.2, 1.0)
    w = (0.1, 0.2, -0.3)
    qvel = torch.tensor([[*v, *w, 0.0, 0.0]] * 2)
    env.sim.set_state(qpos, qvel)
    # The body frame's axes are the columns of R = Rx(theta); a world vector u reads R^T u there.
    lin_b = [v[0], c * v[1] + s * v[2], -s * v[1] + c * v[2]]
    torch.testing.assert_close(mdp.base_lin_vel_b(env)[0], torch.tensor(lin_b))
    torch.testing.assert_close(mdp.base_lin_vel_b(env)[1], torch.tensor(v))
    torch.testing.assert_close(mdp.projected_gravity_b(env), torch.tensor([[0.0, -s, -c], [0.0, 0.0, -1.0]]))
    # MuJoCo's free joint gives the angular velocity in the body frame already.
    torch.testing.assert_close(mdp.base_ang_vel_b(env), torch.tensor([w, w]))
    torch.testing.assert_close(mdp.base_height(env), torch.tensor([[1.2], [0.4]]))
    # Derived rewards and terminations on the same states.
    torch.testing.assert_close(mdp.flat_orientation_l2(env), torch.tensor([s**2, 0.0]))
    torch.testing.assert_close(mdp.upright(env), torch.tensor([c, 1.0]))
    torch.testing.assert_close(mdp.lin_vel_z_l2(env), torch.tensor([lin_b[2] ** 2, 1.0]))
    torch.testing.assert_close(mdp.ang_vel_xy_l2(env), torch.tensor([0.05, 0.05]))
    assert mdp.bad_orientation(env, limit_angle_rad=0.4).tolist() == [True, False]
    assert mdp.bad_orientation(env, limit_angle_rad=0.6).tolist() == [False, False]
    assert mdp.root_height_below(env, minimum_height=0.5).tolist() == [False, True]
    assert mdp.root_height_outside(env, low=0.5, high=1.0).tolist() == [True, True]


def test_base_velocity_in_body_frame_matches_mujoco_object_velocity(free_body):
    env = free_body
    quats = _random_quats(2, 5)
    qpos = np.zeros((2, 9))
    qpos[:, 2] = 1.0
    qpos[:, 3:7] = quats
    qvel = np.random.default_rng(6).normal(size=(2, 8))
    env.sim.set_state(torch.tensor(qpos), torch.tensor(qvel))
    m = env.mj_model
    d = mujoco.MjData(m)
    base = m.body("base").id
    for i in range(2):
        d.qpos[:], d.qvel[:] = qpos[i], qvel[i]
        mujoco.mj_forward(m, d)
        ref = np.zeros(6)  # (angular, linear) at the body frame's origin, in the body frame
        mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, base, ref, 1)
        np.testing.assert_allclose(mdp.base_lin_vel_b(env)[i].numpy(), ref[3:], atol=1e-5)
        np.testing.assert_allclose(mdp.base_ang_vel_b(env)[i].numpy(), ref[:3], atol=1e-5)
        gravity_b = d.xmat[base].reshape(3, 3).T @ [0, 0, -1]
        np.testing.assert_allclose(mdp.projected_gravity_b(env)[i].numpy(), gravity_b, atol=1e-6)


def test_joint_terms(free_body):
    env = free_body
    qpos = torch.tensor([[0, 0, 1, 1, 0, 0, 0, 0.5, -0.25], [0, 0, 1, 1, 0, 0, 0, 0.3, 0.1]])
    qvel = torch.tensor([[0, 0, 0, 0, 0, 0, 2.0, -1.0], [0, 0, 0, 0, 0, 0, 0.0, 3.0]])
    env.sim.set_state(qpos, qvel)
    torch.testing.assert_close(mdp.joint_pos(env), qpos[:, 7:])
    # Defaults: elbow 0.3 rad (its ref), wrist 0.
    torch.testing.assert_close(mdp.joint_pos_rel(env), torch.tensor([[0.2, -0.25], [0.0, 0.1]]))
    torch.testing.assert_close(mdp.joint_vel(env, joints="wrist"), torch.tensor([[-1.0], [3.0]]))
    torch.testing.assert_close(mdp.joint_vel_l2(env), torch.tensor([5.0, 9.0]))


def test_quat_sub_and_error_angle_match_mujoco_sub_quat():
    a, b = _random_quats(32, 4), _random_quats(32, 5)
    # At and near the identity (the small-angle branch), and close to half a turn.
    b[:4] = a[:4]
    b[4:8] = a[4:8] + 1e-7 * _random_quats(4, 6)
    for i in range(8, 12):
        turn = np.zeros(4)
        mujoco.mju_axisAngle2Quat(turn, np.array([0.0, 0.6, 0.8]), -(math.pi - 1e-3 * (i - 8)))
        mujoco.mju_mulQuat(b[i], a[i], turn)
    ta, tb = torch.tensor(a), torch.tensor(b)
    ours = wmath.quat_sub(ta, tb).numpy()
    angle = wmath.quat_error_angle(ta, tb).numpy()
    for i in range(32):
        ref = np.zeros(3)
        mujoco.mju_subQuat(ref, a[i], b[i])
        np.testing.assert_allclose(ours[i], ref, atol=1e-9)
        assert angle[i] == pytest.approx(np.linalg.norm(ref), abs=1e-7)
    # Either sign of a quaternion is the same orientation: the same error.
    np.testing.assert_allclose(wmath.quat_error_angle(-ta, tb).numpy(), angle, atol=1e-12)
    assert (angle >= 0).all() and (angle <= math.pi + 1e-12).all()


def test_axis_angle_angle_and_canonical_sign_by_hand():
    # A quarter turn about x: (cos 45, sin 45, 0, 0); its angle pi/2; mju_axisAngle2Quat agrees.
    q = wmath.quat_from_axis_angle(torch.tensor([1.0, 0.0, 0.0]), torch.tensor(math.pi / 2))
    torch.testing.assert_close(q, torch.tensor([math.sqrt(0.5), math.sqrt(0.5), 0.0, 0.0]))
    ref = np.zeros(4)
    mujoco.mju_axisAngle2Quat(ref, np.array([0.0, 0.6, 0.8]), 2.5)
    ours = wmath.quat_from_axis_angle(
        torch.tensor([0.0, 0.6, 0.8], dtype=torch.float64), torch.tensor(2.5, dtype=torch.float64)
    )
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-12)
    assert wmath.quat_angle(q).item() == pytest.approx(math.pi / 2)
    # Three quarters of a turn is a quarter turn the other way: the angle is pi/2, the sign flips.
    q3 = wmath.quat_from_axis_angle(torch.tensor([0.0, 0.0, 1.0]), torch.tensor(1.5 * math.pi))
    assert q3[0] < 0 and wmath.quat_angle(q3).item() == pytest.approx(math.pi / 2, abs=1e-6)
    c = wmath.quat_canonical(q3)
    torch.testing.assert_close(c, -q3)
    torch.testing.assert_close(wmath.quat_to_rotvec(q3), torch.tensor([0.0, 0.0, -math.pi / 2]))
    torch.testing.assert_close(
        wmath.quat_normalize(torch.tensor([2.0, 0.0, 0.0, 0.0])), torch.tensor([1.0, 0, 0, 0])
    )


def test_random_quats_are_uniform_rotations():
    """Shoemake's draw: unit, canonical, and the rotation angle has the uniform distribution's law
    P(angle < t) = (t - sin t) / pi (the Haar measure of SO(3))."""
    g = torch.Generator().manual_seed(0)
    q = wmath.random_quat_uniform((20000,), g, torch.device("cpu"))
    torch.testing.assert_close(q.norm(dim=1), torch.ones(20000))
    assert (q[:, 0] >= 0).all()
    angle = wmath.quat_angle(q)
    for t in (0.5, math.pi / 2, 2.5):
        assert (angle < t).float().mean().item() == pytest.approx((t - math.sin(t)) / math.pi, abs=0.01)
    # Each component squared averages 1/4 on the uniform 3-sphere.
    torch.testing.assert_close(q.square().mean(dim=0), torch.full((4,), 0.25), atol=0.01, rtol=0)


def test_quat_from_matrix_matches_mujoco():
    """Every branch (each of w, x, y, z the largest component) and half-turns, where w is 0."""
    quats = np.vstack([_random_quats(64, seed=3), np.eye(4), [[0.0, 0.6, 0.8, 0.0]]])
    mats = torch.tensor(np.array([_mat(q) for q in quats]), dtype=torch.float64)
    got = wmath.quat_from_matrix(mats).numpy()
    for q, m, g in zip(quats, mats.numpy(), got, strict=True):
        expected = np.zeros(4)
        mujoco.mju_mat2Quat(expected, m.ravel())
        # The same rotation: equal up to sign, and w >= 0 here.
        assert min(np.abs(g - expected).max(), np.abs(g + expected).max()) < 1e-12, q
        assert g[0] >= 0.0


def test_quat_from_rotvec_matches_mujoco_axis_angle():
    rng = np.random.default_rng(4)
    vecs = np.vstack([rng.normal(size=(16, 3)), [[0.0, 0.0, 0.0], [1e-6, 0.0, -2e-6]]])
    got = wmath.quat_from_rotvec(torch.tensor(vecs)).numpy()
    for v, g in zip(vecs, got, strict=True):
        angle = np.linalg.norm(v)
        expected = np.zeros(4)
        mujoco.mju_axisAngle2Quat(expected, v / angle if angle > 0 else np.array([1.0, 0, 0]), angle)
        np.testing.assert_allclose(g, expected, atol=1e-12)
    # Back again, for angles below pi (beyond it the same rotation has a shorter vector).
    short = np.linalg.norm(vecs, axis=1) < math.pi
    back = wmath.quat_to_rotvec(torch.tensor(got[short])).numpy()
    np.testing.assert_allclose(back, vecs[short], atol=1e-9)
