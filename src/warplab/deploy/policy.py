"""Run an exported policy on a robot: onnxruntime and numpy only (no torch, Warp or MuJoCo).

``Policy.load("policy.onnx")`` reads the graph and its metadata; ``observation(signals)`` builds the
observation vector from named robot signals in the order and with the scales the env used (without
the training noise); ``act(obs)`` returns joint targets ``offset + scale * action`` in the robot's
joint order. ``docs/deployment.md`` shows a control loop.

Signals (a dict; units are SI, frames are the base's):

- ``joint_pos``: ``{joint name: position}``, rad or m (absolute, not relative to the default);
- ``joint_vel``: ``{joint name: velocity}``, rad/s or m/s;
- ``base_ang_vel``: ``[3]`` angular velocity of the base in its own frame (the IMU gyro), rad/s;
- ``projected_gravity``: ``[3]`` unit gravity direction in the base frame ((0, 0, -1) upright);
- ``commands``: ``{command name: [size]}``, e.g. ``{"base_velocity": [vx, vy, wz]}``;
- ``last_action``: ``[action_size]`` the raw action the policy gave last (``Policy.last_action``);
- ``height_scan``: ``[n_rays]`` base height above the ground at the term's grid points
  (``params["grid_xy"]``, base heading frame, x fastest), m, from the robot's elevation map.

A term with a history (``history_length`` L > 0) stacks its last L values, oldest first, as the env
did: ``observation`` keeps them, so call it once per control tick; after ``reset`` the first call
fills the whole history with its value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

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

SIGNALS = (
    "joint_pos",
    "joint_vel",
    "base_ang_vel",
    "projected_gravity",
    "commands",
    "last_action",
    "height_scan",
)


class PolicyError(ValueError):
    """A policy file is unusable here: metadata missing, or it does not match the robot or signals."""


class Policy:
    """An exported warplab policy.

    Attributes:
      metadata: every metadata key, JSON-decoded.
      joint_names: the actuated joints in action order.
      default_joint_pos, action_scale, action_offset: ``[action_size]`` float32 arrays.
      policy_dt: time between two calls of ``act``, s.
      last_action: ``[action_size]`` the raw action of the latest ``act`` (zeros before the first).
    """

    def __init__(self, session: Any, metadata: Mapping[str, Any], source: str = "policy"):
        self._session = session
        self.source = source
        self.metadata = dict(metadata)
        _check_metadata(self.metadata, source)
        m = self.metadata
        self.joint_names: list[str] = list(m["joint_names"])
        self.action_size = int(m["action_size"])
        self.observation_size = int(m["observation_size"])
        self.policy_dt = float(m["policy_dt"])
        self.default_joint_pos = np.asarray(m["default_joint_pos"], dtype=np.float32)
        self.action_scale = np.asarray(m["action_scale"], dtype=np.float32)
        self.action_offset = np.asarray(m["action_offset"], dtype=np.float32)
        clip = m.get("action_clip")
        self.action_clip = None if clip is None else (float(clip[0]), float(clip[1]))
        self.observation_terms: list[dict[str, Any]] = list(m["observation_terms"])
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
          PolicyError: no such file, metadata missing or of another format, or joints that differ.
        """
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise PolicyError(f"policy {path} does not exist")
        try:
            session = ort.InferenceSession(str(path), providers=list(providers or ["CPUExecutionProvider"]))
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own classes for bad files.
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise PolicyError(f"policy {path} is not an ONNX model onnxruntime can load ({first})") from error
        raw = session.get_modelmeta().custom_metadata_map
        metadata = {}
        for key, value in raw.items():
            try:
                metadata[key] = json.loads(value)
            except json.JSONDecodeError as error:
                raise PolicyError(f"policy {path}: metadata {key!r} is not JSON ({error})") from error
        policy = cls(session, metadata, str(path))
        if joint_names is not None:
            policy.check_joints(joint_names)
        return policy

    # ------------------------------------------------------------------ robot checks
    def check_joints(self, joint_names: Sequence[str]) -> None:
        """Raise ``PolicyError`` naming the joints that the robot and the policy do not share."""
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

        Raises:
          PolicyError: a signal is missing, has the wrong size, lacks a joint, or a term needs a signal
            this runtime does not know.
        """
        parts = []
        for term in self.observation_terms:
            length = int(term.get("history_length") or 0)
            size = int(term["size"]) // max(length, 1)
            value = self._term_value(term, signals)
            if value.shape != (size,):
                raise PolicyError(
                    f"policy {self.source}: observation term {term['name']!r} needs {size} values, "
                    f"the signals give {value.shape[0] if value.ndim == 1 else list(value.shape)}"
                )
            if term.get("clip") is not None:
                value = np.clip(value, term["clip"][0], term["clip"][1])
            value = value * np.float32(term["scale"])
            if length > 0:
                value = self._push_history(term["name"], value, length)
            parts.append(value)
        obs = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
        return obs

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
                f"which is missing (given: {sorted(signals)})"
            )
        return signals[name]

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
        return np.asarray([values[j] for j in joints], dtype=np.float32)

    def _vector(self, signals, name, term, size: int) -> np.ndarray:
        value = np.asarray(self._signal(signals, name, term), dtype=np.float32).reshape(-1)
        if value.shape[0] != size:
            raise PolicyError(
                f"policy {self.source}: signal {name!r} has {value.shape[0]} values; term {term['name']!r} "
                f"needs {size}"
            )
        return value

    def _term_value(self, term: Mapping[str, Any], signals: Mapping[str, Any]) -> np.ndarray:
        signal = term.get("signal")
        if signal in ("base_ang_vel", "projected_gravity"):
            return self._vector(signals, signal, term, 3)
        if signal == "last_action":
            return self._vector(signals, signal, term, self.action_size)
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
        if signal in ("joint_pos", "joint_vel"):
            return self._joint_values(signals, signal, term)
        if signal == "joint_pos_rel":
            default = np.asarray(term["params"]["default_joint_pos"], dtype=np.float32)
            return self._joint_values(signals, "joint_pos", term) - default
        if signal == "height_scan":
            grid = term["params"]["grid_xy"]
            low, high = term["params"]["clip"]
            return np.clip(self._vector(signals, signal, term, len(grid)), low, high)
        raise PolicyError(
            f"policy {self.source}: observation term {term['name']!r} ({term.get('func')}) reads no signal "
            f"this runtime knows; known signals: {list(SIGNALS)}"
        )

    # ------------------------------------------------------------------ actions
    def actions(self, obs: np.ndarray) -> np.ndarray:
        """Raw actions ``[action_size]`` (or ``[batch, action_size]``) for ``obs`` of the same batch shape."""
        obs = np.asarray(obs, dtype=np.float32)
        batched = obs.ndim == 2
        x = obs if batched else obs.reshape(1, -1)
        if x.shape[1] != self.observation_size:
            raise PolicyError(
                f"policy {self.source}: observation has {x.shape[1]} values, the policy takes {self.observation_size}"
            )
        (out,) = self._session.run(["actions"], {"obs": x})
        return out if batched else out[0]

    def targets(self, actions: np.ndarray) -> np.ndarray:
        """Joint targets ``offset + scale * clip(actions)`` in ``joint_names`` order (rad for position
        actions, the actuator's unit for effort actions)."""
        actions = np.asarray(actions, dtype=np.float32)
        if self.action_clip is not None:
            actions = np.clip(actions, *self.action_clip)
        return self.action_offset + self.action_scale * actions

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Joint targets ``[action_size]`` for one observation; the raw action is kept in ``last_action``."""
        action = self.actions(obs)
        self.last_action = np.array(action, dtype=np.float32)
        return self.targets(action)

    def reset(self) -> None:
        """Forget the last action and the observation histories (start of an episode)."""
        self.last_action = np.zeros(self.action_size, dtype=np.float32)
        self._histories.clear()


def _check_metadata(m: Mapping[str, Any], source: str) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in m]
    if missing:
        raise PolicyError(
            f"policy {source}: metadata lacks {missing}; export it with `warplab export` (it has {sorted(m)})"
        )
    if m["metadata_format"] != METADATA_FORMAT:
        raise PolicyError(
            f"policy {source}: metadata_format is {m['metadata_format']!r}; this runtime reads {METADATA_FORMAT}"
        )
    n = int(m["action_size"])
    for key in ("joint_names", "default_joint_pos", "action_scale", "action_offset"):
        if len(m[key]) != n:
            raise PolicyError(
                f"policy {source}: metadata {key} has {len(m[key])} entries, action_size is {n}"
            )
    total = sum(int(t["size"]) for t in m["observation_terms"])
    if total != int(m["observation_size"]):
        raise PolicyError(
            f"policy {source}: observation terms add up to {total} values, observation_size is {m['observation_size']}"
        )
