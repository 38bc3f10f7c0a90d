"""Replay sampling and the SAC/TD3 update recorded as CUDA graphs (``SacCfg.graph_update``).

An off-policy update is a few hundred small kernels (the sample's gathers, the n-step window, the
actor and the critic ensemble forward and backward, the C51 projection, three Adam steps, the
Polyak average) and there are several per env step: launched one by one, the host's launching is
the bottleneck, as it was for PPO's mini-batches (see `warplab.rl.graphed_update`). Two graphs are
recorded, one update with the actor's step and one without (``policy_delay``), and replayed.

How: for each of the two, the first ``WARMUP_STEPS`` updates run eagerly on a side stream (CUDA
graphs need the allocator, cuBLAS and the optimizers' state settled before capture); the next one is
recorded and replayed, and every later one replays it. Everything a replay reads lives at a fixed
address: the replay buffer's storage and its write position and fill level (device tensors, so a
replay samples from what has been added since the capture), the parameters, their gradients
(zeroed in place, never freed), Adam's state, log(alpha) and the normalizers' statistics. The
random draws (the sample's indices, the policy's noise) come from `SAC.generator`, registered with
both graphs: each replay draws fresh numbers, the same ones the eager update would have drawn.

What would make a replay wrong is anything that replaces a tensor the graph read: new optimizer
state (`SAC.load_optimizer_state` drops the graphs) or another replay buffer (a new buffer gets
new graphs). Loading weights, normalizers, log(alpha), the buffer's content or the generator's
state copies into the existing tensors and keeps the graphs valid.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import torch

from warplab._capture import no_garbage_collection

if TYPE_CHECKING:
    from warplab.rl.replay import ReplayBuffer
    from warplab.rl.sac import SAC

WARMUP_STEPS = 3
"""Eager updates of each kind on a side stream before its capture (each is a real update)."""


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
        self.graphs: dict[bool, torch.cuda.CUDAGraph] = {}
        """The recorded updates, keyed by whether they take the actor's step."""
        self.outputs: dict[bool, dict[str, torch.Tensor]] = {}
        """Each graph's statistics tensors, rewritten by every replay."""
        self.failed: str | None = None
        """Why a capture failed (the updates then run eagerly), or None."""
        self._warmups_left = {True: WARMUP_STEPS, False: WARMUP_STEPS}
        self._side_stream = torch.cuda.Stream(device=replay.device)

    def _record(self, update_actor: bool) -> dict[str, torch.Tensor]:
        batch = self.replay.sample(self.batch_size, self.sac.generator)
        return self.sac.update(batch, update_actor, set_grads_to_none=False)

    def step(self, update_actor: bool) -> dict[str, torch.Tensor]:
        """One update (with the actor's step when `update_actor`); queues work only, no host sync.

        Returns: the update's statistics, 0-d tensors of their own (a later replay does not
        overwrite them).
        """
        graph = self.graphs.get(update_actor)
        if graph is not None:
            graph.replay()
            return {key: value.clone() for key, value in self.outputs[update_actor].items()}
        if self.failed is not None:
            # The rest of a train_step whose capture failed (later ones do not come here).
            return self.sac.update(self.replay.sample(self.batch_size, self.sac.generator), update_actor)
        if self._warmups_left[update_actor] > 0:
            self._warmups_left[update_actor] -= 1
            return self._warmup(update_actor)
        return self._capture(update_actor)

    def _warmup(self, update_actor: bool) -> dict[str, torch.Tensor]:
        main = torch.cuda.current_stream()
        stream = self._side_stream
        stream.wait_stream(main)
        with torch.cuda.stream(stream):
            stats = self._record(update_actor)
        main.wait_stream(stream)
        for value in stats.values():
            # Made on the side stream, read on this one: the allocator must not reuse their memory
            # for side-stream work before this stream is done with them.
            value.record_stream(main)
        return {key: value.clone() for key, value in stats.items()}

    def _capture(self, update_actor: bool) -> dict[str, torch.Tensor]:
        graph = torch.cuda.CUDAGraph()
        try:
            register = getattr(graph, "register_generator_state", None)
            if register is None:
                raise RuntimeError(
                    "this torch has no CUDAGraph.register_generator_state, so a graph cannot draw from "
                    "SAC's own generator"
                )
            # Registered, a replay draws at the generator's current offset and advances it, exactly
            # as the eager update's draws would.
            register(self.sac.generator)
            # Collected and held off before torch's capture begins, as every capture in warplab.
            with no_garbage_collection(), torch.cuda.graph(graph):
                outputs = self._record(update_actor)
        except Exception as error:  # noqa: BLE001 - any capture failure falls back to the eager update.
            self.failed = f"{type(error).__name__}: {error}"
            warnings.warn(
                f"SacCfg.graph_update: the update could not be captured as a CUDA graph ({self.failed}); "
                f"the updates run eagerly from now on",
                stacklevel=4,
            )
            return self.sac.update(self.replay.sample(self.batch_size, self.sac.generator), update_actor)
        self.graphs[update_actor] = graph
        self.outputs[update_actor] = outputs
        # Recording queued nothing: replay to take this update.
        graph.replay()
        return {key: value.clone() for key, value in outputs.items()}
