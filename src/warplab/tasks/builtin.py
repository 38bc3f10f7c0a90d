"""Registers the tasks that ship with warplab."""

from warplab.tasks import (  # noqa: F401
    ant_v5,
    cartpole,
    humanoid_recovery,
    humanoid_rough,
    humanoid_v5,
    humanoid_velocity,
)
