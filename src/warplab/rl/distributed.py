"""Data-parallel training over several processes (``torchrun``): one rank per GPU, each with its own
worlds, gradients averaged across ranks.

Every rank holds a full copy of the networks and their optimizers. The copies start equal (rank 0's
weights are broadcast when a runner is built) and stay equal because every rank takes the same step:
the gradients of each mini-batch (PPO) or update (SAC, TD3) are averaged across ranks before the
optimizer's step, the adaptive learning rate reads the KL averaged across ranks, and the observation
normalizers merge the statistics of every rank's batch. What differs between ranks is the data: each
rank steps its own worlds from its own seed (``seed + rank``) and keeps its own rollout or replay.

The process group is torch's default one, set up by `init_process_group` from the variables
``torchrun`` exports (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``);
NCCL on CUDA, gloo on the CPU. Without it (a plain single-process run) every function here is a
no-op and `world_size` is 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn


def world_size() -> int:
    """Ranks in the default process group; 1 when there is none."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank in the default process group; 0 when there is none."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_distributed() -> bool:
    """Whether more than one rank trains together."""
    return world_size() > 1


def under_torchrun() -> bool:
    """Whether this process was started by ``torchrun`` (or ``torch.distributed.run``), which exports
    ``LOCAL_RANK`` to every process it starts (one rank in all included)."""
    return "LOCAL_RANK" in os.environ


def torchrun_world_size() -> int:
    """Ranks in all, as ``torchrun`` exported them (``WORLD_SIZE``); 1 outside ``torchrun``."""
    return int(os.environ.get("WORLD_SIZE", "1")) if under_torchrun() else 1


def init_process_group(device: str) -> str:
    """Join the ranks ``torchrun`` started and return this rank's device.

    Args:
        device: the device asked for, already resolved ("cpu", "cuda" or "cuda:N"). On CUDA each rank
            takes ``cuda:LOCAL_RANK`` (whatever N was asked) and the ranks talk through NCCL; on the CPU
            they talk through gloo.

    Returns: ``"cuda:<LOCAL_RANK>"`` or ``"cpu"``.

    Raises:
        ValueError: a CUDA run has more ranks on this node than it has GPUs.
    """
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise ValueError(
                f"LOCAL_RANK={local_rank} but this node has {count} GPU(s): lower --nproc-per-node to "
                f"at most {count}"
            )
        device = f"cuda:{local_rank}"
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device = "cpu"
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return device


def destroy_process_group() -> None:
    """Leave the process group (at the end of a run); nothing without one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank `rank`'s worlds, samples and noise: ``seed + rank`` (rank 0 keeps the run's seed,
    so a one-rank run is the plain run)."""
    return int(seed) + int(rank)


def resume_seed(seed: int, rank: int, iteration: int) -> int:
    """The seed a rank other than 0 draws from after resuming at `iteration`: a checkpoint holds rank 0's
    random states only, and reusing ``seed + rank`` would replay that rank's first iterations."""
    return int(np.random.SeedSequence([int(seed), int(rank), int(iteration)]).generate_state(1)[0])


@torch.no_grad()
def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Overwrite every parameter and buffer of `module` with rank `src`'s (in place; no-op on one rank)."""
    if not is_distributed():
        return
    for tensor in [*module.parameters(), *module.buffers()]:
        dist.broadcast(tensor.data, src=src)


@torch.no_grad()
def average_gradients(
    parameters: Iterable[torch.Tensor], extra: torch.Tensor | None = None
) -> torch.Tensor | None:
    """Replace each parameter's gradient by its mean over the ranks, in one all-reduce.

    A parameter without a gradient counts as a zero gradient and receives the mean. `extra` (a small
    tensor, the mini-batch's KL say) travels in the same all-reduce and is returned averaged; the
    gradients are averaged in place.

    Returns: `extra` averaged over the ranks (a new tensor), or None without it. On one rank nothing
    is communicated and `extra` is returned as is.
    """
    if not is_distributed():
        return extra
    params = list(parameters)
    pieces = [p.grad.reshape(-1) if p.grad is not None else torch.zeros_like(p).reshape(-1) for p in params]
    if extra is not None:
        pieces.append(extra.reshape(-1).to(pieces[0].dtype if pieces else extra.dtype))
    flat = torch.cat(pieces)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= world_size()
    offset = 0
    for p in params:
        mean = flat[offset : offset + p.numel()].view_as(p)
        offset += p.numel()
        if p.grad is None:
            p.grad = mean.clone()
        else:
            p.grad.copy_(mean)
    if extra is None:
        return None
    return flat[offset:].view_as(extra).to(extra.dtype)


@torch.no_grad()
def pooled_moments(
    count: int, mean: torch.Tensor, var: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The count, mean and population variance of every rank's batch together.

    Args:
        count: samples in this rank's batch.
        mean: [D] this batch's mean.
        var: [D] this batch's population variance.

    Returns: (count: 0-d int64, mean: [D] float32, var: [D] float32) of the union of all ranks'
    batches, the same bits on every rank: every rank combines the gathered moments in rank order, in
    float64, with the exact pooled formula ``var = sum(n_i (var_i + (mean_i - mean)^2)) / N``.
    """
    device = mean.device
    size = mean.numel()
    packed = torch.empty(1 + 2 * size, dtype=torch.float64, device=device)
    packed[0] = float(count)
    if count > 0:
        packed[1 : 1 + size] = mean.reshape(-1)
        packed[1 + size :] = var.reshape(-1)
    else:
        packed[1:] = 0.0  # An empty batch's mean is NaN; it weighs nothing.
    gathered = [torch.empty_like(packed) for _ in range(world_size())]
    dist.all_gather(gathered, packed)
    table = torch.stack(gathered)
    counts = table[:, :1]
    means, variances = table[:, 1 : 1 + size], table[:, 1 + size :]
    total = counts.sum()
    pooled_mean = (counts * means).sum(dim=0) / total.clamp(min=1.0)
    pooled_var = (counts * (variances + (means - pooled_mean).square())).sum(dim=0) / total.clamp(min=1.0)
    return (
        total.round().to(torch.int64),
        pooled_mean.to(torch.float32).view_as(mean),
        pooled_var.to(torch.float32).view_as(var),
    )
