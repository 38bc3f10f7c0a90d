"""``hand-reorient-cube`` leaves warplab: a checkpoint saved through the runner exports (at the save and
through ``warplab export``) with every term declared, ``Policy`` builds the env's observation from
signals read out of ``MjData``, maps actions to the env's joint targets, and sim2sim runs it.

The reference is warplab's own env of the task: the observation and the joint targets the runtime
computes must be the env's for the identical state, goal and action.
"""

from __future__ import annotations

import dataclasses
import warnings

import mujoco
import numpy as np
import pytest
import torch

from warplab.cli.main import main
from warplab.deploy import Policy
from warplab.deploy.export import checkpoint_exporter
from warplab.deploy.sim2sim import Sim2Sim, Sim2SimCfg, run_sim2sim
from warplab.deploy.sim2sim_model import Sim2SimError, load_model
from warplab.rl import OnPolicyRunner
from warplab.tasks import get_task, make

TASK = "hand-reorient-cube"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The task's env (play mode: no observation noise, 2 worlds on the CPU), an untrained policy
    saved through the runner (with its ONNX beside it), and that checkpoint exported by ``warplab
    export``."""
    folder = tmp_path_factory.mktemp("reorient")
    env = make(TASK, num_envs=2, device="cpu", seed=0, play=True)
    agent = dataclasses.replace(
        get_task(TASK).agent_cfg_factory(), console="off", logger="none", experiment_name=TASK
    )
    runner = OnPolicyRunner(env, agent, log_dir=folder, exporter=checkpoint_exporter(env, TASK))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint = runner.save(folder / "model_0.pt")
    failed = [str(w.message) for w in caught if "onnx" in str(w.message).lower()]
    assert not failed, failed
    assert (folder / "model_0.onnx").is_file()
    out = folder / "exported.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    return env, out


def test_metadata_declares_every_term_the_goal_the_drop_and_a_fixed_base(saved):
    env, path = saved
    meta = Policy.load(path).metadata
    terms = {t["name"]: t for t in meta["observation_terms"]}
    assert all(t["signal"] is not None for t in terms.values()), terms
    joints = list(get_task(TASK).env_cfg_factory().observations["policy"].terms["joint_pos"].params["joints"])
    m = env.mj_model
    assert terms["joint_pos"]["signal"] == "joint_pos_normalized"
    assert terms["joint_pos"]["params"]["joints"] == joints
    ranges = [m.jnt_range[m.joint(j).id].tolist() for j in joints]
    np.testing.assert_allclose(terms["joint_pos"]["params"]["joint_range"], ranges)
    assert terms["goal_quat"]["signal"] == "goal_quat_in_frame"
    assert terms["goal_quat"]["params"] == {"command_name": "goal", "frame": {"body": "palm"}}
    assert meta["object_frame"]["body"] == "palm" and meta["object_frame"]["fixed"] is True
    goal = meta["commands"]["goal"]["params"]
    assert (
        goal["object"] == "cube" and goal["rotation"] == "xyz" and goal["tolerance_rad"] == pytest.approx(0.1)
    )
    assert meta["fall"]["object_dropped"] == [
        {"object": "cube", "frame": {"body": "palm"}, "max_distance": 0.24, "min_height": None}
    ]
    assert meta["success_cap"] == {"command_name": "goal", "max_successes": 50}
    # The hand is fixed to the world: the cube, the scene's only free body, is not its base.
    assert meta["scene"]["fixed_base"] is True and meta["scene"]["base_body"] is None
    assert meta["action_clip"] == [-1.0, 1.0] and meta["action_kind"] == ["position"] * len(joints)


def test_observation_and_targets_from_mjdata_equal_the_envs(saved):
    env, path = saved
    policy = Policy.load(path)
    check = Sim2Sim(policy, load_model(policy)[0], Sim2SimCfg(seconds=1.0, episodes=1))
    m, d = check.model, check.data
    assert check.robot.base_body is None
    rng = np.random.default_rng(5)
    term = env.action_manager.terms["joint_pos"]
    cube = m.jnt_qposadr[m.body("cube").jntadr[0]]
    hand = [m.joint(j).id for j in policy.joint_names]
    for _ in range(3):
        # An action beyond the clip on some joints: the env clips it before scaling, so must the robot.
        action = rng.uniform(-1.5, 1.5, (2, env.action_dim)).astype(np.float32)
        env.step(torch.as_tensor(action))
        np.testing.assert_allclose(policy.targets(action[0]), term.target[0].numpy(), atol=1e-6)
        qpos, qvel = env.sim.init_qpos.numpy().astype(np.float64).copy(), rng.normal(0.0, 0.5, m.nv)
        for j in hand:
            qpos[m.jnt_qposadr[j]] = rng.uniform(*m.jnt_range[j])
        qpos[cube : cube + 3] += rng.uniform(-0.02, 0.02, 3)
        quat = rng.normal(size=4)
        qpos[cube + 3 : cube + 7] = quat / np.linalg.norm(quat)
        goal = env.command_manager.term("goal")
        goal_quat = rng.normal(size=4)
        goal_quat *= np.sign(goal_quat[0]) / np.linalg.norm(goal_quat)
        goal.command[:, 3:] = torch.as_tensor(goal_quat, dtype=torch.float32)
        states = [torch.as_tensor(np.stack([x, x]), dtype=torch.float32) for x in (qpos, qvel)]
        expected = env.set_physical_state(qpos=states[0], qvel=states[1])["policy"][0].numpy()
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        policy.reset()
        policy.last_action = action[0]
        commands = {"goal": goal.command[0].numpy().copy()}
        built = policy.observation(check.signals(check.sense(), commands))
        np.testing.assert_allclose(built, expected, atol=2e-5, rtol=1e-5)


def test_sim2sim_runs_an_episode_with_latency_and_refuses_pushes(saved):
    _, path = saved
    report = run_sim2sim(path, Sim2SimCfg(seconds=0.5, episodes=1, latency_ms=20.0))
    s = report["summary"]
    assert s["episodes"] == 1 and s["diverged"] == 0 and s["non_finite"] == 0 and s["falls"] == 0
    assert {"consecutive_successes_mean", "dropped"} <= set(s)
    (episode,) = report["episodes"]
    assert episode["end"] in ("time", "dropped", "success_cap")
    assert report["settings"]["latency_steps"] == 4
    with pytest.raises(
        Sim2SimError, match=r"--push-mps needs a robot with a floating base; .* fixed to the world"
    ):
        run_sim2sim(path, Sim2SimCfg(seconds=0.5, episodes=1, push_mps=0.5))
