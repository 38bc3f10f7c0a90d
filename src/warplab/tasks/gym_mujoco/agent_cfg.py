"""The learner's settings for Humanoid-v5 and Ant-v5 (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg


def make_humanoid_v5_agent_cfg() -> RunnerCfg:
    """PPO settings for 4,096 worlds on one GPU."""
    return RunnerCfg(
        experiment_name="Humanoid-v5",
        max_iterations=1000,
        ppo=PpoCfg(
            num_steps_per_env=32, learning_rate=3e-4, entropy_coef=0.0, num_mini_batches=4, gamma=0.99
        ),
        policy=PolicyCfg(
            actor_hidden_dims=(256, 256, 128), critic_hidden_dims=(256, 256, 128), init_noise_std=0.5
        ),
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
