"""The batched simulation: one MuJoCo model, ``num_worlds`` independent copies on the device.

The model is compiled by MuJoCo's C engine on the CPU (from an ``MjModel`` or an ``MjSpec``) and
put on the device with MuJoCo Warp. Every state and output array is exposed as a torch tensor that
shares memory with the Warp array (no copy, ever), with the world as the leading dimension.

On CUDA the physics substeps of one call to ``step`` are captured once into a CUDA graph and
replayed. A change that swaps a Warp array of the model (making a field per-world) drops the
captured graphs, and the next step captures again.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Callable

import mujoco
import mujoco_warp as mjw
import numpy as np
import torch
import warp as wp

from warplab._capture import no_garbage_collection
from warplab.sim.capacity import Capacity, size_buffers
from warplab.sim.device import resolve_device, torch_device
from warplab.sim.divergence import CAUSES as DIVERGENCE_CAUSES
from warplab.sim.divergence import DivergenceBounds, divergence_bounds
from warplab.sim.errors import CapacityError, SimulationError
from warplab.sim.memory import check_worlds_fit
from warplab.sim.model_fields import PerWorldFields
from warplab.sim.static_poses import StaticPoses

# Overflow bits that mean lost contacts or constraints. The solver's iteration limits also set
# bits in ``d.overflow``; those are normal and not errors.
_CAPACITY_BITS = int(
    mjw.OverflowType.NEFC
    | mjw.OverflowType.NJMAX_NNZ
    | mjw.OverflowType.BROADPHASE
    | mjw.OverflowType.NARROWPHASE
    | mjw.OverflowType.CCD
    | mjw.OverflowType.HFIELD
    | mjw.OverflowType.NVMAX
    | mjw.OverflowType.EPA_HORIZON
)


STATE_FIELDS = (
    "time",
    "qpos",
    "qvel",
    "act",
    "history",
    "plastic",
    "qacc_warmstart",
    "ctrl",
    "qfrc_applied",
    "xfrc_applied",
    "eq_active",
    "mocap_pos",
    "mocap_quat",
    "userdata",
    "tree_asleep",
    "overflow",
)
"""Data arrays that, with the model, decide every later step: MuJoCo's ``mjSTATE_INTEGRATION``
(physics, user inputs, solver warm start) plus the sleep and overflow flags. The rest of ``data``
(body poses, contacts, forces, sensors) is what ``forward`` computes from them."""


@dataclasses.dataclass
class SimCfg:
    """Settings of the batched simulation."""

    nconmax: int | None = None
    """Contacts per world. None sizes it from the model (a probe on MuJoCo's C engine, with headroom)."""
    njmax: int | None = None
    """Constraint rows per world. None sizes it from the model."""
    capacity_headroom: float = 2.0
    """Factor over the most contacts and constraint rows the probe saw."""
    use_cuda_graph: bool = True
    """Capture the physics substeps in a CUDA graph (CUDA only)."""
    max_abs_qvel: float | None = None
    """A world with a joint speed above this (m/s or rad/s, every dof) counts as diverged and is
    reset. None: per dof from the model, ``pi / timestep`` for rotations (half a turn per physics
    step) and ``stat.extent / timestep`` for translations (the model's size per step)."""
    max_abs_qacc: float = 1e7
    """A world with a joint acceleration above this (m/s^2 or rad/s^2) counts as diverged and is reset."""
    joint_range_margin: float = 0.5
    """A world with a limited hinge or slide joint past its range by more than this fraction of the
    range's width, plus 0.5 rad (hinge) or 0.1 m (slide), counts as diverged and is reset. MuJoCo's
    soft limits let joints pass a little (the built-in tasks: up to a quarter of the range). inf:
    ranges unchecked."""
    max_free_distance: float | None = None
    """A world with a free joint's (or an unlimited slide's) position farther than this, m, per axis
    from the model's centre (``stat.center``; from its start for slides) counts as diverged and is
    reset. None: 1000 times the model's size (``stat.extent``)."""


def _compile(model: mujoco.MjModel | mujoco.MjSpec) -> mujoco.MjModel:
    if isinstance(model, mujoco.MjModel):
        return model
    if isinstance(model, mujoco.MjSpec):
        return model.compile()
    raise TypeError(f"Simulation needs a mujoco.MjModel or mujoco.MjSpec, got {type(model).__name__}")


class ContactView:
    """Zero-copy views of the contacts of all worlds (MuJoCo Warp keeps them in one list).

    Only the first ``count`` entries are valid; ``worldid`` says which world each belongs to.
    Shapes: ``dist [naconmax]`` (m, negative in penetration), ``pos [naconmax, 3]`` (world frame, m),
    ``frame [naconmax, 3, 3]`` (rows: normal, then two tangents), ``geom [naconmax, 2]``,
    ``worldid [naconmax]``, ``count [1]``.
    """

    def __init__(self, d: mjw.Data):
        self.dist = wp.to_torch(d.contact.dist)
        self.pos = wp.to_torch(d.contact.pos)
        self.frame = wp.to_torch(d.contact.frame)
        self.geom = wp.to_torch(d.contact.geom)
        self.worldid = wp.to_torch(d.contact.worldid)
        self.count = wp.to_torch(d.nacon)


class Simulation:
    """``num_worlds`` copies of one MuJoCo model stepping together on one device.

    Args:
      model: the robot and scene, as a compiled ``MjModel`` or an ``MjSpec`` (compiled here).
      num_worlds: how many independent worlds to simulate.
      device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
      cfg: buffer sizes, CUDA graph and divergence settings.

    Attributes (torch views shaped ``[num_worlds, ...]``, sharing memory with the device arrays):
      qpos [N, nq], qvel [N, nv], qacc [N, nv], ctrl [N, nu], act [N, na], xpos [N, nbody, 3] (world
      frame, m), xquat [N, nbody, 4] (w, x, y, z), xmat [N, nbody, 3, 3], site_xpos [N, nsite, 3]
      (world frame, m), site_xmat [N, nsite, 3, 3] (site axes as columns, in the world frame),
      geom_xpos [N, ngeom, 3] (world frame, m), geom_xmat [N, ngeom, 3, 3], cvel [N, nbody, 6] (rot:lin,
      at the subtree centre of mass), subtree_com [N, nbody, 3], sensordata [N, nsensordata],
      qfrc_actuator [N, nv], cfrc_ext [N, nbody, 6] (rot:lin, contact and external forces on each
      body, computed after the constraint solve), actuator_force [N, nu], time [N] (s), and
      ``contact`` (a ``ContactView``).
    """

    def __init__(
        self,
        model: mujoco.MjModel | mujoco.MjSpec,
        num_worlds: int,
        device: str = "auto",
        cfg: SimCfg | None = None,
    ):
        if not isinstance(num_worlds, int) or num_worlds < 1:
            raise ValueError(f"num_worlds must be a positive integer, got {num_worlds!r}")
        self.cfg = cfg or SimCfg()
        self.mj_model: mujoco.MjModel = _compile(model)
        self.num_worlds = num_worlds
        self.wp_device = resolve_device(device)
        self.device = torch_device(self.wp_device)
        self.capacity: Capacity = size_buffers(
            self.mj_model, self.cfg.nconmax, self.cfg.njmax, self.cfg.capacity_headroom
        )
        # Before anything is allocated on the device: too many worlds is one clear line naming how many fit.
        check_worlds_fit(
            self.mj_model, num_worlds, self.capacity.nconmax, self.capacity.njmax, self.wp_device
        )
        with wp.ScopedDevice(self.wp_device):
            self.model = mjw.put_model(self.mj_model)
            # Contact forces on bodies (cfrc_ext) are computed only when asked for; rewards such as
            # Humanoid-v5's contact cost and contact sensing need them.
            self.model.opt.run_rne_postconstraint = True
            # The solver's iteration limits are not errors; capacity overflows are raised by us.
            self.model.opt.warn_overflow = 0
            self.data = mjw.make_data(
                self.mj_model, nworld=num_worlds, nconmax=self.capacity.nconmax, njmax=self.capacity.njmax
            )
        if self.wp_device.startswith("cuda"):
            # Torch ops on the views and Warp kernels must run in order: put torch on Warp's stream
            # (a capturable, non-default stream), so one queue orders them without host syncs.
            torch.cuda.set_stream(wp.stream_to_torch(wp.get_stream(self.wp_device)))
        self.fields = PerWorldFields(self)
        self.static_poses = StaticPoses(self)
        """Places the geoms welded to the world from per-world model fields (``update_static_poses``)."""
        self._graphs: dict[int | str, wp.Graph] = {}
        self._in_outer_capture = False
        self.graph_generation = 0
        """Bumped whenever captured graphs go stale (a model array was replaced): graphs captured by
        others (the env's whole-step graph) must be captured again when it changes."""
        self._bind_views()
        # Buffers used by reset and the divergence guard, allocated once.
        self._reset_mask = torch.zeros(num_worlds, dtype=torch.bool, device=self.device)
        self._reset_mask_wp = wp.from_torch(self._reset_mask, dtype=wp.bool)
        self.diverged = torch.zeros(num_worlds, dtype=torch.bool, device=self.device)
        self.diverged_count = torch.zeros((), dtype=torch.int64, device=self.device)
        self.divergence_bounds: DivergenceBounds = divergence_bounds(self.mj_model, self.cfg, self.device)
        """What the divergence guard checks the state against (``warplab.sim.divergence``)."""
        self.divergence_causes = torch.zeros(len(DIVERGENCE_CAUSES), dtype=torch.int64, device=self.device)
        """Worlds flagged since the last ``pop_divergence_causes``, by the bound they broke
        ``[4]`` (``DIVERGENCE_CAUSES``); a world that broke several counts under each."""
        self.init_qpos = torch.as_tensor(self.mj_model.qpos0, dtype=torch.float32, device=self.device)
        """State that ``reset`` restores ``[nq]``: the model's ``qpos0`` unless changed (e.g. a keyframe)."""
        self.init_qvel = torch.zeros(self.mj_model.nv, dtype=torch.float32, device=self.device)
        """Joint velocities that ``reset`` restores ``[nv]``."""
        self.reset()

    # ------------------------------------------------------------------ views
    def _bind_views(self) -> None:
        d = self.data
        t = wp.to_torch
        self.qpos, self.qvel, self.qacc = t(d.qpos), t(d.qvel), t(d.qacc)
        self.ctrl, self.act = t(d.ctrl), t(d.act)
        self.xpos, self.xquat, self.xmat = t(d.xpos), t(d.xquat), t(d.xmat)
        self.cvel, self.subtree_com, self.cinert = t(d.cvel), t(d.subtree_com), t(d.cinert)
        self.xipos = t(d.xipos)
        self.site_xpos, self.site_xmat = t(d.site_xpos), t(d.site_xmat)
        self.geom_xpos, self.geom_xmat = t(d.geom_xpos), t(d.geom_xmat)
        self.sensordata = t(d.sensordata)
        self.qfrc_actuator, self.actuator_force = t(d.qfrc_actuator), t(d.actuator_force)
        self.cfrc_ext = t(d.cfrc_ext)
        self.time = t(d.time)
        self.overflow = t(d.overflow)
        self.contact = ContactView(d)

    @property
    def timestep(self) -> float:
        """Physics time step, s (shared by all worlds)."""
        return float(self.mj_model.opt.timestep)

    # ------------------------------------------------------------------ stepping
    def step(self, substeps: int = 1, check_divergence: bool = True) -> None:
        """Advances every world by ``substeps`` physics steps, then flags diverged worlds.

        On CUDA the substeps are captured once into a graph and replayed (no host sync). After the
        step, ``diverged [N]`` is true for worlds whose state is not finite or exploded.
        ``check_divergence=False`` leaves that to the caller (``flag_diverged``), who may fuse it
        with its own work.
        """
        if substeps < 1:
            raise ValueError(f"substeps must be >= 1, got {substeps}")
        with wp.ScopedDevice(self.wp_device):
            if self._graph_enabled():
                graph = self._graphs.get(substeps)
                if graph is None:
                    graph = self._capture(lambda: self._substeps(substeps))
                    self._graphs[substeps] = graph
                wp.capture_launch(graph)
            else:
                self._substeps(substeps)
        if check_divergence:
            self.flag_diverged()

    def _substeps(self, substeps: int) -> None:
        for _ in range(substeps):
            mjw.step(self.model, self.data)

    def _graph_enabled(self) -> bool:
        # Inside a capture of a larger graph the kernels are recorded into that graph directly.
        return self.cfg.use_cuda_graph and self.wp_device.startswith("cuda") and not self._in_outer_capture

    @contextlib.contextmanager
    def outer_capture(self):
        """While a caller captures a graph of its own around ``step``/``forward``: run their kernels
        eagerly so they are recorded into that graph, rather than launching graphs of ours."""
        self._in_outer_capture = True
        try:
            yield
        finally:
            self._in_outer_capture = False

    def _capture(self, fn: Callable[[], None], changes_state: bool = True) -> wp.Graph:
        """Captures ``fn`` as a graph. Kernels must be compiled and loaded before capture, so ``fn``
        runs once eagerly first. When it ``changes_state`` (a step), it runs on a saved state that is
        then restored (with a full forward for the derived quantities), so that capture leaves the
        worlds where they were. A forward changes no state field: its eager run is one more forward
        of the same state, and a restore's full forward would recompute the contacts and forces that
        a positions-and-velocities forward promises to leave alone."""
        if changes_state:
            saved = self._save_state()
            fn()
            self._load_state(saved)
        else:
            fn()
        with no_garbage_collection(), wp.ScopedCapture() as capture:
            fn()
        return capture.graph

    def _save_state(self) -> dict[str, torch.Tensor]:
        return {n: v.clone() for n, v in self._data_state().items()}

    def _load_state(self, saved: dict[str, torch.Tensor]) -> None:
        for n, v in saved.items():
            wp.to_torch(getattr(self.data, n)).copy_(v)
        mjw.forward(self.model, self.data)

    def _data_state(self) -> dict[str, torch.Tensor]:
        # Older MuJoCo Warp versions lack some of the newer state arrays (history, plastic).
        return {n: wp.to_torch(getattr(self.data, n)) for n in STATE_FIELDS if hasattr(self.data, n)}

    def invalidate_graphs(self) -> None:
        """Drops captured CUDA graphs: needed after a model array is replaced."""
        self._graphs.clear()
        self.graph_generation += 1

    def forward(self, positions_velocities_only: bool = False, eager: bool = False) -> None:
        """Recomputes positions, velocities, forces and sensors from qpos, qvel, ctrl (all worlds).

        ``positions_velocities_only`` recomputes what follows from qpos and qvel alone: body and
        geom poses (``xpos``, ``xquat``, ``xmat``, ``geom_xpos``, ``geom_xmat``), centres of mass and
        inertias (``subtree_com``, ``cinert``, ``cdof``), tendon lengths, body velocities (``cvel``)
        and the position and velocity sensors. It skips collision, the constraint solve and
        accelerations, the costliest part of a forward pass (about one physics step): contacts,
        contact forces (``cfrc_ext``), ``qacc``, actuator forces and acceleration and force sensors
        keep the values they had.

        On CUDA this replays a captured graph, like ``step``. ``eager`` launches the kernels
        directly instead, for a one-off call that should not capture and keep a graph.
        """
        key = "forward_pos_vel" if positions_velocities_only else "forward"
        fn = self._forward_pos_vel if positions_velocities_only else self._forward_full
        with wp.ScopedDevice(self.wp_device):
            if self._graph_enabled() and not eager:
                graph = self._graphs.get(key)
                if graph is None:
                    graph = self._graphs[key] = self._capture(fn, changes_state=False)
                wp.capture_launch(graph)
            else:
                fn()

    def _forward_full(self) -> None:
        mjw.forward(self.model, self.data)

    def _forward_pos_vel(self) -> None:
        m, d = self.model, self.data
        mjw.kinematics(m, d)
        mjw.com_pos(m, d)
        mjw.tendon(m, d)
        mjw.com_vel(m, d)
        mjw.sensor_pos(m, d)
        mjw.sensor_vel(m, d)

    def kinematics(self) -> None:
        """Recomputes body and geom poses from qpos only (all worlds): cheaper than ``forward``, for
        events that place bodies and need their geometry before the env's ``forward``."""
        with wp.ScopedDevice(self.wp_device):
            mjw.kinematics(self.model, self.data)

    # ------------------------------------------------------------------ divergence guard
    def flag_diverged(self) -> None:
        """Sets ``diverged [N]`` where a world's state is not finite or has left the physical bounds
        of ``divergence_bounds`` (joints far past their range, bodies far outside the scene, speeds
        or accelerations no step can resolve: ``warplab.sim.divergence``), and adds their number
        to ``diverged_count`` and, by cause, to ``divergence_causes``.

        Elementwise work on ``[N, nq]`` and ``[N, nv]`` only: no host sync, safe in a CUDA graph
        and a compiled step. NaN fails every comparison, so the bounds catch it too; ``finite``
        only tells it apart for the log."""
        b = self.divergence_bounds
        in_range = ((self.qpos - b.qpos_center).abs() <= b.qpos_half).all(dim=1)
        slow = (self.qvel.abs() <= b.qvel_max).all(dim=1)
        calm = (self.qacc.abs() <= b.qacc_max).all(dim=1)
        finite = (
            torch.isfinite(self.qpos).all(dim=1)
            & torch.isfinite(self.qvel).all(dim=1)
            & torch.isfinite(self.qacc).all(dim=1)
        )
        causes = torch.stack((~finite, finite & ~in_range, finite & ~slow, finite & ~calm), dim=1)
        self.divergence_causes += causes.sum(dim=0)
        torch.logical_not(in_range & slow & calm, out=self.diverged)
        self.diverged_count += self.diverged.sum()

    def pop_divergence_causes(self) -> dict[str, int]:
        """``{cause: worlds}`` flagged since the last call, for the causes that occurred
        (``DIVERGENCE_CAUSES``); zeroes the counts. One host sync: call it once per iteration."""
        counts = self.divergence_causes.tolist()
        self.divergence_causes.zero_()
        return {name: int(c) for name, c in zip(DIVERGENCE_CAUSES, counts, strict=True) if c}

    # ------------------------------------------------------------------ state
    def reset(self, worlds: torch.Tensor | None = None, forward: bool = True) -> None:
        """Resets worlds to the initial state (``init_qpos``, ``init_qvel``, zero controls, time 0).

        Args:
          worlds: a bool mask ``[N]`` or a tensor of world indices; ``None`` resets every world.
            No host sync either way.
          forward: recompute derived quantities afterwards. Pass False when more state is written
            before a single ``forward()``.
        """
        mask = self._as_mask(worlds)
        self._reset_mask.copy_(mask)
        with wp.ScopedDevice(self.wp_device):
            mjw.reset_data(self.model, self.data, reset=self._reset_mask_wp)
        rows = mask[:, None]
        self.qpos.copy_(torch.where(rows, self.init_qpos, self.qpos))
        self.qvel.copy_(torch.where(rows, self.init_qvel, self.qvel))
        # A world reset from a diverged state must not be flagged again before it steps.
        self.diverged &= ~mask
        if forward:
            self.update_static_poses(mask)
            self.forward()

    def update_static_poses(self, worlds: torch.Tensor | None = None) -> None:
        """Recomputes the world-frame poses of the bodies and geoms welded to the world (``xpos``,
        ``xquat``, ``xmat``; ``geom_xpos``, ``geom_xmat``) from each world's ``body_pos``,
        ``body_quat``, ``geom_pos`` and ``geom_quat``, in the chosen worlds.

        MuJoCo Warp's kinematics never recomputes the geoms welded to the world (it places them once,
        when its data is made), so after a write of those fields (a reset event moving a table or a
        cabinet, a restored state) call this before the forward pass; ``reset(forward=True)`` does.
        Does nothing (no device work) while none of those fields is per-world. No host sync; safe
        inside a captured graph (``warplab.sim.static_poses``).

        Args:
          worlds: ``None`` (every world), a bool mask ``[N]`` or a tensor of world indices.
        """
        if not self.static_poses.needed():
            return
        self.static_poses.update(None if worlds is None else self._as_mask(worlds))

    def set_state(
        self,
        qpos: torch.Tensor | None = None,
        qvel: torch.Tensor | None = None,
        worlds: torch.Tensor | None = None,
        forward: bool = True,
    ) -> None:
        """Writes joint positions and velocities of some worlds, then recomputes kinematics.

        Args:
          qpos: ``[N, nq]`` for all worlds, or ``[len(worlds), nq]`` with world indices, or ``[N, nq]``
            with a bool mask (only masked rows are written).
          qvel: likewise with ``nv`` columns.
          worlds: ``None`` (all), a bool mask ``[N]``, or a tensor of world indices.
          forward: recompute derived quantities (kinematics, contacts, sensors) afterwards.
        """
        for value, target, name in ((qpos, self.qpos, "qpos"), (qvel, self.qvel, "qvel")):
            if value is None:
                continue
            # Detached: a value that requires grad would make the state views part of autograd.
            value = torch.as_tensor(value, dtype=torch.float32, device=self.device).detach()
            _write_rows(target, value, worlds, name)
        if forward:
            self.forward()

    def _as_mask(self, worlds: torch.Tensor | None) -> torch.Tensor:
        if worlds is None:
            return torch.ones(self.num_worlds, dtype=torch.bool, device=self.device)
        worlds = torch.as_tensor(worlds, device=self.device)
        if worlds.dtype == torch.bool:
            if worlds.shape != (self.num_worlds,):
                raise ValueError(
                    f"a world mask must have shape [{self.num_worlds}], got {list(worlds.shape)}"
                )
            return worlds
        mask = torch.zeros(self.num_worlds, dtype=torch.bool, device=self.device)
        mask[worlds.long()] = True
        return mask

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live views of everything that decides the future of every world, by name (no copies).

        ``data.<field>``: the ``STATE_FIELDS`` of MuJoCo Warp's data ``[N, ...]`` (``time [N]``);
        ``model.<field>``: every model array made per-world (randomized fields and what
        ``set_const`` derives from them) ``[N, ...]``; ``init_qpos [nq]``, ``init_qvel [nv]``: what
        ``reset`` restores; ``diverged [N]``, ``diverged_count []``.

        An exact save copies these; a restore makes the same fields per-world (``model_field``),
        copies the saved values into these views and calls ``update_static_poses()`` (the poses of
        geoms welded to the world follow from the restored model fields) and ``forward()``.
        """
        out = {f"data.{n}": v for n, v in self._data_state().items()}
        out.update({f"model.{n}": v for n, v in self.fields.arrays().items()})
        out.update(
            init_qpos=self.init_qpos,
            init_qvel=self.init_qvel,
            diverged=self.diverged,
            diverged_count=self.diverged_count,
        )
        return out

    # ------------------------------------------------------------------ model fields
    def model_field(self, name: str) -> torch.Tensor:
        """A writable per-world view ``[N, ...]`` of a model field (``"geom_friction"``, ``"opt.gravity"``...).

        The field becomes per-world on first use (each world starts with the model's value); other
        fields stay shared. Fields derived from masses and inertias need ``set_const`` after a write.
        """
        return self.fields.get(name)

    def world_mj_model(self, world: int) -> mujoco.MjModel:
        """MuJoCo's model of one world: a copy of ``mj_model`` with that world's values of every
        per-world field written in (randomized masses and sizes, colours, which shape of a
        multi-shape object is active), for MuJoCo's C engine and its renderer (a video of that world,
        a check against the C engine). ``mj_model`` itself when no field is per-world.

        Raises:
          SimulationError: a per-world field does not fit the MjModel field of its name.
        """
        arrays = self.fields.arrays()
        if not arrays:
            return self.mj_model
        model = copy.copy(self.mj_model)
        for name, values in arrays.items():
            owner, attr = (model.opt, name[4:]) if name.startswith("opt.") else (model, name)
            target = getattr(owner, attr, None)
            if not isinstance(target, np.ndarray):
                continue  # a field of MuJoCo Warp's own, with no MjModel counterpart
            value = values[world].detach().cpu().numpy()
            if value.size != target.size:
                raise SimulationError(
                    f"per-world field {name!r} holds {value.size} values a world; MjModel.{name} holds {target.size}"
                )
            target[...] = value.reshape(target.shape)
        # MuJoCo's C engine skips a geom's, site's or inertial frame's offset where the compiler
        # found it to coincide with its body's frame (``*_sameframe``); a per-world offset may not.
        # "No shortcut" is always right, so drop the shortcuts of the per-world offsets.
        for sameframe, offsets in _SAMEFRAME_OFFSETS.items():
            if any(name in arrays for name in offsets):
                getattr(model, sameframe)[:] = int(mujoco.mjtSameFrame.mjSAMEFRAME_NONE)
        return model

    def set_const(self) -> None:
        """Recomputes model constants derived from masses, inertias, armature and qpos0, per world."""
        with wp.ScopedDevice(self.wp_device):
            mjw.set_const(self.model, self.data)

    # ------------------------------------------------------------------ health
    def check_capacity(self) -> None:
        """Raises ``CapacityError`` if any world lost contacts or constraints since the last reset.

        Reads one small array from the device: call it once per iteration, not every step.
        """
        bits = int((self.overflow & _CAPACITY_BITS).amax().item()) if self.num_worlds else 0
        if bits:
            raise CapacityError(_overflow_message(bits, self.capacity, self.num_worlds))

    def check_finite(self) -> None:
        """Raises ``SimulationError`` if the state of any world is not finite (a debugging aid)."""
        if not bool(torch.isfinite(self.qpos).all()) or not bool(torch.isfinite(self.qvel).all()):
            raise SimulationError("non-finite qpos or qvel in at least one world")


_SAMEFRAME_OFFSETS = {
    "geom_sameframe": ("geom_pos", "geom_quat"),
    "site_sameframe": ("site_pos", "site_quat"),
    "body_sameframe": ("body_ipos", "body_iquat"),
}
"""MjModel's frame shortcuts, by the model fields whose per-world values can invalidate them."""


def _write_rows(target: torch.Tensor, value: torch.Tensor, worlds: torch.Tensor | None, name: str) -> None:
    n, width = target.shape
    if worlds is None:
        if value.shape != target.shape:
            raise ValueError(f"{name} must have shape [{n}, {width}], got {list(value.shape)}")
        target.copy_(value)
        return
    worlds = torch.as_tensor(worlds, device=target.device)
    if worlds.dtype == torch.bool:
        if worlds.shape != (n,):
            raise ValueError(f"a world mask must have shape [{n}], got {list(worlds.shape)}")
        if value.shape != target.shape:
            raise ValueError(
                f"{name} with a world mask must have shape [{n}, {width}], got {list(value.shape)}"
            )
        target.copy_(torch.where(worlds[:, None], value, target))
        return
    if value.shape != (worlds.numel(), width):
        raise ValueError(
            f"{name} for {worlds.numel()} worlds must have shape [{worlds.numel()}, {width}], got {list(value.shape)}"
        )
    target.index_copy_(0, worlds.long(), value)


def _overflow_message(bits: int, capacity: Capacity, num_worlds: int) -> str:
    what = []
    if bits & int(mjw.OverflowType.NEFC | mjw.OverflowType.NJMAX_NNZ):
        what.append(
            f"constraint rows overflowed njmax={capacity.njmax} per world: raise SimCfg.njmax "
            f"(e.g. --env.sim.njmax {2 * capacity.njmax})"
        )
    if bits & int(mjw.OverflowType.BROADPHASE | mjw.OverflowType.NARROWPHASE | mjw.OverflowType.CCD):
        what.append(
            f"contacts overflowed nconmax={capacity.nconmax} per world ({capacity.nconmax * num_worlds} in all): "
            f"raise SimCfg.nconmax (e.g. --env.sim.nconmax {2 * capacity.nconmax})"
        )
    if bits & int(mjw.OverflowType.HFIELD):
        what.append("a height field produced more contacts than MuJoCo Warp allows: lower its resolution")
    if bits & int(mjw.OverflowType.NVMAX | mjw.OverflowType.EPA_HORIZON):
        what.append(f"an internal buffer overflowed (bits {bits:#x}): raise SimCfg.nconmax and SimCfg.njmax")
    return "MuJoCo Warp dropped contacts or constraints in this step, so the physics is wrong: " + "; ".join(
        what
    )


__all__ = ["Simulation", "SimCfg", "ContactView"]
