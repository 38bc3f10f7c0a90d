"""The learner's settings for Humanoid-v5 and Ant-v5 (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg, SacPolicyCfg

HUMANOID_V5_CTRL_BOUND = 0.4
"""Gymnasium's humanoid.xml limits every motor's control to [-0.4, 0.4] (tests/tasks check it)."""


def make_humanoid_v5_agent_cfg() -> RunnerCfg:
    """PPO settings for 4,096 worlds on one GPU, and SAC/TD3 starting points (``--algo sac``).

    SAC's and TD3's actions are bounded (``action_scale * tanh``), so their bound is the motors'
    control range: with the default 1, everything past 0.4 would be clamped by MuJoCo, where the
    squashed actions' gradient says nothing. Rewards are about 5 a step (healthy 5, forward
    velocity, small costs), so discounted returns lie in about [0, 600] at gamma 0.99: the C51
    range [-50, 750] with 201 atoms (4 per atom). Not yet tuned on a GPU (issue 20).
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
        sac=SacCfg(v_min=-50.0, v_max=750.0, num_atoms=201),
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
