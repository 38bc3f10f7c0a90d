"""The whole env step as one CUDA graph.

An env step launches a few hundred small kernels (action terms, the divergence guard, every reward,
termination, command and observation term, the masked resets) around MuJoCo Warp's substeps. With
thousands of worlds each of them runs in microseconds on the GPU, so the host's time to launch them,
not the GPU, sets the step time. Capturing the step once and replaying it makes the host's share a
single graph launch.

What capture requires of the code it records (``RlEnv._step_worlds`` and every term it calls):

- no host sync and no host decision taken from device values (no ``.item()``, no boolean-mask
  indexing): every branch over worlds is a mask;
- state updated in place (``copy_``, ``+=``, ``masked_fill_``): a term that rebinds an attribute
  to a new tensor would keep reading the tensor of the capture. ``StepGraph`` checks this: every
  buffer the env saves (``env_state.live_tensors``) must keep its address through the capture;
- random draws from the env's generator (``env.rng``), registered with the graph so each replay
  draws new numbers;
- Python values frozen at capture: terms read the step counter from ``env.step_count`` (on the
  device), not ``env.common_step_counter``.

Captured after ``RlEnvCfg.graph_warmup_steps`` eager steps (lazy buffers and kernel loads happen in
those), and again whenever the simulation's graphs go stale (a model field made per-world after the
capture replaces its array). If capture fails, the env warns once and stays eager.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import warp as wp

from warplab._capture import no_garbage_collection
from warplab.envs.env_state import live_tensors

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class StepGraphError(RuntimeError):
    """The env step cannot be captured as it is written (a term replaced a state buffer)."""


def graph_unsafe_terms(env: RlEnv) -> list[str]:
    """Config paths of the terms whose class declares ``graph_safe = False`` (``TermBase.graph_safe``):
    their results under capture are not yet verified against the eager step (see the class that says so)."""
    managers = (
        env.reward_manager,
        env.termination_manager,
        env.curriculum_manager,
        env.observation_manager,
        env.event_manager,
        env.command_manager,
        env.action_manager,
    )
    return [path for manager in managers for path in manager.graph_unsafe_terms()]


def graph_step_enabled(env: RlEnv) -> bool:
    """Whether ``env`` captures its step: CUDA, ``cfg.graph_step``, not ``cfg.debug`` (which syncs),
    and no term that declares itself unsafe to capture."""
    return (
        env.device.type == "cuda" and env.cfg.graph_step and not env.cfg.debug and not graph_unsafe_terms(env)
    )


class StepGraph:
    """Runs ``core(action)`` eagerly for the warm-up steps, then captures it and replays the graph.

    Args:
      env: the env whose step is captured.
      core: the step itself: ``core(action [num_envs, action_dim]) -> outputs`` (any nesting of
        tuples and dicts of tensors). Its outputs after a replay live in the graph's memory and are
        overwritten by the next replay: callers copy what they keep.
    """

    def __init__(self, env: RlEnv, core: Callable[[torch.Tensor], Any]):
        self._env = env
        self._core = core
        self.action = torch.zeros(env.num_envs, env.action_dim, device=env.device)
        """The graph's input ``[num_envs, action_dim]``: each step's action is copied here."""
        self.graph: torch.cuda.CUDAGraph | None = None
        self.outputs: Any = None
        self._generation = -1
        self._eager_steps = 0
        self.failed: str | None = None
        """Why capture failed (the env then stays eager), or None."""

    @property
    def captured(self) -> bool:
        return self.graph is not None and self._generation == self._env.sim.graph_generation

    def step(self, action: torch.Tensor) -> Any:
        """One env step: a replay once captured, else the eager core (capturing after the warm-up)."""
        if self.captured:
            # Detached (no copy, no sync): copy_ from an action that requires grad would make the
            # graph's input part of autograd, each step's CopyBackwards holding the one before, and
            # with it every earlier step's policy graph, for as long as the env lives.
            self.action.copy_(action.detach())
            assert self.graph is not None  # captured: the property checked it (mypy cannot see through it)
            self.graph.replay()
            return self.outputs
        if self.graph is not None:  # stale: a model array was replaced since the capture
            self.graph, self.outputs, self._eager_steps = None, None, 0
        outputs = self._core(action)
        self._eager_steps += 1
        if self.failed is None and self._eager_steps >= self._env.cfg.graph_warmup_steps:
            self._capture()
        return outputs

    def _capture(self) -> None:
        env = self._env
        addresses = {name: t.data_ptr() for name, t in live_tensors(env).items()}
        rng_state = env.rng.get_state()
        graph = torch.cuda.CUDAGraph()
        graph.register_generator_state(env.rng)
        stream = torch.cuda.current_stream(env.device)
        wp_stream = wp.get_stream(env.sim.wp_device)
        try:
            with (
                # Before the capture begins: a collection inside it could free a CUDA graph there.
                no_garbage_collection(),
                env.sim.outer_capture(),
                torch.cuda.graph(graph, stream=stream, capture_error_mode="thread_local"),
            ):
                wp.capture_begin(stream=wp_stream, force_module_load=False, external=True)
                try:
                    outputs = self._core(self.action)
                finally:
                    wp.capture_end(stream=wp_stream)
        except Exception as error:  # noqa: BLE001 - any capture failure falls back to eager steps
            self.failed = f"{type(error).__name__}: {error}"
            env.rng.set_state(rng_state)
            warnings.warn(
                f"warplab: the env step could not be captured as a CUDA graph ({self.failed}); "
                "stepping eagerly (slower). Set graph_step=False to silence this.",
                stacklevel=3,
            )
            return
        # Capture records kernels without running them: the env's state is where it was, except
        # the generator, whose offset the capture advanced.
        env.rng.set_state(rng_state)
        moved = sorted(name for name, t in live_tensors(env).items() if addresses.get(name) != t.data_ptr())
        if moved:
            raise StepGraphError(
                "the env step replaced state buffers instead of writing into them, so a CUDA graph "
                f"of it would keep reading stale copies: {moved[:8]}. Update term state in place "
                "(copy_, +=, masked_fill_), or set graph_step=False."
            )
        self.graph, self.outputs = graph, outputs
        self._generation = env.sim.graph_generation
