"""The manipulation tasks leave warplab as ``arm-lift`` does: every policy term declares the robot
signal it is computed from (an articulated object's joint, a handle's point, the object's rest point
against a place goal), the commands export with their ranges, ``Policy`` builds the env's observation
from ``MjData`` of MuJoCo's C engine, the joint targets and the controls sim2sim writes are the env's,
and ``warplab sim2sim`` runs each policy end to end.

The reference is warplab's own env of each task (two worlds, play mode, on the CPU) for the identical
state, command and action; the C model of a world is that world's (``Simulation.world_mj_model``:
its jittered cabinet, its handle, its object's shape and size).
"""

from __future__ import annotations

import dataclasses
import json

import mujoco
import numpy as np
import pytest
import torch

from warplab.cli.main import main
from warplab.deploy import Policy
from warplab.deploy.export import checkpoint_exporter
from warplab.deploy.sim2sim import Sim2Sim, Sim2SimCfg
from warplab.rl import OnPolicyRunner
from warplab.tasks import get_task, make

TASKS = ("arm-open-drawer", "arm-pick-place", "arm-open-door", "hand-grasp-lift", "arm-pick-up-dropped")

SIGNALS = {
    "arm-open-drawer": {
        "ee_to_handle": "site_offset",
        "drawer_pos": "object_joint_pos",
        "drawer_vel": "object_joint_vel",
        "target_travel": "command",
    },
    "arm-open-door": {
        "ee_to_handle": "site_offset",
        "door_angle": "object_joint_pos",
        "door_vel": "object_joint_vel",
        "target_angle": "command",
    },
    "arm-pick-place": {
        "object_pos": "object_pos",
        "object_quat": "object_quat",
        "goal_pos": "command",
        "object_shape": "object_shape",
        "object_to_goal": "object_goal_offset",
    },
    "arm-pick-up-dropped": {
        "object_pos": "object_pos",
        "object_quat": "object_quat",
        "object_lin_vel": "object_lin_vel",
        "object_ang_vel": "object_ang_vel",
        "goal_pos": "command",
        "object_shape": "object_shape",
    },
    "hand-grasp-lift": {
        "object_pos": "object_pos",
        "object_quat": "object_quat",
        "goal_pos": "command",
        "fingertip_pos": "fingertip_pos",
        "object_shape": "object_shape",
    },
}
"""The task's own terms and the signal each declares (the joints and last action aside)."""


@pytest.fixture(scope="module", params=TASKS)
def saved(request, tmp_path_factory):
    """The task's env (play mode, 2 worlds on the CPU) and an untrained policy saved through the runner,
    exported by ``warplab export``."""
    task = request.param
    folder = tmp_path_factory.mktemp(task)
    env = make(task, num_envs=2, device="cpu", seed=0, play=True)
    agent = dataclasses.replace(
        get_task(task).agent_cfg_factory(), console="off", logger="none", experiment_name=task
    )
    runner = OnPolicyRunner(env, agent, log_dir=folder, exporter=checkpoint_exporter(env, task))
    checkpoint = runner.save(folder / "model_0.pt")
    out = folder / "exported.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out), "--task", task]) == 0
    return task, env, out


def test_every_term_declares_its_signal_and_commands_export_their_ranges(saved):
    task, env, path = saved
    meta = Policy.load(path).metadata
    signals = {t["name"]: t["signal"] for t in meta["observation_terms"]}
    assert None not in signals.values(), signals
    assert {name: signals[name] for name in SIGNALS[task]} == SIGNALS[task]
    assert meta["object_frame"]["body"] == "link0" and meta["object_frame"]["fixed"] is True
    for name, command in meta["commands"].items():
        low_high = np.asarray(env.command_manager.term(name).ranges, dtype=np.float64)
        np.testing.assert_allclose(command["ranges"], low_high, atol=1e-6)
        assert command["size"] == len(low_high)
    if task == "hand-grasp-lift":
        # The arm's action is unclipped, the hand's clipped to [-1, 1]: a clip per joint.
        clips = meta["action_clip_per_joint"]
        assert meta["action_clip"] is None and clips[:7] == [None] * 7 and clips[7:] == [[-1.0, 1.0]] * 16


def _random_state(env, m: mujoco.MjModel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A state of world 0's model: every limited hinge or slide joint uniform in its range, a free
    object above the table in a random orientation, random velocities."""
    qpos = env.sim.init_qpos.numpy().astype(np.float64).copy()
    for j in range(m.njnt):
        adr = m.jnt_qposadr[j]
        if m.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE:
            qpos[adr : adr + 3] = (rng.uniform(0.3, 0.6), rng.uniform(-0.2, 0.2), rng.uniform(0.8, 1.1))
            quat = rng.normal(size=4)
            qpos[adr + 3 : adr + 7] = quat / np.linalg.norm(quat)
        elif m.jnt_limited[j]:
            qpos[adr] = rng.uniform(*m.jnt_range[j])
    return qpos, rng.normal(0.0, 0.3, m.nv)


def test_observation_targets_and_ctrl_from_mjdata_equal_the_envs(saved):
    _, env, path = saved
    policy = Policy.load(path)
    rng = np.random.default_rng(3)
    terms = list(env.action_manager.terms.values())
    actuators = torch.cat([t.actuator_ids for t in terms]).tolist()
    commands = {name: env.command_manager.term(name) for name in policy.metadata["commands"]}
    for k in range(4):
        world = k % 2
        check = Sim2Sim(policy, env.sim.world_mj_model(world), Sim2SimCfg(seconds=1.0, episodes=1))
        m, d = check.model, check.data
        action = rng.uniform(-1.5, 1.5, (2, env.action_dim)).astype(np.float32)
        env.step(torch.as_tensor(action))
        targets = policy.targets(action[world])
        expected_targets = torch.cat([t.target[world].reshape(-1) for t in terms]).numpy()
        np.testing.assert_allclose(targets, expected_targets, atol=1e-6)
        check.actuate(targets)
        np.testing.assert_allclose(d.ctrl[actuators], env.sim.ctrl[world, actuators].numpy(), atol=1e-6)
        qpos, qvel = _random_state(env, m, rng)
        given = {}
        for name, term in commands.items():
            low, high = np.asarray(term.ranges, dtype=np.float64).T
            value = rng.uniform(low, high)
            term.command[world] = torch.as_tensor(value, dtype=torch.float32)
            given[name] = term.command[world].numpy().copy()
        states = [torch.as_tensor(x, dtype=torch.float32)[None] for x in (qpos, qvel)]
        expected = env.set_physical_state(qpos=states[0], qvel=states[1], worlds=[world])["policy"][world]
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        policy.reset()
        policy.last_action = action[world]
        signals = check.signals(check.sense(), given)
        np.testing.assert_allclose(policy.observation(signals), expected.numpy(), atol=2e-5, rtol=1e-5)


def test_warplab_sim2sim_runs_the_policy(saved, tmp_path):
    _, _, path = saved
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
    assert s["episodes"] == 1 and s["diverged"] == 0 and s["non_finite"] == 0
