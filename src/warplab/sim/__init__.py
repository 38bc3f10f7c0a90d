"""The batched simulation on MuJoCo Warp: state views, stepping, resets, per-world model fields."""

from warplab.sim.capacity import Capacity, size_buffers
from warplab.sim.device import DeviceError, resolve_device
from warplab.sim.errors import CapacityError, SimulationError
from warplab.sim.model_fields import RANDOMIZABLE_FIELDS
from warplab.sim.simulation import ContactView, SimCfg, Simulation

__all__ = [
    "Capacity",
    "CapacityError",
    "ContactView",
    "DeviceError",
    "RANDOMIZABLE_FIELDS",
    "SimCfg",
    "SimulationError",
    "Simulation",
    "resolve_device",
    "size_buffers",
]
