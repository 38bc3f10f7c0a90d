"""The reorientation tasks leave warplab: a checkpoint saved through the runner exports (at the save
and through ``warplab export``) with every term declared, ``Policy`` builds the env's observation from
signals read out of ``MjData``, maps actions to the env's joint targets, and sim2sim runs it.

``hand-reorient-cube``'s palm is fixed to the world; ``shadow-reorient-cube``'s moves with the wrist,
so its policy also reads the palm's current pose (``object_frame_pose``), and the states below turn
the wrist well away from home, where the palm's exported pose would give another observation.

The reference is warplab's own env of the task: the observation and the joint targets the runtime
computes must be the env's for the identical state, goal and action.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings

import mujoco
import numpy as np
import pytest
import torch

from warplab.cli.main import main
from warplab.deploy import Policy, PolicyError
from warplab.deploy.export import checkpoint_exporter
from warplab.deploy.object_signals import quat_angle, quat_conj, quat_mul
from warplab.deploy.policy_checks import check_metadata
from warplab.deploy.sim2sim import Sim2Sim, Sim2SimCfg, run_sim2sim
from warplab.deploy.sim2sim_model import Sim2SimError, load_model
from warplab.rl import OnPolicyRunner
from warplab.tasks import get_task, make

HAND, SHADOW = "hand-reorient-cube", "shadow-reorient-cube"
PALM = {HAND: "palm", SHADOW: "robot0:palm"}


@pytest.fixture(scope="module", params=[HAND, SHADOW])
def saved(request, tmp_path_factory):
    """The task's env (play mode: no observation noise, 2 worlds on the CPU), an untrained policy
    saved through the runner (with its ONNX beside it), and that checkpoint exported by ``warplab
    export``."""
    task = request.param
    if task == SHADOW:
        pytest.importorskip("gymnasium_robotics")
    folder = tmp_path_factory.mktemp("reorient")
    env = make(task, num_envs=2, device="cpu", seed=0, play=True)
    agent = dataclasses.replace(
        get_task(task).agent_cfg_factory(), console="off", logger="none", experiment_name=task
    )
    runner = OnPolicyRunner(env, agent, log_dir=folder, exporter=checkpoint_exporter(env, task))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checkpoint = runner.save(folder / "model_0.pt")
    failed = [str(w.message) for w in caught if "onnx" in str(w.message).lower()]
    assert not failed, failed
    assert (folder / "model_0.onnx").is_file()
    out = folder / "exported.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    return task, env, out


def test_metadata_declares_every_term_the_goal_the_drop_and_a_fixed_base(saved):
    task, env, path = saved
    meta = Policy.load(path).metadata
    palm = PALM[task]
    terms = {t["name"]: t for t in meta["observation_terms"]}
    assert all(t["signal"] is not None for t in terms.values()), terms
    joints = list(get_task(task).env_cfg_factory().observations["policy"].terms["joint_pos"].params["joints"])
    m = env.mj_model
    assert terms["joint_pos"]["signal"] == "joint_pos_normalized"
    assert terms["joint_pos"]["params"]["joints"] == joints
    ranges = [m.jnt_range[m.joint(j).id].tolist() for j in joints]
    np.testing.assert_allclose(terms["joint_pos"]["params"]["joint_range"], ranges)
    assert terms["goal_quat"]["signal"] == "goal_quat_in_frame"
    assert terms["goal_quat"]["params"] == {"command_name": "goal", "frame": {"body": palm}}
    frame = meta["object_frame"]
    assert frame["body"] == palm
    if task == HAND:
        # A fixed palm: the runtime turns the goal and the cube with its exported pose, no signal.
        assert frame["fixed"] is True and frame["pose_signal"] is None
    else:
        # The Shadow palm hangs from the wrist: the two terms that relate it to the world read its pose.
        assert frame["fixed"] is False
        assert frame["pose_signal"] == {
            "name": "object_frame_pose",
            "size": 7,
            "frame": "world",
            "components": ["x", "y", "z", "qw", "qx", "qy", "qz"],
            "units": ["m", "m", "m", "1", "1", "1", "1"],
            "terms": ["goal_quat", "goal_quat_diff"],
        }
    goal = meta["commands"]["goal"]["params"]
    assert (
        goal["object"] == "cube" and goal["rotation"] == "xyz" and goal["tolerance_rad"] == pytest.approx(0.1)
    )
    min_height = None if task == HAND else 0.04
    assert meta["fall"]["object_dropped"] == [
        {"object": "cube", "frame": {"body": palm}, "max_distance": 0.24, "min_height": min_height}
    ]
    assert meta["success_cap"] == {"command_name": "goal", "max_successes": 50}
    # The hand is fixed to the world: the cube, the scene's only free body, is not its base.
    assert meta["scene"]["fixed_base"] is True and meta["scene"]["base_body"] is None
    assert meta["action_clip"] == [-1.0, 1.0] and meta["action_kind"] == ["position"] * len(joints)


def _frame_joints(m: mujoco.MjModel, body: int) -> list[int]:
    """The joints between the world and ``body``: those that move it (the Shadow hand's wrist)."""
    out = []
    while body > 0:
        out += range(int(m.body_jntadr[body]), int(m.body_jntadr[body] + m.body_jntnum[body]))
        body = int(m.body_parentid[body])
    return out


def test_observation_and_targets_from_mjdata_equal_the_envs(saved):
    task, env, path = saved
    policy = Policy.load(path)
    check = Sim2Sim(policy, load_model(policy)[0], Sim2SimCfg(seconds=1.0, episodes=1))
    m, d = check.model, check.data
    assert check.robot.base_body is None
    rng = np.random.default_rng(5)
    term = env.action_manager.terms["joint_pos"]
    cube = m.jnt_qposadr[m.body("cube").jntadr[0]]
    hand = [m.joint(j).id for j in policy.joint_names]
    palm = m.body(PALM[task]).id
    wrist = _frame_joints(m, palm)
    assert len(wrist) == (0 if task == HAND else 2)
    home_quat = np.asarray(policy.metadata["object_frame"]["quat_w"])
    for k in range(3):
        # An action beyond the clip on some joints: the env clips it before scaling, so must the robot.
        action = rng.uniform(-1.5, 1.5, (2, env.action_dim)).astype(np.float32)
        env.step(torch.as_tensor(action))
        np.testing.assert_allclose(policy.targets(action[0]), term.target[0].numpy(), atol=1e-6)
        qpos, qvel = env.sim.init_qpos.numpy().astype(np.float64).copy(), rng.normal(0.0, 0.5, m.nv)
        for j in hand:
            qpos[m.jnt_qposadr[j]] = rng.uniform(*m.jnt_range[j])
        for j in wrist:
            # 70 % of the way to one end of the range, the other end every other state.
            low, high = m.jnt_range[j]
            qpos[m.jnt_qposadr[j]] = 0.7 * (low if (k + j) % 2 else high)
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
        signals = check.signals(check.sense(), commands)
        built = policy.observation(signals)
        np.testing.assert_allclose(built, expected, atol=2e-5, rtol=1e-5)
        if task == HAND:
            assert "object_frame_pose" not in signals
            continue
        # The wrist turned the palm away from its exported pose, by enough that a runtime using that
        # pose (a fixed-frame bug) would build another observation.
        assert quat_angle(quat_mul(d.xquat[palm], quat_conj(home_quat))) > 0.2
        frozen = {
            **signals,
            "object_frame_pose": np.concatenate([policy.metadata["object_frame"]["pos_w"], home_quat]),
        }
        assert np.abs(policy.observation(frozen) - expected).max() > 0.05


def test_the_palm_pose_is_read_only_where_the_palm_moves_and_a_bad_one_is_one_line(saved):
    task, _, path = saved
    policy = Policy.load(path)
    check = Sim2Sim(policy, load_model(policy)[0], Sim2SimCfg(seconds=1.0, episodes=1))
    mujoco.mj_forward(check.model, check.data)
    signals = check.signals(check.sense(), {"goal": np.array([0, 0, 0, 1, 0, 0, 0], np.float32)})
    missing = {k: v for k, v in signals.items() if k != "object_frame_pose"}
    if task == HAND:
        # A fixed palm's pose is in the file: a robot gives no pose, as before the signal existed.
        assert missing == signals and policy.observation(signals).shape == (policy.observation_size,)
        return
    need = r"\[7\]: the pose of the body 'robot0:palm' in the world, position \(m\) then orientation \(w, x, y, z\)"
    with pytest.raises(
        PolicyError, match=rf"term 'goal_quat' needs the signal 'object_frame_pose' \({need}; "
    ):
        policy.observation(missing)
    for bad, shape in ((np.zeros(6), r"\[6\]"), (np.zeros((1, 7)), r"\[1, 7\]")):
        with pytest.raises(
            PolicyError, match=rf"signal 'object_frame_pose' has shape {shape}; .* needs {need}$"
        ):
            policy.observation({**signals, "object_frame_pose": bad})
    with pytest.raises(
        PolicyError, match=r"'object_frame_pose' has an orientation \(values 3..6\) of norm 0"
    ):
        policy.observation({**signals, "object_frame_pose": np.zeros(7)})
    # A file whose moving palm lacks the signal's entry (or lists other terms) is refused at load.
    meta = copy.deepcopy(policy.metadata)
    meta["object_frame"]["pose_signal"] = None
    with pytest.raises(
        PolicyError, match=r"\['goal_quat', 'goal_quat_diff'\] relate object_frame .* not fixed"
    ):
        check_metadata(meta, "test")
    meta["object_frame"]["pose_signal"] = {
        **policy.metadata["object_frame"]["pose_signal"],
        "terms": ["goal_quat"],
    }
    with pytest.raises(PolicyError, match=r"pose_signal.terms is \['goal_quat'\]; the terms that read"):
        check_metadata(meta, "test")


def test_sim2sim_runs_an_episode_with_latency_and_refuses_pushes(saved):
    _, _, path = saved
    report = run_sim2sim(path, Sim2SimCfg(seconds=0.5, episodes=1, latency_ms=20.0))
    s = report["summary"]
    assert s["episodes"] == 1 and s["diverged"] == 0 and s["non_finite"] == 0 and s["falls"] == 0
    assert {"consecutive_successes_mean", "dropped"} <= set(s)
    (episode,) = report["episodes"]
    assert episode["end"] in ("time", "dropped", "success_cap")
    assert report["settings"]["latency_steps"] == round(0.02 / report["physics_dt"])
    with pytest.raises(
        Sim2SimError, match=r"--push-mps needs a robot with a floating base; .* fixed to the world"
    ):
        run_sim2sim(path, Sim2SimCfg(seconds=0.5, episodes=1, push_mps=0.5))
