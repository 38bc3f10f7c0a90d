"""Push terms: random pushes of the base, and a curriculum on their strength.

``RandomPush`` (an ``interval`` event) kicks the floating base in a random horizontal direction,
either by adding a velocity to it or by an external force on one body for a short time
(``xfrc_applied``). ``PushStrengthCurriculum`` raises or lowers the push strength from how often
the pushed episodes survive; ``PushedSurvivalRate`` only reports that rate for the logs. Both are
curriculum terms: the environment logs what they return as ``Curriculum/<name>``.

All state lives in tensors (``state_tensors()``), so an exact save of the env holds it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
import warp as wp

from warplab.envs.managers.protocols import CurriculumTerm, EventTerm
from warplab.envs.mdp import _state
from warplab.envs.mdp.curricula import SuccessRateWindow
from warplab.envs.mdp.math import uniform

if TYPE_CHECKING:
    from warplab.envs.config import CurriculumTermCfg, EventTermCfg
    from warplab.envs.rl_env import RlEnv

Range = tuple[float, float]


def find_event_term(env: RlEnv, name: str) -> Any:
    """The bound event term ``name`` of ``env`` (the instance of its term class).

    Raises:
      KeyError: the env has no event of that name; the message lists those it has.
    """
    return env.event_manager.term(name)


def find_push_event(env: RlEnv, name: str) -> RandomPush:
    """The ``RandomPush`` instance of event ``name`` (the push the curriculum terms follow)."""
    push = find_event_term(env, name)
    if not isinstance(push, RandomPush):
        raise ValueError(f"event {name!r} is not a RandomPush")
    return push


class RandomPush(EventTerm):
    """Pushes the floating base in a random horizontal direction (an ``interval`` event).

    Params:
      kind: ``"velocity"`` adds the push to the base's linear velocity (m/s, world frame), as the
        field's ``push_by_setting_velocity`` does; ``"force"`` applies a horizontal force (N, world
        frame, at the centre of mass of ``body``) for ``duration_s``, through ``xfrc_applied``.
      strength: the largest push, m/s (``velocity``) or N (``force``). It is the initial value of
        ``self.strength``, which a ``PushStrengthCurriculum`` may change.
      min_ratio: each push's magnitude is drawn uniformly from ``[min_ratio, 1] * strength``
        (1: every push has exactly the current strength, for evaluation).
      body: the body pushed by a force (default: the base's body); unused for velocity pushes.
      duration_s: how long a force lasts, s, rounded to whole policy steps (at least one).

    State (tensors): ``strength []``; ``last_push [num_envs, 3]``, the last push of each world (m/s or
    N, world frame); ``last_push_step [num_envs]``, the ``step_count`` at that push
    (``NEVER``: none yet); ``force_steps_left [num_envs]``, policy steps the current force still lasts.

    A push fired at step ``C`` acts in the physics of step ``C + 1`` on. Worlds that end their
    episode in the step a push falls due are not pushed (their reset would undo it anyway).
    """

    NEVER = torch.iinfo(torch.long).min
    """``last_push_step`` of a world never pushed: before any episode start, however episode
    lengths were set."""

    def __init__(self, cfg: EventTermCfg, env: RlEnv) -> None:
        p = cfg.params
        self.kind = p.get("kind", "velocity")
        if self.kind not in ("velocity", "force"):
            raise ValueError(f"kind must be 'velocity' or 'force', got {self.kind!r}")
        strength = float(p.get("strength", 0.0))
        if not strength >= 0.0:
            raise ValueError(f"strength must be >= 0 (m/s or N), got {strength!r}")
        min_ratio = float(p.get("min_ratio", 0.5))
        if not 0.0 <= min_ratio <= 1.0:
            raise ValueError(f"min_ratio must be in [0, 1], got {min_ratio!r}")
        self.min_ratio = min_ratio
        n, dev = env.num_envs, env.device
        self._qvel_adr = _state._root(env)[1]
        body = p.get("body")
        if body is None:
            self.body_id = int(env.mj_model.jnt_bodyid[env.index.root_joint])
        else:
            (self.body_id,) = env.index.ids("body", body)[:1]
        duration_s = float(p.get("duration_s", 0.2))
        if not duration_s > 0.0:
            raise ValueError(f"duration_s must be > 0 s, got {duration_s!r}")
        self.force_steps = max(1, round(duration_s / env.policy_dt))
        """Policy steps a force push lasts."""
        # A zero-copy view of MuJoCo Warp's applied forces [num_envs, nbody, 6] (force, torque),
        # which the simulation's state (and so the env's saved state) already holds.
        self._xfrc = wp.to_torch(env.sim.data.xfrc_applied)
        self.strength = torch.tensor(strength, device=dev)
        self.last_push = torch.zeros(n, 3, device=dev)
        self.last_push_step = torch.full((n,), self.NEVER, dtype=torch.long, device=dev)
        self.force_steps_left = torch.zeros(n, dtype=torch.long, device=dev)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save (see the class docstring)."""
        return {
            "strength": self.strength,
            "last_push": self.last_push,
            "last_push_step": self.last_push_step,
            "force_steps_left": self.force_steps_left,
        }

    def pushed_this_episode(self, env: RlEnv) -> torch.Tensor:
        """``[num_envs]`` bool: the world was pushed during its current episode."""
        episode_start = env.step_count - env.episode_length_buf
        return self.last_push_step > episode_start

    def __call__(self, env: RlEnv, mask: torch.Tensor, **params: Any) -> None:
        n = env.num_envs
        xfrc = self._xfrc[:, self.body_id, 0:3]
        if self.kind == "force":
            # Forces that have lasted their time end now, before the physics of the next step.
            active = self.force_steps_left > 0
            self.force_steps_left -= active.long()
            ending = active & (self.force_steps_left == 0)
            xfrc.copy_(torch.where(ending[:, None], torch.zeros_like(xfrc), xfrc))
        due = mask & ~env.reset_buf
        # Every world draws, pushed or not, so that the draws do not depend on the mask.
        magnitude = self.strength * uniform(self.min_ratio, 1.0, (n,), env.rng, env.device)
        angle = uniform(0.0, 2.0 * math.pi, (n,), env.rng, env.device)
        push = (
            torch.stack([torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)], 1) * magnitude[:, None]
        )
        rows = due[:, None]
        if self.kind == "velocity":
            v = self._qvel_adr
            env.sim.qvel[:, v : v + 3] += push * rows
        else:
            xfrc.copy_(torch.where(rows, push, xfrc))
            self.force_steps_left.copy_(torch.where(due, self.force_steps, self.force_steps_left))
        self.last_push.copy_(torch.where(rows, push, self.last_push))
        self.last_push_step.copy_(torch.where(due, env.step_count, self.last_push_step))


def pushed_episode_outcomes(
    env: RlEnv, mask: torch.Tensor, push: RandomPush
) -> tuple[torch.Tensor, torch.Tensor]:
    """How the episodes that end now went, among the worlds pushed during them.

    Call it from a curriculum term (on reset, before the worlds' state is reset). An episode counts
    when its world is in ``mask``, was pushed, and ended this step: survived if it timed out, fell if
    it terminated. Worlds whose physics diverged are left out (a NaN is not the policy's fall), and
    so are worlds reset by hand mid-episode (``env.reset()``).

    Returns:
      survived ``[num_envs]`` bool, fell ``[num_envs]`` bool.
    """
    tm = env.termination_manager
    counted = mask & push.pushed_this_episode(env) & (env.episode_length_buf > 0) & ~env.sim.diverged
    return counted & tm.truncated, counted & tm.terminated


class PushStrengthCurriculum(CurriculumTerm):
    """Adapts the strength of a ``RandomPush`` to how often the pushed episodes survive.

    After every ``window`` pushed episodes that ended (by time-out: survived; by a termination: fell),
    the survival rate of that window decides: at least ``raise_above``, the strength grows by
    ``step``; below ``lower_below``, it shrinks by ``step``; in between it stays. The strength stays
    within ``limits``; the counts start again after each decision. One strength serves all worlds.

    Params:
      event_name: the ``RandomPush`` event whose ``strength`` this changes (default ``"push"``).
      window: pushed episodes per decision (None: ``num_envs``).
      raise_above, lower_below: survival rates, in [0, 1].
      step: change of the strength per decision, in its unit (m/s or N).
      limits: (lowest, highest) strength.
      adaptive: False keeps the strength as it is and only reports it (play mode).

    Returns (logged as ``Curriculum/<name>``): the current strength ``[]``.
    """

    def __init__(self, cfg: CurriculumTermCfg, env: RlEnv) -> None:
        p = cfg.params
        self.push = find_push_event(env, p.get("event_name", "push"))
        self.rate = SuccessRateWindow(
            p, env, lower_below=0.5, raise_above=0.8, episodes_what="pushed episodes"
        )
        lower, upper = (float(x) for x in p.get("limits", (0.0, math.inf)))
        if not 0.0 <= lower <= upper:
            raise ValueError(f"limits must satisfy 0 <= low <= high, got {(lower, upper)}")
        self.limits = (lower, upper)
        self.step = float(p.get("step", 0.1))
        self.adaptive = bool(p.get("adaptive", True))

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The counts since the last decision (the strength is saved with its event)."""
        return {"episodes": self.rate.episodes, "survived": self.rate.successes}

    def __call__(
        self,
        env: RlEnv,
        mask: torch.Tensor,
        event_name: str = "push",
        window: int | None = None,
        raise_above: float = 0.8,
        lower_below: float = 0.5,
        step: float = 0.1,
        limits: Range = (0.0, math.inf),
        adaptive: bool = True,
    ) -> torch.Tensor:
        if self.adaptive:
            survived, fell = pushed_episode_outcomes(env, mask, self.push)
            direction = self.rate.record(survived | fell, survived)
            strength = (self.push.strength + self.step * direction).clamp(self.limits[0], self.limits[1])
            self.push.strength.copy_(torch.where(direction != 0, strength, self.push.strength))
        return self.push.strength.clone()


class PushedSurvivalRate(CurriculumTerm):
    """Reports the share of pushed episodes that survived (a curriculum term that changes nothing).

    Params:
      event_name: the ``RandomPush`` event (default ``"push"``).
      window: None counts every pushed episode since the env was built (evaluation); an integer
        reports the rate of the latest complete window of that many pushed episodes (training), and
        the rate of the partial first window until one is complete.

    Returns (logged as ``Curriculum/<name>``): the rate ``[]`` in [0, 1]; NaN until a pushed episode
    has ended.
    """

    def __init__(self, cfg: CurriculumTermCfg, env: RlEnv) -> None:
        p = cfg.params
        self.push = find_push_event(env, p.get("event_name", "push"))
        window = p.get("window")
        if window is not None and int(window) < 1:
            raise ValueError(f"window must be >= 1 pushed episodes or None, got {window!r}")
        self.window = None if window is None else int(window)
        self.episodes = torch.zeros((), dtype=torch.long, device=env.device)
        self.survived = torch.zeros((), dtype=torch.long, device=env.device)
        self.last_window_rate = torch.full((), float("nan"), device=env.device)
        """Survival rate of the latest complete window (NaN before the first)."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return {
            "episodes": self.episodes,
            "survived": self.survived,
            "last_window_rate": self.last_window_rate,
        }

    def __call__(
        self, env: RlEnv, mask: torch.Tensor, event_name: str = "push", window: int | None = None
    ) -> torch.Tensor:
        survived, fell = pushed_episode_outcomes(env, mask, self.push)
        self.survived += survived.sum()
        self.episodes += (survived | fell).sum()
        running = self.survived.float() / self.episodes.float()  # NaN while no episode counted
        if self.window is None:
            return running
        full = self.episodes >= self.window
        self.last_window_rate.copy_(torch.where(full, running, self.last_window_rate))
        self.episodes.masked_fill_(full, 0)
        self.survived.masked_fill_(full, 0)
        return torch.where(torch.isnan(self.last_window_rate), running, self.last_window_rate)


def base_height_exp(env: RlEnv, target_height: float, std: float) -> torch.Tensor:
    """``[num_envs]`` ``exp(-(z - target_height)^2 / std^2)``, heights in m."""
    z = _state.root_pos_w(env)[:, 2]
    return torch.exp(-torch.square(z - target_height) / std**2)
