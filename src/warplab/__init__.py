"""warplab: robot learning across thousands of simulated worlds on one GPU, on MuJoCo Warp.

The public API: ``warplab.make(task, num_envs, device="auto", seed=0, **overrides)`` builds an
environment; ``warplab.list_tasks()`` names the registered tasks; ``warplab.register_task`` adds one.
They load on first use, so ``import warplab.rl`` does not pull in Warp and MuJoCo.
"""

from warplab._gl import choose_gl_backend

__version__ = "0.1.0"

# MuJoCo reads MUJOCO_GL when it is first imported: choose before anything imports it.
choose_gl_backend()

__all__ = ["__version__", "list_tasks", "make", "register_task"]


def __getattr__(name: str):
    if name in ("list_tasks", "make", "register_task"):
        import warplab.tasks

        return getattr(warplab.tasks, name)
    raise AttributeError(f"module 'warplab' has no attribute {name!r}")
