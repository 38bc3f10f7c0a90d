"""The Gymnasium-Robotics package's own environments as references for the parity tests, and the
statistic those tests compare random draws with.

With MuJoCo 4.0, the package's ``utils/mujoco_utils`` stops at ``assert joint_type in
(mjJNT_HINGE, mjJNT_SLIDE)``: ``mjtJoint`` members are an enum there, and the package compares them
with the integers of ``jnt_type``. ``package_env`` gives that module, and only for the test's
duration, a view of ``mujoco`` whose joint types are plain integers; nothing else is patched.
"""

from __future__ import annotations

import types
from collections.abc import Iterator

import gymnasium as gym
import mujoco
import numpy as np
import pytest


class _MujocoWithIntJointTypes(types.ModuleType):
    """``mujoco`` as the package's ``mujoco_utils`` sees it: everything as is, ``mjtJoint`` as ints."""

    def __getattr__(self, name: str):
        return getattr(mujoco, name)


def package_env(task: str, **kwargs: object) -> Iterator[gym.Env]:
    """Yields ``gym.make(task, **kwargs)`` of the installed gymnasium_robotics with the joint-type
    comparison patched (module docstring); closes it and undoes the patch after. For a
    module-scoped fixture."""
    import gymnasium_robotics
    from gymnasium_robotics.utils import mujoco_utils

    patch = pytest.MonkeyPatch()
    view = _MujocoWithIntJointTypes("mujoco")
    names = ("mjJNT_FREE", "mjJNT_BALL", "mjJNT_SLIDE", "mjJNT_HINGE")
    view.mjtJoint = types.SimpleNamespace(**{n: int(getattr(mujoco.mjtJoint, n)) for n in names})
    patch.setattr(mujoco_utils, "mujoco", view)
    gym.register_envs(gymnasium_robotics)
    env = gym.make(task, **kwargs)
    try:
        yield env
    finally:
        env.close()
        patch.undo()


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the samples' empirical CDFs."""
    grid = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    fb = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())
