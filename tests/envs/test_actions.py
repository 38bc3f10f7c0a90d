"""Actions: validation, non-finite handling, and the controls the action terms write."""

from __future__ import annotations

import math

import pytest
import torch

from warplab.envs import ActionTermCfg, RlEnv, mdp

from ._cfgs import cartpole_cfg, free_body_cfg


@pytest.fixture(scope="module")
def cartpole():
    return RlEnv(cartpole_cfg())


@pytest.mark.parametrize("shape", [(2,), (2, 2), (1, 1), (3, 1)])
def test_wrong_shape_names_the_expected_shape(cartpole, shape):
    with pytest.raises(ValueError, match=r"expected \[num_envs=2, action_dim=1\]"):
        cartpole.step(torch.zeros(shape))


def test_integer_action_raises(cartpole):
    with pytest.raises(ValueError, match="floating-point"):
        cartpole.step(torch.zeros(2, 1, dtype=torch.int64))


def test_non_tensor_action_raises(cartpole):
    with pytest.raises(TypeError, match=r"\[2, 1\]"):
        cartpole.step([[0.0], [0.0]])


def test_nonfinite_action_is_zeroed_and_counted():
    env = RlEnv(cartpole_cfg())
    env.pop_episode_stats()
    env.step(torch.tensor([[math.nan], [0.5]]))
    assert env.sim.ctrl[:, 0].tolist() == [0.0, 0.5]
    assert env.action_manager.action[:, 0].tolist() == [0.0, 0.5]
    env.step(torch.tensor([[0.25], [math.inf]]))
    assert env.sim.ctrl[:, 0].tolist() == [0.25, 0.0]
    env.step(torch.tensor([[0.25], [0.5]]))
    assert env.pop_episode_stats()["Env/nonfinite_actions"] == 2.0
    assert env.pop_episode_stats()["Env/nonfinite_actions"] == 0.0


def test_nonfinite_action_raises_in_debug_mode():
    env = RlEnv(cartpole_cfg(debug=True))
    with pytest.raises(ValueError, match=r"NaN or inf.*\[1\]"):
        env.step(torch.tensor([[0.0], [math.nan]]))


def test_joint_effort_action_writes_scale_times_action():
    cfg = cartpole_cfg(actions={"force": ActionTermCfg(func=mdp.JointEffortAction, params={"scale": 0.4})})
    env = RlEnv(cfg)
    env.step(torch.tensor([[0.5], [-2.0]]))
    # ctrl = 0.4 * action, unclamped in ctrl (MuJoCo clamps to ctrlrange [-1, 1] inside the step).
    torch.testing.assert_close(env.sim.ctrl[:, 0], torch.tensor([0.2, -0.8]))
    # The cart's motor has gear 20: the force on the slider is 20 * ctrl (N).
    torch.testing.assert_close(env.sim.qfrc_actuator[:, 0], torch.tensor([4.0, -16.0]))


def test_joint_position_action_writes_default_plus_scale_times_action():
    env = RlEnv(free_body_cfg())
    # The elbow's default position is its ref, 0.3 rad; the wrist's is 0. The scale is 0.5.
    assert env.sim.init_qpos[7:].tolist() == pytest.approx([0.3, 0.0])
    env.step(torch.tensor([[1.0, -0.4], [-0.2, 0.6]]))
    expected = torch.tensor([[0.3 + 0.5, -0.2], [0.3 - 0.1, 0.3]])
    torch.testing.assert_close(env.sim.ctrl, expected)


def test_joint_position_action_per_actuator_scale_clip_and_no_offset():
    params = {"scale": [1.0, 2.0], "clip": (-0.5, 0.5), "use_default_offset": False}
    env = RlEnv(free_body_cfg(actions={"joints": ActionTermCfg(func=mdp.JointPositionAction, params=params)}))
    env.step(torch.tensor([[1.0, -0.4], [-0.2, 0.6]]))
    # The raw action is clipped to [-0.5, 0.5], then scaled per actuator; no default offset.
    torch.testing.assert_close(env.sim.ctrl, torch.tensor([[0.5, -0.8], [-0.2, 1.0]]))


def test_actions_of_several_terms_are_concatenated():
    actions = {
        "wrist": ActionTermCfg(func=mdp.JointEffortAction, params={"actuators": "wrist_pos", "scale": 3.0}),
        "elbow": ActionTermCfg(func=mdp.JointPositionAction, params={"actuators": "elbow_pos"}),
    }
    env = RlEnv(free_body_cfg(actions=actions))
    assert env.action_dim == 2
    env.step(torch.tensor([[0.1, 0.2], [0.3, -0.4]]))
    # Columns follow the terms in order: wrist first (3 * a), then the elbow (0.3 + a); ctrl is by actuator.
    torch.testing.assert_close(env.sim.ctrl, torch.tensor([[0.5, 0.3], [-0.1, 0.9]]))
