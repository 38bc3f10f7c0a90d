"""How many CPU threads torch uses when warplab trains on the CPU.

PyTorch starts one OpenMP thread per physical core, and every operation waits for all of them at
its end. The networks and batches warplab trains on a CPU are small (the cart-pole's 32x32
actor-critic on 512 samples), so threads gain little there; but when another process takes a core,
every operation waits for a descheduled thread. Measured on a 2-core machine: the cart-pole's PPO
update took 0.03-0.1 s an iteration with one thread and 0.6-4.9 s with two (torch's default) while
other jobs ran, 0.027-0.030 s and 0.06-0.76 s with little else running. So warplab takes half
the physical cores this process may run on, at least one and at most ``MAX_THREADS``, and one
inter-op thread: on a 2-core machine, one thread; on 8 or more cores, four. The GPU path is not
touched.

Override with ``WARPLAB_CPU_THREADS=N``; a user's own ``OMP_NUM_THREADS`` is respected as well.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

MAX_THREADS = 4
"""Most intra-op threads warplab chooses by itself for the CPU (more gain nothing on its networks)."""

ENV_VAR = "WARPLAB_CPU_THREADS"
"""Environment variable that sets the thread count explicitly."""


def physical_cores() -> int:
    """Physical cores this process may run on (its CPU affinity, hyperthreads counted once)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # Not Linux.
        return max(os.cpu_count() or 1, 1)
    cores = set()
    for cpu in cpus:
        base = f"/sys/devices/system/cpu/cpu{cpu}/topology"
        try:
            with open(f"{base}/physical_package_id") as pkg, open(f"{base}/core_id") as core:
                cores.add((pkg.read().strip(), core.read().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    return max(len(cores), 1)


def choose_cpu_threads(environ: Mapping[str, str] | None = None) -> tuple[int | None, str]:
    """The intra-op thread count for training on the CPU, and why.

    Returns:
      ``(threads, reason)``; ``threads`` is None where the user chose through ``OMP_NUM_THREADS``
      (torch already follows it).

    Raises:
      ValueError: ``WARPLAB_CPU_THREADS`` is not a positive integer.
    """
    environ = os.environ if environ is None else environ
    text = environ.get(ENV_VAR)
    if text is not None:
        try:
            threads = int(text)
        except ValueError:
            threads = 0
        if threads < 1:
            raise ValueError(
                f"{ENV_VAR}={text!r}: give a positive integer (torch threads for training on the CPU)"
            )
        return threads, f"{ENV_VAR}={text}"
    if environ.get("OMP_NUM_THREADS"):
        return None, f"OMP_NUM_THREADS={environ['OMP_NUM_THREADS']}"
    cores = physical_cores()
    threads = max(1, min(MAX_THREADS, cores // 2))
    return threads, f"half of {cores} physical cores, at most {MAX_THREADS}; {ENV_VAR} sets it"


def use_cpu_threads(environ: Mapping[str, str] | None = None) -> str:
    """Sets torch's intra-op threads (``choose_cpu_threads``) and one inter-op thread; returns a
    short description for the command's first line, e.g. ``"1 torch thread (half of 2 physical
    cores, at most 4; WARPLAB_CPU_THREADS sets it)"`` or ``"3 torch threads (WARPLAB_CPU_THREADS=3)"``."""
    import torch

    threads, reason = choose_cpu_threads(environ)
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        # Only possible before the first parallel work; a process that already ran some keeps its pool.
        pass
    n = torch.get_num_threads()
    return f"{n} torch thread{'s' if n != 1 else ''} ({reason})"
