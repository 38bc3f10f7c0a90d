"""warplab environments for Stable-Baselines3 2.x: its ``VecEnv`` contract, for PPO, SAC and the rest.

::

    from stable_baselines3 import PPO
    from warplab.integrations.sb3 import make_sb3_env

    env = make_sb3_env("cartpole-balance", num_envs=64, device="cuda")
    model = PPO("MlpPolicy", env, n_steps=32).learn(200_000)

What Stable-Baselines3 receives:

- numpy at the boundary, as SB3 requires: actions go to the device in one copy per step, and
  observations, rewards, flags and episode statistics come back in one copy per step, never one
  per world. Observations are float32, ``[num_envs, dim]`` (one observation group, ``"policy"`` by
  default) or a dict of them (several groups, for ``MultiInputPolicy``);
- ``dones = terminated | truncated``; worlds reset themselves in the same step;
- for each finished world ``i``: ``infos[i]["terminal_observation"]`` (the observation before the
  reset, which SB3 bootstraps time-outs from), ``infos[i]["TimeLimit.truncated"]`` (True only for a
  time-out that did not also terminate; False in every other info, as in SB3's ``DummyVecEnv``)
  and ``infos[i]["episode"] = {"r": return, "l": length, "t": seconds since creation}``, the
  episode record SB3's ``Monitor`` writes, so ``rollout/ep_rew_mean`` is logged without a wrapper
  (``env_is_wrapped(Monitor)`` answers True for that reason). Returns and lengths are summed on the
  device.

The worlds share one warplab env object, so ``get_attr`` returns the env's attribute once per
requested index, and ``set_attr`` and ``env_method`` act on all worlds at once (they refuse a
subset of indices rather than silently touching every world). ``seed(s)`` seeds the one generator
every world draws from, at the next ``reset()``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

try:
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import VecEnv
except ImportError as error:
    raise ImportError(
        f"warplab.integrations.sb3 needs Stable-Baselines3 (stable-baselines3>=2.3), which could not be "
        f'imported ({error}). Install it with: pip install "warplab[integrations]"'
    ) from error

from warplab.envs.rl_env import RlEnv
from warplab.integrations.gymnasium import _build_env, _check_final_observation, _render, to_numpy
from warplab.integrations.spaces import action_space, group_names, observation_space

__all__ = ["Sb3VecEnv", "make_sb3_env"]


class Sb3VecEnv(VecEnv):
    """A warplab ``RlEnv`` behind Stable-Baselines3's ``VecEnv`` contract (see the module docstring).

    Args:
      env: the ``RlEnv`` (built with ``final_observation=True``, the default).
      obs_groups: the observation group for a ``Box`` (``"policy"``) or a sequence for a ``Dict``.
      render_mode: None or ``"rgb_array"``: ``get_images()`` then returns ``render_worlds`` frames
        (worlds 0, 1, ...), each ``[height, width, 3]`` uint8, drawn on the CPU.

    Attributes:
      env: the wrapped ``RlEnv``.
      device: its torch device.
    """

    def __init__(
        self,
        env: RlEnv,
        obs_groups: str | Sequence[str] = "policy",
        render_mode: str | None = None,
        render_worlds: int = 1,
        render_size: tuple[int, int] = (640, 480),
    ):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        _check_final_observation(env)
        self.env = env
        self.device = env.device
        self.render_mode = render_mode
        self._render_worlds = min(render_worlds, env.num_envs)
        self._render_size = render_size
        self._groups = group_names(env, obs_groups)
        self._dict_obs = not isinstance(obs_groups, str)
        super().__init__(env.num_envs, observation_space(env, obs_groups), action_space(env))
        self._actions: torch.Tensor | None = None
        self._episode_return = torch.zeros(env.num_envs, device=env.device)
        """Undiscounted return of each world's current episode ``[num_envs]`` float32."""
        self._episode_length = torch.zeros(env.num_envs, dtype=torch.int32, device=env.device)
        """Steps of each world's current episode ``[num_envs]``."""
        self._start_time = time.time()

    # ------------------------------------------------------------------ stepping
    def reset(self):
        """Resets every world (seeded by the last ``seed()`` call, if any). Returns observations."""
        if any(self._options):
            raise ValueError(f"warplab envs take no reset options, got {self._options[0]!r}")
        seed = self._seeds[0]
        obs, _ = self.env.reset(seed=None if seed is None else int(seed))
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._episode_return.zero_()
        self._episode_length.zero_()
        return self._pack(to_numpy([obs[g] for g in self._groups]))

    def step_async(self, actions: np.ndarray) -> None:
        """Sends ``actions`` ``[num_envs, action_dim]`` to the device (one copy)."""
        self._actions = torch.as_tensor(np.asarray(actions)).to(self.device)

    def step_wait(
        self,
    ) -> tuple[dict[str, np.ndarray] | np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """Steps every world; returns observations, rewards ``[num_envs]`` float32, dones ``[num_envs]``
        bool and one info dict per world (see the module docstring)."""
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async(actions) before it")
        actions, self._actions = self._actions, None
        obs, reward, terminated, truncated, info = self.env.step(actions)
        self._episode_return += reward
        self._episode_length += 1
        k = len(self._groups)
        host = to_numpy(
            [
                *(obs[g] for g in self._groups),
                *(info["final_obs"][g] for g in self._groups),
                reward,
                terminated,
                truncated,
                self._episode_return,
                self._episode_length,
            ]
        )
        done_device = terminated | truncated
        self._episode_return.mul_(~done_device)
        self._episode_length.mul_(~done_device)

        obs_np, final_np = host[:k], host[k : 2 * k]
        reward_np, terminated_np, truncated_np, returns_np, lengths_np = host[2 * k :]
        dones = terminated_np | truncated_np
        infos: list[dict[str, Any]] = [{"TimeLimit.truncated": False} for _ in range(self.num_envs)]
        if dones.any():
            elapsed = round(time.time() - self._start_time, 6)
            for i in np.flatnonzero(dones):
                info_i = infos[i]
                info_i["TimeLimit.truncated"] = bool(truncated_np[i] and not terminated_np[i])
                info_i["terminal_observation"] = self._pack([a[i].copy() for a in final_np])
                info_i["episode"] = {"r": float(returns_np[i]), "l": int(lengths_np[i]), "t": elapsed}
        return self._pack(obs_np), reward_np, dones, infos

    def close(self) -> None:
        self.env.close()

    # ------------------------------------------------------------------ attributes
    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        """The env's attribute ``attr_name``, once per index (the worlds share one env object).

        Raises ``AttributeError`` when the env has none (``has_attr`` relies on it).
        """
        count = len(self._indices(indices))
        if attr_name in ("render_mode",):
            return [getattr(self, attr_name)] * count
        return [getattr(self.env, attr_name)] * count

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        """Sets the env's attribute for all worlds; ``indices`` must be None or name every world."""
        self._all_worlds(indices, "set_attr")
        setattr(self.env, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        """Calls the env's method once, for all worlds; returns its result once per world."""
        self._all_worlds(indices, "env_method")
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result] * self.num_envs

    def env_is_wrapped(self, wrapper_class: type, indices=None) -> list[bool]:
        """True for SB3's ``Monitor`` (the infos carry its episode records), False for any other wrapper."""
        return [wrapper_class is Monitor] * len(self._indices(indices))

    def get_images(self) -> list[np.ndarray]:
        """Frames ``[height, width, 3]`` uint8 of worlds ``0 .. render_worlds - 1`` (``rgb_array`` mode)."""
        if self.render_mode != "rgb_array":
            raise ValueError(f"get_images needs render_mode='rgb_array'; this env has {self.render_mode!r}")
        width, height = self._render_size
        return [_render(self.env, w, width, height) for w in range(self._render_worlds)]

    # ------------------------------------------------------------------ helpers
    def _indices(self, indices) -> list[int]:
        out = list(self._get_indices(indices))
        bad = [i for i in out if not 0 <= i < self.num_envs]
        if bad:
            raise IndexError(f"world indices {bad} out of range for {self.num_envs} worlds")
        return out

    def _all_worlds(self, indices, what: str) -> None:
        if sorted(self._indices(indices)) != list(range(self.num_envs)):
            raise ValueError(
                f"{what}: the {self.num_envs} worlds share one warplab env, so it acts on all of them; "
                f"pass indices=None (got {indices!r})"
            )

    def _pack(self, arrays: list[np.ndarray]):
        if self._dict_obs:
            return dict(zip(self._groups, arrays, strict=True))
        return arrays[0]


def make_sb3_env(
    task: str,
    num_envs: int,
    device: str = "auto",
    seed: int = 0,
    obs_groups: str | Sequence[str] = "policy",
    render_mode: str | None = None,
    play: bool = False,
    **env_cfg_overrides: Any,
) -> Sb3VecEnv:
    """Builds ``num_envs`` worlds of ``task`` as an ``Sb3VecEnv``.

    Args:
      device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
      seed: seeds every random draw of the env.
      obs_groups: the observation group for a ``Box`` or a sequence of groups for a ``Dict``.
      play: the task's play mode (no observation noise, no pushes) where it has one.
      env_cfg_overrides: fields of the task's ``RlEnvCfg`` to change, as for ``warplab.make``
        (``episode_length_s=5.0``, ``**{"sim.njmax": 200}``).
    """
    env = _build_env(task, num_envs, device, seed, play, env_cfg_overrides)
    return Sb3VecEnv(env, obs_groups, render_mode)
