"""A tiny pure-torch env that follows the warplab.rl env contract, for unit tests of the learner.

N point masses on a line must reach a target position and hold it. Each world:

- state: position x (m), velocity v (m/s), target g (m), all 1-D;
- action: one value, clipped to [-1, 1], times ``accel`` is the acceleration (m/s^2); the mass
  also feels a linear drag ``-damping * v``;
- reward per step: ``tracking = exp(-((x - g) / tracking_std)^2)`` in [0, 1] plus
  ``effort = -effort_weight * a^2``;
- terminated when ``|x| > bound`` (out of bounds); truncated after ``max_episode_length`` steps;
- observations: ``policy = [x - g, v] + noise`` and, with ``critic_group``, a privileged
  ``critic = [x, v, g, step / max_episode_length]`` without noise.

All randomness (initial states, targets, observation noise) comes from ``self.rng``, a
`torch.Generator`, and `get_state` / `set_state` capture everything that decides future steps,
so a resumed run continues exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Order of the per-world episode sums and of the finished-episode accumulators.
_SUM_KEYS = ("return", "tracking", "effort")
_FINISHED_KEYS = ("count", "return", "length", "tracking", "effort", "out_of_bounds", "time_out")


@dataclass
class ToyEnvCfg:
    """Settings of the point-mass toy env."""

    num_envs: int = 64
    """Number of worlds."""
    max_episode_length: int = 50
    """Policy steps before a time-out."""
    policy_dt: float = 0.1
    """Seconds per policy step."""
    accel: float = 2.0
    """Acceleration at action 1, m/s^2."""
    damping: float = 0.5
    """Linear drag, 1/s."""
    bound: float = 2.0
    """|x| beyond this terminates the episode, m."""
    init_range: float = 1.0
    """Initial positions and targets are uniform in [-init_range, init_range], m."""
    tracking_std: float = 0.25
    """Width of the tracking reward, m."""
    effort_weight: float = 0.01
    """Weight of the squared action in the reward."""
    obs_noise: float = 0.01
    """Std of the Gaussian noise on the policy observation."""
    critic_group: bool = False
    """Provide a privileged 'critic' observation group."""
    seed: int = 0
    """Seed of `rng` at construction."""


class ToyEnv:
    """Batched 1-D point masses; see the module docstring for the task."""

    def __init__(self, cfg: ToyEnvCfg | None = None, device: str | torch.device = "cpu") -> None:
        self.cfg = cfg if cfg is not None else ToyEnvCfg()
        self.device = torch.device(device)
        self.num_envs = self.cfg.num_envs
        self.action_dim = 1
        self.policy_dt = self.cfg.policy_dt
        self.max_episode_length = self.cfg.max_episode_length
        self.observation_shapes: dict[str, tuple[int, ...]] = {"policy": (2,)}
        if self.cfg.critic_group:
            self.observation_shapes["critic"] = (4,)
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(self.cfg.seed)

        n = self.num_envs
        self.pos = torch.zeros(n, device=self.device)
        self.vel = torch.zeros(n, device=self.device)
        self.target = torch.zeros(n, device=self.device)
        self.episode_step = torch.zeros(n, dtype=torch.int64, device=self.device)
        self.episode_sums = torch.zeros(len(_SUM_KEYS), n, device=self.device)
        self.finished = torch.zeros(len(_FINISHED_KEYS), device=self.device)
        self.steps_taken = 0

    # Internals ------------------------------------------------------------------------------------

    def _uniform(self, half_range: float) -> torch.Tensor:
        u = torch.rand(self.num_envs, generator=self.rng, device=self.device)
        return (2.0 * u - 1.0) * half_range

    def _reset_where(self, mask: torch.Tensor) -> None:
        # Draw for every world and select by mask: no host sync, same draws whatever the mask.
        new_pos = self._uniform(self.cfg.init_range)
        new_target = self._uniform(self.cfg.init_range)
        self.pos.copy_(torch.where(mask, new_pos, self.pos))
        self.target.copy_(torch.where(mask, new_target, self.target))
        self.vel.masked_fill_(mask, 0.0)
        self.episode_step.masked_fill_(mask, 0)
        self.episode_sums.masked_fill_(mask.unsqueeze(0), 0.0)

    def _clean_obs(self) -> dict[str, torch.Tensor]:
        obs = {"policy": torch.stack([self.pos - self.target, self.vel], dim=-1)}
        if self.cfg.critic_group:
            progress = self.episode_step.float() / self.max_episode_length
            obs["critic"] = torch.stack([self.pos, self.vel, self.target, progress], dim=-1)
        return obs

    def _policy_noise(self) -> torch.Tensor:
        return self.cfg.obs_noise * torch.randn(self.num_envs, 2, generator=self.rng, device=self.device)

    # Contract -------------------------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> tuple[dict[str, torch.Tensor], dict]:
        if seed is not None:
            self.rng.manual_seed(seed)
        self._reset_where(torch.ones(self.num_envs, dtype=torch.bool, device=self.device))
        obs = self._clean_obs()
        obs["policy"] = obs["policy"] + self._policy_noise()
        return obs, {}

    def step(self, action: torch.Tensor):
        cfg = self.cfg
        a = action[:, 0].clamp(-1.0, 1.0)
        self.vel += (cfg.accel * a - cfg.damping * self.vel) * cfg.policy_dt
        self.pos += self.vel * cfg.policy_dt
        self.episode_step += 1
        self.steps_taken += 1

        tracking = torch.exp(-(((self.pos - self.target) / cfg.tracking_std) ** 2))
        effort = -cfg.effort_weight * a.square()
        reward = tracking + effort
        self.episode_sums += torch.stack([reward, tracking, effort])

        terminated = self.pos.abs() > cfg.bound
        truncated = self.episode_step >= self.max_episode_length
        done = terminated | truncated
        done_f = done.float()
        self.finished += torch.stack(
            [
                done_f.sum(),
                (self.episode_sums[0] * done_f).sum(),
                (self.episode_step.float() * done_f).sum(),
                (self.episode_sums[1] * done_f).sum(),
                (self.episode_sums[2] * done_f).sum(),
                (terminated.float() * done_f).sum(),
                ((truncated & ~terminated).float() * done_f).sum(),
            ]
        )

        # One noise draw serves both the terminal and the new observation, so rows of worlds
        # that did not finish are equal in final_obs and obs, as the contract asks.
        noise = self._policy_noise()
        terminal = self._clean_obs()
        self._reset_where(done)
        obs = self._clean_obs()
        obs["policy"] = obs["policy"] + noise
        terminal["policy"] = terminal["policy"] + noise
        final_obs = {name: torch.where(done.unsqueeze(-1), terminal[name], obs[name]) for name in obs}
        return obs, reward, terminated, truncated, {"final_obs": final_obs}

    def pop_episode_stats(self) -> dict[str, float]:
        values = self.finished.tolist()  # The one host sync.
        self.finished.zero_()
        stats = dict(zip(_FINISHED_KEYS, values, strict=True))
        count = stats["count"]
        if count == 0:
            return {}
        return {
            "Episode/return": stats["return"] / count,
            "Episode/length": stats["length"] / count,
            "Episode_Reward/tracking": stats["tracking"] / count,
            "Episode_Reward/effort": stats["effort"] / count,
            "Episode_Termination/out_of_bounds": stats["out_of_bounds"] / count,
            "Episode_Termination/time_out": stats["time_out"] / count,
            "Env/nan_resets": 0.0,
        }

    def get_state(self) -> dict:
        return {
            "pos": self.pos.clone(),
            "vel": self.vel.clone(),
            "target": self.target.clone(),
            "episode_step": self.episode_step.clone(),
            "episode_sums": self.episode_sums.clone(),
            "finished": self.finished.clone(),
            "rng": self.rng.get_state(),
        }

    def set_state(self, state: dict) -> None:
        for name in ("pos", "vel", "target", "episode_step", "episode_sums", "finished"):
            getattr(self, name).copy_(state[name])
        self.rng.set_state(state["rng"])


class ToyEnvWithoutState(ToyEnv):
    """The toy env without get_state / set_state, to test the runner's fallback on resume."""

    get_state = None  # type: ignore[assignment]
    set_state = None  # type: ignore[assignment]
