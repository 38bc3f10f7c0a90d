"""The compiler and physics options the project's manipulators (the hand, the arm) share."""

from __future__ import annotations

import mujoco


def manipulator_spec(name: str, timestep: float, impratio: float) -> mujoco.MjSpec:
    """An empty spec named ``name`` with the options of a contact-rich robot built from primitives.

    Ranges in radians; each body's inertia derived from its geoms' explicit masses (groups 0 and 1:
    collision shapes and mass-only housings, not decoration); the implicit-fast integrator (stable
    with stiff servos); elliptic friction cones with ``impratio`` (grasps that do not creep).

    Args:
        name: the model's name.
        timestep: physics step, s.
        impratio: ratio of frictional to normal constraint impedance.
    """
    spec = mujoco.MjSpec()
    spec.modelname = name
    spec.compiler.degree = False  # ranges in radians
    spec.compiler.inertiafromgeom = mujoco.mjtInertiaFromGeom.mjINERTIAFROMGEOM_TRUE
    spec.compiler.inertiagrouprange = [0, 1]
    spec.option.timestep = timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = impratio
    return spec
