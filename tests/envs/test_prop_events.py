"""Randomization of an articulated prop per world (a cabinet door beside the cart-pole): friction loss,
spring stiffness, spring rest angle, handle size and handle place change the masked worlds from the
nominal values, and a world steps in MuJoCo Warp as MuJoCo's C engine steps a model with its values."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.props import add_cabinet_door
from warplab.assets.robots.cartpole import cartpole_spec
from warplab.envs import RlEnv, mdp

from ._cfgs import cartpole_cfg

MASK = torch.tensor([True, False, True])


def _scene() -> mujoco.MjSpec:
    spec = cartpole_spec()
    add_cabinet_door(spec, (0.0, 2.0, 0.0), frictionloss=0.2, stiffness=0.5, damping=0.3, handle="knob")
    return spec


@pytest.fixture(scope="module")
def env() -> RlEnv:
    return RlEnv(cartpole_cfg(num_envs=3, scene=_scene))


def test_joint_terms_scale_or_offset_the_nominal_value_in_the_masked_worlds(env):
    m = env.mj_model
    hinge = m.joint("cabinet_hinge")
    dof, qadr = int(hinge.dofadr[0]), int(hinge.qposadr[0])
    for _ in range(2):  # twice: drawn from the nominal value again, not compounded
        mdp.randomize_joint_frictionloss(env, MASK, (3.0, 3.0), joints="cabinet_hinge")
        mdp.randomize_joint_stiffness(env, MASK, (4.0, 4.0), joints="cabinet_hinge")
        mdp.randomize_joint_springref(env, MASK, (0.3, 0.3), joints="cabinet_hinge")
    friction = env.sim.model_field("dof_frictionloss")[:, dof]
    stiffness = env.sim.model_field("jnt_stiffness")[:, hinge.id]
    springref = env.sim.model_field("qpos_spring")[:, qadr]
    torch.testing.assert_close(friction, torch.tensor([0.6, 0.2, 0.6]))
    torch.testing.assert_close(stiffness, torch.tensor([2.0, 0.5, 2.0]))
    torch.testing.assert_close(springref, torch.tensor([0.3, 0.0, 0.3]))
    # The cart-pole's own joints (no friction loss, no spring) are untouched.
    others = [i for i in range(m.nv) if i != dof]
    torch.testing.assert_close(
        env.sim.model_field("dof_frictionloss")[:, others],
        torch.as_tensor(m.dof_frictionloss[others], dtype=torch.float32).expand(3, -1),
    )
    with pytest.raises(KeyError, match="no joint named 'lid_hinge'"):
        mdp.randomize_joint_stiffness(env, MASK, (1.0, 1.0), joints="lid_hinge")


def test_each_world_swings_its_door_as_the_c_engine_with_that_worlds_spring_and_friction(env):
    mdp.randomize_joint_frictionloss(env, MASK, (0.5, 0.5), joints="cabinet_hinge")
    mdp.randomize_joint_stiffness(env, MASK, (6.0, 6.0), joints="cabinet_hinge")
    mdp.randomize_joint_springref(env, MASK, (0.4, 0.4), joints="cabinet_hinge")
    m = env.mj_model
    qadr = int(m.joint("cabinet_hinge").qposadr[0])
    qpos = np.tile(m.qpos0, (3, 1)).astype(np.float32)
    qpos[:, qadr] = 1.0
    env.sim.set_state(torch.as_tensor(qpos), torch.zeros(3, m.nv))
    env.sim.step(60)
    door = env.sim.qpos[:, qadr].numpy()
    for world in range(3):
        model = env.sim.world_mj_model(world)
        data = mujoco.MjData(model)
        data.qpos[:] = qpos[world]
        for _ in range(60):
            mujoco.mj_step(model, data)
        assert door[world] == pytest.approx(data.qpos[qadr], abs=1e-4), world
    # The stiffer spring, pulling toward 0.4 rad rather than 0, closed the door less far.
    assert door[0] == pytest.approx(door[2], abs=1e-6) and abs(door[0] - door[1]) > 0.05


def test_handle_size_and_place_per_world_move_its_bounds_and_grasp_site(env):
    m = env.mj_model
    knob, site = m.geom("cabinet_handle").id, m.site("cabinet_handle").id
    radius = float(m.geom_size[knob, 0])
    mdp.randomize_geom_size(env, MASK, (1.5, 1.5), geoms="cabinet_handle")
    size = env.sim.model_field("geom_size")[:, knob, 0]
    torch.testing.assert_close(size, torch.tensor([1.5, 1.0, 1.5]) * radius)
    # Collision detection's bounding radius followed the size (set_const), in the masked worlds only.
    rbound = env.sim.model_field("geom_rbound")[:, knob]
    torch.testing.assert_close(rbound, torch.tensor([1.5, 1.0, 1.5]) * radius)
    mdp.randomize_geom_pos(env, MASK, {"z": (0.05, 0.05)}, geoms="cabinet_handle", sites="cabinet_handle")
    env.sim.set_state(torch.as_tensor(np.tile(m.qpos0, (3, 1)), dtype=torch.float32), torch.zeros(3, m.nv))
    height = env.sim.site_xpos[:, site, 2]
    torch.testing.assert_close(height - height[1], torch.tensor([0.05, 0.0, 0.05]), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="name 2 sites for 1 geoms"):
        mdp.randomize_geom_pos(env, MASK, (0.0, 0.01), geoms="cabinet_handle", sites="cabinet_(handle|joint)")
