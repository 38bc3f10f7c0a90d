"""Terms for generated terrain: the terrain curriculum, spawning on it, and height scans.

- ``TerrainLevels`` (curriculum term): each world's difficulty level and terrain column, and the
  spawn point they give; on reset, worlds that walked far move up a level, those that fell short of
  their command move down.
- ``reset_root_on_terrain`` (reset event): places the robot at its world's spawn point.
- ``HeightScan`` (observation term): heights of the ground around the base, by ray casting or from
  the generated terrain's height grid.
- ``RootHeightAboveTerrainBelow`` (termination term): the base came too close to the ground under it.

The terrain comes from ``warplab.assets.terrain_generator`` (``add_terrain`` puts it in the scene).
Rays are cast with MuJoCo Warp's ``rays`` at the terrain's ray-casting copy only (geom group
``TERRAIN_RAY_GROUP``), so the robot's own geoms never hide the ground.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import mujoco_warp as mjw
import torch
import warp as wp

from warplab.assets.terrain_generator import TERRAIN_RAY_GROUP, Terrain, TerrainCfg, cached_terrain
from warplab.envs import draws
from warplab.envs.managers.protocols import CurriculumTerm, ObservationTerm, TerminationTerm
from warplab.envs.mdp import _state
from warplab.envs.mdp.events import reset_root_state_uniform
from warplab.envs.mdp.math import yaw_from_quat
from warplab.term_export import ObservationExport

if TYPE_CHECKING:
    from warplab.envs.config import CurriculumTermCfg, ObservationTermCfg, TerminationTermCfg
    from warplab.envs.rl_env import RlEnv


class TerrainLevels(CurriculumTerm):
    """Curriculum term: a terrain level and column per world, moved by how far each world walked.

    Params:
      terrain: the ``TerrainCfg`` the scene was built from (its tiles' spawn points are read from it).
      command_name: the velocity command whose planar speed sets the distance a world should cover.
      max_init_level: worlds start on a level drawn uniformly from [0, max_init_level] (clamped to
        the top level).

    Columns are dealt out evenly: world i walks on column ``floor(i * num_cols / num_envs)``, for good.

    The rule, applied to the worlds being reset that took at least one step in the episode that
    ends (a fresh ``env.reset()`` moves nobody), with ``d`` the planar distance from the spawn point
    to the base:

    - ``d > tile_size / 2`` (the world walked off its tile): up one level;
    - otherwise, ``d < 0.5 * |v_cmd_xy| * episode_length_s`` (it covered less than half of what a
      full episode at its current command asks for, as when it fell): down one level;
    - levels stop at 0 at the bottom; a world promoted past the top level goes to a random level,
      so that worlds which master the terrain keep revisiting every level (as Isaac Lab does).

    Every reset world then takes the spawn point of its (level, column) tile.

    Attributes (tensors, saved with the env's state):
      levels: ``[num_envs]`` int64 level of each world.
      types: ``[num_envs]`` int64 column of each world.
      origins: ``[num_envs, 3]`` spawn point of each world (world frame, ground height as z), m.
      tile_origins: ``[num_levels, num_cols, 3]`` spawn point of every tile, m.

    Returns (when called): the mean level over all worlds, a 0-d float tensor (logged as
    ``Curriculum/<name>``).
    """

    def __init__(self, cfg: CurriculumTermCfg, env: RlEnv) -> None:
        params = cfg.params
        terrain_cfg = params.get("terrain")
        if not isinstance(terrain_cfg, TerrainCfg):
            raise ValueError(
                f"TerrainLevels needs params['terrain'], the TerrainCfg of the scene; got {terrain_cfg!r}"
            )
        terrain = cached_terrain(terrain_cfg)
        self.command_name = params.get("command_name", "base_velocity")
        env.command(self.command_name)  # raises, naming the task's commands, if there is no such one
        self.half_tile = 0.5 * terrain_cfg.tile_size
        n, dev = env.num_envs, env.device
        self.num_levels, self.num_cols = terrain_cfg.num_levels, terrain_cfg.num_cols
        self.tile_origins = torch.as_tensor(terrain.origins, dtype=torch.float32, device=dev)
        max_init = min(int(params.get("max_init_level", 5)), self.num_levels - 1)
        if max_init < 0:
            raise ValueError(f"max_init_level must be >= 0, got {params.get('max_init_level')}")
        self.levels = torch.randint(0, max_init + 1, (n,), generator=env.rng, device=dev)
        self.types = torch.div(torch.arange(n, device=dev) * self.num_cols, n, rounding_mode="floor").long()
        self.origins = self.tile_origins[self.levels, self.types].clone()

    def __call__(self, env: RlEnv, mask: torch.Tensor, **_: Any) -> torch.Tensor:
        distance = torch.linalg.vector_norm(_state.root_pos_w(env)[:, :2] - self.origins[:, :2], dim=1)
        speed = torch.linalg.vector_norm(env.command(self.command_name)[:, :2], dim=1)
        episode_s = env.max_episode_length * env.policy_dt
        move_up = distance > self.half_tile
        move_down = (distance < 0.5 * speed * episode_s) & ~move_up
        level = self.levels + move_up.long() - move_down.long()
        anywhere = draws.randint(0, self.num_levels, level.shape, env.rng, level.device)
        level = torch.where(level >= self.num_levels, anywhere, level.clamp(min=0))
        update = mask & (env.episode_length_buf > 0)
        self.levels.copy_(torch.where(update, level, self.levels))
        self.origins.copy_(
            torch.where(mask[:, None], self.tile_origins[self.levels, self.types], self.origins)
        )
        return self.levels.float().mean()

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """``levels``, ``types`` and ``origins``: what decides later resets (the tiles are constants)."""
        return {"levels": self.levels, "types": self.types, "origins": self.origins}


def terrain_levels_term(env: RlEnv, name: str = "terrain_levels") -> TerrainLevels:
    """The ``TerrainLevels`` instance of curriculum term ``name`` of ``env``."""
    try:
        term = env.curriculum_manager.term(name)
    except KeyError as error:
        raise KeyError(
            f"{error.args[0]}: add CurriculumTermCfg(func=warplab.envs.mdp.terrain.TerrainLevels, ...) under that name"
        ) from None
    if not isinstance(term, TerrainLevels):
        raise KeyError(f"curriculum term {name!r} is a {type(term).__name__}, not a TerrainLevels")
    return term


def reset_root_on_terrain(
    env: RlEnv,
    mask: torch.Tensor,
    pose_range: dict[str, tuple[float, float]] | None = None,
    velocity_range: dict[str, tuple[float, float]] | None = None,
    curriculum_name: str = "terrain_levels",
) -> None:
    """Reset event: ``reset_root_state_uniform`` moved to each world's spawn point.

    The base goes to its default pose (``init_qpos``: x = y = 0 and z = the robot's standing base
    height, for a robot built with ``build_robot_spec``) plus uniform offsets, then by the world's
    spawn point ``TerrainLevels.origins`` (whose z is the ground height there). Curriculum terms run
    before reset events, so the spawn point is the one of the world's new level.

    Args:
      pose_range, velocity_range: as in ``reset_root_state_uniform``.
      curriculum_name: the name of the ``TerrainLevels`` curriculum term.
    """
    reset_root_state_uniform(env, mask, pose_range, velocity_range)
    origins = terrain_levels_term(env, curriculum_name).origins
    q, _ = _state._root(env)
    env.sim.qpos[:, q : q + 3] += origins * mask[:, None]


class _DownwardRays:
    """Rays cast straight down from points around a body, yaw-aligned, at one geom group.

    The Warp arrays MuJoCo Warp's ``rays`` reads and writes are allocated once and viewed from torch.
    With ``terrain`` (the ``TerrainCfg`` the scene's height fields were generated from), the ground
    under each point is read from the generated height grid instead (``_TerrainGrid``): the same
    surface, without casting rays at every geom.
    """

    def __init__(
        self,
        env: RlEnv,
        offsets_xy: torch.Tensor,
        body: str | None,
        start_height: float,
        geom_group: int,
        terrain: TerrainCfg | None = None,
    ) -> None:
        sim = env.sim
        n, nray = env.num_envs, offsets_xy.shape[0]
        if not 0 <= geom_group <= 5:
            raise ValueError(f"geom_group must be in 0..5 (MuJoCo's ray groups), got {geom_group}")
        if body is None:
            if env.index.root_joint is None:
                raise ValueError("the model has no floating base: name the body to scan around")
            self.body = int(env.mj_model.jnt_bodyid[env.index.root_joint])
        else:
            self.body = env.index.ids("body", body)[0]
        self._sim = sim
        self.start_height = float(start_height)
        self.offsets_xy = offsets_xy.to(device=env.device, dtype=torch.float32)
        self._grid = None if terrain is None else _TerrainGrid(cached_terrain(terrain), env.device)
        if self._grid is None and not (env.mj_model.geom_group == geom_group).any():
            raise ValueError(
                f"no geom of group {geom_group} to cast rays at: build the terrain with "
                "TerrainCfg.ray_copies=True, or read the height grid (params['terrain'] = the TerrainCfg)"
            )
        group = [0] * 6
        group[geom_group] = 1
        # MuJoCo Warp's ``vec6`` (six floats): 1 includes a group, 0 excludes it.
        self._geomgroup = wp.types.vector(length=6, dtype=wp.float32)(*group)
        with wp.ScopedDevice(sim.wp_device):
            self._pnt = wp.zeros((n, nray), dtype=wp.vec3)
            self._dist = wp.zeros((n, nray), dtype=float)
            if self._grid is None:  # the rest is only what MuJoCo Warp's ``rays`` reads and writes
                self._vec = wp.zeros((n, nray), dtype=wp.vec3)
                self._geomid = wp.zeros((n, nray), dtype=int)
                self._normal = wp.zeros((n, nray), dtype=wp.vec3)
                self._bodyexclude = wp.full(nray, -1, dtype=int)
                wp.to_torch(self._vec)[..., 2] = -1.0
        self.pnt = wp.to_torch(self._pnt)  # [N, nray, 3]
        self.dist = wp.to_torch(self._dist)  # [N, nray]

    def _place(self) -> None:
        """Writes the rays' start points into ``pnt``: around the body, turned with its heading."""
        sim = self._sim
        pos = sim.xpos[:, self.body]
        yaw = yaw_from_quat(sim.xquat[:, self.body])
        c, s = torch.cos(yaw)[:, None], torch.sin(yaw)[:, None]
        dx, dy = self.offsets_xy[:, 0], self.offsets_xy[:, 1]
        self.pnt[..., 0] = pos[:, 0:1] + c * dx - s * dy
        self.pnt[..., 1] = pos[:, 1:2] + s * dx + c * dy
        self.pnt[..., 2] = pos[:, 2:3] + self.start_height

    def cast(self) -> torch.Tensor:
        """``[num_envs, nray]`` distance from each ray's start down to the ground, m (-1: no hit)."""
        self._place()
        return self.ground_distance()

    def ground_distance(self) -> torch.Tensor:
        """``cast`` from the start points already in ``pnt`` (``[num_envs, nray, 3]``, world frame)."""
        if self._grid is not None:
            ground, inside = self._grid.height_at(self.pnt[..., 0], self.pnt[..., 1])
            distance = self.pnt[..., 2] - ground
            self.dist.copy_(torch.where(inside & (distance >= 0), distance, -1.0))
            return self.dist
        sim = self._sim
        with wp.ScopedDevice(sim.wp_device):
            mjw.rays(
                sim.model,
                sim.data,
                self._pnt,
                self._vec,
                self._geomgroup,
                True,
                self._bodyexclude,
                self._dist,
                self._geomid,
                self._normal,
            )
        return self.dist


class _TerrainGrid:
    """The surface of a generated terrain's height fields, read at any (x, y) from its height grid.

    MuJoCo draws each cell of a height field as two triangles split along the diagonal from sample
    ``(r, c)`` to ``(r + 1, c + 1)`` (row r along y, column c along x); reading the height on those
    triangles gives exactly the surface a ray cast down at the field hits (tested against MuJoCo
    Warp's ``rays``), as a gather of four samples instead of a ray against every geom.
    """

    def __init__(self, terrain: Terrain, device: torch.device) -> None:
        self.heights = torch.as_tensor(terrain.heights, dtype=torch.float32, device=device)
        """``[ny, nx]`` ground height at each sample, m."""
        self.spacing = float(terrain.horizontal_scale)
        self.size_x, self.size_y = float(terrain.size_x), float(terrain.size_y)

    def height_at(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Ground height under world points ``x``, ``y`` (same shape, m) and whether each lies over
        the terrain (elsewhere the height is meaningless)."""
        ny, nx = self.heights.shape
        u = (x + self.size_x) / self.spacing
        v = (y + self.size_y) / self.spacing
        inside = (u >= 0) & (u <= nx - 1) & (v >= 0) & (v <= ny - 1)
        c = u.floor().clamp(0, nx - 2)
        r = v.floor().clamp(0, ny - 2)
        fx = (u - c).clamp(0.0, 1.0)
        fy = (v - r).clamp(0.0, 1.0)
        flat = self.heights.flatten()
        base = r.long() * nx + c.long()
        z00, z10 = flat[base], flat[base + 1]
        z01, z11 = flat[base + nx], flat[base + nx + 1]
        # Below the diagonal (fx >= fy): triangle (r, c), (r, c + 1), (r + 1, c + 1); above it:
        # (r, c), (r + 1, c + 1), (r + 1, c).
        lower = z00 + fx * (z10 - z00) + fy * (z11 - z10)
        upper = z00 + fy * (z01 - z00) + fx * (z11 - z01)
        return torch.where(fx >= fy, lower, upper), inside


def _scan_export(params: Mapping[str, Any]) -> dict[str, Any]:
    """What a robot's elevation map must supply for a ``HeightScan`` with ``params``: the points
    ``grid_xy`` (``[[x, y], ...]`` m, in the base's heading frame: x forward and y left on the
    horizontal plane, turned with the base's yaw only, x fastest), the grid's ``size`` (x, y) m and
    ``resolution`` m they come from, ``scan_frame`` ("base_heading"), ``start_height`` (m above the base
    that simulated rays start from, for sim-to-sim) and ``clip`` ``[low, high]`` m. The training-only
    imperfections (delay, dropout, offset) are not written: a robot's map has its own."""
    size = [float(v) for v in params.get("size", (1.6, 1.0))]
    resolution = float(params.get("resolution", 0.1))
    return {
        "grid_xy": grid_offsets((size[0], size[1]), resolution).tolist(),
        "size": size,
        "resolution": resolution,
        "scan_frame": "base_heading",
        "start_height": float(params.get("start_height", 5.0)),
        "clip": list(params.get("clip", (-1.0, 1.0))),
    }


def grid_offsets(size: tuple[float, float], resolution: float) -> torch.Tensor:
    """``[n_y * n_x, 2]`` points of a grid centred on 0 spanning ``size`` (x, y) m every ``resolution``
    m, y outer and x inner (x fastest), from the most negative corner."""
    if not resolution > 0 or min(size) < 0:
        raise ValueError(f"a scan grid needs size >= 0 and resolution > 0, got {size} and {resolution}")
    axes = []
    for length in size:
        half = 0.5 * length
        count = int(math.floor(length / resolution + 1e-6)) + 1
        axes.append(torch.linspace(-half, half, count) if count > 1 else torch.zeros(1))
    ys, xs = torch.meshgrid(axes[1], axes[0], indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)


class HeightScan(ObservationTerm):
    """Observation term: height of the base above the ground at a grid of points around it.

    Rays start ``start_height`` m above the base at a grid of ``size`` (x forward, y left, m) points
    every ``resolution`` m, centred on the base and turned with its heading only (not its roll or
    pitch), and go straight down. They hit only geoms of group ``geom_group`` (the terrain's ray
    copy), so the robot never shades the ground.

    Params: ``size`` (default (1.6, 1.0) m), ``resolution`` (0.1 m), ``body`` (None: the floating
    base), ``start_height`` (5.0 m), ``clip`` ((-1.0, 1.0) m), ``geom_group`` (``TERRAIN_RAY_GROUP``),
    ``terrain`` (None: cast rays; the scene's ``TerrainCfg``: read the ground from its height grid,
    the same surface without ray casts, when the generated terrain is all there is to see).

    Sensor imperfections for a policy's scan (training only: none is exported, the robot's own map
    has its own), applied in this order to the clipped scan, each off by default:

    - ``offset_range`` ((0.0, 0.0) m): a constant added to every reading of a world, drawn uniformly
      in the range at each of its resets (a mis-calibrated sensor, or a map off in height);
    - ``dropout_prob`` (0.0): each reading, independently at every call, is replaced by ``clip[1]``
      with this probability (a missed return, read as the ray that hits nothing reads);
    - ``delay_steps`` (0): the policy sees the reading of ``delay_steps`` policy steps earlier (a
      mapping pipeline's latency). Until a world has stepped that often in its episode it sees its
      episode's first reading, as a history term fills itself at a reset.

    Per-point noise is the term config's ``noise`` (added by the observation manager after this).

    Returns: ``[num_envs, n_rays]`` base height minus ground height under each point, m, clipped to
    ``clip`` (on flat ground: the base height). A ray that hits nothing reads ``clip[1]``. Ray order:
    ``grid_offsets`` (x fastest, from the rear right corner).
    """

    term_export = ObservationExport("height_scan", extra=_scan_export)
    """The robot's elevation map supplies the scan: export writes the grid to sample it at, and the clip."""

    graph_safe = True
    """The step with this term is captured. On an H100 (2026-11-25) the captured rough step differed
    from the eager one by up to 0.36 in an output and 7.1 m/s in a qvel, and two eager envs from the
    same state differed as much (0.96 and 6.1): heightfield contacts amplify the float rounding of
    GPU atomics, with or without capture (benchmarks/graph_check.py --baseline)."""

    def __init__(self, cfg: ObservationTermCfg, env: RlEnv) -> None:
        p = cfg.params
        size = tuple(p.get("size", (1.6, 1.0)))
        resolution = float(p.get("resolution", 0.1))
        self.clip = tuple(float(v) for v in p.get("clip", (-1.0, 1.0)))
        if self.clip[0] > self.clip[1]:
            raise ValueError(f"clip must be (low, high) with low <= high, got {self.clip}")
        self._rays = _DownwardRays(
            env,
            grid_offsets(size, resolution),
            p.get("body"),
            float(p.get("start_height", 5.0)),
            int(p.get("geom_group", TERRAIN_RAY_GROUP)),
            p.get("terrain"),
        )
        self.num_rays = self._rays.offsets_xy.shape[0]
        self.dropout_prob = float(p.get("dropout_prob", 0.0))
        if not 0.0 <= self.dropout_prob <= 1.0:
            raise ValueError(f"HeightScan params['dropout_prob'] must be in [0, 1], got {self.dropout_prob}")
        low, high = (float(v) for v in p.get("offset_range", (0.0, 0.0)))
        if not low <= high:
            raise ValueError(f"HeightScan params['offset_range'] must be (low, high) m, got {(low, high)}")
        self.offset_range = (low, high)
        delay = p.get("delay_steps", 0)
        if not isinstance(delay, int) or delay < 0:
            raise ValueError(f"HeightScan params['delay_steps'] must be an integer >= 0, got {delay!r}")
        self.delay_steps = delay
        n, dev = env.num_envs, env.device
        self._rng = env.rng
        self.offset = torch.zeros(n, device=dev)
        """``[num_envs]`` each world's constant offset, m (drawn at its resets)."""
        if high > low or low != 0.0:
            self.offset.copy_(low + (high - low) * draws.rand(n, env.rng, dev))
        self._ring = None if delay == 0 else _DelayRing(n, delay, self.num_rays, env)

    def __call__(self, env: RlEnv, **_: Any) -> torch.Tensor:
        dist = self._rays.cast()
        height = torch.where(dist >= 0, dist - self._rays.start_height, torch.full_like(dist, self.clip[1]))
        height = height.clamp(self.clip[0], self.clip[1])
        if self.offset_range != (0.0, 0.0):
            height = (height + self.offset[:, None]).clamp(self.clip[0], self.clip[1])
        if self.dropout_prob > 0:
            missed = draws.rand(height.shape, self._rng, height.device) < self.dropout_prob
            height = torch.where(missed, torch.full_like(height, self.clip[1]), height)
        if self._ring is not None:
            height = self._ring.push(height, env.episode_length_buf)
        return height

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """New offsets for the worlds in ``mask``; their delay line starts again from their next reading."""
        if self.offset_range != (0.0, 0.0):
            low, high = self.offset_range
            drawn = low + (high - low) * draws.rand(mask.shape[0], env.rng, mask.device)
            self.offset.copy_(torch.where(mask, drawn, self.offset))
        if self._ring is not None:
            self._ring.fresh |= mask

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The offsets and the delay line (the ray buffers are scratch space)."""
        out = {"offset": self.offset}
        if self._ring is not None:
            out.update(self._ring.state_tensors())
        return out


class _DelayRing:
    """The last ``delay + 1`` readings of every world in one buffer allocated once, with a write
    position per world: reading ``delay`` policy steps back is one gather, without a host sync.

    The observation manager may compute a term more than once in a policy step (the terminal
    observation, then again after resets; again after ``set_physical_state``). A world moves its
    write position on only when its episode length differs from the one it last wrote at, so a
    second computation in the same step overwrites the newest reading instead of pushing another.
    """

    def __init__(self, num_envs: int, delay: int, num_rays: int, env: RlEnv) -> None:
        dev = env.device
        self.slots = delay + 1
        self.buffer = torch.zeros(num_envs, self.slots, num_rays, device=dev)
        """``[num_envs, delay + 1, n_rays]`` readings, m; slot ``head`` is the newest."""
        self.head = torch.zeros(num_envs, dtype=torch.long, device=dev)
        """``[num_envs]`` slot of each world's newest reading."""
        self.written_at = torch.zeros(num_envs, dtype=torch.long, device=dev)
        """``[num_envs]`` episode length at each world's newest reading."""
        self.fresh = torch.ones(num_envs, dtype=torch.bool, device=dev)
        """``[num_envs]`` worlds whose next reading fills every slot (just reset)."""
        self._rows = torch.arange(num_envs, device=dev)

    def push(self, reading: torch.Tensor, episode_length: torch.Tensor) -> torch.Tensor:
        """Writes ``reading`` ``[num_envs, n_rays]`` and returns the one ``delay`` steps older."""
        advance = (episode_length != self.written_at) & ~self.fresh
        head = torch.where(advance, (self.head + 1) % self.slots, self.head)
        self.head.copy_(head)
        self.written_at.copy_(episode_length)
        self.buffer[self._rows, head] = reading
        filled = reading.unsqueeze(1).expand_as(self.buffer)
        self.buffer.copy_(torch.where(self.fresh[:, None, None], filled, self.buffer))
        self.fresh.zero_()
        # With delay + 1 slots the oldest reading sits just after the newest.
        return self.buffer[self._rows, (head + 1) % self.slots].clone()

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {"buffer": self.buffer, "head": self.head, "written_at": self.written_at, "fresh": self.fresh}


class RootHeightAboveTerrainBelow(TerminationTerm):
    """Termination term: true when the base is less than ``minimum_height`` m above the ground under it
    (one ray straight down; the terrain-relative form of ``root_height_below``).

    Params: ``minimum_height`` (m), ``start_height`` (5.0 m above the base), ``geom_group``
    (``TERRAIN_RAY_GROUP``), ``terrain`` (as ``HeightScan``'s). A base over no ground at all (off
    the terrain) counts as fallen.
    """

    def __init__(self, cfg: TerminationTermCfg, env: RlEnv) -> None:
        p = cfg.params
        if "minimum_height" not in p:
            raise ValueError("RootHeightAboveTerrainBelow needs params['minimum_height'] (m)")
        self.minimum_height = float(p["minimum_height"])
        self._rays = _DownwardRays(
            env,
            torch.zeros(1, 2),
            None,
            float(p.get("start_height", 5.0)),
            int(p.get("geom_group", TERRAIN_RAY_GROUP)),
            p.get("terrain"),
        )

    def __call__(self, env: RlEnv, **_: Any) -> torch.Tensor:
        dist = self._rays.cast()[:, 0]
        return (dist < 0) | (dist - self._rays.start_height < self.minimum_height)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """None: a function of the physics state."""
        return {}
