"""Generated terrain: a grid of tiles of growing difficulty, in MuJoCo height fields of a few tiles each.

The grid has ``num_levels`` rows of difficulty along x (level 0, the easiest, at the lowest x) and
``num_cols`` columns of terrain types along y; a flat border surrounds it. Every tile has a flat
square platform at its centre, where a robot spawns, and the robot walks outwards:

- ``flat``: level ground.
- ``rough``: uniform random heights on a coarse grid, interpolated in between; the peak-to-peak
  height grows with the level.
- ``slope_up`` / ``slope_down``: a pyramid whose sides rise (the platform is a pit) or fall (the
  platform is a summit) at a gradient that grows with the level.
- ``stairs_up`` / ``stairs_down``: the same with steps; the step height grows with the level.
- ``stepping_stones``: square stones separated by pits; the stones shrink and the gaps widen
  with the level.

The rim of every pyramid tile (slopes and stairs) lies at height 0, like the border, so tiles meet
without cliffs. ``generate_terrain`` is plain numpy and deterministic: each tile draws from its own
generator seeded by ``(seed, level, column)``. ``add_terrain`` puts the result into an ``MjSpec``:
as height fields, or (``TerrainCfg.representation="boxes"``, ``warplab.assets.terrain_boxes``) with
the piecewise flat tiles as static boxes.

A height field is one surface sampled on a regular grid, and MuJoCo joins neighbouring samples with
triangles: a riser or the wall of a pit is a ramp one sample wide (``horizontal_scale``), not a
vertical face. A finer grid sharpens the edges but costs collision time: MuJoCo Warp tests every
grid prism under a colliding geom (a 0.22 m foot covers about 3 x 2 cells at 0.1 m) and keeps at
most ``mujoco.mjMAXCONPAIR`` (50) of them per geom pair, beyond which it flags an overflow.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import mujoco
import numpy as np

from warplab.assets.terrain import add_checker_material

TERRAIN_TYPES = ("flat", "rough", "slope_up", "slope_down", "stairs_up", "stairs_down", "stepping_stones")
"""The terrain types a tile can have, in the order of ``TerrainCfg.proportions``' defaults."""

TERRAIN_RAY_GROUP = 4
"""Geom group of the terrain's ray-casting copy (``terrain_rays``). Height scans cast rays at this
group only, so it must be a group no robot geom uses: warplab's humanoid uses 0-2, MuJoCo Menagerie
robots 0-3. MuJoCo's viewer and renderer hide groups 3-5 by default."""


def _default_proportions() -> dict[str, float]:
    return {
        "flat": 0.1,
        "rough": 0.2,
        "slope_up": 0.1,
        "slope_down": 0.1,
        "stairs_up": 0.2,
        "stairs_down": 0.2,
        "stepping_stones": 0.1,
    }


@dataclasses.dataclass
class TerrainCfg:
    """The terrain grid. Lengths in m; each range is (level 0, top level), linear in between.

    The defaults suit a 1.3 m humanoid (leg 0.6 m, foot 0.22 m x 0.085 m) such as warplab's own.
    """

    seed: int = 0
    """Seeds every random draw of the generator."""
    num_levels: int = 10
    """Rows of difficulty (along x); level 0 is the easiest."""
    num_cols: int = 20
    """Columns (along y); each has one terrain type, assigned by ``proportions``."""
    tile_size: float = 8.0
    """Side of each square tile, m; a multiple of ``2 * horizontal_scale``."""
    border_width: float = 20.0
    """Width of the flat ground around the grid, m: room for a robot that walks off an edge tile."""
    horizontal_scale: float = 0.1
    """Spacing of the height samples, m. Finer makes sharper steps and costlier contacts."""
    platform_size: float = 2.0
    """Side of the flat square at each tile's centre where robots spawn, m."""
    proportions: dict[str, float] = dataclasses.field(default_factory=_default_proportions)
    """Share of the columns per terrain type (``TERRAIN_TYPES``); normalized, zero shares omitted."""
    difficulty_range: tuple[float, float] = (0.0, 1.0)
    """Difficulty of level 0 and of the top level, in [0, 1]; the ranges below are spanned by it."""
    rough_height_range: tuple[float, float] = (0.01, 0.06)
    """``rough``: peak-to-peak height of the noise, m (heights uniform in [-h/2, h/2])."""
    rough_cell_size: float = 0.2
    """``rough``: spacing of the random heights, m (a multiple of ``horizontal_scale``)."""
    slope_range: tuple[float, float] = (0.0, 0.4)
    """``slope_up``/``slope_down``: gradient of the pyramid's sides, rise over run (0.4 is 22 degrees)."""
    step_height_range: tuple[float, float] = (0.02, 0.12)
    """``stairs_up``/``stairs_down``: riser height, m. 0.12 m is a standard 0.17-0.18 m building
    stair scaled by leg length (0.6 m for this humanoid against about 0.9 m for an adult)."""
    step_width: float = 0.3
    """``stairs_up``/``stairs_down``: tread depth, m; longer than the humanoid's 0.22 m foot."""
    stone_size_range: tuple[float, float] = (0.8, 0.4)
    """``stepping_stones``: side of each square stone, m (shrinks with the level)."""
    stone_gap_range: tuple[float, float] = (0.1, 0.3)
    """``stepping_stones``: width of the pits between stones, m (grows with the level)."""
    stone_pit_depth_range: tuple[float, float] = (0.05, 0.5)
    """``stepping_stones``: depth of the pits below the stones, m (grows with the level). In a height
    field a pit of one sample is a V-shaped trench two samples wide at the top, so a 0.5 m deep pit
    at the easiest level is a trap a foot slides into (the first trained policy fell at every
    level); shallow pits first teach where to step, deep ones later punish a miss."""
    chunk_size: float = 16.0
    """Side of each height field the grid is cut into, m (a multiple of ``horizontal_scale``). MuJoCo
    Warp collides a geom with a height field in the field's own frame in float32; over one field as
    large as the default grid (120 m x 200 m) a foot 76 m from its centre drew contacts with wrong
    normals, and standing humanoids were thrown into the air (``add_terrain``)."""
    base_thickness: float = 1.0
    """Solid thickness below the lowest point of the height field, m (MuJoCo's ``size[3]``)."""
    friction: float = 1.0
    """Sliding friction of the terrain (MuJoCo uses the larger of two geoms' coefficients)."""
    representation: Literal["hfield", "boxes"] = "hfield"
    """How ``add_terrain`` puts the grid into MuJoCo. ``"hfield"``: height fields only. ``"boxes"``:
    the columns whose type is in ``box_types`` (and the border) become static boxes, one per run of
    equal-height samples (``warplab.assets.terrain_boxes``), with vertical risers and pit walls; the
    other columns stay height fields. The generated heights, spawn points and the height scan's grid
    are the same either way."""
    ray_copies: bool = True
    """Add each terrain geom's ray-casting copy (``terrain_rays_...``, group ``TERRAIN_RAY_GROUP``).
    A height scan that reads the height grid (``HeightScan(terrain=...)``) needs none; without them
    the box terrain has half the geoms, and MuJoCo Warp's ``put_model``, which lists every pair of
    geoms, takes a quarter of the time."""
    box_types: tuple[str, ...] = ("flat", "stairs_up", "stairs_down", "stepping_stones")
    """With ``representation="boxes"``: the piecewise flat types built from boxes. Other types
    (``rough``, slopes) are not flat and stay height fields."""


@dataclasses.dataclass
class Terrain:
    """A generated terrain.

    Attributes:
      heights: ``[ny, nx]`` ground height at each sample, m; row index along y, column along x
        (MuJoCo's height field layout). Sample ``(r, c)`` lies at ``x = c * horizontal_scale - size_x``,
        ``y = r * horizontal_scale - size_y`` in the world: the field is centred on the world origin.
      origins: ``[num_levels, num_cols, 3]`` world position of each tile's spawn point (its centre),
        with the ground height there as z, m.
      column_types: the terrain type of each column.
      difficulties: ``[num_levels]`` difficulty of each level, in [0, 1].
      horizontal_scale: spacing of the samples, m.
    """

    heights: np.ndarray
    origins: np.ndarray
    column_types: tuple[str, ...]
    difficulties: np.ndarray
    horizontal_scale: float

    @property
    def size_x(self) -> float:
        """Half-length of the field along x, m (MuJoCo's ``hfield size[0]``)."""
        return 0.5 * (self.heights.shape[1] - 1) * self.horizontal_scale

    @property
    def size_y(self) -> float:
        """Half-length of the field along y, m (MuJoCo's ``hfield size[1]``)."""
        return 0.5 * (self.heights.shape[0] - 1) * self.horizontal_scale


def _points(length: float, scale: float, what: str) -> int:
    n = round(length / scale)
    if n < 0 or not math.isclose(n * scale, length, rel_tol=0.0, abs_tol=1e-6):
        raise ValueError(f"TerrainCfg.{what} = {length} m must be a multiple of horizontal_scale = {scale} m")
    return n


def validate_terrain_cfg(cfg: TerrainCfg) -> None:
    """Raises ``ValueError`` naming the first field of ``cfg`` that is wrong and what would be right."""
    if cfg.num_levels < 1 or cfg.num_cols < 1:
        raise ValueError(
            f"TerrainCfg.num_levels and num_cols must be >= 1, got {cfg.num_levels} and {cfg.num_cols}"
        )
    if not cfg.horizontal_scale > 0:
        raise ValueError(f"TerrainCfg.horizontal_scale must be > 0 m, got {cfg.horizontal_scale}")
    tile = _points(cfg.tile_size, cfg.horizontal_scale, "tile_size")
    if tile < 4 or tile % 2:
        raise ValueError(
            f"TerrainCfg.tile_size = {cfg.tile_size} m must span an even number (>= 4) of samples of "
            f"{cfg.horizontal_scale} m, so that a sample sits at the tile's centre"
        )
    _points(cfg.border_width, cfg.horizontal_scale, "border_width")
    _points(cfg.rough_cell_size, cfg.horizontal_scale, "rough_cell_size")
    if _points(cfg.chunk_size, cfg.horizontal_scale, "chunk_size") < 1:
        raise ValueError(f"TerrainCfg.chunk_size must be > 0 m, got {cfg.chunk_size}")
    if not 0 < cfg.platform_size < cfg.tile_size:
        raise ValueError(
            f"TerrainCfg.platform_size must lie in (0, tile_size = {cfg.tile_size}) m, got {cfg.platform_size}"
        )
    unknown = sorted(set(cfg.proportions) - set(TERRAIN_TYPES))
    if unknown:
        raise ValueError(f"TerrainCfg.proportions has unknown types {unknown}; known: {list(TERRAIN_TYPES)}")
    if any(p < 0 for p in cfg.proportions.values()) or sum(cfg.proportions.values()) <= 0:
        raise ValueError(f"TerrainCfg.proportions must be >= 0 with a positive sum, got {cfg.proportions}")
    lo, hi = cfg.difficulty_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"TerrainCfg.difficulty_range must satisfy 0 <= low <= high <= 1, got {(lo, hi)}")
    if cfg.representation not in ("hfield", "boxes"):
        raise ValueError(f"TerrainCfg.representation must be 'hfield' or 'boxes', got {cfg.representation!r}")
    not_flat = sorted(set(cfg.box_types) - {"flat", "stairs_up", "stairs_down", "stepping_stones"})
    if not_flat:
        raise ValueError(
            f"TerrainCfg.box_types may hold only piecewise flat types (flat, stairs_up, stairs_down, "
            f"stepping_stones), got {not_flat}"
        )
    if not cfg.step_width > 0 or not min(cfg.stone_pit_depth_range) > 0 or not cfg.base_thickness > 0:
        raise ValueError(
            "TerrainCfg.step_width, both stone_pit_depth_range values and base_thickness must be > 0 m, got "
            f"{cfg.step_width}, {cfg.stone_pit_depth_range} and {cfg.base_thickness}"
        )


def column_types(cfg: TerrainCfg) -> tuple[str, ...]:
    """The terrain type of each column: column j takes the type whose share of the cumulative
    proportions holds ``(j + 0.5) / num_cols``, so the types appear in ``TERRAIN_TYPES`` order."""
    names = [t for t in TERRAIN_TYPES if cfg.proportions.get(t, 0.0) > 0]
    shares = np.array([cfg.proportions[t] for t in names], dtype=np.float64)
    bounds = np.cumsum(shares / shares.sum())
    out = []
    for j in range(cfg.num_cols):
        k = int(np.searchsorted(bounds, (j + 0.5) / cfg.num_cols, side="right"))
        out.append(names[min(k, len(names) - 1)])
    return tuple(out)


def level_difficulties(cfg: TerrainCfg) -> np.ndarray:
    """``[num_levels]`` difficulty of each level: ``difficulty_range`` spanned evenly (one level: its low end)."""
    lo, hi = cfg.difficulty_range
    if cfg.num_levels == 1:
        return np.array([lo])
    return lo + (hi - lo) * np.arange(cfg.num_levels) / (cfg.num_levels - 1)


def _lerp(bounds: tuple[float, float], t: float) -> float:
    return float(bounds[0] + (bounds[1] - bounds[0]) * t)


def tile_parameters(cfg: TerrainCfg, difficulty: float) -> dict[str, float]:
    """The size of each feature at ``difficulty``: rough height, slope, step height, stone size, gap
    and pit depth."""
    return {
        "rough_height": _lerp(cfg.rough_height_range, difficulty),
        "slope": _lerp(cfg.slope_range, difficulty),
        "step_height": _lerp(cfg.step_height_range, difficulty),
        "stone_size": _lerp(cfg.stone_size_range, difficulty),
        "stone_gap": _lerp(cfg.stone_gap_range, difficulty),
        "stone_pit_depth": _lerp(cfg.stone_pit_depth_range, difficulty),
    }


def _tile(kind: str, cfg: TerrainCfg, difficulty: float, rng: np.random.Generator) -> np.ndarray:
    """Heights ``[P, P]`` of one tile (rows along y); sample ``P / 2`` is the centre."""
    hs = cfg.horizontal_scale
    n = round(cfg.tile_size / hs)
    c = n // 2
    half_platform = int(math.floor(0.5 * cfg.platform_size / hs + 1e-9))
    u = np.arange(n) - c  # signed offset of each sample from the centre, in samples
    ring = np.maximum(np.abs(u)[:, None], np.abs(u)[None, :])  # Chebyshev distance, in samples
    platform = ring <= half_platform
    # Samples inwards from the tile's rim (0 at the rim) up to the platform's edge.
    inward = c - np.maximum(ring, half_platform)
    p = tile_parameters(cfg, difficulty)
    if kind == "flat":
        return np.zeros((n, n))
    if kind == "rough":
        cell = round(cfg.rough_cell_size / hs)
        coarse_n = n // cell + 2
        amp = p["rough_height"]
        coarse = rng.uniform(-0.5 * amp, 0.5 * amp, size=(coarse_n, coarse_n))
        at = np.arange(n) / cell
        grid = np.arange(coarse_n)
        along_x = np.stack([np.interp(at, grid, row) for row in coarse])  # [coarse_n, n]
        heights = np.stack([np.interp(at, grid, col) for col in along_x.T], axis=1)  # [n, n]
        return np.where(platform, 0.0, heights)
    if kind in ("slope_up", "slope_down"):
        heights = p["slope"] * hs * inward
        return heights if kind == "slope_down" else -heights
    if kind in ("stairs_up", "stairs_down"):
        # The step a sample is on, counted from the rim; the tolerance keeps exact multiples of the
        # tread on the step they start.
        step = np.floor(inward * hs / cfg.step_width + 1e-6)
        heights = p["step_height"] * step
        return heights if kind == "stairs_down" else -heights
    if kind == "stepping_stones":
        size = max(1, round(p["stone_size"] / hs))
        gap = max(1, round(p["stone_gap"] / hs))
        # Along each axis, from the platform's edge outwards: a gap, a stone, a gap... The pattern
        # continues through the platform's band, so the stones in line with it are squares too.
        from_edge = np.abs(u) - half_platform - 1
        on_stone_1d = np.mod(from_edge, size + gap) >= gap
        stones = on_stone_1d[:, None] & on_stone_1d[None, :]
        return np.where(stones | platform, 0.0, -p["stone_pit_depth"])
    raise ValueError(f"unknown terrain type {kind!r}; known: {list(TERRAIN_TYPES)}")


def generate_terrain(cfg: TerrainCfg) -> Terrain:
    """The heights of the whole grid and the spawn point of each tile (deterministic from ``cfg.seed``).

    Raises:
      ValueError: a field of ``cfg`` is invalid (see ``validate_terrain_cfg``).
    """
    validate_terrain_cfg(cfg)
    hs = cfg.horizontal_scale
    tile = round(cfg.tile_size / hs)
    border = round(cfg.border_width / hs)
    nx = 2 * border + cfg.num_levels * tile + 1
    ny = 2 * border + cfg.num_cols * tile + 1
    heights = np.zeros((ny, nx))
    types = column_types(cfg)
    difficulties = level_difficulties(cfg)
    origins = np.zeros((cfg.num_levels, cfg.num_cols, 3))
    size_x, size_y = 0.5 * (nx - 1) * hs, 0.5 * (ny - 1) * hs
    for level in range(cfg.num_levels):
        x0 = border + level * tile
        for col in range(cfg.num_cols):
            y0 = border + col * tile
            rng = np.random.default_rng([cfg.seed, level, col])
            heights[y0 : y0 + tile, x0 : x0 + tile] = _tile(types[col], cfg, float(difficulties[level]), rng)
            cx, cy = x0 + tile // 2, y0 + tile // 2
            origins[level, col] = (cx * hs - size_x, cy * hs - size_y, heights[cy, cx])
    return Terrain(heights, origins, types, difficulties, hs)


def add_terrain(spec: mujoco.MjSpec, cfg: TerrainCfg, terrain: Terrain | None = None) -> Terrain:
    """Adds the terrain to ``spec`` as height fields of at most ``cfg.chunk_size`` m a side; returns it.
    With ``cfg.representation == "boxes"``, ``warplab.assets.terrain_boxes.add_box_terrain`` builds
    it instead (boxes for the piecewise flat columns; the rest in height fields as below).

    The grid is cut into chunks that share their edge samples (so the surface stays continuous), each
    a height field ``terrain_r<i>_c<j>`` (row i along y, column j along x, from the most negative
    corner) centred on its own geoms:

    - ``terrain_r<i>_c<j>``: the ground robots stand on (group 0, contype 1, conaffinity 0: it meets
      every geom whose conaffinity has bit 1, as the flat ``floor`` does, and nothing else of the world);
    - ``terrain_rays_r<i>_c<j>``: the same surface in group ``TERRAIN_RAY_GROUP`` without collisions,
      the target of height scans (MuJoCo's ray casts select geoms by group, and robots use the low groups).

    Why chunks: MuJoCo Warp tests a geom against the prisms of a height field in the field's frame in
    float32, and far from the field's centre the convex collision loses precision. On one field
    spanning the default grid (centre to edge 100 m), humanoids standing still on flat tiles 36 m and
    76 m from the centre were launched at 20 rad/s by contacts whose normals pointed into the ground,
    where the same worlds 4 m from the centre (and MuJoCo's float64 C engine anywhere) stood.

    Args:
      terrain: a terrain generated from ``cfg`` already (None: generated here).
    """
    if any(g.name.startswith("terrain") for g in spec.geoms):
        raise ValueError("the spec already has a geom whose name starts with 'terrain'")
    terrain = terrain if terrain is not None else generate_terrain(cfg)
    add_checker_material(spec, "terrain", rgb1=(0.30, 0.34, 0.38), rgb2=(0.22, 0.25, 0.29))
    if cfg.representation == "boxes":
        from warplab.assets.terrain_boxes import add_box_terrain

        add_box_terrain(spec, cfg, terrain)
        return terrain
    ny, nx = terrain.heights.shape
    add_hfield_chunks(spec, cfg, terrain, (0, ny - 1, 0, nx - 1), "")
    return terrain


def add_hfield_chunks(
    spec: mujoco.MjSpec, cfg: TerrainCfg, terrain: Terrain, rect: tuple[int, int, int, int], prefix: str
) -> None:
    """Adds the samples ``rect`` = (first row, last row, first column, last column), inclusive, of
    ``terrain`` as height fields ``terrain_<prefix>r<i>_c<j>`` of at most ``cfg.chunk_size`` m a side
    that share their edge samples (see ``add_terrain``)."""
    hs = terrain.horizontal_scale
    chunk = round(cfg.chunk_size / hs)
    row0, row1, col0, col1 = rect
    for i, r0 in enumerate(range(row0, max(row1, row0 + 1), chunk)):
        for j, c0 in enumerate(range(col0, max(col1, col0 + 1), chunk)):
            heights = terrain.heights[r0 : min(r0 + chunk, row1) + 1, c0 : min(c0 + chunk, col1) + 1]
            centre = (
                (c0 + 0.5 * (heights.shape[1] - 1)) * hs - terrain.size_x,
                (r0 + 0.5 * (heights.shape[0] - 1)) * hs - terrain.size_y,
            )
            _add_hfield(spec, cfg, f"{prefix}r{i}_c{j}", heights, hs, centre)


def _add_hfield(
    spec: mujoco.MjSpec,
    cfg: TerrainCfg,
    suffix: str,
    heights: np.ndarray,
    hs: float,
    centre: tuple[float, float],
) -> None:
    low, high = float(heights.min()), float(heights.max())
    span = high - low
    # MuJoCo rescales a height field's samples to [0, 1] and multiplies them by size[2]; giving them
    # already normalized, with the lowest point as the geom's z, keeps every height exact.
    normalized = (heights - low) / span if span > 0 else np.zeros_like(heights)
    name = f"terrain_{suffix}"
    spec.add_hfield(
        name=name,
        nrow=heights.shape[0],
        ncol=heights.shape[1],
        size=[
            0.5 * (heights.shape[1] - 1) * hs,
            0.5 * (heights.shape[0] - 1) * hs,
            span if span > 0 else 1.0,
            cfg.base_thickness,
        ],
        userdata=normalized.astype(np.float32).ravel().tolist(),
    )
    common = {"type": mujoco.mjtGeom.mjGEOM_HFIELD, "hfieldname": name, "pos": [centre[0], centre[1], low]}
    spec.worldbody.add_geom(
        name=name,
        material="terrain",
        contype=1,
        conaffinity=0,
        condim=3,
        friction=[cfg.friction, 0.005, 0.0001],
        group=0,
        **common,
    )
    if cfg.ray_copies:
        spec.worldbody.add_geom(
            name=f"terrain_rays_{suffix}",
            contype=0,
            conaffinity=0,
            group=TERRAIN_RAY_GROUP,
            rgba=[0.5, 0.5, 0.5, 1.0],
            **common,
        )


_CACHE: dict[str, Terrain] = {}


def cached_terrain(cfg: TerrainCfg) -> Terrain:
    """``generate_terrain(cfg)``, generated once per distinct config in this process (the scene and the
    curriculum term both need it; a large grid takes a moment to generate)."""
    key = repr(cfg)
    terrain = _CACHE.get(key)
    if terrain is None:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        terrain = _CACHE[key] = generate_terrain(cfg)
    return terrain
