"""The learner's settings for the reorientation tasks (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg


def make_reorient_agent_cfg(experiment_name: str) -> RunnerCfg:
    """PPO with an asymmetric critic (the env's ``critic`` group) and a SAC/TD3 starting point
    (``--algo sac``). Untuned: nothing has been trained on these tasks yet.

    Network sizes as the field's Shadow-hand tasks ([512, 512, 256, 128], Isaac Lab's rl_games
    config); rollouts of 16 steps and a learning rate of 5e-4 with the adaptive KL schedule, as
    there too. Returns: about 10 a step near the goal (1 / (angle + 0.1)), 250 a goal, -50 a drop;
    a policy that reaches a goal every second or two earns discounted returns of about 1,000-2,000
    at gamma 0.99, so the C51 range is [-200, 3000].
    """
    return RunnerCfg(
        experiment_name=experiment_name,
        max_iterations=5000,
        save_interval=250,
        ppo=PpoCfg(
            num_steps_per_env=16,
            learning_rate=5e-4,
            entropy_coef=0.0,
            num_mini_batches=4,
            gamma=0.99,
            lam=0.95,
            desired_kl=0.016,
        ),
        policy=PolicyCfg(
            actor_hidden_dims=(512, 512, 256, 128),
            critic_hidden_dims=(512, 512, 256, 128),
            activation="elu",
            init_noise_std=1.0,
        ),
        sac=SacCfg(v_min=-200.0, v_max=3000.0, num_atoms=251),
    )


def make_hand_reorient_agent_cfg() -> RunnerCfg:
    return make_reorient_agent_cfg("hand-reorient-cube")


def make_hand_reorient_openai_agent_cfg() -> RunnerCfg:
    return make_reorient_agent_cfg("hand-reorient-cube-openai")


def make_shadow_reorient_agent_cfg() -> RunnerCfg:
    return make_reorient_agent_cfg("shadow-reorient-cube")
