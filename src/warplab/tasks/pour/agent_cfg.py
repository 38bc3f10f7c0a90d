"""The learner's settings for ``arm-pour`` (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg


def make_arm_pour_agent_cfg() -> RunnerCfg:
    """``arm-lift``'s learner settings (PPO with an asymmetric critic, the env's ``critic`` group, and a
    SAC/TD3 starting point, ``--algo sac``). Untuned: nothing has been trained on this task yet.

    Returns, with rewards scaled by the 0.02 s step: a policy holding the cup over the bowl with every
    sphere poured earns about (1 + 2 + 10) x 0.02 = 0.26 a step, discounted at 0.98 up to about 13;
    the C51 range [-5, 50] holds that with room.
    """
    return RunnerCfg(
        experiment_name="arm-pour",
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
