"""The learner's settings for Humanoid-v5 and Ant-v5 (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg, SacPolicyCfg

HUMANOID_V5_CTRL_BOUND = 0.4
"""Gymnasium's humanoid.xml limits every motor's control to [-0.4, 0.4] (tests/tasks check it)."""


def make_humanoid_v5_agent_cfg() -> RunnerCfg:
    """PPO settings for 4,096 worlds on one GPU, and SAC/TD3 starting points (``--algo sac``).

    SAC's and TD3's actions are bounded (``action_scale * tanh``), so their bound is the motors'
    control range: with the default 1, everything past 0.4 would be clamped by MuJoCo, where the
    squashed actions' gradient says nothing. Rewards are 5 a step at the start (healthy 5, forward
    velocity, small costs) and about 9 once it runs (an H100 run, 2026-12-07: 9,090 over 1,000
    steps), so discounted returns at gamma 0.99 reach about 900 and a strong runner's 12 a step
    1,200. The C51 range is [-50, 1500] with 251 atoms (6.2 per atom). SAC's temperature target is
    the default, -1 nats per action on [-1, 1]: two H100 runs with a target of 0 nats per scaled
    action (out of reach at a scale of 0.4) passed a return of 6,000, then the temperature rose
    without bound and the returns fell from 9,000 to 80.
    """
    return RunnerCfg(
        experiment_name="Humanoid-v5",
        max_iterations=1000,
        ppo=PpoCfg(
            num_steps_per_env=32, learning_rate=3e-4, entropy_coef=0.0, num_mini_batches=4, gamma=0.99
        ),
        policy=PolicyCfg(
            actor_hidden_dims=(256, 256, 128), critic_hidden_dims=(256, 256, 128), init_noise_std=0.5
        ),
        sac=SacCfg(v_min=-50.0, v_max=1500.0, num_atoms=251),
        sac_policy=SacPolicyCfg(action_scale=HUMANOID_V5_CTRL_BOUND),
    )


def make_ant_v5_agent_cfg() -> RunnerCfg:
    """PPO settings for thousands of worlds on one GPU."""
    return RunnerCfg(
        experiment_name="Ant-v5",
        max_iterations=1000,
        ppo=PpoCfg(num_steps_per_env=32, learning_rate=3e-4, entropy_coef=0.0),
        policy=PolicyCfg(
            actor_hidden_dims=(256, 256, 128), critic_hidden_dims=(256, 256, 128), init_noise_std=0.5
        ),
    )
