"""warplab environments for rsl_rl 5.x: its ``VecEnv`` contract, for ``OnPolicyRunner``.

::

    import warplab
    from rsl_rl.runners import OnPolicyRunner
    from warplab.integrations.rsl_rl import RslRlVecEnv

    env = RslRlVecEnv(warplab.make("cartpole-balance", num_envs=4096, device="cuda"), log_interval=24)
    runner = OnPolicyRunner(env, train_cfg, log_dir="runs/rsl_rl", device="cuda")  # train_cfg["num_steps_per_env"] = 24
    runner.learn(300)

What rsl_rl receives:

- observations as a ``TensorDict`` of warplab's observation groups (``"policy"``, and ``"critic"``
  where the task has one), batch size ``[num_envs]``, on the env's device; the runner config's
  ``obs_groups`` maps rsl_rl's observation sets to them (``{"actor": ["policy"], "critic":
  ["critic"]}``);
- ``dones = terminated | truncated`` and ``extras["time_outs"]``: the worlds cut by the time limit
  that did not also terminate. rsl_rl's PPO bootstraps those with the critic's value of the
  observation the action was taken from; it has no use for terminal observations, so none are
  passed;
- ``extras["log"]`` every ``log_interval`` steps: ``env.pop_episode_stats()`` (mean return, length,
  reward terms and termination causes of the episodes finished since the last one). That call
  reads from the device, so it is made once per ``log_interval`` steps and never in between; set it
  to the runner's ``num_steps_per_env`` for one read per iteration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.integrations._common import check_group, missing_library, time_outs

try:
    from rsl_rl.env import VecEnv
    from tensordict import TensorDict
except ImportError as error:
    raise missing_library("rsl_rl (the rsl-rl-lib package) and tensordict", "rsl_rl", error) from error

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.rl.config import RunnerCfg

__all__ = ["RslRlVecEnv", "train_cfg_from_warplab"]


class RslRlVecEnv(VecEnv):
    """A warplab ``RlEnv`` behind rsl_rl's ``VecEnv`` contract; every tensor stays on ``env.device``.

    Attributes:
      env: the wrapped ``RlEnv``.
      num_envs: number of worlds N.
      num_actions: size of the action vector A.
      max_episode_length: policy steps after which an episode is truncated.
      device: the env's torch device.
      cfg: the env's ``RlEnvCfg``.
      log_interval: steps between two reads of the episode statistics into ``extras["log"]``.
    """

    def __init__(self, env: RlEnv, log_interval: int = 24, clip_actions: float | None = None):
        """
        Args:
          env: the warplab environment (``warplab.make(...)``).
          log_interval: put ``env.pop_episode_stats()`` into ``extras["log"]`` every this many steps
            (one host sync each time); use the runner's ``num_steps_per_env``.
          clip_actions: clamp actions to ``[-clip_actions, clip_actions]`` before the env sees them;
            None leaves them to the task's action terms.
        """
        if not isinstance(log_interval, int) or log_interval < 1:
            raise ValueError(f"RslRlVecEnv.log_interval must be a positive integer, got {log_interval!r}")
        if clip_actions is not None and not clip_actions > 0:
            raise ValueError(f"RslRlVecEnv.clip_actions must be > 0 or None, got {clip_actions!r}")
        check_group(env, "policy", "RslRlVecEnv")
        self.env = env
        self.num_envs = env.num_envs
        self.num_actions = env.action_dim
        self.max_episode_length = env.max_episode_length
        self.device = env.device
        self.cfg = env.cfg
        self.log_interval = log_interval
        self.clip_actions = clip_actions
        self._steps = 0

    @property
    def episode_length_buf(self) -> torch.Tensor:
        """Policy steps taken in each world's current episode, ``[num_envs]`` int64 on the device."""
        return self.env.episode_length_buf

    @episode_length_buf.setter
    def episode_length_buf(self, value: torch.Tensor) -> None:
        # OnPolicyRunner.learn(init_at_random_ep_len=True) assigns random lengths; copy them into
        # the env's own buffer, which its time-out term and statistics keep reading.
        self.env.episode_length_buf.copy_(value)

    def get_observations(self) -> TensorDict:
        """The latest observations: ``TensorDict {group: [num_envs, dim]}``, batch size ``[num_envs]``."""
        return self._as_tensordict(self.env.observations)

    def reset(self, seed: int | None = None) -> tuple[TensorDict, dict]:
        """Resets every world (``seed`` reseeds the env first); returns the observations and ``{}``."""
        obs, _ = self.env.reset(seed=seed)
        return self._as_tensordict(obs), {}

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        """Advances every world by one policy step.

        Args:
          actions: ``[num_envs, num_actions]`` float, on the env's device.

        Returns:
          observations ``TensorDict {group: [num_envs, dim]}`` (for finished worlds, the first
          observation of their next episode), rewards ``[num_envs]`` float32, dones ``[num_envs]``
          bool (terminated or truncated) and extras: ``"time_outs"`` ``[num_envs]`` bool, and every
          ``log_interval`` steps ``"log"`` ``{name: float}``.
        """
        if self.clip_actions is not None:
            actions = torch.clamp(actions, -self.clip_actions, self.clip_actions)
        obs, reward, terminated, truncated, _ = self.env.step(actions)
        extras: dict = {"time_outs": time_outs(terminated, truncated)}
        self._steps += 1
        if self._steps % self.log_interval == 0:
            extras["log"] = self.env.pop_episode_stats()
        return self._as_tensordict(obs), reward, terminated | truncated, extras

    def close(self) -> None:
        """Closes the wrapped env."""
        self.env.close()

    def _as_tensordict(self, obs: dict[str, torch.Tensor]) -> TensorDict:
        return TensorDict(obs, batch_size=[self.num_envs], device=self.device)


def train_cfg_from_warplab(runner_cfg: RunnerCfg, env: RlEnv | RslRlVecEnv) -> dict:
    """rsl_rl's ``OnPolicyRunner`` config with the settings of a warplab ``RunnerCfg``.

    So that a task's registered settings (``warplab.tasks.get_task(name).agent_cfg_factory()``)
    train the same networks with the same PPO in both libraries. The actor reads the ``"policy"``
    group; the critic reads ``"critic"`` where the env has it, else ``"policy"``. warplab settings
    rsl_rl has no counterpart for are left out: the bounds of the adaptive learning rate (rsl_rl's are
    fixed at 1e-5 and 1e-2, warplab's defaults), the clamp of normalized observations, and
    ``normalize_advantages=False`` (rsl_rl always normalizes them).
    """
    env = env.env if isinstance(env, RslRlVecEnv) else env
    ppo, policy = runner_cfg.ppo, runner_cfg.policy
    critic_group = "critic" if "critic" in env.observation_shapes else "policy"

    def mlp(hidden_dims: tuple[int, ...], obs_normalization: bool) -> dict:
        return {
            "class_name": "MLPModel",
            "hidden_dims": list(hidden_dims),
            "activation": policy.activation,
            "obs_normalization": obs_normalization,
        }

    return {
        "num_steps_per_env": ppo.num_steps_per_env,
        "save_interval": runner_cfg.save_interval,
        "obs_groups": {"actor": ["policy"], "critic": [critic_group]},
        "actor": {
            **mlp(policy.actor_hidden_dims, policy.actor_obs_normalization),
            "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": policy.init_noise_std},
        },
        "critic": mlp(policy.critic_hidden_dims, policy.critic_obs_normalization),
        "algorithm": {
            "class_name": "PPO",
            "num_learning_epochs": ppo.num_learning_epochs,
            "num_mini_batches": ppo.num_mini_batches,
            "clip_param": ppo.clip_param,
            "gamma": ppo.gamma,
            "lam": ppo.lam,
            "value_loss_coef": ppo.value_loss_coef,
            "use_clipped_value_loss": ppo.clipped_value_loss,
            "entropy_coef": ppo.entropy_coef,
            "learning_rate": ppo.learning_rate,
            "schedule": ppo.schedule,
            "desired_kl": ppo.desired_kl,
            "max_grad_norm": ppo.max_grad_norm,
        },
        "logger": "tensorboard",
        "experiment_name": runner_cfg.experiment_name,
        "run_name": runner_cfg.run_name,
    }
