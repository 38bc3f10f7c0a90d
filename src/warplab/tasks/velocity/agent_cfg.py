"""The learner's settings for the velocity tasks (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg


def make_velocity_agent_cfg(experiment_name: str) -> RunnerCfg:
    """PPO settings for velocity tracking with thousands of worlds on one GPU, and SAC/TD3 starting
    points (``--algo sac``): the rewards are scaled by the policy step (a trained walker earns about
    0.02 a step, an episode about 19), so discounted returns stay within a few units and the C51
    range is [-10, 10]. Not yet tuned on a GPU (issue 20)."""
    return RunnerCfg(
        experiment_name=experiment_name,
        max_iterations=3000,
        save_interval=250,
        ppo=PpoCfg(num_steps_per_env=24, learning_rate=1e-3, entropy_coef=0.008, num_mini_batches=4),
        policy=PolicyCfg(
            actor_hidden_dims=(512, 256, 128), critic_hidden_dims=(512, 256, 128), init_noise_std=1.0
        ),
        sac=SacCfg(v_min=-10.0, v_max=10.0),
    )


def make_humanoid_velocity_flat_agent_cfg() -> RunnerCfg:
    return make_velocity_agent_cfg("humanoid-velocity-flat")


def make_humanoid_velocity_flat_dr_agent_cfg() -> RunnerCfg:
    return make_velocity_agent_cfg("humanoid-velocity-flat-dr")


def make_humanoid_rough_agent_cfg() -> RunnerCfg:
    return make_velocity_agent_cfg("humanoid-velocity-rough")


def make_humanoid_rough_scan_agent_cfg() -> RunnerCfg:
    return make_velocity_agent_cfg("humanoid-velocity-rough-scan")
