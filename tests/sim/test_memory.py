"""The memory a batch of worlds needs, estimated before allocation (``warplab.sim.memory``)."""

from __future__ import annotations

import pytest

from warplab.assets.robots.cartpole import cartpole_spec
from warplab.sim import Simulation
from warplab.sim.memory import (
    MEMORY_HEADROOM,
    WorldsDoNotFitError,
    _arrays,
    check_worlds_fit,
    free_memory,
    world_memory,
)


@pytest.fixture(scope="module")
def sim():
    return Simulation(cartpole_spec(), 5, "cpu")


def test_the_probe_of_two_worlds_predicts_the_data_of_five(sim):
    import warp as wp

    cap = sim.capacity
    memory = world_memory(sim.mj_model, cap.nconmax, cap.njmax)
    allocated = sum(a.size * wp.types.type_size_in_bytes(a.dtype) for a in _arrays(sim.data, set()))
    assert allocated == memory.fixed_bytes - sim.mj_model.nbuffer + 5 * memory.bytes_per_world
    # The contact list is the longest array: nconmax entries a world.
    assert memory.longest_per_world == cap.nconmax
    assert memory.max_worlds_int32() == (2**31 - 1) // cap.nconmax


def test_free_memory_on_the_cpu_is_what_linux_can_hand_out():
    free, source = free_memory("cpu")
    with open("/proc/meminfo") as f:
        total = int(next(line for line in f if line.startswith("MemTotal:")).split()[1]) * 1024
    assert 0 < free <= total and source == "available memory"


def test_without_proc_meminfo_or_a_count_of_free_pages_the_machines_memory_is_used(sim, monkeypatch):
    # macOS has neither /proc/meminfo nor SC_AVPHYS_PAGES ("unrecognized configuration name"):
    # every Simulation failed there with that ValueError.
    import os

    from warplab.sim import memory

    sysconf = os.sysconf

    def macos_sysconf(name):
        if name == "SC_AVPHYS_PAGES":
            raise ValueError("unrecognized configuration name")
        return sysconf(name)

    monkeypatch.setattr(memory, "MEMINFO", "/nonexistent/meminfo")
    monkeypatch.setattr(os, "sysconf", macos_sysconf)
    free, source = free_memory("cpu")
    assert free == sysconf("SC_PHYS_PAGES") * sysconf("SC_PAGE_SIZE") and source == "the machine's memory"
    cap = sim.capacity
    assert check_worlds_fit(sim.mj_model, 64, cap.nconmax, cap.njmax, "cpu").bytes_per_world > 0


def test_worlds_that_do_not_fit_are_refused_with_how_many_do(sim):
    cap = sim.capacity
    free, _ = free_memory("cpu")
    memory = world_memory(sim.mj_model, cap.nconmax, cap.njmax)
    too_many = int(free / MEMORY_HEADROOM / memory.bytes_per_world) * 2
    with pytest.raises(WorldsDoNotFitError) as error:
        check_worlds_fit(sim.mj_model, too_many, cap.nconmax, cap.njmax, "cpu")
    fit = int(str(error.value).split("at most ")[1].split(" worlds fit")[0])
    assert abs(fit - too_many // 2) <= too_many * 0.05  # The machine's free memory moves a little.
    assert memory.bytes_for(fit) <= free * 1.05
    # A modest count passes and returns the probe.
    assert check_worlds_fit(sim.mj_model, 64, cap.nconmax, cap.njmax, "cpu").bytes_per_world > 0
