"""``Policy.load`` refuses every bad policy file with one ``PolicyError`` line that names the file,
the key and what would be right: metadata that disagrees with the graph or with itself, numbers that
are not finite, graphs of another shape or type, and files that are no policy at all."""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import TensorProto

from warplab.cli.main import main
from warplab.deploy import Policy, PolicyError

from ._policy_files import (
    cartpole_metadata,
    edit_metadata,
    identity_graph,
    linear_graph,
    two_input_graph,
    two_output_graph,
    write_policy,
)


def _load_error(path) -> str:
    with pytest.raises(PolicyError) as error:
        Policy.load(path)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"policy {path}")
    return message


def test_a_good_small_file_loads_and_acts(tmp_path):
    # The reference for every refusal below: the same graph and metadata, unspoiled, load and run.
    policy = Policy.load(write_policy(tmp_path / "good.onnx", linear_graph(weight=0.25), cartpole_metadata()))
    assert policy.action_kind == ["effort"]
    np.testing.assert_allclose(policy.act(np.array([1.0, 2.0, 0.0, 0.0])), [0.75])


def test_action_size_that_differs_from_the_graph_is_refused(tmp_path):
    # The case: metadata for 3 actions on a graph that gives 1 was accepted and broadcast.
    meta = cartpole_metadata(
        action_size=3,
        joint_names=["slider", "a", "b"],
        default_joint_pos=[0.0] * 3,
        action_scale=[1.0] * 3,
        action_offset=[0.0] * 3,
        action_terms=[{"name": "cart_force", "type": "JointEffortAction", "start": 0, "size": 3}],
        action_kind=["effort"] * 3,
        kp=[None] * 3,
        kd=[None] * 3,
        effort_limit=[None] * 3,
        target_range=[None] * 3,
        effort_per_target=[None] * 3,
    )
    path = write_policy(tmp_path / "p.onnx", linear_graph(action_dim=1), meta)
    message = _load_error(path)
    assert "metadata action_size is 3, but the graph's output 'actions' has 1 values per row" in message
    assert "export the policy again" in message


def test_action_size_of_a_real_export_edited_is_refused(cartpole_onnx, tmp_path):
    path = edit_metadata(cartpole_onnx, tmp_path / "p.onnx", action_size=2)
    assert "metadata joint_names has 1 entries; it needs one per joint: action_size is 2" in _load_error(path)


def test_observation_size_is_checked_against_the_graph_and_the_terms(tmp_path):
    path = write_policy(tmp_path / "graph.onnx", linear_graph(obs_dim=5), cartpole_metadata())
    assert "metadata observation_size is 4, but the graph's input 'obs' has 5 values per row" in _load_error(
        path
    )
    path = write_policy(
        tmp_path / "terms.onnx", linear_graph(obs_dim=5), cartpole_metadata(observation_size=5)
    )
    assert "observation terms add up to 4 values (joint_pos 2 + joint_vel 2), observation_size is 5" in (
        _load_error(path)
    )


@pytest.mark.parametrize(
    "key", ["joint_names", "default_joint_pos", "action_scale", "action_offset", "kp", "kd", "effort_limit",
            "target_range", "action_kind", "effort_per_target"],
)  # fmt: skip
def test_every_per_joint_list_has_action_size_entries(tmp_path, key):
    meta = cartpole_metadata()
    meta[key] = meta[key] * 2
    path = write_policy(tmp_path / "p.onnx", linear_graph(), meta)
    assert f"metadata {key} has 2 entries; it needs one per joint: action_size is 1" in _load_error(path)


@pytest.mark.parametrize(
    ("replace", "named"),
    [
        ({"default_joint_pos": [math.nan]}, "default_joint_pos[0] = nan"),
        ({"action_scale": [math.inf]}, "action_scale[0] = inf"),
        ({"action_offset": [-math.inf]}, "action_offset[0] = -inf"),
        ({"policy_dt": math.nan}, "policy_dt = nan"),
        ({"action_clip": [-1.0, math.inf]}, "action_clip[1] = inf"),
        ({"effort_per_target": [math.nan]}, "effort_per_target[0] = nan"),
        ({"fall": {"min_base_height": math.nan}}, "fall.min_base_height = nan"),
    ],
)
def test_numbers_that_are_not_finite_are_refused(tmp_path, replace, named):
    path = write_policy(tmp_path / "p.onnx", linear_graph(), cartpole_metadata(**replace))
    message = _load_error(path)
    assert f"metadata holds values that are not finite: {named}" in message


def test_an_observation_term_scale_that_is_nan_is_refused(tmp_path):
    meta = cartpole_metadata()
    meta["observation_terms"][1]["scale"] = math.nan
    path = write_policy(tmp_path / "p.onnx", linear_graph(), meta)
    assert "observation_terms[1].scale = nan" in _load_error(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(action_size="1"), "metadata action_size is '1'; it must be an integer >= 1"),
        (lambda m: m.update(policy_dt=-0.02), "metadata policy_dt is -0.02; it must be a time step > 0 s"),
        (lambda m: m.update(metadata_format=2), "metadata_format is 2; this runtime reads 1"),
        (lambda m: m.update(joint_names=[3]), "metadata joint_names[0] is 3; it must be a joint name"),
        (
            lambda m: m.update(action_clip=[1.0, -1.0]),
            "metadata action_clip is [1.0, -1.0]; it must be [low, high]",
        ),
        (lambda m: m.update(action_kind=["torque"]), "action_kind[0] is 'torque'; it must be one of"),
        (lambda m: m.update(kp=[-5.0]), "metadata kp[0] is -5.0; it must be a stiffness >= 0 or null"),
        (lambda m: m.update(commands=[]), "metadata commands is []; it must map command names"),
        (
            lambda m: m["observation_terms"][0].update(history_length=3),
            "observation term 'joint_pos' has history_length 3; it must be an integer >= 0 that divides size 2",
        ),
        (
            lambda m: m["observation_terms"][0]["params"].update(joints=["slider"]),
            "observation term 'joint_pos' has 2 values per step, but its params.joints (1 joints) gives 1",
        ),
        (
            lambda m: m["observation_terms"][1].update(name="joint_pos"),
            "observation_terms has two terms named 'joint_pos'",
        ),
        (
            lambda m: m["observation_terms"][1].update(signal="command", params={"command_name": "twist"}),
            "reads the command 'twist', which metadata commands lacks",
        ),
        (
            lambda m: m["action_terms"][0].update(size=2),
            "metadata action_terms cover 2 actions, action_size is 1",
        ),
    ],
)
def test_metadata_of_the_wrong_kind_is_refused(tmp_path, edit, message):
    meta = cartpole_metadata()
    edit(meta)
    path = write_policy(tmp_path / "p.onnx", linear_graph(), meta)
    assert message in _load_error(path)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (two_input_graph(), "the graph has 2 inputs (['obs', 'extra']); a warplab policy has one, 'obs'"),
        (
            two_output_graph(),
            "the graph has 2 outputs (['actions', 'value']); a warplab policy has one, 'actions'",
        ),
        (linear_graph(elem_type=TensorProto.DOUBLE), "the graph's input 'obs' is tensor(double)"),
        (linear_graph(batch=4), "the graph's input 'obs' has a fixed batch of 4"),
        (linear_graph(nan_where_negative=False, weight=math.nan), "the network gives non-finite actions"),
    ],
)
def test_graphs_of_another_shape_or_type_are_refused(tmp_path, graph, message):
    path = write_policy(tmp_path / "p.onnx", graph, cartpole_metadata())
    assert message in _load_error(path)


def test_an_input_of_rank_three_is_refused(tmp_path):
    graph = linear_graph(obs_shape=["batch", 1, 4])
    path = write_policy(tmp_path / "p.onnx", graph, cartpole_metadata())
    assert (
        "the graph's input 'obs' has shape ['batch', 1, 4]; a warplab policy's is [batch, observation_size]"
        in (_load_error(path))
    )


def test_a_symbolic_size_is_settled_by_a_run(tmp_path):
    # A graph that declares no sizes: the zero-observation run at load finds 4 actions for 1.
    path = write_policy(tmp_path / "p.onnx", identity_graph(), cartpole_metadata())
    assert "metadata action_size is 1, but the graph gives actions of shape [1, 4]" in _load_error(path)


def test_a_fixed_batch_of_one_runs_one_observation_at_a_time(tmp_path):
    policy = Policy.load(write_policy(tmp_path / "p.onnx", linear_graph(batch=1), cartpole_metadata()))
    assert policy.act(np.ones(4)).shape == (1,)
    with pytest.raises(PolicyError, match="the graph takes a batch of 1, given 2"):
        policy.actions(np.ones((2, 4)))


def test_files_that_are_no_policy_are_refused(tmp_path, cartpole_onnx):
    (tmp_path / "text.onnx").write_text("not a model")
    assert "is not an ONNX model onnxruntime can load" in _load_error(tmp_path / "text.onnx")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(cartpole_onnx.read_bytes()[:300])
    assert "is not an ONNX model onnxruntime can load" in _load_error(truncated)
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert "is not an ONNX model" in _load_error(tmp_path / "empty.onnx")
    bare = write_policy(tmp_path / "bare.onnx", linear_graph(), None)
    assert "the file carries no warplab metadata; export it with `warplab export`" in _load_error(bare)
    not_json = write_policy(tmp_path / "nj.onnx", linear_graph(), cartpole_metadata(), raw={"task": "{cart"})
    assert "metadata 'task' is not JSON" in _load_error(not_json)
    assert "does not exist" in _load_error(tmp_path / "none.onnx")


def test_a_folder_is_refused_and_its_policy_named(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    assert _load_error(run).endswith("is a folder; give the .onnx file")
    write_policy(run / "policy.onnx", linear_graph(), cartpole_metadata())
    assert _load_error(run).endswith(f"is a folder; give the .onnx file ({run / 'policy.onnx'} is there)")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda d: write_policy(d / "p.onnx", two_input_graph(), cartpole_metadata()),
            "the graph has 2 inputs",
        ),
        (
            lambda d: write_policy(d / "p.onnx", linear_graph(), cartpole_metadata(action_size=2)),
            "action_size is 2",
        ),
        (lambda d: write_policy(d / "p.onnx", linear_graph(), None), "carries no warplab metadata"),
        (
            lambda d: write_policy(d / "p.onnx", linear_graph(weight=math.nan), cartpole_metadata()),
            "non-finite",
        ),
        (lambda d: d, "is a folder"),
    ],
)
def test_sim2sim_cli_refuses_bad_files_in_one_line(tmp_path, capsys, make, message):
    path = make(tmp_path)
    assert main(["sim2sim", "--policy", str(path), "--seconds", "0.1", "--episodes", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("warplab sim2sim: error: policy") and message in err
