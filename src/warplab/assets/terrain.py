"""Ground for scenes: a flat floor today (generated terrain comes with the rough-ground tasks)."""

from __future__ import annotations

import mujoco


def add_flat_ground(spec: mujoco.MjSpec, friction: float = 1.0) -> mujoco.MjSpec:
    """Adds a checkered ``floor`` plane at z = 0, a sky, a sun and a fill light; returns ``spec``.

    The floor has contype 1 and conaffinity 0: it meets every geom whose conaffinity has bit 1 (robot
    geoms by default) and nothing else of the world.

    Args:
      friction: sliding friction of the floor (MuJoCo uses the larger of two geoms' coefficients).
    """
    if any(g.name == "floor" for g in spec.geoms):
        raise ValueError("the spec already has a geom named 'floor'")
    add_sky_and_lights(spec)
    add_checker_material(
        spec, "floor", rgb1=(0.24, 0.28, 0.33), rgb2=(0.17, 0.20, 0.24), texrepeat=4, reflectance=0.08
    )
    spec.worldbody.add_geom(
        name="floor",
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[0, 0, 0.05],
        material="floor",
        contype=1,
        conaffinity=0,
        condim=3,
        friction=[friction, 0.005, 0.0001],
    )
    return spec


def add_checker_material(
    spec: mujoco.MjSpec,
    name: str,
    rgb1: tuple[float, float, float],
    rgb2: tuple[float, float, float],
    texrepeat: float = 1.0,
    reflectance: float = 0.05,
) -> None:
    """Adds a checkered texture and a material named ``name`` using it (squares of ``1/texrepeat`` m)."""
    spec.add_texture(
        name=name,
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=list(rgb1),
        rgb2=list(rgb2),
        mark=mujoco.mjtMark.mjMARK_EDGE,
        markrgb=[min(c + 0.2, 1.0) for c in rgb1],
        width=300,
        height=300,
    )
    material = spec.add_material(
        name=name, texrepeat=[texrepeat, texrepeat], texuniform=True, reflectance=reflectance
    )
    material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = name


def add_sky_and_lights(spec: mujoco.MjSpec) -> mujoco.MjSpec:
    """Adds a gradient sky, haze, a sun and a fill light; returns ``spec``."""
    spec.add_texture(
        name="skybox",
        type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        rgb1=[0.62, 0.72, 0.84],
        rgb2=[0.08, 0.10, 0.13],
        width=512,
        height=3072,
    )
    spec.visual.rgba.haze = [0.15, 0.20, 0.26, 1.0]
    spec.worldbody.add_light(
        name="sun", type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, dir=[-0.3, 0.4, -1.0], castshadow=True
    )
    spec.worldbody.add_light(
        name="fill", pos=[0, 0, 4], dir=[0, 0, -1], diffuse=[0.3, 0.3, 0.3], castshadow=False
    )
    return spec
