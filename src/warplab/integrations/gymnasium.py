"""warplab tasks as Gymnasium 1.x environments: a batched ``VectorEnv`` and single-world ids.

::

    import gymnasium
    import warplab.integrations.gymnasium  # registers "warplab/<task>" for every task

    envs = gymnasium.make_vec("warplab/Humanoid-v5", num_envs=4096)   # WarplabVectorEnv, torch on the device
    env = gymnasium.make("warplab/cartpole-balance")                  # one world, numpy, on the CPU

**The vector env** (``WarplabVectorEnv``, or ``make_vector_env(num_envs, task)``) steps all worlds
in one call and declares ``metadata["autoreset_mode"] = AutoresetMode.SAME_STEP``: a world that
finishes is reset inside the same ``step``, its returned observation is the first of the next
episode, and its terminal observation is in ``infos["final_obs"]``, flagged by
``infos["_final_obs"]`` (``final_info``/``_final_info`` likewise; warplab has no per-world step
info, so ``final_info`` is empty). ``terminated`` and ``truncated`` (time-outs) stay apart.

- ``array="torch"`` (default): observations, rewards and flags are torch tensors on the env's
  device and nothing is copied to the host. ``infos["final_obs"]`` is then a whole batch
  ``[num_envs, ...]`` (equal to the observation where a world did not finish), and
  ``infos["_final_obs"]`` a ``[num_envs]`` bool tensor; both are present at every step.
- ``array="numpy"``: numpy arrays, copied from the device in one transfer per step, with the infos
  exactly as Gymnasium's own vector envs build them (``final_obs`` a ``[num_envs]`` object array
  holding the terminal observation of each finished world and ``None`` elsewhere; the keys present
  only in steps where some world finished), so Gymnasium's numpy wrappers
  (``gymnasium.wrappers.vector.RecordEpisodeStatistics``...) work on it.

Gymnasium's spaces are numpy spaces in both modes; see ``warplab.integrations.spaces`` for their
bounds. Actions may be torch tensors (any device) or numpy arrays ``[num_envs, action_dim]``.

**The single-world env** (``WarplabEnv``, registered as ``warplab/<task>``) follows
``gymnasium.Env``: numpy in and out, float64 observations and float32 actions like Gymnasium's
MuJoCo environments, the terminal observation returned by the step that ends an episode, then
``reset()``. It passes ``gymnasium.utils.env_checker.check_env``. It runs on the CPU unless told
otherwise: one world gains nothing from a GPU.

Seeding: warplab draws every world from one generator, so ``reset(seed=s)`` with one int makes the
whole batch reproducible (on the CPU, bit for bit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

try:
    import gymnasium
    from gymnasium.vector import AutoresetMode, VectorEnv
    from gymnasium.vector.utils import batch_space
except ImportError as error:  # gymnasium < 1.0 has no AutoresetMode
    raise ImportError(
        f"warplab.integrations.gymnasium needs gymnasium>=1.0, which could not be imported ({error}). "
        'Install it with: pip install "warplab[integrations]"'
    ) from error

from warplab.envs.rl_env import RlEnv
from warplab.integrations.spaces import action_space, group_names, observation_space

__all__ = ["WarplabEnv", "WarplabVectorEnv", "make_vector_env", "register_envs", "to_numpy"]

NAMESPACE = "warplab"
"""Gymnasium ids are ``warplab/<task>``."""


def to_numpy(tensors: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """Copies tensors of one batch to the host in a single device-to-host transfer.

    Args:
      tensors: each ``[num_envs, ...]`` on the same device, of a dtype whose values float32 holds
        exactly (float32, bool, and integers below 2**24).

    Returns:
      numpy arrays of the same shapes and dtypes, each a fresh copy.
    """
    n = tensors[0].shape[0]
    flat = [t.reshape(n, -1).to(torch.float32) for t in tensors]
    host = torch.cat(flat, dim=1).cpu().numpy()
    out, start = [], 0
    for t, f in zip(tensors, flat, strict=True):
        part = host[:, start : start + f.shape[1]].reshape(t.shape)
        out.append(part.astype(torch.empty(0, dtype=t.dtype).numpy().dtype, copy=True))
        start += f.shape[1]
    return out


def _render(env: RlEnv, world: int, width: int, height: int) -> np.ndarray:
    """One RGB frame ``[height, width, 3]`` uint8 of ``world``, drawn on the CPU by MuJoCo."""
    from warplab.viz import render_frames

    viewer = env.cfg.viewer
    qpos = env.sim.qpos[world : world + 1].double().cpu().numpy()
    return render_frames(
        env.sim.world_mj_model(world),
        qpos,
        width=width,
        height=height,
        track_body=viewer.track_body,
        distance=viewer.distance,
        elevation=viewer.elevation,
        azimuth=viewer.azimuth,
    )[0]


def _check_render_mode(render_mode: str | None) -> None:
    if render_mode not in (None, "rgb_array"):
        raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")


def _check_final_observation(env: RlEnv) -> None:
    if not env.cfg.final_observation:
        raise ValueError(
            "the env was built with RlEnvCfg.final_observation=False; Gymnasium's same-step autoreset "
            "returns terminal observations, so build it with final_observation=True"
        )


class WarplabVectorEnv(VectorEnv):
    """A batch of warplab worlds as a Gymnasium ``VectorEnv`` with same-step autoreset.

    Args:
      env: the ``RlEnv`` to expose (built with ``final_observation=True``, the default).
      obs_groups: the observation group to expose as a ``Box`` (``"policy"``), or a sequence of
        groups to expose as a ``Dict``.
      array: ``"torch"`` (tensors on ``env.device``) or ``"numpy"`` (see the module docstring).
      obs_dtype: dtype of the observations and of the observation space (float32: no conversion).
      render_mode: None or ``"rgb_array"``: ``render()`` then returns a tuple of ``render_worlds``
        frames (worlds 0, 1, ...), each ``[height, width, 3]`` uint8, drawn on the CPU.

    Attributes:
      rl_env: the wrapped ``RlEnv`` (``env`` means a wrapped Gymnasium env in Gymnasium).
      device: ``rl_env.device``.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": ["rgb_array"]}

    def __init__(
        self,
        env: RlEnv,
        obs_groups: str | Sequence[str] = "policy",
        array: str = "torch",
        obs_dtype: type = np.float32,
        render_mode: str | None = None,
        render_worlds: int = 1,
        render_size: tuple[int, int] = (640, 480),
    ):
        if array not in ("torch", "numpy"):
            raise ValueError(f"array must be 'torch' or 'numpy', got {array!r}")
        _check_render_mode(render_mode)
        _check_final_observation(env)
        self.rl_env = env
        self.device = env.device
        self.num_envs = env.num_envs
        self.array = array
        self._groups = group_names(env, obs_groups)
        self._dict_obs = not isinstance(obs_groups, str)
        self._obs_dtype = np.dtype(obs_dtype)
        self._torch_obs_dtype = torch.from_numpy(np.zeros(0, dtype=self._obs_dtype)).dtype
        self.single_observation_space = observation_space(env, obs_groups, self._obs_dtype.type)
        self.single_action_space = action_space(env)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {
            "autoreset_mode": AutoresetMode.SAME_STEP,
            "render_modes": ["rgb_array"],
            "render_fps": 1.0 / env.policy_dt,
        }
        self.render_mode = render_mode
        self._render_worlds = min(render_worlds, self.num_envs)
        self._render_size = render_size

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Resets every world; an int ``seed`` reseeds the env's generator first.

        Returns:
          observations (``[num_envs, dim]`` per exposed group) and an empty info dict.
        """
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise TypeError(
                f"seed must be one int (warplab draws every world from one generator), got {seed!r}"
            )
        if options:
            raise ValueError(f"warplab envs take no reset options, got {options!r}")
        super().reset(seed=seed)
        obs, _ = self.rl_env.reset(seed=None if seed is None else int(seed))
        if self.array == "numpy":
            return self._unpack(to_numpy(self._obs_list(obs))), {}
        return self._torch_obs(obs), {}

    def step(self, actions: torch.Tensor | np.ndarray) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Steps every world once; finished worlds are reset in the same step.

        Args:
          actions: ``[num_envs, action_dim]`` torch tensor (any device) or numpy array.

        Returns:
          observations, rewards ``[num_envs]`` float32, terminated ``[num_envs]`` bool, truncated
          ``[num_envs]`` bool (time-outs), infos with ``final_obs``/``_final_obs`` and
          ``final_info``/``_final_info``.
        """
        obs, reward, terminated, truncated, info = self.rl_env.step(self._action_tensor(actions))
        if self.array == "torch":
            done = terminated | truncated
            infos: dict[str, Any] = {
                "final_obs": self._torch_obs(info["final_obs"]),
                "_final_obs": done,
                "final_info": {},
                "_final_info": done,
            }
            return self._torch_obs(obs), reward, terminated, truncated, infos
        k = len(self._groups)
        host = to_numpy(
            [*self._obs_list(obs), *self._obs_list(info["final_obs"]), reward, terminated, truncated]
        )
        obs_np, final_np = self._unpack(host[:k]), self._unpack(host[k : 2 * k])
        reward_np, terminated_np, truncated_np = host[2 * k :]
        done = terminated_np | truncated_np
        infos = {}
        if done.any():
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = {g: v[i] for g, v in final_np.items()} if self._dict_obs else final_np[i]
            infos = {"final_obs": final_obs, "_final_obs": done, "final_info": {}, "_final_info": done.copy()}
        return obs_np, reward_np, terminated_np, truncated_np, infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        """Frames ``[height, width, 3]`` uint8 of worlds ``0 .. render_worlds - 1`` (``rgb_array``)."""
        if self.render_mode is None:
            return None
        width, height = self._render_size
        return tuple(_render(self.rl_env, w, width, height) for w in range(self._render_worlds))

    def close_extras(self, **kwargs: Any) -> None:
        self.rl_env.close()

    # ------------------------------------------------------------------ conversions
    def _action_tensor(self, actions) -> torch.Tensor:
        if isinstance(actions, torch.Tensor):
            return actions.to(self.device)
        # The env validates shape and dtype and names what it expected.
        return torch.as_tensor(np.asarray(actions)).to(self.device)

    def _obs_list(self, obs: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        return [obs[g] for g in self._groups]

    def _torch_obs(self, obs: dict[str, torch.Tensor]):
        out = {g: obs[g].to(self._torch_obs_dtype) for g in self._groups}
        return out if self._dict_obs else out[self._groups[0]]

    def _unpack(self, arrays: list[np.ndarray]):
        out = {g: a.astype(self._obs_dtype, copy=False) for g, a in zip(self._groups, arrays, strict=True)}
        return out if self._dict_obs else out[self._groups[0]]


def _build_env(
    task: str, num_envs: int, device: str, seed: int, play: bool, env_cfg_overrides: dict | None
) -> RlEnv:
    from warplab.tasks import make

    overrides = dict(env_cfg_overrides or {})
    overrides["final_observation"] = True
    return make(task, num_envs=num_envs, device=device, seed=seed, play=play, **overrides)


def make_vector_env(
    num_envs: int,
    task: str,
    device: str = "auto",
    seed: int = 0,
    obs_groups: str | Sequence[str] = "policy",
    array: str = "torch",
    obs_dtype: type = np.float32,
    render_mode: str | None = None,
    play: bool = False,
    env_cfg_overrides: dict[str, Any] | None = None,
) -> WarplabVectorEnv:
    """Builds ``num_envs`` worlds of ``task`` as a ``WarplabVectorEnv`` (Gymnasium's vector entry point).

    Args:
      device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
      seed: seeds every random draw of the env.
      play: the task's play mode (no observation noise, no pushes) where it has one.
      env_cfg_overrides: fields of the task's ``RlEnvCfg`` to change, as for ``warplab.make``
        (``{"episode_length_s": 5.0, "sim.njmax": 200}``).
      Others: see ``WarplabVectorEnv``.
    """
    env = _build_env(task, num_envs, device, seed, play, env_cfg_overrides)
    return WarplabVectorEnv(env, obs_groups, array, obs_dtype, render_mode)


class WarplabEnv(gymnasium.Env):
    """One world of a warplab task as a ``gymnasium.Env``: numpy in and out.

    The step that ends an episode returns that episode's terminal observation; call ``reset()``
    before stepping on (the world has in fact already restarted inside warplab, and ``reset()``
    draws a fresh start).

    Args:
      task: a registered warplab task.
      device: ``"cpu"`` by default; one world gains nothing from a GPU.
      seed: seed of the env's generator until ``reset(seed=...)`` reseeds it.
      obs_groups: the observation group for a ``Box`` (``"policy"``) or a sequence for a ``Dict``.
      obs_dtype: numpy dtype of the observations; float64 like Gymnasium's MuJoCo envs.
      render_mode: None or ``"rgb_array"`` (``render()`` returns ``[height, width, 3]`` uint8).
      play: the task's play mode where it has one.
      env_cfg_overrides: fields of the task's ``RlEnvCfg`` to change (``{"episode_length_s": 5.0}``).

    Attributes:
      rl_env: the ``RlEnv`` of one world behind it.
    """

    # Read by ``gymnasium.make`` before the env exists; ``render_fps`` is set per task in __init__.
    metadata = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        task: str,
        device: str = "cpu",
        seed: int = 0,
        obs_groups: str | Sequence[str] = "policy",
        obs_dtype: type = np.float64,
        render_mode: str | None = None,
        play: bool = False,
        env_cfg_overrides: dict[str, Any] | None = None,
        render_size: tuple[int, int] = (640, 480),
    ):
        _check_render_mode(render_mode)
        self.rl_env = _build_env(task, 1, device, seed, play, env_cfg_overrides)
        self._groups = group_names(self.rl_env, obs_groups)
        self._dict_obs = not isinstance(obs_groups, str)
        self._obs_dtype = np.dtype(obs_dtype)
        self.observation_space = observation_space(self.rl_env, obs_groups, self._obs_dtype.type)
        self.action_space = action_space(self.rl_env)
        self.metadata = {"render_modes": ["rgb_array"], "render_fps": 1.0 / self.rl_env.policy_dt}
        self.render_mode = render_mode
        self._render_size = render_size

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Starts a new episode; ``seed`` reseeds the env's generator first. Returns (obs, {})."""
        if options:
            raise ValueError(f"warplab envs take no reset options, got {options!r}")
        super().reset(seed=seed)
        obs, _ = self.rl_env.reset(seed=seed)
        return self._one(to_numpy([obs[g] for g in self._groups])), {}

    def step(self, action):
        """One policy step with ``action`` ``[action_dim]``.

        Returns:
          obs (the terminal observation when the episode ended), reward (float), terminated,
          truncated (time-out) and an empty info dict.
        """
        action = np.asarray(action)
        if action.shape != self.action_space.shape:
            raise ValueError(
                f"action has shape {action.shape}, expected {self.action_space.shape} (one world's action)"
            )
        batch = torch.as_tensor(action[None]).to(self.rl_env.device)
        _, reward, terminated, truncated, info = self.rl_env.step(batch)
        # final_obs is the terminal observation where the world finished, else the observation.
        host = to_numpy([*(info["final_obs"][g] for g in self._groups), reward, terminated, truncated])
        k = len(self._groups)
        reward_np, terminated_np, truncated_np = host[k:]
        return self._one(host[:k]), float(reward_np[0]), bool(terminated_np[0]), bool(truncated_np[0]), {}

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        return _render(self.rl_env, 0, *self._render_size)

    def close(self) -> None:
        self.rl_env.close()

    def _one(self, arrays: list[np.ndarray]):
        out = {g: a[0].astype(self._obs_dtype) for g, a in zip(self._groups, arrays, strict=True)}
        return out if self._dict_obs else out[self._groups[0]]


def register_envs() -> list[str]:
    """Registers ``warplab/<task>`` with Gymnasium for every registered warplab task not yet there.

    Importing this module calls it; call it again after ``warplab.register_task`` to add your own
    tasks. Each id makes a ``WarplabEnv`` with ``gymnasium.make`` and a ``WarplabVectorEnv`` with
    ``gymnasium.make_vec`` (keyword arguments go to them). Episodes end by warplab's own time limit,
    so the ids carry no ``max_episode_steps``.

    Returns:
      the ids of all warplab tasks.
    """
    from warplab.tasks import list_tasks

    ids = []
    for task in list_tasks():
        env_id = f"{NAMESPACE}/{task}"
        if env_id not in gymnasium.registry:
            gymnasium.register(
                env_id,
                entry_point=f"{__name__}:WarplabEnv",
                vector_entry_point=f"{__name__}:make_vector_env",
                kwargs={"task": task},
            )
        ids.append(env_id)
    return ids


register_envs()
