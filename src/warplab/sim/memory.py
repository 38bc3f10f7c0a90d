"""How much memory a batch of worlds needs, known before any of it is allocated.

MuJoCo Warp allocates every world's state, contacts and constraint rows at once
(``mujoco_warp.make_data``): a world count too large for the device used to end in Warp's 32-bit
shape error or, after half a minute of copying, a failed allocation of tens of GB. Here a probe
builds the data of one and of two worlds on the CPU (a few milliseconds, kilobytes) with the same
buffer sizes; the difference is what each further world costs, in bytes and in the length of
Warp's longest array. ``check_worlds_fit`` compares that with the device's free memory and Warp's
32-bit limit and raises a ``WorldsDoNotFitError`` that says how many worlds fit.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import mujoco
import warp as wp

from warplab.sim.errors import SimulationError

INT32_LIMIT = 2**31 - 1
"""Warp's array dimensions are signed 32-bit: no array may be longer than this."""

MEMORY_HEADROOM = 2.0
"""Factor over the physics data for what else a world holds: the model's per-world fields, the
env's observation, reward and reset buffers, Warp's temporaries in a step, the allocator's slack."""


class WorldsDoNotFitError(SimulationError, ValueError):
    """More worlds were asked for than the device's memory or Warp's 32-bit array sizes allow."""


@dataclasses.dataclass(frozen=True)
class WorldMemory:
    """What a batch of worlds of one model costs on a device.

    Attributes:
      bytes_per_world: bytes of MuJoCo Warp data each world adds.
      fixed_bytes: bytes that do not grow with the world count (the model, shared buffers).
      longest_per_world: elements each world adds to the longest of Warp's arrays (the contact
        list grows by ``nconmax`` a world, the constraint rows by ``njmax``...).
    """

    bytes_per_world: int
    fixed_bytes: int
    longest_per_world: int

    def bytes_for(self, num_worlds: int, headroom: float = MEMORY_HEADROOM) -> int:
        """Bytes ``num_worlds`` worlds need, with ``headroom`` over the physics data."""
        return int(headroom * (self.fixed_bytes + num_worlds * self.bytes_per_world))

    def max_worlds_int32(self) -> int:
        """Most worlds whose arrays all stay within Warp's 32-bit dimensions."""
        return INT32_LIMIT // max(self.longest_per_world, 1)

    def max_worlds_in(self, free_bytes: int, headroom: float = MEMORY_HEADROOM) -> int:
        """Most worlds that fit in ``free_bytes`` with ``headroom``."""
        room = free_bytes / headroom - self.fixed_bytes
        return max(int(room // max(self.bytes_per_world, 1)), 0)


def _arrays(obj: Any, seen: set[int]) -> list[wp.array]:
    """Every Warp array reachable through the attributes of ``obj`` (MuJoCo Warp's ``Data`` nests
    ``contact`` and ``efc`` structs)."""
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, wp.array):
        return [obj]
    out: list[wp.array] = []
    for name, value in vars(obj).items() if hasattr(obj, "__dict__") else []:
        if name.startswith("_"):
            continue
        if isinstance(value, wp.array) or hasattr(value, "__dict__") and not callable(value):
            out.extend(_arrays(value, seen))
    return out


def _data_sizes(
    mjm: mujoco.MjModel, nworld: int, nconmax: int, njmax: int
) -> tuple[int, list[tuple[int, ...]]]:
    import mujoco_warp as mjw

    with wp.ScopedDevice("cpu"):
        data = mjw.make_data(mjm, nworld=nworld, nconmax=nconmax, njmax=njmax)
    arrays = _arrays(data, set())
    total = sum(a.size * wp.types.type_size_in_bytes(a.dtype) for a in arrays)
    return total, [tuple(a.shape) for a in arrays]


def world_memory(mjm: mujoco.MjModel, nconmax: int, njmax: int) -> WorldMemory:
    """Probes the MuJoCo Warp data of one and of two worlds of ``mjm`` on the CPU.

    Args:
      mjm: the compiled model.
      nconmax: contacts per world, as the simulation will allocate them.
      njmax: constraint rows per world.
    """
    one, shapes_one = _data_sizes(mjm, 1, nconmax, njmax)
    two, shapes_two = _data_sizes(mjm, 2, nconmax, njmax)
    longest = 0
    for a, b in zip(shapes_one, shapes_two, strict=True):
        for d1, d2 in zip(a, b, strict=True):
            longest = max(longest, d2 - d1)
    per_world = two - one
    # The model lives on the device once; MuJoCo's own buffer size is a close measure of it.
    return WorldMemory(per_world, one - per_world + int(mjm.nbuffer), longest)


MEMINFO = "/proc/meminfo"
"""Where Linux says how much memory it can hand out (``MemAvailable``)."""

UNKNOWN_MEMORY = 2**63 - 1
"""``free_memory`` where the system tells nothing: no world count is refused for memory then."""


def free_memory(device: str) -> tuple[int, str]:
    """Free memory of a Warp device, in bytes, and where the number comes from.

    CUDA: ``torch.cuda.mem_get_info`` (free bytes on the card). CPU: ``MemAvailable`` of
    ``/proc/meminfo`` (what Linux can hand out without swapping), else the physical pages free
    (``SC_AVPHYS_PAGES``), else all physical pages (macOS has no count of free pages: the check then
    refuses only what exceeds the machine's memory), else ``UNKNOWN_MEMORY``.
    """
    if device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free), f"free on {device}"
    try:
        with open(MEMINFO) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "available memory"
    except OSError:
        pass
    for pages, source in (("SC_AVPHYS_PAGES", "free memory"), ("SC_PHYS_PAGES", "the machine's memory")):
        try:
            count, size = os.sysconf(pages), os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):  # A name this system does not define.
            continue
        if count > 0 and size > 0:
            return count * size, source
    return UNKNOWN_MEMORY, "unknown"


def format_bytes(n: float) -> str:
    """``7.23 KB``, ``12.3 MB``, ``22.9 GB``, ``1,380 GB``: three figures, no exponent."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"
    return f"{int(n)} bytes"


def check_worlds_fit(
    mjm: mujoco.MjModel, num_worlds: int, nconmax: int, njmax: int, device: str, setting: str = "num_envs"
) -> WorldMemory:
    """Raises ``WorldsDoNotFitError`` when ``num_worlds`` worlds of ``mjm`` cannot be allocated.

    Checks Warp's 32-bit array dimensions and the device's free memory (with ``MEMORY_HEADROOM``)
    before anything is allocated; the message gives the most worlds that fit and the setting to
    lower. Returns the probe's ``WorldMemory``.
    """
    memory = world_memory(mjm, nconmax, njmax)
    limit = memory.max_worlds_int32()
    if num_worlds > limit:
        raise WorldsDoNotFitError(
            f"{setting}={num_worlds} worlds is more than Warp can index: its arrays have at most "
            f"2**31 - 1 entries and each world adds {memory.longest_per_world} to the longest one "
            f"(contacts nconmax={nconmax}, constraint rows njmax={njmax}), so at most {limit} worlds"
        )
    free, source = free_memory(device)
    need = memory.bytes_for(num_worlds)
    if need > free:
        fit = memory.max_worlds_in(free)
        raise WorldsDoNotFitError(
            f"{setting}={num_worlds} worlds need about {format_bytes(need)} on {device} "
            f"({format_bytes(memory.bytes_per_world)} a world, with {MEMORY_HEADROOM:g}x headroom) but {format_bytes(free)} is "
            f"{source}: at most {fit} worlds fit; lower {setting}"
        )
    return memory
