"""``warplab train`` writes ``model_<iteration>.onnx`` and ``policy.onnx`` beside each checkpoint."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from warplab.cli.main import main
from warplab.deploy.export import checkpoint_exporter
from warplab.rl import OnPolicyRunner
from warplab.rl.inference import load_policy
from warplab.tasks import get_task, make


def test_training_writes_onnx_beside_the_checkpoint(cartpole_checkpoint):
    folder = cartpole_checkpoint.parent
    assert (folder / "model_1.onnx").is_file()
    latest = folder / "policy.onnx"
    meta = {p.key: json.loads(p.value) for p in onnx.load(str(latest)).metadata_props}
    assert meta["task"] == "cartpole-balance" and meta["joint_names"] == ["slider"]
    # The graph is the checkpoint's actor: the same actions from the same observations.
    obs = np.random.default_rng(0).normal(0.0, 1.0, size=(16, 4)).astype(np.float32)
    session = ort.InferenceSession(str(latest), providers=["CPUExecutionProvider"])
    policy, _ = load_policy(cartpole_checkpoint)
    with torch.no_grad():
        expected = policy.act_inference({"policy": torch.as_tensor(obs)}).numpy()
    np.testing.assert_allclose(session.run(["actions"], {"obs": obs})[0], expected, rtol=1e-5, atol=1e-6)


def test_export_onnx_false_writes_none(tmp_path):
    argv = ["train", "--task", "cartpole-balance", "--num-envs", "2", "--max-iterations", "1"]
    assert main([*argv, "--runs-dir", str(tmp_path), "--agent.export-onnx", "False"]) == 0
    (checkpoint,) = tmp_path.glob("cartpole-balance/*/model_1.pt")
    assert not list(checkpoint.parent.glob("*.onnx"))


def _runner(log_dir, **cfg) -> OnPolicyRunner:
    env = make("cartpole-balance", num_envs=2, device="cpu", seed=0)
    agent = dataclasses.replace(
        get_task("cartpole-balance").agent_cfg_factory(), console="off", logger="none", **cfg
    )
    agent.ppo = dataclasses.replace(agent.ppo, num_steps_per_env=4, num_mini_batches=1)
    return OnPolicyRunner(env, agent, log_dir=log_dir, exporter=checkpoint_exporter(env, "cartpole-balance"))


def test_a_failed_export_warns_and_training_goes_on(tmp_path):
    # policy.onnx cannot be written where a folder of that name stands: a real failure of the export.
    (tmp_path / "policy.onnx").mkdir()
    runner = _runner(tmp_path, save_interval=1)
    with pytest.warns(UserWarning, match=r"could not write .*policy\.onnx .*training goes on") as caught:
        runner.learn(2)
    assert len(caught) == 2  # one per checkpoint
    assert runner.iteration == 2
    for i in (1, 2):
        assert (tmp_path / f"model_{i}.pt").is_file() and (tmp_path / f"model_{i}.onnx").is_file()
