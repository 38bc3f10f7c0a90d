"""The learner's settings for ``cartpole-balance`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg


def make_cartpole_agent_cfg() -> RunnerCfg:
    """PPO settings that balance the pole within a few minutes on a CPU."""
    return RunnerCfg(
        experiment_name="cartpole-balance",
        max_iterations=100,
        ppo=PpoCfg(num_steps_per_env=32, learning_rate=3e-3, entropy_coef=0.0),
        policy=PolicyCfg(actor_hidden_dims=(32, 32), critic_hidden_dims=(32, 32), init_noise_std=0.5),
    )
