"""``warplab export``: the ONNX graph equals the torch actor, normalization applied once, metadata true."""

from __future__ import annotations

import json

import mujoco
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG, MOTORS
from warplab.cli.main import main
from warplab.envs.rl_env import RlEnv
from warplab.rl.inference import load_policy
from warplab.tasks import make_env_cfg

from .conftest import HUMANOID_CHECKPOINT


def _onnx_actions(path, obs: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["actions"], {"obs": obs.astype(np.float32)})[0]


def _torch_actions(checkpoint, obs: np.ndarray) -> np.ndarray:
    policy, _ = load_policy(checkpoint)
    with torch.no_grad():
        return policy.act_inference({"policy": torch.as_tensor(obs, dtype=torch.float32)}).numpy()


def _metadata(path) -> dict:
    return {p.key: json.loads(p.value) for p in onnx.load(str(path)).metadata_props}


def test_graph_has_named_dynamic_batch(humanoid_onnx):
    graph = onnx.load(str(humanoid_onnx)).graph
    (inp,), (out,) = graph.input, graph.output
    assert inp.name == "obs" and out.name == "actions"
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert out.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert inp.type.tensor_type.shape.dim[1].dim_value == 72
    assert out.type.tensor_type.shape.dim[1].dim_value == 21


def test_humanoid_onnx_matches_torch_on_random_obs(humanoid_onnx):
    obs = np.random.default_rng(0).normal(0.0, 2.0, size=(64, 72)).astype(np.float32)
    np.testing.assert_allclose(
        _onnx_actions(humanoid_onnx, obs), _torch_actions(HUMANOID_CHECKPOINT, obs), rtol=1e-5, atol=1e-5
    )
    # Batch of one, as on the robot.
    np.testing.assert_allclose(
        _onnx_actions(humanoid_onnx, obs[:1]), _torch_actions(HUMANOID_CHECKPOINT, obs[:1]), atol=1e-5
    )


def test_humanoid_onnx_matches_torch_on_env_obs(humanoid_onnx):
    cfg = make_env_cfg("humanoid-velocity-flat", play=True)
    cfg.num_envs, cfg.device = 2, "cpu"
    env = RlEnv(cfg)
    policy, _ = load_policy(HUMANOID_CHECKPOINT)
    observed = []
    obs = env.observations
    for _ in range(5):
        with torch.no_grad():
            obs, *_ = env.step(policy.act_inference(obs))
        observed.append(obs["policy"].numpy().copy())
    batch = np.concatenate(observed)
    np.testing.assert_allclose(
        _onnx_actions(humanoid_onnx, batch), _torch_actions(HUMANOID_CHECKPOINT, batch), rtol=1e-5, atol=1e-5
    )


def test_normalization_is_applied_exactly_once(humanoid_onnx):
    policy, _ = load_policy(HUMANOID_CHECKPOINT)
    normalizer = policy.model.actor_obs_normalizer
    assert int(normalizer.count) > 0
    obs = np.random.default_rng(1).normal(0.0, 1.0, size=(16, 72)).astype(np.float32)
    x = torch.as_tensor(obs)
    with torch.no_grad():
        normalized = torch.clamp(
            (x - normalizer.mean) / torch.sqrt(normalizer.var + normalizer.epsilon), -5, 5
        )
        manual = policy.model.actor(normalized).numpy()
    np.testing.assert_allclose(_onnx_actions(humanoid_onnx, obs), manual, rtol=1e-5, atol=1e-5)
    # Feeding already-normalized observations normalizes twice: the actions differ.
    twice = _onnx_actions(humanoid_onnx, normalized.numpy())
    assert np.abs(twice - manual).max() > 1e-2


def test_humanoid_metadata_round_trip(humanoid_onnx):
    meta = _metadata(humanoid_onnx)
    robot = HUMANOID_ROBOT_CFG
    joints = list(robot.joint_names)
    assert meta["task"] == "humanoid-velocity-flat"
    assert meta["warplab_version"] == "0.1.0"
    assert meta["metadata_format"] == 1
    assert meta["policy_dt"] == pytest.approx(0.02)
    assert meta["joint_names"] == joints
    np.testing.assert_allclose(meta["default_joint_pos"], robot.resolve(robot.default_joint_pos), atol=1e-6)
    np.testing.assert_allclose(meta["action_offset"], meta["default_joint_pos"])
    np.testing.assert_allclose(meta["action_scale"], robot.action_scales(), atol=1e-7)
    assert meta["action_clip"] is None and meta["action_size"] == 21
    motor = {"left_knee": MOTORS["knee"], "waist_yaw": MOTORS["waist"], "right_elbow": MOTORS["arm"]}
    for joint, m in motor.items():
        i = joints.index(joint)
        assert meta["kp"][i] == pytest.approx(m.kp)
        assert meta["kd"][i] == pytest.approx(m.kd)
        assert meta["effort_limit"][i] == pytest.approx(m.effort_limit)
    # Targets were clamped to each joint's range by the servos (inheritrange).
    assert meta["target_range"][joints.index("left_knee")] == pytest.approx([0.0, 2.6])
    assert meta["target_range"][joints.index("right_hip_roll")] == pytest.approx([-1.0, 0.5])
    # The scene as MJCF (the same model on MuJoCo's C engine) and the task's fall thresholds.
    scene = meta["scene"]
    assert scene["base_body"] == "pelvis" and scene["init_keyframe"] == "home"
    assert scene["physics_dt"] == pytest.approx(0.005)
    model = mujoco.MjModel.from_xml_string(scene["xml"])
    assert (model.nq, model.nu, model.opt.timestep) == (28, 21, 0.005)
    assert meta["fall"]["min_base_height"] == pytest.approx(0.5 * robot.base_height)
    assert meta["fall"]["max_tilt_rad"] == pytest.approx(np.radians(60.0))
    terms = meta["observation_terms"]
    assert [(t["name"], t["size"]) for t in terms] == [
        ("base_ang_vel", 3),
        ("projected_gravity", 3),
        ("command", 3),
        ("joint_pos", 21),
        ("joint_vel", 21),
        ("last_action", 21),
    ]
    assert [t["scale"] for t in terms] == [0.25, 1.0, 1.0, 1.0, 0.05, 1.0]
    assert terms[2]["params"] == {"command_name": "base_velocity"}
    assert terms[3]["params"]["joints"] == joints and terms[4]["params"]["joints"] == joints
    assert meta["observation_size"] == 72
    command = meta["commands"]["base_velocity"]
    assert command["components"] == ["lin_vel_x", "lin_vel_y", "ang_vel_z"]
    assert command["ranges"] == [[-1.0, 1.0], [-0.5, 0.5], [-1.0, 1.0]]


def test_cartpole_export_matches_torch(cartpole_checkpoint, cartpole_onnx):
    obs = np.random.default_rng(2).normal(0.0, 1.0, size=(32, 4)).astype(np.float32)
    np.testing.assert_allclose(
        _onnx_actions(cartpole_onnx, obs), _torch_actions(cartpole_checkpoint, obs), rtol=1e-5, atol=1e-6
    )
    meta = _metadata(cartpole_onnx)
    assert meta["task"] == "cartpole-balance"
    assert meta["action_terms"][0]["type"] == "JointEffortAction"
    assert meta["action_offset"] == [0.0] and meta["kp"] == [None]
    assert [t["name"] for t in meta["observation_terms"]] == ["joint_pos", "joint_vel"]


def test_export_defaults_to_the_checkpoint_path(cartpole_checkpoint, capsys):
    assert main(["export", "--checkpoint", str(cartpole_checkpoint)]) == 0
    out = cartpole_checkpoint.with_suffix(".onnx")
    assert out.is_file() and str(out) in capsys.readouterr().out


def test_export_of_a_missing_checkpoint_exits_2_with_one_line(tmp_path, capsys):
    assert main(["export", "--checkpoint", str(tmp_path / "nope.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.pt" in err and err.startswith("warplab export: error:")


def test_export_of_a_corrupt_checkpoint_exits_2(tmp_path, capsys):
    bad = tmp_path / "model_1.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["export", "--checkpoint", str(bad)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_export_to_another_task_is_refused(cartpole_checkpoint, tmp_path, capsys):
    out = tmp_path / "p.onnx"
    argv = ["export", "--checkpoint", str(cartpole_checkpoint), "--task", "humanoid-velocity-flat"]
    assert main([*argv, "--out", str(out)]) == 2
    assert "observations" in capsys.readouterr().err and not out.exists()


def test_export_for_the_randomized_variant_reads_its_action_term(tmp_path):
    # The flat policy fits humanoid-velocity-flat-dr (same observations and actions); the metadata
    # then comes from that task: its delayed action term, the model's nominal gains.
    out = tmp_path / "dr.onnx"
    argv = ["export", "--checkpoint", str(HUMANOID_CHECKPOINT), "--task", "humanoid-velocity-flat-dr"]
    assert main([*argv, "--out", str(out)]) == 0
    meta, flat = _metadata(out), _metadata_of_flat()
    assert meta["task"] == "humanoid-velocity-flat-dr"
    assert meta["action_terms"][0]["type"] == "DelayedJointPositionAction"
    assert meta["kp"] == flat["kp"] and meta["observation_terms"] == flat["observation_terms"]


def _metadata_of_flat() -> dict:
    from warplab.deploy.export import policy_metadata

    cfg = make_env_cfg("humanoid-velocity-flat", play=True)
    cfg.num_envs, cfg.device = 1, "cpu"
    return json.loads(json.dumps(policy_metadata(RlEnv(cfg), "humanoid-velocity-flat")))
