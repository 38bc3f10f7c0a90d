"""``humanoid-velocity-rough-scan`` leaves warplab: its policy's height scan exports as the
``height_scan`` signal with its grid, frame and clip (and none of its training-only imperfections),
``Policy`` builds the env's observation from ``MjData`` on the terrain (the scan cast with ``mj_ray``
by ``warplab sim2sim``), and ``warplab sim2sim`` runs it on a stairs-only scene.

The reference is warplab's own env of the task (play mode: the clean scan) for the identical state.
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
from warplab.deploy.sim2sim_model import load_model
from warplab.rl import OnPolicyRunner
from warplab.tasks import get_task, make

TASK = "humanoid-velocity-rough-scan"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The task's env (play mode, 2 worlds on the CPU) and an untrained policy saved through the
    runner, exported by ``warplab export``."""
    folder = tmp_path_factory.mktemp("rough_scan")
    env = make(TASK, num_envs=2, device="cpu", seed=0, play=True)
    agent = dataclasses.replace(
        get_task(TASK).agent_cfg_factory(), console="off", logger="none", experiment_name=TASK
    )
    runner = OnPolicyRunner(env, agent, log_dir=folder, exporter=checkpoint_exporter(env, TASK))
    checkpoint = runner.save(folder / "model_0.pt")
    out = folder / "exported.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out)]) == 0
    return env, out


def test_the_scan_exports_as_a_height_scan_signal_with_its_grid_and_no_imperfections(saved):
    env, path = saved
    meta = Policy.load(path).metadata
    terms = {t["name"]: t for t in meta["observation_terms"]}
    scan = terms["height_scan"]
    assert scan["signal"] == "height_scan" and scan["size"] == 187
    params = scan["params"]
    assert set(params) == {"grid_xy", "size", "resolution", "scan_frame", "start_height", "clip"}
    assert (params["size"], params["resolution"], params["scan_frame"]) == ([1.6, 1.0], 0.1, "base_heading")
    assert params["clip"] == [-1.0, 1.0] and params["start_height"] == 5.0
    # 17 points along x (fastest) by 11 along y, from the rear right corner.
    assert params["grid_xy"][0] == pytest.approx([-0.8, -0.5]) and params["grid_xy"][1] == pytest.approx(
        [-0.7, -0.5]
    )
    assert params["grid_xy"][16] == pytest.approx([0.8, -0.5]) and params["grid_xy"][17] == pytest.approx(
        [-0.8, -0.4]
    )
    assert params["grid_xy"][-1] == pytest.approx([0.8, 0.5])
    # The blind task's policy is unchanged: the scan is its critic's only.
    assert env.observation_manager.term_dims["policy"]["height_scan"] == 187
    assert meta["observation_size"] == sum(t["size"] for t in meta["observation_terms"])


def test_observation_from_mjdata_on_the_terrain_equals_the_envs(saved):
    env, path = saved
    policy = Policy.load(path)
    check = Sim2Sim(policy, load_model(policy)[0], Sim2SimCfg(seconds=1.0, episodes=1))
    m, d = check.model, check.data
    rng = np.random.default_rng(5)
    tiles = env.curriculum_manager.term("terrain_levels").tile_origins.reshape(-1, 3).numpy()
    joints = [m.joint(j).id for j in policy.joint_names]
    command = env.command_manager.term("base_velocity")
    for k in range(4):
        # Over the slopes, stairs and stones of a play tile, yawed, a little rolled, joints anywhere.
        tile = tiles[[2, 4, 5, 6][k]]
        qpos = env.sim.init_qpos.numpy().astype(np.float64).copy()
        qpos[0:3] = tile + (rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), rng.uniform(0.5, 0.9))
        yaw, roll = rng.uniform(-np.pi, np.pi), rng.uniform(-0.2, 0.2)
        qpos[3:7] = (
            np.cos(yaw / 2) * np.cos(roll / 2),
            np.cos(yaw / 2) * np.sin(roll / 2),
            np.sin(yaw / 2) * np.sin(roll / 2),
            np.sin(yaw / 2) * np.cos(roll / 2),
        )
        for j in joints:
            lo, hi = m.jnt_range[j] if m.jnt_limited[j] else (-0.5, 0.5)
            qpos[m.jnt_qposadr[j]] = rng.uniform(lo, hi)
        qvel = rng.normal(0.0, 0.3, m.nv)
        states = [torch.as_tensor(np.stack([x, x]), dtype=torch.float32) for x in (qpos, qvel)]
        expected = env.set_physical_state(qpos=states[0], qvel=states[1])["policy"][0].numpy()
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        policy.reset()
        policy.last_action = env.action_manager.action[0].numpy().copy()
        signals = check.signals(check.sense(), {"base_velocity": command.command[0].numpy().copy()})
        obs = policy.observation(signals)
        # The scan, last in the observation: it sees the terrain's relief (not one flat reading).
        scan = expected[-187:]
        assert scan.max() - scan.min() > 0.05
        # mj_ray on the height fields and the env's read of the height grid agree to 2e-4 m.
        np.testing.assert_allclose(obs[-187:], scan, atol=5e-4, rtol=0)
        np.testing.assert_allclose(obs, expected, atol=5e-4, rtol=1e-5)


@pytest.mark.parametrize("scene", [{"terrain": "flat"}, {"robot": "humanoid"}])
def test_the_scan_ignores_the_robots_own_geoms(saved, scene):
    # A flat tile of generated terrain (rays cast at its ray-casting copy only) and a plain floor
    # (rays passed through the robot's geoms).
    _, path = saved
    policy = Policy.load(path)
    check = Sim2Sim(policy, load_model(policy, **scene)[0], Sim2SimCfg(seconds=1.0, episodes=1))
    m, d = check.model, check.data
    d.qpos[:] = check.robot.init_qpos
    d.qpos[7:] += np.random.default_rng(0).uniform(-0.3, 0.3, m.nq - 7)  # limbs anywhere under the rays
    mujoco.mj_forward(m, d)
    # Flat ground at z = 0: every point reads the base height, under the robot's body and arms too.
    np.testing.assert_allclose(check.sense()["height_scan"], np.full(187, d.qpos[2]), atol=1e-6)


def test_sim2sim_builds_a_stairs_scene_and_starts_on_its_platform(saved, tmp_path):
    _, path = saved
    policy = Policy.load(path)
    flat, _ = load_model(policy, terrain="flat")
    stairs, source = load_model(policy, terrain="stairs_up", terrain_difficulty=0.5)
    assert source.endswith("on stairs_up terrain at difficulty 0.5")
    # Difficulty 0.5: risers of 0.02 + 0.5 * 0.10 = 0.07 m, (8 m - 2 m) / 2 / 0.3 m = 10 steps down
    # to the platform at the pit's bottom, 0.7 m below the rim.
    home = 0 if flat.nkey else None
    z_flat = flat.key_qpos[home, 2] if home is not None else flat.qpos0[2]
    z_stairs = stairs.key_qpos[home, 2] if home is not None else stairs.qpos0[2]
    assert z_stairs - z_flat == pytest.approx(-0.7, abs=1e-6)
    report = tmp_path / "report.json"
    argv = ["sim2sim", "--policy", str(path), "--terrain", "stairs_up", "--seconds", "0.3", "--episodes", "1"]
    assert main([*argv, "--json-out", str(report)]) == 0
    s = json.loads(report.read_text())["summary"]
    assert s["episodes"] == 1 and s["diverged"] == 0 and s["non_finite"] == 0
    with pytest.raises(Exception, match="no terrain type"):
        load_model(policy, terrain="lava")
