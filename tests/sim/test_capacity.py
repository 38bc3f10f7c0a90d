"""Contact and constraint capacity: sizing from the model, and overflows raised, never silent."""

from __future__ import annotations

import mujoco
import mujoco_warp as mjw
import numpy as np
import pytest
import torch

from warplab.sim import CapacityError, SimCfg, Simulation, size_buffers

from .reference import FALLING_BODIES_XML, c_engine_forward, falling_state

# Twenty 10 cm cubes in a 5 x 4 grid, each resting 0.1 mm into the floor: a box on a plane touches
# at its 4 corners, so 80 contacts per world and, with pyramidal friction cones of condim 3
# (4 rows per contact), 320 constraint rows (worked out by hand; checked against the C engine).
_BOXES = "\n".join(
    f'<body pos="{0.3 * (i % 5)} {0.3 * (i // 5)} 0.0499"><freejoint/><geom type="box" size="0.05 0.05 0.05"/></body>'
    for i in range(20)
)
MANY_BOXES_XML = f"""
<mujoco>
  <option timestep="0.002" solver="Newton"/>
  <worldbody>
    <geom type="plane" size="5 5 0.1"/>
    {_BOXES}
  </worldbody>
</mujoco>
"""


@pytest.fixture(scope="module")
def many_boxes() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(MANY_BOXES_XML)


def test_hand_counts_match_the_c_engine(many_boxes):
    mjd = mujoco.MjData(many_boxes)
    mujoco.mj_forward(many_boxes, mjd)
    assert (mjd.ncon, mjd.nefc) == (80, 320)


def test_size_buffers_covers_what_the_c_engine_sees(many_boxes):
    cap = size_buffers(many_boxes)
    assert (cap.probe_ncon, cap.probe_nefc) == (80, 320)
    assert cap.nconmax >= cap.probe_ncon and cap.njmax >= cap.probe_nefc

    # The box and capsule land within the probe's rollout; at rest they touch with 4 + 2 contacts.
    falling = mujoco.MjModel.from_xml_string(FALLING_BODIES_XML)
    cap = size_buffers(falling)
    assert cap.probe_ncon >= 6 and cap.probe_nefc >= 24
    assert cap.nconmax >= cap.probe_ncon and cap.njmax >= cap.probe_nefc
    landed = falling.qpos0.copy()
    landed[[2, 9]] = [0.0499, 0.0399]
    ref = c_engine_forward(falling, landed, np.zeros(falling.nv))
    assert ref.ncon == 6 and cap.nconmax >= ref.ncon and cap.njmax >= ref.nefc


def test_size_buffers_keeps_the_users_values_and_checks_them(many_boxes):
    cap = size_buffers(many_boxes, nconmax=5, njmax=7)
    assert (cap.nconmax, cap.njmax) == (5, 7)
    with pytest.raises(ValueError, match="SimCfg.nconmax"):
        size_buffers(many_boxes, nconmax=0)
    with pytest.raises(ValueError, match="SimCfg.njmax"):
        size_buffers(many_boxes, njmax=2.5)
    with pytest.raises(ValueError, match="capacity_headroom"):
        size_buffers(many_boxes, headroom=0.5)


def test_undersized_buffers_raise_capacity_error_naming_the_settings(many_boxes):
    sim = Simulation(many_boxes, 2, device="cpu", cfg=SimCfg(nconmax=2, njmax=8))
    sim.step()
    with pytest.raises(CapacityError) as info:
        sim.check_capacity()
    message = str(info.value)
    assert "nconmax=2" in message and "SimCfg.nconmax" in message
    assert "njmax=8" in message and "SimCfg.njmax" in message
    # The overflow is remembered until the worlds are reset.
    sim.step()
    with pytest.raises(CapacityError):
        sim.check_capacity()
    sim.reset()
    sim.check_capacity()


def test_default_sizing_holds_every_contact(many_boxes):
    sim = Simulation(many_boxes, 2, device="cpu")
    sim.step(3)
    sim.check_capacity()
    count = int(sim.contact.count[0])
    per_world = torch.bincount(sim.contact.worldid[:count].long(), minlength=2)
    assert per_world.tolist() == [80, 80]
    # The boxes are held up by the floor, as in the C engine, not sinking through it.
    mjd = mujoco.MjData(many_boxes)
    for _ in range(3):
        mujoco.mj_step(many_boxes, mjd)
    np.testing.assert_allclose(sim.qpos.numpy()[0], mjd.qpos, atol=1e-5)


def test_solver_iteration_limits_are_not_capacity_errors():
    # One solver iteration cannot converge to this tolerance: MuJoCo Warp sets its iteration bits in
    # the overflow word, which are normal and must not be raised as lost contacts.
    xml = FALLING_BODIES_XML.replace(
        'solver="Newton"', 'solver="Newton" iterations="1" ls_iterations="1" tolerance="1e-15"'
    )
    sim = Simulation(mujoco.MjModel.from_xml_string(xml), 2, device="cpu")
    qpos, qvel, _ = falling_state(sim.mj_model, np.random.default_rng(0))
    sim.set_state(torch.tensor(np.tile(qpos, (2, 1))), torch.tensor(np.tile(qvel, (2, 1))))
    sim.step()
    assert torch.all(sim.overflow & int(mjw.OverflowType.ITERATIONS) != 0)
    sim.check_capacity()
