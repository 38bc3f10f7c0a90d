"""The orientation goal: success exactly below the tolerance, a new goal for those worlds only, the
count per episode, the goal rewards and the terminations that read it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from warplab.envs import (
    ActionTermCfg,
    CommandTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnv,
    RlEnvCfg,
    TerminationTermCfg,
    mdp,
)
from warplab.envs.mdp import math as wmath

from ._hand_scene import hand_spec

N = 4
TOL = 0.1
CAP = 3
MAX_STEPS = 6
GOAL = {"command_name": "goal"}
DROP = {"object": "cube", "frame_body": "palm", "max_distance": 0.4}


def _cfg() -> RlEnvCfg:
    goal_params = {
        "object": "cube",
        "tolerance_rad": TOL,
        "rotation": "z",
        "base_quat": (0.0, 1.0, 0.0, 0.0),
        "position": (0.1, -0.2, 0.6),
        "position_range": {"x": (-0.02, 0.02), "z": (0.0, 0.01)},
    }
    return RlEnvCfg(
        scene=hand_spec,
        decimation=2,
        episode_length_s=100.0,
        num_envs=N,
        device="cpu",
        seed=11,
        scale_rewards_by_dt=False,
        observations={
            "policy": ObservationGroupCfg(
                terms={
                    "goal_quat": ObservationTermCfg(func=mdp.goal_quat, params=GOAL),
                    "goal_diff": ObservationTermCfg(func=mdp.goal_quat_diff, params=GOAL),
                    "goal_error": ObservationTermCfg(func=mdp.goal_orientation_error, params=GOAL),
                }
            )
        },
        actions={"finger": ActionTermCfg(func=mdp.JointPositionAction, params={"actuators": "finger_pos"})},
        commands={
            "goal": CommandTermCfg(
                func=mdp.OrientationGoalCommand, params=goal_params, resampling_time_range_s=(1e9, 1e9)
            )
        },
        rewards={
            "bonus": RewardTermCfg(func=mdp.goal_reached_bonus, weight=250.0, params=GOAL),
            "rotation": RewardTermCfg(func=mdp.rotation_alignment, weight=1.0, params=GOAL),
            "distance": RewardTermCfg(func=mdp.object_goal_distance, weight=-10.0, params=GOAL),
            "dropped": RewardTermCfg(func=mdp.object_dropped_penalty, weight=-1.0, params=DROP),
        },
        terminations={
            "dropped": TerminationTermCfg(func=mdp.object_dropped, params=DROP),
            "no_progress": TerminationTermCfg(
                func=mdp.no_progress, params={**GOAL, "max_steps": MAX_STEPS}, time_out=True
            ),
            "success_cap": TerminationTermCfg(
                func=mdp.success_cap, params={**GOAL, "max_successes": CAP}, time_out=True
            ),
        },
        events={
            "place": EventTermCfg(
                func=mdp.reset_object_pose,
                mode="reset",
                params={"object": "cube", "position": (0.1, -0.2, 0.6)},
            )
        },
    )


@pytest.fixture(scope="module")
def env() -> RlEnv:
    return RlEnv(_cfg())


def _goal(env: RlEnv) -> mdp.OrientationGoalCommand:
    return env.command_manager.term("goal")


def _put_cube_off_goal(env: RlEnv, angles: list[float]) -> None:
    """Each world's cube at its goal position, turned from its goal orientation by ``angles[i]`` rad
    about a tilted axis (so the error is exactly that angle)."""
    goal = env.command("goal")
    axis = torch.tensor([0.6, 0.0, 0.8]).expand(N, 3)
    turn = wmath.quat_from_axis_angle(axis, torch.tensor(angles))
    qpos = env.sim.qpos.clone()
    qpos[:, 1:4] = goal[:, :3]
    qpos[:, 4:8] = wmath.quat_mul(turn, goal[:, 3:7])
    env.set_physical_state(qpos=qpos, qvel=torch.zeros_like(env.sim.qvel))


def _step(env: RlEnv):
    return env.step(torch.zeros(N, 1))


def test_goals_are_drawn_about_z_within_the_position_ranges(env):
    env.reset()
    goal = env.command("goal")
    pos, quat = goal[:, :3], goal[:, 3:]
    assert ((pos[:, 0] >= 0.08) & (pos[:, 0] <= 0.12)).all() and (pos[:, 1] == -0.2).all()
    assert ((pos[:, 2] >= 0.6) & (pos[:, 2] <= 0.61)).all()
    # z(angle) * (0, 1, 0, 0) = (0, cos(a/2), sin(a/2), 0): upside down, heading drawn per world.
    torch.testing.assert_close(quat[:, [0, 3]], torch.zeros(N, 2), atol=1e-7, rtol=0)
    torch.testing.assert_close(quat.norm(dim=1), torch.ones(N))
    assert quat[:, 2].std() > 0


def test_success_is_counted_exactly_below_the_tolerance(env):
    env.reset()
    angles = [TOL - 0.01, TOL + 0.01, 0.0, 1.0]
    hit = torch.tensor([True, False, True, False])
    _put_cube_off_goal(env, angles)
    goal = _goal(env)
    before = env.command("goal").clone()
    obs = env.observations["policy"]
    # goal_quat (4), goal_quat_diff (4), goal_orientation_error (1).
    torch.testing.assert_close(obs[:, 8], torch.tensor(angles), atol=2e-6, rtol=0)
    torch.testing.assert_close(obs[:, 0:4], before[:, 3:7])
    diff_angle = 2 * torch.atan2(obs[:, 5:8].norm(dim=1), obs[:, 4])
    torch.testing.assert_close(diff_angle, torch.tensor(angles), atol=2e-6, rtol=0)
    _, reward, terminated, truncated, _ = _step(env)
    assert not (terminated | truncated).any()
    assert torch.equal(goal.success_this_step, hit)
    assert goal.consecutive_successes.tolist() == [1, 0, 1, 0]
    assert goal.steps_since_success.tolist() == [0, 1, 0, 1]
    after = env.command("goal")
    assert torch.equal(after[~hit], before[~hit])  # no new goal where the goal was missed
    assert (after[hit] != before[hit]).any(dim=1).all()  # a new goal where it was reached
    terms = env.reward_manager.step_terms
    bonus, rotation = env.reward_manager.names.index("bonus"), env.reward_manager.names.index("rotation")
    assert terms[:, bonus].tolist() == [250.0 * h for h in hit.tolist()]
    torch.testing.assert_close(terms[:, rotation], 1.0 / (torch.tensor(angles) + 0.1), atol=2e-4, rtol=0)
    distance = env.reward_manager.names.index("distance")
    torch.testing.assert_close(terms[:, distance], torch.zeros(N), atol=1e-6, rtol=0)
    torch.testing.assert_close(reward, terms.sum(dim=1))


def test_success_cap_ends_the_episode_as_a_time_out_and_the_count_restarts(env):
    env.reset()
    env.pop_episode_stats()
    before = _goal(env).last_episode_successes[3].item()
    for step in range(1, CAP + 1):
        _put_cube_off_goal(env, [0.0, 0.0, 0.0, 1.0])  # worlds 0-2 at their (new) goal each step
        _, _, terminated, truncated, _ = _step(env)
        assert not terminated.any()
        assert truncated.tolist() == [step == CAP] * 3 + [False], step
    goal = _goal(env)
    assert goal.consecutive_successes.tolist() == [0, 0, 0, 0]  # the ended episodes start again
    assert goal.steps_since_success.tolist() == [0, 0, 0, CAP]
    # The ended episodes' counts stay on record for an evaluation; world 3's episode goes on.
    assert goal.last_episode_successes.tolist() == [CAP, CAP, CAP, before]
    flags = env.termination_manager.term_flags[:, env.termination_manager.names.index("success_cap")]
    assert flags.tolist() == [True, True, True, False]
    stats = env.pop_episode_stats()
    assert stats["Command/goal/consecutive_successes"] == CAP
    assert stats["Episode/count"] == 3


def test_no_progress_ends_the_episode_after_max_steps_without_success(env):
    env.reset()
    for step in range(1, MAX_STEPS + 1):
        if step == 3:
            _put_cube_off_goal(env, [1.0, 0.0, 1.0, 1.0])  # world 1 reaches its goal at step 3
        elif step < 3:
            _put_cube_off_goal(env, [1.0, 1.0, 1.0, 1.0])
        _, _, terminated, truncated, _ = _step(env)
        assert not terminated.any()
        expected = [step == MAX_STEPS, False, step == MAX_STEPS, step == MAX_STEPS]
        assert truncated.tolist() == expected, step
    flags = env.termination_manager.term_flags[:, env.termination_manager.names.index("no_progress")]
    assert flags.tolist() == [True, False, True, True]
    # World 1 succeeded at step 3 and ends MAX_STEPS steps later, at its own step 3 + MAX_STEPS.
    for _ in range(2):
        assert not _step(env)[3][1]
    assert _goal(env).steps_since_success[1] == MAX_STEPS - 1
    assert _step(env)[3][1]


def test_a_dropped_object_terminates_its_world_and_is_penalized(env):
    env.reset()
    qpos = env.sim.qpos.clone()
    qpos[1, 1:4] = torch.tensor([0.1, -0.2, 0.5]) + torch.tensor([0.0, 0.0, -0.45])  # 0.45 m below the palm
    env.set_physical_state(qpos=qpos)
    _, _, terminated, truncated, _ = _step(env)
    assert terminated.tolist() == [False, True, False, False] and not truncated.any()
    dropped = env.reward_manager.names.index("dropped")
    assert env.reward_manager.step_terms[:, dropped].tolist() == [0.0, -1.0, 0.0, 0.0]
    # The reset event put the cube back above the palm.
    torch.testing.assert_close(env.sim.qpos[1, 1:4], torch.tensor([0.1, -0.2, 0.6]))


def test_the_goal_state_is_saved_and_restored_exactly(env):
    env.reset()
    _put_cube_off_goal(env, [0.0, 1.0, 0.0, 1.0])
    _step(env)
    state = env.get_state()
    saved = {k: v.clone() for k, v in _goal(env).state_tensors().items()}
    assert {"command", "consecutive_successes", "steps_since_success", "success_this_step"} <= set(saved)
    _put_cube_off_goal(env, [0.0, 0.0, 0.0, 0.0])
    _step(env)
    assert not torch.equal(_goal(env).consecutive_successes, saved["consecutive_successes"])
    env.set_state(state)
    for name, value in _goal(env).state_tensors().items():
        assert torch.equal(value, saved[name]), name


def test_uniform_goals_cover_all_rotations():
    """``rotation="xyz"``: the goal's z axis is uniform on the sphere (mean 0, second moments 1/3)."""
    cfg = _cfg()
    cfg.num_envs = 2048
    cfg.commands["goal"].params = {"object": "cube", "rotation": "xyz"}
    cfg.rewards, cfg.terminations, cfg.events = {}, {}, {}
    env = RlEnv(cfg)
    quat = env.command("goal")[:, 3:]
    z = wmath.quat_rotate(quat, torch.tensor([0.0, 0.0, 1.0]).expand(2048, 3))
    assert z.mean(dim=0).abs().max() < 0.05
    torch.testing.assert_close(z.square().mean(dim=0), torch.full((3,), 1 / 3), atol=0.03, rtol=0)
    assert (quat[:, 0] >= 0).all()
    # The goal position defaults to the cube's position in the model.
    assert np.allclose(env.command("goal")[:, :3].numpy(), [0.2, -0.2, 0.7])


def test_goal_command_names_what_is_wrong(env):
    cfg = _cfg()
    cfg.commands["goal"].params = {"object": "cube", "rotation": "yaw"}
    with pytest.raises(ValueError, match=r"rotation must be one of \['xyz', 'x', 'y', 'z', 'fixed'\]"):
        RlEnv(cfg)
    cfg.commands["goal"].params = {"object": "cube", "tolerance": 0.1}
    with pytest.raises(ValueError, match=r"params has \['tolerance'\]"):
        RlEnv(cfg)
    with pytest.raises(KeyError, match="no command named 'velocity'"):
        mdp.goal_orientation_error(env, "velocity")
    assert math.isclose(_goal(env).tolerance_rad, TOL)
