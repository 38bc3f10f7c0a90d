"""Sim-to-sim of a manipulation policy: an object's signals read from ``MjData``, a goal run as
training's ``OrientationGoalCommand`` runs it, and a dropped object detected.

``ObjectSensing`` reads what a robot's tracker, encoders and touch sensors give (``object_signals``
names them): the object's pose from its free joint, turned into the policy's ``object_frame`` (a
palm body or site) as ``warplab.envs.mdp.objects`` does; fingertip positions from the sites;
touch from ``sensordata``; where the object frame moves, its pose in the world (``xpos``/``xquat``
of the body, or ``site_xpos`` and the body's ``xquat`` turned by ``site_quat``), as a robot's
forward kinematics of its wrist joints gives it. ``GoalRun`` keeps one episode's goal: drawn from
the command's exported ``params`` (rotation mode, base orientation, position range), judged on the
true state within the exported tolerance, drawn again at each success, successes counted.
``Drops`` applies the task's declared drop thresholds (``fall.object_dropped``). numpy and MuJoCo
only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import mujoco
import numpy as np

from warplab.assets.object_shapes import PARKED_MARGIN
from warplab.deploy.object_signals import (
    FRAME_POSE_SIGNAL,
    OBJECT_SIGNALS,
    SITE_SIGNAL,
    quat_angle,
    quat_canonical,
    quat_conj,
    quat_mul,
    quat_normalize,
    quat_rotate,
)
from warplab.deploy.policy import Policy
from warplab.deploy.sim2sim_model import Sim2SimError

_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


def object_joint(model: mujoco.MjModel, name: str) -> tuple[int, int]:
    """``(qpos address, dof address)`` of the free joint of body ``name``."""
    body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
    if body < 0:
        raise Sim2SimError(f"the model has no body {name!r}, the object the policy observes")
    for j in range(int(model.body_jntadr[body]), int(model.body_jntadr[body] + model.body_jntnum[body])):
        if int(model.jnt_type[j]) == int(mujoco.mjtJoint.mjJNT_FREE):
            return int(model.jnt_qposadr[j]), int(model.jnt_dofadr[j])
    raise Sim2SimError(f"body {name!r} (the policy's object) has no free joint in the model")


class Frame:
    """A body or site of the robot (``{"body": name}`` or ``{"site": name}``), or the world (None)."""

    def __init__(self, model: mujoco.MjModel, frame: Mapping[str, Any] | None):
        self.kind: str | None = None
        self.id = -1
        if frame is not None:
            kind = "body" if "body" in frame else "site"
            obj = mujoco.mjtObj.mjOBJ_BODY if kind == "body" else mujoco.mjtObj.mjOBJ_SITE
            self.kind, self.id = kind, mujoco.mj_name2id(model, obj, frame[kind])
            if self.id < 0:
                raise Sim2SimError(f"the model has no {kind} {frame[kind]!r}, the policy's object frame")
        self.model = model

    def pose(self, d: mujoco.MjData) -> tuple[np.ndarray, np.ndarray] | None:
        """``(pos [3] m, quat [4])`` in the world from the last forward pass, or None for the world."""
        if self.kind == "body":
            return d.xpos[self.id], d.xquat[self.id]
        if self.kind == "site":
            quat = quat_mul(d.xquat[int(self.model.site_bodyid[self.id])], self.model.site_quat[self.id])
            return d.site_xpos[self.id], quat
        return None

    def point(self, d: mujoco.MjData, p_w: np.ndarray) -> np.ndarray:
        pose = self.pose(d)
        return p_w.copy() if pose is None else quat_rotate(quat_conj(pose[1]), p_w - pose[0])

    def vector(self, d: mujoco.MjData, v_w: np.ndarray) -> np.ndarray:
        pose = self.pose(d)
        return v_w.copy() if pose is None else quat_rotate(quat_conj(pose[1]), v_w)


class ObjectSensing:
    """The object, fingertip and touch signals of ``policy`` from ``MjData``."""

    def __init__(self, model: mujoco.MjModel, policy: Policy):
        terms = policy.observation_terms
        commands = policy.metadata["commands"]
        self.frame = Frame(model, policy.metadata.get("object_frame"))
        offsets = [t for t in terms if t.get("signal") == "object_goal_offset"]
        objects = [t["params"]["object"] for t in terms if t.get("signal") in OBJECT_SIGNALS]
        objects += [t["params"]["object"] for t in offsets]
        objects += [
            commands[t["params"]["command_name"]]["params"]["object"]
            for t in terms
            if t.get("signal") in ("goal_quat_diff", "goal_orientation_error")
        ]
        self.objects = {name: object_joint(model, name) for name in dict.fromkeys(objects)}
        sites = [s for t in terms if t.get("signal") == "fingertip_pos" for s in t["params"]["sites"]]
        self.sites = {s: _named_id(model, mujoco.mjtObj.mjOBJ_SITE, s, "site") for s in dict.fromkeys(sites)}
        points = [
            s
            for t in terms
            if t.get("signal") == "site_offset"
            for s in (t["params"]["from_site"], t["params"]["to_site"])
        ]
        self.points = {
            s: _named_id(model, mujoco.mjtObj.mjOBJ_SITE, s, "site") for s in dict.fromkeys(points)
        }
        """``{site: id}`` of the points the policy's ``site_offset`` terms read (``site_pos``)."""
        sensors = [s for t in terms if t.get("signal") == "touch" for s in t["params"]["sensors"]]
        self.sensors = {
            s: _named_id(model, mujoco.mjtObj.mjOBJ_SENSOR, s, "sensor") for s in dict.fromkeys(sensors)
        }
        sized = [t["params"]["object"] for t in offsets if t["params"].get("shape_set")]
        shaped = [t["params"]["object"] for t in terms if t.get("signal") == "object_shape"] + sized
        self.shapes = {name: _shape_geoms(model, name) for name in dict.fromkeys(shaped)}
        """``{object: its geoms in model order}`` for the policy's ``object_shape`` terms and the objects
        of several shapes whose rest point an ``object_goal_offset`` term computes."""
        self.sized = list(dict.fromkeys(sized))
        """Objects whose active shape's size the robot gives (``object_size``)."""
        frame = policy.metadata.get("object_frame") or {}
        self.frame_pose = frame.get("pose_signal") is not None
        """Whether the policy reads the object frame's pose (a frame that moves)."""
        self.model = model

    @property
    def active(self) -> bool:
        return bool(
            self.objects or self.sites or self.sensors or self.frame_pose or self.shapes or self.points
        )

    def sense(self, d: mujoco.MjData) -> dict[str, Any]:
        """``object_pos``/``object_quat``/``object_lin_vel``/``object_ang_vel`` as ``{object: array}``
        in the object frame, ``fingertip_pos`` and ``site_pos`` ``{site: [3]}`` (in the object frame),
        ``touch`` ``{sensor: array}`` and, for
        a policy whose object frame moves, ``object_frame_pose`` ``[7]`` (m; w, x, y, z; world)."""
        out: dict[str, Any] = {}
        pose = self.frame.pose(d)
        if self.frame_pose and pose is not None:
            # The pose of MuJoCo's last forward pass, as the env's terms read it (frame_pose_w).
            out[FRAME_POSE_SIGNAL] = np.concatenate([pose[0], pose[1]])
        if self.objects:
            for key in OBJECT_SIGNALS:
                out[key] = {}
            for name, (q, v) in self.objects.items():
                quat_w = quat_normalize(d.qpos[q + 3 : q + 7].copy())
                out["object_pos"][name] = self.frame.point(d, d.qpos[q : q + 3])
                quat = quat_w if pose is None else quat_mul(quat_conj(pose[1]), quat_w)
                out["object_quat"][name] = quat_canonical(quat)
                out["object_lin_vel"][name] = self.frame.vector(d, d.qvel[v : v + 3])
                # The free joint's angular velocity is in the object's own frame.
                out["object_ang_vel"][name] = self.frame.vector(d, quat_rotate(quat_w, d.qvel[v + 3 : v + 6]))
        if self.shapes:
            # The active shape is the geom that is not parked (``warplab.assets.object_shapes``: a
            # parked geom's margin is PARKED_MARGIN, far below any real one), as the env reads it.
            margin = self.model.geom_margin
            out["object_shape"] = {
                name: (margin[geoms] > 0.5 * PARKED_MARGIN).astype(np.float32)
                for name, geoms in self.shapes.items()
            }
        if self.sized:
            active = {name: self.shapes[name][out["object_shape"][name] > 0.5] for name in self.sized}
            # The size of the one active geom (the parked ones keep their compiled size).
            out["object_size"] = {
                name: self.model.geom_size[geoms[0]].copy() for name, geoms in active.items()
            }
        if self.sites:
            out["fingertip_pos"] = {s: self.frame.point(d, d.site_xpos[i]) for s, i in self.sites.items()}
        if self.points:
            out[SITE_SIGNAL] = {s: self.frame.point(d, d.site_xpos[i]) for s, i in self.points.items()}
        if self.sensors:
            m = self.model
            out["touch"] = {
                s: d.sensordata[m.sensor_adr[i] : m.sensor_adr[i] + m.sensor_dim[i]].copy()
                for s, i in self.sensors.items()
            }
        return out


def _shape_geoms(model: mujoco.MjModel, name: str) -> np.ndarray:
    """The geoms of body ``name`` in model order: the columns of its shape one-hot."""
    body = _named_id(model, mujoco.mjtObj.mjOBJ_BODY, name, "body")
    return np.flatnonzero(model.geom_bodyid == body)


def _named_id(model: mujoco.MjModel, kind: mujoco.mjtObj, name: str, what: str) -> int:
    i = mujoco.mj_name2id(model, kind, name)
    if i < 0:
        raise Sim2SimError(f"the model has no {what} {name!r}, which the policy observes")
    return i


class GoalRun:
    """One goal command of the policy (a command whose exported ``params`` name an object and a
    tolerance), run as ``OrientationGoalCommand`` runs it in training.

    Attributes:
      command: ``[7]`` the goal: position (m), orientation (w, x, y, z), world frame.
      successes: goals reached this episode.
    """

    def __init__(self, model: mujoco.MjModel, name: str, params: Mapping[str, Any], cap: int | None):
        self.name = name
        self.object = str(params["object"])
        self.qpos_adr, _ = object_joint(model, self.object)
        self.tolerance_rad = float(params["tolerance_rad"])
        self.rotation = str(params.get("rotation", "xyz"))
        if self.rotation not in ("xyz", "fixed", *_AXES):
            raise Sim2SimError(f"goal {name!r}: rotation {self.rotation!r} is not one sim2sim draws")
        self.base_quat = quat_normalize(
            np.asarray(params.get("base_quat", (1.0, 0.0, 0.0, 0.0)), dtype=np.float64)
        )
        self.position = np.asarray(params["position"], dtype=np.float64)
        self.position_range = np.asarray(params.get("position_range") or [[0.0, 0.0]] * 3, dtype=np.float64)
        tol = params.get("position_tolerance_m")
        self.position_tolerance_m = None if tol is None else float(tol)
        self.cap = cap
        self.command = np.concatenate([self.position, self.base_quat])
        self.successes = 0

    def draw(self, rng: np.random.Generator) -> None:
        """A new goal: the orientation by the rotation mode, the position about its centre."""
        if self.rotation == "xyz":
            u = rng.uniform(0.0, 1.0, 3)
            r1, r2 = math.sqrt(1.0 - u[0]), math.sqrt(u[0])
            t1, t2 = 2.0 * math.pi * u[1], 2.0 * math.pi * u[2]
            quat = np.array([r2 * math.cos(t2), r1 * math.sin(t1), r1 * math.cos(t1), r2 * math.sin(t2)])
        elif self.rotation == "fixed":
            quat = self.base_quat
        else:
            half = 0.5 * rng.uniform(-math.pi, math.pi)
            turn = np.array([math.cos(half), *(math.sin(half) * np.asarray(_AXES[self.rotation]))])
            quat = quat_mul(turn, self.base_quat)
        pos = self.position + rng.uniform(self.position_range[:, 0], self.position_range[:, 1])
        self.command = np.concatenate([pos, quat_canonical(quat)])

    def orientation_error(self, d: mujoco.MjData) -> float:
        """Angle between the object's orientation and the goal's, rad."""
        q = quat_normalize(d.qpos[self.qpos_adr + 3 : self.qpos_adr + 7].copy())
        return quat_angle(quat_mul(q, quat_conj(self.command[3:7])))

    def is_success(self, d: mujoco.MjData) -> bool:
        ok = self.orientation_error(d) < self.tolerance_rad
        if self.position_tolerance_m is not None:
            gap = np.linalg.norm(d.qpos[self.qpos_adr : self.qpos_adr + 3] - self.command[:3])
            ok = ok and bool(gap < self.position_tolerance_m)
        return bool(ok)

    def update(self, d: mujoco.MjData, rng: np.random.Generator) -> bool:
        """Judge the true state: on a success count it and draw the next goal. Returns the success."""
        success = self.is_success(d)
        if success:
            self.successes += 1
            self.draw(rng)
        return success

    @property
    def capped(self) -> bool:
        """Whether the episode's successes reached the task's success cap."""
        return self.cap is not None and self.successes >= self.cap


def goal_runs(model: mujoco.MjModel, policy: Policy) -> dict[str, GoalRun]:
    """``{command name: GoalRun}`` of the policy's goal commands (those exported with an object and a
    tolerance), with the task's success cap where it has one."""
    cap = policy.metadata.get("success_cap") or {}
    out = {}
    for name, command in policy.metadata["commands"].items():
        params = command.get("params") or {}
        if "object" in params and "tolerance_rad" in params:
            limit = int(cap["max_successes"]) if cap.get("command_name") == name else None
            out[name] = GoalRun(model, name, params, limit)
    return out


class Drops:
    """The task's dropped-object thresholds (``fall.object_dropped``)."""

    def __init__(self, model: mujoco.MjModel, thresholds: list[Mapping[str, Any]]):
        self.thresholds = [
            (
                object_joint(model, t["object"])[0],
                Frame(model, t.get("frame")),
                t.get("max_distance"),
                t.get("min_height"),
            )
            for t in thresholds
        ]

    def dropped(self, d: mujoco.MjData) -> bool:
        for q, frame, distance, height in self.thresholds:
            pos = d.qpos[q : q + 3]
            if distance is not None and np.linalg.norm(frame.point(d, pos)) > distance:
                return True
            if height is not None and pos[2] < height:
                return True
        return False
