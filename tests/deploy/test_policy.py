"""``warplab.deploy.Policy``: observations from robot signals equal the env's, targets, refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch

from warplab.deploy import Policy, PolicyError
from warplab.envs.rl_env import RlEnv
from warplab.rl.inference import load_policy
from warplab.tasks import make_env_cfg

from .conftest import HUMANOID_CHECKPOINT


def test_importing_the_runtime_pulls_in_no_torch_warp_or_mujoco():
    code = (
        "import sys, warplab.deploy.policy, warplab.deploy; "
        "print(sorted(m for m in ('torch', 'warp', 'mujoco', 'mujoco_warp') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _gravity_b(quat_wxyz: np.ndarray) -> np.ndarray:
    """World (0, 0, -1) in the frame of ``quat`` (w, x, y, z): what an IMU's gravity estimate gives."""
    w, u = quat_wxyz[0], quat_wxyz[1:]
    v = np.array([0.0, 0.0, -1.0])
    return v * (2.0 * w * w - 1.0) - 2.0 * w * np.cross(u, v) + 2.0 * u * np.dot(u, v)


def _signals(env: RlEnv, joints: list[str], last_action: np.ndarray) -> dict:
    """The named signals a robot would read, taken from world 0 of ``env``."""
    m = env.mj_model
    qpos, qvel = env.sim.qpos[0].numpy(), env.sim.qvel[0].numpy()
    index = {n: i for i, n in enumerate(env.index.names["joint"])}
    root = env.index.root_joint
    q0, v0 = int(m.jnt_qposadr[root]), int(m.jnt_dofadr[root])
    return {
        "joint_pos": {j: float(qpos[m.jnt_qposadr[index[j]]]) for j in joints},
        "joint_vel": {j: float(qvel[m.jnt_dofadr[index[j]]]) for j in joints},
        # MuJoCo's free-joint angular velocity is in the body frame, as an IMU gyro on the base reads it.
        "base_ang_vel": qvel[v0 + 3 : v0 + 6].copy(),
        "projected_gravity": _gravity_b(qpos[q0 + 3 : q0 + 7].astype(np.float64)),
        "commands": {"base_velocity": env.command("base_velocity")[0].numpy().copy()},
        "last_action": last_action,
    }


@pytest.fixture(scope="module")
def humanoid_rollout():
    """Observations and signals of a humanoid-velocity-flat env (play mode) run by the trained policy."""
    cfg = make_env_cfg("humanoid-velocity-flat", play=True)
    cfg.num_envs, cfg.device = 1, "cpu"
    env = RlEnv(cfg)
    policy, _ = load_policy(HUMANOID_CHECKPOINT)
    joints = [env.index.names["joint"][j] for j in env.index.actuator_joint_ids(None)]
    records = []
    obs = env.observations
    for _ in range(10):
        with torch.no_grad():
            action = policy.act_inference(obs)
        obs, _, terminated, truncated, _ = env.step(action)
        assert not bool(terminated[0] | truncated[0])
        records.append((obs["policy"][0].numpy().copy(), _signals(env, joints, action[0].numpy().copy())))
    return records


def test_observation_from_signals_equals_the_envs(humanoid_onnx, humanoid_rollout):
    policy = Policy.load(humanoid_onnx)
    for env_obs, signals in humanoid_rollout:
        np.testing.assert_allclose(policy.observation(signals), env_obs, rtol=1e-5, atol=1e-5)


def test_act_gives_default_plus_scale_times_action(humanoid_onnx, humanoid_rollout):
    policy = Policy.load(humanoid_onnx)
    torch_policy, _ = load_policy(HUMANOID_CHECKPOINT)
    env_obs, _ = humanoid_rollout[-1]
    targets = policy.act(env_obs)
    with torch.no_grad():
        expected_action = torch_policy.act_inference({"policy": torch.as_tensor(env_obs)[None]})[0].numpy()
    np.testing.assert_allclose(policy.last_action, expected_action, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        targets, policy.default_joint_pos + policy.action_scale * policy.last_action, rtol=1e-6, atol=1e-6
    )
    np.testing.assert_allclose(policy.actions(env_obs), policy.last_action)
    assert targets.shape == (21,) and policy.joint_names[3] == "left_knee"
    batch = policy.actions(np.stack([env_obs, env_obs]))
    assert batch.shape == (2, 21)
    policy.reset()
    assert not policy.last_action.any()


def test_the_control_loop_closes_with_last_action(humanoid_onnx, humanoid_rollout):
    # The loop of docs/deployment.md: last_action comes from the policy's own previous call.
    policy = Policy.load(humanoid_onnx)
    _, signals = humanoid_rollout[0]
    signals = {**signals, "last_action": policy.last_action}
    policy.act(policy.observation(signals))
    obs = policy.observation({**signals, "last_action": policy.last_action})
    np.testing.assert_allclose(obs[-21:], policy.last_action)


def test_missing_signal_is_named(humanoid_onnx, humanoid_rollout):
    policy = Policy.load(humanoid_onnx)
    _, signals = humanoid_rollout[0]
    with pytest.raises(PolicyError, match="'projected_gravity'.*missing"):
        policy.observation({k: v for k, v in signals.items() if k != "projected_gravity"})
    with pytest.raises(PolicyError, match=r"lacks joints \['left_knee'\]"):
        policy.observation(
            {**signals, "joint_pos": {k: v for k, v in signals["joint_pos"].items() if k != "left_knee"}}
        )
    with pytest.raises(PolicyError, match="'base_ang_vel' has 2 values"):
        policy.observation({**signals, "base_ang_vel": [0.0, 0.0]})
    with pytest.raises(PolicyError, match="'last_action' has 20 values"):
        policy.observation({**signals, "last_action": np.zeros(20)})
    with pytest.raises(PolicyError, match="lacks the command 'base_velocity'"):
        policy.observation({**signals, "commands": {"heading": [0.0]}})
    with pytest.raises(
        PolicyError, match=r"observation has shape \[71\]; the policy takes \[72\] or \[batch, 72\]"
    ):
        policy.act(np.zeros(71))


def test_robot_with_other_joints_is_refused(humanoid_onnx):
    Policy.load(humanoid_onnx, joint_names=list(reversed(Policy.load(humanoid_onnx).joint_names)))
    joints = [*Policy.load(humanoid_onnx).joint_names[:-1], "right_wrist"]
    with pytest.raises(PolicyError, match=r"lacks \['right_elbow'\].*does not know \['right_wrist'\]"):
        Policy.load(humanoid_onnx, joint_names=joints)


def test_file_without_metadata_is_refused(humanoid_onnx, tmp_path):
    proto = onnx.load(str(humanoid_onnx))
    kept = [p for p in proto.metadata_props if p.key not in ("joint_names", "observation_terms")]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    bare = tmp_path / "bare.onnx"
    onnx.save(proto, str(bare))
    with pytest.raises(PolicyError, match=r"lacks \['joint_names', 'observation_terms'\]"):
        Policy.load(bare)
    with pytest.raises(PolicyError, match="does not exist"):
        Policy.load(tmp_path / "none.onnx")


def test_metadata_that_disagrees_with_itself_is_refused(humanoid_onnx):
    good = Policy.load(humanoid_onnx)
    meta = {**good.metadata, "action_scale": good.metadata["action_scale"][:-1]}
    with pytest.raises(
        PolicyError, match="action_scale has 20 entries; it needs one per joint: action_size is 21"
    ):
        Policy(None, meta, "p.onnx")
    meta = {**good.metadata, "metadata_format": 99}
    with pytest.raises(PolicyError, match="metadata_format is 99"):
        Policy(None, meta, "p.onnx")


def test_cartpole_observation_from_signals(cartpole_onnx):
    policy = Policy.load(cartpole_onnx)
    cfg = make_env_cfg("cartpole-balance", play=True)
    cfg.num_envs, cfg.device = 1, "cpu"
    env = RlEnv(cfg)
    env.step(torch.full((1, 1), 0.3))
    qpos, qvel = env.sim.qpos[0].numpy(), env.sim.qvel[0].numpy()
    signals = {
        "joint_pos": {"slider": qpos[0], "hinge": qpos[1]},
        "joint_vel": {"slider": qvel[0], "hinge": qvel[1]},
    }
    assert policy.joint_names == ["slider"]
    np.testing.assert_allclose(policy.observation(signals), env.observations["policy"][0].numpy(), atol=1e-6)
    np.testing.assert_allclose(
        policy.act(policy.observation(signals)), policy.action_scale * policy.last_action
    )


def test_history_terms_are_stacked_as_the_env_stacks_them():
    # The reference is the env's own history: cartpole with 3 stacked joint positions and a scaled,
    # clipped velocity with 2; the runtime rebuilds both from the signals of each step.
    from warplab.deploy.export import policy_metadata

    cfg = make_env_cfg("cartpole-balance", play=True)
    cfg.num_envs, cfg.device = 1, "cpu"
    terms = cfg.observations["policy"].terms
    terms["joint_pos"].history_length = 3
    terms["joint_vel"].history_length, terms["joint_vel"].scale, terms["joint_vel"].clip = 2, 0.5, (-0.2, 0.2)
    env = RlEnv(cfg)
    meta = policy_metadata(env, "cartpole-balance")
    assert [t["size"] for t in meta["observation_terms"]] == [6, 4] and meta["observation_size"] == 10
    policy = Policy(None, json.loads(json.dumps(meta)), "history.onnx")
    observed = []
    for action in (0.0, 0.5, -0.3, 0.8):
        if action:
            env.step(torch.full((1, 1), action))
        qpos, qvel = env.sim.qpos[0].numpy(), env.sim.qvel[0].numpy()
        signals = {
            "joint_pos": {"slider": qpos[0], "hinge": qpos[1]},
            "joint_vel": {"slider": qvel[0], "hinge": qvel[1]},
        }
        obs = policy.observation(signals)
        np.testing.assert_allclose(obs, env.observations["policy"][0].numpy(), atol=1e-6)
        observed.append(obs)
    # The first observation of an episode fills the whole history; the last holds three different steps.
    np.testing.assert_allclose(observed[0][:2], observed[0][4:6])
    assert np.abs(observed[-1][:2] - observed[-1][4:6]).max() > 1e-4
    policy.reset()
    np.testing.assert_allclose(policy.observation(signals)[:6], np.tile(observed[-1][4:6], 3), atol=1e-6)


def test_height_scan_is_a_signal_the_robot_supplies(humanoid_onnx, humanoid_rollout):
    # A policy that reads a height scan: the runtime takes the robot's scan, checks its size, clips it.
    good = Policy.load(humanoid_onnx)
    grid = [[x, 0.0] for x in (-0.1, 0.0, 0.1)]
    scan = {
        "name": "height_scan",
        "func": "HeightScan",
        "signal": "height_scan",
        "size": 3,
        "scale": 1.0,
        "clip": None,
        "history_length": 0,
        "params": {"grid_xy": grid, "clip": [-1.0, 1.0]},
    }
    meta = {**good.metadata, "observation_terms": [*good.observation_terms, scan], "observation_size": 75}
    policy = Policy(None, meta, "scan.onnx")
    _, signals = humanoid_rollout[0]
    obs = policy.observation({**signals, "height_scan": [0.7, 1.5, -3.0]})
    np.testing.assert_allclose(obs[-3:], [0.7, 1.0, -1.0])
    with pytest.raises(PolicyError, match="'height_scan' has 2 values; term 'height_scan' needs 3"):
        policy.observation({**signals, "height_scan": [0.7, 0.7]})
    with pytest.raises(PolicyError, match="'height_scan', which is missing"):
        policy.observation(signals)
