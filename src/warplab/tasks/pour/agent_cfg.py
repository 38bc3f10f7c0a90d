"""The learner's settings for ``arm-pour`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

import dataclasses

from warplab.rl.config import RunnerCfg
from warplab.tasks.lift.agent_cfg import make_arm_lift_agent_cfg


def make_arm_pour_agent_cfg() -> RunnerCfg:
    """``arm-lift``'s learner settings (``make_arm_lift_agent_cfg``: PPO with an asymmetric critic, the
    env's ``critic`` group, and a SAC/TD3 starting point, ``--algo sac``). Untuned: nothing has been
    trained on this task yet.

    Returns, with rewards scaled by the 0.02 s step: a policy holding the cup over the bowl with every
    sphere poured earns about (1 + 2 + 10) x 0.02 = 0.26 a step, discounted at 0.98 up to about 13;
    lift's C51 range [-5, 50] holds that with room.
    """
    return dataclasses.replace(make_arm_lift_agent_cfg(), experiment_name="arm-pour")
