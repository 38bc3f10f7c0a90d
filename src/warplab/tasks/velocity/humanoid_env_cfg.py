"""The project's humanoid tracks commanded velocities on flat ground.

``humanoid-velocity-flat``: floor friction, pushes and observation noise are randomized (the task as
first trained and measured, ``benchmarks/RESULTS.md``). ``humanoid-velocity-flat-dr``: the same task
with the robot randomized too (masses, centres of mass, PD gains, motor strength, joint damping,
armature, an action delay of up to one policy step), for transfer to the real robot
(``docs/domain_randomization.md``).
"""

from __future__ import annotations

from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
from warplab.envs.config import RlEnvCfg
from warplab.tasks.velocity.env_cfg import DomainRandomizationCfg, make_velocity_env_cfg


def make_humanoid_velocity_flat_env_cfg(play: bool = False) -> RlEnvCfg:
    """Forward speed in [-1, 1] m/s, lateral in [-0.5, 0.5] m/s, yaw rate in [-1, 1] rad/s; 20 s episodes."""
    return make_velocity_env_cfg(HUMANOID_ROBOT_CFG, play=play)


def make_humanoid_velocity_flat_dr_env_cfg(play: bool = False) -> RlEnvCfg:
    """``humanoid-velocity-flat`` with every randomization of ``DomainRandomizationCfg.full()``."""
    return make_velocity_env_cfg(HUMANOID_ROBOT_CFG, play=play, randomization=DomainRandomizationCfg.full())
