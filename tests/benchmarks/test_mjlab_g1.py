"""benchmarks/mjlab_g1.py on the CPU: mjlab's G1 file as a warplab robot, standing on MuJoCo's C engine,
the task with mjlab's settings stepping with 4 worlds, PPO iterations, and the side-by-side table; the
same on the rough terrain (``--terrain rough``), with the terrain evaluation.

mjlab's G1 is not part of the project: the tests that need it run only where the file is, at
``$WARPLAB_G1_XML`` or in mjlab's wheel unpacked at /tmp/mjlab_wheel (the script's docstring says how).
Timing is not checked; only that each part works and the settings are mjlab's.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
G1_XML = Path(
    os.environ.get("WARPLAB_G1_XML", "/tmp/mjlab_wheel/mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml")
)
needs_g1 = pytest.mark.skipif(
    not G1_XML.is_file(), reason=f"mjlab's G1 file not found at {G1_XML} (set WARPLAB_G1_XML)"
)


def _load_mjlab_g1():
    # Run as a script, its folder is first on sys.path (it imports train_task from there).
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("mjlab_g1", ROOT / "benchmarks" / "mjlab_g1.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Its dataclasses look their module up by name.
    spec.loader.exec_module(module)
    return module


mjlab_g1 = _load_mjlab_g1()


@pytest.fixture(scope="module")
def robot():
    return mjlab_g1.g1_robot_cfg(G1_XML)


@needs_g1
def test_robot_cfg_reads_joints_from_the_file_and_gains_from_the_motor_table(robot):
    import mujoco

    from warplab.assets.robot_cfg import build_robot_spec

    assert len(robot.joint_names) == 29
    assert robot.joint_names[:6] == tuple(
        f"left_{j}_joint" for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
    )
    model = build_robot_spec(robot).compile()
    assert model.nu == 29
    gains = {
        model.actuator(a).name: (model.actuator_gainprm[a, 0], model.actuator_forcerange[a, 1])
        for a in range(29)
    }
    # Effort limits: Unitree's peak torques, doubled where two motors drive a joint through rods.
    assert gains["left_knee_joint"][1] == 139.0 and gains["left_ankle_pitch_joint"][1] == 50.0
    assert gains["left_wrist_pitch_joint"][1] == 5.0 and gains["right_elbow_joint"][1] == 25.0
    # The armature rule on the arms: kp = armature * (2 pi 10 Hz)^2, armature = rotor * gear^2.
    elbow = model.joint("left_elbow_joint").id
    assert model.dof_armature[model.jnt_dofadr[elbow]] == pytest.approx(1.39e-5 * 16.0**2)
    assert gains["left_elbow_joint"][0] == pytest.approx(1.39e-5 * 16.0**2 * (2 * math.pi * 10) ** 2)
    # The stance rule on the legs and waist: 1.5 x the gravity stiffness m g h (about 209 N·m/rad).
    for name in ("left_ankle_roll_joint", "right_knee_joint", "waist_pitch_joint"):
        assert (
            gains[name][0] == pytest.approx(gains["left_hip_pitch_joint"][0]) and 280 < gains[name][0] < 340
        )
    # The home pose rests the lowest foot capsule on the floor.
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("home").id)
    mujoco.mj_forward(model, data)
    feet = [
        g
        for g in range(model.ngeom)
        if model.geom(g).name.endswith("_collision") and "foot" in model.geom(g).name
    ]
    lowest = min(data.geom_xpos[g][2] - model.geom_size[g][0] for g in feet)
    assert lowest == pytest.approx(0.0, abs=1e-9)
    assert 0.7 < robot.base_height < 0.8


@needs_g1
def test_g1_stands_in_its_home_pose_on_mujoco_c_engine():
    result = mjlab_g1.stand(G1_XML, seconds=3.0)
    assert result["stood"], result
    assert result["max_tilt_deg"] < 8.0 and result["base_height_start_m"] - result["base_height_min_m"] < 0.02


@needs_g1
def test_armature_rule_alone_does_not_hold_the_g1_up():
    # Why the legs get the stance rule: with the armature rule alone the G1 falls within 2 s.
    result = mjlab_g1.stand(G1_XML, seconds=3.0, stance_gains=False)
    assert not result["stood"] and result["base_height_min_m"] < 0.4


@needs_g1
def test_task_has_mjlab_settings_and_steps_with_four_worlds():
    import warplab

    mjlab_g1.register(G1_XML)
    env = warplab.make(mjlab_g1.TASK, num_envs=4, device="cpu", seed=0)
    s = mjlab_g1.MJLAB_SETTINGS
    opt = env.sim.mj_model.opt
    assert (env.physics_dt, env.cfg.decimation) == (s["timestep_s"], s["decimation"])
    assert env.max_episode_length == round(s["episode_length_s"] / (s["timestep_s"] * s["decimation"]))
    assert (opt.iterations, opt.ls_iterations, opt.ccd_iterations) == (10, 20, 50)
    assert opt.integrator == 3 and opt.cone == 0  # implicitfast, pyramidal
    assert (env.sim.capacity.njmax, env.sim.capacity.nconmax) == (s["njmax"], s["nconmax"])
    assert env.action_dim == 29 and env.observation_shapes["policy"] == (99,)
    env.reset(seed=0)
    terminated = torch.zeros(4, dtype=torch.bool)
    for _ in range(25):  # Half a second of standing still: no world ends.
        obs, _, term, _, _ = env.step(torch.zeros(4, env.action_dim))
        terminated |= term
    assert not terminated.any() and all(torch.isfinite(v).all() for v in obs.values())
    assert float(env.sim.qpos[:, 2].min()) > 0.7


@needs_g1
@pytest.mark.slow
def test_ppo_iterations_and_the_table(tmp_path):
    mjlab_g1.register(G1_XML)
    summary, _ = mjlab_g1.train(num_envs=4, device="cpu", iterations=2, minutes=None, tensorboard=None)
    assert summary["iterations"] == 2 and len(summary["curve"]) == 2
    assert summary["mean_total_steps_per_s"] > 0 and summary["curve"][-1]["env_steps"] == 2 * 24 * 4
    (tmp_path / "warplab_train.json").write_text(json.dumps(summary))
    log = tmp_path / "mjlab.log"
    log.write_text(_rsl_rl_log([100.0] * 5 + [200.0, 300.0]))
    result = mjlab_g1.table(tmp_path, log)
    assert result["ratio_warplab_over_mjlab"] == pytest.approx(summary["mean_total_steps_per_s"] / 250.0)


def _rsl_rl_log(steps_per_s: list[float]) -> str:
    """A console log in the shape rsl_rl prints each iteration (bold title, padded labels)."""
    blocks = []
    for i, fps in enumerate(steps_per_s):
        blocks.append(
            "#" * 80 + f"\n\x1b[1m Learning iteration {i}/60 \x1b[0m \n\n"
            f"{'Total steps:':>35} {(i + 1) * 98304} \n{'Steps per second:':>35} {fps:.0f} \n"
            f"{'Collection time:':>35} 0.830s \n{'Learning time:':>35} 0.140s \n"
        )
    return "".join(blocks)


def test_mjlab_log_means_skip_the_first_five_iterations(tmp_path):
    log = tmp_path / "mjlab.log"
    log.write_text(_rsl_rl_log([10.0, 20.0, 30.0, 40.0, 50.0, 98000.0, 102000.0]))
    parsed = mjlab_g1.read_mjlab_log(log)
    assert parsed["iterations"] == 7
    assert parsed["mean_total_steps_per_s"] == pytest.approx(100000.0)
    assert parsed["mean_collection_s"] == pytest.approx(0.83) and parsed["mean_learning_s"] == pytest.approx(
        0.14
    )
    assert np.isclose(parsed["total_steps_per_s"][0], 10.0)


# ---------------------------------------------------------------------------------------------- rough terrain
def test_g1_stairs_rise_fifteen_cm_at_the_top_level_of_the_generated_grid():
    # Read off the generated heights, not the config: along the row through a stairs tile's centre,
    # every step from the rim to the platform is one riser.
    from warplab.assets.terrain_generator import generate_terrain

    cfg = mjlab_g1.g1_rough_terrain_cfg()
    assert cfg.step_height_range == pytest.approx((0.025, 0.15))  # the humanoid's (0.02, 0.12) x 1.25
    terrain = generate_terrain(cfg)
    hs, tile = cfg.horizontal_scale, round(cfg.tile_size / cfg.horizontal_scale)
    for kind, sign in (("stairs_up", -1.0), ("stairs_down", 1.0)):
        col = terrain.column_types.index(kind)
        for level, riser in ((cfg.num_levels - 1, 0.15), (0, 0.025)):
            x, y, _ = terrain.origins[level, col]
            r = round((y + terrain.size_y) / hs)
            c = round((x + terrain.size_x) / hs)
            profile = terrain.heights[r, c - tile // 2 : c + 1]  # rim to centre
            steps = np.diff(profile)
            steps = steps[np.abs(steps) > 1e-9]
            assert len(steps) == 10, (kind, level, steps)
            np.testing.assert_allclose(steps, sign * riser, atol=1e-9)


@needs_g1
def test_rough_task_has_mjlab_settings_and_spawns_on_the_hardest_tiles():
    import warplab
    from warplab.assets.terrain_generator import cached_terrain
    from warplab.envs.mdp.terrain import terrain_levels_term

    name = mjlab_g1.register(G1_XML, terrain="rough")
    env = warplab.make(name, num_envs=4, device="cpu", seed=0)
    s = mjlab_g1.MJLAB_ROUGH_SETTINGS
    assert (env.sim.capacity.njmax, env.sim.capacity.nconmax) == (s["njmax"], s["nconmax"]) == (1500, 70)
    assert env.sim.mj_model.opt.ccd_iterations == 500 and env.sim.mj_model.opt.integrator == 3
    # The flat task's 99 actor inputs and the 16 x 11 + 11 = 187-point height scan.
    assert env.observation_shapes["policy"] == (99 + 187,)
    terrain_cfg = env.cfg.curriculum["terrain_levels"].params["terrain"]
    terrain = cached_terrain(terrain_cfg)
    # Spawn every world on a top-level tile where the ground is farthest from z = 0.
    kinds = ("stairs_up", "stairs_down", "slope_up", "stepping_stones")
    term = terrain_levels_term(env)
    term.levels.fill_(terrain_cfg.num_levels - 1)
    term.types.copy_(torch.tensor([terrain.column_types.index(k) for k in kinds]))
    env.reset(seed=0)
    base_height = mjlab_g1.g1_robot_cfg(G1_XML).base_height

    def above_ground() -> np.ndarray:
        # The base over the generated grid's nearest sample under it.
        xyz = env.sim.qpos[:, :3].numpy()
        col = np.round((xyz[:, 0] + terrain.size_x) / terrain.horizontal_scale).astype(int)
        row = np.round((xyz[:, 1] + terrain.size_y) / terrain.horizontal_scale).astype(int)
        return xyz[:, 2] - terrain.heights[row, col]

    np.testing.assert_allclose(env.sim.qpos[:, 2].numpy() - above_ground(), [-1.5, 1.5, -1.2, 0.0], atol=1e-6)
    # The reset lifts the base 1-5 cm above its standing height (mjlab's reset).
    assert np.all(above_ground() >= base_height + 0.01 - 1e-5) and np.all(
        above_ground() <= base_height + 0.05
    )
    terminated = torch.zeros(4, dtype=torch.bool)
    for _ in range(25):  # Half a second standing still on the platforms: no world sinks or ends.
        obs, _, term_now, _, _ = env.step(torch.zeros(4, env.action_dim))
        terminated |= term_now
    assert not terminated.any() and all(torch.isfinite(v).all() for v in obs.values())
    assert np.all(above_ground() > base_height - 0.05), above_ground()


@needs_g1
@pytest.mark.slow
def test_rough_train_writes_its_json_and_policy_and_the_evaluation_reads_the_stairs(tmp_path):
    from warplab.rl.inference import load_policy

    argv = ["--g1-xml", str(G1_XML), "--terrain", "rough", "--device", "cpu", "--out", str(tmp_path)]
    assert mjlab_g1.main(["train", *argv, "--num-envs", "4", "--iterations", "2"]) == 0
    summary = json.loads((tmp_path / "warplab_rough_train.json").read_text())
    assert summary["task"] == mjlab_g1.ROUGH_TASK and summary["iterations"] == 2
    assert summary["curve"][-1]["env_steps"] == 2 * 24 * 4 and summary["mean_total_steps_per_s"] > 0
    assert (summary["njmax"], summary["nconmax"]) == (1500, 70) and 0 <= summary["terrain_level_mean"] <= 5
    assert any("Terrain types" in d for d in summary["differences_from_mjlab"])
    policy, _ = load_policy(tmp_path / "warplab_rough_policy.pt")
    result = mjlab_g1.evaluate(
        policy, 2, episode_s=0.2, device="cpu", types=("stairs_up", "stairs_down"), difficulties=(1.0,)
    )
    assert result["task"] == mjlab_g1.ROUGH_TASK and result["worlds_per_cell"] == 1
    for kind in ("stairs_up", "stairs_down"):
        top = result["stairs_top"][kind]
        assert top["step_height_m"] == pytest.approx(0.15) and top["steps_to_rim"] == 10
        assert 0.0 <= top["share_of_steps"] <= 1.0
    (tmp_path / "warplab_rough_eval.json").write_text(json.dumps(result))
    log = tmp_path / "mjlab_rough.log"
    log.write_text(_rsl_rl_log([100.0] * 5 + [200.0, 300.0]))
    table = mjlab_g1.table(tmp_path, log, terrain="rough")
    assert table["mjlab"]["task"] == "Mjlab-Velocity-Rough-Unitree-G1"
    assert table["ratio_warplab_over_mjlab"] == pytest.approx(summary["mean_total_steps_per_s"] / 250.0)
    assert (tmp_path / "side_by_side_rough.json").exists() and not (tmp_path / "side_by_side.json").exists()
