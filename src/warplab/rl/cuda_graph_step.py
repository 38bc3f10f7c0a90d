"""A learner's step recorded once as a CUDA graph and replayed: the pattern PPO's mini-batch step
(`warplab.rl.graphed_update`) and SAC/TD3's update (`warplab.rl.off_policy_graph`) share.

A learner's step is a few hundred small kernels; launched one by one, the host's launching is the
bottleneck. A graph launches them all at once. CUDA graphs need the caching allocator, cuBLAS's
workspaces and the optimizers' state settled before a capture, so each variant of the step (a key:
SAC records one update with the actor's step and one without) first runs ``warmup_steps`` times
eagerly on a side stream, then is recorded and replayed, and every later call replays it.

What the recorded step reads must stay at fixed addresses: its inputs are written into tensors the
caller owns (an index buffer, a replay buffer's storage) and its outputs are tensors that every
replay rewrites. A capture that fails (an operation that cannot be captured, a torch without what
is needed) warns once and the caller's eager step runs from then on.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Sequence

import torch

from warplab._capture import no_garbage_collection

WARMUP_STEPS = 3
"""Eager steps of each variant on a side stream before its capture (each is a real step of training)."""

Outputs = dict[str, torch.Tensor]


class GraphedStep:
    """Runs ``record(key)`` eagerly ``warmup_steps`` times per key, then records it as a CUDA graph and
    replays that graph on every later call with the same key.

    Args:
        device: the CUDA device the step runs on.
        record: the step, queued on the current stream: ``record(key)`` returns its outputs (0-d or
            small tensors). Inside a capture it must read only tensors that outlive the graph.
        eager: the step as run after a failed capture (``record`` with whatever it sets up for a
            capture undone, such as gradients kept instead of freed).
        setting: the config field that turns graphing on, named in the warning of a failed capture
            (``"PpoCfg.graph_update"``).
        what: the step's name in that warning (``"the mini-batch step"``).
        generators: torch generators the step draws from: registered with each graph, so a replay
            draws at the generator's current offset and advances it as the eager step would.
        warmup_steps: eager steps of each key before its capture.
    """

    def __init__(
        self,
        device: torch.device,
        record: Callable[[Hashable], Outputs],
        eager: Callable[[Hashable], Outputs],
        setting: str,
        what: str,
        generators: Sequence[torch.Generator] = (),
        warmup_steps: int = WARMUP_STEPS,
    ) -> None:
        self._record = record
        self._eager = eager
        self._setting = setting
        self._what = what
        self._generators = tuple(generators)
        self._warmup_steps = int(warmup_steps)
        self.graphs: dict[Hashable, torch.cuda.CUDAGraph] = {}
        """The recorded steps, by key."""
        self.outputs: dict[Hashable, Outputs] = {}
        """Each graph's output tensors, rewritten by every replay."""
        self.failed: str | None = None
        """Why a capture failed (the steps then run eagerly), or None."""
        self._warmups_done: dict[Hashable, int] = {}
        self._side_stream = torch.cuda.Stream(device=device)

    def __call__(self, key: Hashable = None) -> Outputs:
        """One step of variant ``key``; queues work only, no host sync.

        Returns: the step's outputs. After a replay these are the graph's own tensors, which the
        next replay of the same key overwrites: copy or consume them before that.
        """
        graph = self.graphs.get(key)
        if graph is not None:
            graph.replay()
            return self.outputs[key]
        if self.failed is not None:
            # The rest of a caller's loop whose capture failed (later loops do not come here).
            return self._eager(key)
        done = self._warmups_done.get(key, 0)
        if done < self._warmup_steps:
            self._warmups_done[key] = done + 1
            return self._warmup(key)
        return self._capture(key)

    def _warmup(self, key: Hashable) -> Outputs:
        main = torch.cuda.current_stream()
        stream = self._side_stream
        stream.wait_stream(main)
        with torch.cuda.stream(stream):
            outputs = self._record(key)
        main.wait_stream(stream)
        for value in outputs.values():
            # Made on the side stream, read on this one: the allocator must not reuse their memory
            # for side-stream work before this stream is done with them.
            value.record_stream(main)
        return outputs

    def _capture(self, key: Hashable) -> Outputs:
        graph = torch.cuda.CUDAGraph()
        try:
            if self._generators:
                register = getattr(graph, "register_generator_state", None)
                if register is None:
                    raise RuntimeError(
                        "this torch has no CUDAGraph.register_generator_state, so a graph cannot draw "
                        "from the learner's own generator"
                    )
                for generator in self._generators:
                    register(generator)
            # Collected and held off before torch's capture begins (torch collects, but lets the
            # collector run inside), as every capture in warplab: warplab._capture.
            with no_garbage_collection(), torch.cuda.graph(graph):
                outputs = self._record(key)
        except Exception as error:  # noqa: BLE001 - any capture failure falls back to the eager step.
            self.failed = f"{type(error).__name__}: {error}"
            warnings.warn(
                f"{self._setting}: {self._what} could not be captured as a CUDA graph ({self.failed}); "
                f"it runs eagerly from now on",
                stacklevel=5,
            )
            return self._eager(key)
        self.graphs[key] = graph
        self.outputs[key] = outputs
        # Recording queued nothing: replay to take this step.
        graph.replay()
        return outputs
