"""The learner's settings for ``arm-pick-up-dropped`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

import dataclasses

from warplab.rl.config import RunnerCfg, SacCfg
from warplab.tasks.lift.agent_cfg import make_arm_lift_agent_cfg


def make_arm_pick_up_dropped_agent_cfg() -> RunnerCfg:
    """arm-lift's PPO and SAC/TD3 settings (``make_arm_lift_agent_cfg``), with more iterations for
    the longer task and a C51 range for its returns. Untuned: nothing has been trained on it yet.

    Returns, with rewards scaled by the 0.02 s step: a policy holding the object at its goal at the
    end earns about (1 + 15 + 16 + 5 + 10) x 0.02 = 0.94 a step, discounted at 0.98 up to about 47;
    the C51 range [-5, 60] holds that with room.
    """
    cfg = make_arm_lift_agent_cfg()
    return dataclasses.replace(
        cfg,
        experiment_name="arm-pick-up-dropped",
        max_iterations=2500,
        sac=SacCfg(v_min=-5.0, v_max=60.0, num_atoms=101),
    )
