"""The project's cart-pole: a cart on a rail (slide joint, motor) carrying a free pole (hinge).

Dimensions follow the classic control problem: a 1 kg cart, a 0.1 kg pole 1 m long, a rail
of +-3 m. The motor pushes the cart with up to 20 N (gear 20, control in [-1, 1]).
"""

from __future__ import annotations

import mujoco

from warplab.assets.terrain import add_checker_material, add_sky_and_lights

CARTPOLE_XML = """
<mujoco model="cartpole">
  <option timestep="0.01" integrator="implicitfast"/>
  <default>
    <joint damping="0.05"/>
    <geom contype="0" conaffinity="0" rgba="0.7 0.5 0.3 1"/>
  </default>
  <worldbody>
    <camera name="fixed" pos="0 -4 1" xyaxes="1 0 0 0 0 1"/>
    <geom name="floor" type="plane" pos="0 0 -0.05" size="0 0 0.1" rgba="0.5 0.5 0.5 1"/>
    <geom name="rail" type="capsule" fromto="-3 0 1 3 0 1" size="0.02" rgba="0.3 0.3 0.3 1"/>
    <body name="cart" pos="0 0 1">
      <joint name="slider" type="slide" axis="1 0 0" limited="true" range="-3 3" damping="0.1"/>
      <geom name="cart" type="box" size="0.2 0.15 0.1" mass="1"/>
      <body name="pole">
        <joint name="hinge" type="hinge" axis="0 1 0" damping="0.002"/>
        <geom name="pole" type="capsule" fromto="0 0 0 0 0 1" size="0.045" mass="0.1" rgba="0.9 0.8 0.6 1"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="slide" joint="slider" gear="20" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
"""


def cartpole_spec() -> mujoco.MjSpec:
    """A fresh ``MjSpec`` of the cart-pole, with the sky, lights and checkered floor of every scene.

    The floor touches nothing (geoms default to contype 0): it is there to be seen, endless (size 0)
    and with MuJoCo's default rgba, so that its material's colours show.
    """
    spec = mujoco.MjSpec.from_string(CARTPOLE_XML)
    add_sky_and_lights(spec)
    add_checker_material(spec, "floor", rgb1=(0.24, 0.28, 0.33), rgb2=(0.17, 0.20, 0.24), texrepeat=2)
    spec.geom("floor").material = "floor"
    return spec
