"""humanoid-velocity-rough: the humanoid stands still on every easiest tile, wherever the tile lies."""

import pytest
import torch

from warplab.envs.mdp.terrain import terrain_levels_term
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg


@pytest.mark.parametrize("task", ["humanoid-velocity-rough", "humanoid-velocity-rough-boxes"])
def test_stands_still_on_every_level_zero_tile_across_the_grid(task):
    # One world per terrain column (every type, tiles 36 m to 76 m from the grid's centre), no initial
    # velocity, zero actions: the PD servos hold the pose as on flat ground. With the whole grid in one
    # height field, MuJoCo Warp's float32 collision there threw some of these worlds at 20-1000 rad/s
    # within 30 steps (see TerrainCfg.chunk_size); worlds that stand, or topple slowly as
    # zero actions let them on flat ground too, stay under 5 rad/s. On the box terrain the flat
    # tiles merge with the border into boxes up to 120 m long, collided in float32 too.
    cfg = make_env_cfg(task)
    cfg.num_envs = cfg.curriculum["terrain_levels"].params["terrain"].num_cols
    for event in cfg.events.values():
        velocity_range = event.params.get("velocity_range")
        if isinstance(velocity_range, dict):
            event.params["velocity_range"] = dict.fromkeys(velocity_range, (0.0, 0.0))
        elif velocity_range is not None:
            event.params["velocity_range"] = (0.0, 0.0)
    env = RlEnv(cfg)
    levels = terrain_levels_term(env)
    levels.levels.zero_()
    levels.origins.copy_(levels.tile_origins[levels.levels, levels.types])
    env.reset()
    assert torch.equal(levels.types, torch.arange(cfg.num_envs))
    action = torch.zeros(env.num_envs, env.action_dim)
    peak = torch.zeros(env.num_envs)
    for _ in range(50):
        env.step(action)
        peak = torch.maximum(peak, env.sim.qvel[:, 3:5].norm(dim=1))
    assert peak.max() < 5.0, f"base angular velocity per world (rad/s): {peak.tolist()}"
    env.sim.check_capacity()


def test_stands_on_box_stairs_and_stones_in_mujoco_warp_as_in_mujocos_c_engine():
    # The box terrain of play mode (one tile of each type at difficulty 0.5: 0.07 m risers, 0.6 m
    # stones over 0.275 m pits), one world per type. From the same spawn state with zero actions
    # (constant position targets), MuJoCo Warp and MuJoCo's C engine keep the base at the same
    # height and the base still, on box stairs and stones as on the height field.
    import mujoco
    import numpy as np

    cfg = make_env_cfg("humanoid-velocity-rough-boxes", play=True)
    terrain = cfg.curriculum["terrain_levels"].params["terrain"]
    assert terrain.representation == "boxes"
    cfg.num_envs = terrain.num_cols
    for event in cfg.events.values():
        velocity_range = event.params.get("velocity_range")
        if isinstance(velocity_range, dict):
            event.params["velocity_range"] = dict.fromkeys(velocity_range, (0.0, 0.0))
        elif velocity_range is not None:
            event.params["velocity_range"] = (0.0, 0.0)
    env = RlEnv(cfg)
    assert env.mj_model.nhfield > 0 and (env.mj_model.geom_type == mujoco.mjtGeom.mjGEOM_BOX).sum() > 100
    env.reset()
    model = env.mj_model
    start = env.sim.qpos.numpy().copy()
    action = torch.zeros(env.num_envs, env.action_dim)
    peak = torch.zeros(env.num_envs)
    for _ in range(25):
        env.step(action)
        peak = torch.maximum(peak, env.sim.qvel[:, 3:5].norm(dim=1))
    assert peak.max() < 5.0, f"base angular velocity per world (rad/s): {peak.tolist()}"
    env.sim.check_capacity()
    ctrl = env.sim.ctrl.numpy()
    for world in range(env.num_envs):
        data = mujoco.MjData(model)
        data.qpos[:] = start[world]
        data.ctrl[:] = ctrl[world]
        for _ in range(25 * cfg.decimation):
            mujoco.mj_step(model, data)
        warp_base = env.sim.qpos[world, :3].numpy()
        # Measured: at most 5 mm apart after 0.5 s (on the height field, up to 24 mm: MuJoCo Warp
        # keeps 4 contacts per height-field pair where the C engine keeps up to 50).
        assert np.abs(warp_base - data.qpos[:3]).max() < 0.01, (world, warp_base, data.qpos[:3])
        assert np.all(data.qvel[:6] ** 2 < 0.25) and data.qpos[2] > start[world, 2] - 0.1
