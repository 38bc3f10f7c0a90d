"""Run an exported policy on a robot: onnxruntime and numpy only (no torch, Warp or MuJoCo).

``Policy.load("policy.onnx")`` reads the graph and its metadata and checks them against each other
(``policy_checks``); ``observation(signals)`` builds the observation vector from named robot signals
in the order and with the scales the env used (without the training noise); ``act(obs)`` returns
joint targets ``offset + scale * action`` in the robot's joint order (for a two-state joint, a
gripper named in ``action_binary``: ``close`` below its threshold, else ``open``). ``docs/deployment.md`` shows a
control loop.

Signals (a dict; units are SI, frames are the base's):

- ``joint_pos``: ``{joint name: position}``, rad or m (absolute, not relative to the default; a
  term of normalized positions maps them onto [-1, 1] with the joint ranges in its metadata);
- ``joint_vel``: ``{joint name: velocity}``, rad/s or m/s;
- ``object_joint_pos``, ``object_joint_vel``: ``{joint name: value}`` the joints of an articulated
  object the robot handles (a drawer's slide, m; a door's hinge, rad), from a tracker or an encoder
  on the object, rad or m and rad/s or m/s;
- ``base_ang_vel``: ``[3]`` angular velocity of the base in its own frame (the IMU gyro), rad/s;
- ``projected_gravity``: ``[3]`` unit gravity direction in the base frame ((0, 0, -1) upright);
- ``commands``: ``{command name: [size]}``, e.g. ``{"base_velocity": [vx, vy, wz]}``;
- ``last_action``: ``[action_size]`` the raw action the policy gave last (``Policy.last_action``);
- ``height_scan``: ``[n_rays]`` base height above the ground at the term's grid points
  (``params["grid_xy"]``, base heading frame, x fastest), m, from the robot's elevation map;
- ``object_pos``, ``object_quat``, ``object_lin_vel``, ``object_ang_vel``, ``fingertip_pos``,
  ``touch``: a manipulated object's state in the policy's ``object_frame`` (a palm), the fingertips
  and touch sensors (``object_signals`` says how each is given); a goal is a command;
- ``object_frame_pose``: ``[7]`` the pose of the policy's ``object_frame`` in the world, position (m)
  then orientation (w, x, y, z), for a policy whose object frame moves (a palm on a wrist: forward
  kinematics of the wrist joints); ``metadata["object_frame"]["pose_signal"]`` says when it is read;
- ``site_pos``: ``{site name: [3]}`` points relative to the object frame (a tool centre point, a
  handle's grasp point), m, for ``site_offset`` terms;
- ``object_shape``: ``[num_shapes]`` one-hot of the object's shape (columns in the order of the
  task's object shapes, the model's geom order), or ``{object name: [num_shapes]}``.

A term with a history (``history_length`` L > 0) stacks its last L values, oldest first, as the env
did: ``observation`` keeps them, so call it once per control tick; after ``reset`` the first call
fills the whole history with its value.

Nothing here ever returns NaN or infinity. A signal, observation or network output that is not
finite raises ``NonFiniteError`` (a ``PolicyError``) naming the terms and entries at fault, and
leaves the policy's state (``last_action``, the histories) as it was before the call: the robot's
safety layer decides what happens next (``docs/deployment.md``, "When a value is not finite").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from warplab.deploy.object_signals import MANIPULATION_SIGNALS, ObjectTerms
from warplab.deploy.policy_checks import (
    ACTION_KINDS,
    METADATA_FORMAT,
    REQUIRED_KEYS,
    GraphIO,
    PolicyError,
    check_graph,
    check_metadata,
)

__all__ = ["METADATA_FORMAT", "REQUIRED_KEYS", "SIGNALS", "NonFiniteError", "Policy", "PolicyError"]

SIGNALS = (
    "joint_pos",
    "joint_vel",
    "base_ang_vel",
    "projected_gravity",
    "commands",
    "last_action",
    "height_scan",
    "object_joint_pos",
    "object_joint_vel",
    *MANIPULATION_SIGNALS,
)

_TERM_KINDS = {
    "JointPositionAction": "position",
    "DelayedJointPositionAction": "position",
    "JointEffortAction": "effort",
}
"""The action kind of each env action term, for files written before ``action_kind`` was recorded."""


_OBJECT_TERM_SIGNALS = frozenset(
    (
        "object_pos",
        "object_quat",
        "object_lin_vel",
        "object_ang_vel",
        "fingertip_pos",
        "touch",
        "goal_quat_diff",
        "goal_orientation_error",
        "goal_quat_in_frame",
        "site_offset",
        "object_goal_offset",
    )
)
"""Signals of the terms ``object_signals.ObjectTerms`` computes."""


_JOINT_LABELLED = frozenset(
    (
        "joint_pos",
        "joint_vel",
        "joint_pos_rel",
        "joint_pos_normalized",
        "object_joint_pos",
        "object_joint_vel",
    )
)
"""Signals of terms with one value per joint of ``params["joints"]``."""


class NonFiniteError(PolicyError):
    """A signal, an observation or the network's output holds NaN or an infinity.

    Raised by ``observation``, ``actions``, ``targets`` and ``act`` before anything is returned; the
    policy's state (``last_action``, the observation histories) is left as it was.

    Attributes:
      where: the entries at fault, e.g. ``["joint_vel[hinge] = nan"]``.
    """

    def __init__(self, message: str, where: Sequence[str]):
        super().__init__(message)
        self.where = list(where)


class Policy:
    """An exported warplab policy.

    Attributes:
      metadata: every metadata key, JSON-decoded.
      joint_names: the actuated joints in action order.
      action_kind: per joint, ``"position"`` (targets are joint positions, rad or m, for a PD servo)
        or ``"effort"`` (targets are efforts in the actuator's control unit; times
        ``effort_per_target`` it is N·m or N); None for an action term this runtime does not know.
      default_joint_pos, action_scale, action_offset: ``[action_size]`` float32 arrays.
      action_binary: ``[action_size]`` bool, the joints whose target is two-state (a gripper):
        ``binary_close`` where the action is below ``binary_threshold``, else ``binary_open``
        (``[action_size]`` float32 each; metadata ``action_binary``, all False in files without it).
      policy_dt: time between two calls of ``act``, s.
      last_action: ``[action_size]`` the raw action of the latest ``act`` (zeros before the first).
    """

    def __init__(self, session: Any, metadata: Mapping[str, Any], source: str = "policy"):
        """Check ``metadata`` (and the graph of ``session``, an onnxruntime ``InferenceSession``;
        None builds a policy that computes observations only).

        Raises:
          PolicyError: naming the first metadata value, or graph input or output, that is wrong.
        """
        self._session = session
        self.source = source
        self.metadata = dict(metadata)
        check_metadata(self.metadata, source)
        m = self.metadata
        self._io: GraphIO | None = None if session is None else check_graph(session, m, source)
        self.joint_names: list[str] = list(m["joint_names"])
        self.action_size = int(m["action_size"])
        self.observation_size = int(m["observation_size"])
        self.policy_dt = float(m["policy_dt"])
        self.default_joint_pos = np.asarray(m["default_joint_pos"], dtype=np.float32)
        self.action_scale = np.asarray(m["action_scale"], dtype=np.float32)
        self.action_offset = np.asarray(m["action_offset"], dtype=np.float32)
        clip = m.get("action_clip")
        self.action_clip = None if clip is None else (float(clip[0]), float(clip[1]))
        per_joint = m.get("action_clip_per_joint")
        self.action_clip_per_joint: tuple[np.ndarray, np.ndarray] | None = None
        """``(low, high)`` ``[action_size]`` float32 each, where the action terms clip differently
        (metadata ``action_clip_per_joint``; an unclipped joint has -inf and inf); else None."""
        if per_joint is not None:
            self.action_clip_per_joint = (
                np.array([-np.inf if c is None else c[0] for c in per_joint], dtype=np.float32),
                np.array([np.inf if c is None else c[1] for c in per_joint], dtype=np.float32),
            )
        self.action_kind: list[str | None] = _action_kinds(m)
        binary = m.get("action_binary") or [None] * self.action_size
        self.action_binary = np.array([b is not None for b in binary], dtype=bool)
        self._any_binary = bool(self.action_binary.any())

        def column(key: str) -> np.ndarray:
            return np.array([0.0 if b is None else b[key] for b in binary], dtype=np.float32)

        self.binary_threshold, self.binary_close, self.binary_open = (
            column("threshold"),
            column("close"),
            column("open"),
        )
        self.observation_terms: list[dict[str, Any]] = list(m["observation_terms"])
        self._obs_labels = [
            f"{t['name']}[{label}]"
            for t in self.observation_terms
            for label in _term_labels(t, self.joint_names)
        ]
        """The name of each entry of the observation vector, for errors."""
        self._step_labels = [_term_labels(t, self.joint_names, history=False) for t in self.observation_terms]
        """Per term, the name of each value of one step, for errors (built once: ``observation`` runs at
        the robot's control rate)."""
        self._objects = ObjectTerms(m, source, self._vector, PolicyError)
        """The manipulation terms (object, goal, fingertips, touch), computed from their signals."""
        self._histories_used = any(t.get("history_length") for t in self.observation_terms)
        self.last_action = np.zeros(self.action_size, dtype=np.float32)
        self._histories: dict[str, np.ndarray] = {}
        """``{term name: [history_length, size / history_length]}``, oldest first."""

    @classmethod
    def load(
        cls,
        path: str | Path,
        joint_names: Sequence[str] | None = None,
        providers: Sequence[str] | None = None,
    ) -> Policy:
        """Load ``path`` (an ONNX file written by ``warplab export``).

        Args:
          joint_names: the robot's actuated joints; when given, the policy is refused unless it drives
            exactly these joints (in any order: ``act`` returns the policy's order, ``joint_names``).
          providers: onnxruntime execution providers (default: CPU).

        Raises:
          PolicyError: no such file (or a folder), not an ONNX model, metadata missing, not JSON, of
            another format, or disagreeing with itself or the graph, or joints that differ.
        """
        import onnxruntime as ort

        path = Path(path)
        if path.is_dir():
            inside = path / "policy.onnx"
            hint = f" ({inside} is there)" if inside.is_file() else ""
            raise PolicyError(f"policy {path} is a folder; give the .onnx file{hint}")
        if not path.is_file():
            raise PolicyError(
                f"policy {path} does not exist" if not path.exists() else f"policy {path} is not a file"
            )
        try:
            session = ort.InferenceSession(str(path), providers=list(providers or ["CPUExecutionProvider"]))
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own classes for bad files.
            raise PolicyError(
                f"policy {path} is not an ONNX model onnxruntime can load ({_first_line(error)})"
            ) from error
        raw = session.get_modelmeta().custom_metadata_map
        metadata = {}
        for key, value in raw.items():
            try:
                metadata[key] = json.loads(value)
            except json.JSONDecodeError as error:
                raise PolicyError(
                    f"policy {path}: metadata {key!r} is not JSON ({error}); export it with `warplab export`"
                ) from error
        policy = cls(session, metadata, str(path))
        if joint_names is not None:
            policy.check_joints(joint_names)
        return policy

    # ------------------------------------------------------------------ robot checks
    def check_joints(self, joint_names: Sequence[str]) -> None:
        """Raise ``PolicyError`` naming the joints that the robot and the policy do not share."""
        if isinstance(joint_names, str) or not all(isinstance(j, str) for j in joint_names):
            raise PolicyError(
                f"policy {self.source}: joint_names must be a list of the robot's joint names, got {joint_names!r}"
            )
        robot, ours = set(joint_names), set(self.joint_names)
        if robot != ours:
            raise PolicyError(
                f"policy {self.source} does not match the robot: joints the policy needs but the robot lacks "
                f"{sorted(ours - robot)}; joints of the robot the policy does not know {sorted(robot - ours)}"
            )

    # ------------------------------------------------------------------ observation
    def observation(self, signals: Mapping[str, Any]) -> np.ndarray:
        """The ``[observation_size]`` float32 observation from robot signals (see the module docstring).

        Each term is clipped (where the env clipped it) and scaled as in the env; no noise is added.
        The histories advance only when the whole observation is good.

        Raises:
          NonFiniteError: a signal the terms read holds NaN or inf (also where a clip would hide
            it), or a scaled value overflows float32; every such entry is named.
          PolicyError: a signal is missing, is not numbers, has the wrong size, lacks a joint, or a
            term needs a signal this runtime does not know.
        """
        if not isinstance(signals, Mapping):
            raise PolicyError(
                f"policy {self.source}: signals must be a dict of named signals ({', '.join(SIGNALS)}), "
                f"got {type(signals).__name__}"
            )
        raw, scaled, finite = [], [], True
        # One error state for the whole observation, not one per term (each costs about a microsecond,
        # and this runs at the robot's control rate): an overflow is found by the check below.
        with np.errstate(over="ignore", invalid="ignore"):
            for term in self.observation_terms:
                length = int(term.get("history_length") or 0)
                size = int(term["size"]) // max(length, 1)
                value = self._term_value(term, signals)
                if value.shape != (size,):
                    raise PolicyError(
                        f"policy {self.source}: observation term {term['name']!r} needs {size} values, "
                        f"the signals give {value.shape[0] if value.ndim == 1 else list(value.shape)}"
                    )
                raw.append(value)
                clipped = term.get("signal") == "height_scan" or term.get("clip") is not None
                if clipped:
                    # A clip would turn an infinity into a number: the signal itself is checked.
                    finite = finite and bool(np.isfinite(value).all())
                if term.get("signal") == "height_scan":
                    value = np.clip(value, *term["params"]["clip"])
                if term.get("clip") is not None:
                    value = np.clip(value, term["clip"][0], term["clip"][1])
                scaled.append((value * np.float32(term["scale"])).astype(np.float32))
        # Unclipped, a NaN or inf signal stays NaN or inf once scaled: one check of the whole scaled
        # observation finds it, and a scale that overflows too. The entries at fault are looked for
        # term by term only when there are some.
        obs = np.concatenate(scaled)
        if not (finite and np.isfinite(obs).all()):
            bad = self._non_finite_terms(raw, scaled)
            raise NonFiniteError(
                f"policy {self.source}: observation terms not finite (from the signals): {_shown(bad)}; no "
                "observation was made and the histories were kept",
                bad,
            )
        if not self._histories_used:
            return obs
        return np.concatenate(
            [
                self._push_history(term["name"], value, int(term["history_length"]))
                if term.get("history_length")
                else value
                for term, value in zip(self.observation_terms, scaled, strict=True)
            ]
        )

    def _non_finite_terms(self, raw: Sequence[np.ndarray], scaled: Sequence[np.ndarray]) -> list[str]:
        """The entries of the signals (``raw``, per term) that are not finite; when there are none, the
        entries that a term's scale made infinite (``scaled``)."""
        terms = list(zip(self.observation_terms, self._step_labels, strict=True))
        bad = [
            e for (t, labels), v in zip(terms, raw, strict=True) for e in _non_finite(v, labels, t["name"])
        ]
        if bad:
            return bad
        return [
            f"{e} (times its scale {t['scale']})"
            for (t, labels), v in zip(terms, scaled, strict=True)
            for e in _non_finite(v, labels, t["name"])
        ]

    def _push_history(self, name: str, value: np.ndarray, length: int) -> np.ndarray:
        history = self._histories.get(name)
        if history is None:
            # The episode's first value fills the whole history, as the env does after a reset.
            history = self._histories[name] = np.repeat(value[None], length, axis=0)
        else:
            history[:-1] = history[1:]
            history[-1] = value
        return history.reshape(-1).copy()

    def _signal(self, signals: Mapping[str, Any], name: str, term: Mapping[str, Any]) -> Any:
        if name not in signals:
            raise PolicyError(
                f"policy {self.source}: observation term {term['name']!r} needs the signal {name!r}, "
                f"which is missing (given: {sorted(map(str, signals))})"
            )
        return signals[name]

    def _numbers(self, value: Any, what: str) -> np.ndarray:
        """``value`` as float32, or a ``PolicyError`` naming ``what`` when it is not numbers."""
        if type(value) is np.ndarray and value.dtype == np.float32:
            return value  # What a robot's loop passes on every tick: nothing to convert or copy.
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as error:
            raise PolicyError(
                f"policy {self.source}: {what} is not an array of numbers ({_first_line(error)})"
            ) from error
        if array.dtype.kind not in "iuf":
            raise PolicyError(
                f"policy {self.source}: {what} holds {array.dtype} values; give numbers (float32)"
            )
        with np.errstate(over="ignore"):
            return array.astype(np.float32)

    def _joint_values(self, signals, name, term) -> np.ndarray:
        values = self._signal(signals, name, term)
        joints = term["params"]["joints"]
        if not isinstance(values, Mapping):
            raise PolicyError(
                f"policy {self.source}: signal {name!r} must map joint names to values, got {type(values).__name__}"
            )
        missing = [j for j in joints if j not in values]
        if missing:
            raise PolicyError(
                f"policy {self.source}: signal {name!r} lacks joints {missing} that term {term['name']!r} needs"
            )
        return self._numbers([values[j] for j in joints], f"signal {name!r}")

    def _vector(self, signals, name, term, size: int) -> np.ndarray:
        value = self._numbers(self._signal(signals, name, term), f"signal {name!r}").reshape(-1)
        if value.shape[0] != size:
            raise PolicyError(
                f"policy {self.source}: signal {name!r} has {value.shape[0]} values; term {term['name']!r} "
                f"needs {size}"
            )
        return value

    def _term_value(self, term: Mapping[str, Any], signals: Mapping[str, Any]) -> np.ndarray:
        """The term's raw value for one step (before any clip and scale)."""
        signal = term.get("signal")
        if signal in ("base_ang_vel", "projected_gravity"):
            return self._vector(signals, signal, term, 3)
        if signal == "last_action":
            return self._vector(signals, signal, term, self.action_size)
        if signal in _OBJECT_TERM_SIGNALS or (signal == "command" and "command_slice" in term["params"]):
            return self._objects.value(term, signals)
        if signal == "command":
            commands = self._signal(signals, "commands", term)
            command_name = term["params"]["command_name"]
            if not isinstance(commands, Mapping) or command_name not in commands:
                raise PolicyError(
                    f"policy {self.source}: signal 'commands' lacks the command {command_name!r} that term "
                    f"{term['name']!r} needs"
                )
            size = int(term["size"]) // max(int(term.get("history_length") or 0), 1)
            return self._vector({"commands": commands[command_name]}, "commands", term, size)
        if signal in ("joint_pos", "joint_vel", "object_joint_pos", "object_joint_vel"):
            return self._joint_values(signals, signal, term)
        if signal == "joint_pos_rel":
            default = np.asarray(term["params"]["default_joint_pos"], dtype=np.float32)
            return self._joint_values(signals, "joint_pos", term) - default
        if signal == "joint_pos_normalized":
            low, high = np.asarray(term["params"]["joint_range"], dtype=np.float32).T
            return (2.0 * self._joint_values(signals, "joint_pos", term) - high - low) / (high - low)
        if signal == "height_scan":
            return self._vector(signals, signal, term, len(term["params"]["grid_xy"]))
        if signal == "object_shape":
            value = self._signal(signals, signal, term)
            obj = term["params"]["object"]
            if isinstance(value, Mapping):
                if obj not in value:
                    raise PolicyError(
                        f"policy {self.source}: signal 'object_shape' lacks the object {obj!r} that term "
                        f"{term['name']!r} needs (given: {sorted(map(str, value))})"
                    )
                value = value[obj]
            return self._vector(
                {signal: value},
                signal,
                term,
                int(term["size"]) // max(int(term.get("history_length") or 0), 1),
            )
        raise PolicyError(
            f"policy {self.source}: observation term {term['name']!r} ({term.get('func')}) reads no signal "
            f"this runtime knows; known signals: {list(SIGNALS)}"
        )

    # ------------------------------------------------------------------ actions
    def actions(self, obs: Any) -> np.ndarray:
        """Raw actions ``[action_size]`` (or ``[batch, action_size]``) for ``obs`` ``[observation_size]``
        (or ``[batch, observation_size]``): numbers of any float or integer type, run as float32.

        Raises:
          PolicyError: ``obs`` is not numbers, or of another shape (the terms' sizes are named).
          NonFiniteError: ``obs`` holds NaN or inf (the terms and entries are named), or the network
            gives a non-finite action for it.
        """
        if self._io is None:
            raise PolicyError(f"policy {self.source} was built from metadata alone; load the file to run it")
        x = self._numbers(obs, "observation")
        batched = x.ndim == 2
        n = self.observation_size
        if x.ndim not in (1, 2) or x.shape[-1] != n or (batched and x.shape[0] == 0):
            terms = " + ".join(f"{t['name']} {t['size']}" for t in self.observation_terms)
            raise PolicyError(
                f"policy {self.source}: observation has shape {list(x.shape)}; the policy takes [{n}] or "
                f"[batch, {n}] ({terms})"
            )
        bad = _non_finite(x, self._obs_labels)
        if bad:
            raise NonFiniteError(
                f"policy {self.source}: observation not finite (as float32) at {_shown(bad)}; the network was "
                "not run",
                bad,
            )
        x = x if batched else x.reshape(1, n)
        if self._io.fixed_batch is not None and x.shape[0] != self._io.fixed_batch:
            raise PolicyError(
                f"policy {self.source}: the graph takes a batch of {self._io.fixed_batch}, given {x.shape[0]}"
            )
        try:
            (out,) = self._session.run([self._io.output_name], {self._io.input_name: x})
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own classes.
            raise PolicyError(f"policy {self.source}: the graph failed ({_first_line(error)})") from error
        out = np.asarray(out, dtype=np.float32)
        if out.shape != (x.shape[0], self.action_size):
            raise PolicyError(
                f"policy {self.source}: the graph gave actions of shape {list(out.shape)} for observations "
                f"{list(x.shape)}; metadata action_size is {self.action_size}"
            )
        bad = _non_finite(out if batched else out[0], self.joint_names)
        if bad:
            raise NonFiniteError(
                f"policy {self.source}: the network gave non-finite actions at {_shown(bad)} for a finite "
                "observation; nothing was returned",
                bad,
            )
        return out if batched else out[0]

    def targets(self, actions: Any) -> np.ndarray:
        """Joint targets ``offset + scale * clip(actions)`` (``action_clip``, or per joint
        ``action_clip_per_joint``) ``[action_size]`` (or ``[batch, action_size]``)
        in ``joint_names`` order: rad or m for position actions, the actuator's control unit for effort
        actions (see ``action_kind``); for the two-state joints (``action_binary``), ``binary_close``
        where the action is below ``binary_threshold``, else ``binary_open``.

        Raises:
          PolicyError: ``actions`` is not numbers of shape ``[action_size]`` or ``[batch, action_size]``.
          NonFiniteError: an action or a target is NaN or inf (named by joint).
        """
        a = self._numbers(actions, "actions")
        if a.ndim not in (1, 2) or a.shape[-1] != self.action_size:
            raise PolicyError(
                f"policy {self.source}: actions have shape {list(a.shape)}; targets need [{self.action_size}] "
                f"or [batch, {self.action_size}] (joints {self.joint_names})"
            )
        bad = _non_finite(a, self.joint_names)
        if bad:
            raise NonFiniteError(
                f"policy {self.source}: actions not finite (as float32) at {_shown(bad)}", bad
            )
        return self._targets(a)

    def _targets(self, a: np.ndarray) -> np.ndarray:
        """``targets`` of float32 actions of the right shape, known to be finite (so no NaN reaches
        the two-state rule, where it would compare as "not below" and open a gripper)."""
        raw = a
        if self.action_clip is not None:
            a = np.clip(a, *self.action_clip)
        if self.action_clip_per_joint is not None:
            a = np.clip(a, *self.action_clip_per_joint)
        with np.errstate(over="ignore", invalid="ignore"):
            out = (self.action_offset + self.action_scale * a).astype(np.float32)
        if self._any_binary:
            # The env's two-state terms read the raw action, unclipped, as here.
            two_state = np.where(raw < self.binary_threshold, self.binary_close, self.binary_open)
            out = np.where(self.action_binary, two_state, out).astype(np.float32)
        bad = _non_finite(out, self.joint_names)
        if bad:
            raise NonFiniteError(f"policy {self.source}: targets overflow float32 at {_shown(bad)}", bad)
        return out

    def act(self, obs: Any) -> np.ndarray:
        """Joint targets ``[action_size]`` for one observation ``[observation_size]``; the raw action is
        kept in ``last_action``.

        Raises:
          PolicyError, NonFiniteError: as ``actions`` and ``targets``; ``last_action`` is then unchanged.
        """
        x = self._numbers(obs, "observation")
        if x.ndim != 1:
            raise PolicyError(
                f"policy {self.source}: act takes one observation of shape [{self.observation_size}], given "
                f"shape {list(x.shape)}; for a batch call actions() and targets()"
            )
        action = self.actions(x)  # Of shape [action_size] and finite, or it raised.
        targets = self._targets(action)
        self.last_action = np.array(action, dtype=np.float32)
        return targets

    def reset(self) -> None:
        """Forget the last action and the observation histories (start of an episode)."""
        self.last_action = np.zeros(self.action_size, dtype=np.float32)
        self._histories.clear()


def _action_kinds(m: Mapping[str, Any]) -> list[str | None]:
    """Per joint, ``"position"``, ``"effort"`` or None; from ``action_kind``, or for older files from
    the types of ``action_terms``."""
    if m.get("action_kind") is not None:
        return [k if k in ACTION_KINDS else None for k in m["action_kind"]]
    kinds: list[str | None] = []
    for term in m.get("action_terms") or []:
        kinds += [_TERM_KINDS.get(term.get("type"))] * int(term["size"])
    return kinds if len(kinds) == int(m["action_size"]) else [None] * int(m["action_size"])


def _term_labels(term: Mapping[str, Any], action_joints: Sequence[str], history: bool = True) -> list[str]:
    """The name of each value of ``term`` (joints, axes or indices): of one step, or with ``history``
    of the whole stack (``t-2 hinge``: two steps ago)."""
    length = int(term.get("history_length") or 0)
    step = int(term["size"]) // max(length, 1)
    signal, params = term.get("signal"), term.get("params") or {}
    if signal in _JOINT_LABELLED:
        labels = list(params["joints"])
    elif signal == "last_action":
        labels = list(action_joints)
    elif signal in ("base_ang_vel", "projected_gravity"):
        labels = ["x", "y", "z"]
    else:
        labels = [str(i) for i in range(step)]
    if history and length > 0:
        labels = [f"t-{length - 1 - k} {label}" for k in range(length) for label in labels]
    return labels


def _non_finite(values: np.ndarray, labels: Sequence[str], prefix: str = "") -> list[str]:
    """``["prefix[label] = nan", ...]`` (``label = nan`` without a prefix) for each entry of ``values``
    (``[n]`` or ``[batch, n]``) that is not finite; a batch's rows are named too."""
    if np.isfinite(values).all():
        return []  # The every-tick case, without building the index list.
    out = []
    for index in np.argwhere(~np.isfinite(values)):
        row = f"row {index[0]} " if values.ndim == 2 else ""
        label = labels[int(index[-1])]
        out.append(f"{row}{f'{prefix}[{label}]' if prefix else label} = {values[tuple(index)]}")
    return out


def _shown(where: Sequence[str], most: int = 6) -> str:
    more = f" and {len(where) - most} more" if len(where) > most else ""
    return ", ".join(where[:most]) + more


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
