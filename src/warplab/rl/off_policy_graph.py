"""Replay sampling and the SAC/TD3 update recorded as CUDA graphs (``SacCfg.graph_update``).

An off-policy update is a few hundred small kernels (the sample's gathers, the n-step window, the
actor and the critic ensemble forward and backward, the C51 projection, three Adam steps, the
Polyak average) and there are several per env step: launched one by one, the host's launching is
the bottleneck, as it was for PPO's mini-batches (see `warplab.rl.graphed_update`). Two graphs are
recorded, one update with the actor's step and one without (``policy_delay``), and replayed.

How (`warplab.rl.cuda_graph_step`): for each of the two, the first updates run eagerly on a side
stream, the next one is recorded and replayed, and every later one replays it. Everything a replay
reads lives at a fixed address: the replay buffer's storage and its write position and fill level
(device tensors, so a replay samples from what has been added since the capture), the parameters,
their gradients (zeroed in place, never freed), Adam's state, log(alpha) and the normalizers'
statistics. The random draws (the sample's indices, the policy's noise) come from `SAC.generator`,
registered with both graphs: each replay draws fresh numbers, the same ones the eager update would
have drawn.

What would make a replay wrong is anything that replaces a tensor the graph read: new optimizer
state (`SAC.load_optimizer_state` drops the graphs) or another replay buffer (a new buffer gets
new graphs). Loading weights, normalizers, log(alpha), the buffer's content or the generator's
state copies into the existing tensors and keeps the graphs valid.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

import torch

from warplab.rl.cuda_graph_step import GraphedStep

if TYPE_CHECKING:
    from warplab.rl.replay import ReplayBuffer
    from warplab.rl.sac import SAC


class OffPolicyUpdateGraph:
    """`SAC.update` on a fresh sample of ``replay``, replayed from one of two CUDA graphs.

    Args:
        sac: the agent whose update this records (its networks, optimizers and generator).
        replay: the buffer it samples from; it must stay the same object.
        batch_size: B, transitions per update.
    """

    def __init__(self, sac: SAC, replay: ReplayBuffer, batch_size: int) -> None:
        self.sac = sac
        self.replay = replay
        self.batch_size = int(batch_size)

        def record(update_actor: object) -> dict[str, torch.Tensor]:
            batch = replay.sample(self.batch_size, sac.generator)
            # Gradients zeroed in place, never freed: the graph holds their addresses.
            return sac.update(batch, bool(update_actor), set_grads_to_none=False)

        def eager(update_actor: object) -> dict[str, torch.Tensor]:
            return sac.update(replay.sample(self.batch_size, sac.generator), bool(update_actor))

        self._step = GraphedStep(
            replay.device, record, eager, "SacCfg.graph_update", "the update", generators=(sac.generator,)
        )

    @property
    def failed(self) -> str | None:
        """Why a capture failed (the updates then run eagerly), or None."""
        return self._step.failed

    @property
    def graphs(self) -> dict[Hashable, torch.cuda.CUDAGraph]:
        """The recorded updates, keyed by whether they take the actor's step."""
        return self._step.graphs

    def step(self, update_actor: bool) -> dict[str, torch.Tensor]:
        """One update (with the actor's step when `update_actor`); queues work only, no host sync.

        Returns: the update's statistics, 0-d tensors of their own (a later replay does not
        overwrite them).
        """
        return {key: value.clone() for key, value in self._step(update_actor).items()}
