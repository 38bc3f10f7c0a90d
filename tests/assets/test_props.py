"""Props against physics worked out by hand, stepped by MuJoCo's C engine (and MuJoCo Warp for the
per-world fields): a drawer pulled by a known force follows the damped motion to its travel limit, a
door's spring brings it back, a cup and a bowl keep the spheres dropped into them, and a per-world
damping moves each MuJoCo Warp world as a C model with that damping."""

from __future__ import annotations

import functools
import math

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets import Scene, props
from warplab.sim import Simulation


def _floor_spec(timestep: float = 0.002) -> mujoco.MjSpec:
    spec = mujoco.MjSpec()
    spec.option.timestep = timestep
    spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[5.0, 5.0, 0.1])
    return spec


def test_every_prop_compiles_without_contacts_at_rest_and_refuses_bad_sizes():
    # A scene adds props after its objects; the others go straight into the spec it built.
    scene = Scene(
        terrain="flat",
        props=(functools.partial(props.add_drawer_cabinet, pos=(1.0, 0.0, 0.0), handle="knob"),),
    )
    spec = scene.build()
    props.add_hinged_door(spec, (3.0, 0.0, 0.0))
    props.add_cabinet_door(spec, (-2.0, 0.0, 0.0), handle="bar")
    props.add_table(spec, (0.0, 2.0, 0.0))
    props.add_shelf(spec, (0.0, -2.0, 0.0))
    props.add_bin(spec, (2.0, 2.0, 0.0))
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    # Only the props' undersides touch the floor: a moving part never touches its fixed part.
    for c in data.contact[: data.ncon]:
        assert "floor" in (model.geom(c.geom1).name, model.geom(c.geom2).name)
    for name in ("drawer", "door", "cabinet"):
        assert model.site(f"{name}_handle").id >= 0 and model.site(f"{name}_joint").id >= 0
    with pytest.raises(ValueError, match="travel 0.5 m exceeds"):
        props.add_drawer_cabinet(mujoco.MjSpec(), travel=0.5)
    with pytest.raises(ValueError, match="already has a body named 'door'"):
        props.add_hinged_door(spec, (5.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="handle 'lever' is not one of"):
        props.add_hinged_door(mujoco.MjSpec(), handle="lever")


def test_drawer_pulled_by_a_known_force_follows_the_damped_motion_to_its_travel_limit():
    mass, damping, friction, force, travel = 1.5, 6.0, 1.0, 12.0, 0.3
    spec = _floor_spec(timestep=0.001)
    props.add_drawer_cabinet(
        spec, drawer_mass=mass, damping=damping, frictionloss=friction, travel=travel, handle="bar"
    )
    model = spec.compile()
    assert model.body("drawer_drawer").mass[0] == pytest.approx(mass, rel=1e-12)
    data = mujoco.MjData(model)
    data.qfrc_applied[0] = force
    # m x'' = F - f - b x' from rest: x(t) = v (t - tau (1 - exp(-t / tau))), v = (F - f) / b, tau = m / b.
    v_end, tau = (force - friction) / damping, mass / damping
    t_hit = None
    while data.time < 1.0:
        mujoco.mj_step(model, data)
        t = data.time
        expected = v_end * (t - tau * (1.0 - math.exp(-t / tau)))
        if expected < travel - 0.01:
            assert data.qpos[0] == pytest.approx(expected, abs=0.001), t
        elif t_hit is None:
            t_hit = t
    assert t_hit is not None and t_hit < 0.6
    # The limit holds the drawer at its travel, against the force still pulling it.
    assert data.qpos[0] == pytest.approx(travel, abs=0.002)
    assert abs(data.qvel[0]) < 1e-3
    # The handle's grasp point has moved out by the opening, along the reference site's z axis.
    mujoco.mj_kinematics(model, data)
    handle, ref = data.site("drawer_handle"), data.site("drawer_joint")
    assert ref.xmat.reshape(3, 3)[:, 2] @ (handle.xpos - ref.xpos) == pytest.approx(data.qpos[0], abs=1e-12)


def test_door_spring_swings_as_a_damped_oscillator_and_returns_to_its_closed_angle():
    stiffness, damping = 5.0, 3.0
    spec = _floor_spec()
    props.add_hinged_door(spec, stiffness=stiffness, damping=damping, springref=0.5)
    model = spec.compile()
    data = mujoco.MjData(model)
    data.qpos[0] = 1.2
    mujoco.mj_forward(model, data)
    mass_matrix = np.zeros((1, 1))
    mujoco.mj_fullM(model, data, mass_matrix)
    inertia = mass_matrix[0, 0]  # the panel's moment of inertia about the hinge, kg m^2
    omega, zeta = math.sqrt(stiffness / inertia), damping / (2.0 * math.sqrt(stiffness * inertia))
    omega_d = omega * math.sqrt(1.0 - zeta**2)
    # Released at 0.7 rad from the spring's rest angle 0.5 rad: it stays inside [0, 1.5] rad throughout.
    while data.time < 6.0:
        mujoco.mj_step(model, data)
        t = data.time
        expected = 0.5 + 0.7 * math.exp(-zeta * omega * t) * (
            math.cos(omega_d * t) + zeta * omega / omega_d * math.sin(omega_d * t)
        )
        assert data.qpos[0] == pytest.approx(expected, abs=0.002), t
    # With the spring's rest at the closed angle, an opened door comes back shut and stays there.
    spec = _floor_spec()
    props.add_hinged_door(spec, stiffness=stiffness, damping=damping, handle="knob")
    model = spec.compile()
    data = mujoco.MjData(model)
    data.qpos[0] = 1.2
    while data.time < 8.0:
        mujoco.mj_step(model, data)
    assert abs(data.qpos[0]) < 0.01 and abs(data.qvel[0]) < 0.01


@pytest.mark.parametrize("container", ["cup", "bowl"])
def test_container_holds_ten_dropped_spheres(container):
    spec = _floor_spec()
    add = props.add_cup if container == "cup" else props.add_bowl
    add(spec, (0.0, 0.0, 0.0))
    radius, inner, rim = 0.01, (0.04 if container == "cup" else 0.05), (0.10 if container == "cup" else 0.06)
    for i in range(10):
        # A helix of spheres above the opening, each 2 cm over the one before.
        angle = 2.0 * math.pi * i / 5
        body = spec.worldbody.add_body(
            name=f"ball{i}", pos=[0.018 * math.cos(angle), 0.018 * math.sin(angle), rim + 0.03 + 0.025 * i]
        )
        body.add_freejoint()
        body.add_geom(type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[radius, 0, 0], mass=0.01)
    model = spec.compile()
    data = mujoco.MjData(model)
    while data.time < 2.0:
        mujoco.mj_step(model, data)
    base = data.body(container)
    assert base.xmat.reshape(3, 3)[2, 2] > 0.99, "the container tipped over"
    for i in range(10):
        offset = data.body(f"ball{i}").xpos - base.xpos
        assert np.hypot(offset[0], offset[1]) < (0.09 if container == "bowl" else inner), f"ball{i} escaped"
        assert 0.0 < offset[2] < rim, f"ball{i} is not inside: {offset}"


def test_per_world_damping_friction_and_range_move_each_world_as_the_c_engine_with_those_values():
    spec = mujoco.MjSpec()
    props.add_drawer_cabinet(spec, damping=2.0, frictionloss=0.5)
    sim = Simulation(spec, num_worlds=4, device="cpu")
    slide = sim.mj_model.joint("drawer_slide").dofadr[0]
    sim.model_field("dof_damping")[:, slide] = torch.tensor([1.0, 4.0, 12.0, 1.0])
    sim.model_field("dof_frictionloss")[:, slide] = torch.tensor([0.5, 0.5, 2.0, 0.5])
    # A shorter travel in the last world: MuJoCo Warp reads a limited joint's range per world.
    sim.model_field("jnt_range")[3, 0] = torch.tensor([0.0, 0.05])
    qpos = torch.tensor([[0.02]] * 4)
    qvel = torch.tensor([[1.2]] * 4)
    sim.set_state(qpos, qvel)
    sim.step(150)
    final = sim.qpos[:, 0].numpy().astype(np.float64)
    for world in range(4):
        model = sim.world_mj_model(world)
        data = mujoco.MjData(model)
        data.qpos[0], data.qvel[0] = 0.02, 1.2
        for _ in range(150):
            mujoco.mj_step(model, data)
        assert final[world] == pytest.approx(data.qpos[0], abs=2e-5), world
    # The damping told: the drawer slid farther in the world with the least.
    assert final[0] > final[1] + 0.02 > final[2] + 0.04
    # The same motion as world 0 but for the range: stopped at 0.05 m (and bounced off the limit)
    # where world 0 slid past 0.1 m.
    assert final[3] <= 0.05 + 1e-3 and final[0] > 0.1
