"""The learner's settings for ``cartpole-balance`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg, SacPolicyCfg


def make_cartpole_agent_cfg() -> RunnerCfg:
    """PPO settings that balance the pole within a few minutes on a CPU, and SAC/TD3 settings
    (``algorithm="sac"``) that do so in under a minute with 128 worlds (tests/rl/test_sac_cartpole.py).

    SAC departs from the GPU-scale defaults where this task is small: one action and four
    observations learn with small networks and a learning rate of 1e-3; a reward of about 1 a step
    makes discounted returns of 0 to 100 (gamma 0.99), hence the C51 range [-10, 110], a starting
    temperature of 0.1 and SAC's own target entropy of -1 per action; batches of 256 and a replay
    ratio of 8 (4 updates a step at 128 worlds) fit a CPU; 3-step returns carry the cost of a fall
    back faster, which kept the learned policy from drifting off the rail between evaluations.
    """
    return RunnerCfg(
        experiment_name="cartpole-balance",
        max_iterations=100,
        ppo=PpoCfg(num_steps_per_env=32, learning_rate=3e-3, entropy_coef=0.0),
        policy=PolicyCfg(actor_hidden_dims=(32, 32), critic_hidden_dims=(32, 32), init_noise_std=0.5),
        sac=SacCfg(
            num_steps_per_env=25,
            replay_size_per_env=1000,
            batch_size=256,
            replay_ratio=8.0,
            learning_starts=10,
            random_steps=10,
            n_step=3,
            actor_learning_rate=1e-3,
            critic_learning_rate=1e-3,
            alpha_learning_rate=1e-3,
            init_alpha=0.1,
            target_entropy_per_action=-1.0,
            v_min=-10.0,
            v_max=110.0,
        ),
        sac_policy=SacPolicyCfg(actor_hidden_dims=(64, 64), critic_hidden_dims=(128, 128)),
    )
