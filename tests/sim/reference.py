"""Models written for these tests, and MuJoCo's C engine as the reference to compare against."""

from __future__ import annotations

import mujoco
import numpy as np
import torch

from warplab.sim import SimCfg, Simulation

# A double pendulum: two hinges with damping and armature, no contacts.
DOUBLE_PENDULUM_XML = """
<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <body name="link1" pos="0 0 1">
      <joint name="hinge1" type="hinge" axis="0 1 0" damping="0.05" armature="0.01"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.03" mass="1" contype="0" conaffinity="0"/>
      <body name="link2" pos="0 0 -0.4">
        <joint name="hinge2" type="hinge" axis="0 1 0" damping="0.02"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.3" size="0.025" mass="0.5" contype="0" conaffinity="0"/>
      </body>
    </body>
  </worldbody>
</mujoco>
"""

# A box and a capsule, each on a free joint, over a plane; the Newton solver is set explicitly.
FALLING_BODIES_XML = """
<mujoco>
  <option timestep="0.002" solver="Newton"/>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <body name="box" pos="-0.5 0 0.3">
      <freejoint/>
      <geom name="box" type="box" size="0.1 0.07 0.05" mass="1"/>
    </body>
    <body name="capsule" pos="0.5 0 0.3">
      <freejoint/>
      <geom name="capsule" type="capsule" fromto="-0.1 0 0 0.1 0 0" size="0.04" mass="0.6"/>
    </body>
  </worldbody>
</mujoco>
"""

# A slider and a hinge joined by a spatial tendon with a spring, and a fixed tendon that couples
# them, driven by a motor.
TENDON_XML = """
<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <site name="anchor" pos="0 0 1"/>
    <body name="cart" pos="0 0 0.5">
      <joint name="slide" type="slide" axis="1 0 0" damping="0.1"/>
      <geom type="box" size="0.05 0.05 0.05" mass="1" contype="0" conaffinity="0"/>
      <site name="cart_site" pos="0 0 0.05"/>
      <body name="pole" pos="0 0 -0.05">
        <joint name="hinge" type="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.3" size="0.02" mass="0.3" contype="0" conaffinity="0"/>
        <site name="pole_tip" pos="0 0 -0.3"/>
      </body>
    </body>
  </worldbody>
  <tendon>
    <spatial name="spring" stiffness="40" damping="0.5" springlength="0.6">
      <site site="anchor"/>
      <site site="pole_tip"/>
    </spatial>
    <fixed name="coupling">
      <joint joint="slide" coef="1"/>
      <joint joint="hinge" coef="-0.5"/>
    </fixed>
  </tendon>
  <actuator>
    <motor name="tendon_motor" tendon="coupling" gear="2" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
"""

# A three-link arm whose hinges are driven by position actuators, integrated implicitly.
POSITION_ARM_XML = """
<mujoco>
  <option timestep="0.002" integrator="implicitfast"/>
  <worldbody>
    <body name="upper" pos="0 0 1">
      <joint name="shoulder" type="hinge" axis="0 1 0" range="-2 2"/>
      <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03" mass="1" contype="0" conaffinity="0"/>
      <body name="fore" pos="0.3 0 0">
        <joint name="elbow" type="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0.25 0 0" size="0.025" mass="0.6" contype="0" conaffinity="0"/>
        <body name="hand" pos="0.25 0 0">
          <joint name="wrist" type="hinge" axis="0 0 1"/>
          <geom type="box" size="0.05 0.03 0.02" pos="0.05 0 0" mass="0.2" contype="0" conaffinity="0"/>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <position name="shoulder" joint="shoulder" kp="50" kv="2" ctrlrange="-1.5 1.5"/>
    <position name="elbow" joint="elbow" kp="30" ctrlrange="-1.5 1.5"/>
    <position name="wrist" joint="wrist" kp="5" kv="0.2" ctrlrange="-1.5 1.5"/>
  </actuator>
</mujoco>
"""

# One pendulum on a hinge (its acceleration has no velocity-dependent terms).
PENDULUM_XML = """
<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <body name="link" pos="0 0 1">
      <joint name="hinge" type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.5" size="0.03" mass="1" contype="0" conaffinity="0"/>
    </body>
  </worldbody>
</mujoco>
"""

# A box resting on a plane (its bottom 0.1 mm into the floor), free to slide.
RESTING_BOX_XML = """
<mujoco>
  <option timestep="0.002" solver="Newton"/>
  <worldbody>
    <geom name="floor" type="plane" size="10 10 0.1"/>
    <body name="box" pos="0 0 0.0499">
      <freejoint/>
      <geom name="box" type="box" size="0.05 0.05 0.05" mass="1"/>
    </body>
  </worldbody>
</mujoco>
"""


def make_sim(xml: str, num_worlds: int, cfg: SimCfg | None = None) -> Simulation:
    return Simulation(mujoco.MjModel.from_xml_string(xml), num_worlds, device="cpu", cfg=cfg)


def random_quat(rng: np.random.Generator, max_angle: float) -> np.ndarray:
    """A unit quaternion (w, x, y, z) for a rotation of at most ``max_angle`` rad about a random axis."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    angle = rng.uniform(0.0, max_angle)
    return np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis])


def falling_state(mjm: mujoco.MjModel, rng: np.random.Generator):
    """A state of ``FALLING_BODIES_XML`` in contact: each body 1-5 mm into the floor, slightly tilted
    and moving. Returns (qpos, qvel, ctrl=None)."""
    qpos = mjm.qpos0.copy()
    qpos[0:3] = [-0.5 + rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), 0.05 - rng.uniform(0.001, 0.005)]
    qpos[3:7] = random_quat(rng, 0.02)
    qpos[7:10] = [0.5 + rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), 0.04 - rng.uniform(0.001, 0.005)]
    qpos[10:14] = random_quat(rng, 0.02)
    qvel = np.concatenate([rng.uniform(-0.5, 0.5, 3), rng.uniform(-1, 1, 3)] * 2)
    qvel[[2, 8]] = rng.uniform(-0.5, 0.0, 2)
    return qpos, qvel, None


def as_float32(x: np.ndarray) -> np.ndarray:
    """Rounds to float32 and back, so that both engines start from exactly the same numbers."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def c_engine_step(
    mjm: mujoco.MjModel,
    qpos: np.ndarray,
    qvel: np.ndarray,
    ctrl: np.ndarray | None = None,
    nsteps: int = 1,
) -> mujoco.MjData:
    """Steps a fresh ``MjData`` of MuJoCo's C engine ``nsteps`` times from the given state."""
    mjd = mujoco.MjData(mjm)
    mjd.qpos[:] = qpos
    mjd.qvel[:] = qvel
    if ctrl is not None:
        mjd.ctrl[:] = ctrl
    for _ in range(nsteps):
        mujoco.mj_step(mjm, mjd)
    return mjd


def c_engine_forward(mjm: mujoco.MjModel, qpos: np.ndarray, qvel: np.ndarray) -> mujoco.MjData:
    """MuJoCo's C engine's forward pass from a state, with contact forces on bodies (``cfrc_ext``)."""
    mjd = mujoco.MjData(mjm)
    mjd.qpos[:] = qpos
    mjd.qvel[:] = qvel
    mujoco.mj_forward(mjm, mjd)
    mujoco.mj_rnePostConstraint(mjm, mjd)
    return mjd


def numpy_rows(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float64)
