"""Small policy files for the deployment tests: ONNX graphs written with ``onnx.helper`` and the
metadata of a cart-pole policy, each of which a test can spoil in one place."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CARTPOLE_METADATA: dict[str, Any] = {
    "metadata_format": 1,
    "task": "cartpole-balance",
    "warplab_version": "0.1.0",
    "policy_dt": 0.02,
    "joint_names": ["slider"],
    "default_joint_pos": [0.0],
    "action_scale": [1.0],
    "action_offset": [0.0],
    "action_clip": None,
    "action_terms": [{"name": "cart_force", "type": "JointEffortAction", "start": 0, "size": 1}],
    "action_kind": ["effort"],
    "kp": [None],
    "kd": [None],
    "effort_limit": [None],
    "target_range": [[-1.0, 1.0]],
    "effort_per_target": [20.0],
    "action_size": 1,
    "observation_size": 4,
    "observation_terms": [
        {
            "name": "joint_pos",
            "func": "joint_pos",
            "signal": "joint_pos",
            "size": 2,
            "scale": 1.0,
            "clip": None,
            "history_length": 0,
            "params": {"joints": ["slider", "hinge"]},
        },
        {
            "name": "joint_vel",
            "func": "joint_vel",
            "signal": "joint_vel",
            "size": 2,
            "scale": 1.0,
            "clip": None,
            "history_length": 0,
            "params": {"joints": ["slider", "hinge"]},
        },
    ],
    "commands": {},
    "fall": {"min_base_height": None, "max_tilt_rad": None, "joint_ranges": {"hinge": [-0.4, 0.4]}},
}
"""What ``warplab export`` writes for ``cartpole-balance`` (less the embedded scene)."""


def cartpole_metadata(**replace: Any) -> dict[str, Any]:
    """A deep copy of ``CARTPOLE_METADATA`` with ``replace`` applied."""
    return {**copy.deepcopy(CARTPOLE_METADATA), **replace}


def linear_graph(
    obs_dim: int = 4,
    action_dim: int = 1,
    weight: float = 0.1,
    bias: float = 0.0,
    batch: str | int | None = "batch",
    obs_shape: list | None = None,
    elem_type: int = TensorProto.FLOAT,
    nan_where_negative: bool = False,
) -> onnx.ModelProto:
    """``actions = obs @ W + bias`` with every weight ``weight``: ``obs [batch, obs_dim]`` in,
    ``actions [batch, action_dim]`` out.

    Args:
      batch: the batch dimension's name (dynamic), or a fixed size.
      obs_shape: the declared input shape instead of ``[batch, obs_dim]``.
      nan_where_negative: ``actions = sqrt(-|obs @ W|)``: finite (0) for a zero observation, NaN for
        almost any other (a network that breaks on some inputs).
    """
    numpy_type = helper.tensor_dtype_to_np_dtype(elem_type)
    w = numpy_helper.from_array(np.full((obs_dim, action_dim), weight, dtype=numpy_type), "W")
    b = numpy_helper.from_array(np.full((action_dim,), bias, dtype=numpy_type), "B")
    nodes = [
        helper.make_node("MatMul", ["obs", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "B"], ["y" if nan_where_negative else "actions"]),
    ]
    if nan_where_negative:
        nodes += [
            helper.make_node("Abs", ["y"], ["a"]),
            helper.make_node("Neg", ["a"], ["n"]),
            helper.make_node("Sqrt", ["n"], ["actions"]),
        ]
    graph = helper.make_graph(
        nodes,
        "policy",
        [helper.make_tensor_value_info("obs", elem_type, obs_shape or [batch, obs_dim])],
        [helper.make_tensor_value_info("actions", elem_type, [batch, action_dim])],
        [w, b],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def identity_graph() -> onnx.ModelProto:
    """``actions = obs``, both declared ``[batch, size]`` with ``size`` symbolic: a graph whose sizes
    only a run settles."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["obs"], ["actions"])],
        "policy",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", "size"])],
        [helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["batch", "size"])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def two_input_graph(obs_dim: int = 4, action_dim: int = 1) -> onnx.ModelProto:
    """``actions = obs @ W + extra``: a graph with a second input, ``extra [batch, action_dim]``."""
    w = numpy_helper.from_array(np.full((obs_dim, action_dim), 0.1, dtype=np.float32), "W")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["obs", "W"], ["y"]),
            helper.make_node("Add", ["y", "extra"], ["actions"]),
        ],
        "policy",
        [
            helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", obs_dim]),
            helper.make_tensor_value_info("extra", TensorProto.FLOAT, ["batch", action_dim]),
        ],
        [helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["batch", action_dim])],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def two_output_graph(obs_dim: int = 4, action_dim: int = 1) -> onnx.ModelProto:
    """``actions = obs @ W`` and ``value = obs @ W``: a graph with a second output."""
    w = numpy_helper.from_array(np.full((obs_dim, action_dim), 0.1, dtype=np.float32), "W")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["obs", "W"], ["actions"]),
            helper.make_node("MatMul", ["obs", "W"], ["value"]),
        ],
        "policy",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", obs_dim])],
        [
            helper.make_tensor_value_info("actions", TensorProto.FLOAT, ["batch", action_dim]),
            helper.make_tensor_value_info("value", TensorProto.FLOAT, ["batch", action_dim]),
        ],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def write_policy(
    path: Path, graph: onnx.ModelProto, metadata: dict[str, Any] | None, raw: dict | None = None
) -> Path:
    """Write ``graph`` with ``metadata`` (each value as JSON, as ``warplab export`` does) and ``raw``
    (values written as given, JSON or not) to ``path``."""
    proto = copy.deepcopy(graph)
    del proto.metadata_props[:]
    for key, value in (metadata or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    for key, value in (raw or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


def replace_graph(src: Path, dst: Path, graph: onnx.ModelProto, **replace: Any) -> Path:
    """``dst``: the metadata of the exported policy ``src`` (with ``replace`` applied) on ``graph``."""
    proto = onnx.load(str(src))
    metadata = {p.key: json.loads(p.value) for p in proto.metadata_props}
    return write_policy(dst, graph, {**metadata, **replace})


def edit_metadata(src: Path, dst: Path, **replace: Any) -> Path:
    """``dst``: the exported policy ``src`` with the metadata keys of ``replace`` set (JSON)."""
    return replace_graph(src, dst, onnx.load(str(src)), **replace)
