"""Sim-to-sim: an exported policy on MuJoCo's C engine, fed and obeyed as a robot would.

The check runs the ONNX file through ``warplab.deploy.Policy`` only (``observation(signals)``, then
``act(obs)``): signals are read by joint name from ``MjData`` as a robot's drivers and IMU give them;
position targets go to position servos with the policy's gains (or to motors through a PD law),
effort targets to motors as the efforts training sent (``sim2sim_model.RobotBinding``). Actions of
another kind are refused. Physics steps at the model's timestep (``mj_step``), the policy at its own
``policy_dt``. Nothing of torch or MuJoCo Warp runs.

Perturbations, each off by default:

- sensor latency (ms, rounded to whole physics steps): every signal the robot measures reaches the
  policy that late (``DelayLine``);
- observation noise: Gaussian (or uniform, of the same standard deviation) noise on each measured
  signal, ``obs_noise`` times ``NOISE_STD``;
- motor strength: a factor on each servo's torque: kp, kd and the torque limit;
- pushes: the base's horizontal velocity changed by ``push_mps`` in a random direction every
  ``push_interval_s``.

Each episode starts in the policy's home pose and ends at ``seconds`` or at a fall (base lower than
``min_base_height``, tilted more than ``max_tilt_rad``, or a joint outside the task's joint ranges:
the task's own terminations by default), or when MuJoCo meets a NaN or huge value ("diverged") or
the policy refuses a non-finite value ("non_finite"); each episode says which. A manipulation
policy (one that observes an object, ``sim2sim_objects``) also reads the object, fingertips and
touch sensors as measured signals (delayed by the latency like the rest), runs its goal as training
does (a new goal at each success, successes counted, not delayed), and ends an episode when the
object is dropped ("dropped") or at the task's success cap ("success_cap").
``run_sim2sim`` returns the report (``docs/deployment.md`` explains every field).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import mujoco
import numpy as np

from warplab.assets.terrain_generator import TERRAIN_RAY_GROUP
from warplab.deploy.object_signals import MANIPULATION_SIGNALS
from warplab.deploy.policy import NonFiniteError, Policy
from warplab.deploy.sim2sim_model import (
    RobotBinding,
    Sim2SimError,
    bind_robot,
    check_policy_fits,
    load_model,
    registry_fall_thresholds,
    set_gains,
)
from warplab.deploy.sim2sim_objects import Drops, ObjectSensing, goal_runs

NOISE_STD = {
    "joint_pos": 0.01 / math.sqrt(3.0),
    "joint_vel": 1.5 / math.sqrt(3.0),
    "base_ang_vel": 0.2 / math.sqrt(3.0),
    "projected_gravity": 0.05 / math.sqrt(3.0),
}
"""Standard deviation of each measured signal's noise at ``obs_noise=1`` (rad, rad/s, rad/s, and
unit-vector components): the spread of the uniform noise ``humanoid-velocity-flat`` trains with
(half-widths 0.01, 1.5, 0.2 and 0.05, divided by sqrt(3))."""

VELOCITY_COMPONENTS = ["lin_vel_x", "lin_vel_y", "ang_vel_z"]


MAX_EPISODE_S = 86_400.0
"""Longest episode sim-to-sim runs, s: a day of simulated time (longer ones only look like a hang)."""

MAX_EPISODES = 100_000
"""Most episodes one sim-to-sim check runs."""


@dataclasses.dataclass
class Sim2SimCfg:
    """What to run and how to perturb it; every perturbation is off by default."""

    seconds: float = 20.0
    """Length of each episode, s of simulated time (a fall ends it earlier)."""
    episodes: int = 5
    """Episodes to run; each starts in the home pose."""
    latency_ms: float = 0.0
    """Sensor latency, ms: the policy sees every measured signal this late (rounded to physics steps)."""
    obs_noise: float = 0.0
    """Observation noise level: each measured signal gets noise of ``obs_noise * NOISE_STD`` std."""
    noise_kind: Literal["gaussian", "uniform"] = "gaussian"
    """Noise distribution; a uniform one has the same standard deviation (half-width sqrt(3) std)."""
    motor_strength: float = 1.0
    """Factor on every joint's torque (kp, kd and the torque limit together)."""
    push_mps: float = 0.0
    """Horizontal velocity change of each push, m/s (0: no pushes)."""
    push_interval_s: float = 5.0
    """Time between pushes, s."""
    command: tuple[float, ...] | None = None
    """A fixed command (for a velocity command: vx m/s, vy m/s, yaw rate rad/s); None: drawn
    uniformly from the ranges the policy was trained with, again every ``command_resample_s``."""
    command_resample_s: float = 10.0
    """Time between command draws, s (when ``command`` is None)."""
    seed: int = 0
    """Seed of the command draws, the noise and the push directions."""
    min_base_height: float | None = None
    """Fall when the base is lower, m; None: the task's threshold from the policy file."""
    max_tilt_deg: float | None = None
    """Fall when the base tilts more from upright, degrees; None: the task's threshold."""

    def check(self) -> None:
        """Raise ``Sim2SimError`` naming the first value out of range (NaN and infinity included)."""

        def finite(value: Any) -> bool:
            return isinstance(value, (int, float)) and math.isfinite(value)

        tilt, height = self.max_tilt_deg, self.min_base_height
        rules = [
            (
                "seconds",
                finite(self.seconds) and 0 < self.seconds <= MAX_EPISODE_S,
                f"a number > 0 and at most {MAX_EPISODE_S:g} s (a day of simulated time)",
            ),
            (
                "episodes",
                isinstance(self.episodes, int) and 1 <= self.episodes <= MAX_EPISODES,
                f"an integer from 1 to {MAX_EPISODES:,}",
            ),
            (
                "latency_ms",
                finite(self.latency_ms) and 0 <= self.latency_ms <= 1e3 * self.seconds,
                f"a number >= 0 and no longer than the episode ({1e3 * self.seconds:g} ms)",
            ),
            ("obs_noise", finite(self.obs_noise) and self.obs_noise >= 0, "a finite number >= 0"),
            ("noise_kind", self.noise_kind in ("gaussian", "uniform"), "'gaussian' or 'uniform'"),
            (
                "motor_strength",
                finite(self.motor_strength) and self.motor_strength > 0,
                "a finite number > 0",
            ),
            ("push_mps", finite(self.push_mps) and self.push_mps >= 0, "a finite number >= 0"),
            (
                "push_interval_s",
                finite(self.push_interval_s) and self.push_interval_s > 0,
                "a finite number > 0",
            ),
            (
                "command",
                self.command is None or all(finite(v) for v in self.command),
                "finite numbers (m/s, m/s, rad/s for a velocity command)",
            ),
            (
                "command_resample_s",
                finite(self.command_resample_s) and self.command_resample_s > 0,
                "a finite number > 0",
            ),
            ("seed", isinstance(self.seed, int) and self.seed >= 0, "an integer >= 0"),
            ("min_base_height", height is None or finite(height), "a finite height in m"),
            (
                "max_tilt_deg",
                tilt is None or (finite(tilt) and 0 < tilt <= 180),
                "an angle in (0, 180] degrees",
            ),
        ]
        for name, ok, rule in rules:
            if not ok:
                raise Sim2SimError(f"--{name.replace('_', '-')} must be {rule}, got {getattr(self, name)!r}")


class DelayLine:
    """A fixed delay of ``steps`` pushes: ``read()`` gives what was pushed ``steps`` pushes ago.

    Until that many values exist it gives the oldest it has (the episode's first), as a sensor bus
    that starts up delivers its first sample until the pipeline fills.
    """

    def __init__(self, steps: int):
        if steps < 0:
            raise ValueError(f"a delay line needs steps >= 0, got {steps}")
        self.steps = steps
        self._values: deque = deque(maxlen=steps + 1)

    def push(self, value: Any) -> None:
        self._values.append(value)

    def read(self) -> Any:
        if not self._values:
            raise ValueError("read() before any push()")
        return self._values[0]

    def clear(self) -> None:
        self._values.clear()


def rotate_inverse(quat_wxyz: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``v`` (world frame) in the frame of ``quat`` (w, x, y, z): R(quat)^T v."""
    w, u = float(quat_wxyz[0]), np.asarray(quat_wxyz[1:], dtype=np.float64)
    return v * (2.0 * w * w - 1.0) - 2.0 * w * np.cross(u, v) + 2.0 * u * np.dot(u, v)


_DOWN = np.array([0.0, 0.0, -1.0])

_DIVERGENCE_WARNINGS = tuple(
    int(w)
    for w in (
        mujoco.mjtWarning.mjWARN_BADQPOS,
        mujoco.mjtWarning.mjWARN_BADQVEL,
        mujoco.mjtWarning.mjWARN_BADQACC,
        mujoco.mjtWarning.mjWARN_BADCTRL,
    )
)
"""MuJoCo's warnings for a NaN or huge value in the state or controls; after one it resets the data."""


def _divergence(d: mujoco.MjData) -> str:
    """Which of MuJoCo's divergence warnings fired, and where (``BADQACC at 3`` names DOF 3)."""
    named = [
        f"{mujoco.mjtWarning(w).name.removeprefix('mjWARN_')} at {d.warning[w].lastinfo}"
        for w in _DIVERGENCE_WARNINGS
        if d.warning[w].number > 0
    ]
    return f"MuJoCo met a NaN or huge value ({', '.join(named)}) and reset the state"


def _joint_ranges(
    model: mujoco.MjModel, ranges: dict[str, list[float]]
) -> list[tuple[int, int, float, float]]:
    """``[(joint id, qpos address, low, high)]`` of the fall ranges whose joints the model has
    (hinge and slide joints only: one qpos each)."""
    out = []
    for name, (low, high) in ranges.items():
        j = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
        scalar = j >= 0 and int(model.jnt_type[j]) in (
            int(mujoco.mjtJoint.mjJNT_HINGE),
            int(mujoco.mjtJoint.mjJNT_SLIDE),
        )
        if scalar:
            out.append((j, int(model.jnt_qposadr[j]), float(low), float(high)))
    return out


@dataclasses.dataclass
class Streams:
    """Separate random streams for the commands, the noise and the pushes, so that two checks with
    the same seed draw the same commands whatever their noise or pushes (paired comparisons)."""

    command: np.random.Generator
    noise: np.random.Generator
    push: np.random.Generator

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        return cls(*(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3)))


class Sim2Sim:
    """One policy in one ``MjModel``, with the perturbations of ``cfg``.

    Attributes:
      decimation: physics steps per policy step.
      latency_steps: the sensor latency in physics steps.
      noise_std: ``{signal: std}`` actually applied.
    """

    def __init__(self, policy: Policy, model: mujoco.MjModel, cfg: Sim2SimCfg, model_source: str = "model"):
        cfg.check()
        check_policy_fits(policy)
        # A copy: the gains and limits set below must not reach the caller's model, where a second
        # check (another motor strength, say) would read them as the model's own.
        model = copy.deepcopy(model)
        self.policy, self.model, self.cfg, self.model_source = policy, model, cfg, model_source
        self.robot: RobotBinding = bind_robot(model, policy)
        self.dt = float(model.opt.timestep)
        ratio = policy.policy_dt / self.dt
        self.decimation = int(round(ratio))
        if self.decimation < 1 or abs(ratio - self.decimation) > 1e-6 * ratio:
            raise Sim2SimError(
                f"the policy's dt ({policy.policy_dt} s) is not a whole number of the model's timestep "
                f"({self.dt} s); give a model whose timestep divides it"
            )
        self.latency_steps = int(round(cfg.latency_ms * 1e-3 / self.dt))
        self.noise_std = {k: cfg.obs_noise * s for k, s in NOISE_STD.items()} if cfg.obs_noise > 0 else {}
        joint_names = [model.joint(i).name for i in range(model.njnt)]
        meta_fall = policy.metadata.get("fall") or registry_fall_thresholds(policy, joint_names)
        if "joint_ranges" not in meta_fall:
            # A file from before the joint ranges were recorded: the task registry has them.
            meta_fall = {
                **meta_fall,
                "joint_ranges": registry_fall_thresholds(policy, joint_names)["joint_ranges"],
            }
        self._joint_ranges = _joint_ranges(model, meta_fall["joint_ranges"])
        """``[(qpos address, low, high)]``: a joint outside its range is a fall (the task's
        ``joint_pos_out_of_range`` terminations; the cart-pole's pole)."""
        self.min_base_height = (
            cfg.min_base_height if cfg.min_base_height is not None else meta_fall.get("min_base_height")
        )
        tilt = (
            math.radians(cfg.max_tilt_deg) if cfg.max_tilt_deg is not None else meta_fall.get("max_tilt_rad")
        )
        self.max_tilt_rad = tilt
        if self.robot.base_body is None and cfg.push_mps > 0:
            fixed = (policy.metadata.get("scene") or {}).get("fixed_base") is True
            why = "the policy's robot is fixed to the world" if fixed else "the model has no free joint"
            raise Sim2SimError(f"--push-mps needs a robot with a floating base; {why}: leave it at 0")
        self._velocity_command = next(
            (n for n, c in policy.metadata["commands"].items() if c.get("components") == VELOCITY_COMPONENTS),
            None,
        )
        for name, command in policy.metadata["commands"].items():
            if cfg.command is not None and len(cfg.command) != int(command["size"]):
                raise Sim2SimError(
                    f"--command has {len(cfg.command)} values; the policy's command {name!r} has {command['size']} "
                    f"({', '.join(command['components'])})"
                )
        self._object_joints = list(
            dict.fromkeys(
                j
                for t in policy.observation_terms
                if t.get("signal") in ("object_joint_pos", "object_joint_vel")
                for j in t["params"]["joints"]
            )
        )
        """The joints of articulated objects the policy observes (``object_joint_pos``/``_vel``)."""
        self._needs_scan = any(t.get("signal") == "height_scan" for t in policy.observation_terms)
        self._scan_groups = _scan_geom_groups(model)
        """The geom groups a scan ray may hit: only generated terrain's ray-casting copy where the
        scene has one (as in training), else every group (the robot's geoms are passed through)."""
        self._objects = ObjectSensing(model, policy)
        self.goals = goal_runs(model, policy)
        """``{command name: GoalRun}``: the goals this check runs as training does (``sim2sim_objects``)."""
        self._drops = Drops(model, meta_fall.get("object_dropped") or [])
        self.manipulation = self._objects.active or bool(self.goals) or bool(self._drops.thresholds)
        """Whether the policy handles an object: the report then counts successes and drops."""
        self.data = mujoco.MjData(model)
        self.physics_steps = 0
        """Physics steps taken so far, all episodes."""
        self.trace: list[tuple[str, int, dict[str, np.ndarray]]] | None = None
        """When a list: every episode's ``("sensed", physics step, signals)`` at each physics step
        (step 0: the start) and ``("measured", physics step, signals)``, what each policy step
        received (after latency, before noise); for checking the loop."""
        set_gains(model, self.robot, cfg.motor_strength)

    # ------------------------------------------------------------------ the robot's side
    def sense(self) -> dict[str, np.ndarray]:
        """What the robot measures now: joint positions and velocities (of ``robot.sensed_joints``:
        the policy's, then the joints only its observation reads), the base's gyro (body frame) and
        gravity direction; raw arrays, before latency and noise."""
        d, r = self.data, self.robot
        out = {"joint_pos": d.qpos[r.sensed_qpos_adr].copy(), "joint_vel": d.qvel[r.sensed_dof_adr].copy()}
        if r.base_body is not None:
            q, v = r.base_adr()
            # A free joint's angular velocity is in the body frame, as a gyro on the base reads it.
            out["base_ang_vel"] = d.qvel[v + 3 : v + 6].copy()
            out["projected_gravity"] = rotate_inverse(d.qpos[q + 3 : q + 7], _DOWN)
        if self._needs_scan:
            out["height_scan"] = self._height_scan()
        if self._objects.active:
            out.update(self._objects.sense(d))
        return out

    def corrupt(self, sensed: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``sensed`` with each signal's noise added (``noise_std``; a uniform draw of the same std)."""
        out = dict(sensed)
        for name, std in self.noise_std.items():
            if name not in out or std <= 0:
                continue
            shape = np.shape(out[name])
            if self.cfg.noise_kind == "gaussian":
                noise = rng.normal(0.0, std, shape)
            else:
                half = math.sqrt(3.0) * std
                noise = rng.uniform(-half, half, shape)
            out[name] = out[name] + noise
        return out

    def signals(self, measured: dict[str, np.ndarray], commands: dict[str, np.ndarray]) -> dict[str, Any]:
        """The signals dict a robot hands to ``Policy.observation``."""
        names = self.robot.sensed_joints
        out: dict[str, Any] = {
            "joint_pos": dict(zip(names, measured["joint_pos"].tolist(), strict=True)),
            "joint_vel": dict(zip(names, measured["joint_vel"].tolist(), strict=True)),
            "commands": commands,
            "last_action": self.policy.last_action,
        }
        # An articulated object's joints (a drawer's slide) are sensed with the robot's, and handed over
        # under their own signals, as a tracker on the object gives them.
        for key, source in (("object_joint_pos", "joint_pos"), ("object_joint_vel", "joint_vel")):
            if self._object_joints:
                out[key] = {j: out[source][j] for j in self._object_joints}
        for key in ("base_ang_vel", "projected_gravity", "height_scan", *MANIPULATION_SIGNALS):
            if key in measured:
                out[key] = measured[key]
        return out

    def actuate(self, targets: np.ndarray) -> None:
        """Send joint targets: servos get position targets as ``ctrl`` (MuJoCo clamps them to the
        control range); motors under position actions get the PD torque of this instant toward the
        target clamped to the same range; motors under effort actions get the effort the target
        stands for (``effort_per_target`` times the target clamped to its range), as ``ctrl``."""
        d, r = self.data, self.robot
        servo = r.servo
        d.ctrl[r.actuator[servo]] = targets[servo]
        if r.pd.any():
            motor = r.pd
            s = self.cfg.motor_strength
            q, qd = d.qpos[r.qpos_adr[motor]], d.qvel[r.dof_adr[motor]]
            target = np.clip(targets[motor], r.target_range[motor, 0], r.target_range[motor, 1])
            torque = s * (r.kp[motor] * (target - q) - r.kd[motor] * qd)
            limit = s * r.effort_limit[motor]
            d.ctrl[r.actuator[motor]] = np.clip(torque, -limit, limit) / r.gear[motor]
        if r.effort.any():
            e = r.effort
            target = np.clip(targets[e], r.target_range[e, 0], r.target_range[e, 1])
            # The joint effort the policy asked for, in this model's control unit; motor strength
            # is in the motor's gain (``set_gains``), as in training.
            d.ctrl[r.actuator[e]] = r.effort_per_target[e] * target / (r.gear[e] * r.motor_gain[e])

    def push(self, rng: np.random.Generator) -> np.ndarray:
        """Add ``push_mps`` to the base's horizontal velocity in a random direction; returns the kick."""
        angle = rng.uniform(0.0, 2.0 * math.pi)
        kick = self.cfg.push_mps * np.array([math.cos(angle), math.sin(angle)])
        _, v = self.robot.base_adr()
        self.data.qvel[v : v + 2] += kick
        return kick

    def _height_scan(self) -> np.ndarray:
        """The policy's ``height_scan`` signal: base height minus the height of the scene's static
        ground (geoms welded to the world: floor, terrain) at the term's ``grid_xy`` points, turned
        with the base's heading, each cast down with ``mj_ray``; a point over no ground reads the
        clip's upper end. The robot's own geoms never shade the ground: a ray that meets a moving
        geom is cast again from just below it."""
        term = next(t for t in self.policy.observation_terms if t.get("signal") == "height_scan")
        params = term["params"]
        grid = np.asarray(params["grid_xy"], dtype=np.float64)
        low, high = params["clip"]
        start = float(params.get("start_height", 5.0))
        m, d, r = self.model, self.data, self.robot
        q, _ = r.base_adr()
        base = d.qpos[q : q + 3]
        w, x, y, z = d.qpos[q + 3 : q + 7]
        yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        c, s = math.cos(yaw), math.sin(yaw)
        geomid = np.zeros(1, dtype=np.int32)
        out = np.full(len(grid), high, dtype=np.float64)
        for i, (gx, gy) in enumerate(grid):
            origin = np.array([base[0] + c * gx - s * gy, base[1] + s * gx + c * gy, base[2] + start])
            travelled = 0.0
            # Each hop passes one face of a robot's geom (a ray from inside a geom meets its far
            # side), so a scene's geoms bound the hops.
            for _ in range(2 * m.ngeom + 1):
                dist = mujoco.mj_ray(m, d, origin, _DOWN, self._scan_groups, 1, -1, geomid)
                if dist < 0:
                    break
                if m.body_weldid[m.geom_bodyid[geomid[0]]] == 0:
                    out[i] = travelled + dist - start
                    break
                # A geom of the robot (or another moving body): go on from just below it.
                step = dist + 1e-6
                origin[2] -= step
                travelled += step
        return np.clip(out, low, high)

    # ------------------------------------------------------------------ episodes
    def _draw_commands(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for name, command in self.policy.metadata["commands"].items():
            if name in self.goals:
                out[name] = self.goals[name].command.astype(np.float32)  # Drawn at a success.
            elif self.cfg.command is not None:
                out[name] = np.asarray(self.cfg.command, dtype=np.float32)
            elif command.get("ranges"):
                lo, hi = np.asarray(command["ranges"], dtype=np.float64).T
                out[name] = rng.uniform(lo, hi).astype(np.float32)
            else:
                out[name] = np.zeros(int(command["size"]), dtype=np.float32)
        return out

    def _diverged(self) -> bool:
        """Whether MuJoCo met a NaN or a huge value in this episode (it then resets the state)."""
        return any(self.data.warning[w].number > 0 for w in _DIVERGENCE_WARNINGS)

    def _fell(self) -> bool:
        r, d = self.robot, self.data
        for _, qadr, low, high in self._joint_ranges:
            if not low <= d.qpos[qadr] <= high:
                return True
        if r.base_body is None:
            return False
        q, _ = r.base_adr()
        if self.min_base_height is not None and d.qpos[q + 2] < self.min_base_height:
            return True
        if self.max_tilt_rad is not None:
            gravity_z = rotate_inverse(d.qpos[q + 3 : q + 7], _DOWN)[2]
            if gravity_z > -math.cos(self.max_tilt_rad):
                return True
        return False

    def run_episode(self, rng: Streams, record: list[np.ndarray] | None = None) -> dict[str, Any]:
        """One episode; appends ``qpos`` after every policy step to ``record`` when given."""
        m, d, r, cfg, policy = self.model, self.data, self.robot, self.cfg, self.policy
        mujoco.mj_resetData(m, d)
        d.qpos[:] = r.init_qpos
        mujoco.mj_forward(m, d)
        policy.reset()
        line = DelayLine(self.latency_steps)
        sensed = self.sense()
        line.push(sensed)
        if self.trace is not None:
            self.trace.append(("sensed", 0, sensed))
        steps = max(1, int(round(cfg.seconds / policy.policy_dt)))
        resample_every = max(1, int(round(cfg.command_resample_s / policy.policy_dt)))
        push_every = max(1, int(round(cfg.push_interval_s / policy.policy_dt)))
        lin_err, yaw_err, alive, pushes, fell = 0.0, 0.0, 0, 0, False
        end, fault = "time", None
        commands: dict[str, np.ndarray] = {}
        drawn = []
        dropped, successes_before = False, 0
        for goal in self.goals.values():
            goal.successes = 0
            goal.draw(rng.command)
        for step in range(steps):
            if step % resample_every == 0 and (cfg.command is None or step == 0):
                commands = self._draw_commands(rng.command)
                drawn.append({k: v.tolist() for k, v in commands.items()})
            if self.goals:
                # A goal changes at a success, not on the timer; it is not delayed (the robot sets it).
                successes = sum(g.successes for g in self.goals.values())
                if successes != successes_before:
                    commands = self._draw_commands(rng.command)
                    drawn.append({k: v.tolist() for k, v in commands.items()})
                    successes_before = successes
            measured = line.read()
            if self.trace is not None:
                self.trace.append(("measured", step * self.decimation, measured))
            try:
                obs = policy.observation(self.signals(self.corrupt(measured, rng.noise), commands))
                targets = policy.act(obs)
            except NonFiniteError as error:
                # A robot's safety layer would take over here; the check ends the episode and says why.
                end, fault = "non_finite", str(error)
                break
            for i in range(self.decimation):
                self.actuate(targets)
                mujoco.mj_step(m, d)
                if self._diverged():
                    break
                sensed = self.sense()
                line.push(sensed)
                if self.trace is not None:
                    self.trace.append(("sensed", step * self.decimation + i + 1, sensed))
            self.physics_steps += self.decimation
            if self._diverged():
                # MuJoCo reset the state after a NaN or a huge value: what follows is no longer this
                # episode, so it ends here.
                end, fault = "diverged", _divergence(d)
                break
            if cfg.push_mps > 0 and (step + 1) % push_every == 0:
                self.push(rng.push)
                pushes += 1
            if record is not None:
                record.append(d.qpos.copy())
            if self._fell():
                fell, end = True, "fall"
                break
            if self._drops.dropped(d):
                dropped, end = True, "dropped"
                break
            alive += 1
            # As training's goal command: the true state is judged after the step, a success counted
            # and the next goal drawn; the task's success cap completes the episode.
            for goal in self.goals.values():
                goal.update(d, rng.command)
            if any(g.capped for g in self.goals.values()):
                end = "success_cap"
                break
            if self._velocity_command is not None and r.base_body is not None:
                command = commands[self._velocity_command]
                q, v = r.base_adr()
                lin_b = rotate_inverse(d.qpos[q + 3 : q + 7], d.qvel[v : v + 3])
                lin_err += float(np.hypot(command[0] - lin_b[0], command[1] - lin_b[1]))
                yaw_err += abs(float(command[2]) - float(d.qvel[v + 5]))
        tracked = self._velocity_command is not None and r.base_body is not None and alive > 0
        episode = {
            "survival_s": round(alive * policy.policy_dt, 6),
            "fell": fell,
            "end": end,
            "fault": fault,
            "lin_vel_error_m_s": lin_err / alive if tracked else None,
            "yaw_rate_error_rad_s": yaw_err / alive if tracked else None,
            "pushes": pushes,
            "commands": drawn,
        }
        if self.manipulation:
            episode["consecutive_successes"] = sum(g.successes for g in self.goals.values())
            episode["dropped"] = dropped
        return episode

    @staticmethod
    def _manipulation_summary(episodes: list[dict[str, Any]]) -> dict[str, Any]:
        successes = [e["consecutive_successes"] for e in episodes]
        drops = sum(e["dropped"] for e in episodes)
        return {
            "consecutive_successes_mean": float(np.mean(successes)),
            "consecutive_successes_max": int(np.max(successes)),
            "dropped": drops,
            "drop_rate": drops / len(episodes),
        }

    def run(self, record: list[np.ndarray] | None = None) -> dict[str, Any]:
        """Every episode, and the report."""
        rng = Streams.from_seed(self.cfg.seed)
        started = time.perf_counter()
        episodes = [self.run_episode(rng, record) for _ in range(self.cfg.episodes)]
        wall = time.perf_counter() - started
        return self.report(episodes, wall)

    def report(self, episodes: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
        policy = self.policy

        def mean(key: str) -> float | None:
            values = [e[key] for e in episodes if e[key] is not None]
            return float(np.mean(values)) if values else None

        falls = sum(e["fell"] for e in episodes)
        ends = [e["end"] for e in episodes]
        survival = [e["survival_s"] for e in episodes]
        return {
            "policy": policy.source,
            "task": policy.metadata.get("task"),
            "model": self.model_source,
            "physics_dt": self.dt,
            "policy_dt": policy.policy_dt,
            "decimation": self.decimation,
            "settings": {
                **dataclasses.asdict(self.cfg),
                "latency_steps": self.latency_steps,
                "latency_applied_ms": self.latency_steps * self.dt * 1e3,
                "noise_std": self.noise_std,
                "min_base_height": self.min_base_height,
                "max_tilt_rad": self.max_tilt_rad,
                "joint_ranges": {self.model.joint(j).name: [lo, hi] for j, _, lo, hi in self._joint_ranges},
            },
            "summary": {
                "episodes": len(episodes),
                "falls": falls,
                "fall_rate": falls / len(episodes),
                "diverged": ends.count("diverged"),
                "non_finite": ends.count("non_finite"),
                "survival_s_mean": float(np.mean(survival)),
                "survival_s_min": float(np.min(survival)),
                "lin_vel_error_m_s": mean("lin_vel_error_m_s"),
                "yaw_rate_error_rad_s": mean("yaw_rate_error_rad_s"),
                **(self._manipulation_summary(episodes) if self.manipulation else {}),
            },
            "episodes": episodes,
            "wall_s": wall_s,
            "physics_steps_per_s": self.physics_steps / wall_s if wall_s > 0 else None,
        }


def _scan_geom_groups(model: mujoco.MjModel) -> np.ndarray | None:
    """``mj_ray``'s geom group filter for height scans: only ``TERRAIN_RAY_GROUP`` when the scene has
    geoms of that group and all are fixed to the world (generated terrain's ray-casting copy, which
    training's scan reads), else None (every group)."""
    ray_geoms = np.flatnonzero(model.geom_group == TERRAIN_RAY_GROUP)
    if ray_geoms.size == 0 or (model.body_weldid[model.geom_bodyid[ray_geoms]] != 0).any():
        return None
    groups = np.zeros(6, dtype=np.uint8)
    groups[TERRAIN_RAY_GROUP] = 1
    return groups


def run_sim2sim(
    policy: str | Path | Policy,
    cfg: Sim2SimCfg | None = None,
    model: str | Path | None = None,
    robot: str | None = None,
    video: str | Path | None = None,
    video_fps: float = 30.0,
    terrain: str | None = None,
    terrain_difficulty: float = 0.5,
) -> dict[str, Any]:
    """Run ``policy`` (an ONNX file or a loaded ``Policy``) on MuJoCo's C engine; return the report.

    Args:
      model, robot: the model to run in (``sim2sim_model.load_model``); default: the policy's own scene.
      terrain, terrain_difficulty: for a task on generated terrain, its scene with one tile of this
        terrain type (``"stairs_up"``...) at this difficulty in [0, 1] (``load_model``).
      video: an MP4 of every episode, one after another, at ``video_fps`` in real time (the renderer
        is chosen first, so a missing one raises ``RenderError`` before the episodes run).

    Raises:
      PolicyError: the policy file is missing or bad, or reads a signal the check cannot produce.
      Sim2SimError: a setting is out of range, or the model does not fit the policy.
    """
    cfg = cfg or Sim2SimCfg()
    cfg.check()
    if not isinstance(policy, Policy):
        policy = Policy.load(policy)
    if video is not None:
        from warplab.viz.backends import choose_renderer
        from warplab.viz.video import check_video_path

        # A file name no video can have, and a missing renderer, are reported before the episodes run.
        check_video_path(video)
        choose_renderer()
    mj_model, source = load_model(policy, model, robot, terrain, terrain_difficulty)
    check = Sim2Sim(policy, mj_model, cfg, source)
    if video is None:
        return check.run()
    record: list[np.ndarray] = []
    report = check.run(record)
    report["video"] = str(_write_video(check, record, Path(video), video_fps))
    return report


def _write_video(check: Sim2Sim, qpos: Sequence[np.ndarray], out: Path, fps: float) -> Path:
    """The episodes one after another, ``fps`` frames a second in real time."""
    from warplab.viz.render import iter_frames
    from warplab.viz.video import frame_indices, write_mp4

    if not qpos:  # an episode that ended before its first step: the model's initial pose
        qpos = [check.model.qpos0.copy()]
    steps = frame_indices(len(qpos), check.policy.policy_dt, fps)
    base = check.robot.base_body
    track = None if base is None else check.model.body(base).name
    frames = iter_frames(check.model, np.asarray(qpos)[steps], 640, 480, track, 3.0, -15.0, 120.0)
    return write_mp4(frames, out, fps=fps)


def summary_line(report: dict[str, Any]) -> str:
    """One line of the report for people: falls, survival and tracking."""
    s = report["summary"]
    parts = [
        f"{s['falls']}/{s['episodes']} episodes fell",
        f"survival {s['survival_s_mean']:.2f} s (min {s['survival_s_min']:.2f} s)",
    ]
    for key, what in (("diverged", "diverged"), ("non_finite", "stopped on a non-finite value")):
        if s[key]:
            parts.append(f"{s[key]} {what}")
    if "consecutive_successes_mean" in s:
        parts.append(
            f"{s['dropped']} dropped the object, successes {s['consecutive_successes_mean']:.2f} "
            f"(max {s['consecutive_successes_max']})"
        )
    if s["lin_vel_error_m_s"] is not None:
        parts.append(f"velocity error {s['lin_vel_error_m_s']:.3f} m/s")
        parts.append(f"yaw-rate error {s['yaw_rate_error_rad_s']:.3f} rad/s")
    return ", ".join(parts)
