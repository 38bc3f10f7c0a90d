"""``warplab sim2sim``: the GPU-trained humanoid on MuJoCo's C engine, and each perturbation measured."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import mujoco
import numpy as np
import onnx
import pytest

from warplab.assets.robots.humanoid import MOTORS
from warplab.cli.main import main
from warplab.deploy import Policy
from warplab.deploy.sim2sim import NOISE_STD, DelayLine, Sim2Sim, Sim2SimCfg, Streams, run_sim2sim
from warplab.deploy.sim2sim_model import Sim2SimError, load_model


def _check(path, **cfg) -> Sim2Sim:
    policy = Policy.load(path)
    model, source = load_model(policy)
    return Sim2Sim(policy, model, Sim2SimCfg(**cfg), source)


def _rewrite_metadata(src, dst, drop=(), **replace) -> None:
    proto = onnx.load(str(src))
    kept = [p for p in proto.metadata_props if p.key not in drop and p.key not in replace]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    for key, value in replace.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.save(proto, str(dst))


# ---------------------------------------------------------------- the policy walks on the C engine
def test_unperturbed_policy_survives_and_tracks(humanoid_onnx):
    # Reference: in warplab's own env (MuJoCo Warp) this policy tracks to 0.14-0.15 m/s and 0.13-0.22
    # rad/s and does not fall (benchmarks/RESULTS.md). The C engine with the same scene should agree.
    fixed = run_sim2sim(humanoid_onnx, Sim2SimCfg(seconds=5.0, episodes=1, command=(0.6, 0.0, 0.0)))
    drawn = run_sim2sim(humanoid_onnx, Sim2SimCfg(seconds=5.0, episodes=2, seed=3))
    for report in (fixed, drawn):
        s = report["summary"]
        assert s["falls"] == 0 and s["survival_s_min"] == pytest.approx(5.0)
        assert s["lin_vel_error_m_s"] < 0.25 and s["yaw_rate_error_rad_s"] < 0.3
    assert fixed["model"] == "scene of humanoid-velocity-flat (embedded)"
    assert fixed["decimation"] == 4 and fixed["physics_dt"] == pytest.approx(0.005)
    # The drawn commands come from the training ranges, one per episode here.
    commands = [e["commands"][0]["base_velocity"] for e in drawn["episodes"]]
    assert commands[0] != commands[1]
    for vx, vy, wz in commands:
        assert -1.0 <= vx <= 1.0 and -0.5 <= vy <= 0.5 and -1.0 <= wz <= 1.0


def test_a_policy_that_does_nothing_useful_falls(humanoid_onnx):
    # The fall detector and the tracking error are not vacuous: at 30 % motor strength the robot falls.
    report = run_sim2sim(humanoid_onnx, Sim2SimCfg(seconds=4.0, episodes=1, motor_strength=0.3))
    assert report["summary"]["falls"] == 1 and report["summary"]["survival_s_mean"] < 3.0


def test_the_loop_and_its_video_import_no_torch_or_warp(humanoid_onnx, tmp_path):
    video = tmp_path / "walk.mp4"
    code = (
        "import sys; from warplab.deploy.sim2sim import run_sim2sim, Sim2SimCfg; "
        f"r = run_sim2sim({str(humanoid_onnx)!r}, Sim2SimCfg(seconds=0.5, episodes=1), video={str(video)!r}); "
        "print(r['summary']['episodes'], sorted(m for m in ('torch', 'warp', 'mujoco_warp') if m in sys.modules))"
    )
    env = {**os.environ, "MUJOCO_GL": "osmesa"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "1 []"
    assert video.stat().st_size > 1000


# ---------------------------------------------------------------- latency
def test_delay_line_gives_the_value_k_pushes_ago():
    for k in (0, 1, 3):
        line = DelayLine(k)
        for i in range(10):
            line.push(i)
            assert line.read() == max(0, i - k)


def test_latency_reaches_the_policy(humanoid_onnx):
    check = _check(humanoid_onnx, seconds=0.2, episodes=1, latency_ms=12.0, command=(0.5, 0.0, 0.0))
    assert check.latency_steps == 2  # 12 ms at 5 ms steps rounds to 10 ms
    check.trace = []
    check.run_episode(Streams.from_seed(0))
    sensed = {step: s for kind, step, s in check.trace if kind == "sensed"}
    measured = [(step, s) for kind, step, s in check.trace if kind == "measured"]
    assert len(measured) == 10
    for step, signals in measured:
        earlier = sensed[max(0, step - 2)]
        for key in ("joint_pos", "joint_vel", "base_ang_vel", "projected_gravity"):
            np.testing.assert_array_equal(signals[key], earlier[key])
    # And the delayed value is really older: the robot moves between physics steps.
    step, signals = measured[-1]
    assert np.abs(signals["joint_vel"] - sensed[step]["joint_vel"]).max() > 1e-3


# ---------------------------------------------------------------- noise
@pytest.mark.parametrize("kind", ["gaussian", "uniform"])
def test_noise_has_the_requested_std(humanoid_onnx, kind):
    check = _check(humanoid_onnx, obs_noise=2.0, noise_kind=kind)
    sensed = check.sense()
    rng = np.random.default_rng(1)
    draws = {k: [] for k in NOISE_STD}
    for _ in range(3000):
        noisy = check.corrupt(sensed, rng)
        for k in NOISE_STD:
            draws[k].append(np.asarray(noisy[k]) - np.asarray(sensed[k]))
    for k, std in NOISE_STD.items():
        noise = np.concatenate(draws[k])
        assert abs(noise.mean()) < 0.05 * 2.0 * std
        assert noise.std() == pytest.approx(2.0 * std, rel=0.03)
        if kind == "uniform":
            assert np.abs(noise).max() <= math.sqrt(3.0) * 2.0 * std
    # The signals the policy would get are the noisy ones: the observation differs from the clean one.
    clean = check.policy.observation(check.signals(sensed, {"base_velocity": np.zeros(3)}))
    noisy = check.policy.observation(
        check.signals(check.corrupt(sensed, rng), {"base_velocity": np.zeros(3)})
    )
    assert np.abs(noisy - clean).max() > 1e-3


# ---------------------------------------------------------------- motor strength
def _forces(check: Sim2Sim, offset: float) -> np.ndarray:
    d = check.data
    mujoco.mj_resetData(check.model, d)
    d.qpos[:] = check.robot.init_qpos
    d.qvel[check.robot.dof_adr] = 0.3
    check.actuate(check.policy.default_joint_pos + offset)
    mujoco.mj_forward(check.model, d)
    return d.actuator_force[check.robot.actuator].copy()


def test_motor_strength_scales_the_applied_torque(humanoid_onnx):
    full, half = _check(humanoid_onnx), _check(humanoid_onnx, motor_strength=0.5)
    knee = full.policy.joint_names.index("left_knee")
    motor = MOTORS["knee"]
    # A small servo error: the PD law, by hand from the motor table, and half of it.
    expected = motor.kp * 0.01 - motor.kd * 0.3
    assert _forces(full, 0.01)[knee] == pytest.approx(expected, abs=1e-4)  # float32 targets
    np.testing.assert_allclose(_forces(half, 0.01), 0.5 * _forces(full, 0.01), rtol=1e-9, atol=1e-9)
    # A large one saturates at the torque limit, which halves too.
    assert _forces(full, 1.0)[knee] == pytest.approx(motor.effort_limit)
    assert _forces(half, 1.0)[knee] == pytest.approx(0.5 * motor.effort_limit)


def test_motors_get_the_same_pd_torque_as_servos(humanoid_onnx, tmp_path):
    # A model whose joints are driven by torque motors: the check closes the PD loop itself.
    policy = Policy.load(humanoid_onnx)
    spec = mujoco.MjSpec.from_string(policy.metadata["scene"]["xml"])
    for actuator in spec.actuators:
        actuator.set_to_motor()
        actuator.forcelimited = 0
        actuator.ctrllimited = 0
    path = tmp_path / "motors.xml"
    spec.compile()
    path.write_text(spec.to_xml())
    model, _ = load_model(policy, model=path)
    motors = Sim2Sim(policy, model, Sim2SimCfg(motor_strength=0.8))
    servos = _check(humanoid_onnx, motor_strength=0.8)
    assert not motors.robot.servo.any() and servos.robot.servo.all()
    for offset in (0.01, 1.0):
        np.testing.assert_allclose(_forces(motors, offset), _forces(servos, offset), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- pushes
def test_a_push_changes_the_base_velocity_by_the_requested_amount(humanoid_onnx):
    check = _check(humanoid_onnx, push_mps=0.8)
    d, v = check.data, check.robot.base_dof_adr
    d.qvel[v : v + 6] = [0.1, -0.2, 0.05, 0.3, 0.0, 0.1]
    before = d.qvel[v : v + 6].copy()
    kick = check.push(np.random.default_rng(2))
    change = d.qvel[v : v + 6] - before
    assert np.linalg.norm(change[:2]) == pytest.approx(0.8)
    np.testing.assert_allclose(change[:2], kick)
    assert not change[2:].any()


def test_pushes_happen_at_the_interval_and_strong_ones_topple_the_robot(humanoid_onnx):
    mild = run_sim2sim(humanoid_onnx, Sim2SimCfg(seconds=3.0, episodes=1, push_mps=0.5, push_interval_s=1.0))
    assert mild["episodes"][0]["pushes"] == 3 and mild["summary"]["falls"] == 0
    strong = run_sim2sim(
        humanoid_onnx, Sim2SimCfg(seconds=3.0, episodes=1, push_mps=3.0, push_interval_s=1.0)
    )
    assert strong["summary"]["falls"] == 1


# ---------------------------------------------------------------- where the model comes from
def test_an_old_file_without_scene_builds_it_from_the_registry(humanoid_onnx, tmp_path):
    old = tmp_path / "old.onnx"
    _rewrite_metadata(humanoid_onnx, old, drop=("scene", "fall"))
    report = run_sim2sim(old, Sim2SimCfg(seconds=1.0, episodes=1, command=(0.3, 0.0, 0.0)))
    assert report["model"] == "scene of humanoid-velocity-flat (task registry)"
    assert report["settings"]["min_base_height"] == pytest.approx(0.344845)
    assert report["summary"]["falls"] == 0
    orphan = tmp_path / "orphan.onnx"
    _rewrite_metadata(humanoid_onnx, orphan, drop=("scene",), task="no-such-task")
    with pytest.raises(Sim2SimError, match="'no-such-task' is not registered.*--model"):
        run_sim2sim(orphan, Sim2SimCfg(seconds=1.0, episodes=1))


def test_the_robot_option_builds_the_humanoid_on_a_floor(humanoid_onnx):
    report = run_sim2sim(
        humanoid_onnx, Sim2SimCfg(seconds=1.0, episodes=1, command=(0.3, 0.0, 0.0)), robot="humanoid"
    )
    assert report["model"] == "robot humanoid on a flat floor" and report["summary"]["falls"] == 0


# ---------------------------------------------------------------- the command line
def test_cli_writes_the_report(humanoid_onnx, tmp_path, capsys):
    out = tmp_path / "report.json"
    argv = ["sim2sim", "--policy", str(humanoid_onnx), "--seconds", "0.5", "--episodes", "1"]
    assert main([*argv, "--latency-ms", "20", "--obs-noise", "1", "--json-out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["settings"]["latency_steps"] == 4 and report["settings"]["obs_noise"] == 1.0
    assert set(report["summary"]) == {
        "episodes",
        "falls",
        "fall_rate",
        "diverged",
        "non_finite",
        "survival_s_mean",
        "survival_s_min",
        "lin_vel_error_m_s",
        "yaw_rate_error_rad_s",
    }
    assert "sim2sim: 0/1 episodes fell" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy", "{tmp}/none.onnx"], "does not exist"),
        (["--policy", "{tmp}/bad.onnx"], "not an ONNX model"),
        (["--policy", "{onnx}", "--robot", "r2d2"], "unknown robot"),
        (["--policy", "{onnx}", "--motor-strength", "0"], "--motor-strength must be a finite number > 0"),
        (["--policy", "{onnx}", "--command", "1", "2"], "--command has 2 values"),
        (["--policy", "{onnx}", "--model", "{tmp}/none.xml"], "no such file"),
    ],
)
def test_cli_errors_are_one_line_exit_2(humanoid_onnx, tmp_path, capsys, args, message):
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    argv = [a.format(tmp=tmp_path, onnx=humanoid_onnx) for a in args]
    assert main(["sim2sim", *argv, "--seconds", "0.2", "--episodes", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("warplab sim2sim: error:") and message in err


def test_height_scan_on_flat_ground_reads_the_base_height(humanoid_onnx):
    # A policy with a height scan gets it from rays cast down onto the static geoms (the floor).
    good = Policy.load(humanoid_onnx)
    grid = [[x, y] for y in (-0.5, 0.5) for x in (-0.8, 0.0, 0.8)]
    scan = {
        "name": "height_scan",
        "func": "HeightScan",
        "signal": "height_scan",
        "size": 6,
        "scale": 1.0,
        "clip": None,
        "history_length": 0,
        "params": {"grid_xy": grid, "clip": [-1.0, 0.6]},
    }
    meta = {**good.metadata, "observation_terms": [*good.observation_terms, scan], "observation_size": 78}
    policy = Policy(None, meta, "scan.onnx")
    model, _ = load_model(policy)
    check = Sim2Sim(policy, model, Sim2SimCfg())
    check.data.qpos[:] = check.robot.init_qpos
    check.data.qpos[2] = 0.55  # below the clip, so the reading is the height itself
    mujoco.mj_forward(check.model, check.data)
    np.testing.assert_allclose(check.sense()["height_scan"], 0.55, atol=1e-9)
    check.data.qpos[2] = 0.9
    np.testing.assert_allclose(check.sense()["height_scan"], 0.6)
