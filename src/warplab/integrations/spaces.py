"""Gymnasium spaces of a warplab env: what the Gymnasium and Stable-Baselines3 adapters declare.

- **Observations**: one ``Box(-inf, inf)`` per observation group, of the group's shape. A single
  group name gives that group's ``Box``; a sequence of names gives a ``Dict`` of them.
- **Actions**: a ``Box`` of ``[action_dim]`` float32 whose bounds are where the action stops
  changing the physics (see ``action_bounds``); ``-inf``/``inf`` where nothing limits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from gymnasium import spaces

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

__all__ = ["action_bounds", "action_space", "group_names", "observation_space"]


def group_names(env: RlEnv, obs_groups: str | Sequence[str]) -> tuple[str, ...]:
    """The observation groups ``obs_groups`` names, checked against the env's.

    Args:
      obs_groups: one group (``"policy"``) or a sequence of groups (``("policy", "critic")``).

    Raises:
      ValueError: naming the env's groups when one of ``obs_groups`` is not among them.
    """
    names = (obs_groups,) if isinstance(obs_groups, str) else tuple(obs_groups)
    if not names:
        raise ValueError(f"obs_groups is empty; name one or more of {sorted(env.observation_shapes)}")
    for name in names:
        if name not in env.observation_shapes:
            raise ValueError(
                f"obs_groups: the env has no observation group {name!r}; its groups are "
                f"{sorted(env.observation_shapes)}"
            )
    return names


# One group name gives its Box, a sequence of names a Dict: the overloads let callers keep the type.
@overload
def observation_space(env: RlEnv, obs_groups: str = "policy", dtype: type = np.float32) -> spaces.Box: ...


@overload
def observation_space(
    env: RlEnv, obs_groups: Sequence[str], dtype: type = np.float32
) -> spaces.Box | spaces.Dict: ...


def observation_space(
    env: RlEnv, obs_groups: str | Sequence[str] = "policy", dtype: type = np.float32
) -> spaces.Box | spaces.Dict:
    """The space of one world's observation.

    Args:
      obs_groups: a group name for a ``Box`` of that group, or a sequence of names for a ``Dict``.
      dtype: numpy dtype of the space (the env computes float32; float64 only widens).

    Returns:
      ``Box(-inf, inf, shape=observation_shapes[group], dtype)`` or a ``Dict`` of such boxes, keyed by
      group in the order given.
    """
    names = group_names(env, obs_groups)
    boxes = {g: spaces.Box(-np.inf, np.inf, shape=env.observation_shapes[g], dtype=dtype) for g in names}
    if isinstance(obs_groups, str):
        return boxes[obs_groups]
    members: dict[str, spaces.Space[Any]] = dict(boxes)
    return spaces.Dict(members)


def action_bounds(env: RlEnv) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension bounds of the action beyond which it changes nothing in the physics.

    Each action term owns a slice of the action vector. Its bounds are the intersection of:

    - the term's ``clip`` (applied to the raw action), where it has one;
    - for terms that write actuator controls as ``offset + scale * action`` (the joint position and
      effort actions), the actuators' ``ctrlrange`` mapped back through that map, where the actuator
      is ``ctrllimited`` (MuJoCo clamps the control to it).

    A term of another kind is bounded by its ``action_range()`` where it declares one (the
    Gymnasium-Robotics terms' [-1, 1]), else unbounded. Rewards and observations that read the raw action
    (``action_l2``, ``last_action``) still see values outside these bounds, as they would in the
    env itself.

    Returns:
      low, high: ``[action_dim]`` float32 numpy arrays; ``-inf``/``inf`` where unbounded.
    """
    manager = env.action_manager
    low = np.full(manager.action_dim, -np.inf)
    high = np.full(manager.action_dim, np.inf)
    model = env.mj_model
    for name, term in manager.terms.items():
        sl = manager.slices[name]
        # What the term declares its actions mean (``ActionTerm.actuator_targets``); None: unbounded.
        targets = term.actuator_targets()
        if targets is None:
            # A term of another kind may still say what it clamps its raw actions to.
            declared = term.action_range()
            if declared is not None:
                low[sl] = np.maximum(low[sl], declared[0])
                high[sl] = np.minimum(high[sl], declared[1])
            continue
        if targets.clip is not None:
            low[sl] = np.maximum(low[sl], targets.clip[0])
            high[sl] = np.minimum(high[sl], targets.clip[1])
        ids = targets.actuator_ids.cpu().numpy()
        scale = targets.scale.double().cpu().numpy()
        offset = targets.offset.double().cpu().numpy()
        limited = model.actuator_ctrllimited[ids].astype(bool) & (scale != 0)
        ctrl_low, ctrl_high = model.actuator_ctrlrange[ids].T
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (ctrl_low - offset) / scale
            b = (ctrl_high - offset) / scale
        term_low = np.where(limited, np.minimum(a, b), -np.inf)
        term_high = np.where(limited, np.maximum(a, b), np.inf)
        low[sl] = np.maximum(low[sl], term_low)
        high[sl] = np.minimum(high[sl], term_high)
    return low.astype(np.float32), high.astype(np.float32)


def action_space(env: RlEnv) -> spaces.Box:
    """``Box(low, high, shape=[action_dim], float32)`` with the bounds of ``action_bounds``."""
    low, high = action_bounds(env)
    return spaces.Box(low, high, dtype=np.float32)
