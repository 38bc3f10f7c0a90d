"""The PPO mini-batch step recorded as one CUDA graph (``PpoCfg.graph_update``).

At 4,096 worlds a mini-batch step of the humanoid tasks is a few hundred small kernels (the gather,
two MLPs forward and backward, the losses, gradient clipping, Adam): on an H100 the update took
0.12 s for 20 mini-batches (benchmarks/RESULTS.md, fourth session), several times the arithmetic,
because the host spends its time launching. A graph launches them all at once.

How (`warplab.rl.cuda_graph_step`): the first mini-batches run eagerly on a side stream, the next
one is recorded and replayed, and every later one replays it. The recorded step reads its samples
through one index buffer that each mini-batch overwrites, gathers from the rollout storage (allocated
once, so its addresses never change), and adds its statistics to fixed sum buffers. The arithmetic is
`PPO.mini_batch_step`'s: the same kernels in the same order.

What would make a replay wrong is anything that replaces a tensor the graph read: the policy's
parameters and gradients (kept: gradients are zeroed in place), Adam's state (``PPO.load_optimizer_state``
drops the graph), the storage (a new storage gets a new graph).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.rl.cuda_graph_step import GraphedStep

if TYPE_CHECKING:
    from warplab.rl.ppo import PPO
    from warplab.rl.storage import RolloutStorage


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

        def record(_key: object) -> dict[str, torch.Tensor]:
            # Gradients zeroed in place, never freed: the graph holds their addresses.
            ppo.mini_batch_step(storage.gather(self.index), self.sums, set_grads_to_none=False)
            return self.sums

        def eager(_key: object) -> dict[str, torch.Tensor]:
            ppo.mini_batch_step(storage.gather(self.index), self.sums)
            return self.sums

        self._step = GraphedStep(device, record, eager, "PpoCfg.graph_update", "the mini-batch step")

    @property
    def failed(self) -> str | None:
        """Why the capture failed (the caller then steps eagerly), or None."""
        return self._step.failed

    @property
    def graph(self) -> torch.cuda.CUDAGraph | None:
        """The recorded mini-batch step, or None before its capture (or after a failed one)."""
        return self._step.graphs.get(None)

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
        self._step()
        for key, value in self.sums.items():
            sums[key] += value
