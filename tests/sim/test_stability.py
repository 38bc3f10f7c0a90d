"""The timestep estimate: limits worked out by hand for one stiff joint under each integrator, the
limit checked against MuJoCo's own engine, and the cart-pole at absurd timesteps."""

from __future__ import annotations

import math
import warnings

import mujoco
import numpy as np
import pytest

from warplab.assets.robots.cartpole import cartpole_spec
from warplab.sim.stability import POSE_FACTOR, RK4_RADIUS, check_timestep, timestep_stability

FIELD = "RlEnvCfg.timestep (--env.timestep)"

# One hinge carrying a point-like mass 0.5 m from the axis: inertia about the axis 0.01 + 1 * 0.5^2
# + armature 0.04 = 0.3 kg m^2. A position actuator with kp = 120 N m/rad makes omega^2 = 400.
STIFF_JOINT_XML = """
<mujoco>
  <option timestep="{dt}" integrator="{integrator}" gravity="{gravity}"/>
  <worldbody>
    <body name="arm">
      <joint name="hinge" type="hinge" axis="0 1 0" armature="0.04"/>
      <geom type="sphere" size="0.05" pos="0.5 0 0" contype="0" conaffinity="0"/>
      <inertial pos="0.5 0 0" mass="1" diaginertia="0.01 0.01 0.01"/>
    </body>
  </worldbody>
  <actuator>
    <position joint="hinge" kp="{kp}" kv="{kv}"/>
  </actuator>
</mujoco>
"""
INERTIA = 0.3
KP = 120.0


def stiff_joint(dt=0.001, integrator="Euler", kp=KP, kv=0.0, gravity="0 0 0") -> mujoco.MjModel:
    xml = STIFF_JOINT_XML.format(dt=dt, integrator=integrator, kp=kp, kv=kv, gravity=gravity)
    return mujoco.MjModel.from_xml_string(xml)


def test_an_undamped_spring_under_euler_needs_omega_dt_below_2():
    est = timestep_stability(stiff_joint())
    omega = math.sqrt(KP / INERTIA)  # 20 rad/s
    assert est.omega == pytest.approx(omega)
    assert est.limit == pytest.approx(POSE_FACTOR * 2 / omega)
    assert "joint 'hinge' oscillates at 20 rad/s (position actuator)" in est.cause


def test_rk4_is_stable_further():
    est = timestep_stability(stiff_joint(integrator="RK4"))
    assert est.limit == pytest.approx(POSE_FACTOR * RK4_RADIUS / 20.0)


def test_implicit_damping_raises_the_limit_and_explicit_damping_lowers_it():
    # kv = 6 N m s/rad: a damping rate c = kv / I = 20 1/s. Stable while (omega h)^2 <= 4 + 2 h (ci - ce).
    omega2, c = 400.0, 20.0
    implicit = timestep_stability(stiff_joint(integrator="implicitfast", kv=6.0))
    assert implicit.limit == pytest.approx(POSE_FACTOR * (c + math.sqrt(c * c + 4 * omega2)) / omega2)
    # Euler integrates joint damping implicitly but an actuator's kv explicitly.
    explicit = timestep_stability(stiff_joint(integrator="Euler", kv=6.0))
    assert explicit.limit == pytest.approx(POSE_FACTOR * (-c + math.sqrt(c * c + 4 * omega2)) / omega2)
    assert explicit.limit < 0.8 * 0.1 < implicit.limit


def test_gravity_on_a_hinge_acts_as_the_pendulum_stiffness():
    # m g d = 1 * 9.81 * 0.5 N m/rad over 0.3 kg m^2, with no actuator stiffness.
    est = timestep_stability(stiff_joint(kp=0.0, gravity="0 0 -9.81"))
    assert est.omega == pytest.approx(math.sqrt(9.81 * 0.5 / INERTIA))
    assert "(gravity)" in est.cause


def _grows(mjm: mujoco.MjModel, steps: int = 400) -> bool:
    """Whether MuJoCo's C engine, from a 0.01 rad offset, leaves the 1 rad the spring allows."""
    d = mujoco.MjData(mjm)
    d.qpos[0] = 0.01
    for _ in range(steps):
        mujoco.mj_step(mjm, d)
        if not abs(d.qpos[0]) < 1.0:
            return True
    return False


@pytest.mark.parametrize("integrator", ["Euler", "RK4", "implicitfast"])
def test_the_linearized_limit_is_where_mujoco_itself_blows_up(integrator):
    kv = 6.0 if integrator == "implicitfast" else 0.0
    linearized = timestep_stability(stiff_joint(integrator=integrator, kv=kv)).limit / POSE_FACTOR
    assert not _grows(stiff_joint(dt=0.95 * linearized, integrator=integrator, kv=kv))
    assert _grows(stiff_joint(dt=1.05 * linearized, integrator=integrator, kv=kv))


def cartpole(dt: float) -> mujoco.MjModel:
    spec = cartpole_spec()
    spec.option.timestep = dt
    return spec.compile()


@pytest.mark.parametrize("dt", [50.0, 1.0, 0.5])
def test_the_cartpole_at_an_absurd_timestep_is_refused_in_one_line(dt):
    with pytest.raises(ValueError) as error:
        check_timestep(cartpole(dt), FIELD)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{FIELD} = {dt:g} s cannot be stable for this model")
    # The pole swings at sqrt(m g d / I) ~ 3.9 rad/s: the limit is 0.8 * 2 / 3.9 ~ 0.41 s.
    assert "the estimated limit is 0.413 s" in message
    assert "joint 'hinge' oscillates at 3.91 rad/s (gravity)" in message
    assert "use at most 0.21 s" in message


def test_the_cartpole_near_its_limit_or_with_softened_constraints_is_warned_about():
    with pytest.warns(UserWarning, match=r"= 0\.3 s is near the stability limit"):
        check_timestep(cartpole(0.3), FIELD)
    # 0.1 s is stable, but MuJoCo softens the rail's limit (solref 0.02 s) to a time constant of 0.2 s.
    with pytest.warns(UserWarning, match=r"raises it to 2\*timestep = 0\.2 s"):
        check_timestep(cartpole(0.1), FIELD)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = check_timestep(cartpole(0.01), FIELD)
    assert est.limit / est.timestep > 40


def test_a_model_with_nothing_stiff_has_no_limit():
    mjm = mujoco.MjModel.from_xml_string(
        '<mujoco><option gravity="0 0 0"/><worldbody><body><freejoint/><geom size="0.1"/></body></worldbody></mujoco>'
    )
    est = timestep_stability(mjm)
    assert math.isinf(est.limit) and not est.unstable


@pytest.mark.skipif(not hasattr(mujoco.mjtIntegrator, "mjINT_DISCRETE"), reason="MuJoCo without 'discrete'")
def test_the_discrete_integrator_treats_stiffness_implicitly():
    mjm = stiff_joint(integrator="discrete")
    assert math.isinf(timestep_stability(mjm).limit)


def test_the_model_is_left_as_it_was():
    mjm = cartpole(0.01)
    before = np.copy(mjm.qpos0), float(mjm.opt.timestep)
    timestep_stability(mjm)
    assert np.array_equal(mjm.qpos0, before[0]) and mjm.opt.timestep == before[1]
