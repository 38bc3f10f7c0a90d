"""The learner's settings for ``arm-open-door`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg


def make_arm_open_door_agent_cfg() -> RunnerCfg:
    """PPO with an asymmetric critic (the env's ``critic`` group) and a SAC/TD3 starting point
    (``--algo sac``). Untuned: nothing has been trained on this task yet.

    PPO as Isaac Lab's Franka cabinet (its rsl_rl config): 96 steps a rollout, [256, 128, 64]
    networks, learning rate 5e-4 with the adaptive KL schedule (0.02), entropy 1e-3, gamma 0.99,
    lambda 0.95, 4 mini-batches, 8 epochs. Returns, with rewards scaled by the 0.02 s step: a policy
    holding the door open at its target earns about (2 + 2 + 10 + 10) x 0.02 = 0.48 a step,
    discounted at 0.99 up to about 48; the C51 range [-5, 60] holds that with room.
    """
    return RunnerCfg(
        experiment_name="arm-open-door",
        max_iterations=400,
        save_interval=50,
        ppo=PpoCfg(
            num_steps_per_env=96,
            learning_rate=5e-4,
            entropy_coef=1e-3,
            num_mini_batches=4,
            num_learning_epochs=8,
            gamma=0.99,
            lam=0.95,
            desired_kl=0.02,
        ),
        policy=PolicyCfg(
            actor_hidden_dims=(256, 128, 64),
            critic_hidden_dims=(256, 128, 64),
            activation="elu",
            init_noise_std=1.0,
        ),
        sac=SacCfg(v_min=-5.0, v_max=60.0, num_atoms=101),
    )
