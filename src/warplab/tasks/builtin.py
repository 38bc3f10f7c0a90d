"""Registers the tasks that ship with warplab."""

from warplab.tasks import cartpole, humanoid_v5  # noqa: F401
