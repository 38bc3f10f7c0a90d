"""Checks of mass properties shared by the tests of the project's robots (tests/assets is on the path)."""

from __future__ import annotations

import mujoco


def assert_mass_and_inertia_physical(model: mujoco.MjModel) -> None:
    """Every body but the world has a positive mass and principal inertias that are positive and
    satisfy the triangle inequality, as those of any real solid do."""
    for b in range(1, model.nbody):
        name = model.body(b).name
        assert model.body_mass[b] > 0, name
        i1, i2, i3 = model.body_inertia[b]
        assert min(i1, i2, i3) > 0, f"{name}: inertia {model.body_inertia[b]} is not positive-definite"
        assert i1 + i2 >= i3 and i2 + i3 >= i1 and i1 + i3 >= i2, f"{name}: {model.body_inertia[b]}"
