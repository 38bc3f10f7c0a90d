"""The torch work of one env step: the stretches between MuJoCo Warp's calls.

``RlEnv._step_worlds`` is the step, top to bottom; between its Warp calls (the physics substeps,
the state reset of finished worlds, the forward pass after it) it calls the functions here, each a
stretch of the managers' torch work:

========================  ===================================================================
``act``                   the action terms: the validated action stored, controls written
``process_actions``,      the same in two halves, for action terms that write controls at
``apply_actions``         every physics substep (``ActionTerm.per_substep``)
``evaluate``              divergence guard, counters, terminations, rewards, commands,
                          interval events, the observations before the reset, statistics
``start_reset``           the curricula of the worlds about to reset
``reset_events``          the reset events (state and model-field draws of those worlds)
``finish_reset``          the managers' resets, then the observations of the reset worlds
                          merged with the others'
========================  ===================================================================

Each is a plain function of the env. ``StepPhases`` holds them bound to one env, as they are or
each compiled into a few fused kernels (``warplab.envs.compiled``, ``RlEnvCfg.compile_managers``):
the step reads the same either way. The reset sequence (``start_reset`` .. ``finish_reset``) is
the same for a step's finished worlds and for ``RlEnv.reset``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import torch

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

Observations = dict[str, torch.Tensor]
"""``{group: [num_envs, dim]}``."""


class Evaluation(NamedTuple):
    """What ``evaluate`` found after the physics of a step (every tensor ``[num_envs]`` but ``obs``)."""

    terminated: torch.Tensor
    """bool: the episode ended in a terminal state (a fall, a divergence)."""
    truncated: torch.Tensor
    """bool: the episode ran out of time (or a curriculum ended it), not a terminal state."""
    reward: torch.Tensor
    """float32: the step's reward; 0 where the world diverged or a term gave NaN."""
    done: torch.Tensor
    """bool: ``terminated | truncated``, the worlds to reset."""
    obs: Observations
    """The observations before the reset: terminal observations of the finished worlds, NaN and
    inf replaced by 0 (a diverged world's state may hold them)."""


def act(env: RlEnv, action: torch.Tensor) -> None:
    """The action terms take ``action`` ``[num_envs, action_dim]`` and write the controls."""
    env.action_manager.process(action)
    env.action_manager.apply()


def process_actions(env: RlEnv, action: torch.Tensor) -> None:
    """The action terms take ``action`` ``[num_envs, action_dim]`` (no control written yet)."""
    env.action_manager.process(action)


def apply_actions(env: RlEnv) -> None:
    """The action terms write the controls of one physics substep."""
    env.action_manager.apply()


def evaluate(env: RlEnv) -> Evaluation:
    """After the physics: divergence guard, counters, terminations, rewards (NaN-free and 0 for
    diverged worlds: ``RewardManager.compute``), commands and interval events advanced by one
    policy step, the observations before the reset, episode statistics."""
    env.sim.flag_diverged()
    env.episode_length_buf += 1
    env.step_count += 1
    terminated, truncated = env.termination_manager.compute()
    reward = env.reward_manager.compute()
    done = terminated | truncated
    env.reset_buf.copy_(done)
    env.command_manager.step(env.policy_dt)
    env.event_manager.step_interval(env.policy_dt)
    obs = {}
    # A loop, not a dict comprehension: TorchDynamo (torch 2.13, Python 3.11) breaks the compiled
    # graph at the comprehension's dict iterator.
    for group, value in env.observation_manager.compute().items():
        obs[group] = torch.nan_to_num(value, nan=0.0, posinf=0.0, neginf=0.0)
    env.stats.record(reward, done)
    return Evaluation(terminated, truncated, reward, done, obs)


def start_reset(env: RlEnv, mask: torch.Tensor) -> None:
    """The curricula of the worlds in ``mask`` (bool ``[num_envs]``) advance, before their state is reset."""
    env.curriculum_manager.apply(mask)


def reset_events(env: RlEnv, mask: torch.Tensor) -> None:
    """The reset events of the worlds in ``mask``: their new state and model-field draws."""
    env.event_manager.apply("reset", mask)


def reset_managers(env: RlEnv, mask: torch.Tensor) -> None:
    """Every manager forgets the episode of the worlds in ``mask`` (last actions, reward sums,
    observation histories, commands, event timers, episode lengths)."""
    env.action_manager.reset(mask)
    env.reward_manager.reset(mask)
    env.observation_manager.reset(mask)
    env.command_manager.reset(mask)
    env.event_manager.reset(mask)
    env.episode_length_buf.mul_(~mask)


def finish_reset(env: RlEnv, mask: torch.Tensor, obs_before: Observations | None) -> Observations:
    """The managers' resets of the worlds in ``mask``, then their first observations.

    Returns:
      With ``obs_before`` (a step): the observations of every world, those of the reset worlds
      from their new state and the others' ``obs_before``. Without (``RlEnv.reset``): the
      observations taken after the reset.
    """
    reset_managers(env, mask)
    after = env.observation_manager.compute(after_reset=True)
    if obs_before is None:
        return after
    rows = mask[:, None]
    obs = {}
    for group, before in obs_before.items():  # a loop: see ``evaluate``
        obs[group] = torch.where(rows, after[group], before)
    return obs


@dataclasses.dataclass(frozen=True)
class StepPhases:
    """The functions above bound to one env: plain (``bind``) or compiled (``warplab.envs.compiled``)."""

    act: Callable[[torch.Tensor], None]
    process_actions: Callable[[torch.Tensor], None]
    apply_actions: Callable[[], None]
    evaluate: Callable[[], Evaluation]
    start_reset: Callable[[torch.Tensor], None]
    reset_events: Callable[[torch.Tensor], None]
    finish_reset: Callable[[torch.Tensor, Observations | None], Observations]

    @classmethod
    def bind(cls, env: RlEnv) -> StepPhases:
        """The plain phases of ``env``."""
        functions: dict[str, Callable[..., Any]] = {
            "act": act,
            "process_actions": process_actions,
            "apply_actions": apply_actions,
            "evaluate": evaluate,
            "start_reset": start_reset,
            "reset_events": reset_events,
            "finish_reset": finish_reset,
        }
        return cls(**{name: functools.partial(function, env) for name, function in functions.items()})
