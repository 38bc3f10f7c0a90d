"""Arm action terms on the project's arm: differential IK to end-effector poses, the binary gripper,
and joint position targets."""

from __future__ import annotations

import functools

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.robots.arm import ARM_HOME, ARM_ROBOT_CFG, EE_SITE, GRIPPER_STROKE, arm_spec
from warplab.envs import ActionTermCfg, ObservationGroupCfg, ObservationTermCfg, RlEnv, RlEnvCfg, mdp
from warplab.envs.mdp.math import (
    quat_error_angle,
    quat_from_matrix,
    quat_from_rotvec,
    quat_mul,
    quat_to_rotvec,
)

from ._cfgs import cartpole_cfg
from .test_step_graph import _HostSyncRecorder

ARM = "joint[1-7]"


def _arm_cfg(actions: dict[str, ActionTermCfg], num_envs: int) -> RlEnvCfg:
    return RlEnvCfg(
        scene=arm_spec,
        decimation=4,
        episode_length_s=100.0,
        num_envs=num_envs,
        device="cpu",
        observations={"policy": ObservationGroupCfg(terms={"q": ObservationTermCfg(func=mdp.joint_pos)})},
        actions=actions,
        rewards={},
        terminations={},
    )


def _ik_cfg(mode: str = "absolute", **params) -> ActionTermCfg:
    return ActionTermCfg(
        func=mdp.DifferentialIKAction,
        params={"actuators": ARM, "site": EE_SITE, "base_body": "link0", "mode": mode, **params},
    )


def _gripper_cfg() -> ActionTermCfg:
    return ActionTermCfg(func=mdp.BinaryGripperAction, params={"actuators": "finger_left"})


@functools.cache
def _ik_env() -> RlEnv:
    return RlEnv(_arm_cfg({"ik": _ik_cfg(), "gripper": _gripper_cfg()}, num_envs=4))


def _site_pose(env: RlEnv) -> tuple[torch.Tensor, torch.Tensor]:
    """Fresh pose of the ee site in the world (the base is the world frame here)."""
    env.sim.kinematics()
    sid = env.index.ids("site", EE_SITE)[0]
    return env.sim.site_xpos[:, sid].clone(), quat_from_matrix(env.sim.site_xmat[:, sid])


def test_ik_reaches_a_different_pose_in_each_world():
    """Absolute targets 3-8 cm and 0.1-0.3 rad from home, one per world, reached within 1 mm and 0.01 rad."""
    env = _ik_env()
    env.reset()
    home_pos, home_quat = _site_pose(env)
    offsets = torch.tensor([[0.05, 0.0, 0.0], [0.0, -0.06, 0.03], [-0.04, 0.05, -0.05], [0.03, 0.03, 0.08]])
    turns = torch.tensor([[0.0, 0.0, 0.3], [0.2, 0.0, 0.0], [0.0, -0.15, 0.1], [0.1, 0.1, -0.2]])
    target_pos = home_pos + offsets
    target_quat = quat_mul(quat_from_rotvec(turns), home_quat)
    # The absolute action is the target's pose in the base frame, which here is the world's.
    action = torch.cat([target_pos, quat_to_rotvec(target_quat), torch.ones(4, 1)], dim=-1)
    for _ in range(100):
        env.step(action)
    pos, quat = _site_pose(env)
    assert (pos - target_pos).norm(dim=-1).max() < 1e-3
    assert quat_error_angle(quat, target_quat).max() < 0.01


def test_ik_delta_zero_holds_and_delta_moves():
    """A zero delta keeps the ee where it is; a 2 cm delta along x sets the target 2 cm ahead of the
    ee's pose at that step, with its orientation unchanged."""
    env = _ik_env()
    env.reset()
    term = env.action_manager.terms["ik"]
    term.mode = "delta"
    try:
        start_pos, start_quat = _site_pose(env)
        zero = torch.zeros(4, 7)
        zero[:, 6] = 1.0
        for _ in range(5):
            env.step(zero)
        pos, quat = _site_pose(env)
        assert (pos - start_pos).norm(dim=-1).max() < 1e-3
        assert quat_error_angle(quat, start_quat).max() < 0.01
        step = zero.clone()
        step[:, 0] = 0.02
        env.step(step)
        # The target is 2 cm ahead of where the ee was at this step, in the base frame.
        expected = pos + torch.tensor([0.02, 0.0, 0.0])
        torch.testing.assert_close(term.target_pos_b, expected, atol=1e-4, rtol=0)
        assert quat_error_angle(term.target_quat_b, quat).max() < 1e-3
    finally:
        term.mode = "absolute"


def _fd_site_jacobian(mjm: mujoco.MjModel, qpos: np.ndarray, site: int, dofs: np.ndarray) -> np.ndarray:
    """Central differences of the site's position and orientation (rotation vector, world frame) in
    MuJoCo's C engine, ``[6, len(dofs)]``."""
    data = mujoco.MjData(mjm)
    eps = 1e-6
    out = np.zeros((6, len(dofs)))
    for col, dof in enumerate(dofs):
        poses = []
        for sign in (1.0, -1.0):
            data.qpos[:] = qpos
            data.qpos[mjm.jnt_qposadr[mjm.dof_jntid[dof]]] += sign * eps
            mujoco.mj_kinematics(mjm, data)
            quat = np.zeros(4)
            mujoco.mju_mat2Quat(quat, data.site_xmat[site])
            poses.append((data.site_xpos[site].copy(), quat))
        (p1, q1), (p0, q0) = poses
        out[:3, col] = (p1 - p0) / (2 * eps)
        # Angular velocity in the world frame: the rotation from q0 to q1, expressed in the world.
        dq = np.zeros(4)
        mujoco.mju_mulQuat(dq, q1, np.array([q0[0], -q0[1], -q0[2], -q0[3]]))
        rotvec = np.zeros(3)
        mujoco.mju_quat2Vel(rotvec, dq, 1.0)
        out[3:, col] = rotvec / (2 * eps)
    return out


def test_ik_jacobian_matches_mujoco_finite_differences():
    """At random poses within the joint ranges (a different one per world), the term's Jacobian equals
    central differences of the site's pose in MuJoCo's C engine, and MuJoCo's own mj_jacSite."""
    env = _ik_env()
    mjm = env.mj_model
    term = env.action_manager.terms["ik"]
    rng = np.random.default_rng(0)
    joints = [mujoco.mj_name2id(mjm, mujoco.mjtObj.mjOBJ_JOINT, f"joint{i}") for i in range(1, 8)]
    qpos = np.tile(mjm.qpos0, (4, 1))
    for j in joints:
        low, high = mjm.jnt_range[j]
        qpos[:, mjm.jnt_qposadr[j]] = rng.uniform(low, high, 4)
    env.sim.qpos.copy_(torch.as_tensor(qpos, dtype=torch.float32))
    env.sim.forward()
    jac = term.compute_jacobian().numpy()
    site = mujoco.mj_name2id(mjm, mujoco.mjtObj.mjOBJ_SITE, EE_SITE)
    dofs = mjm.jnt_dofadr[joints]
    data = mujoco.MjData(mjm)
    for w in range(4):
        fd = _fd_site_jacobian(mjm, qpos[w], site, dofs)
        # float32 kinematics on Warp: entries up to ~1 m, agree to 1e-4 of that.
        np.testing.assert_allclose(jac[w], fd, atol=1e-4)
        data.qpos[:] = qpos[w]
        mujoco.mj_forward(mjm, data)
        jacp, jacr = np.zeros((3, mjm.nv)), np.zeros((3, mjm.nv))
        mujoco.mj_jacSite(mjm, data, jacp, jacr, site)
        np.testing.assert_allclose(jac[w], np.vstack([jacp, jacr])[:, dofs], atol=1e-4)


def test_ik_and_gripper_step_has_no_host_sync():
    env = _ik_env()
    action = torch.zeros(4, 7)
    env.step(action)
    with _HostSyncRecorder() as recorder:
        env.step(action)
    assert not recorder.hits, f"host syncs in the arm actions: {recorder.hits}"


def test_gripper_closes_and_opens():
    """A negative action drives the finger servo's ctrl to the closed end (0 m) and the fingers shut;
    a non-negative one to the open end (0.04 m) and they open again."""
    env = RlEnv(_arm_cfg({"gripper": _gripper_cfg()}, num_envs=2))
    finger = env.index.joint_qpos_ids(["finger_left", "finger_right"])
    act = env.index.ids("actuator", "finger_left")[0]
    env.step(torch.tensor([[-1.0], [0.0]]))
    torch.testing.assert_close(env.sim.ctrl[:, act], torch.tensor([0.0, GRIPPER_STROKE]))
    for _ in range(25):  # 0.5 s: the fingers close at 0.1 m/s, 0.4 s for the full stroke
        env.step(torch.tensor([[-0.3], [0.7]]))
    q = env.sim.qpos[:, finger]
    assert q[0].max() < 2e-3 and q[1].min() > GRIPPER_STROKE - 1e-3
    for _ in range(25):
        env.step(torch.tensor([[0.2], [0.0]]))
    assert env.sim.qpos[:, finger].min() > GRIPPER_STROKE - 2e-3


def test_gripper_refuses_bad_params():
    with pytest.raises(ValueError, match=r"params\['open'\] must be one number or 1"):
        RlEnv(
            _arm_cfg(
                {
                    "g": ActionTermCfg(
                        func=mdp.BinaryGripperAction,
                        params={"actuators": "finger_left", "open": [0.0, 1.0], "close": 0.0},
                    )
                },
                num_envs=1,
            )
        )


def test_ik_refuses_a_motor_and_unknown_params():
    """Its ctrl must be a joint position target: the cart-pole's force motor is refused by name."""
    cfg = cartpole_cfg(
        actions={"ik": ActionTermCfg(func=mdp.DifferentialIKAction, params={"actuators": ".*"})}
    )
    with pytest.raises(ValueError, match=r"actuator 'slide' is not a position servo"):
        RlEnv(cfg)
    with pytest.raises(ValueError, match=r"does not take; it takes"):
        RlEnv(_arm_cfg({"ik": _ik_cfg(lambda_=0.1)}, num_envs=1))


def test_joint_position_action_drives_the_arm():
    """The existing joint-target term works on the arm: ``target = home + ARM_ROBOT_CFG`` scale *
    action; a 0.2 action on joint 4 settles it 0.1 rad from home, the others hold home."""
    scales = ARM_ROBOT_CFG.action_scales().tolist()
    cfg = ActionTermCfg(
        func=mdp.JointPositionAction, params={"actuators": list(ARM_ROBOT_CFG.joint_names), "scale": scales}
    )
    env = RlEnv(_arm_cfg({"joints": cfg}, num_envs=1))
    action = torch.zeros(1, 8)
    action[0, 3] = 0.2
    for _ in range(50):  # 1 s at 10 Hz servos
        env.step(action)
    q = env.sim.qpos[0, env.index.joint_qpos_ids(ARM)]
    expected = torch.tensor(list(ARM_HOME.values()))
    expected[3] += 0.1
    torch.testing.assert_close(q, expected, atol=2e-3, rtol=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_ik_step_captured_as_a_graph_replays_the_eager_step():
    """The IK term's Warp launches (kinematics, com_pos, jac) and its torch work are captured in the
    env's step graph (with the managers compiled, as on any GPU) and give what the eager step gives."""
    envs = []
    for graph_step in (False, True):
        cfg = _arm_cfg({"ik": _ik_cfg(mode="delta", scale=0.02), "gripper": _gripper_cfg()}, num_envs=16)
        cfg.device, cfg.graph_step = "cuda", graph_step
        envs.append(RlEnv(cfg))
    eager, graphed = envs
    gen = torch.Generator(device="cuda").manual_seed(0)
    for i in range(12):
        graphed.set_state(eager.get_state())
        action = torch.rand(16, 7, generator=gen, device="cuda") * 2 - 1
        obs_e, obs_g = eager.step(action)[0]["policy"], graphed.step(action)[0]["policy"]
        torch.testing.assert_close(obs_e, obs_g, atol=1e-4, rtol=1e-4, msg=f"step {i}")
    assert graphed._step_graph.captured, graphed._step_graph.failed
