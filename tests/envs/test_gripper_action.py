"""``BinaryGripperAction``: the sign of one number opens or closes the gripper's servo."""

from __future__ import annotations

import pytest
import torch

from warplab.assets.robots.arm import GRIPPER_JOINT, GRIPPER_STROKE
from warplab.envs import mdp
from warplab.envs.config import ActionTermCfg
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg


@pytest.fixture(scope="module")
def env() -> RlEnv:
    cfg = make_env_cfg("arm-lift", play=True)
    cfg.num_envs, cfg.device, cfg.seed = 4, "cpu", 0
    return RlEnv(cfg)


def test_below_zero_closes_and_zero_or_above_opens(env):
    term = env.action_manager.terms["gripper"]
    assert term.action_dim == 1 and term.actuator_targets() is None
    # What export writes: the same rule, declared by the term (threshold 0, the task's close and open).
    binary = term.binary_targets()
    assert binary.actuator_ids.tolist() == env.index.ids("actuator", GRIPPER_JOINT)
    assert binary.threshold == 0.0 and binary.control == "position"
    assert binary.close.tolist() == [0.0] and binary.open.tolist() == pytest.approx([GRIPPER_STROKE])
    term.process(torch.tensor([[-0.5], [0.0], [2.0], [-1e-6]]))
    term.apply()
    (act,) = env.index.ids("actuator", GRIPPER_JOINT)
    torch.testing.assert_close(env.sim.ctrl[:, act], torch.tensor([0.0, GRIPPER_STROKE, GRIPPER_STROKE, 0.0]))


def test_closing_through_the_env_closes_the_fingers(env):
    env.reset(seed=0)
    (q,) = env.index.joint_qpos_ids(GRIPPER_JOINT)
    action = torch.zeros(4, env.action_dim)
    action[:, -1] = torch.tensor([-1.0, 1.0, -1.0, 1.0])
    for _ in range(25):  # 0.5 s: the fingers close at 0.1 m/s over their 4 cm
        env.step(action)
    finger = env.sim.qpos[:, q]
    assert (finger[[0, 2]] < 0.002).all() and (finger[[1, 3]] > GRIPPER_STROKE - 0.002).all()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"actuators": GRIPPER_JOINT, "open": 0.04, "close": 0.0, "speed": 1},
            r"\['speed'\], which it does not take",
        ),
        (
            {"actuators": GRIPPER_JOINT, "open": (0.04, 0.04), "close": 0.0},
            r"params\['open'\] must be one number or 1",
        ),
        ({"open": 0.04, "close": 0.0}, r"needs params\['actuators'\]"),
    ],
)
def test_bad_params_are_named(env, params, match):
    with pytest.raises(ValueError, match=match):
        mdp.BinaryGripperAction(ActionTermCfg(func=mdp.BinaryGripperAction, params=params), env)
