"""The terrain generator: layout, determinism, the size of each feature per level, flat spawn areas,
the MuJoCo height field it builds, and MuJoCo Warp's collisions with it against MuJoCo's C engine.

A small grid (3 levels x 7 columns of 4 m tiles, 0.1 m samples) keeps everything but the last test,
which steps MuJoCo Warp on the CPU, well under a second.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.terrain_generator import (
    TERRAIN_RAY_GROUP,
    TERRAIN_TYPES,
    TerrainCfg,
    add_terrain,
    generate_terrain,
)
from warplab.sim import SimCfg, Simulation

HS = 0.1
TILE = 40  # samples per 4 m tile
BORDER = 10  # samples in the 1 m border
CENTRE = TILE // 2
HALF_PLATFORM = 5  # samples on each side of the centre in the 1 m platform


def small_cfg(**fields) -> TerrainCfg:
    """One column per type, three levels of difficulty 0, 0.5 and 1."""
    cfg = TerrainCfg(
        num_levels=3,
        num_cols=len(TERRAIN_TYPES),
        tile_size=4.0,
        border_width=1.0,
        horizontal_scale=HS,
        platform_size=1.0,
        proportions=dict.fromkeys(TERRAIN_TYPES, 1.0),
    )
    for name, value in fields.items():
        setattr(cfg, name, value)
    return cfg


@pytest.fixture(scope="module")
def terrain():
    return generate_terrain(small_cfg())


def tile(terrain, level: int, kind: str) -> np.ndarray:
    """Heights ``[y, x]`` of the tile of ``kind`` at ``level``."""
    col = terrain.column_types.index(kind)
    x0, y0 = BORDER + level * TILE, BORDER + col * TILE
    return terrain.heights[y0 : y0 + TILE, x0 : x0 + TILE]


def test_layout_shapes_and_types(terrain):
    assert terrain.heights.shape == (2 * BORDER + 7 * TILE + 1, 2 * BORDER + 3 * TILE + 1)
    assert terrain.origins.shape == (3, 7, 3)
    assert terrain.column_types == TERRAIN_TYPES
    np.testing.assert_allclose(terrain.difficulties, [0.0, 0.5, 1.0])
    # The field is centred on the world origin: 2 * 1 m border + 3 x 4 m along x, + 7 x 4 m along y.
    assert terrain.size_x == pytest.approx(7.0) and terrain.size_y == pytest.approx(15.0)
    # Tile centres, by hand: level i at x = -7 + 1 + 4 i + 2, column j at y = -15 + 1 + 4 j + 2.
    np.testing.assert_allclose(terrain.origins[:, 0, 0], [-4.0, 0.0, 4.0], atol=1e-9)
    np.testing.assert_allclose(terrain.origins[0, :, 1], -12.0 + 4.0 * np.arange(7), atol=1e-9)
    # The border is flat at 0.
    assert not terrain.heights[:BORDER].any() and not terrain.heights[:, :BORDER].any()


def test_proportions_assign_columns_in_type_order():
    cfg = small_cfg(num_cols=10, proportions={"rough": 0.2, "stairs_up": 0.5, "stepping_stones": 0.3})
    expected = ("rough",) * 2 + ("stairs_up",) * 5 + ("stepping_stones",) * 3
    assert generate_terrain(cfg).column_types == expected


def test_same_seed_same_terrain_other_seed_other_noise(terrain):
    again = generate_terrain(small_cfg())
    np.testing.assert_array_equal(again.heights, terrain.heights)
    np.testing.assert_array_equal(again.origins, terrain.origins)
    other = generate_terrain(small_cfg(seed=1))
    assert not np.array_equal(tile(other, 2, "rough"), tile(terrain, 2, "rough"))
    # Only the random tiles change with the seed.
    np.testing.assert_array_equal(tile(other, 2, "stairs_up"), tile(terrain, 2, "stairs_up"))


@pytest.mark.parametrize("kind", ["stairs_down", "stairs_up"])
def test_step_heights_and_treads_per_level(terrain, kind):
    sign = 1.0 if kind == "stairs_down" else -1.0
    # 0.02 m at level 0 to 0.12 m at the top, linear: 0.02, 0.07, 0.12. Treads of 0.3 m = 3 samples;
    # from the rim at 2 m to the platform's edge at 0.5 m: 5 steps, so the platform is 5 risers up.
    for level, riser in enumerate([0.02, 0.07, 0.12]):
        heights = tile(terrain, level, kind)
        along_x = heights[CENTRE, :]  # from the rim (x = -2 m) through the centre
        expected = sign * riser * np.minimum(np.arange(CENTRE + 1) // 3, 5)
        np.testing.assert_allclose(along_x[: CENTRE + 1], expected, atol=1e-12)
        assert terrain.origins[level, TERRAIN_TYPES.index(kind), 2] == pytest.approx(sign * 5 * riser)


@pytest.mark.parametrize("kind", ["slope_down", "slope_up"])
def test_slopes_per_level(terrain, kind):
    sign = 1.0 if kind == "slope_down" else -1.0
    for level, gradient in enumerate([0.0, 0.2, 0.4]):
        along_x = tile(terrain, level, kind)[CENTRE, :]
        rise = np.diff(along_x[: CENTRE - HALF_PLATFORM + 1])
        np.testing.assert_allclose(rise, sign * gradient * HS, atol=1e-12)
        # From the rim at 0 up (or down) 1.5 m of run to the platform.
        assert terrain.origins[level, TERRAIN_TYPES.index(kind), 2] == pytest.approx(sign * 1.5 * gradient)


def test_stepping_stones_shrink_and_gaps_widen_and_pits_deepen(terrain):
    # Stones of 0.8, 0.6, 0.4 m, gaps of 0.1, 0.2, 0.3 m (in samples), pits 0.05, 0.275, 0.5 m deep.
    for level, (stone, gap, depth) in enumerate([(8, 1, 0.05), (6, 2, 0.275), (4, 3, 0.5)]):
        heights = tile(terrain, level, "stepping_stones")
        pits = heights < 0
        np.testing.assert_allclose(heights[pits], -depth, rtol=1e-12)
        assert np.all(heights[~pits] == 0.0)
        # From the platform's edge outwards along x, on the first row of stones past it (a gap
        # surrounds the platform): gap, stone, gap... Runs fully inside the segment have exact sizes.
        row = CENTRE + HALF_PLATFORM + 1 + gap
        outwards = pits[row, CENTRE + HALF_PLATFORM + 1 :]
        assert outwards[:gap].all() and not outwards[gap : gap + stone].any()
        runs = np.diff(np.flatnonzero(np.diff(outwards.astype(int)) != 0))
        assert set(runs.tolist()) == {stone, gap}, (level, runs)


def test_rough_noise_grows_with_level(terrain):
    peak_to_peak = []
    for level, bound in enumerate([0.01, 0.035, 0.06]):
        heights = tile(terrain, level, "rough")
        assert np.all(np.abs(heights) <= 0.5 * bound + 1e-12)
        peak_to_peak.append(np.ptp(heights))
    assert peak_to_peak[0] < peak_to_peak[1] < peak_to_peak[2]


def test_spawn_areas_are_flat_at_the_origin_height(terrain):
    for level in range(3):
        for col, kind in enumerate(terrain.column_types):
            heights = tile(terrain, level, kind)
            platform = heights[
                CENTRE - HALF_PLATFORM : CENTRE + HALF_PLATFORM + 1,
                CENTRE - HALF_PLATFORM : CENTRE + HALF_PLATFORM + 1,
            ]
            np.testing.assert_array_equal(platform, terrain.origins[level, col, 2])


def test_the_height_field_compiles_and_holds_the_heights(terrain):
    spec = mujoco.MjSpec()
    add_terrain(spec, small_cfg(), terrain)
    model = spec.compile()
    # Chunks of chunk_size share their edge samples; together they hold every height of the grid.
    world = np.full(terrain.heights.shape, np.nan)
    hs = terrain.horizontal_scale
    for h in range(model.nhfield):
        ground, rays = model.geom(model.hfield(h).name), model.geom("terrain_rays" + model.hfield(h).name[7:])
        nrow, ncol = model.hfield_nrow[h], model.hfield_ncol[h]
        assert (
            nrow <= round(small_cfg().chunk_size / hs) + 1 and ncol <= round(small_cfg().chunk_size / hs) + 1
        )
        c0 = round((ground.pos[0] - model.hfield_size[h][0] + terrain.size_x) / hs)
        r0 = round((ground.pos[1] - model.hfield_size[h][1] + terrain.size_y) / hs)
        adr = model.hfield_adr[h]
        data = model.hfield_data[adr : adr + nrow * ncol].reshape(nrow, ncol)
        world[r0 : r0 + nrow, c0 : c0 + ncol] = ground.pos[2] + data * model.hfield_size[h][2]
        assert (ground.contype[0], ground.conaffinity[0], ground.group[0]) == (1, 0, 0)
        assert (rays.contype[0], rays.conaffinity[0], rays.group[0]) == (0, 0, TERRAIN_RAY_GROUP)
    np.testing.assert_allclose(world, terrain.heights, atol=2e-6)
    # MuJoCo's own ray cast meets the ground at a tile's spawn point (the stairs' summit, 0.6 m up).
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    origin = terrain.origins[2, TERRAIN_TYPES.index("stairs_down")]
    assert origin[2] == pytest.approx(0.6)
    geomid = np.zeros(1, dtype=np.int32)
    dist = mujoco.mj_ray(model, data, origin + [0, 0, 5.0], np.array([0.0, 0.0, -1.0]), None, 1, -1, geomid)
    assert dist == pytest.approx(5.0, abs=1e-5)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tile_size", 4.05, "tile_size"),
        ("proportions", {"lava": 1.0}, "lava"),
        ("platform_size", 5.0, "platform_size"),
        ("difficulty_range", (0.5, 0.2), "difficulty_range"),
    ],
)
def test_invalid_configs_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        generate_terrain(small_cfg(**{field: value}))


# --------------------------------------------------------------------------- MuJoCo Warp vs C
FOOT = {"type": mujoco.mjtGeom.mjGEOM_BOX, "size": [0.11, 0.0425, 0.0175]}  # the humanoid's sole
SHIN = {"type": mujoco.mjtGeom.mjGEOM_CAPSULE, "size": [0.045, 0.1]}
HAND = {"type": mujoco.mjtGeom.mjGEOM_SPHERE, "size": [0.05]}


def _bodies_on_terrain() -> mujoco.MjModel:
    """Feet, shins and hands on every kind of ground: flat, rough, a slope, a stair edge."""
    cfg = TerrainCfg(
        num_levels=1,
        num_cols=4,
        tile_size=2.0,
        border_width=0.4,
        platform_size=0.6,
        proportions={"flat": 1, "rough": 1, "slope_up": 1, "stairs_down": 1},
        difficulty_range=(1.0, 1.0),
    )
    spec = mujoco.MjSpec()
    spec.option.timestep = 0.005
    terrain = add_terrain(spec, cfg)
    at = {kind: terrain.origins[0, j] for j, kind in enumerate(terrain.column_types)}
    placements = [
        ("foot_flat", at["flat"] + [0.0, 0.0, 0.5], FOOT, (0.97, 0.0, 0.0, 0.26)),
        ("foot_stair_edge", at["stairs_down"] + [0.45, 0.0, 0.5], FOOT, (1, 0, 0, 0)),
        ("shin_rough", at["rough"] + [0.6, 0.2, 0.5], SHIN, (0.92, 0.38, 0.0, 0.0)),
        ("foot_slope", at["slope_up"] + [0.6, 0.0, 0.5], FOOT, (0.98, 0.0, -0.2, 0.0)),
        ("hand_slope", at["slope_up"] + [0.0, 0.6, 0.5], HAND, (1, 0, 0, 0)),
        ("shin_stair_edge", at["stairs_down"] + [-0.1, 0.46, 0.5], SHIN, (0.7071, 0.7071, 0.0, 0.0)),
    ]
    for name, pos, geom, quat in placements:
        body = spec.worldbody.add_body(name=name, pos=pos, quat=quat)
        body.add_freejoint()
        body.add_geom(name=name, mass=1.0, **geom)
    return spec.compile()


def _touch_down(model: mujoco.MjModel, data: mujoco.MjData, depth: float = 1e-3) -> None:
    """Lowers each free body until its deepest contact on MuJoCo's C engine is ``depth`` m."""

    def deepest(geom: int) -> float:
        dists = [data.contact[i].dist for i in range(data.ncon) if geom in data.contact[i].geom]
        return min(dists, default=np.inf)

    for body in range(1, model.nbody):
        z = model.jnt_qposadr[model.body_jntadr[body]] + 2
        low, high = -2.0, 2.0
        for _ in range(40):
            data.qpos[z] = 0.5 * (low + high)
            mujoco.mj_forward(model, data)
            if deepest(model.body_geomadr[body]) > -depth:
                high = data.qpos[z]
            else:
                low = data.qpos[z]
        data.qpos[z] = high
    mujoco.mj_forward(model, data)


def _deepest_contacts(geoms: np.ndarray, dists: np.ndarray, normals: np.ndarray) -> dict:
    out = {}
    for pair, dist, normal in zip(map(tuple, np.sort(geoms, axis=1)), dists, normals, strict=True):
        if pair not in out or dist < out[pair][0]:
            out[pair] = (float(dist), np.asarray(normal, dtype=np.float64))
    return out


def test_mujoco_warp_collides_boxes_capsules_and_spheres_with_the_height_field_as_mujoco_does():
    model = _bodies_on_terrain()
    data = mujoco.MjData(model)
    _touch_down(model, data)
    sim = Simulation(model, 1, device="cpu", cfg=SimCfg(nconmax=64, njmax=256))
    sim.set_state(qpos=torch.as_tensor(data.qpos[None], dtype=torch.float32))

    # Same state: every body touches in both, with the same deepest penetration and normal.
    reference = _deepest_contacts(
        np.array([c.geom for c in data.contact[: data.ncon]]) if data.ncon else np.zeros((0, 2), int),
        np.array([data.contact[i].dist for i in range(data.ncon)]),
        np.array([data.contact[i].frame[:3] for i in range(data.ncon)]),
    )
    count = int(sim.contact.count[0])
    warp = _deepest_contacts(
        sim.contact.geom[:count].numpy(),
        sim.contact.dist[:count].numpy(),
        sim.contact.frame[:count, 0].numpy(),
    )
    assert set(warp) == set(reference) and len(warp) == model.nbody - 1
    for pair, (dist, normal) in reference.items():
        assert warp[pair][0] == pytest.approx(dist, abs=1e-6), model.geom(pair[1]).name
        np.testing.assert_allclose(warp[pair][1], normal, atol=2e-4, err_msg=model.geom(pair[1]).name)
    # MuJoCo Warp keeps at most 4 contacts per pair (MuJoCo's C engine up to mjMAXCONPAIR).
    per_pair = np.unique(np.sort(sim.contact.geom[:count].numpy(), axis=1), axis=0, return_counts=True)[1]
    assert per_pair.max() <= 4

    # Stepping: the contact sets differ in size, so the two drift apart slowly; nothing sinks.
    for step in range(100):
        mujoco.mj_step(model, data)
        sim.step(1)
        if step == 19:
            error = np.abs(sim.qpos[0].numpy() - data.qpos).reshape(-1, 7)
            assert error[:, :3].max() < 5e-4 and error[:, 3:].max() < 2e-3
    error = np.abs(sim.qpos[0].numpy() - data.qpos).reshape(-1, 7)
    assert error[:, 2].max() < 5e-3
    sim.check_capacity()


# --------------------------------------------------------------------------- boxes
def _box_model(cfg: TerrainCfg):
    spec = mujoco.MjSpec()
    terrain = add_terrain(spec, cfg)
    return spec.compile(), terrain


def test_boxes_keep_the_heights_with_vertical_edges_and_height_fields_only_where_not_flat():
    """Rays cast down at the box terrain (MuJoCo's C engine, the ray copy's group) hit the generated
    heights, as the height scan's grid reads them, wherever the four samples around a point are equal
    or all belong to a height-field column; next to an edge (one sample) the surface lies between the
    heights around it, and a riser is a vertical face halfway between two samples."""
    from warplab.assets.terrain_boxes import box_layout
    from warplab.envs.mdp.terrain import _TerrainGrid

    cfg = small_cfg(representation="boxes")
    model, terrain = _box_model(cfg)
    layout = box_layout(cfg, terrain)
    # Only rough and the slopes stay height fields: one rectangle over those three adjacent columns.
    assert model.nhfield > 0 and len(layout.hfield_rects) == 1
    types = [model.geom(i).type[0] for i in range(model.ngeom) if model.geom(i).contype[0] == 1]
    assert types.count(mujoco.mjtGeom.mjGEOM_BOX) == len(layout.boxes)
    # Stairs down: one box per step (11) per tile, nested; stairs up: 4 per tread ring plus the pit's floor.
    stair_tile = layout.boxes[
        (layout.boxes[:, 0] >= BORDER + TILE * TERRAIN_TYPES.index("stairs_down"))
        & (layout.boxes[:, 1] < BORDER + TILE * (TERRAIN_TYPES.index("stairs_down") + 1))
        & (layout.boxes[:, 2] >= BORDER)
        & (layout.boxes[:, 3] < BORDER + TILE)
    ]
    assert len(stair_tile) == 6  # 5 steps of 0.3 m from the 2 m rim to the 1 m platform, and the rim

    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    rng = np.random.default_rng(0)
    n = 3000
    xy = rng.uniform(-1, 1, size=(n, 2)) * [terrain.size_x, terrain.size_y]
    grid = _TerrainGrid(terrain, torch.device("cpu"))
    expected, inside = grid.height_at(torch.as_tensor(xy[:, 0]), torch.as_tensor(xy[:, 1]))
    assert inside.all()
    only_terrain = np.zeros(6, dtype=np.uint8)
    only_terrain[TERRAIN_RAY_GROUP] = 1
    geomid = np.zeros(1, dtype=np.int32)
    top = float(terrain.heights.max()) + 1.0
    hit = np.array(
        [
            top - mujoco.mj_ray(model, data, [x, y, top], [0, 0, -1.0], only_terrain, 1, -1, geomid)
            for x, y in xy
        ]
    )
    u, v = (xy[:, 0] + terrain.size_x) / HS, (xy[:, 1] + terrain.size_y) / HS
    c, r = np.floor(u).astype(int), np.floor(v).astype(int)
    h = terrain.heights
    corners = np.stack([h[r, c], h[r, c + 1], h[r + 1, c], h[r + 1, c + 1]])
    owned = layout.box_owned
    in_field = ~(owned[r, c] | owned[r, c + 1] | owned[r + 1, c] | owned[r + 1, c + 1])
    away = (np.ptp(corners, axis=0) == 0) | in_field
    assert away.mean() > 0.8 and (~away).sum() > 100  # most points are away from edges, many are not
    np.testing.assert_allclose(hit[away], expected.numpy()[away], atol=1e-5)
    assert np.all(hit >= corners.min(0) - 1e-5) and np.all(hit <= corners.max(0) + 1e-5)

    # A riser is vertical, halfway between the samples: on the stairs down of the top level, 1 mm
    # either side of x = rim + 0.25 m (between the tread's last sample and the next one's first).
    col = TERRAIN_TYPES.index("stairs_down")
    rim_x = (BORDER + 2 * TILE) * HS - terrain.size_x
    y = (BORDER + col * TILE + CENTRE) * HS - terrain.size_y
    for dx, height in ((0.249, 0.0), (0.251, 0.12)):
        dist = mujoco.mj_ray(model, data, [rim_x + dx, y, top], [0, 0, -1.0], only_terrain, 1, -1, geomid)
        assert top - dist == pytest.approx(height, abs=1e-6)


def test_invalid_representation_names_the_field():
    with pytest.raises(ValueError, match="representation"):
        generate_terrain(small_cfg(representation="mesh"))
    with pytest.raises(ValueError, match="box_types"):
        generate_terrain(small_cfg(box_types=("rough",)))


def test_mujoco_warp_collides_feet_shins_and_hands_with_box_stairs_and_stones_as_mujoco_does():
    """On the box terrain (stairs down and stones at the top level): MuJoCo Warp's contacts from the
    same state match MuJoCo's C engine (box-box, capsule-box, sphere-box: up to 8 contacts a pair for
    two boxes), and the bodies rest on the treads and stones as in the C engine."""
    cfg = TerrainCfg(
        num_levels=1,
        num_cols=2,
        tile_size=2.0,
        border_width=0.4,
        platform_size=0.6,
        proportions={"stairs_down": 1, "stepping_stones": 1},
        difficulty_range=(1.0, 1.0),
        representation="boxes",
    )
    spec = mujoco.MjSpec()
    spec.option.timestep = 0.005
    terrain = add_terrain(spec, cfg)
    stairs, stones = terrain.origins[0, 0], terrain.origins[0, 1]
    placements = [
        ("foot_tread", stairs + [0.6, 0.0, 0.5], FOOT, (1, 0, 0, 0)),  # the tread spans 0.45-0.75 m
        ("foot_over_riser", stairs + [0.37, 0.0, 0.5], FOOT, (0.97, 0.0, 0.0, 0.26)),
        ("shin_tread", stairs + [-0.1, 0.55, 0.5], SHIN, (0.7071, 0.7071, 0.0, 0.0)),
        ("foot_stone", stones + [0.0, 0.0, 0.5], FOOT, (1, 0, 0, 0)),
        ("hand_platform", stairs + [0.0, -0.2, 0.5], HAND, (1, 0, 0, 0)),
    ]
    for name, pos, geom, quat in placements:
        body = spec.worldbody.add_body(name=name, pos=pos, quat=quat)
        body.add_freejoint()
        body.add_geom(name=name, mass=1.0, **geom)
    model = spec.compile()
    assert model.nhfield == 0
    data = mujoco.MjData(model)
    _touch_down(model, data)
    sim = Simulation(model, 1, device="cpu", cfg=SimCfg(nconmax=96, njmax=384))
    sim.set_state(qpos=torch.as_tensor(data.qpos[None], dtype=torch.float32))
    reference = _deepest_contacts(
        np.array([c.geom for c in data.contact[: data.ncon]]),
        np.array([data.contact[i].dist for i in range(data.ncon)]),
        np.array([data.contact[i].frame[:3] for i in range(data.ncon)]),
    )
    count = int(sim.contact.count[0])
    warp = _deepest_contacts(
        sim.contact.geom[:count].numpy(),
        sim.contact.dist[:count].numpy(),
        sim.contact.frame[:count, 0].numpy(),
    )
    assert set(warp) == set(reference)
    assert {p[1] for p in warp} >= set(range(model.ngeom - 5, model.ngeom))  # every body touches
    for pair, (dist, normal) in reference.items():
        assert warp[pair][0] == pytest.approx(dist, abs=1e-6), model.geom(pair[1]).name
        np.testing.assert_allclose(warp[pair][1], normal, atol=2e-4, err_msg=model.geom(pair[1]).name)
    # Per pair, as many contact points (box-box: up to 8), but for one whose corner lies at the
    # margin: the foot turned over the riser gets 5 in the C engine and 4 in MuJoCo Warp.
    pairs = [tuple(p) for p in np.sort(sim.contact.geom[:count].numpy(), axis=1).tolist()]
    in_c = [tuple(sorted(int(g) for g in c.geom)) for c in data.contact[: data.ncon]]
    assert all(abs(pairs.count(p) - in_c.count(p)) <= 1 for p in reference)
    assert max(in_c.count(p) for p in reference) >= 4

    # Stepping 0.5 s: the two engines agree to 0.1 mm (on a height field, where MuJoCo Warp keeps 4
    # contacts a pair and the C engine up to 50, they drift apart by 2 mm). Pushed out of their
    # 1 mm touch-down, the bodies on treads and on the stone rise by less than 1 mm and sink nowhere;
    # the shin, across a tread's edge, rolls down onto the next tread in both.
    z_start = data.qpos.reshape(-1, 7)[:, 2].copy()
    worst = np.zeros(5)
    for _ in range(100):
        mujoco.mj_step(model, data)
        sim.step(1)
        error = np.abs(sim.qpos[0].numpy() - data.qpos).reshape(-1, 7)
        worst = np.maximum(worst, error[:, :3].max(1))
    assert worst.max() < 1e-4
    rise = (sim.qpos[0].numpy().reshape(-1, 7)[:, 2] - z_start)[[0, 1, 3, 4]]
    assert np.all(rise > -1e-4) and np.all(rise < 1e-3)
    sim.check_capacity()


def test_boxes_refuse_a_terrain_not_generated_from_their_cfg(terrain):
    with pytest.raises(ValueError, match="generated from its TerrainCfg"):
        add_terrain(mujoco.MjSpec(), small_cfg(representation="boxes", num_levels=2), terrain)
