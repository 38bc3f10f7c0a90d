"""SAC and TD3 policies leave warplab as PPO's do: ``load_policy`` builds their networks from the
checkpoint, ONNX export writes ``action_scale * tanh(mean)`` with the normalizer inside, and
``warplab sim2sim`` runs the file on MuJoCo's C engine (all on the CPU, cart-pole, a few worlds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from warplab.cli.main import main
from warplab.deploy import Policy
from warplab.deploy.sim2sim import Sim2SimCfg, run_sim2sim
from warplab.rl import ActorCritic, OffPolicyActorCritic
from warplab.rl.inference import load_policy

from .conftest import HUMANOID_CHECKPOINT

ACTION_SCALE = 0.5
"""The off-policy actors' bound here: not 1, so that a missing scale would show."""

TINY_OFF_POLICY = [
    "--agent.sac.num_steps_per_env", "8",
    "--agent.sac.batch_size", "32",
    "--agent.sac.replay_size_per_env", "64",
    "--agent.sac.learning_starts", "2",
    "--agent.sac.num_atoms", "11",
    "--agent.sac_policy.actor_hidden_dims", "16,8",
    "--agent.sac_policy.critic_hidden_dims", "16,16",
    "--agent.sac_policy.action_scale", str(ACTION_SCALE),
]  # fmt: skip
"""Settings that train two iterations of SAC or TD3 with 4 worlds in a few seconds on a CPU."""


@pytest.fixture(scope="module", params=["sac", "td3"])
def off_policy_checkpoint(request, tmp_path_factory) -> Path:
    """A cart-pole checkpoint of ``warplab train --algo sac|td3``, 2 iterations with 4 worlds."""
    runs = tmp_path_factory.mktemp(f"runs_{request.param}")
    argv = ["train", "--task", "cartpole-balance", "--num-envs", "4", "--max-iterations", "2"]
    assert main([*argv, "--algo", request.param, "--runs-dir", str(runs), *TINY_OFF_POLICY]) == 0
    (checkpoint,) = runs.glob("cartpole-balance/*/model_2.pt")
    return checkpoint


def _reference_actions(checkpoint: Path, obs: np.ndarray) -> np.ndarray:
    """The squashed actor's deterministic actions, worked out in float64 numpy from the saved
    weights: normalize and clip, (Linear, LayerNorm, SiLU) per hidden layer, the mean's Linear,
    then ``action_scale * tanh``."""
    state = {k: v.double().numpy() for k, v in torch.load(checkpoint, weights_only=True)["model"].items()}
    mean, var = state["actor_obs_normalizer.mean"], state["actor_obs_normalizer.var"]
    h = np.clip((obs.astype(np.float64) - mean) / np.sqrt(var + 1e-4), -5.0, 5.0)
    # actor_trunk: Linear at 0, 3, ...; LayerNorm right after each; SiLU after that.
    for linear in range(0, 1000, 3):
        if f"actor_trunk.{linear}.weight" not in state:
            break
        h = h @ state[f"actor_trunk.{linear}.weight"].T + state[f"actor_trunk.{linear}.bias"]
        h = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-5)
        h = h * state[f"actor_trunk.{linear + 1}.weight"] + state[f"actor_trunk.{linear + 1}.bias"]
        h = h / (1.0 + np.exp(-h))
    u = h @ state["actor_mean.weight"].T + state["actor_mean.bias"]
    return ACTION_SCALE * np.tanh(u)


def _observations() -> np.ndarray:
    # Spread over several standard deviations so that the normalizer's clip and tanh's bend matter.
    return np.random.default_rng(0).normal(0.0, 3.0, size=(64, 4)).astype(np.float32)


def test_load_policy_builds_the_checkpoints_networks(off_policy_checkpoint):
    policy, task = load_policy(off_policy_checkpoint)
    algorithm = torch.load(off_policy_checkpoint, weights_only=True)["algorithm"]
    assert task == "cartpole-balance" and policy.algorithm == algorithm
    assert isinstance(policy.model, OffPolicyActorCritic)
    assert policy.model.deterministic == (algorithm == "td3")
    assert policy.model.action_scale == ACTION_SCALE
    obs = {"policy": torch.as_tensor(_observations())}
    with torch.no_grad():
        first, second = policy.act_inference(obs), policy.act_inference(obs)
    # Deterministic for every algorithm: no sampling, no exploration noise.
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    np.testing.assert_allclose(
        first.numpy(), _reference_actions(off_policy_checkpoint, obs["policy"].numpy()), atol=1e-5
    )


def test_old_ppo_checkpoints_still_load_as_ppo():
    # Written before SAC existed: no `algorithm` in the file or its config.
    policy, task = load_policy(HUMANOID_CHECKPOINT)
    assert policy.algorithm == "ppo" and isinstance(policy.model, ActorCritic)
    assert task == "humanoid-velocity-flat"


def test_onnx_export_gives_the_squashed_mean(off_policy_checkpoint, tmp_path):
    out = tmp_path / "policy.onnx"
    assert main(["export", "--checkpoint", str(off_policy_checkpoint), "--out", str(out)]) == 0
    obs = _observations()
    expected = _reference_actions(off_policy_checkpoint, obs)
    # Both the exported file and the one training wrote beside the checkpoint.
    for path in (out, off_policy_checkpoint.with_suffix(".onnx")):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        actions = session.run(["actions"], {"obs": obs})[0]
        assert actions.shape == (64, 1) and actions.dtype == np.float32
        np.testing.assert_allclose(actions, expected, atol=1e-5)
        assert np.abs(actions).max() <= ACTION_SCALE
        meta = {p.key: json.loads(p.value) for p in onnx.load(str(path)).metadata_props}
        algorithm = torch.load(off_policy_checkpoint, weights_only=True)["algorithm"]
        assert meta["algorithm"] == algorithm and meta["policy_action_bound"] == ACTION_SCALE
        # The env's facts are the same as for a PPO policy of the task.
        assert meta["task"] == "cartpole-balance" and meta["joint_names"] == ["slider"]
        assert meta["action_size"] == 1 and meta["observation_size"] == 4


def test_ppo_export_says_ppo(cartpole_onnx):
    meta = {p.key: json.loads(p.value) for p in onnx.load(str(cartpole_onnx)).metadata_props}
    assert meta["algorithm"] == "ppo" and meta["policy_action_bound"] is None


def test_the_runtime_and_sim2sim_run_an_off_policy_policy(off_policy_checkpoint):
    path = off_policy_checkpoint.with_suffix(".onnx")
    policy = Policy.load(path)
    obs = _observations()[:1]
    np.testing.assert_allclose(
        policy.actions(obs[0]), _reference_actions(off_policy_checkpoint, obs)[0], atol=1e-5
    )
    report = run_sim2sim(policy, Sim2SimCfg(seconds=1.0, episodes=1))
    (episode,) = report["episodes"]
    assert report["summary"]["episodes"] == 1 and episode["fault"] is None
    assert 0.0 < episode["survival_s"] <= 1.0 + 1e-9
