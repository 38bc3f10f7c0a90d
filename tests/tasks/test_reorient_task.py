"""hand-reorient-cube on the CPU with a few worlds: the cube rests on the palm at home, a success
earns the bonus and a new goal and is counted, a drop ends that world's episode only, the policy
sees no privileged state, and random rollouts never overflow the contact capacity. The configs
(variants, play mode, randomization) are checked without building an env.

``shadow-reorient-cube`` is built and stepped by ``tests/tasks/test_all_tasks.py``."""

from __future__ import annotations

import math

import pytest
import torch

from warplab.assets.robots.hand import (
    CUBE_HALF_SIZE,
    DEFAULT_HEIGHT,
    HAND_HOME,
    HAND_JOINT_NAMES,
    HAND_JOINT_RANGES,
)
from warplab.envs import RlEnv
from warplab.envs.mdp.math import quat_error_angle, quat_mul, quat_rotate
from warplab.envs.mdp.objects import object_free_joint
from warplab.tasks.registry import get_task
from warplab.tasks.reorient import (
    HAND_REORIENT_CFG,
    ReorientRandomizationCfg,
    make_reorient_env_cfg,
)
from warplab.tasks.reorient.env_cfg import MAX_SUCCESSES

NUM_ENVS = 4
PALM = torch.tensor([0.0, 0.0, DEFAULT_HEIGHT])
"""The palm frame's origin in the world (palm up: its axes are the world's)."""


@pytest.fixture(scope="module")
def env() -> RlEnv:
    cfg = get_task("hand-reorient-cube").env_cfg_factory(play=False)
    cfg.num_envs, cfg.device, cfg.seed = NUM_ENVS, "cpu", 0
    return RlEnv(cfg)


def _cube_q(env: RlEnv) -> int:
    return object_free_joint(env, "cube")[0]


def _slice(env: RlEnv, group: str, term: str) -> slice:
    start = 0
    for name, t in env.cfg.observations[group].terms.items():
        width = t.func(env, **t.params).reshape(env.num_envs, -1).shape[1]
        if name == term:
            return slice(start, start + width)
        start += width
    raise KeyError(term)


def test_observation_groups_and_no_privileged_state_in_the_policy(env):
    obs, _ = env.reset(seed=1)
    # policy: 16 joint positions, 16 velocities, cube position (3) and orientation (4) in the palm,
    # the goal (4), the orientation difference (4), the last action (16).
    assert env.observation_shapes == {"policy": (63,), "critic": (88,)}
    policy = set(env.cfg.observations["policy"].terms)
    assert policy == {"joint_pos", "joint_vel", "object_pos", "object_quat", "goal_quat", "goal_quat_diff",
                      "last_action"}  # fmt: skip
    critic = set(env.cfg.observations["critic"].terms)
    assert critic - policy == {"object_lin_vel", "object_ang_vel", "fingertip_pos", "touch", "goal_error",
                               "goal_progress"}  # fmt: skip
    assert env.cfg.observations["policy"].enable_corruption
    assert not env.cfg.observations["critic"].enable_corruption
    # The critic's copy is exact; checked against the hand's ranges and the cube's state by hand.
    critic_obs = obs["critic"]
    q = env.sim.qpos[:, env.index.joint_qpos_ids(list(HAND_JOINT_NAMES))]
    lo = torch.tensor([HAND_JOINT_RANGES[j][0] for j in HAND_JOINT_NAMES])
    hi = torch.tensor([HAND_JOINT_RANGES[j][1] for j in HAND_JOINT_NAMES])
    torch.testing.assert_close(
        critic_obs[:, _slice(env, "critic", "joint_pos")], (2 * q - lo - hi) / (hi - lo)
    )
    c = _cube_q(env)
    torch.testing.assert_close(
        critic_obs[:, _slice(env, "critic", "object_pos")], env.sim.qpos[:, c : c + 3] - PALM
    )
    # The policy's copy differs by its noise only, within the noise's bounds (0.02 normalized units).
    diff = obs["policy"][:, 0:16] - critic_obs[:, 0:16]
    assert 0 < diff.abs().max() <= 0.02 + 1e-6


def test_action_zero_holds_home_and_one_reaches_the_range(env):
    env.reset(seed=2)
    home = torch.tensor([HAND_HOME[j] for j in HAND_JOINT_NAMES])
    lo = torch.tensor([HAND_JOINT_RANGES[j][0] for j in HAND_JOINT_NAMES])
    hi = torch.tensor([HAND_JOINT_RANGES[j][1] for j in HAND_JOINT_NAMES])
    ids = env.index.tensor("actuator", list(HAND_JOINT_NAMES))
    env.step(torch.zeros(NUM_ENVS, 16))
    torch.testing.assert_close(env.sim.ctrl[:, ids], home.expand(NUM_ENVS, 16))
    env.step(torch.ones(NUM_ENVS, 16))
    # home + max(hi - home, home - lo): at least the upper limit (MuJoCo clamps to ctrlrange).
    reach = home + torch.maximum(hi - home, home - lo)
    torch.testing.assert_close(env.sim.ctrl[:, ids], reach.expand(NUM_ENVS, 16))
    assert (reach >= hi - 1e-6).all()
    env.step(-torch.ones(NUM_ENVS, 16))
    assert (env.sim.ctrl[:, ids] <= lo + 1e-6).all()


def test_cube_rests_on_the_palm_for_one_second_at_home(env):
    env.reset(seed=3)
    c = _cube_q(env)
    # It starts with a face down: one of its axes along the palm normal (world z).
    rot = torch.stack(
        [quat_rotate(env.sim.qpos[:, c + 3 : c + 7], torch.eye(3)[i].expand(NUM_ENVS, 3)) for i in range(3)],
        1,
    )
    torch.testing.assert_close(rot[:, :, 2].abs().amax(dim=1), torch.ones(NUM_ENVS), atol=1e-5, rtol=0)
    for _ in range(round(1.0 / env.policy_dt)):
        _, _, terminated, truncated, _ = env.step(torch.zeros(NUM_ENVS, 16))
        assert not (terminated | truncated).any()
    pos = env.sim.qpos[:, c : c + 3] - PALM
    # Settled on the palm (a face down, centre one half edge above the face, sizes within +-5 %),
    # within the palm's 10 x 10 cm, and at rest.
    assert (pos[:, 2] - CUBE_HALF_SIZE).abs().max() < 0.003, pos
    assert pos[:, :2].abs().max() < 0.05, pos
    assert env.sim.qvel[:, c : c + 6].abs().max() < 0.05


def test_a_success_earns_the_bonus_and_a_new_goal_and_is_counted_and_a_drop_ends_one_world(env):
    env.reset(seed=4)
    goal_term = env.command_manager.term("goal")
    c = _cube_q(env)
    goal_before = env.command("goal").clone()
    # World 0: the cube 15 cm above the palm, clear of the fingers (falling freely through the step, so it does not turn),
    # turned 0.05 rad about x away from its goal: within the 0.1 rad tolerance.
    half = 0.05 / 2
    delta = torch.tensor([math.cos(half), math.sin(half), 0.0, 0.0])
    quat = quat_mul(delta[None], goal_before[0:1, 3:7])[0]
    qpos = env.sim.qpos[0].clone()
    qpos[c : c + 3] = PALM + torch.tensor([0.0, 0.0, 0.15])
    qpos[c + 3 : c + 7] = quat
    env.set_physical_state(qpos=qpos[None], qvel=torch.zeros(1, env.sim.qvel.shape[1]), worlds=[0])
    obs, reward, terminated, truncated, _ = env.step(torch.zeros(NUM_ENVS, 16))
    assert not (terminated | truncated).any()
    # Reward of world 0 by hand, from the state after the step: 250 (goal) + 1 / (angle + 0.1)
    # - 10 * distance to the goal position (the cube's rest position); no action, no drop.
    pos = env.sim.qpos[0, c : c + 3]
    angle = quat_error_angle(env.sim.qpos[0:1, c + 3 : c + 7], goal_before[0:1, 3:7])[0]
    assert angle == pytest.approx(0.05, abs=2e-3)
    rest = PALM + torch.tensor([0.0, 0.0, CUBE_HALF_SIZE])
    expected = 250.0 + 1.0 / (angle + 0.1) - 10.0 * torch.linalg.vector_norm(pos - rest)
    assert reward[0] == pytest.approx(float(expected), abs=1e-3)
    assert (reward[1:] < 100).all()
    # A new goal for world 0 only; the count and the critic's view of it agree.
    goal_after = env.command("goal")
    assert not torch.equal(goal_after[0], goal_before[0])
    torch.testing.assert_close(goal_after[1:], goal_before[1:])
    assert goal_term.consecutive_successes.tolist() == [1, 0, 0, 0]
    progress = obs["critic"][:, _slice(env, "critic", "goal_progress")]
    torch.testing.assert_close(progress[:, 0], torch.tensor([1.0 / MAX_SUCCESSES, 0.0, 0.0, 0.0]))
    env.pop_episode_stats()  # drop what earlier tests left

    # Now world 0 drops its cube: on the floor, 0.29 m from the palm (more than 0.24 m).
    qpos = env.sim.qpos[0].clone()
    qpos[c : c + 3] = torch.tensor([0.1, 0.0, CUBE_HALF_SIZE])
    env.set_physical_state(qpos=qpos[None], qvel=torch.zeros(1, env.sim.qvel.shape[1]), worlds=[0])
    _, reward, terminated, truncated, _ = env.step(torch.zeros(NUM_ENVS, 16))
    assert terminated.tolist() == [True, False, False, False]
    assert not truncated.any()
    assert reward[0] < -40.0  # the drop penalty, -50
    stats = env.pop_episode_stats()
    # The ended episode reached one goal; the episode's termination was a drop.
    assert stats["Command/goal/consecutive_successes"] == pytest.approx(1.0)
    assert goal_term.consecutive_successes[0] == 0
    # World 0 starts again with the cube over the palm.
    assert torch.linalg.vector_norm(env.sim.qpos[0, c : c + 2]) < 0.02


def test_random_actions_never_overflow_the_contact_capacity(env):
    env.reset(seed=5)
    assert (env.sim.capacity.nconmax, env.sim.capacity.njmax) == (40, 160)
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        obs, reward, *_ = env.step(2 * torch.rand(NUM_ENVS, 16, generator=gen) - 1)
        assert torch.isfinite(reward).all()
    env.sim.check_capacity()  # raises CapacityError on any overflow since the last reset
    assert env.pop_episode_stats()["Env/nan_resets"] == 0.0


# ------------------------------------------------------------------ configs, no env
def test_variants_play_mode_and_randomization():
    base = get_task("hand-reorient-cube").env_cfg_factory()
    openai = get_task("hand-reorient-cube-openai").env_cfg_factory()
    assert base.commands["goal"].params["tolerance_rad"] == 0.1
    assert openai.commands["goal"].params["tolerance_rad"] == 0.4
    assert base.commands["goal"].resampling_time_range_s[0] >= 1e9
    assert base.terminations["success_cap"].params["max_successes"] == 50
    assert base.terminations["success_cap"].time_out and base.terminations["no_progress"].time_out
    assert not base.terminations["dropped"].time_out
    assert base.terminations["no_progress"].params["max_steps"] == 500  # 10 s at 50 Hz
    weights = {name: term.weight for name, term in base.rewards.items()}
    assert weights == {"object_distance": -10.0, "rotation": 1.0, "action": -0.0002, "goal_reached": 250.0,
                       "dropped": -50.0}  # fmt: skip
    assert not base.scale_rewards_by_dt
    startup = {n for n, e in base.events.items() if e.mode == "startup"}
    assert startup == {"friction", "object_mass", "object_size"}
    assert list(base.events).index("object_mass") < list(base.events).index("object_size")
    assert {"pd_gains", "joint_damping", "reset_joints", "reset_cube"} <= set(base.events)
    play = get_task("hand-reorient-cube").env_cfg_factory(play=True)
    assert not play.observations["policy"].enable_corruption
    assert all(t.noise is None for t in play.observations["policy"].terms.values())
    assert any(t.noise is not None for t in base.observations["policy"].terms.values())
    off = make_reorient_env_cfg(HAND_REORIENT_CFG, randomization=ReorientRandomizationCfg.off())
    assert set(off.events) == {"reset_joints", "reset_cube"}
    assert all(t.noise is None for t in off.observations["policy"].terms.values())
    shadow = get_task("shadow-reorient-cube").env_cfg_factory()
    assert shadow.decimation * shadow.timestep == pytest.approx(base.decimation * base.timestep)


def test_a_hand_without_a_palm_frame_is_refused():
    import dataclasses

    bad = dataclasses.replace(HAND_REORIENT_CFG, palm_body=None)
    with pytest.raises(ValueError, match="give palm_body or palm_site"):
        make_reorient_env_cfg(bad)
