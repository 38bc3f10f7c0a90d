"""Task definitions (config factories) and the registry."""

from warplab.tasks.registry import (
    TaskSpec,
    UnknownTaskError,
    apply_overrides,
    get_task,
    list_tasks,
    make,
    make_env_cfg,
    register_task,
)

__all__ = [
    "TaskSpec",
    "UnknownTaskError",
    "apply_overrides",
    "get_task",
    "list_tasks",
    "make",
    "make_env_cfg",
    "register_task",
]
