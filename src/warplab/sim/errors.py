"""Errors the simulation raises, each naming the setting that fixes it."""


class SimulationError(RuntimeError):
    """Base class of simulation errors."""


class CapacityError(SimulationError):
    """The contact or constraint buffers were too small for a step: raise the named setting."""
