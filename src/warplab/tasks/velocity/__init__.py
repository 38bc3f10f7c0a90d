"""The velocity family: legged robots follow commanded forward, lateral and yaw velocities.

- ``env_cfg``: the generic factory ``make_velocity_env_cfg(robot)`` for any ``RobotCfg``, with
  ``VelocityRanges`` and ``DomainRandomizationCfg``;
- ``humanoid_env_cfg``: ``humanoid-velocity-flat`` and ``humanoid-velocity-flat-dr``;
- ``rough_env_cfg``: ``humanoid-velocity-rough``, on generated terrain with a curriculum (blind
  policy), and ``humanoid-velocity-rough-scan``, whose policy sees a height scan; its
  ``add_rough_terrain`` and ``add_policy_height_scan`` move any robot's velocity task onto terrain;
- ``mdp``: the terms only these tasks use;
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them
  (``make_velocity_agent_cfg`` is still importable from here; it loads ``warplab.rl`` on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warplab.tasks.registry import register_task
from warplab.tasks.velocity.env_cfg import (
    DomainRandomizationCfg,
    VelocityRanges,
    make_velocity_env_cfg,
    randomization_events,
)
from warplab.tasks.velocity.humanoid_env_cfg import (
    make_humanoid_velocity_flat_dr_env_cfg,
    make_humanoid_velocity_flat_env_cfg,
)
from warplab.tasks.velocity.mdp import joint_deviation_l1
from warplab.tasks.velocity.rough_env_cfg import (
    add_policy_height_scan,
    add_rough_terrain,
    make_humanoid_rough_boxes_env_cfg,
    make_humanoid_rough_env_cfg,
    make_humanoid_rough_scan_env_cfg,
)

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg
    from warplab.tasks.velocity.agent_cfg import make_velocity_agent_cfg

__all__ = [
    "DomainRandomizationCfg",
    "VelocityRanges",
    "joint_deviation_l1",
    "add_policy_height_scan",
    "add_rough_terrain",
    "make_humanoid_rough_boxes_env_cfg",
    "make_humanoid_rough_env_cfg",
    "make_humanoid_rough_scan_env_cfg",
    "make_humanoid_velocity_flat_dr_env_cfg",
    "make_humanoid_velocity_flat_env_cfg",
    "make_velocity_agent_cfg",
    "make_velocity_env_cfg",
    "randomization_events",
]


def __getattr__(name: str) -> Any:
    # `from warplab.tasks.velocity import make_velocity_agent_cfg` keeps working without this
    # package loading the learner whenever an env config is built.
    if name == "make_velocity_agent_cfg":
        from warplab.tasks.velocity import agent_cfg

        return agent_cfg.make_velocity_agent_cfg
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Each agent config is imported when asked for, not above: building an env config must not load
# the learner (tests/tasks/test_task_imports.py checks it).
def _humanoid_velocity_flat_agent_cfg() -> RunnerCfg:
    from warplab.tasks.velocity.agent_cfg import make_humanoid_velocity_flat_agent_cfg

    return make_humanoid_velocity_flat_agent_cfg()


def _humanoid_velocity_flat_dr_agent_cfg() -> RunnerCfg:
    from warplab.tasks.velocity.agent_cfg import make_humanoid_velocity_flat_dr_agent_cfg

    return make_humanoid_velocity_flat_dr_agent_cfg()


def _humanoid_rough_agent_cfg() -> RunnerCfg:
    from warplab.tasks.velocity.agent_cfg import make_humanoid_rough_agent_cfg

    return make_humanoid_rough_agent_cfg()


def _humanoid_rough_scan_agent_cfg() -> RunnerCfg:
    from warplab.tasks.velocity.agent_cfg import make_humanoid_rough_scan_agent_cfg

    return make_humanoid_rough_scan_agent_cfg()


register_task(
    "humanoid-velocity-flat",
    make_humanoid_velocity_flat_env_cfg,
    _humanoid_velocity_flat_agent_cfg,
    "The project's 1.3 m humanoid walks at commanded velocities on flat ground.",
)
register_task(
    "humanoid-velocity-flat-dr",
    make_humanoid_velocity_flat_dr_env_cfg,
    _humanoid_velocity_flat_dr_agent_cfg,
    "humanoid-velocity-flat with the robot randomized (mass, CoM, gains, strength, damping, armature, delay).",
)
register_task(
    "humanoid-velocity-rough",
    make_humanoid_rough_env_cfg,
    _humanoid_rough_agent_cfg,
    "The project's humanoid walks on generated terrain (rough, slopes, stairs, stones) with a curriculum.",
)
# The blind policy keeps its id, so checkpoints and exported files of humanoid-velocity-rough load as
# before; the scanning policy has an observation of 187 more values and an id of its own.
register_task(
    "humanoid-velocity-rough-scan",
    make_humanoid_rough_scan_env_cfg,
    _humanoid_rough_scan_agent_cfg,
    "humanoid-velocity-rough with the 187-point height scan in the policy's observation (noisy, delayed).",
)
register_task(
    "humanoid-velocity-rough-boxes",
    make_humanoid_rough_boxes_env_cfg,
    _humanoid_rough_agent_cfg,
    "humanoid-velocity-rough with stairs, stones and flat ground as static boxes (docs/terrain.md).",
)
