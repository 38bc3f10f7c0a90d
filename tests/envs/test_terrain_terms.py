"""Terrain terms: the height scan against MuJoCo's ``mj_ray``, the curriculum rule on hand-made
distances, spawning on the terrain, exact save and restore, and the rough-terrain task itself.

The scenes are the framework tests' weightless free body over a small terrain (CPU, a few worlds).
"""

from __future__ import annotations

import io
import math

import mujoco
import numpy as np
import pytest
import torch

import warplab
from warplab.assets.terrain_generator import (
    TERRAIN_RAY_GROUP,
    Terrain,
    TerrainCfg,
    add_terrain,
    cached_terrain,
)
from warplab.envs import CommandTermCfg, CurriculumTermCfg, EventTermCfg, ObservationTermCfg, RlEnv, mdp
from warplab.envs.mdp.terrain import HeightScan, TerrainLevels, reset_root_on_terrain, terrain_levels_term
from warplab.tasks import make_env_cfg

from ._cfgs import free_body_cfg, free_body_spec

BASE_HEIGHT = 1.0
"""z of the free body's base in its default pose (``FREE_BODY_XML``), m."""


def _quat(yaw: float, roll: float = 0.0) -> list[float]:
    """(w, x, y, z) of a roll about x, then a yaw about z."""
    cy, sy, cr, sr = math.cos(yaw / 2), math.sin(yaw / 2), math.cos(roll / 2), math.sin(roll / 2)
    return [cy * cr, cy * sr, sy * sr, sy * cr]


# --------------------------------------------------------------------------- height scan
def _step_terrain() -> Terrain:
    """6 m x 4 m at 0.1 m, centred on the origin: flat at 0 for x <= 0, a 0.2 m step up beyond."""
    x = np.arange(61) * 0.1 - 3.0
    heights = np.where(x > 0.05, 0.2, 0.0)[None, :].repeat(41, axis=0)
    return Terrain(heights, np.zeros((1, 1, 3)), ("flat",), np.zeros(1), 0.1)


def test_height_scan_matches_mj_ray_and_ignores_the_robot():
    def scene():
        spec = free_body_spec()
        add_terrain(spec, TerrainCfg(), _step_terrain())
        return spec

    env = RlEnv(free_body_cfg(num_envs=3, scene=scene))
    scan = HeightScan(
        ObservationTermCfg(func=HeightScan, params={"size": (1.6, 1.0), "resolution": 0.1}), env
    )
    assert scan.num_rays == 17 * 11
    # World 0 straddles the step, yawed and rolled; world 1 is over flat ground, turned left by 90
    # degrees; world 2 is off the terrain.
    poses = [([0.03, 0.1, 1.0], 0.3, 0.4), ([-2.0, 0.0, 0.8], math.pi / 2, 0.0), ([10.0, 0.0, 1.0], 0.0, 0.0)]
    qpos = env.sim.qpos.clone()
    for i, (pos, yaw, roll) in enumerate(poses):
        qpos[i, :7] = torch.tensor(pos + _quat(yaw, roll))
    env.sim.set_state(qpos=qpos)
    heights = scan(env)
    assert heights.shape == (3, 187)

    # The reference: MuJoCo's C engine casting the same rays, from points laid out by hand.
    model = env.mj_model
    data = mujoco.MjData(model)
    data.qpos[:] = qpos[0].numpy()
    mujoco.mj_forward(model, data)
    xs, ys = np.linspace(-0.8, 0.8, 17), np.linspace(-0.5, 0.5, 11)
    grid = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1).reshape(-1, 2)  # x fastest
    only_terrain = np.zeros(6, dtype=np.uint8)
    only_terrain[TERRAIN_RAY_GROUP] = 1
    down, geomid = np.array([0.0, 0.0, -1.0]), np.zeros(1, dtype=np.int32)
    pos, yaw, _ = poses[0]
    rotated = grid @ np.array([[math.cos(yaw), math.sin(yaw)], [-math.sin(yaw), math.cos(yaw)]])
    expected = []
    for dx, dy in rotated:
        start = np.array([pos[0] + dx, pos[1] + dy, pos[2] + 5.0])
        dist = mujoco.mj_ray(model, data, start, down, only_terrain, 1, -1, geomid)
        expected.append(dist - 5.0)
    np.testing.assert_allclose(heights[0].numpy(), expected, atol=1e-5)
    # Both levels of the step are in the scan: 1.0 m above the low side, 0.8 m above the high one.
    assert heights[0].min() == pytest.approx(0.8, abs=1e-5)
    assert heights[0].max() == pytest.approx(1.0, abs=1e-5)
    # Without the group filter the central ray would stop on the robot's own box, above its base.
    centre = np.array([pos[0], pos[1], pos[2] + 5.0])
    assert mujoco.mj_ray(model, data, centre, down, None, 1, -1, geomid) < 5.0
    # Flat ground reads the base height everywhere; no ground reads the clip's upper end.
    torch.testing.assert_close(heights[1], torch.full((187,), 0.8), atol=1e-5, rtol=0)
    torch.testing.assert_close(heights[2], torch.full((187,), 1.0))


# --------------------------------------------------------------------------- curriculum and spawn
def _terrain_cfg() -> TerrainCfg:
    """3 levels x 2 columns (stairs down, slope up) of 4 m tiles."""
    return TerrainCfg(
        num_levels=3,
        num_cols=2,
        tile_size=4.0,
        border_width=1.0,
        platform_size=1.0,
        proportions={"slope_up": 1.0, "stairs_down": 1.0},
    )


def _terrain_env(num_envs: int = 8) -> RlEnv:
    terrain = _terrain_cfg()

    def scene():
        spec = free_body_spec()
        add_terrain(spec, terrain)
        return spec

    return RlEnv(
        free_body_cfg(
            num_envs=num_envs,
            scene=scene,
            episode_length_s=4.0,  # 200 steps of 0.02 s
            commands={
                "base_velocity": CommandTermCfg(
                    func=mdp.UniformVelocityCommand, params={"lin_vel_x": (0.0, 1.0)}
                )
            },
            curriculum={
                "terrain_levels": CurriculumTermCfg(
                    func=TerrainLevels, params={"terrain": terrain, "max_init_level": 1}
                )
            },
            events={
                "spawn": EventTermCfg(
                    func=reset_root_on_terrain,
                    params={"pose_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5), "yaw": (-3.0, 3.0)}},
                )
            },
        )
    )


def test_curriculum_promotes_demotes_and_clamps_by_the_rule():
    env = _terrain_env()
    term = terrain_levels_term(env)
    assert term.types.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert term.levels.max() <= 1  # max_init_level
    term.levels.copy_(torch.tensor([0, 1, 2, 1, 0, 2, 1, 2]))
    term.origins.copy_(term.tile_origins[term.levels, term.types])
    before = term.origins.clone()
    # Planar distance walked, commanded speed; half a tile is 2 m, a full episode 4 s.
    moved = torch.tensor([[1.5, 2.0], [0.3, 0.4], [2.5, 0], [0.6, 0.8], [0, 0], [3, 0], [3, 0], [0, 0]])
    speed = torch.tensor([1.0, 1.0, 0.0, 0.4, 1.0, 1.0, 1.0, 0.0])
    mask = torch.tensor([True, True, True, True, True, False, True, True])
    qpos = env.sim.qpos.clone()
    qpos[:, :2] = term.origins[:, :2] + moved
    env.sim.set_state(qpos=qpos)
    command = env.command_manager.term("base_velocity").command
    command.zero_()
    command[:, 0] = speed
    env.episode_length_buf.fill_(10)
    env.episode_length_buf[6] = 0  # reset before it took a step: keeps its level
    # The one random draw of the rule: where a world promoted past the top level goes.
    rng = torch.Generator().manual_seed(0)
    rng.set_state(env.rng.get_state())
    anywhere = torch.randint(0, 3, (8,), generator=rng)

    mean = term(env, mask)

    expected = [
        1,  # 2.5 m > 2 m: up
        0,  # 0.5 m < 0.5 * 1.0 m/s * 4 s = 2 m: down
        int(anywhere[2]),  # up from the top level: a random level
        1,  # 1.0 m: neither past half a tile nor short of 0.5 * 0.4 * 4 = 0.8 m
        0,  # short of its command, already at the bottom: stays at 0
        2,  # far, but not being reset
        1,  # far, but took no step this episode
        2,  # did not move and was not asked to
    ]
    assert term.levels.tolist() == expected
    assert mean == pytest.approx(sum(expected) / 8)
    torch.testing.assert_close(term.origins[mask], term.tile_origins[term.levels, term.types][mask])
    torch.testing.assert_close(term.origins[5], before[5])


def test_spawn_at_the_origin_of_each_world_on_the_ground():
    env = _terrain_env()
    term = terrain_levels_term(env)
    term.levels.copy_(torch.tensor([0, 1, 2, 2, 0, 1, 2, 2]))
    term.origins.copy_(term.tile_origins[term.levels, term.types])
    mask = torch.tensor([True] * 6 + [False] * 2)
    before = env.sim.qpos.clone()
    reset_root_on_terrain(env, mask, pose_range={"x": (-0.5, 0.5), "y": (-0.5, 0.5)})
    base = env.sim.qpos[:, :3]
    assert torch.all((base[:6, :2] - term.origins[:6, :2]).abs() <= 0.5)
    # The ground height of each tile's platform plus the robot's standing base height.
    torch.testing.assert_close(base[:6, 2], term.origins[:6, 2] + BASE_HEIGHT)
    assert term.origins[:6, 2].unique().numel() > 2  # the levels differ in height
    torch.testing.assert_close(env.sim.qpos[6:], before[6:])


def test_curriculum_state_survives_get_state_and_set_state():
    env = _terrain_env(num_envs=4)
    term = terrain_levels_term(env)
    term.levels.copy_(torch.tensor([2, 0, 1, 2]))
    term.origins.copy_(term.tile_origins[term.levels, term.types])
    buffer = io.BytesIO()
    torch.save(env.get_state(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert {"curriculum.terms.terrain_levels.levels", "curriculum.terms.terrain_levels.origins"} <= set(
        state["tensors"]
    )
    saved_levels, saved_origins = term.levels.clone(), term.origins.clone()
    term.levels.zero_()
    term.origins.zero_()
    env.set_state(state)
    assert torch.equal(term.levels, saved_levels) and torch.equal(term.origins, saved_origins)
    assert "Curriculum/terrain_levels" in env.pop_episode_stats()


# --------------------------------------------------------------------------- the task
def test_rough_task_builds_steps_and_scans_for_the_critic_only():
    env = warplab.make("humanoid-velocity-rough", 2, device="cpu", seed=0, play=True)
    terrain = env.cfg.curriculum["terrain_levels"].params["terrain"]
    assert (terrain.num_levels, terrain.difficulty_range) == (1, (0.5, 0.5))  # play: one mid level
    dims = env.observation_manager.term_dims
    assert dims["critic"]["height_scan"] == 187 and "height_scan" not in dims["policy"]
    obs = env.observations
    # At the spawn point the ray under the base reads the standing height above the platform.
    centre = obs["critic"][:, -187:][:, 5 * 17 + 8]
    torch.testing.assert_close(centre, torch.full((2,), 0.68969), atol=1e-4, rtol=0)
    gen = torch.Generator().manual_seed(0)
    for _ in range(10):
        action = 0.3 * (2 * torch.rand(2, env.action_dim, generator=gen) - 1)
        obs, reward, terminated, truncated, _ = env.step(action)
        assert all(torch.isfinite(v).all() for v in obs.values()) and torch.isfinite(reward).all()
    stats = env.pop_episode_stats()
    assert stats["Env/nan_resets"] == 0.0 and stats["Curriculum/terrain_levels"] == 0.0


def test_terrain_grid_reads_the_surface_rays_hit():
    """Read from the generated height grid, the ground under 4,000 random points of the rough task's
    terrain (every type and level: stairs' risers, pits, slopes, noise) is where MuJoCo Warp's rays
    cast straight down hit its height fields; off the terrain, both miss."""
    from warplab.envs.mdp.terrain import _DownwardRays

    env = warplab.make("humanoid-velocity-rough", 1, device="cpu", seed=0)
    terrain_cfg = env.cfg.curriculum["terrain_levels"].params["terrain"]
    terrain = cached_terrain(terrain_cfg)
    n = 4000
    by_rays = _DownwardRays(env, torch.zeros(n, 2), None, 5.0, TERRAIN_RAY_GROUP)
    by_grid = _DownwardRays(env, torch.zeros(n, 2), None, 5.0, TERRAIN_RAY_GROUP, terrain=terrain_cfg)
    gen = torch.Generator().manual_seed(4)
    half = torch.tensor([terrain.size_x + 1.0, terrain.size_y + 1.0])  # 1 m beyond every edge
    xy = (2 * torch.rand(n, 2, generator=gen) - 1) * half
    start = torch.cat([xy, torch.full((n, 1), float(terrain.heights.max()) + 1.0)], dim=1)
    for rays in (by_rays, by_grid):
        rays.pnt.copy_(start[None])
    d_rays, d_grid = by_rays.ground_distance().clone(), by_grid.ground_distance().clone()
    hit = d_rays >= 0
    assert torch.equal(hit, d_grid >= 0)
    assert 0.9 < float(hit.float().mean()) < 1.0  # most points are over the terrain, some are not
    torch.testing.assert_close(d_grid[hit], d_rays[hit], atol=2e-4, rtol=0)
    # Many points fall in steep cells (risers, pit walls), where a wrong triangle split shows.
    h = torch.as_tensor(terrain.heights)
    c = ((xy[:, 0] + terrain.size_x) / terrain.horizontal_scale).floor().long().clamp(0, h.shape[1] - 2)
    r = ((xy[:, 1] + terrain.size_y) / terrain.horizontal_scale).floor().long().clamp(0, h.shape[0] - 2)
    corners = torch.stack([h[r, c], h[r, c + 1], h[r + 1, c], h[r + 1, c + 1]])
    steep = (corners.amax(0) - corners.amin(0)) > 0.05
    assert int((steep & hit[0]).sum()) >= 100


def test_rough_scan_task_gives_the_policy_the_scan_with_its_imperfections_in_training_only():
    cfg = make_env_cfg("humanoid-velocity-rough-scan")
    term = cfg.observations["policy"].terms["height_scan"]
    assert term.params["delay_steps"] == 1 and term.params["dropout_prob"] == 0.05
    assert term.params["offset_range"] == (-0.03, 0.03) and term.noise is not None
    assert term.params["terrain"] is cfg.curriculum["terrain_levels"].params["terrain"]
    play = make_env_cfg("humanoid-velocity-rough-scan", play=True).observations["policy"]
    assert play.terms["height_scan"].noise is None
    assert not {"delay_steps", "dropout_prob", "offset_range"} & set(play.terms["height_scan"].params)
    # The blind task keeps its observation, so its checkpoints load as before.
    blind = make_env_cfg("humanoid-velocity-rough").observations
    assert "height_scan" not in blind["policy"].terms and "height_scan" in blind["critic"].terms


def test_terrain_grid_reads_the_box_terrain_rays_hit_away_from_edges():
    """On the box terrain (stairs down as boxes, the slope a height field), MuJoCo Warp's rays hit the
    ground the height grid gives wherever the four samples around a point are equal or all belong to
    the height field; next to an edge the hit lies between the heights around it."""
    from warplab.assets.terrain_boxes import box_layout
    from warplab.envs.mdp.terrain import _DownwardRays

    terrain_cfg = _terrain_cfg()
    terrain_cfg.representation = "boxes"
    terrain = cached_terrain(terrain_cfg)

    def scene():
        spec = free_body_spec()
        add_terrain(spec, terrain_cfg, terrain)
        return spec

    env = RlEnv(free_body_cfg(num_envs=1, scene=scene))
    n = 2000
    by_rays = _DownwardRays(env, torch.zeros(n, 2), None, 5.0, TERRAIN_RAY_GROUP)
    by_grid = _DownwardRays(env, torch.zeros(n, 2), None, 5.0, TERRAIN_RAY_GROUP, terrain=terrain_cfg)
    gen = torch.Generator().manual_seed(1)
    xy = (2 * torch.rand(n, 2, generator=gen) - 1) * torch.tensor([terrain.size_x, terrain.size_y]) * 0.999
    start = torch.cat([xy, torch.full((n, 1), float(terrain.heights.max()) + 1.0)], dim=1)
    for rays in (by_rays, by_grid):
        rays.pnt.copy_(start[None])
    d_rays, d_grid = by_rays.ground_distance()[0].clone(), by_grid.ground_distance()[0].clone()
    assert (d_rays >= 0).all() and (d_grid >= 0).all()
    h = torch.as_tensor(terrain.heights)
    c = ((xy[:, 0] + terrain.size_x) / terrain.horizontal_scale).floor().long()
    r = ((xy[:, 1] + terrain.size_y) / terrain.horizontal_scale).floor().long()
    corners = torch.stack([h[r, c], h[r, c + 1], h[r + 1, c], h[r + 1, c + 1]]).float()
    owned = torch.as_tensor(box_layout(terrain_cfg, terrain).box_owned)
    in_field = ~(owned[r, c] | owned[r, c + 1] | owned[r + 1, c] | owned[r + 1, c + 1])
    away = (corners.amax(0) == corners.amin(0)) | in_field
    assert float(away.float().mean()) > 0.8 and int((~away).sum()) > 50
    torch.testing.assert_close(d_grid[away], d_rays[away], atol=2e-4, rtol=0)
    ground = start[:, 2] - d_rays
    assert (ground >= corners.amin(0) - 2e-4).all() and (ground <= corners.amax(0) + 2e-4).all()


def test_rays_without_ray_geoms_name_the_fix():
    terrain_cfg = _terrain_cfg()
    terrain_cfg.ray_copies = False

    def scene():
        spec = free_body_spec()
        add_terrain(spec, terrain_cfg)
        return spec

    env = RlEnv(free_body_cfg(num_envs=1, scene=scene))
    with pytest.raises(ValueError, match="ray_copies"):
        HeightScan(ObservationTermCfg(func=HeightScan, params={}), env)
    # Reading the grid needs no ray geoms.
    HeightScan(ObservationTermCfg(func=HeightScan, params={"terrain": terrain_cfg}), env)
