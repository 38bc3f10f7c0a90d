"""Manipulation observation terms from robot signals: an object's pose and velocities, a goal, the
fingertips and touch sensors, computed as ``warplab.envs.mdp`` computes them (numpy only).

A robot gives the object's signals in one frame, the policy's ``object_frame`` (metadata: a palm
body or site, with its pose in the world at the start of an episode and whether it is fixed to the
world), or in the world frame when the policy names none:

- ``object_pos`` ``[3]``: the object's body origin relative to the frame's origin, in its axes, m;
- ``object_quat`` ``[4]``: its orientation (w, x, y, z) in the frame (either sign, any norm > 0);
- ``object_lin_vel``, ``object_ang_vel`` ``[3]``: its velocities relative to the world, in the
  frame's axes, m/s and rad/s;
- ``fingertip_pos``: ``{site name: [3]}`` each fingertip relative to the frame, m (forward
  kinematics of the measured joints, or the robot's own estimate);
- ``touch``: ``{sensor name: value or [dim]}`` (N for a touch sensor);
- ``site_pos``: ``{site name: [3]}`` points of the robot and of the objects it handles relative to
  the frame, m: a gripper's tool centre point from forward kinematics, a drawer's handle from its
  tracker (a ``site_offset`` term reads the vector from one to the other);
- the goal is a command, ``commands[name]``: ``[7]`` position (m) and orientation (w, x, y, z) in the
  world frame, as the env's ``OrientationGoalCommand``; ``[4]`` (the orientation) where no term
  reads the goal's position;
- ``object_size`` ``[3]``: the size of the object's active shape in MuJoCo's ``geom_size`` convention
  (a box's half-extents; a sphere's radius; a cylinder's or capsule's radius and half-length; unused
  entries any value), m, for an ``object_goal_offset`` term of an object with several shapes;
- ``object_frame_pose`` ``[7]``: the object frame's pose in the world, position (m) then orientation
  (w, x, y, z), where that frame moves (a palm on a wrist: forward kinematics of the wrist joints
  from the hand's mount) and a term relates it to the world (``object_frame.pose_signal`` names them).

Some terms relate the object frame to the world: a term that reads the goal in the object frame
(``goal_quat_in_frame``) gets it turned into that frame, and a term in the world frame (a goal's
orientation difference, an object term that names no frame) gets the object in the world. They
take the frame's pose from the metadata where the frame is fixed to the world, from
``object_frame_pose`` where it moves. With several objects, each object signal is ``{object name:
value}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

OBJECT_SIGNALS = ("object_pos", "object_quat", "object_lin_vel", "object_ang_vel")
"""Signals of an object's state, given in the policy's ``object_frame``."""

SIGNAL_SIZES = {
    "object_pos": 3,
    "object_quat": 4,
    "object_lin_vel": 3,
    "object_ang_vel": 3,
    "goal_quat_diff": 4,
    "goal_orientation_error": 1,
    "goal_quat_in_frame": 4,
    "site_offset": 3,
    "object_goal_offset": 3,
    "object_size": 3,
}
"""Values per step of the manipulation signals whose size is fixed."""

FRAME_POSE_SIGNAL = "object_frame_pose"
"""The signal of the object frame's pose in the world, for a policy whose object frame moves."""

SITE_SIGNAL = "site_pos"
"""The signal of named points (sites) relative to the object frame, for ``site_offset`` terms."""

MANIPULATION_SIGNALS = (
    *OBJECT_SIGNALS,
    "fingertip_pos",
    "touch",
    FRAME_POSE_SIGNAL,
    "object_shape",
    SITE_SIGNAL,
    "object_size",
)
"""Every manipulation signal a robot measures and hands to ``Policy`` as it is (``warplab sim2sim``
senses each from MjData)."""


def reads_frame_pose(term: Mapping[str, Any]) -> bool:
    """Whether the runtime needs the pose of the policy's object frame in the world to compute
    ``term`` (exported metadata), in a policy that has an object frame: the term reads the goal in
    that frame (``goal_quat_in_frame`` naming it), or reads the object in the world frame, which the
    robot gives in the object frame (the goal's orientation difference and error; an object or
    fingertip term that names no frame). Export writes the same terms from their declarations
    (``ObservationExport.frame_pose``); ``check_metadata`` holds the two to agree."""
    signal, params = term.get("signal"), term.get("params") or {}
    if signal in ("goal_quat_diff", "goal_orientation_error", "object_goal_offset"):
        return True
    if signal == "goal_quat_in_frame":
        return params.get("frame") is not None
    if signal in OBJECT_SIGNALS or signal == "fingertip_pos":
        return params.get("frame") is None
    return False


def frame_pose_signal(terms: list[str]) -> dict[str, Any]:
    """``object_frame.pose_signal`` of the metadata: what a robot whose object frame moves gives at
    run time, and which observation terms read it."""
    return {
        "name": FRAME_POSE_SIGNAL,
        "size": 7,
        "frame": "world",
        "components": ["x", "y", "z", "qw", "qx", "qy", "qz"],
        "units": ["m", "m", "m", "1", "1", "1", "1"],
        "terms": list(terms),
    }


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions (w, x, y, z)."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ]
    )


def quat_conj(q: np.ndarray) -> np.ndarray:
    return np.array([q[0], -q[1], -q[2], -q[3]])


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``v`` rotated by unit quaternion ``q``: R(q) v."""
    w, u = float(q[0]), np.asarray(q[1:], dtype=np.float64)
    return v * (2.0 * w * w - 1.0) + 2.0 * w * np.cross(u, v) + 2.0 * u * np.dot(u, v)


def quat_canonical(q: np.ndarray) -> np.ndarray:
    """``q`` or ``-q``, whichever has ``w >= 0`` (the env's sign)."""
    return -q if q[0] < 0.0 else q


def quat_normalize(q: np.ndarray) -> np.ndarray:
    return q / max(float(np.linalg.norm(q)), 1e-12)


def quat_angle(q: np.ndarray) -> float:
    """Rotation angle of unit quaternion ``q``, rad in [0, pi] (either sign)."""
    return 2.0 * float(np.arctan2(np.linalg.norm(q[1:]), abs(q[0])))


class ObjectTerms:
    """Computes the manipulation terms of one policy from its signals.

    Args:
      metadata: the policy's decoded metadata (``object_frame``, ``commands``).
      source: the policy file, for errors.
      vector: ``vector(signals, name, term, size) -> float32 [size]``: the policy's reader of a sized
        signal (raises ``PolicyError`` naming the term and signal).
      error: makes the policy's one-line ``PolicyError`` from a message.
    """

    def __init__(
        self,
        metadata: Mapping[str, Any],
        source: str,
        vector: Callable[[Any, str, Mapping[str, Any], int], np.ndarray],
        error: Callable[[str], Exception],
    ):
        self.frame = metadata.get("object_frame")
        self.commands = metadata["commands"]
        self.source, self._vector, self._error = source, vector, error
        self.moving = self.frame is not None and not self.frame.get("fixed")
        """The object frame moves in the world: its pose is the signal ``object_frame_pose``."""
        if self.frame is not None:
            self.frame_pos = np.asarray(self.frame["pos_w"], dtype=np.float64)
            self.frame_quat = quat_normalize(np.asarray(self.frame["quat_w"], dtype=np.float64))

    # ------------------------------------------------------------------ reading signals
    def _object_signal(self, signals: Mapping[str, Any], name: str, obj: str, term: Mapping[str, Any]):
        size = SIGNAL_SIZES[name]
        if name not in signals:
            where = "the world frame" if self.frame is None else f"the frame {_frame_name(self.frame)}"
            raise self._error(
                f"policy {self.source}: observation term {term['name']!r} needs the signal {name!r} (object "
                f"{obj!r} in {where}), which is missing (given: {sorted(map(str, signals))})"
            )
        value = signals[name]
        if isinstance(value, Mapping):
            if obj not in value:
                raise self._error(
                    f"policy {self.source}: signal {name!r} lacks the object {obj!r} that term {term['name']!r} "
                    f"needs (given: {sorted(map(str, value))})"
                )
            value = value[obj]
        return self._vector({name: value}, name, term, size).astype(np.float64)

    def _named(
        self, signals: Mapping[str, Any], name: str, names: list[str], sizes: list[int], term
    ) -> np.ndarray:
        if name not in signals:
            raise self._error(
                f"policy {self.source}: observation term {term['name']!r} needs the signal {name!r}, which is "
                f"missing (given: {sorted(map(str, signals))})"
            )
        values = signals[name]
        if not isinstance(values, Mapping):
            raise self._error(
                f"policy {self.source}: signal {name!r} must map names ({names}) to values, got "
                f"{type(values).__name__}"
            )
        missing = [n for n in names if n not in values]
        if missing:
            raise self._error(
                f"policy {self.source}: signal {name!r} lacks {missing} that term {term['name']!r} needs"
            )
        return np.concatenate(
            [self._vector({name: values[n]}, name, term, s) for n, s in zip(names, sizes, strict=True)]
        ).astype(np.float64)

    def frame_pose(
        self, signals: Mapping[str, Any], term: Mapping[str, Any]
    ) -> tuple[np.ndarray, np.ndarray]:
        """The object frame's ``(position [3] m, unit quaternion [4])`` in the world: the exported pose
        of a fixed frame, the signal ``object_frame_pose`` of a moving one."""
        if not self.moving:
            return self.frame_pos, self.frame_quat
        assert self.frame is not None  # A moving frame is a frame.
        need = (
            f"[7]: the pose of the {_frame_name(self.frame)} in the world, position (m) then orientation "
            "(w, x, y, z)"
        )
        if FRAME_POSE_SIGNAL not in signals:
            raise self._error(
                f"policy {self.source}: observation term {term['name']!r} needs the signal {FRAME_POSE_SIGNAL!r} "
                f"({need}; the frame moves), which is missing (given: {sorted(map(str, signals))})"
            )
        value = signals[FRAME_POSE_SIGNAL]
        try:
            shape: Any = list(np.shape(value))
        except ValueError:  # A ragged list has no shape.
            shape = "ragged"
        if shape != [7]:
            raise self._error(
                f"policy {self.source}: signal {FRAME_POSE_SIGNAL!r} has shape {shape}; observation term "
                f"{term['name']!r} needs {need}"
            )
        pose = self._vector(signals, FRAME_POSE_SIGNAL, term, 7).astype(np.float64)
        norm = float(np.linalg.norm(pose[3:]))
        if norm < 1e-9:  # NaN passes on, and is refused as a non-finite observation.
            raise self._error(
                f"policy {self.source}: signal {FRAME_POSE_SIGNAL!r} has an orientation (values 3..6) of norm "
                f"{norm:g}; observation term {term['name']!r} needs a quaternion (w, x, y, z) of non-zero norm"
            )
        return pose[:3], pose[3:] / norm

    def goal(self, signals: Mapping[str, Any], command_name: str, term: Mapping[str, Any]) -> np.ndarray:
        """The goal command ``[7]``: position (m) and orientation (w, x, y, z), world frame."""
        commands = signals.get("commands")
        if not isinstance(commands, Mapping) or command_name not in commands:
            raise self._error(
                f"policy {self.source}: signal 'commands' lacks the goal {command_name!r} that term "
                f"{term['name']!r} needs"
            )
        value = commands[command_name]
        size = int(self.commands[command_name]["size"])
        given = np.size(value) if isinstance(value, (list, tuple, np.ndarray)) else -1
        params = self.commands[command_name].get("params") or {}
        if given == 4 and size == 7 and "position" in params:
            quat = self._vector({"commands": value}, "commands", term, 4)
            return np.concatenate([np.asarray(params["position"], dtype=np.float64), quat])
        return self._vector({"commands": value}, "commands", term, size).astype(np.float64)

    def _extent_below(self, signals: Mapping[str, Any], term: Mapping[str, Any], quat_w: np.ndarray) -> float:
        """How far the object reaches below its origin, m, turned by ``quat_w`` (its orientation in the
        world): the largest support distance along "down" over its active geoms (``params["geoms"]``;
        with a ``shape_set``, the one the ``object_shape`` signal marks, at the ``object_size`` signal's
        size), as ``warplab.envs.mdp.object_shapes.object_extent_below`` computes it."""
        params = term["params"]
        geoms = list(params["geoms"])
        sizes = [np.asarray(g["size"], dtype=np.float64) for g in geoms]
        active = list(range(len(geoms)))
        if params.get("shape_set"):
            obj = params["object"]
            onehot = self._keyed(signals, "object_shape", obj, term, len(geoms))
            active = [i for i in active if onehot[i] > 0.5]
            if len(active) != 1:
                raise self._error(
                    f"policy {self.source}: signal 'object_shape' marks {len(active)} shapes of object {obj!r}; "
                    f"term {term['name']!r} needs a one-hot of {len(geoms)} values"
                )
            sizes[active[0]] = self._keyed(signals, "object_size", obj, term, 3)
        down = quat_rotate(quat_conj(quat_w), np.array([0.0, 0.0, -1.0]))
        reach = []
        for i in active:
            g = geoms[i]
            d = quat_rotate(quat_conj(np.asarray(g["quat"], dtype=np.float64)), down)
            reach.append(
                float(down @ np.asarray(g["pos"], dtype=np.float64)) + _support(g["type"], sizes[i], d)
            )
        return max(reach)

    def _keyed(self, signals: Mapping[str, Any], name: str, obj: str, term: Mapping[str, Any], size: int):
        """Signal ``name`` of object ``obj`` (an array, or ``{object: array}``) as float64 ``[size]``."""
        if name not in signals:
            raise self._error(
                f"policy {self.source}: observation term {term['name']!r} needs the signal {name!r} of object "
                f"{obj!r}, which is missing (given: {sorted(map(str, signals))})"
            )
        value = signals[name]
        if isinstance(value, Mapping):
            if obj not in value:
                raise self._error(
                    f"policy {self.source}: signal {name!r} lacks the object {obj!r} that term {term['name']!r} "
                    f"needs (given: {sorted(map(str, value))})"
                )
            value = value[obj]
        return self._vector({name: value}, name, term, size).astype(np.float64)

    # ------------------------------------------------------------------ terms
    def value(self, term: Mapping[str, Any], signals: Mapping[str, Any]) -> np.ndarray:
        """The raw value of one step of a manipulation term (before clip and scale), float32."""
        signal, params = term["signal"], term.get("params") or {}
        if signal in OBJECT_SIGNALS:
            v = self._object_signal(signals, signal, params["object"], term)
            if params.get("frame") is not None or self.frame is None:
                v = quat_canonical(quat_normalize(v)) if signal == "object_quat" else v
                return v.astype(np.float32)
            # A term in the world frame: the signal, given in the object frame, carried into the world.
            pos, quat = self.frame_pose(signals, term)
            if signal == "object_quat":
                return quat_canonical(quat_normalize(quat_mul(quat, v))).astype(np.float32)
            v = quat_rotate(quat, v) + (pos if signal == "object_pos" else 0.0)
            return v.astype(np.float32)
        if signal == "fingertip_pos":
            sites = list(params["sites"])
            v = self._named(signals, "fingertip_pos", sites, [3] * len(sites), term).reshape(-1, 3)
            if params.get("frame") is None and self.frame is not None:
                pos, quat = self.frame_pose(signals, term)
                v = np.stack([quat_rotate(quat, p) + pos for p in v])
            return v.reshape(-1).astype(np.float32)
        if signal == "object_goal_offset":
            # The env's ``object_goal_offset_in_frame``: goal minus the object's rest point (its origin
            # lowered by its extent below the origin, along the world's vertical), in the frame's axes.
            obj = params["object"]
            pos = self._object_signal(signals, "object_pos", obj, term)
            quat = quat_normalize(self._object_signal(signals, "object_quat", obj, term))
            goal = self.goal(signals, params["command_name"], term)[:3]
            frame_quat = self.frame_pose(signals, term)[1]
            extent = self._extent_below(signals, term, quat_normalize(quat_mul(frame_quat, quat)))
            up = quat_rotate(quat_conj(frame_quat), np.array([0.0, 0.0, 1.0]))
            return (goal - pos + extent * up).astype(np.float32)
        if signal == "site_offset":
            # Both points in the object frame, so their difference is in its axes, as the env's term
            # (``site_offset_in_frame``) gives it.
            names = [params["from_site"], params["to_site"]]
            a, b = self._named(signals, SITE_SIGNAL, names, [3, 3], term).reshape(2, 3)
            return (b - a).astype(np.float32)
        if signal == "touch":
            return self._named(
                signals, "touch", list(params["sensors"]), list(params["sensor_dims"]), term
            ).astype(np.float32)
        if signal in ("goal_quat_diff", "goal_orientation_error"):
            command = params["command_name"]
            obj = str((self.commands[command].get("params") or {}).get("object"))
            q = self._object_signal(signals, "object_quat", obj, term)
            q_w = quat_normalize(
                quat_mul(self.frame_pose(signals, term)[1], q) if self.frame is not None else q
            )
            goal = self.goal(signals, command, term)[3:7]
            diff = quat_mul(q_w, quat_conj(goal))
            if signal == "goal_orientation_error":
                return np.array([quat_angle(diff)], dtype=np.float32)
            return quat_canonical(diff).astype(np.float32)
        if signal == "goal_quat_in_frame":
            # The goal (world frame) in the term's frame, the object frame, through the frame's pose.
            goal = quat_normalize(self.goal(signals, params["command_name"], term)[3:7])
            if params.get("frame") is not None:
                goal = quat_mul(quat_conj(self.frame_pose(signals, term)[1]), goal)
            return quat_canonical(goal).astype(np.float32)
        if signal == "command":
            low, high = params["command_slice"]
            return self.goal(signals, params["command_name"], term)[low:high].astype(np.float32)
        raise self._error(f"policy {self.source}: term {term['name']!r} reads an unknown signal {signal!r}")


def _support(kind: str, size: np.ndarray, d: np.ndarray) -> float:
    """The largest ``d . p`` over the points ``p`` of a primitive geom of MuJoCo type ``kind`` and
    ``size``, ``d`` a unit direction in the geom's axes, m."""
    if kind == "box":
        return float(np.abs(size * d).sum())
    if kind == "ellipsoid":
        return float(np.sqrt(((size * d) ** 2).sum()))
    axial = float(size[1] * abs(d[2]))
    if kind == "cylinder":
        return axial + float(size[0] * np.sqrt(d[0] ** 2 + d[1] ** 2))
    if kind == "capsule":
        return axial + float(size[0])
    return float(size[0])  # A sphere.


def _frame_name(frame: Mapping[str, Any]) -> str:
    kind = "body" if "body" in frame else "site"
    return f"{kind} {frame[kind]!r}"
