"""The term protocols: one base class per kind of term, with its hooks and their defaults.

The rule: **a term is a plain function, or a class that subclasses its kind's base class here.**
A function keeps no state and has no hooks. A class is built once as ``cls(cfg, env)`` and called
like the function it stands for; it declares its hooks by overriding them. Its manager calls a hook
only when the class overrides it (decided once, when the term is bound), so a hook costs nothing in
the step of a term that does not use it. ``docs/environments.md`` ("Term protocols") has a worked
example of each kind.

Hooks every term class has (``TermBase``):

- ``graph_safe`` (class attribute, default True): False keeps the env step out of a CUDA graph
  (a term whose results under capture are not yet checked against the eager step);
- ``state_tensors()``: its live per-world buffers for an exact save (default: every tensor
  attribute);
- ``on_state_set(env, mask)``: refresh what it caches of the physical state after
  ``RlEnv.set_physical_state`` (default: nothing).

Kinds add their own (``reset(env, mask)`` on reset worlds, an action's ``process``/``apply``, a
command's ``resample``/``update``) and what they declare for export (``term_export``: see
``warplab.term_export``; an action's ``actuator_targets()`` or ``binary_targets()``; a command's ``components`` and
``ranges``).

A base's ``__call__`` is declared ``(*args, **params)``: the loosest signature, so that a term class
may spell out its own keyword parameters (``def __call__(self, env, mask, window=100)``) and stay a
valid subclass for the type checker. The signature a kind's manager calls with is in each base's
docstring; the term's own parameters are checked against its config when it is bound
(``warplab.envs.managers.term``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch

from warplab.term_export import DropExport, FallExport, ObservationExport, SuccessCapExport

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class TermBase:
    """What every term class has. Subclass a kind's base below, not this one."""

    graph_safe: ClassVar[bool] = True
    """False: the env step with this term is not captured as a CUDA graph (it stays eager)."""

    def __init__(self, cfg: Any, env: RlEnv) -> None:
        """Built once per env from the term's config (``cfg.params``): resolve names, allocate buffers."""

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The term's live buffers ``{attribute: tensor}`` for saving an env exactly (views, not
        copies). Default: every tensor attribute, so a term keeping its state in tensors is saved
        without listing them; override to leave out scratch space. Keep per-world state in tensors:
        Python numbers are not saved."""
        return {name: value for name, value in vars(self).items() if isinstance(value, torch.Tensor)}

    def on_state_set(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The physical state of the worlds in ``mask`` (bool ``[num_envs]``) was written and MuJoCo's
        forward pass recomputed what derives from it: refresh, for those worlds only and in place,
        every cached quantity of the physical state (the position before the step, the last
        contacts). Episode history (timers, sums, past actions) stays. Default: nothing cached."""


class ObservationTerm(TermBase):
    """An observation term class: ``term(env, **params) -> [num_envs, ...]`` float tensor."""

    term_export: ClassVar[ObservationExport | None] = None
    """What the observation reads on a robot (``warplab.term_export.ObservationExport``), or None."""

    def __call__(self, *args: Any, **params: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(env, **params)")

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The worlds in ``mask`` were reset: clear their episode state. Default: none kept."""


class RewardTerm(TermBase):
    """A reward term class: ``term(env, **params) -> [num_envs]`` float, before its weight."""

    def __call__(self, *args: Any, **params: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(env, **params)")

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The worlds in ``mask`` were reset: clear their episode state. Default: none kept."""


class TerminationTerm(TermBase):
    """A termination term class: ``term(env, **params) -> [num_envs]`` bool (True: the episode ends)."""

    term_export: ClassVar[FallExport | DropExport | SuccessCapExport | None] = None
    """The fall, drop or success cap this termination means, as a threshold
    (``warplab.term_export``), or None."""

    def __call__(self, *args: Any, **params: Any) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(env, **params)")


class EventTerm(TermBase):
    """An event term class: ``term(env, mask, **params)`` changes the worlds in ``mask`` (bool ``[num_envs]``)."""

    def __call__(self, *args: Any, **params: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(env, mask, **params)")

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The worlds in ``mask`` were reset (after the reset events ran). Default: nothing."""


class CurriculumTerm(TermBase):
    """A curriculum term class: ``term(env, mask, **params)`` on the reset worlds ``mask``; returns a
    value to log (a level, a rate: a tensor or a number) or None."""

    def __call__(self, *args: Any, **params: Any) -> torch.Tensor | float | None:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(env, mask, **params)")


@dataclass(frozen=True)
class ActuatorTargets:
    """What an action term's slice of the action vector means for a robot:
    ``ctrl[actuator_ids] = offset + scale * clip(action)``.

    Attributes:
      actuator_ids: ``[action_dim]`` long, the MuJoCo actuators written, in action order.
      scale: ``[action_dim]`` float.
      offset: ``[action_dim]`` float (rad or m for position targets: the default pose).
      clip: ``(low, high)`` on the raw action, or None.
      control: ``"position"`` (targets of position servos), ``"effort"`` (torques or forces through
        motors), or None (another kind of control).
    """

    actuator_ids: torch.Tensor
    scale: torch.Tensor
    offset: torch.Tensor
    clip: Sequence[float] | None
    control: Literal["position", "effort"] | None


@dataclass(frozen=True)
class BinaryTargets:
    """What a two-state action term's slice means for a robot (a gripper): one action value per
    actuator, ``ctrl[actuator_ids] = close if action < threshold else open``; the magnitude is ignored
    and no clip applies.

    Attributes:
      actuator_ids: ``[action_dim]`` long, the MuJoCo actuators written, in action order.
      close: ``[action_dim]`` float, each actuator's ctrl below the threshold (rad or m for a servo).
      open: ``[action_dim]`` float, its ctrl at or above the threshold.
      threshold: the action value that separates the two, in the action's units.
      control: ``"position"`` (targets of position servos), ``"effort"`` or None, as ``ActuatorTargets``.
    """

    actuator_ids: torch.Tensor
    close: torch.Tensor
    open: torch.Tensor
    threshold: float
    control: Literal["position", "effort"] | None


class ActionTerm(TermBase):
    """An action term owns ``action_dim`` entries of the action vector and writes controls.

    Required: ``action_dim`` (int, set in ``__init__``), ``process(action)``, ``apply()``.
    """

    action_dim: int
    per_substep: ClassVar[bool] = False
    """True: ``apply`` writes different controls at each physics substep of a policy step, so the
    env calls it before every substep instead of once (the substeps then run one by one)."""

    def process(self, action: torch.Tensor) -> None:
        """Receives the term's slice ``[num_envs, action_dim]`` of a validated action, once per policy step."""
        raise NotImplementedError(f"{type(self).__name__} must define process(action)")

    def apply(self) -> None:
        """Writes controls (``env.sim.ctrl``) before the physics substeps (before each with ``per_substep``)."""
        raise NotImplementedError(f"{type(self).__name__} must define apply()")

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The worlds in ``mask`` were reset: clear their episode state (a delay line). Default: none kept."""

    def actuator_targets(self) -> ActuatorTargets | None:
        """What the actions mean for the robot's actuators, for ONNX export and the action space's
        bounds; None: the term does not map actions to actuators that way (export then asks
        ``binary_targets``, and refuses a term that declares neither)."""
        return None

    def binary_targets(self) -> BinaryTargets | None:
        """What the actions mean for the robot's actuators when each is one of two controls chosen
        by the action's side of a threshold (a gripper), for ONNX export; None: not such a term.
        A term declares at most one of ``actuator_targets`` and ``binary_targets``."""
        return None

    def action_range(self) -> tuple[float, float] | None:
        """``(low, high)``: the term clamps its raw actions to this range before they act, so values
        beyond it change nothing; for the action space's bounds of a term that declares no
        ``actuator_targets`` (whose own ``clip`` and control ranges give the bounds otherwise).
        None (the default): the term states no such range."""
        return None


class CommandTerm(TermBase):
    """A command generator: ``command [num_envs, dim]`` (set in ``__init__``), ``resample(mask)``.

    Its manager draws each world's resampling timer; ``resample`` draws new commands for the masked
    worlds in place; ``update(dt)`` runs every policy step after the timers (a heading command that
    turns its target into a yaw rate, say).
    """

    command: torch.Tensor
    components: ClassVar[tuple[str, ...] | None] = None
    """Names of the command's columns for export (``("lin_vel_x", "lin_vel_y", "ang_vel_z")``);
    None: ``<name>_0``, ``<name>_1``..."""
    ranges: Sequence[tuple[float, float]] | None = None
    """``(low, high)`` each column is drawn from, for export; None: not uniform ranges."""

    def export_params(self) -> dict[str, Any] | None:
        """What a robot or a sim-to-sim check needs to run this generator itself (JSON-able; a goal's
        tolerance and how goals are drawn), written by export as ``commands[name]["params"]``.
        Default: None."""
        return None

    def resample(self, mask: torch.Tensor) -> None:
        """Draws new commands for the worlds in ``mask`` (bool ``[num_envs]``), in place."""
        raise NotImplementedError(f"{type(self).__name__} must define resample(mask)")

    def update(self, dt: float) -> None:
        """Runs once per policy step (``dt`` s) after the timers. Default: nothing."""

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The worlds in ``mask`` start an episode, after ``resample(mask)`` drew their commands:
        clear their episode state (a success count). Default: none kept."""

    def pop_log(self) -> dict[str, float]:
        """Values to log since the last call (``Command/<name>/<key>`` in ``env.pop_episode_stats()``,
        once per iteration, never in the step, so it may read the device). Default: none."""
        return {}


TERM_BASES: dict[str, type[TermBase]] = {
    "actions": ActionTerm,
    "observations": ObservationTerm,
    "rewards": RewardTerm,
    "terminations": TerminationTerm,
    "commands": CommandTerm,
    "events": EventTerm,
    "curriculum": CurriculumTerm,
}
"""The base class a term class of each config section must subclass."""


def overrides(term: Any, base: type, hook: str) -> bool:
    """Whether the bound term's class overrides ``base.<hook>`` (False for a plain function).
    Read once when a term is bound: a manager calls only the hooks a term really has."""
    if not isinstance(term, base):
        return False
    # The class that defines the hook first in the MRO: a protocol class's default is no override
    # (a class may subclass several kinds' bases, each with its own default).
    for klass in type(term).__mro__:
        if hook in vars(klass):
            return klass not in _PROTOCOLS
    return False


_PROTOCOLS = frozenset({TermBase, *TERM_BASES.values()})
