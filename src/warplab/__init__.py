"""warplab: robot learning across thousands of simulated worlds on one GPU, on MuJoCo Warp.

The public API: ``warplab.make(task, num_envs, device="auto", seed=0, **overrides)`` builds an
environment; ``warplab.list_tasks()`` names the registered tasks; ``warplab.register_task`` adds one.
They load on first use, so ``import warplab.rl`` does not pull in Warp and MuJoCo.
"""

from warplab._gl import guard_mujoco_gl

__version__ = "0.1.0"

# No GL backend is chosen here (a video chooses its renderer when asked for); a MUJOCO_GL whose library
# is missing would make MuJoCo's own import fail, so it is set aside before anything imports MuJoCo.
guard_mujoco_gl()

__all__ = ["__version__", "list_tasks", "make", "register_task"]


def __getattr__(name: str):
    if name in ("list_tasks", "make", "register_task"):
        import warplab.tasks

        return getattr(warplab.tasks, name)
    raise AttributeError(f"module 'warplab' has no attribute {name!r}")
