"""The humanoid velocity tasks: built on the CPU with two worlds, what they start from, command,
observe and randomize, and that the humanoid stands on its own with zero actions."""

from __future__ import annotations

import pytest
import torch

from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
from warplab.envs import RlEnv, mdp
from warplab.tasks.registry import get_task
from warplab.tasks.velocity import DomainRandomizationCfg, VelocityRanges, make_velocity_env_cfg

TASKS = ("humanoid-velocity-flat", "humanoid-velocity-flat-dr")
NUM_ENVS = 2


def task_cfg(task: str, play: bool = False):
    cfg = get_task(task).env_cfg_factory(play=play)
    cfg.num_envs, cfg.device, cfg.seed = NUM_ENVS, "cpu", 0
    return cfg


@pytest.fixture(scope="module", params=TASKS)
def env(request) -> RlEnv:
    return RlEnv(task_cfg(request.param))


def test_starts_in_the_home_pose(env):
    env.reset(seed=3)
    robot = HUMANOID_ROBOT_CFG
    # The reset places the base at the home height (offsets in x, y and yaw only), joints within 0.1 rad.
    assert env.sim.qpos[:, 2] == pytest.approx(robot.base_height, abs=1e-6)
    qids = env.index.joint_qpos_ids(list(robot.joint_names))
    default = torch.tensor([robot.default_joint_pos[j] for j in robot.joint_names])
    assert ((env.sim.qpos[:, qids] - default).abs() <= 0.1 + 1e-6).all()


def test_steps_with_random_actions_and_keeps_commands_in_range(env):
    env.reset(seed=4)
    gen = torch.Generator().manual_seed(0)
    ranges = VelocityRanges()
    bounds = torch.tensor([ranges.lin_vel_x, ranges.lin_vel_y, ranges.ang_vel_z])
    for _ in range(20):
        action = 2 * torch.rand(NUM_ENVS, env.action_dim, generator=gen) - 1
        obs, reward, terminated, truncated, _ = env.step(action)
        assert torch.isfinite(reward).all()
        assert all(torch.isfinite(v).all() for v in obs.values())
        command = env.command("base_velocity")
        assert ((command >= bounds[:, 0]) & (command <= bounds[:, 1])).all()


def test_critic_sees_the_true_base_velocity(env):
    obs, _ = env.reset(seed=5)
    # The critic's group opens with the base velocity in its own frame, without noise.
    assert next(iter(env.cfg.observations["critic"].terms)) == "base_lin_vel"
    torch.testing.assert_close(obs["critic"][:, :3], mdp.base_lin_vel_b(env), rtol=0, atol=0)


def test_stands_for_one_second_with_zero_actions(env):
    env.reset(seed=6)
    for _ in range(round(1.0 / env.policy_dt)):
        _, _, terminated, truncated, _ = env.step(torch.zeros(NUM_ENVS, env.action_dim))
        assert not (terminated | truncated).any()
    assert (env.sim.qpos[:, 2] > 0.9 * HUMANOID_ROBOT_CFG.base_height).all()


def test_commands_resample_on_their_timer():
    cfg = task_cfg(TASKS[0])
    cfg.commands["base_velocity"].resampling_time_range_s = (0.1, 0.1)  # every 5 policy steps
    env = RlEnv(cfg)
    commands = [env.command("base_velocity").clone()]
    for _ in range(11):
        env.step(torch.zeros(NUM_ENVS, env.action_dim))
        commands.append(env.command("base_velocity").clone())
    changed = [not torch.equal(a, b) for a, b in zip(commands, commands[1:], strict=False)]
    assert any(changed) and not all(changed)


@pytest.mark.parametrize("task", TASKS)
def test_play_mode_has_no_noise_and_no_push(task):
    cfg = get_task(task).env_cfg_factory(play=True)
    assert "push" not in cfg.events
    policy = cfg.observations["policy"]
    assert not policy.enable_corruption
    assert all(term.noise is None for term in policy.terms.values())
    train = get_task(task).env_cfg_factory(play=False)
    assert "push" in train.events and train.observations["policy"].enable_corruption


def test_the_dr_task_turns_on_every_term_and_the_default_keeps_the_measured_one():
    flat = get_task("humanoid-velocity-flat").env_cfg_factory()
    assert sorted(flat.events) == ["friction", "push", "reset_base", "reset_joints"]
    assert flat.events["friction"].params == {"ranges": (0.4, 1.2), "per_geom": True}
    assert flat.actions["joint_pos"].func is mdp.JointPositionAction
    dr = get_task("humanoid-velocity-flat-dr").env_cfg_factory()
    startup = {n for n, e in dr.events.items() if e.mode == "startup"}
    reset = {n for n, e in dr.events.items() if e.mode == "reset"}
    # Terms that need set_const are drawn once, at startup.
    assert startup == {"friction", "mass", "com", "armature"}
    assert {"pd_gains", "motor_strength", "joint_damping"} <= reset
    assert dr.events["friction"].params["per_geom"] is False
    assert dr.actions["joint_pos"].func is mdp.DelayedJointPositionAction
    assert dr.actions["joint_pos"].params["max_delay_steps"] == 1


def test_none_turns_a_term_off():
    none = DomainRandomizationCfg(friction=None, push_velocity_mps=None, observation_noise=None)
    cfg = make_velocity_env_cfg(HUMANOID_ROBOT_CFG, randomization=none)
    assert sorted(cfg.events) == ["reset_base", "reset_joints"]
    assert all(t.noise is None for t in cfg.observations["policy"].terms.values())
    half = make_velocity_env_cfg(
        HUMANOID_ROBOT_CFG, randomization=DomainRandomizationCfg(observation_noise=0.5)
    )
    assert half.observations["policy"].terms["base_ang_vel"].noise.scale == pytest.approx(0.1)
    assert half.observations["policy"].terms["joint_vel"].noise.scale == pytest.approx(0.75)


def test_dr_task_draws_each_world_its_own_robot(env):
    if "mass" not in env.cfg.events:
        pytest.skip("only humanoid-velocity-flat-dr randomizes the robot")
    mass, mass0 = env.sim.model_field("body_mass"), env.sim.fields.default("body_mass")
    ratio = mass[:, 1:] / mass0[1:]
    assert ((ratio >= 0.85) & (ratio <= 1.15)).all() and not torch.equal(mass[0], mass[1])
    kp = env.sim.model_field("actuator_gainprm")[:, :, 0] / env.sim.fields.default("actuator_gainprm")[:, 0]
    assert ((kp >= 0.9 * 0.9 - 1e-6) & (kp <= 1.1 * 1.1 + 1e-6)).all()  # PD factor times strength
    delay = env.action_manager.terms["joint_pos"].delay
    assert ((delay >= 0) & (delay <= 1)).all()
