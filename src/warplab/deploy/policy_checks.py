"""Checks that an exported policy's metadata agrees with itself and with its ONNX graph.

``warplab.deploy.Policy`` runs them when it loads a file, so that a robot never receives a
mis-sized action: every list that describes joints has ``action_size`` entries, the observation
terms add up to ``observation_size``, the graph takes ``[batch, observation_size]`` float32 and
gives ``[batch, action_size]`` float32, and no number anywhere in the metadata is NaN or infinite.
Each failure is one ``PolicyError`` naming the file, the key and what would be right.
numpy only (no torch, Warp or MuJoCo).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from warplab._values import is_int as _is_int
from warplab._values import is_number as _is_number
from warplab.deploy.object_signals import FRAME_POSE_SIGNAL, SIGNAL_SIZES, reads_frame_pose

METADATA_FORMAT = 1
"""The metadata layout this runtime reads (``warplab.deploy.export.METADATA_FORMAT``)."""

REQUIRED_KEYS = (
    "metadata_format",
    "task",
    "policy_dt",
    "joint_names",
    "default_joint_pos",
    "action_scale",
    "action_offset",
    "action_size",
    "observation_size",
    "observation_terms",
    "commands",
)

ACTION_KINDS = ("position", "effort")
"""What a joint's target is: a position for a servo (rad or m) or an effort for a motor (the
actuator's control unit; ``effort_per_target`` converts it to N·m or N)."""

# The signal each observation term reads, and the size of one step of it where that is fixed.
_FIXED_SIGNAL_SIZES = {"base_ang_vel": 3, "projected_gravity": 3, **SIGNAL_SIZES}
_JOINT_SIGNALS = (
    "joint_pos",
    "joint_vel",
    "joint_pos_rel",
    "joint_pos_normalized",
    "object_joint_pos",
    "object_joint_vel",
)


class PolicyError(ValueError):
    """A policy file is unusable here: metadata missing, or it does not match the robot or signals."""


@dataclass(frozen=True)
class GraphIO:
    """The graph's one input and one output, as checked against the metadata."""

    input_name: str
    output_name: str
    fixed_batch: int | None
    """The batch size the graph was exported with when it is not dynamic (always 1), else None."""


def non_finite_paths(value: Any, path: str) -> list[str]:
    """Where ``value`` (decoded JSON) holds NaN or an infinity, as ``key[3].field`` paths."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{path} = {value}"]
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in non_finite_paths(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in non_finite_paths(v, f"{path}[{i}]")]
    return []


class _Checker:
    """The metadata checks of one file; ``fail`` raises the one-line error."""

    def __init__(self, m: Mapping[str, Any], source: str):
        self.m, self.source = m, source

    def fail(self, message: str) -> NoReturn:
        raise PolicyError(f"policy {self.source}: {message}")

    def integer(self, key: str, minimum: int) -> int:
        value = self.m[key]
        if not _is_int(value) or value < minimum:
            self.fail(f"metadata {key} is {value!r}; it must be an integer >= {minimum}")
        return value

    def per_joint(self, key: str, n: int, *, required: bool, check, rule: str) -> None:
        """``m[key]`` is a list of ``n`` entries (action order), each passing ``check``; an optional key
        may be absent or null, and so may each of its entries."""
        values = self.m.get(key)
        if values is None and not required:
            return
        if not isinstance(values, list) or len(values) != n:
            size = f"{len(values)} entries" if isinstance(values, list) else f"a {type(values).__name__}"
            self.fail(f"metadata {key} has {size}; it needs one per joint: action_size is {n}")
        for i, value in enumerate(values):
            if value is None and not required:
                continue
            if not check(value):
                null = "" if required else " or null"
                self.fail(f"metadata {key}[{i}] is {value!r}; it must be {rule}{null}")

    def pair(self, value: Any, where: str) -> tuple[float, float]:
        """A ``[low, high]`` of numbers with low <= high."""
        if not _is_pair(value):
            self.fail(f"metadata {where} is {value!r}; it must be [low, high] with low <= high")
        return float(value[0]), float(value[1])


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, list) and len(value) == 2 and all(map(_is_number, value)) and value[0] <= value[1]
    )


def check_metadata(m: Mapping[str, Any], source: str) -> None:
    """Raise ``PolicyError`` at the first metadata value that is missing, of the wrong kind or size,
    not finite, or that disagrees with another (sizes, joints, terms, commands)."""
    c = _Checker(m, source)
    if not m:
        c.fail("the file carries no warplab metadata; export it with `warplab export`")
    missing = [k for k in REQUIRED_KEYS if k not in m]
    if missing:
        c.fail(f"metadata lacks {missing}; export it with `warplab export` (it has {sorted(m)})")
    if m["metadata_format"] != METADATA_FORMAT or not _is_int(m["metadata_format"]):
        c.fail(f"metadata_format is {m['metadata_format']!r}; this runtime reads {METADATA_FORMAT}")
    bad = [p for k, v in m.items() for p in non_finite_paths(v, k)]
    if bad:
        c.fail(
            f"metadata holds values that are not finite: {', '.join(bad[:5])}; every number must be finite"
        )
    if not isinstance(m["task"], str):
        c.fail(f"metadata task is {m['task']!r}; it must be the task's name (a string)")
    if not _is_number(m["policy_dt"]) or m["policy_dt"] <= 0:
        c.fail(f"metadata policy_dt is {m['policy_dt']!r}; it must be a time step > 0 s")
    n = c.integer("action_size", 1)
    _check_joints(c, n)
    _check_actions(c, n)
    commands = _check_commands(c)
    size = c.integer("observation_size", 1)
    terms = m["observation_terms"]
    if not isinstance(terms, list) or not terms:
        c.fail(f"metadata observation_terms is {terms!r}; it must be a non-empty list of terms")
    names = set()
    for i, term in enumerate(terms):
        _check_term(c, i, term, n, commands)
        if term["name"] in names:
            c.fail(f"metadata observation_terms has two terms named {term['name']!r}; names must be unique")
        names.add(term["name"])
    total = sum(int(t["size"]) for t in terms)
    if total != size:
        sizes = " + ".join(f"{t['name']} {t['size']}" for t in terms)
        c.fail(f"observation terms add up to {total} values ({sizes}), observation_size is {size}")
    _check_object_terms(c, m["commands"])
    _check_optional_sections(c)


def _check_joints(c: _Checker, n: int) -> None:
    names = c.m["joint_names"]
    c.per_joint(
        "joint_names", n, required=True, check=lambda v: isinstance(v, str) and v, rule="a joint name"
    )
    if len(set(names)) != len(names):
        twice = sorted({j for j in names if names.count(j) > 1})
        c.fail(f"metadata joint_names names {twice} more than once; each joint is driven by one action")
    for key in ("default_joint_pos", "action_scale", "action_offset"):
        c.per_joint(key, n, required=True, check=_is_number, rule="a number")
    # Optional per-joint facts: null where they do not apply (a motor has no kp, say).
    optional = {
        "kp": (lambda v: _is_number(v) and v >= 0, "a stiffness >= 0"),
        "kd": (lambda v: _is_number(v) and v >= 0, "a damping >= 0"),
        "effort_limit": (lambda v: _is_number(v) and v > 0, "a limit > 0"),
        "target_range": (_is_pair, "[low, high] with low <= high"),
        "action_kind": (lambda v: v in ACTION_KINDS, f"one of {list(ACTION_KINDS)}"),
        "effort_per_target": (lambda v: _is_number(v) and v != 0, "a non-zero number"),
    }
    for key, (check, rule) in optional.items():
        c.per_joint(key, n, required=False, check=check, rule=rule)


def _check_actions(c: _Checker, n: int) -> None:
    clip = c.m.get("action_clip")
    if clip is not None:
        c.pair(clip, "action_clip")
    c.per_joint(
        "action_clip_per_joint", n, required=False, check=_is_pair, rule="[low, high] with low <= high"
    )
    if clip is not None and c.m.get("action_clip_per_joint") is not None:
        c.fail("metadata has both action_clip and action_clip_per_joint; give one (the other null or absent)")
    binary = c.m.get("action_binary")
    if binary is not None:
        if not isinstance(binary, list) or len(binary) != n:
            c.fail(
                f"metadata action_binary is {binary!r}; it must be a list of {n} entries (action_size), "
                "each null or {threshold, close, open}"
            )
        for i, entry in enumerate(binary):
            if entry is None:
                continue
            keys = ("threshold", "close", "open")
            if not (isinstance(entry, Mapping) and all(_is_number(entry.get(k)) for k in keys)):
                c.fail(
                    f"metadata action_binary[{i}] ({c.m['joint_names'][i]!r}) is {entry!r}; it must be null or "
                    "{threshold, close, open} numbers"
                )
    terms = c.m.get("action_terms")
    if terms is None:
        return
    if not isinstance(terms, list):
        c.fail(f"metadata action_terms is {terms!r}; it must be a list of {{name, type, start, size}}")
    start = 0
    for i, term in enumerate(terms):
        if not (isinstance(term, Mapping) and _is_int(term.get("start")) and _is_int(term.get("size"))):
            c.fail(f"metadata action_terms[{i}] is {term!r}; it must be {{name, type, start, size}}")
        if term["start"] != start or term["size"] < 1:
            c.fail(
                f"metadata action_terms[{i}] ({term.get('name')!r}) covers actions {term['start']}.."
                f"{term['start'] + term['size'] - 1}; the terms must cover 0..{n - 1} in order, this one from {start}"
            )
        start += term["size"]
    if start != n:
        c.fail(f"metadata action_terms cover {start} actions, action_size is {n}")


def _check_commands(c: _Checker) -> dict[str, int]:
    commands = c.m["commands"]
    if not isinstance(commands, Mapping):
        c.fail(
            f"metadata commands is {commands!r}; it must map command names to {{type, size, components, ranges}}"
        )
    sizes = {}
    for name, command in commands.items():
        if not isinstance(command, Mapping) or not _is_int(command.get("size")) or command["size"] < 1:
            c.fail(f"metadata commands[{name!r}] is {command!r}; it needs a size >= 1")
        size = command["size"]
        for key in ("components", "ranges"):
            value = command.get(key)
            if value is not None and (not isinstance(value, list) or len(value) != size):
                c.fail(
                    f"metadata commands[{name!r}].{key} is {value!r}; it needs {size} entries (the command's size)"
                )
        for i, r in enumerate(command.get("ranges") or []):
            c.pair(r, f"commands[{name!r}].ranges[{i}]")
        sizes[name] = size
    return sizes


def _check_term(c: _Checker, i: int, term: Any, n: int, commands: dict[str, int]) -> None:
    if not isinstance(term, Mapping) or not isinstance(term.get("name"), str):
        c.fail(f"metadata observation_terms[{i}] is {term!r}; each term needs a name, size, scale and params")
    where = f"observation term {term['name']!r}"
    size, length = term.get("size"), term.get("history_length") or 0
    if not _is_int(size) or size < 1:
        c.fail(f"metadata {where} has size {size!r}; it must be an integer >= 1")
    if not _is_int(length) or length < 0 or size % max(length, 1):
        c.fail(
            f"metadata {where} has history_length {length!r}; it must be an integer >= 0 that divides size {size}"
        )
    step = size // max(length, 1)
    if not _is_number(term.get("scale")):
        c.fail(f"metadata {where} has scale {term.get('scale')!r}; it must be a number")
    if term.get("clip") is not None:
        c.pair(term["clip"], f"{where} clip")
    params = term.get("params") or {}
    if not isinstance(params, Mapping):
        c.fail(f"metadata {where} has params {params!r}; it must be a dict")
    signal = term.get("signal")

    def needs(count: int, what: str) -> None:
        if step != count:
            c.fail(f"metadata {where} has {step} values per step, but its {what} gives {count}")

    if signal in _FIXED_SIGNAL_SIZES:
        needs(_FIXED_SIGNAL_SIZES[signal], f"signal {signal!r}")
    elif signal == "last_action":
        needs(n, "signal 'last_action' (action_size)")
    elif signal in _JOINT_SIGNALS:
        joints = params.get("joints")
        if not isinstance(joints, list) or not all(isinstance(j, str) for j in joints):
            c.fail(f"metadata {where} has params.joints {joints!r}; it must list the joints it reads")
        needs(len(joints), f"params.joints ({len(joints)} joints)")
        if signal == "joint_pos_rel":
            default = params.get("default_joint_pos")
            if (
                not isinstance(default, list)
                or len(default) != len(joints)
                or not all(map(_is_number, default))
            ):
                c.fail(
                    f"metadata {where} has params.default_joint_pos {default!r}; it needs one number per joint"
                )
        if signal == "joint_pos_normalized":
            ranges = params.get("joint_range")
            if (
                not isinstance(ranges, list)
                or len(ranges) != len(joints)
                or not all(_is_vector(r, 2) and r[1] > r[0] for r in ranges)
            ):
                c.fail(
                    f"metadata {where} has params.joint_range {ranges!r}; it needs [low, high] with low < high "
                    "per joint"
                )
    elif signal == "command":
        name = params.get("command_name")
        if name not in commands:
            c.fail(
                f"metadata {where} reads the command {name!r}, which metadata commands lacks ({sorted(commands)})"
            )
        part = params.get("command_slice")
        if part is None:
            needs(commands[name], f"command {name!r}")
        elif not (isinstance(part, list) and len(part) == 2 and all(map(_is_int, part))) or not (
            0 <= part[0] < part[1] <= commands[name]
        ):
            c.fail(
                f"metadata {where} has params.command_slice {part!r}; it must be [start, stop] within the "
                f"command's {commands[name]} values"
            )
        else:
            needs(part[1] - part[0], f"params.command_slice {part}")
    elif signal in ("fingertip_pos", "touch"):
        key = "sites" if signal == "fingertip_pos" else "sensors"
        names = params.get(key)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            c.fail(f"metadata {where} has params.{key} {names!r}; it must list the names it reads")
        dims = [3] * len(names) if signal == "fingertip_pos" else params.get("sensor_dims")
        if (
            not isinstance(dims, list)
            or len(dims) != len(names)
            or not all(_is_int(d) and d > 0 for d in dims)
        ):
            c.fail(f"metadata {where} has params.sensor_dims {dims!r}; it needs one size >= 1 per sensor")
        needs(sum(dims), f"params.{key} ({len(names)} of them)")
    elif signal == "object_shape":
        if not isinstance(params.get("object"), str):
            c.fail(f"metadata {where} has params.object {params.get('object')!r}; it must name the object")
    elif signal == "height_scan":
        grid = params.get("grid_xy")
        if not isinstance(grid, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(map(_is_number, p)) for p in grid
        ):
            c.fail(f"metadata {where} has params.grid_xy {grid!r}; it must list [x, y] points")
        needs(len(grid), f"params.grid_xy ({len(grid)} points)")
        c.pair(params.get("clip"), f"{where} params.clip")


def _check_object_terms(c: _Checker, commands: Mapping[str, Any]) -> None:
    """Object terms name an object, and a frame that is the policy's ``object_frame``; goal terms read
    a goal that names its object; where that frame moves, the terms that relate it to the world are
    the ones ``object_frame.pose_signal`` lists (they read the frame's pose at run time)."""
    frame = c.m.get("object_frame")
    if frame is not None:
        ok = isinstance(frame, Mapping) and (
            isinstance(frame.get("body"), str) or isinstance(frame.get("site"), str)
        )
        pose = ok and _is_vector(frame.get("pos_w"), 3) and _is_vector(frame.get("quat_w"), 4)
        if not pose or not any(frame["quat_w"]):
            c.fail(
                f"metadata object_frame is {frame!r}; it must be {{body or site, pos_w [3], quat_w [4], fixed, "
                "pose_signal}} or null"
            )
    own = None if frame is None else {k: frame[k] for k in ("body", "site") if k in frame}
    for term in c.m["observation_terms"]:
        signal, params = term.get("signal"), term.get("params") or {}
        where = f"observation term {term['name']!r}"
        if signal == "goal_quat_in_frame":
            if str(params.get("command_name")) not in commands:
                c.fail(
                    f"metadata {where} reads the goal {params.get('command_name')!r}, which metadata commands "
                    f"lacks ({sorted(commands)})"
                )
        elif signal in ("goal_quat_diff", "goal_orientation_error"):
            goal = commands.get(str(params.get("command_name"))) or {}
            if not isinstance((goal.get("params") or {}).get("object"), str):
                c.fail(
                    f"metadata {where} reads the goal {params.get('command_name')!r}, whose command names no "
                    "object (commands[...].params.object)"
                )
            continue
        elif signal in (
            "object_pos",
            "object_quat",
            "object_lin_vel",
            "object_ang_vel",
            "object_goal_offset",
        ):
            if not isinstance(params.get("object"), str):
                c.fail(
                    f"metadata {where} has params.object {params.get('object')!r}; it must name the object"
                )
            geoms = params.get("geoms")
            if signal == "object_goal_offset" and (
                str(params.get("command_name")) not in commands
                or not isinstance(geoms, list)
                or not geoms
                or not all(
                    isinstance(g, Mapping) and {"type", "pos", "quat", "size"} <= set(g) for g in geoms
                )
            ):
                c.fail(
                    f"metadata {where} needs params.command_name (one of {sorted(commands)}) and params.geoms "
                    "(a list of {type, pos, quat, size})"
                )
        elif signal == "site_offset":
            sites = (params.get("from_site"), params.get("to_site"))
            if not all(isinstance(v, str) for v in sites):
                c.fail(
                    f"metadata {where} has params.from_site, to_site {sites!r}; they must name the two sites"
                )
            if params.get("frame") is None:
                c.fail(f"metadata {where} names no frame; a site offset is read in the policy's object_frame")
        elif signal != "fingertip_pos":
            continue
        term_frame = params.get("frame")
        if term_frame is not None and term_frame != own:
            c.fail(
                f"metadata {where} reads in the frame {term_frame!r}, but object signals are given in "
                f"object_frame {own!r}"
            )
    if frame is not None and own is not None:
        _check_frame_pose(c, frame, own)


def _check_frame_pose(c: _Checker, frame: Mapping[str, Any], own: Mapping[str, Any]) -> None:
    """``object_frame.fixed`` and ``pose_signal``: a frame fixed to the world needs no signal (its pose
    is ``pos_w``/``quat_w``); a moving one lists exactly the terms that read its pose."""
    fixed, pose_signal = frame.get("fixed"), frame.get("pose_signal")
    if fixed is not None and not isinstance(fixed, bool):
        c.fail(f"metadata object_frame.fixed is {fixed!r}; it must be true, false or null")
    needed = [t["name"] for t in c.m["observation_terms"] if reads_frame_pose(t)]
    if fixed:
        if pose_signal is not None:
            c.fail(
                f"metadata object_frame {own!r} is fixed to the world and has a pose_signal; a fixed frame's "
                "pose is its pos_w and quat_w (pose_signal must be null)"
            )
        return
    if pose_signal is None:
        if needed:
            c.fail(
                f"metadata observation terms {needed} relate object_frame {own!r} to the world, and that frame "
                f"is not fixed to the world, but object_frame.pose_signal is null: the runtime needs the frame's "
                f"pose ({FRAME_POSE_SIGNAL!r}); export the policy again with `warplab export`"
            )
        return
    if (
        not isinstance(pose_signal, Mapping)
        or pose_signal.get("name") != FRAME_POSE_SIGNAL
        or pose_signal.get("size") != 7
        or not isinstance(pose_signal.get("terms"), list)
    ):
        c.fail(
            f"metadata object_frame.pose_signal is {pose_signal!r}; it must be {{name: {FRAME_POSE_SIGNAL!r}, "
            "size: 7, frame, components, units, terms}} or null"
        )
    if sorted(map(str, pose_signal["terms"])) != sorted(needed):
        c.fail(
            f"metadata object_frame.pose_signal.terms is {pose_signal['terms']!r}; the terms that read the "
            f"frame's pose are {needed}"
        )


def _is_vector(value: Any, n: int) -> bool:
    return isinstance(value, list) and len(value) == n and all(map(_is_number, value))


def _check_optional_sections(c: _Checker) -> None:
    scene = c.m.get("scene")
    if scene is not None:
        if not isinstance(scene, Mapping):
            c.fail(
                f"metadata scene is {scene!r}; it must be {{xml, physics_dt, base_body, fixed_base, init_keyframe}} or null"
            )
        dt = scene.get("physics_dt")
        if dt is not None and (not _is_number(dt) or dt <= 0):
            c.fail(f"metadata scene.physics_dt is {dt!r}; it must be a time step > 0 s or null")
        for key in ("xml", "base_body", "init_keyframe"):
            if scene.get(key) is not None and not isinstance(scene[key], str):
                c.fail(f"metadata scene.{key} is {scene[key]!r}; it must be a string or null")
        fixed = scene.get("fixed_base")
        if fixed is not None and not isinstance(fixed, bool):
            c.fail(f"metadata scene.fixed_base is {fixed!r}; it must be true, false or null")
        if fixed is True and scene.get("base_body") is not None:
            c.fail(
                f"metadata scene says fixed_base and names base_body {scene['base_body']!r}; a robot fixed to "
                "the world has no floating base"
            )
    fall = c.m.get("fall")
    if fall is not None:
        if not isinstance(fall, Mapping):
            c.fail(
                f"metadata fall is {fall!r}; it must be {{min_base_height, max_tilt_rad, joint_ranges}} or null"
            )
        height, tilt = fall.get("min_base_height"), fall.get("max_tilt_rad")
        if height is not None and not _is_number(height):
            c.fail(f"metadata fall.min_base_height is {height!r}; it must be a height in m or null")
        if tilt is not None and (not _is_number(tilt) or not 0 < tilt <= math.pi):
            c.fail(f"metadata fall.max_tilt_rad is {tilt!r}; it must be an angle in (0, pi] rad or null")
        ranges = fall.get("joint_ranges") or {}
        if not isinstance(ranges, Mapping):
            c.fail(f"metadata fall.joint_ranges is {ranges!r}; it must map joint names to [low, high]")
        for joint, r in ranges.items():
            c.pair(r, f"fall.joint_ranges[{joint!r}]")


def check_graph(session: Any, m: Mapping[str, Any], source: str) -> GraphIO:
    """Check the graph of ``session`` (an onnxruntime ``InferenceSession``) against the metadata.

    One float32 input ``[batch, observation_size]``, one float32 output ``[batch, action_size]``,
    ``batch`` dynamic or 1; then one run on a zero observation must give ``action_size`` finite
    values (this also settles sizes a graph leaves symbolic).
    """
    c = _Checker(m, source)
    obs_size, action_size = int(m["observation_size"]), int(m["action_size"])
    inputs, outputs = session.get_inputs(), session.get_outputs()
    for kind, args, want in (("inputs", inputs, "obs"), ("outputs", outputs, "actions")):
        if len(args) != 1:
            c.fail(
                f"the graph has {len(args)} {kind} ({[a.name for a in args]}); a warplab policy has one, "
                f"{want!r}; export it with `warplab export`"
            )
    batch = None
    for arg, size, key in (
        (inputs[0], obs_size, "observation_size"),
        (outputs[0], action_size, "action_size"),
    ):
        shape = list(arg.shape or [])
        what = f"the graph's {'input' if arg is inputs[0] else 'output'} {arg.name!r}"
        if arg.type != "tensor(float)":
            c.fail(f"{what} is {arg.type}; a warplab policy takes and gives tensor(float) (float32)")
        if len(shape) != 2:
            c.fail(f"{what} has shape {shape}; a warplab policy's is [batch, {key}]")
        if _is_int(shape[1]) and shape[1] != size:
            c.fail(
                f"metadata {key} is {size}, but {what} has {shape[1]} values per row (shape {shape}); "
                "the metadata does not belong to this graph: export the policy again with `warplab export`"
            )
        if _is_int(shape[0]):
            if shape[0] != 1:
                c.fail(
                    f"{what} has a fixed batch of {shape[0]} (shape {shape}); a robot runs one observation at a "
                    "time: export with a dynamic batch (`warplab export` does) or a batch of 1"
                )
            batch = 1
    try:
        (out,) = session.run([outputs[0].name], {inputs[0].name: np.zeros((1, obs_size), np.float32)})
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own classes.
        c.fail(f"the graph fails on a zero observation of shape [1, {obs_size}] ({_first_line(error)})")
    out = np.asarray(out)
    if out.shape != (1, action_size):
        c.fail(
            f"metadata action_size is {action_size}, but the graph gives actions of shape {list(out.shape)} for one "
            f"observation; the metadata does not belong to this graph: export the policy again with `warplab export`"
        )
    if not np.isfinite(out).all():
        c.fail(
            "the network gives non-finite actions for a zero observation (its weights hold NaN or inf); "
            "export an earlier checkpoint"
        )
    return GraphIO(inputs[0].name, outputs[0].name, batch)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
