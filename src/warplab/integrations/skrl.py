"""warplab environments for skrl 2.x: a torch ``Wrapper`` its trainers accept, and a PPO that
bootstraps time-outs from the terminal observation.

::

    import warplab
    from skrl.trainers.torch import SequentialTrainer
    from warplab.integrations.skrl import FinalObsPPO, SkrlVecEnv

    env = SkrlVecEnv(warplab.make("cartpole-balance", num_envs=4096, device="cuda"))
    agent = FinalObsPPO(models=..., memory=..., observation_space=env.observation_space,
                        state_space=env.state_space, action_space=env.action_space,
                        device=env.device, cfg={..., "time_limit_bootstrap": True})
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 100_000, "headless": True}).train()

What skrl receives, all torch tensors on the env's device:

- observations ``[N, D]`` of warplab's ``"policy"`` group; ``state()`` ``[N, S]`` of the ``"critic"``
  group where the task has one (else None), for an asymmetric value model;
- rewards ``[N, 1]`` float32, terminated ``[N, 1]`` bool and truncated ``[N, 1]`` bool, kept apart.
  ``truncated`` marks only the worlds cut by the time limit that did not also terminate, since
  skrl's PPO adds the bootstrap to every truncated world;
- infos ``{"final_observations": [N, D], "final_states": [N, S] or None}``: the terminal
  observation of the worlds that finished (the returned observations already start their next
  episode), the returned ones elsewhere; and every ``log_interval`` steps ``infos["episode"]``
  with ``env.pop_episode_stats()`` (one host sync), which skrl's trainers log.

skrl's own PPO bootstraps a time-out (``time_limit_bootstrap=True``) with the value of the
observations the step returns, which for a finished world are the first of its next episode.
``FinalObsPPO`` is that PPO, given the terminal observations instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from gymnasium.spaces import Box

from warplab.integrations import spaces
from warplab.integrations._common import check_group, default_critic_group, missing_library, time_outs

try:
    from skrl.agents.torch.ppo import PPO as _SkrlPPO
    from skrl.envs.wrappers.torch import Wrapper
except ImportError as error:
    raise missing_library("skrl", "skrl", error) from error

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

__all__ = ["FinalObsPPO", "SkrlVecEnv"]

_AUTO = "auto"


class SkrlVecEnv(Wrapper):
    """A warplab ``RlEnv`` as an skrl torch ``Wrapper`` (single agent, ``num_envs`` worlds).

    Attributes:
      env: the wrapped ``RlEnv``.
      observation_space: ``Box(-inf, inf, [D])`` of the ``"policy"`` group.
      state_space: ``Box`` of the states group, or None.
      action_space: ``Box(low, high, [A])`` of ``warplab.integrations.spaces.action_space`` (bounded
        where the action stops changing the physics), or ``Box(-clip_actions, clip_actions, [A])``.
    """

    def __init__(
        self,
        env: RlEnv,
        states_group: str | None = _AUTO,
        log_interval: int = 16,
        clip_actions: float | None = None,
    ):
        """
        Args:
          env: the warplab environment.
          states_group: observation group returned by ``state()``; ``"auto"``: ``"critic"`` where
            the env has it; None: ``state()`` returns None.
          log_interval: put ``env.pop_episode_stats()`` into ``infos["episode"]`` every this many
            steps (one host sync each time); use the PPO's ``rollouts``.
          clip_actions: bound of the action space; actions are clamped to it before the env sees
            them. None: the bounds of ``warplab.integrations.spaces.action_space``, not enforced
            (the task's action terms scale and clip; skrl's ``clip_actions=True`` models clamp to them).
        """
        super().__init__(env)
        check_group(env, "policy", "SkrlVecEnv")
        if states_group == _AUTO:
            states_group = default_critic_group(env)
        if states_group is not None:
            check_group(env, states_group, "SkrlVecEnv.states_group")
        if not isinstance(log_interval, int) or log_interval < 1:
            raise ValueError(f"SkrlVecEnv.log_interval must be a positive integer, got {log_interval!r}")
        if clip_actions is not None and not clip_actions > 0:
            raise ValueError(f"SkrlVecEnv.clip_actions must be > 0 or None, got {clip_actions!r}")
        self.env = env
        self.states_group = states_group
        self.log_interval = log_interval
        self.clip_actions = clip_actions
        self._observation_space = spaces.observation_space(env, "policy")
        self._state_space = spaces.observation_space(env, states_group) if states_group else None
        if clip_actions is None:
            self._action_space = spaces.action_space(env)
        else:
            self._action_space = Box(-clip_actions, clip_actions, shape=(env.action_dim,), dtype=np.float32)
        self._states: torch.Tensor | None = None
        self._steps = 0

    @property
    def observation_space(self) -> Box:
        return self._observation_space

    @property
    def state_space(self) -> Box | None:
        return self._state_space

    @property
    def action_space(self) -> Box:
        return self._action_space

    @property
    def num_envs(self) -> int:
        return self.env.num_envs

    @property
    def num_agents(self) -> int:
        return 1

    def reset(self) -> tuple[torch.Tensor, dict[str, Any]]:
        """Resets every world; returns observations ``[N, D]`` and ``{}``."""
        obs, _ = self.env.reset()
        self._states = obs[self.states_group] if self.states_group else None
        return obs["policy"], {}

    def step(
        self, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        """Advances every world by one policy step.

        Args:
          actions: ``[N, A]`` float tensor on the env's device.

        Returns:
          observations ``[N, D]`` (for finished worlds, the first of the next episode), rewards
          ``[N, 1]`` float32, terminated ``[N, 1]`` bool, truncated ``[N, 1]`` bool (time-outs that
          did not also terminate) and infos (see the module docstring).
        """
        # Actions sampled outside torch.no_grad() carry a graph the env has no use for.
        actions = actions.detach()
        if self.clip_actions is not None:
            actions = torch.clamp(actions, -self.clip_actions, self.clip_actions)
        obs, reward, terminated, truncated, info = self.env.step(actions)
        final = info.get("final_obs", obs)
        self._states = obs[self.states_group] if self.states_group else None
        infos: dict[str, Any] = {
            "final_observations": final["policy"],
            "final_states": final[self.states_group] if self.states_group else None,
        }
        self._steps += 1
        if self._steps % self.log_interval == 0:
            # skrl's trainers log the one-element tensors of infos["episode"].
            infos["episode"] = {k: torch.tensor(v) for k, v in self.env.pop_episode_stats().items()}
        return (
            obs["policy"],
            reward.view(-1, 1),
            terminated.view(-1, 1),
            time_outs(terminated, truncated).view(-1, 1),
            infos,
        )

    def state(self) -> torch.Tensor | None:
        """The states group's latest observations ``[N, S]``, or None without a states group."""
        return self._states

    def render(self, *args, **kwargs) -> None:
        """Nothing: warplab renders with ``warplab play`` and ``warplab.viz``."""
        return None

    def close(self) -> None:
        self.env.close()


class FinalObsPPO(_SkrlPPO):
    """skrl's PPO, bootstrapping time-outs from the terminal observations of ``SkrlVecEnv``.

    skrl's PPO computes the value it adds to a truncated world's reward (with
    ``time_limit_bootstrap=True``) from the ``next_observations`` of the transition, and keeps them
    to bootstrap the end of the rollout. This agent hands it ``infos["final_observations"]`` (and
    ``"final_states"``) there: the terminal observation where a world finished, the same
    observations elsewhere. The trainer still acts on the observations ``step`` returned.
    """

    def record_transition(self, *, next_observations, next_states, infos, **kwargs) -> None:
        if isinstance(infos, dict) and "final_observations" in infos:
            next_observations = infos["final_observations"]
            next_states = infos.get("final_states", next_states)
        super().record_transition(
            next_observations=next_observations, next_states=next_states, infos=infos, **kwargs
        )
