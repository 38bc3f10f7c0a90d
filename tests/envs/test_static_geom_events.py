"""A reset event that moves a geom welded to the world (``randomize_geom_pos`` on a table top) moves
its collision shape in each world, and an env state restores where it was."""

from __future__ import annotations

import mujoco
import pytest
import torch

from warplab.envs import (
    ActionTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RlEnv,
    RlEnvCfg,
    mdp,
)

# A table top welded to the world; a box on a free joint dropped onto it; a hinged pointer (no
# contacts) that gives the env an action.
TABLE_XML = """
<mujoco>
  <option timestep="0.004"/>
  <worldbody>
    <geom name="floor" type="plane" size="3 3 0.1"/>
    <body name="table" pos="0 0 0.4">
      <geom name="top" type="box" size="0.3 0.3 0.02"/>
    </body>
    <body name="box" pos="0 0 0.7">
      <freejoint/>
      <geom name="box" type="box" size="0.05 0.05 0.05" mass="0.5"/>
    </body>
    <body name="pointer" pos="1 0 0.5">
      <joint name="hinge" type="hinge" axis="0 1 0"/>
      <geom type="capsule" fromto="0 0 0 0.2 0 0" size="0.02" mass="0.1" contype="0" conaffinity="0"/>
    </body>
  </worldbody>
  <actuator>
    <position name="hinge_pos" joint="hinge" kp="2" kv="0.2"/>
  </actuator>
</mujoco>
"""

NUM_ENVS = 3
TOP_Z = (-0.15, 0.15)
"""How far the top moves up or down at each reset, m."""


@pytest.fixture(scope="module")
def env() -> RlEnv:
    cfg = RlEnvCfg(
        scene=lambda: mujoco.MjSpec.from_string(TABLE_XML),
        decimation=5,
        episode_length_s=100.0,
        num_envs=NUM_ENVS,
        device="cpu",
        observations={
            "policy": ObservationGroupCfg(terms={"joints": ObservationTermCfg(func=mdp.joint_pos)})
        },
        actions={"hinge": ActionTermCfg(func=mdp.JointPositionAction, params={"scale": 0.5})},
        rewards={},
        terminations={},
        events={
            "top": EventTermCfg(
                func=mdp.randomize_geom_pos, mode="reset", params={"ranges": {"z": TOP_Z}, "geoms": "top"}
            )
        },
    )
    return RlEnv(cfg)


def _top_z(env: RlEnv) -> torch.Tensor:
    return env.sim.geom_xpos[:, env.mj_model.geom("top").id, 2]


def test_the_box_lands_on_each_world_s_moved_top(env):
    env.reset(seed=0)
    top = env.mj_model.geom("top").id
    drawn = env.sim.model_field("geom_pos")[:, top, 2]
    assert len(set(drawn.tolist())) == NUM_ENVS  # one draw per world
    # The top's surface in the world: the table at 0.4 m, the top's own offset, its half height 0.02.
    torch.testing.assert_close(_top_z(env), 0.4 + drawn, atol=1e-6, rtol=0)
    for _ in range(30):  # 0.6 s: the box falls at most 0.4 m and settles
        env.step(torch.zeros(NUM_ENVS, env.action_dim))
    box_z = env.sim.qpos[:, 2]
    torch.testing.assert_close(box_z, _top_z(env) + 0.02 + 0.05, atol=3e-3, rtol=0)


def test_set_state_restores_where_the_top_was(env):
    env.reset(seed=1)
    state = env.get_state()
    placed = _top_z(env).clone()
    env.reset(seed=2)
    assert not torch.allclose(_top_z(env), placed)
    env.set_state(state)
    torch.testing.assert_close(_top_z(env), placed, atol=0, rtol=0)
