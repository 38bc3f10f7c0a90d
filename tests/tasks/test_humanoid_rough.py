"""humanoid-velocity-rough: the humanoid stands still on every easiest tile, wherever the tile lies."""

import torch

from warplab.envs.mdp.terrain import terrain_levels_term
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg


def test_stands_still_on_every_level_zero_tile_across_the_grid():
    # One world per terrain column (every type, tiles 36 m to 76 m from the grid's centre), no initial
    # velocity, zero actions: the PD servos hold the pose as on flat ground. With the whole grid in one
    # height field, MuJoCo Warp's float32 collision there threw some of these worlds at 20-1000 rad/s
    # within 30 steps (see TerrainCfg.chunk_size); worlds that stand, or topple slowly as
    # zero actions let them on flat ground too, stay under 5 rad/s.
    cfg = make_env_cfg("humanoid-velocity-rough")
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
