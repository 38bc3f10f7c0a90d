"""warplab environments for rl_games 1.6: a registered vecenv type, an env creator, a log observer.

::

    from rl_games.torch_runner import Runner
    from warplab.integrations.rl_games import RlGamesObserver, register

    register()  # the env name "warplab", created from the config's env_config
    runner = Runner(algo_observer=RlGamesObserver())
    runner.load(yaml.safe_load(open("examples/rl_games_ppo.yaml")))  # env_name: warplab
    runner.run({"train": True})

In the config, ``params.config.env_config`` names the task and where it runs
(``{task: cartpole-balance, device: cuda}``; optional ``play``, ``overrides`` (``RlEnvCfg`` fields),
``states_group``, ``clip_actions``); ``num_actors`` is the number of worlds and rl_games'
``seed`` seeds the env.

What rl_games receives, all torch tensors on the env's device:

- observations ``{"obs": [N, D]}`` from warplab's ``"policy"`` group, and ``"states"`` from the
  ``"critic"`` group where the task has one (an asymmetric critic: set ``central_value_config``);
- ``dones [N]`` uint8 (terminated or truncated) and ``infos["time_outs"] [N]`` bool: the worlds
  cut by the time limit that did not also terminate, which rl_games' ``value_bootstrap``
  bootstraps with the value of the observation the action was taken from. rl_games does not use
  terminal observations, so none are passed;
- the action space of ``warplab.integrations.spaces``: bounded where the action stops changing
  the physics (the actuators' control range), unbounded elsewhere; or ``[-clip_actions,
  clip_actions]`` with the env's ``clip_actions``. rl_games' config ``clip_actions: True`` clamps
  its actions to [-1, 1] and rescales them to those bounds, which needs every bound finite;
  ``clip_actions: False`` passes them as they are, as warplab's own PPO does.

``RlGamesObserver`` reads ``env.pop_episode_stats()`` (one host sync) once per epoch into
rl_games' TensorBoard writer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from gymnasium.spaces import Box

from warplab.integrations import spaces
from warplab.integrations._common import check_group, default_critic_group, missing_library, time_outs

try:
    from rl_games.common import env_configurations, vecenv
    from rl_games.common.algo_observer import AlgoObserver
    from rl_games.common.ivecenv import IVecEnv
except ImportError as error:
    raise missing_library("rl_games", "rl_games", error) from error

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

__all__ = ["VECENV_TYPE", "RlGamesObserver", "RlGamesVecEnv", "make_env", "register"]

VECENV_TYPE = "WARPLAB"
"""The vecenv type registered with ``rl_games.common.vecenv``."""

_AUTO = "auto"


class RlGamesVecEnv(IVecEnv):
    """A warplab ``RlEnv`` as an rl_games ``IVecEnv``; every tensor stays on ``env.device``.

    Attributes:
      env: the wrapped ``RlEnv``.
      observation_space: ``Box(-inf, inf, [D])`` of the ``"policy"`` group.
      state_space: ``Box`` of the states group, or None without one.
      action_space: ``Box(low, high, [A])`` of ``warplab.integrations.spaces.action_space``, or
        ``Box(-clip_actions, clip_actions, [A])``.
    """

    def __init__(self, env: RlEnv, states_group: str | None = _AUTO, clip_actions: float | None = None):
        """
        Args:
          env: the warplab environment.
          states_group: observation group passed as ``"states"`` (the asymmetric critic's input);
            ``"auto"``: ``"critic"`` where the env has it; None: no states.
          clip_actions: bound of the action space; actions are clamped to it before the env sees
            them. None: the bounds of ``warplab.integrations.spaces.action_space``.
        """
        check_group(env, "policy", "RlGamesVecEnv")
        if states_group == _AUTO:
            states_group = default_critic_group(env)
        if states_group is not None:
            check_group(env, states_group, "RlGamesVecEnv.states_group")
        if clip_actions is not None and not clip_actions > 0:
            raise ValueError(f"RlGamesVecEnv.clip_actions must be > 0 or None, got {clip_actions!r}")
        self.env = env
        self.states_group = states_group
        self.clip_actions = clip_actions
        self.observation_space = spaces.observation_space(env, "policy")
        self.state_space = spaces.observation_space(env, states_group) if states_group else None
        if clip_actions is None:
            self.action_space = spaces.action_space(env)
        else:
            self.action_space = Box(-clip_actions, clip_actions, shape=(env.action_dim,), dtype=np.float32)
        self._checked_algo = False

    @property
    def num_envs(self) -> int:
        return self.env.num_envs

    @property
    def device(self) -> torch.device:
        return self.env.device

    def reset(self) -> dict[str, torch.Tensor]:
        """Resets every world; returns ``{"obs": [N, D]}`` and, with a states group, ``"states"``."""
        obs, _ = self.env.reset()
        return self._pack(obs)

    def seed(self, seed: int) -> None:
        """Reseeds the env's generator (takes effect from the next reset)."""
        self.env.rng.manual_seed(int(seed))

    def step(self, actions: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, dict]:
        """Advances every world by one policy step.

        Args:
          actions: ``[num_envs, action_dim]`` float tensor on the env's device.

        Returns:
          obs ``{"obs": [N, D], "states": [N, S]}`` (for finished worlds, the first observation of
          the next episode), rewards ``[N]`` float32, dones ``[N]`` uint8 and infos
          ``{"time_outs": [N] bool}``.
        """
        if self.clip_actions is not None:
            actions = torch.clamp(actions, -self.clip_actions, self.clip_actions)
        obs, reward, terminated, truncated, _ = self.env.step(actions)
        dones = (terminated | truncated).to(torch.uint8)
        return self._pack(obs), reward, dones, {"time_outs": time_outs(terminated, truncated)}

    def get_number_of_agents(self) -> int:
        return 1

    def get_env_info(self) -> dict[str, Any]:
        """The spaces rl_games sizes its networks and buffers from."""
        return {
            "observation_space": self.observation_space,
            "action_space": self.action_space,
            "state_space": self.state_space,
            "agents": 1,
            "value_size": 1,
            "use_global_observations": False,
        }

    def set_train_info(self, env_frames, *args, **kwargs) -> None:
        # rl_games hands over the algorithm at every epoch: check once that it will not rescale its
        # actions to an unbounded space (that gives infinite actions, which the env zeroes).
        algo = args[0] if args else None
        if not self._checked_algo and algo is not None:
            self._checked_algo = True
            bounded = np.isfinite(self.action_space.low).all() and np.isfinite(self.action_space.high).all()
            if getattr(algo, "clip_actions", False) and not bounded:
                raise ValueError(
                    "rl_games' config.clip_actions is True, but the warplab env's action space is "
                    f"unbounded ({self.action_space}): set config.clip_actions: False (the task's action "
                    "terms scale and clip actions), or give the env a bound with env_config.clip_actions "
                    "(e.g. 1.0)"
                )

    def close(self) -> None:
        self.env.close()

    def _pack(self, obs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        packed = {"obs": obs["policy"]}
        if self.states_group is not None:
            packed["states"] = obs[self.states_group]
        return packed


def make_env(
    task: str | None = None,
    num_actors: int | None = None,
    device: str = "auto",
    seed: int = 0,
    play: bool = False,
    overrides: dict[str, Any] | None = None,
    states_group: str | None = _AUTO,
    clip_actions: float | None = None,
) -> RlGamesVecEnv:
    """Builds the warplab task ``task`` with ``num_actors`` worlds behind ``RlGamesVecEnv``.

    The keyword arguments are what a config's ``env_config`` may hold (rl_games adds ``seed``).
    ``overrides`` are ``RlEnvCfg`` fields (``{"episode_length_s": 5.0, "sim.njmax": 200}``).
    """
    import warplab

    if task is None or num_actors is None:
        missing = "env_config.task (a registered warplab task)" if task is None else "config.num_actors"
        raise ValueError(f"the warplab rl_games env needs {missing}")
    env = warplab.make(
        task, num_envs=int(num_actors), device=device, seed=int(seed), play=play, **(overrides or {})
    )
    return RlGamesVecEnv(env, states_group=states_group, clip_actions=clip_actions)


def register(name: str = "warplab", env: RlEnv | None = None, **adapter_kwargs: Any) -> None:
    """Registers the ``WARPLAB`` vecenv type and the env name ``name`` with rl_games.

    Args:
      name: what the config's ``env_name`` says.
      env: an env already built (its world count must equal the config's ``num_actors``); None
        builds one from the config's ``env_config`` with ``make_env``.
      adapter_kwargs: ``states_group`` and ``clip_actions`` for a given ``env``.
    """
    vecenv.register(VECENV_TYPE, _create_vec_env)
    creator: Callable[..., RlGamesVecEnv]
    if env is None:
        creator = make_env
    else:

        def built_env(num_actors: int | None = None, seed: int | None = None, **unused: Any) -> RlGamesVecEnv:
            if unused:
                raise ValueError(
                    f"env_config of {name!r} has {sorted(unused)}, which an env registered as built "
                    "does not take (only seed)"
                )
            if num_actors is not None and int(num_actors) != env.num_envs:
                raise ValueError(
                    f"config.num_actors is {num_actors}, but the env registered as {name!r} has "
                    f"{env.num_envs} worlds; set num_actors: {env.num_envs}"
                )
            if seed is not None:
                env.rng.manual_seed(int(seed))
            return RlGamesVecEnv(env, **adapter_kwargs)

        creator = built_env

    env_configurations.register(name, {"vecenv_type": VECENV_TYPE, "env_creator": creator})


def _create_vec_env(config_name: str, num_actors: int, **env_config: Any) -> RlGamesVecEnv:
    vec_env = env_configurations.configurations[config_name]["env_creator"](
        num_actors=num_actors, **env_config
    )
    if vec_env.num_envs != num_actors:
        raise ValueError(f"config.num_actors is {num_actors}, but the env has {vec_env.num_envs} worlds")
    return vec_env


class RlGamesObserver(AlgoObserver):
    """Writes the warplab episode statistics to rl_games' TensorBoard writer, once per epoch.

    Pass it to ``Runner(algo_observer=RlGamesObserver())``. ``last_stats`` keeps the latest read.
    """

    def __init__(self) -> None:
        super().__init__()
        self.algo = None
        self.last_stats: dict[str, float] = {}

    def after_init(self, algo) -> None:
        self.algo = algo

    def after_clear_stats(self) -> None:
        pass

    def after_print_stats(self, frame: int, epoch_num: int, total_time: float) -> None:
        vec_env = getattr(self.algo, "vec_env", None)
        if not isinstance(vec_env, RlGamesVecEnv):
            return
        self.last_stats = vec_env.env.pop_episode_stats()
        writer = getattr(self.algo, "writer", None)
        if writer is not None:
            for key, value in self.last_stats.items():
                writer.add_scalar(key, value, epoch_num)
