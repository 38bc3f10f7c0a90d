"""The learner's settings for ``arm-open-door`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

import dataclasses

from warplab.rl.config import RunnerCfg
from warplab.tasks.drawer.agent_cfg import make_arm_open_drawer_agent_cfg


def make_arm_open_door_agent_cfg() -> RunnerCfg:
    """``arm-open-drawer``'s learner settings (``make_arm_open_drawer_agent_cfg``: Isaac Lab's Franka
    cabinet PPO with an asymmetric critic, and a SAC/TD3 starting point, ``--algo sac``). The door pays
    the drawer's reward weights, so a policy holding it open at its target earns the same
    (2 + 2 + 10 + 10) x 0.02 = 0.48 a step and the C51 range [-5, 60] fits it too. Untuned: nothing has
    been trained on this task yet.
    """
    return dataclasses.replace(make_arm_open_drawer_agent_cfg(), experiment_name="arm-open-door")
