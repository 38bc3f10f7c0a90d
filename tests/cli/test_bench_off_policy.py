"""``warplab bench --algo sac|td3`` on the CPU: measurement 4 as off-policy iterations (env steps
with the updates running at the agent's replay ratio), its JSON keys and table line, and the
``--agent-overrides`` that size it. Figures are not checked (timing belongs on the GPU), only that
they were measured and that the update count is the one the replay ratio asks for."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from warplab.cli.main import main

TINY_SAC = [
    "sac.num_steps_per_env=4", "sac.batch_size=16", "sac.replay_ratio=4", "sac.learning_starts=2",
    "sac.random_steps=6",
    "sac.replay_size_per_env=32", "sac.num_atoms=11", "sac_policy.actor_hidden_dims=16,16",
    "sac_policy.critic_hidden_dims=16,16",
]  # fmt: skip
"""4 worlds x 4 replay ratio / 16 a batch: exactly one update per env step, 4 an iteration."""

OFF_POLICY_KEYS = {
    "off_policy_algorithm", "off_policy_iterations", "off_policy_warmup_iterations",
    "off_policy_steps_per_env", "off_policy_env_steps_per_s", "off_policy_collection_s_per_iteration",
    "off_policy_learning_s_per_iteration", "off_policy_update_share", "off_policy_updates_per_iteration",
    "off_policy_updates_per_env_step", "off_policy_replay_ratio", "off_policy_batch_size",
    "off_policy_tf32_matmul", "off_policy_graph_update", "off_policy_over_env",
}  # fmt: skip


def _bench(tmp_path, *argv: str) -> tuple[dict, str]:
    path = tmp_path / "b.json"
    base = ["bench", "--task", "cartpole-balance", "--num-envs", "4", "--steps", "5", "--warmup", "1"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*base, "--device", "cpu", "--json", str(path), *argv]) == 0
    return json.loads(path.read_text()), out.getvalue()


@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_off_policy_iterations_are_measured(algo, tmp_path):
    result, out = _bench(tmp_path, "--algo", algo, "--agent-overrides", *TINY_SAC)
    assert result["algo"] == algo and result["agent_overrides"]["sac.batch_size"] == "16"
    (row,) = result["rows"]
    assert set(row) >= OFF_POLICY_KEYS
    assert row["off_policy_algorithm"] == algo
    # 5 steps of 4 per iteration: 2 timed iterations, after ceil(max(2, 6) / 4) + 1 = 3 warm-up
    # ones (past learning_starts 2 and random_steps 6, and one more).
    assert row["off_policy_iterations"] == 2 and row["off_policy_warmup_iterations"] == 3
    # replay_ratio * num_envs / batch_size = 4 * 4 / 16 = 1 update per env step, 4 per iteration.
    assert row["off_policy_updates_per_env_step"] == 1.0
    assert row["off_policy_updates_per_iteration"] == 4.0
    assert row["off_policy_env_steps_per_s"] > 0 and row["off_policy_learning_s_per_iteration"] > 0
    share = row["off_policy_update_share"]
    total = row["off_policy_collection_s_per_iteration"] + row["off_policy_learning_s_per_iteration"]
    assert 0 < share < 1 and share == pytest.approx(row["off_policy_learning_s_per_iteration"] / total)
    assert row["off_policy_over_env"] == pytest.approx(
        row["off_policy_env_steps_per_s"] / row["env_steps_per_s_random"]
    )
    # No CUDA: neither TF32 nor the update's graphs ran.
    assert row["off_policy_tf32_matmul"] is False and row["off_policy_graph_update"] is False
    # PPO's keys are there, empty: a script reading them finds no PPO figure rather than no key.
    assert row["ppo_env_steps_per_s"] is None and row["ppo_over_env"] is None
    assert row["env_steps_per_s_policy"] > 0
    assert f"4 {algo}" in out and f"{algo.upper()} " in out and "4 updates an iteration of 4 steps" in out


def test_ppo_rows_have_no_off_policy_keys(tmp_path):
    result, out = _bench(tmp_path, "--algo", "ppo")
    (row,) = result["rows"]
    assert result["algo"] == "ppo" and row["ppo_env_steps_per_s"] > 0
    assert not any(key.startswith("off_policy") for key in row)
    assert "4 ppo" in out


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["sac.batch_size"], "--agent-overrides 'sac.batch_size': write FIELD=VALUE"),
        (["sac.batch_sizes=3"], "--agent.sac.batch_sizes: no such field"),
        (["sac.batch_size=0"], "RunnerCfg.sac.batch_size"),
    ],
)
def test_a_bad_agent_override_is_one_line_before_anything_is_measured(words, expected, capsys):
    argv = ["bench", "--task", "cartpole-balance", "--device", "cpu", "--algo", "sac", "--agent-overrides"]
    assert main([*argv, *words]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("warplab bench: error: ") and expected in err, err
