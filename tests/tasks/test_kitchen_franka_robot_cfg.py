"""The Franka of Gymnasium-Robotics' kitchen as a ``RobotCfg``: built from the installed package's files
through ``build_robot_spec``, checked against the package's own kitchen scene, and holding its home
pose in MuJoCo Warp on the CPU as in MuJoCo's C engine."""

from __future__ import annotations

import re

import mujoco
import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium_robotics")

from warplab.assets import build_robot_spec  # noqa: E402
from warplab.sim import Simulation  # noqa: E402
from warplab.tasks.gym_robotics import kitchen_franka_robot_cfg, kitchen_spec  # noqa: E402
from warplab.tasks.gym_robotics.kitchen_franka import KITCHEN_FRANKA_JOINTS  # noqa: E402


@pytest.fixture(scope="module")
def arm_model():
    return build_robot_spec(kitchen_franka_robot_cfg()).compile()


def test_arm_is_the_kitchen_franka(arm_model):
    kitchen = kitchen_spec().compile()
    assert arm_model.njnt == arm_model.nu == 9
    for j, name in enumerate(KITCHEN_FRANKA_JOINTS):
        theirs = kitchen.joint(name)
        assert arm_model.joint(j).name == name
        np.testing.assert_array_equal(arm_model.jnt_range[j], theirs.range)
        np.testing.assert_array_equal(arm_model.dof_damping[j], kitchen.dof_damping[theirs.dofadr])
        assert arm_model.actuator(j).name == name  # renamed after its joint
        assert arm_model.actuator_trnid[j, 0] == j
        for field in ("actuator_gainprm", "actuator_biasprm", "actuator_ctrlrange", "actuator_forcerange"):
            np.testing.assert_array_equal(getattr(arm_model, field)[j], getattr(kitchen, field)[j], field)
    # The arm's bodies sit where the kitchen has them (same base, same chain).
    data, kdata = mujoco.MjData(arm_model), mujoco.MjData(kitchen)
    mujoco.mj_forward(arm_model, data)
    mujoco.mj_forward(kitchen, kdata)
    hand = "panda0_link7"
    np.testing.assert_allclose(data.body(hand).xpos, kdata.body(hand).xpos, atol=1e-9)


def test_actuator_groups_record_the_package_gains(arm_model):
    robot = kitchen_franka_robot_cfg()
    for a, joint in enumerate(KITCHEN_FRANKA_JOINTS):
        group = next(g for g in robot.actuators if re.fullmatch(g.joints, joint))
        assert group.kp == arm_model.actuator_gainprm[a, 0]
        assert group.effort_limit == arm_model.actuator_forcerange[a, 1]


def test_arm_holds_its_home_pose_in_mujoco_warp(arm_model):
    # Home: the kitchen's start inside the joint ranges, the servo targets there. Against gravity the
    # arm sags under its servos, the same in MuJoCo Warp as in MuJoCo's C engine: joint 3 most,
    # 0.022 rad after these 0.2 s, and it comes to rest 0.026 rad from home (measured on the C
    # engine after 3 s); 0.03 rad bounds both.
    home = arm_model.key("home")
    np.testing.assert_array_equal(home.qpos, home.ctrl)
    sim = Simulation(arm_model, 2, "cpu")
    sim.set_state(qpos=torch.as_tensor(home.qpos).expand(2, -1))
    sim.ctrl.copy_(torch.as_tensor(home.ctrl, dtype=torch.float32).expand(2, -1))
    sim.step(100)
    data = mujoco.MjData(arm_model)
    mujoco.mj_resetDataKeyframe(arm_model, data, home.id)
    mujoco.mj_step(arm_model, data, nstep=100)
    assert torch.isfinite(sim.qpos).all() and not sim.diverged.any()
    np.testing.assert_allclose(sim.qpos[0].double().numpy(), data.qpos, atol=1e-5)
    assert np.abs(data.qpos - home.qpos).max() < 0.03
