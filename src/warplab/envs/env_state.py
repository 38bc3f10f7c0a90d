"""Saving and restoring an ``RlEnv`` exactly: everything that decides its future steps.

``get_state(env)`` copies the env's state into a dict of CPU tensors and plain values that loads
with ``torch.load(..., weights_only=True)``; ``set_state(env, state)`` copies such a dict back into
the env's buffers on its device, without resetting or stepping. Stepping the restored env with the
same actions then gives bit-for-bit the observations, rewards and flags of the env it was saved
from (on the same kind of device; CUDA's atomics may reorder float sums).

What is saved is collected, not listed by hand. Each part of the env that keeps state between
steps has ``state_tensors() -> {name: tensor}``, its *live* buffers (views, not copies), and
``live_tensors`` names the parts:

- ``sim``: MuJoCo's state (time, qpos, qvel, act, ctrl, applied forces, solver warm start...), the
  model fields made per-world by randomization, the divergence flags (``Simulation.state_tensors``);
- ``env``: each world's episode length and the reset flags;
- ``actions``, ``rewards``, ``terminations``, ``commands``, ``events``, ``curriculum``,
  ``observations``: each manager's buffers and those of its term classes (``term_state_tensors``:
  a term's own ``state_tensors()``, else every tensor attribute of the instance, so a new stateful
  term is saved without being added to a list);
- ``stats``: the accumulators of finished episodes.

The same dict serves the save and the restore, so the two cannot drift apart. Besides the tensors,
the state holds the ``common_step_counter``, the latest observations and the env's generator.
Derived physics (body poses, contacts, sensors) is not saved: ``set_state`` recomputes it with
``sim.forward()`` on the restored state, and the next step's physics recomputes it again before
anything that decides the step's outputs reads it (``warplab.envs.reset_forward``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from warplab.envs.managers.term import prefixed

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

FORMAT_VERSION = 1
"""Bumped when the layout of a saved env state changes in a way older code cannot read."""


class EnvStateError(ValueError):
    """A saved env state does not fit the env it is loaded into; the message says what differs."""


def live_tensors(env: RlEnv) -> dict[str, torch.Tensor]:
    """Every live buffer that decides the env's future, ``{"<part>.<name>": tensor}`` (no copies)."""
    parts = {
        "sim": env.sim.state_tensors(),
        "env": {"episode_length_buf": env.episode_length_buf, "reset_buf": env.reset_buf},
        "actions": env.action_manager.state_tensors(),
        "rewards": env.reward_manager.state_tensors(),
        "terminations": env.termination_manager.state_tensors(),
        "commands": env.command_manager.state_tensors(),
        "events": env.event_manager.state_tensors(),
        "curriculum": env.curriculum_manager.state_tensors(),
        "observations": env.observation_manager.state_tensors(),
        "stats": env.stats.state_tensors(),
    }
    out: dict[str, torch.Tensor] = {}
    for part, tensors in parts.items():
        out.update(prefixed(part, tensors))
    return out


def _qualname(fn: Any) -> str:
    # Stable across processes (a repr could hold a memory address).
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def env_layout(env: RlEnv) -> dict[str, Any]:
    """What a saved state must share with the env it is loaded into, as plain values."""
    m = env.mj_model
    return {
        "num_envs": int(env.num_envs),
        "scene": _qualname(env.cfg.scene),
        "nq": int(m.nq),
        "nv": int(m.nv),
        "nu": int(m.nu),
        "nbody": int(m.nbody),
        "action_dim": int(env.action_dim),
        "observation_shapes": {g: list(s) for g, s in env.observation_shapes.items()},
        "reward_terms": list(env.reward_manager.names),
        "termination_terms": list(env.termination_manager.names),
    }


def get_state(env: RlEnv) -> dict[str, Any]:
    """A copy of everything that decides the env's future steps, on the CPU.

    Returns:
      ``format_version``; ``layout`` (``env_layout``); ``tensors`` (``live_tensors``, copied);
      ``model_fields`` (the names made per-world); ``common_step_counter``; ``obs``
      ``{group: [num_envs, dim]}``, the latest observations; ``rng``, the generator's state.
    """

    def copy(t: torch.Tensor) -> torch.Tensor:
        return t.detach().to("cpu", copy=True)

    return {
        "format_version": FORMAT_VERSION,
        "layout": env_layout(env),
        "tensors": {name: copy(t) for name, t in live_tensors(env).items()},
        "model_fields": list(env.sim.fields.names),
        "common_step_counter": int(env.common_step_counter),
        "obs": {g: copy(t) for g, t in env.observations.items()},
        "rng": env.rng.get_state(),
    }


def set_state(env: RlEnv, state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Restores a state from ``get_state`` (tensors on any device): copies, places the geoms welded
    to the world (``sim.update_static_poses()``), then ``sim.forward()``.

    Everything is checked before anything is written, so a state that does not fit leaves the env
    as it was.

    Returns:
      the saved observations ``{group: [num_envs, dim]}``, on the env's device (the env keeps them
      as its latest).

    Raises:
      EnvStateError: the state is not an env state, or was saved from an env with another number
        of worlds, another task, or other terms; the message names what differs.
    """
    _check_header(env, state)
    # Fields a randomization made per-world after this env was built (an interval event that has
    # not fired here yet) must be per-world here too before their views can receive the values.
    for name in state["model_fields"]:
        try:
            env.sim.model_field(name)
        except KeyError as error:
            raise EnvStateError(
                f"env state has the per-world model field {name!r}, which this env cannot make: {error}"
            ) from error
    live = live_tensors(env)
    saved = state["tensors"]
    _check_tensors(live, saved)
    with torch.no_grad():
        for name, target in live.items():
            target.copy_(saved[name])
    env.common_step_counter = int(state["common_step_counter"])
    env.step_count.fill_(env.common_step_counter)
    env.rng.set_state(state["rng"].cpu())
    # The poses of geoms welded to the world follow from the restored model fields, not the forward.
    env.sim.update_static_poses()
    env.sim.forward()
    return {g: t.to(env.device, copy=True) for g, t in state["obs"].items()}


def _check_header(env: RlEnv, state: Any) -> None:
    needed = ("format_version", "layout", "tensors", "model_fields", "common_step_counter", "obs", "rng")
    if not isinstance(state, dict) or any(k not in state for k in needed):
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise EnvStateError(f"not an RlEnv state: expected the keys {list(needed)}, got {keys}")
    if state["format_version"] != FORMAT_VERSION:
        raise EnvStateError(
            f"env state has format_version {state['format_version']!r}; this warplab reads {FORMAT_VERSION}"
        )
    saved, here = state["layout"], env_layout(env)
    if saved["num_envs"] != here["num_envs"]:
        raise EnvStateError(
            f"env state was saved with num_envs={saved['num_envs']}, this env has num_envs={here['num_envs']}"
        )
    differs = [
        f"{key}: {saved.get(key)!r} in the state, {value!r} here"
        for key, value in here.items()
        if saved.get(key) != value
    ]
    if differs:
        raise EnvStateError("env state was saved from another environment (task): " + "; ".join(differs))


def _check_tensors(live: dict[str, torch.Tensor], saved: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(live) - set(saved))
    extra = sorted(set(saved) - set(live))
    if missing or extra:
        parts = []
        if extra:
            parts.append(f"the state has buffers this env lacks: {extra}")
        if missing:
            parts.append(f"this env has buffers the state lacks: {missing}")
        raise EnvStateError(
            "env state does not fit this env's terms (another task, or a changed config): " + "; ".join(parts)
        )
    for name, target in live.items():
        value = saved[name]
        if tuple(value.shape) != tuple(target.shape) or value.dtype != target.dtype:
            raise EnvStateError(
                f"env state buffer {name} is {value.dtype} {list(value.shape)} in the state but "
                f"{target.dtype} {list(target.shape)} in this env"
            )
