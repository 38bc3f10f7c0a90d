"""The Shadow hand of Gymnasium-Robotics as a ``RobotCfg``: built from the installed package's files
through ``build_robot_spec`` and the scene, checked against the package's own block scene, and
stepped in MuJoCo Warp on the CPU."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium_robotics")

from warplab.assets import build_robot_spec  # noqa: E402
from warplab.sim import Simulation  # noqa: E402
from warplab.tasks.gym_robotics import hand_block_spec, shadow_hand_robot_cfg  # noqa: E402
from warplab.tasks.gym_robotics.shadow_hand import SHADOW_HAND_JOINTS  # noqa: E402


@pytest.fixture(scope="module")
def hand_model():
    return build_robot_spec(shadow_hand_robot_cfg()).compile()


def test_hand_matches_the_package_block_scene(hand_model):
    # The same hand as in manipulate_block.xml: joints, ranges, actuators (gains, ranges), tendons.
    block = hand_block_spec().compile()
    assert hand_model.njnt == 24 and hand_model.nu == 20 and hand_model.ntendon == block.ntendon
    for j in range(hand_model.njnt):
        other = block.joint(hand_model.joint(j).name)
        np.testing.assert_array_equal(hand_model.jnt_range[j], other.range)
    actuated = [hand_model.joint(hand_model.actuator_trnid[a, 0]).name for a in range(hand_model.nu)]
    assert tuple(actuated) == SHADOW_HAND_JOINTS
    for a, joint in enumerate(SHADOW_HAND_JOINTS):
        assert hand_model.actuator(a).name == joint  # renamed after its joint
        theirs = block.actuator(joint.replace("robot0:", "robot0:A_")).id
        for field in ("actuator_gainprm", "actuator_biasprm", "actuator_ctrlrange", "actuator_forcerange"):
            np.testing.assert_array_equal(getattr(hand_model, field)[a], getattr(block, field)[theirs], field)


def test_actuator_groups_record_the_package_gains(hand_model):
    import re

    robot = shadow_hand_robot_cfg()
    for a, joint in enumerate(SHADOW_HAND_JOINTS):
        group = next(g for g in robot.actuators if re.fullmatch(g.joints, joint))
        assert group.kp == hand_model.actuator_gainprm[a, 0]
        assert group.effort_limit == hand_model.actuator_forcerange[a, 1]
    half_range = (hand_model.actuator_ctrlrange[:, 1] - hand_model.actuator_ctrlrange[:, 0]) / 2
    np.testing.assert_allclose(robot.action_scales(), half_range, atol=1e-9)


def test_hand_builds_in_a_scene_and_holds_its_home_pose_in_mujoco_warp(hand_model):
    # Home: the open hand with its targets there; with a floor added it stays put in MuJoCo Warp as
    # in MuJoCo's C engine (gravity sags the fingers slightly against kp 1).
    spec = build_robot_spec(shadow_hand_robot_cfg())
    spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[1, 1, 0.1])
    model = spec.compile()
    home = model.key("home")
    np.testing.assert_array_equal(home.qpos, 0.0)
    np.testing.assert_array_equal(home.ctrl, 0.0)
    sim = Simulation(model, 2, "cpu")
    sim.set_state(qpos=torch.as_tensor(home.qpos).expand(2, -1))
    sim.step(50)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, home.id)
    mujoco.mj_step(model, data, nstep=50)
    assert torch.isfinite(sim.qpos).all() and not sim.diverged.any()
    np.testing.assert_allclose(sim.qpos[0].double().numpy(), data.qpos, atol=1e-4)
    assert np.abs(data.qpos).max() < 0.2
