"""Bodies and geoms welded to the world, moved per world, against MuJoCo's C engine.

MuJoCo Warp places the geoms welded to the world once, when its data is made; per-world
``body_pos``/``body_quat``/``geom_pos``/``geom_quat`` must still move them
(``Simulation.update_static_poses``), collision included.
"""

from __future__ import annotations

import mujoco
import numpy as np
import torch

from warplab.sim.static_poses import static_ids

from .reference import make_sim, numpy_rows

# A table (jointless, welded to the world) with a shelf welded to it, geoms and a site set off from
# their bodies, a world-body geom, a box on a free joint resting on the top and a hinged arm whose
# geoms are not static.
TABLE_XML = """
<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <geom name="floor" type="plane" size="3 3 0.1" pos="0 0 -0.5"/>
    <body name="table" pos="0 0 0.4" quat="0.9950042 0 0 0.0998334">
      <geom name="top" type="box" size="0.3 0.3 0.02" pos="0 0 0.02"/>
      <geom name="leg" type="box" size="0.02 0.02 0.2" pos="0.25 0.25 -0.2" euler="0 0 20"/>
      <site name="corner" pos="0.3 0.3 0.04"/>
      <body name="shelf" pos="0.1 0 -0.2" euler="10 0 0">
        <geom name="board" type="box" size="0.1 0.1 0.01" pos="0 0.05 0"/>
        <geom name="lip" type="box" size="0.1 0.01 0.02"/>
        <site name="shelf_site" pos="0.05 0 0.01"/>
      </body>
    </body>
    <body name="box" pos="0 0 0.49">
      <freejoint/>
      <geom name="box" type="box" size="0.05 0.05 0.05" mass="0.5"/>
    </body>
    <body name="arm" pos="1 0 0.5">
      <joint name="hinge" type="hinge" axis="0 1 0"/>
      <geom name="arm" type="capsule" fromto="0 0 0 0.2 0 0" size="0.02" pos="0 0 0" contype="0" conaffinity="0"/>
    </body>
  </worldbody>
</mujoco>
"""

NUM_WORLDS = 3


def _quat_z(angle: float) -> list[float]:
    return [float(np.cos(angle / 2)), 0.0, 0.0, float(np.sin(angle / 2))]


def _move_statics(sim) -> None:
    """Writes a different place for the table, the shelf, the leg and the floor in each world."""
    m = sim.mj_model
    table, shelf = (mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, n) for n in ("table", "shelf"))
    leg, floor, lip = (mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, n) for n in ("leg", "floor", "lip"))
    # The lip sits at its body's origin, so the compiler marks its frame as the body's (a shortcut
    # the C engine takes unless ``world_mj_model`` drops it for a per-world offset).
    assert m.geom_sameframe[lip] != 0
    body_pos, body_quat = sim.model_field("body_pos"), sim.model_field("body_quat")
    geom_pos, geom_quat = sim.model_field("geom_pos"), sim.model_field("geom_quat")
    for w in range(NUM_WORLDS):
        body_pos[w, table] = torch.tensor([0.1 * w, -0.05 * w, 0.4 + 0.1 * w])
        body_quat[w, table] = torch.tensor(_quat_z(0.2 + 0.3 * w))
        body_pos[w, shelf] = torch.tensor([0.1, 0.02 * w, -0.2])
        geom_pos[w, leg] = torch.tensor([0.25 - 0.05 * w, 0.25, -0.2])
        geom_quat[w, leg] = torch.tensor(_quat_z(0.1 * w))
        geom_pos[w, floor] = torch.tensor([0.0, 0.0, -0.5 + 0.01 * w])
        geom_pos[w, lip] = torch.tensor([0.0, -0.1, 0.02 * w])
        geom_quat[w, lip] = torch.tensor(_quat_z(0.05 * w))


def _c_engine(sim, w: int) -> mujoco.MjData:
    model = sim.world_mj_model(w)
    data = mujoco.MjData(model)
    data.qpos[:] = numpy_rows(sim.qpos[w])
    mujoco.mj_forward(model, data)
    return data


def _assert_poses_match(sim, w: int, atol: float = 1e-5) -> None:
    ref = _c_engine(sim, w)
    for name in ("xpos", "xquat", "geom_xpos", "site_xpos"):
        ours = numpy_rows(getattr(sim, name)[w])
        np.testing.assert_allclose(ours, getattr(ref, name), atol=atol, err_msg=f"{name}, world {w}")
    np.testing.assert_allclose(
        numpy_rows(sim.xmat[w]).reshape(-1, 9), ref.xmat, atol=atol, err_msg=f"xmat, world {w}"
    )
    np.testing.assert_allclose(
        numpy_rows(sim.geom_xmat[w]).reshape(-1, 9), ref.geom_xmat, atol=atol, err_msg=f"geom_xmat, world {w}"
    )


def _sim():
    return make_sim(TABLE_XML, NUM_WORLDS)


def test_static_ids_are_the_jointless_chain_from_the_world():
    m = mujoco.MjModel.from_xml_string(TABLE_XML)
    bodies, geoms = static_ids(m)
    names = [m.body(int(b)).name for b in bodies]
    assert names == ["table", "shelf"]
    assert [m.geom(int(g)).name for g in geoms] == ["floor", "top", "leg", "board", "lip"]


def test_per_world_static_poses_match_the_c_engine():
    sim = _sim()
    _move_statics(sim)
    sim.reset()  # places the static items, then the forward pass
    for w in range(NUM_WORLDS):
        _assert_poses_match(sim, w)
    # And they stay placed through steps (MuJoCo Warp's kinematics leaves them alone).
    sim.step(3)
    sim.forward()
    for w in range(NUM_WORLDS):
        _assert_poses_match(sim, w)


def test_only_the_worlds_of_the_mask_move():
    sim = _sim()
    before = sim.geom_xpos.clone()
    _move_statics(sim)
    sim.update_static_poses(torch.tensor([False, True, False]))
    # World 0's new values equal the compiled ones but for the floor; world 2 moved in the model
    # only: both keep the poses placed when the data was made.
    torch.testing.assert_close(sim.geom_xpos[0], before[0])
    torch.testing.assert_close(sim.geom_xpos[2], before[2])
    sim.forward()
    _assert_poses_match(sim, 1)


def test_box_rests_on_the_moved_table_top():
    sim = _sim()
    m = sim.mj_model
    table = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "table")
    heights = torch.tensor([0.4, 0.55, 0.3])  # the table's origin in each world, m
    sim.model_field("body_pos")[:, table, 2] = heights
    qpos = sim.init_qpos.repeat(NUM_WORLDS, 1)
    # The box (half size 0.05) starts 1 mm above each world's top (origin + 0.04).
    qpos[:, 2] = heights + 0.04 + 0.05 + 0.001
    sim.reset()
    sim.set_state(qpos=qpos)
    sim.step(150)
    # At rest on the top, sunk no deeper than MuJoCo's soft contact lets it (a few mm).
    np.testing.assert_allclose(numpy_rows(sim.qpos[:, 2]), numpy_rows(heights + 0.09), atol=3e-3)
    assert float(sim.qvel[:, :3].abs().max()) < 0.05


def test_restored_state_restores_the_static_poses():
    sim = _sim()
    _move_statics(sim)
    sim.reset()
    saved = {name: value.clone() for name, value in sim.state_tensors().items()}
    placed = sim.geom_xpos.clone(), sim.geom_xmat.clone(), sim.xpos.clone()

    sim.model_field("body_pos").add_(0.3)
    sim.model_field("geom_quat")[:] = torch.tensor(_quat_z(1.0))
    sim.reset()
    assert not torch.allclose(sim.geom_xpos, placed[0])

    # The restore that ``state_tensors`` documents: copy the saved values, then place and forward.
    for name, value in sim.state_tensors().items():
        value.copy_(saved[name])
    sim.update_static_poses()
    sim.forward()
    for ours, before in zip((sim.geom_xpos, sim.geom_xmat, sim.xpos), placed, strict=True):
        torch.testing.assert_close(ours, before, atol=1e-6, rtol=0)
    for w in range(NUM_WORLDS):
        _assert_poses_match(sim, w)


def test_nothing_runs_while_no_static_field_is_per_world():
    sim = _sim()
    sim.model_field("geom_friction")
    assert not sim.static_poses.needed()
    sim.model_field("geom_pos")
    assert sim.static_poses.needed()
