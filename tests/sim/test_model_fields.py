"""Per-world model fields against MuJoCo's C engine run with the same field values."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from .reference import (
    DOUBLE_PENDULUM_XML,
    FALLING_BODIES_XML,
    RESTING_BOX_XML,
    as_float32,
    c_engine_step,
    falling_state,
    make_sim,
    numpy_rows,
)


def test_gravity_per_world():
    n, steps, dt = 3, 20, 0.002
    sim = make_sim(FALLING_BODIES_XML, n)
    gravity = sim.model_field("opt.gravity")
    assert gravity.shape == (n, 3)
    assert gravity.data_ptr() == sim.model.opt.gravity.ptr
    np.testing.assert_allclose(numpy_rows(gravity), np.tile(sim.mj_model.opt.gravity, (n, 1)), rtol=1e-6)
    gravity[1] = 0.0
    gravity[2] = torch.tensor([0.0, 2.0, -9.81])
    sim.step(steps)

    mjm = sim.mj_model
    z0 = mjm.qpos0[2]
    # World 0 falls freely: semi-implicit Euler gives z_n = z0 - g dt^2 n (n + 1) / 2 (by hand).
    drop = 9.81 * dt**2 * steps * (steps + 1) / 2
    np.testing.assert_allclose(float(sim.qpos[0, 2]), z0 - drop, atol=1e-6)
    # World 1 has no gravity and no velocity: it stays where it was.
    np.testing.assert_allclose(numpy_rows(sim.qpos[1]), mjm.qpos0, atol=1e-7)
    assert torch.all(sim.qvel[1] == 0)
    # Each world agrees with the C engine run with that world's gravity.
    for w in range(n):
        ref_model = mujoco.MjModel.from_xml_string(FALLING_BODIES_XML)
        ref_model.opt.gravity[:] = numpy_rows(gravity[w])
        ref = c_engine_step(ref_model, mjm.qpos0, np.zeros(mjm.nv), nsteps=steps)
        np.testing.assert_allclose(numpy_rows(sim.qpos[w]), ref.qpos, atol=1e-6, err_msg=f"world {w}")
        np.testing.assert_allclose(numpy_rows(sim.qvel[w]), ref.qvel, atol=1e-5, err_msg=f"world {w}")


def test_fields_never_asked_for_stay_shared():
    sim = make_sim(FALLING_BODIES_XML, 3)
    sim.model_field("opt.gravity")
    assert sim.fields.names == ["opt.gravity"]
    for name in ("geom_friction", "body_mass", "body_invweight0", "dof_damping", "geom_solref"):
        assert getattr(sim.model, name).shape[0] == 1, name
    assert sim.model.opt.wind.shape[0] == 1
    # Asking twice hands out the same view, not a new copy.
    assert sim.model_field("opt.gravity") is sim.model_field("opt.gravity")
    np.testing.assert_allclose(
        numpy_rows(sim.fields.default("opt.gravity")), sim.mj_model.opt.gravity, rtol=1e-6
    )


def test_friction_per_world_changes_sliding_in_that_world_only():
    n, steps = 3, 50
    sim = make_sim(RESTING_BOX_XML, n)
    friction = sim.model_field("geom_friction")
    assert friction.shape == (n, sim.mj_model.ngeom, 3)
    # MuJoCo takes the larger friction of the two geoms in contact: lower both, in world 1 only.
    friction[1, :, 0] = 0.1
    qvel = np.zeros(sim.mj_model.nv)
    qvel[0] = 2.0
    sim.set_state(qvel=torch.tensor(np.tile(qvel, (n, 1)), dtype=torch.float32))
    sim.step(steps)

    x = sim.qpos[:, 0]
    assert float(x[1]) > float(x[0]) + 0.03, "lower friction should let world 1 slide further"
    assert torch.equal(x[0], x[2])
    for w, mu in ((0, 1.0), (1, 0.1)):
        ref_model = mujoco.MjModel.from_xml_string(RESTING_BOX_XML)
        ref_model.geom_friction[:, 0] = mu
        ref = c_engine_step(ref_model, ref_model.qpos0, qvel, nsteps=steps)
        # Fifty steps of sliding contact in float32: positions agree to well under a millimetre.
        np.testing.assert_allclose(numpy_rows(sim.qpos[w]), ref.qpos, atol=1e-5, err_msg=f"world {w}")
        np.testing.assert_allclose(numpy_rows(sim.qvel[w]), ref.qvel, atol=1e-4, err_msg=f"world {w}")


def _pendulum_state(mjm, rng):
    return rng.uniform(-1.5, 1.5, mjm.nq), rng.uniform(-2.0, 2.0, mjm.nv), None


@pytest.mark.parametrize(
    ("xml", "body", "mass", "make_state"),
    [
        # Without contacts a mass changes the mass matrix and gravity forces.
        (DOUBLE_PENDULUM_XML, "link2", 2.0, _pendulum_state),
        # With contacts it also changes the constraint regularisation, through body_invweight0.
        (FALLING_BODIES_XML, "box", 3.0, falling_state),
    ],
    ids=["double_pendulum", "box_on_floor"],
)
def test_body_mass_with_set_const_matches_c_engine(xml, body, mass, make_state):
    n, steps = 3, 10
    sim = make_sim(xml, n)
    mjm = sim.mj_model
    body_id = mjm.body(body).id
    masses = sim.model_field("body_mass")
    np.testing.assert_allclose(numpy_rows(sim.fields.default("body_mass")), mjm.body_mass, rtol=1e-6)
    masses[1, body_id] = mass
    sim.set_const()
    # The constants set_const derives from masses became per-world with the mass; the rest stay shared.
    assert sim.model.body_invweight0.shape[0] == n and sim.model.dof_invweight0.shape[0] == n
    assert sim.model.geom_friction.shape[0] == 1 and sim.model.opt.gravity.shape[0] == 1
    # A derived constant worked out by hand: the body is a leaf, so its subtree mass is its mass, and
    # the world's subtree (everything) grows by the difference. Only in world 1.
    subtree = sim.model.body_subtreemass.numpy()
    np.testing.assert_allclose(subtree[1, body_id], mass, rtol=1e-6)
    np.testing.assert_allclose(subtree[1, 0], mjm.body_mass.sum() + mass - mjm.body_mass[body_id], rtol=1e-6)
    np.testing.assert_allclose(subtree[0], mjm.body_subtreemass, rtol=1e-6)
    np.testing.assert_allclose(subtree[2], mjm.body_subtreemass, rtol=1e-6)

    rng = np.random.default_rng(5)
    states = [tuple(as_float32(x) for x in make_state(mjm, rng)[:2]) for _ in range(n)]
    sim.set_state(
        torch.tensor(np.stack([s[0] for s in states]), dtype=torch.float32),
        torch.tensor(np.stack([s[1] for s in states]), dtype=torch.float32),
    )
    sim.step(steps)

    heavy = mujoco.MjModel.from_xml_string(xml)
    heavy.body_mass[body_id] = mass
    mujoco.mj_setConst(heavy, mujoco.MjData(heavy))
    for w, (q0, v0) in enumerate(states):
        ref_model = heavy if w == 1 else mjm
        ref = c_engine_step(ref_model, q0, v0, nsteps=steps)
        np.testing.assert_allclose(
            numpy_rows(sim.qpos[w]), ref.qpos, rtol=1e-5, atol=1e-5, err_msg=f"world {w}"
        )
        np.testing.assert_allclose(
            numpy_rows(sim.qvel[w]), ref.qvel, rtol=1e-5, atol=5e-5, err_msg=f"world {w}"
        )
    # The change mattered: world 1 does not follow the unchanged model.
    light = c_engine_step(mjm, *states[1], nsteps=steps)
    assert np.abs(numpy_rows(sim.qvel[1]) - light.qvel).max() > 10 * 5e-5


@pytest.mark.parametrize(
    ("name", "hint"),
    [("geom_frictoin", "geom_friction"), ("opt.gravty", "opt.gravity"), ("body_parentid", "body_mass")],
)
def test_unknown_field_raises_key_error_naming_what_exists(name, hint):
    sim = make_sim(DOUBLE_PENDULUM_XML, 2)
    with pytest.raises(KeyError, match="cannot be made per-world") as info:
        sim.model_field(name)
    assert name in str(info.value) and hint in str(info.value)
    assert sim.fields.names == []
