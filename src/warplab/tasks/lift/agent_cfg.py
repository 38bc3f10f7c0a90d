"""The learner's settings for ``arm-lift`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg


def make_arm_lift_agent_cfg() -> RunnerCfg:
    """PPO with an asymmetric critic (the env's ``critic`` group) and a SAC/TD3 starting point
    (``--algo sac``). Untuned: nothing has been trained on this task yet.

    PPO as Isaac Lab's Franka lift (its rsl_rl config): 24 steps a rollout, [256, 128, 64] networks,
    learning rate 1e-4 with the adaptive KL schedule (0.01), entropy 0.006, gamma 0.98, lambda 0.95,
    4 mini-batches, 5 epochs. Returns, with rewards scaled by the 0.02 s step: a policy holding the
    object at its goal earns about (1 + 15 + 16 + 5) x 0.02 = 0.74 a step, discounted at 0.98 up to
    about 37; the C51 range [-5, 50] holds that with room.
    """
    return RunnerCfg(
        experiment_name="arm-lift",
        max_iterations=1500,
        save_interval=100,
        ppo=PpoCfg(
            num_steps_per_env=24,
            learning_rate=1e-4,
            entropy_coef=0.006,
            num_mini_batches=4,
            num_learning_epochs=5,
            gamma=0.98,
            lam=0.95,
            desired_kl=0.01,
        ),
        policy=PolicyCfg(
            actor_hidden_dims=(256, 128, 64),
            critic_hidden_dims=(256, 128, 64),
            activation="elu",
            init_noise_std=1.0,
        ),
        sac=SacCfg(v_min=-5.0, v_max=50.0, num_atoms=101),
    )
