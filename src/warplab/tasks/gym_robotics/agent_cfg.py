"""The learner's settings for the Gymnasium-Robotics tasks (imports ``warplab.rl``: loaded only when asked for)."""

from __future__ import annotations

from warplab.rl.config import PolicyCfg, PpoCfg, RunnerCfg, SacCfg


def _runner_cfg(
    experiment_name: str,
    max_iterations: int,
    num_steps_per_env: int,
    gamma: float,
    hidden_dims: tuple[int, ...],
    c51_range: tuple[float, float],
    num_atoms: int,
) -> RunnerCfg:
    """The settings these tasks share (PPO at 3e-4 with 4 mini-batches and no entropy bonus, actor and
    critic of the same widths, an initial action std of 0.5) around what differs: the rollout, the
    discount, the widths and SAC's C51 range ``(v_min, v_max)`` of discounted returns."""
    return RunnerCfg(
        experiment_name=experiment_name,
        max_iterations=max_iterations,
        ppo=PpoCfg(
            num_steps_per_env=num_steps_per_env,
            learning_rate=3e-4,
            entropy_coef=0.0,
            num_mini_batches=4,
            gamma=gamma,
        ),
        policy=PolicyCfg(actor_hidden_dims=hidden_dims, critic_hidden_dims=hidden_dims, init_noise_std=0.5),
        sac=SacCfg(v_min=c51_range[0], v_max=c51_range[1], num_atoms=num_atoms),
    )


def make_hand_block_agent_cfg(experiment_name: str = "HandManipulateBlockRotateXYZ-v1") -> RunnerCfg:
    """PPO settings for thousands of worlds on one GPU, and a SAC/TD3 starting point (``--algo sac``).
    Untuned: nothing has been trained on this task yet.

    Rewards lie in [-1, 0] a step (sparse: -1 off the goal; dense: minus the angle, at most 2 pi), so
    discounted returns lie in about [-100, 0] at gamma 0.99 for the sparse reward and a few times
    that for the dense one: the C51 range [-400, 10]. Actions are already in [-1, 1], SAC's default
    bound. Episodes of 100 steps: rollouts of 32 steps see about a third of one per iteration.
    """
    return _runner_cfg(experiment_name, 2000, 32, 0.99, (512, 256, 128), (-400.0, 10.0), 201)


def make_adroit_agent_cfg(experiment_name: str, v_max: float) -> RunnerCfg:
    """PPO settings for the Adroit tasks (``AdroitHandDoor-v1``, ``AdroitHandRelocate-v1`` and their
    sparse variants), and a SAC/TD3 starting point. Untuned: nothing has been trained on them yet.

    Rewards per step lie in about [-0.4, 20] (the door's dense reward), [-1, 31] (relocation's) and
    [-0.1, 10] (sparse), so discounted returns at gamma 0.99 reach a few thousand at most: the C51
    range is [-100, ``v_max``]. Episodes of 200 steps: rollouts of 32 steps see a sixth of one.
    """
    return _runner_cfg(experiment_name, 3000, 32, 0.99, (512, 256, 128), (-100.0, v_max), 201)


def make_fetch_agent_cfg(experiment_name: str = "FetchPickAndPlace-v4") -> RunnerCfg:
    """PPO settings for ``FetchPickAndPlace-v4`` (and its dense variant), and a SAC/TD3 starting
    point. Untuned: nothing has been trained on this task yet.

    Rewards lie in [-1, 0] a step (sparse: -1 off the goal; dense: minus the distance, under 1 m on
    the table), so discounted returns over the 50-step episodes lie in about [-40, 0] at gamma 0.98:
    the C51 range [-60, 10]. Rollouts of 25 steps see half an episode per iteration.
    """
    return _runner_cfg(experiment_name, 2000, 25, 0.98, (256, 256, 128), (-60.0, 10.0), 201)


def make_kitchen_agent_cfg(experiment_name: str = "FrankaKitchenMicrowave-v1") -> RunnerCfg:
    """PPO settings for ``FrankaKitchenMicrowave-v1``, and a SAC/TD3 starting point. Untuned: nothing
    has been trained on this task yet.

    The reward is 1 at the step the door opens (which ends the episode), else 0: returns lie in
    [0, 1], the C51 range [-1, 2]. Episodes of up to 280 steps: rollouts of 32 steps.
    """
    return _runner_cfg(experiment_name, 3000, 32, 0.99, (256, 256, 128), (-1.0, 2.0), 101)
