"""The cart-pole family: ``cartpole-balance``, the project's smallest task (learns on a CPU in minutes).

``env_cfg`` builds the environment config, ``mdp`` holds the terms only this task uses and
``agent_cfg`` the learner's settings (imported only when a learner asks for them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.cartpole.env_cfg import make_cartpole_env_cfg
from warplab.tasks.cartpole.mdp import cart_pos_l2, pole_angle_l2
from warplab.tasks.registry import register_task

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = ["cart_pos_l2", "make_cartpole_env_cfg", "pole_angle_l2"]


def _cartpole_agent_cfg() -> RunnerCfg:
    # Imported here, not above: building the env config must not load the learner.
    from warplab.tasks.cartpole.agent_cfg import make_cartpole_agent_cfg

    return make_cartpole_agent_cfg()


register_task(
    "cartpole-balance",
    make_cartpole_env_cfg,
    _cartpole_agent_cfg,
    "Keep a pole upright on a cart (the project's own model); learns on a CPU in minutes.",
)
