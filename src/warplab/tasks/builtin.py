"""Registers the tasks that ship with warplab."""

from warplab.tasks import ant_v5, cartpole, humanoid_v5, humanoid_velocity  # noqa: F401
