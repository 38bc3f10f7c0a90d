"""Terms of the velocity tasks only (the terms several tasks share live in ``warplab.envs.mdp``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


def joint_deviation_l1(env: RlEnv, joints: Names) -> torch.Tensor:
    """Sum of |joint position - default| over ``joints``, rad ``[num_envs]``."""
    ids = env.index.joint_qpos_ids(joints)
    return torch.sum(torch.abs(env.sim.qpos[:, ids] - env.sim.init_qpos[ids]), dim=1)
