"""The learner's settings for the recovery tasks (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

import dataclasses

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg
from warplab.tasks.velocity.agent_cfg import make_velocity_agent_cfg


# PPO settings as the field uses them for humanoid locomotion and getting up (rsl_rl defaults with
# wider networks). Untested here on a GPU so far: no training run has confirmed them yet.
def make_humanoid_push_recovery_agent_cfg() -> RunnerCfg:
    """The velocity task's settings, with more iterations: the push curriculum needs time to climb.
    A policy trained on ``humanoid-velocity-flat`` has the same observations and actions, so it is a
    good starting point."""
    return dataclasses.replace(make_velocity_agent_cfg("humanoid-push-recovery"), max_iterations=5000)


def make_humanoid_getup_agent_cfg() -> RunnerCfg:
    """Longer rollouts (32 steps) and more exploration (entropy 0.01) for a task whose reward comes
    from large, coordinated motions."""
    return RunnerCfg(
        experiment_name="humanoid-getup",
        max_iterations=6000,
        save_interval=250,
        ppo=PpoCfg(
            num_steps_per_env=32,
            learning_rate=1e-3,
            entropy_coef=0.01,
            num_mini_batches=4,
            gamma=0.99,
            lam=0.95,
        ),
        policy=PolicyCfg(
            actor_hidden_dims=(512, 256, 128), critic_hidden_dims=(512, 256, 128), init_noise_std=1.0
        ),
    )
