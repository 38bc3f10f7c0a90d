"""The PPO mini-batch step recorded as one CUDA graph (``PpoCfg.graph_update``).

At 4,096 worlds a mini-batch step of the humanoid tasks is a few hundred small kernels (the gather,
two MLPs forward and backward, the losses, gradient clipping, Adam): on an H100 the update took
0.12 s for 20 mini-batches (benchmarks/RESULTS.md, fourth session), several times the arithmetic,
because the host spends its time launching. A graph launches them all at once.

How: the first ``WARMUP_STEPS`` mini-batches run eagerly on a side stream (CUDA graphs need the
allocator, cuBLAS and the optimizer's state settled before capture); the next one is recorded and
then replayed, and every later one replays it. The recorded step reads its samples through one
index buffer that each mini-batch overwrites, gathers from the rollout storage (allocated once, so
its addresses never change), and adds its statistics to fixed sum buffers. The arithmetic is
`PPO.mini_batch_step`'s: the same kernels in the same order.

What would make a replay wrong is anything that replaces a tensor the graph read: the policy's
parameters and gradients (kept: gradients are zeroed in place), Adam's state (``PPO.load_optimizer_state``
drops the graph), the storage (a new storage gets a new graph).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import torch

from warplab._capture import no_garbage_collection

if TYPE_CHECKING:
    from warplab.rl.ppo import PPO
    from warplab.rl.storage import RolloutStorage

WARMUP_STEPS = 3
"""Eager mini-batch steps on a side stream before the capture (each is a real step of training)."""


class MiniBatchStepGraph:
    """`PPO.mini_batch_step` on ``storage``'s samples, replayed from a CUDA graph.

    Args:
        ppo: the PPO whose step this records (its policy, optimizer and rate tensors).
        storage: the rollout storage it gathers from; it must stay the same object.
        mini_batch_size: B, samples per mini-batch (every mini-batch must have exactly B).
    """

    def __init__(self, ppo: PPO, storage: RolloutStorage, mini_batch_size: int):
        self.ppo = ppo
        self.storage = storage
        device = storage.device
        self.index = torch.zeros(mini_batch_size, dtype=torch.long, device=device)
        """[B] the current mini-batch's sample indices: the graph's input."""
        from warplab.rl.ppo import STAT_KEYS

        self.sums = {key: torch.zeros((), device=device) for key in STAT_KEYS}
        """The graph's statistics, added to the caller's sums after each step."""
        self.graph: torch.cuda.CUDAGraph | None = None
        self.failed: str | None = None
        """Why the capture failed (the caller then steps eagerly), or None."""
        self._warmups_left = WARMUP_STEPS
        self._side_stream = torch.cuda.Stream(device=device)

    def _record(self) -> None:
        self.ppo.mini_batch_step(self.storage.gather(self.index), self.sums, set_grads_to_none=False)

    def step(self, index: torch.Tensor, sums: dict[str, torch.Tensor]) -> None:
        """One mini-batch step on the samples at ``index`` ([B] long on the device); adds its
        statistics to ``sums``. Queues work only: no host sync."""
        if index.shape != self.index.shape:
            raise ValueError(
                f"a graphed mini-batch needs {self.index.shape[0]} samples, got {index.shape[0]}"
            )
        self.index.copy_(index)
        for value in self.sums.values():
            value.zero_()
        if self.graph is not None:
            self.graph.replay()
        elif self.failed is not None:
            # The rest of an update whose capture failed (later updates do not come here).
            self.ppo.mini_batch_step(self.storage.gather(self.index), self.sums)
        elif self._warmups_left > 0:
            self._warmups_left -= 1
            stream = self._side_stream
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                self._record()
            torch.cuda.current_stream().wait_stream(stream)
        else:
            self._capture()
        for key, value in self.sums.items():
            sums[key] += value

    def _capture(self) -> None:
        graph = torch.cuda.CUDAGraph()
        try:
            # Collected and held off before torch's capture begins (torch collects, but lets the
            # collector run inside), as every capture in warplab: warplab._capture.
            with no_garbage_collection(), torch.cuda.graph(graph):
                self._record()
        except Exception as error:  # noqa: BLE001 - any capture failure falls back to the eager step.
            self.failed = f"{type(error).__name__}: {error}"
            warnings.warn(
                f"PpoCfg.graph_update: the mini-batch step could not be captured as a CUDA graph "
                f"({self.failed}); the update runs eagerly from now on",
                stacklevel=4,
            )
            self.ppo.mini_batch_step(self.storage.gather(self.index), self.sums)
            return
        self.graph = graph
        # Recording queued nothing: replay to take this mini-batch's step.
        graph.replay()
