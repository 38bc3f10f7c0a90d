"""Export a trained policy to ONNX, with what a robot needs to run it written into the file.

The graph is the actor alone, with its observation normalizer baked in: input ``obs [batch, obs_dim]``
(raw observations, as the env's ``policy`` group gives them), output ``actions [batch, action_dim]``
(the deterministic actions: the mean of PPO's Gaussian, ``action_scale * tanh(mean)`` of a SAC or
TD3 actor), as the model's ``inference_actor()`` computes them. The facts around it (joint order, default
pose, action scale and offset, PD gains, observation terms and their scales, commands) are read from
the real env, built once with one world on the CPU in play mode, and stored as ``metadata_props``
whose values are JSON. ``docs/deployment.md`` lists every key.
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from warplab.atomic_files import atomic_write_bytes, check_not_an_input
from warplab.rl.checkpoint import CheckpointError, describe_nonfinite, nonfinite_weights
from warplab.term_export import ObservationExport, declared

METADATA_FORMAT = 1
"""Bumped when a metadata key changes meaning; ``warplab.deploy.Policy`` refuses other versions."""


def _inference_actor(model: nn.Module) -> nn.Module:
    """``model.inference_actor()``: raw flattened policy observations [B, D] -> deterministic
    actions [B, A], normalizer included (``ActorCritic`` and ``OffPolicyActorCritic`` both have it)."""
    make = getattr(model, "inference_actor", None)
    if not callable(make):
        raise TypeError(
            f"export needs a model with inference_actor() (ActorCritic or OffPolicyActorCritic), "
            f"got {type(model).__name__}"
        )
    actor = make()
    if not isinstance(actor, nn.Module):
        raise TypeError(
            f"{type(model).__name__}.inference_actor() must return an nn.Module, got {type(actor).__name__}"
        )
    return actor


def policy_output_metadata(model: nn.Module) -> dict[str, Any]:
    """What the graph's output is, from the model: ``algorithm`` ("ppo", "sac" or "td3") and
    ``policy_action_bound``: the SAC/TD3 actor's actions are ``bound * tanh(mean)``, inside
    [-bound, bound] in the env's action units (SacPolicyCfg.action_scale); None for PPO, whose
    Gaussian mean is unbounded."""
    from warplab.rl.off_policy_networks import OffPolicyActorCritic

    if isinstance(model, OffPolicyActorCritic):
        return {
            "algorithm": "td3" if model.deterministic else "sac",
            "policy_action_bound": float(model.action_scale),
        }
    return {"algorithm": "ppo", "policy_action_bound": None}


def _jsonable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _actuator_facts(env, actuator_ids: list[int], kinds: list[str | None]) -> dict[str, list]:
    """Per actuator: kp, kd (None where it is not a position servo), effort limit (None: unlimited),
    the range its control is clamped to (None: unclamped) and, for effort actions, the joint effort
    one unit of target gives (gear times gain, N·m or N; None for position actions)."""
    import mujoco

    m = env.mj_model
    kp, kd, effort, target, per_target = [], [], [], [], []
    for a, kind in zip(actuator_ids, kinds, strict=True):
        servo = int(m.actuator_biastype[a]) == int(mujoco.mjtBias.mjBIAS_AFFINE)
        kp.append(float(m.actuator_gainprm[a, 0]) if servo else None)
        kd.append(float(-m.actuator_biasprm[a, 2]) if servo else None)
        effort.append(float(m.actuator_forcerange[a, 1]) if m.actuator_forcelimited[a] else None)
        # MuJoCo clamps every control to its range in simulation (a servo's target, a motor's
        # effort command); a robot's driver should clamp the targets too.
        limited = bool(m.actuator_ctrllimited[a])
        target.append([float(v) for v in m.actuator_ctrlrange[a]] if limited else None)
        fixed_gain = int(m.actuator_gaintype[a]) == int(mujoco.mjtGain.mjGAIN_FIXED)
        effort_action = kind == "effort" and fixed_gain
        per_target.append(float(m.actuator_gear[a, 0] * m.actuator_gainprm[a, 0]) if effort_action else None)
    return {
        "kp": kp,
        "kd": kd,
        "effort_limit": effort,
        "target_range": target,
        "effort_per_target": per_target,
    }


def _action_metadata(env) -> dict[str, Any]:
    index = env.index
    joint_names, scale, offset, actuator_ids, terms, kinds = [], [], [], [], [], []
    binary: list[dict[str, float] | None] = []
    clips = set()
    joint_clips: list[tuple[float, float] | None] = []
    for name, term in env.action_manager.terms.items():
        # What the term declares its actions mean (``ActionTerm.actuator_targets`` for an affine map,
        # ``ActionTerm.binary_targets`` for a two-state one), never its class.
        targets = term.actuator_targets()
        two_state = term.binary_targets() if targets is None else None
        if targets is None and two_state is None:
            raise ValueError(
                f"actions.{name} ({type(term).__name__}) declares no actuator targets "
                "(ActionTerm.actuator_targets or binary_targets); export handles actions that map to actuators"
            )
        sl = env.action_manager.slices[name]
        size = sl.stop - sl.start
        if targets is not None:
            ids = [int(i) for i in targets.actuator_ids.tolist()]
            kinds += [targets.control] * len(ids)
            scale += targets.scale.tolist()
            offset += targets.offset.tolist()
            binary += [None] * len(ids)
            clip = (float(targets.clip[0]), float(targets.clip[1])) if targets.clip is not None else None
            clips.add(clip)
            joint_clips += [clip] * len(ids)
        else:
            assert two_state is not None
            ids = [int(i) for i in two_state.actuator_ids.tolist()]
            if len(ids) != size:
                raise ValueError(
                    f"actions.{name} ({type(term).__name__}) drives {len(ids)} actuators with {size} action "
                    "values; export maps each action value to one actuator (couple the fingers in the model "
                    "with an equality, and drive one)"
                )
            close, open_ = two_state.close.tolist(), two_state.open.tolist()
            kinds += [two_state.control] * len(ids)
            # Scale 0 and offset ``open``: a runtime that predates ``action_binary`` holds the gripper
            # open (the safe state) instead of driving it from the action's value.
            scale += [0.0] * len(ids)
            offset += open_
            joint_clips += [None] * len(ids)  # A two-state term reads the raw action.
            binary += [
                {"threshold": float(two_state.threshold), "close": float(c), "open": float(o)}
                for c, o in zip(close, open_, strict=True)
            ]
        joints = [
            index.names["joint"][j]
            for j in index.actuator_joint_ids([index.names["actuator"][i] for i in ids])
        ]
        terms.append({"name": name, "type": type(term).__name__, "start": sl.start, "size": size})
        joint_names += joints
        actuator_ids += ids
    # One clip for every affine term is ``action_clip``; terms that clip differently (an arm unclipped,
    # a hand's home-centred action clipped to [-1, 1]) write a clip per joint instead.
    per_joint_clip = len(clips) > 1
    joint_id = {n: i for i, n in enumerate(index.names["joint"])}
    qadr = env.mj_model.jnt_qposadr[[joint_id[j] for j in joint_names]]
    default = env.sim.init_qpos[torch.as_tensor(qadr, dtype=torch.long, device=env.device)]
    return {
        "joint_names": joint_names,
        "default_joint_pos": default.tolist(),
        "action_scale": scale,
        "action_offset": offset,
        "action_clip": clips.pop() if clips and not per_joint_clip else None,
        **(
            {"action_clip_per_joint": [None if c is None else list(c) for c in joint_clips]}
            if per_joint_clip
            else {}
        ),
        # Written only where a term is two-state: a file of affine actions keeps its old key set.
        **({"action_binary": binary} if any(b is not None for b in binary) else {}),
        "action_terms": terms,
        "action_kind": kinds,
        **_actuator_facts(env, actuator_ids, kinds),
    }


def _observation_metadata(env) -> list[dict[str, Any]]:
    manager = env.observation_manager
    sizes = manager.term_dims["policy"]
    terms = []
    # The exporter reads the manager's resolved terms: the config as the env really ran it. What a
    # term means on the robot comes from its declaration (``warplab.term_export``).
    for bound in manager.group_terms("policy"):
        name, tcfg = bound.name, bound.cfg
        declaration = declared(tcfg.func)
        export = declaration if isinstance(declaration, ObservationExport) else None
        params: dict[str, Any] = {}
        if "joints" in tcfg.params or (export is not None and export.joints):
            ids = env.index.ids("joint", tcfg.params.get("joints"))
            params["joints"] = [env.index.names["joint"][i] for i in ids]
            if export is not None and export.relative_to_default:
                qadr = torch.as_tensor(env.mj_model.jnt_qposadr[ids], dtype=torch.long, device=env.device)
                params["default_joint_pos"] = env.sim.init_qpos[qadr].tolist()
            if export is not None and export.joint_ranges:
                params["joint_range"] = env.mj_model.jnt_range[ids].tolist()
        if "command_name" in tcfg.params:
            params["command_name"] = tcfg.params["command_name"]
        if export is not None and export.extra is not None:
            params.update(export.extra(tcfg.params))
        if export is not None and export.facts is not None:
            try:
                params.update(export.facts(env, tcfg.params))
            except ValueError as error:
                raise ValueError(f"observation term {name!r} cannot be exported: {error}") from error
        if export is not None and export.elements is not None:
            params.update(_element_params(env, *export.elements, tcfg.params.get(export.elements[1])))
        terms.append(
            {
                "name": name,
                # The term's name, written for people reading the file; nothing matches on it.
                "func": getattr(tcfg.func, "__name__", type(tcfg.func).__name__),
                "signal": None if export is None else export.signal,
                "size": int(sizes[name]),
                "scale": _jsonable(tcfg.scale),
                "clip": _jsonable(tcfg.clip),
                "history_length": int(manager.history_length("policy", tcfg)),
                "params": _jsonable(params),
            }
        )
    return terms


def _element_params(env, kind: str, param: str, names: Any) -> dict[str, Any]:
    """``{param: [names]}`` of the model elements of ``kind`` a term reads, in the model's order (the
    order the term reads them), plus ``sensor_dims`` (values per sensor) for sensors."""
    ids = env.index.ids(kind, names)
    out: dict[str, Any] = {param: [env.index.names[kind][i] for i in ids]}
    if kind == "sensor":
        out["sensor_dims"] = [int(env.mj_model.sensor_dim[i]) for i in ids]
    return out


def _object_frame_metadata(env, terms: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The frame a robot gives object signals in: the one frame the policy's object and fingertip
    terms name (a palm), with its pose in the world at the start of an episode, whether it is fixed
    to the world, and ``pose_signal``: for a frame that moves (a palm on a wrist) while some terms
    relate it to the world, the signal of its current pose a robot gives at run time and the terms
    that read it, from their declarations (``ObservationExport.frame_pose``); None where no signal
    is needed (a fixed frame's pose is the one written here). None when no term names a frame: the
    signals are then in the world frame.

    Raises:
      ValueError: the terms name more than one frame (a robot gives its object signals in one).
    """
    import mujoco

    from warplab.deploy.object_signals import frame_pose_signal

    frames = {json.dumps(t["params"]["frame"]) for t in terms if (t["params"] or {}).get("frame")}
    if not frames:
        return None
    if len(frames) > 1:
        raise ValueError(
            f"the policy's object terms read the object in frames {sorted(frames)}; export needs one frame "
            "for all of them (the world frame aside)"
        )
    frame = json.loads(frames.pop())
    m = env.mj_model
    d = mujoco.MjData(m)
    d.qpos[:] = env.sim.init_qpos.detach().cpu().numpy()
    mujoco.mj_forward(m, d)
    if "body" in frame:
        body = m.body(frame["body"]).id
        pos, quat = d.xpos[body], d.xquat[body]
    else:
        site = m.site(frame["site"]).id
        body = int(m.site_bodyid[site])
        pos, quat = d.site_xpos[site], np.zeros(4)
        mujoco.mju_mulQuat(quat, d.xquat[body], m.site_quat[site])
    # A body welded to the world (the mount of a fixed hand) keeps this pose.
    fixed = int(m.body_weldid[body]) == 0
    readers = []
    for bound in env.observation_manager.group_terms("policy"):
        declaration = declared(bound.cfg.func)
        if isinstance(declaration, ObservationExport) and declaration.frame_pose is not None:
            if declaration.frame_pose(bound.cfg.params):
                readers.append(bound.name)
    return {
        **frame,
        "pos_w": [float(v) for v in pos],
        "quat_w": [float(v) for v in quat],
        "fixed": fixed,
        "pose_signal": frame_pose_signal(readers) if readers and not fixed else None,
    }


def _command_metadata(env) -> dict[str, Any]:
    out = {}
    for name in env.cfg.commands:
        term = env.command_manager.term(name)
        dim = int(term.command.shape[1])
        ranges = term.ranges
        # The column names the generator declares (``CommandTerm.components``), else numbered ones.
        components = (
            list(term.components) if term.components is not None else [f"{name}_{i}" for i in range(dim)]
        )
        out[name] = {
            "type": type(term).__name__,
            "size": dim,
            "components": components,
            "ranges": _jsonable(ranges) if ranges is not None and len(ranges) == dim else None,
        }
        params = term.export_params()
        if params is not None:
            out[name]["params"] = _jsonable(params)
    return out


def _scene_metadata(env) -> dict[str, Any]:
    """The scene the policy was trained in, for sim-to-sim on MuJoCo's C engine.

    ``base_body`` is the robot's floating base and ``fixed_base`` says there is none (a hand or an
    arm fixed to the world: a robot then reads no gyro or gravity off a base, and nothing pushes it).
    ``xml`` is the task's scene as MJCF (``MjSpec.to_xml``) when it compiles on its own to a model of
    the same sizes; a scene that reads files (meshes, textures) or generated data does not, and gets
    None: ``warplab sim2sim`` then builds it from the task registry.
    """
    import mujoco

    m = env.mj_model
    root = env.index.robot_root_joint
    xml = None
    try:
        spec = env.cfg.scene()
        if isinstance(spec, mujoco.MjSpec):
            spec.option.timestep = m.opt.timestep
            spec.compile()
            xml = spec.to_xml()
            again = mujoco.MjModel.from_xml_string(xml)
            if (again.nq, again.nv, again.nu, again.nbody) != (m.nq, m.nv, m.nu, m.nbody):
                xml = None
    except Exception:  # noqa: BLE001 - an unembeddable scene is normal (files, generated terrain).
        xml = None
    keyframe = getattr(env.cfg, "init_keyframe", None)
    return {
        "xml": xml,
        "physics_dt": float(m.opt.timestep),
        # The robot's own floating base (``SceneIndex.robot_root_joint``: the free joint of the body
        # the actuated joints hang from), never another free body of the scene (a cube in a hand).
        "base_body": None if root is None else m.body(int(m.jnt_bodyid[root])).name,
        "fixed_base": root is None,
        "init_keyframe": keyframe if isinstance(keyframe, str) else None,
    }


def _fall_metadata(env) -> dict[str, Any]:
    """The task's fall terminations (a dropped object's included), as thresholds a robot or sim-to-sim
    check can apply."""
    from warplab.deploy.sim2sim_model import fall_thresholds

    return fall_thresholds(env.cfg.terminations, env.index.names["joint"])


def _success_cap_metadata(env) -> dict[str, Any] | None:
    from warplab.deploy.sim2sim_model import success_cap

    return success_cap(env.cfg.terminations)


def policy_metadata(env, task: str) -> dict[str, Any]:
    """The deployment facts of ``env`` (a built ``RlEnv``) as a ``{key: JSON-able value}`` dict.

    Raises:
      PolicyError: the facts fail the checks ``warplab.deploy.Policy`` makes when it loads a file
        (a NaN in the default pose, say): no file is written that a robot would refuse.
    """
    import warplab
    from warplab.deploy.policy_checks import check_metadata

    observation_terms = _observation_metadata(env)
    metadata = {
        "metadata_format": METADATA_FORMAT,
        "task": task,
        "warplab_version": warplab.__version__,
        "policy_dt": float(env.policy_dt),
        **_action_metadata(env),
        "action_size": int(env.action_dim),
        "observation_size": int(sum(t["size"] for t in observation_terms)),
        "observation_terms": observation_terms,
        "object_frame": _object_frame_metadata(env, observation_terms),
        "commands": _command_metadata(env),
        "scene": _scene_metadata(env),
        "fall": _fall_metadata(env),
        "success_cap": _success_cap_metadata(env),
    }
    check_metadata(json.loads(json.dumps(_jsonable(metadata))), f"exported from task {task!r}")
    return metadata


def export_onnx(model: nn.Module, obs_dim: int, out: str | Path, metadata: dict[str, Any]) -> Path:
    """Write ``model``'s actor and normalizer to ``out`` as ONNX, with ``metadata`` as JSON props.

    The graph and its metadata are assembled in memory and written in one piece through
    `warplab.atomic_files`: a process killed during an export leaves the previous ``out`` (or
    none), never an empty file or a graph without its metadata.

    Args:
      model: an ``ActorCritic`` or ``OffPolicyActorCritic``: its ``inference_actor()`` is exported
        (the critics are left out).
      obs_dim: size of the flattened ``policy`` observation.
      out: the ``.onnx`` file to write (folders are created).
      metadata: ``{key: JSON-able value}``; each value is stored as ``json.dumps(value)``.

    Raises:
      CheckpointError: the model's weights or normalizers hold NaN or inf; nothing is written.
    """
    import onnx

    out = Path(out)
    bad = nonfinite_weights({"model": model.state_dict()})
    if bad:
        raise CheckpointError(
            f"refusing to export {out}: {describe_nonfinite(bad)}; a policy with these weights would "
            f"send NaN to the robot. Export an earlier checkpoint"
        )
    # A copy: the model may be training on a GPU, and must stay there and in training mode.
    actor = copy.deepcopy(_inference_actor(model)).to("cpu").eval()
    example = torch.zeros(1, obs_dim, dtype=torch.float32)
    graph = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            actor,
            (example,),
            # torch annotates f as a path only, but the TorchScript exporter (dynamo=False) writes
            # to a binary file object too: the graph stays in memory until it is written atomically.
            graph,  # type: ignore[arg-type]
            input_names=["obs"],
            output_names=["actions"],
            dynamic_axes={"obs": {0: "batch"}, "actions": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    proto = onnx.load_from_string(graph.getvalue())
    del proto.metadata_props[:]
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(_jsonable(value))
    onnx.checker.check_model(proto)
    return atomic_write_bytes(out, proto.SerializeToString())


def export_checkpoint(checkpoint: str | Path, out: str | Path | None = None, task: str | None = None) -> Path:
    """Export a checkpoint written by ``warplab train`` to ONNX with its deployment metadata.

    The env of ``task`` (default: the task the checkpoint was trained on) is built with one world on
    the CPU in play mode, to read the joint order, gains, scales and terms from the real model and
    config, and checked against the checkpoint's observation and action sizes.

    Args:
      checkpoint: a ``model_<iteration>.pt``.
      out: the ONNX file (default: the checkpoint's path with the suffix ``.onnx``).
      task: registered task name, when the checkpoint does not say or should be overridden.

    Raises:
      CheckpointError: the checkpoint is missing or bad, names no task and none is given, or does
        not fit the task's env.
      FileWriteError: ``out`` is the checkpoint itself, or cannot be written.
    """
    from warplab.envs.rl_env import RlEnv
    from warplab.rl.inference import load_policy
    from warplab.tasks import make_env_cfg

    checkpoint = Path(checkpoint)
    policy, trained_on = load_policy(checkpoint, device="cpu")
    out = Path(out) if out is not None else checkpoint.with_suffix(".onnx")
    check_not_an_input(out, {"checkpoint": checkpoint})
    task = task or trained_on
    if task is None:
        raise CheckpointError(
            f"checkpoint {checkpoint} does not say which task it was trained on: pass --task"
        )
    env_cfg = make_env_cfg(task, play=True)
    env_cfg.num_envs, env_cfg.device = 1, "cpu"
    env = RlEnv(env_cfg)
    policy.check_compatible(env.observation_shapes, env.action_dim, checkpoint)
    if len(env.observation_shapes["policy"]) != 1:
        raise CheckpointError(
            f"task {task!r}: the policy observation has shape {list(env.observation_shapes['policy'])}; "
            "export handles flat observation vectors only"
        )
    metadata = {**policy_metadata(env, task), **policy_output_metadata(policy.model)}
    return export_onnx(policy.model, env.observation_shapes["policy"][0], out, metadata)


def checkpoint_exporter(env, task: str):
    """An ``exporter(model, out)`` for ``OnPolicyRunner`` and ``OffPolicyRunner``: writes ``model``'s
    actor to ``out`` with the deployment metadata of ``env`` (the training env; read once, at the
    first export).

    The metadata comes from the env the policy trains in, not one built again: no second model
    compile, no change of the training run's random draws.
    """
    cache: dict[str, Any] = {}

    def export(model: nn.Module, out: Path) -> Path:
        shape = env.observation_shapes["policy"]
        if len(shape) != 1:
            raise CheckpointError(
                f"task {task!r}: the policy observation has shape {list(shape)}; "
                "export handles flat observation vectors only"
            )
        if "metadata" not in cache:
            cache["metadata"] = policy_metadata(env, task)
        metadata = {**cache["metadata"], **policy_output_metadata(model)}
        return export_onnx(model, int(shape[0]), out, metadata)

    return export
