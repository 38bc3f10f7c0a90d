"""Gymnasium's MuJoCo environments on warplab, for like-for-like comparisons: ``Humanoid-v5`` and
``Ant-v5`` (Gymnasium's own model files, observations, rewards and resets).

- ``mdp``: the model loader and the terms both tasks share (observations as Gymnasium reads them,
  the forward-velocity reward, Gymnasium's reset noise);
- ``humanoid_v5``, ``ant_v5``: each task's environment config, with the terms only it uses;
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.gym_mujoco.ant_v5 import ant_spec, make_ant_v5_env_cfg
from warplab.tasks.gym_mujoco.humanoid_v5 import humanoid_spec, make_humanoid_v5_env_cfg
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["ant_spec", "humanoid_spec", "make_ant_v5_env_cfg", "make_humanoid_v5_env_cfg"]


# Each agent config is imported when asked for, not above: building an env config must not load
# the learner (tests/tasks/test_task_imports.py checks it).
def _humanoid_v5_agent_cfg() -> RunnerCfg:
    from warplab.tasks.gym_mujoco.agent_cfg import make_humanoid_v5_agent_cfg

    return make_humanoid_v5_agent_cfg()


def _ant_v5_agent_cfg() -> RunnerCfg:
    from warplab.tasks.gym_mujoco.agent_cfg import make_ant_v5_agent_cfg

    return make_ant_v5_agent_cfg()


register_task(
    "Humanoid-v5",
    make_humanoid_v5_env_cfg,
    _humanoid_v5_agent_cfg,
    "Gymnasium's Humanoid-v5 (same model, observation, reward), Newton solver; run forward.",
)
register_task(
    "Ant-v5",
    make_ant_v5_env_cfg,
    _ant_v5_agent_cfg,
    "Gymnasium's Ant-v5 (same model, observation, reward); run forward.",
)
