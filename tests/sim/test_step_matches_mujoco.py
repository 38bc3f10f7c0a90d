"""One step and a few substeps of MuJoCo Warp (through ``Simulation``) against MuJoCo's C engine.

Every world starts from its own state; each is compared with its own ``MjData`` stepped from the same
numbers. MuJoCo Warp computes in float32 and the C engine in float64: starting values are rounded to
float32 first so that both start from identical states, and the tolerances allow float32 rounding
(machine epsilon 1.2e-7) accumulated over a handful of steps through a mass-matrix factorisation and,
with contacts, a constraint solve.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from .reference import (
    DOUBLE_PENDULUM_XML,
    FALLING_BODIES_XML,
    POSITION_ARM_XML,
    TENDON_XML,
    as_float32,
    c_engine_forward,
    c_engine_step,
    falling_state,
    make_sim,
    numpy_rows,
)

NUM_WORLDS = 4
# Joint positions and speeds are O(1); float32 rounding over five steps stays near 1e-6.
TOL = dict(rtol=1e-5, atol=1e-5)
# With contacts the constraint solver stops at its tolerance and its float32 line search differs in
# the last bits from the C engine's float64 one; contact accelerations are O(100) m/s^2, so speeds
# after five 2 ms steps agree to a few 1e-6 (measured: 1.5e-6); allow an order of magnitude more.
CONTACT_TOL = dict(rtol=1e-5, atol=5e-5)


def _pendulum_state(mjm, rng):
    return rng.uniform(-1.5, 1.5, mjm.nq), rng.uniform(-2.0, 2.0, mjm.nv), None


def _tendon_state(mjm, rng):
    qpos = rng.uniform(-0.3, 0.3, mjm.nq)
    qvel = rng.uniform(-1.0, 1.0, mjm.nv)
    return qpos, qvel, rng.uniform(-1.0, 1.0, mjm.nu)


def _position_arm_state(mjm, rng):
    qpos = rng.uniform(-1.0, 1.0, mjm.nq)
    qvel = rng.uniform(-1.0, 1.0, mjm.nv)
    # Some targets lie outside ctrlrange, which both engines clamp.
    return qpos, qvel, rng.uniform(-2.0, 2.0, mjm.nu)


# name: (model, starting state of one world, tolerances, has contacts, seed)
CASES = {
    "double_pendulum": (DOUBLE_PENDULUM_XML, _pendulum_state, TOL, False, 1),
    "falling_box_and_capsule": (FALLING_BODIES_XML, falling_state, CONTACT_TOL, True, 2),
    "tendons": (TENDON_XML, _tendon_state, TOL, False, 3),
    "position_actuators": (POSITION_ARM_XML, _position_arm_state, TOL, False, 4),
}


def _world_counts(sim) -> np.ndarray:
    count = int(sim.contact.count[0])
    worldid = sim.contact.worldid[:count].long()
    return torch.bincount(worldid, minlength=sim.num_worlds).numpy()


@pytest.mark.parametrize("case", list(CASES))
def test_steps_match_c_engine(case):
    xml, make_state, tol, has_contacts, seed = CASES[case]
    sim = make_sim(xml, NUM_WORLDS)
    mjm = sim.mj_model
    rng = np.random.default_rng(seed)
    states = [
        tuple(None if x is None else as_float32(x) for x in make_state(mjm, rng)) for _ in range(NUM_WORLDS)
    ]
    qpos = np.stack([s[0] for s in states])
    qvel = np.stack([s[1] for s in states])
    sim.set_state(torch.tensor(qpos, dtype=torch.float32), torch.tensor(qvel, dtype=torch.float32))
    if mjm.nu:
        ctrl = np.stack([s[2] for s in states])
        sim.ctrl.copy_(torch.tensor(ctrl, dtype=torch.float32))
    # The worlds really start apart, so a mix-up of worlds would show.
    assert not np.allclose(qpos[0], qpos[1])

    sim.step()
    for w, (q0, v0, u0) in enumerate(states):
        ref = c_engine_step(mjm, q0, v0, u0, nsteps=1)
        np.testing.assert_allclose(numpy_rows(sim.qpos[w]), ref.qpos, **tol, err_msg=f"qpos, world {w}")
        np.testing.assert_allclose(numpy_rows(sim.qvel[w]), ref.qvel, **tol, err_msg=f"qvel, world {w}")

    if has_contacts:
        # Contacts and contact forces of this step were computed at the starting state.
        counts = _world_counts(sim)
        for w, (q0, v0, _) in enumerate(states):
            ref = c_engine_forward(mjm, q0, v0)
            assert ref.ncon > 0
            assert counts[w] == ref.ncon, f"world {w}: {counts[w]} contacts, C engine {ref.ncon}"
            # Forces are O(50) N: float32 and the solver tolerance leave ~1e-5 relative (measured
            # 2.5e-4 N at most).
            np.testing.assert_allclose(
                numpy_rows(sim.cfrc_ext[w]),
                ref.cfrc_ext,
                rtol=1e-4,
                atol=1e-3,
                err_msg=f"cfrc_ext, world {w}",
            )

    # Four substeps in one call continue from there, warm starts included.
    sim.step(substeps=4)
    for w, (q0, v0, u0) in enumerate(states):
        ref = c_engine_step(mjm, q0, v0, u0, nsteps=5)
        np.testing.assert_allclose(
            numpy_rows(sim.qpos[w]), ref.qpos, **tol, err_msg=f"qpos after 5, world {w}"
        )
        np.testing.assert_allclose(
            numpy_rows(sim.qvel[w]), ref.qvel, **tol, err_msg=f"qvel after 5, world {w}"
        )
        np.testing.assert_allclose(float(sim.time[w]), ref.time, rtol=1e-6)


def test_states_are_not_trivially_equal():
    """The comparisons above are only meaningful if one step moves the state measurably."""
    mjm = mujoco.MjModel.from_xml_string(FALLING_BODIES_XML)
    rng = np.random.default_rng(0)
    q0, v0, _ = falling_state(mjm, rng)
    ref = c_engine_step(mjm, q0, v0, nsteps=5)
    assert np.abs(ref.qvel - v0).max() > 100 * CONTACT_TOL["atol"]
