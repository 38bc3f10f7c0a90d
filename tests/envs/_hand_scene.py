"""A tiny stand-in for a hand holding an object, for the object and goal term tests (CPU).

A fixed, tilted "palm" with a site that is itself rotated, one hinged "finger" with two fingertip
sites (touch sensors) and a third fingertip on the palm, and a free "cube". Gravity is off and the
cube collides with nothing unless a test pushes it into a fingertip, so a state written by a test
stays as it is through a step with zero actions.
"""

from __future__ import annotations

import mujoco

PALM_POS = (0.1, -0.2, 0.5)
PALM_QUAT = (0.9238795, 0.0, 0.3826834, 0.0)  # 45 degrees about y
CUBE_HALF = 0.02

HAND_XML = f"""
<mujoco model="palm_and_cube">
  <compiler angle="radian"/>
  <option timestep="0.01" gravity="0 0 0"/>
  <worldbody>
    <body name="palm" pos="{" ".join(map(str, PALM_POS))}" quat="{" ".join(map(str, PALM_QUAT))}">
      <geom name="palm_geom" type="box" size="0.05 0.05 0.01" contype="2" conaffinity="2"/>
      <site name="palm_site" pos="0.01 0.02 0.03" euler="0.3 -0.2 0.5"/>
      <site name="tip2" pos="-0.04 0.03 0.0" size="0.01"/>
      <body name="finger" pos="0.05 0 0">
        <joint name="finger_joint" type="hinge" axis="0 1 0" range="-1 1" armature="0.01" damping="0.05"/>
        <geom name="finger_geom" type="capsule" fromto="0 0 0 0.05 0 0" size="0.008" contype="2" conaffinity="2"/>
        <site name="tip0" pos="0.05 0 0" size="0.012"/>
        <site name="tip1" pos="0.05 0.01 0.005" size="0.012"/>
      </body>
    </body>
    <body name="cube" pos="0.2 -0.2 0.7">
      <freejoint name="cube_joint"/>
      <geom name="cube_geom" type="box" size="{CUBE_HALF} {CUBE_HALF} {CUBE_HALF}" mass="0.1"
            contype="1" conaffinity="2" rgba="0.8 0.5 0.3 1"/>
    </body>
  </worldbody>
  <actuator>
    <position name="finger_pos" joint="finger_joint" kp="5" kv="0.1"/>
  </actuator>
  <sensor>
    <touch name="touch_tip0" site="tip0"/>
    <framepos name="tip1_pos" objtype="site" objname="tip1"/>
    <touch name="touch_tip1" site="tip1"/>
  </sensor>
</mujoco>
"""


def hand_spec() -> mujoco.MjSpec:
    return mujoco.MjSpec.from_string(HAND_XML)
