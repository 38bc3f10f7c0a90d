"""``arm-lift`` leaves warplab: its two-state gripper exports as a binary actuator mapping
(``action_binary``), every policy term declares its robot signal (the object's shape included),
``Policy`` builds the env's observation from ``MjData`` and computes the env's joint targets, the
controls sim2sim writes are the env's, and ``warplab sim2sim`` runs it end to end.

The reference is warplab's own env of the task (the gripper term's rule, ``close if action < 0 else
open``, and its arm servo targets) for the identical state, goal and action.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.robots.arm import GRIPPER_JOINT, GRIPPER_STROKE
from warplab.cli.main import main
from warplab.deploy import Policy, PolicyError
from warplab.deploy.export import checkpoint_exporter
from warplab.deploy.policy import NonFiniteError
from warplab.deploy.policy_checks import check_metadata
from warplab.deploy.sim2sim import Sim2Sim, Sim2SimCfg
from warplab.deploy.sim2sim_model import load_model
from warplab.rl import OnPolicyRunner
from warplab.tasks import get_task, make

TASK = "arm-lift"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The task's env (play mode, 2 worlds on the CPU) and an untrained policy saved through the runner,
    exported by ``warplab export``."""
    folder = tmp_path_factory.mktemp("lift")
    env = make(TASK, num_envs=2, device="cpu", seed=0, play=True)
    agent = dataclasses.replace(
        get_task(TASK).agent_cfg_factory(), console="off", logger="none", experiment_name=TASK
    )
    runner = OnPolicyRunner(env, agent, log_dir=folder, exporter=checkpoint_exporter(env, TASK))
    checkpoint = runner.save(folder / "model_0.pt")
    out = folder / "exported.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    return env, out


def test_the_gripper_exports_as_a_binary_mapping_and_every_term_declares_its_signal(saved):
    _, path = saved
    meta = Policy.load(path).metadata
    assert meta["joint_names"][-1] == GRIPPER_JOINT and len(meta["joint_names"]) == 8
    binary = meta["action_binary"]
    assert binary[:7] == [None] * 7
    assert binary[7] == {"threshold": 0.0, "close": 0.0, "open": pytest.approx(GRIPPER_STROKE)}
    # An older runtime, which ignores action_binary, holds the gripper open.
    assert meta["action_scale"][7] == 0.0 and meta["action_offset"][7] == pytest.approx(GRIPPER_STROKE)
    assert meta["action_kind"] == ["position"] * 8 and meta["action_clip"] is None
    assert [t["type"] for t in meta["action_terms"]] == ["JointPositionAction", "BinaryGripperAction"]
    terms = {t["name"]: t for t in meta["observation_terms"]}
    assert {name: t["signal"] for name, t in terms.items()} == {
        "joint_pos": "joint_pos_rel",
        "joint_vel": "joint_vel",
        "object_pos": "object_pos",
        "object_quat": "object_quat",
        "goal_pos": "command",
        "last_action": "last_action",
        "object_shape": "object_shape",
    }
    assert terms["object_shape"]["params"] == {"object": "object"} and terms["object_shape"]["size"] == 4
    assert meta["object_frame"]["body"] == "link0" and meta["object_frame"]["fixed"] is True
    goal = meta["commands"]["object_pose"]
    # The goal's frame, and the success test a sim-to-sim check can run: within 5 cm for 10 steps.
    assert goal["type"] == "HeldGoalCommand"
    assert goal["params"] == {
        "frame_body": "link0",
        "criterion": "distance",
        "tolerance": 0.05,
        "success_steps": 10,
    }
    assert goal["ranges"] == [[0.4, 0.6], [-0.25, 0.25], [0.25, 0.5]]


def _gripper_ctrl(policy: Policy, action: float) -> float:
    a = np.zeros(policy.action_size, np.float32)
    a[-1] = action
    return float(policy.targets(a)[-1])


def test_policy_applies_the_threshold_refuses_nan_and_reads_old_files_as_before(saved):
    _, path = saved
    policy = Policy.load(path)
    # Below the threshold closes, at and above it opens, the magnitude is ignored (hand-worked).
    assert [_gripper_ctrl(policy, a) for a in (-3.0, -1e-6, 0.0, 1e-6, 7.0)] == [
        0.0,
        0.0,
        pytest.approx(GRIPPER_STROKE),
        pytest.approx(GRIPPER_STROKE),
        pytest.approx(GRIPPER_STROKE),
    ]
    batch = np.zeros((2, policy.action_size), np.float32)
    batch[:, -1] = (-1.0, 1.0)
    np.testing.assert_allclose(policy.targets(batch)[:, -1], [0.0, GRIPPER_STROKE])
    # A NaN gripper action never becomes a ctrl: "NaN < 0" is false and would open the gripper.
    bad = np.zeros(policy.action_size, np.float32)
    bad[-1] = np.nan
    with pytest.raises(NonFiniteError, match=rf"actions not finite \(as float32\) at {GRIPPER_JOINT} = nan"):
        policy.targets(bad)
    # A file without the key is affine throughout, as before the key existed.
    old = {k: v for k, v in policy.metadata.items() if k != "action_binary"}
    assert _gripper_ctrl(Policy(None, old, "old"), -1.0) == pytest.approx(GRIPPER_STROKE)
    meta = copy.deepcopy(policy.metadata)
    meta["action_binary"][7] = {"threshold": 0.0, "close": 0.0}
    with pytest.raises(PolicyError, match=rf"action_binary\[7\] \('{GRIPPER_JOINT}'\) is .* must be null or"):
        check_metadata(meta, "test")
    meta["action_binary"] = [None] * 3
    with pytest.raises(PolicyError, match=r"action_binary is \[None, None, None\]; it must be a list of 8"):
        check_metadata(meta, "test")


def test_observation_targets_and_ctrl_from_mjdata_equal_the_envs(saved):
    env, path = saved
    policy = Policy.load(path)
    check = Sim2Sim(policy, load_model(policy)[0], Sim2SimCfg(seconds=1.0, episodes=1))
    m, d = check.model, check.data
    rng = np.random.default_rng(3)
    arm_term, gripper_term = env.action_manager.terms["arm"], env.action_manager.terms["gripper"]
    obj = m.jnt_qposadr[m.body("object").jntadr[0]]
    joints = [m.joint(j).id for j in policy.joint_names]
    # The env's actuators in action order (the C model compiles the same scene: the same ids).
    actuators = torch.cat([arm_term.actuator_ids, gripper_term.actuator_ids]).tolist()
    # The env drew a shape per world at startup; the C model takes world 0's, as a robot is told it.
    geoms = np.flatnonzero(m.geom_bodyid == m.body("object").id)
    m.geom_margin[geoms] = env.sim.model_field("geom_margin")[0, geoms].numpy()
    for k in range(4):
        action = rng.uniform(-1.5, 1.5, (2, env.action_dim)).astype(np.float32)
        action[0, -1] = (-0.3, 0.4, -2.0, 0.0)[k]
        env.step(torch.as_tensor(action))
        targets = policy.targets(action[0])
        np.testing.assert_allclose(targets[:7], arm_term.target[0].numpy(), atol=1e-6)
        assert targets[7] == pytest.approx(float(gripper_term.target[0, 0]))
        check.actuate(targets)
        np.testing.assert_allclose(d.ctrl[actuators], env.sim.ctrl[0, actuators].numpy(), atol=1e-6)
        qpos = env.sim.init_qpos.numpy().astype(np.float64).copy()
        qvel = rng.normal(0.0, 0.3, m.nv)
        for j in joints:
            qpos[m.jnt_qposadr[j]] = rng.uniform(*m.jnt_range[j])
        qpos[obj : obj + 3] = (rng.uniform(0.3, 0.6), rng.uniform(-0.2, 0.2), rng.uniform(0.8, 1.1))
        quat = rng.normal(size=4)
        qpos[obj + 3 : obj + 7] = quat / np.linalg.norm(quat)
        goal = env.command_manager.term("object_pose")
        goal.command[:] = torch.as_tensor(
            rng.uniform((0.4, -0.25, 0.25), (0.6, 0.25, 0.5)), dtype=torch.float32
        )
        states = [torch.as_tensor(np.stack([x, x]), dtype=torch.float32) for x in (qpos, qvel)]
        expected = env.set_physical_state(qpos=states[0], qvel=states[1])["policy"][0].numpy()
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        policy.reset()
        policy.last_action = action[0]
        signals = check.signals(check.sense(), {"object_pose": goal.command[0].numpy().copy()})
        np.testing.assert_allclose(policy.observation(signals), expected, atol=2e-5, rtol=1e-5)


def test_warplab_sim2sim_runs_the_lift_policy(saved, tmp_path):
    _, path = saved
    report = tmp_path / "report.json"
    argv = [
        "sim2sim",
        "--policy",
        str(path),
        "--seconds",
        "0.5",
        "--episodes",
        "1",
        "--json-out",
        str(report),
    ]
    assert main(argv) == 0
    s = json.loads(report.read_text())["summary"]
    assert s["episodes"] == 1 and s["diverged"] == 0 and s["non_finite"] == 0 and "dropped" in s
