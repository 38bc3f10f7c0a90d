"""The generated terrain with its piecewise flat parts as static boxes (``TerrainCfg.representation``
= ``"boxes"``).

Stairs, stepping stones, flat tiles and the border are flat between sharp edges. In a height field
each edge is a ramp one sample wide, and MuJoCo Warp collides a foot with every grid prism under it
(``ccd_hfield_kernel``, the costliest kernel of the rough task). Here those columns become boxes
welded to the world, and only the columns that are not flat (``rough``, slopes) stay height fields.

The layout, in sample indices of ``Terrain.heights`` (row r along y, column c along x):

- A column whose type is not in ``TerrainCfg.box_types`` *owns* its tile samples (every level);
  consecutive such columns form one height-field rectangle that reaches one sample further on every
  side, so its surface joins its neighbours' samples with the same ramps as the full height field.
- Every other sample (box types and the border) owns the square of one sample's side centred on
  it, at its height. Equal heights merge into boxes: runs along a row, then identical runs of
  consecutive rows. Within a tile, a box of one height may also reach under the tile's higher
  samples, hidden ("layered"), where that takes fewer boxes: a stair pyramid is one box per step,
  the pits of a stepping-stone tile one box under all its stones; a stair pit is one box per side of
  each tread ring. The border (and what no tile covers) merges into a few long boxes. Each box
  reaches from its top down to ``base_thickness`` below the lowest sample of the terrain, so no gap
  opens underneath.

So a riser or a pit wall stands halfway between two samples, vertical, where the height field
ramps over the whole sample; away from those edges (more than one sample) both surfaces are the
generated heights, and the height scan's grid (``HeightScan(terrain=...)``) reads the same ground
from either. Where a box meets a height-field column, the box's half cell overlaps the field's
edge ramp; the surface there is the higher of the two.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from warplab.assets.terrain_generator import (
    TERRAIN_RAY_GROUP,
    Terrain,
    TerrainCfg,
    add_hfield_chunks,
)


@dataclasses.dataclass
class BoxLayout:
    """Which samples become boxes and which height fields.

    Attributes:
      boxes: ``[B, 5]`` one box per row: first row, last row, first column, last column (sample
        indices, inclusive) and the height of its top, m.
      hfield_rects: height-field rectangles (first row, last row, first column, last column),
        inclusive sample indices.
      box_owned: ``[ny, nx]`` bool, true where a box gives the surface around the sample.
    """

    boxes: np.ndarray
    hfield_rects: list[tuple[int, int, int, int]]
    box_owned: np.ndarray


def box_layout(cfg: TerrainCfg, terrain: Terrain) -> BoxLayout:
    """The boxes and height-field rectangles of ``terrain`` (generated from ``cfg``) for
    ``representation="boxes"``."""
    heights = terrain.heights
    ny, nx = heights.shape
    hs = terrain.horizontal_scale
    tile = round(cfg.tile_size / hs)
    border = round(cfg.border_width / hs)
    expected = (2 * border + cfg.num_cols * tile + 1, 2 * border + cfg.num_levels * tile + 1)
    if (ny, nx) != expected or len(terrain.column_types) != cfg.num_cols:
        raise ValueError(
            f"the box terrain needs the Terrain generated from its TerrainCfg: heights of shape "
            f"{expected} and {cfg.num_cols} column types, got {(ny, nx)} and {len(terrain.column_types)}"
        )
    box_owned = np.ones((ny, nx), dtype=bool)
    rects: list[tuple[int, int, int, int]] = []
    x_first, x_last = border, border + cfg.num_levels * tile - 1
    col = 0
    while col < cfg.num_cols:
        if terrain.column_types[col] in cfg.box_types:
            col += 1
            continue
        end = col
        while end + 1 < cfg.num_cols and terrain.column_types[end + 1] not in cfg.box_types:
            end += 1
        y_first, y_last = border + col * tile, border + (end + 1) * tile - 1
        box_owned[y_first : y_last + 1, x_first : x_last + 1] = False
        # One sample beyond the owned ones on every side: the field's edge cells ramp to the
        # neighbours' samples as the full height field does, and the boxes' half cells meet them.
        rects.append(
            (max(y_first - 1, 0), min(y_last + 1, ny - 1), max(x_first - 1, 0), min(x_last + 1, nx - 1))
        )
        col = end + 1
    # Each box-type tile on its own, layered or exact, whichever needs fewer boxes (layered suits
    # stairs down and stepping stones, exact suits stairs up); the border and the samples no tile
    # covers in one exact pass, which merges them into a few long boxes.
    boxes: list[list[float]] = []
    rest = box_owned.copy()
    for level in range(cfg.num_levels):
        for col, kind in enumerate(terrain.column_types):
            if kind not in cfg.box_types:
                continue
            y0, x0 = border + col * tile, border + level * tile
            block = heights[y0 : y0 + tile, x0 : x0 + tile]
            everywhere = np.ones_like(block, dtype=bool)
            choices = [_boxes(block, everywhere, layered) for layered in (False, True)]
            for r0, r1, c0, c1, top in min(choices, key=len):
                boxes.append([r0 + y0, r1 + y0, c0 + x0, c1 + x0, top])
            rest[y0 : y0 + tile, x0 : x0 + tile] = False
    boxes += _boxes(heights, rest, layered=False)
    return BoxLayout(np.array(boxes, dtype=np.float64).reshape(-1, 5), rects, box_owned)


def _rectangles(allowed: np.ndarray, need: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Rectangles (first row, last row, first column, last column) of ``allowed`` cells covering
    every ``need`` cell: the runs of ``allowed`` along each row that hold a ``need`` cell, each
    merged with the identical run (same columns) of the row before."""
    rows, cols = allowed.shape
    edges = np.diff(np.pad(allowed, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    run_rows, run_first = np.nonzero(edges == 1)
    run_end = np.nonzero(edges == -1)[1]  # exclusive; np.nonzero is row-major, so the runs pair up
    needed = np.pad(np.cumsum(need, axis=1), ((0, 0), (1, 0)))
    holds = needed[run_rows, run_end] > needed[run_rows, run_first]
    out: list[list[int]] = []
    open_runs: dict[tuple[int, int], int] = {}
    now: dict[tuple[int, int], int] = {}
    row_before = -1
    for r, c0, c1 in zip(
        run_rows[holds].tolist(), run_first[holds].tolist(), run_end[holds].tolist(), strict=True
    ):
        if r != row_before:
            open_runs = now if r == row_before + 1 else {}
            now, row_before = {}, r
        index = open_runs.get((c0, c1))
        if index is None:
            index = len(out)
            out.append([r, r, c0, c1 - 1])
        else:
            out[index][1] = r
        now[(c0, c1)] = index
    return [(a, b, c, d) for a, b, c, d in out]


def _boxes(heights: np.ndarray, owned: np.ndarray, layered: bool) -> list[list[float]]:
    """``[[first row, last row, first column, last column, top], ...]`` boxes whose highest tops are
    ``heights`` at every ``owned`` cell. Exact: one height's boxes cover only cells of that height.
    Layered: they may reach under higher cells too (hidden), so a pyramid of steps is one box per
    step and the pits between stones one box under all of them."""
    out = []
    for h in np.unique(heights[owned]):
        need = owned & (heights == h)
        allowed = owned & (heights >= h) if layered else need
        out += [[r0, r1, c0, c1, float(h)] for r0, r1, c0, c1 in _rectangles(allowed, need)]
    return out


def add_box_terrain(spec: mujoco.MjSpec, cfg: TerrainCfg, terrain: Terrain) -> BoxLayout:
    """Adds ``terrain`` to ``spec`` as boxes ``terrain_box<k>`` and height fields
    ``terrain_h<k>_r<i>_c<j>`` (``box_layout``), each with its ray-casting copy ``terrain_rays_...``
    in group ``TERRAIN_RAY_GROUP`` (with ``cfg.ray_copies``); the collision settings are the height fields' (``add_terrain``).
    Returns the layout."""
    layout = box_layout(cfg, terrain)
    for k, rect in enumerate(layout.hfield_rects):
        add_hfield_chunks(spec, cfg, terrain, rect, f"h{k}_")
    hs = terrain.horizontal_scale
    ny, nx = terrain.heights.shape
    bottom = float(terrain.heights.min()) - cfg.base_thickness
    for k, (r0, r1, c0, c1, top) in enumerate(layout.boxes):
        # A sample's square reaches half a sample to each side, cut at the edge of the field.
        x0, x1 = max(c0 - 0.5, 0.0) * hs - terrain.size_x, min(c1 + 0.5, nx - 1) * hs - terrain.size_x
        y0, y1 = max(r0 - 0.5, 0.0) * hs - terrain.size_y, min(r1 + 0.5, ny - 1) * hs - terrain.size_y
        common = {
            "type": mujoco.mjtGeom.mjGEOM_BOX,
            "pos": [0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * (top + bottom)],
            "size": [0.5 * (x1 - x0), 0.5 * (y1 - y0), 0.5 * (top - bottom)],
        }
        spec.worldbody.add_geom(
            name=f"terrain_box{k}",
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
                name=f"terrain_rays_box{k}",
                contype=0,
                conaffinity=0,
                group=TERRAIN_RAY_GROUP,
                rgba=[0.5, 0.5, 0.5, 1.0],
                **common,
            )
    return layout
