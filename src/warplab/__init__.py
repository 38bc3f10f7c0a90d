"""warplab: robot learning across thousands of simulated worlds on one GPU, on MuJoCo Warp.

The public API: ``warplab.make(task, num_envs, device="auto", seed=0, **overrides)`` builds an
environment; ``warplab.list_tasks()`` names the registered tasks; ``warplab.register_task`` adds one.
"""

__version__ = "0.1.0"

from warplab.tasks import list_tasks, make, register_task  # noqa: E402

__all__ = ["__version__", "list_tasks", "make", "register_task"]
