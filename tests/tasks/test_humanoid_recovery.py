"""``humanoid-push-recovery`` and ``humanoid-getup`` on the CPU, with a few worlds and short rollouts.

Push recovery: the push changes the base velocity (or applies a force for its duration) within the
current strength range; the curriculum moves the strength by its rule on hand-made episode ends;
play mode keeps a fixed strength; pushes and curriculum survive an exact save and restore.
Getting up: resets start lying, in a mix of poses, with joints in range; success is logged.
"""

from __future__ import annotations

import io

import pytest
import torch

from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG
from warplab.envs import EventTermCfg, RlEnv
from warplab.envs.mdp.math import quat_rotate
from warplab.tasks.recovery import (
    PUSH_SCHEDULES,
    make_humanoid_getup_env_cfg,
    make_humanoid_push_recovery_env_cfg,
)
from warplab.tasks.recovery import mdp as recovery

STANDING = HUMANOID_ROBOT_CFG.base_height
WINDOW = 4


def _env(cfg, num_envs: int, seed: int = 0) -> RlEnv:
    cfg.num_envs, cfg.device, cfg.seed = num_envs, "cpu", seed
    return RlEnv(cfg)


@pytest.fixture(scope="module")
def push_env():
    """Force pushes every 1 to 3 policy steps, 10-step episodes, curriculum decisions every 4
    pushed episodes: every kind of push and curriculum state changes within a short rollout."""
    cfg = make_humanoid_push_recovery_env_cfg(push_kind="force")
    cfg.episode_length_s = 0.2
    cfg.events["push"].interval_range_s = (0.02, 0.06)
    cfg.events["push"].params["duration_s"] = 0.06
    cfg.curriculum["push_strength"].params["window"] = WINDOW
    cfg.curriculum["push_survival_rate"].params["window"] = None
    return _env(cfg, 3)


@pytest.fixture(scope="module")
def getup_env():
    cfg = make_humanoid_getup_env_cfg()
    cfg.events["reset_lying"].params["settle_s"] = 0.5
    return _env(cfg, 4)


@pytest.fixture
def restore(push_env, getup_env):
    """Tests change the shared envs by hand; each gets them back as they were."""
    states = {env: env.get_state() for env in (push_env, getup_env)}
    yield
    for env, state in states.items():
        env.set_state(state)


def _roll(env, steps: int, seed: int = 0, amplitude: float = 0.3):
    gen = torch.Generator().manual_seed(seed)
    out = {"obs": [], "reward": [], "terminated": [], "truncated": []}
    for _ in range(steps):
        action = amplitude * (2 * torch.rand(env.num_envs, env.action_dim, generator=gen) - 1)
        obs, reward, terminated, truncated, _ = env.step(action)
        out["obs"].append(obs["policy"].clone())
        out["reward"].append(reward.clone())
        out["terminated"].append(terminated.clone())
        out["truncated"].append(truncated.clone())
    return {k: torch.stack(v) for k, v in out.items()}


def _all_finite(env, rollout) -> bool:
    return all(torch.isfinite(rollout[k]).all() for k in ("obs", "reward")) and bool(
        torch.isfinite(env.sim.qpos).all()
    )


# ---------------------------------------------------------------------------- push recovery
def test_push_recovery_steps_finite_and_logs_push_strength_and_survival(push_env, restore):
    rollout = _roll(push_env, 20)
    assert _all_finite(push_env, rollout)
    stats = push_env.pop_episode_stats()
    assert stats["Env/nan_resets"] == 0.0
    assert stats["Curriculum/push_strength"] >= PUSH_SCHEDULES["force"].initial
    assert 0.0 <= stats["Curriculum/push_survival_rate"] <= 1.0
    assert stats["Episode/count"] > 0


def test_push_recovery_commands_standing_still_30_percent():
    cfg = make_humanoid_push_recovery_env_cfg()
    assert cfg.commands["base_velocity"].params["rel_standing_envs"] == 0.3
    assert {"alive", "upright", "base_height", "track_lin_vel_xy"} <= set(cfg.rewards)


def _push_term(env, **params) -> recovery.RandomPush:
    return recovery.RandomPush(EventTermCfg(func=recovery.RandomPush, mode="interval", params=params), env)


def test_velocity_push_changes_base_velocity_within_strength_range(push_env, restore):
    push = _push_term(push_env, kind="velocity", strength=1.2, min_ratio=0.5)
    push_env.reset_buf.zero_()  # no world ends its episode in this step...
    push_env.episode_length_buf.fill_(3)  # ...which began 3 steps ago
    mask = torch.tensor([True, False, True])
    before = push_env.sim.qvel.clone()
    push(push_env, mask)
    change = push_env.sim.qvel - before
    speed = torch.linalg.vector_norm(change[:, :2], dim=1)
    assert torch.all((speed[mask] >= 0.6 - 1e-6) & (speed[mask] <= 1.2 + 1e-6)), speed
    assert torch.all(change[~mask] == 0) and torch.all(change[:, 2:] == 0)
    assert torch.allclose(change[:, :3], push.last_push * mask[:, None])
    now = push_env.common_step_counter
    assert push.last_push_step.tolist() == [now, recovery.RandomPush.NEVER, now]
    assert push.pushed_this_episode(push_env).tolist() == [True, False, True]
    # Random horizontal directions: the two pushes point different ways.
    assert not torch.allclose(change[0, :2] / speed[0], change[2, :2] / speed[2])


def test_force_push_lasts_its_duration_then_is_cleared(push_env, restore):
    push = _push_term(push_env, kind="force", strength=150.0, min_ratio=0.5, body="torso", duration_s=0.06)
    assert push.force_steps == 3
    torso = push_env.index.ids("body", "torso")[0]
    xfrc = push_env.sim.state_tensors()["data.xfrc_applied"]
    xfrc.zero_()
    push_env.reset_buf.zero_()
    none = torch.zeros(3, dtype=torch.bool)
    push(push_env, torch.tensor([True, True, False]))
    force = xfrc[:, torso, :3].clone()
    magnitude = torch.linalg.vector_norm(force, dim=1)
    assert torch.all((magnitude[:2] >= 75.0 - 1e-3) & (magnitude[:2] <= 150.0 + 1e-3)) and magnitude[2] == 0
    assert torch.all(force[:, 2] == 0) and torch.all(xfrc[:, torso, 3:] == 0)
    for _ in range(push.force_steps - 1):  # the force acts in the physics of the next 3 steps
        push(push_env, none)
        assert torch.equal(xfrc[:, torso, :3], force)
    push(push_env, none)
    assert torch.all(xfrc == 0) and torch.all(push.force_steps_left == 0)

    # MuJoCo Warp's xfrc_applied is (force, torque) in the world frame: the force moves the robot.
    xfrc[0, torso, :3] = torch.tensor([1000.0, 0.0, 0.0])
    before = push_env.sim.qvel[:, 0].clone()
    push_env.sim.step(4)
    gained = push_env.sim.qvel[:, 0] - before
    assert gained[0] > gained[1] + 0.3


def test_saved_state_holds_forces_push_and_curriculum(push_env):
    names = set(push_env.get_state()["tensors"])
    assert {
        "sim.data.xfrc_applied",
        "events.terms.push.strength",
        "events.terms.push.last_push_step",
        "events.terms.push.force_steps_left",
        "curriculum.terms.push_strength.episodes",
        "curriculum.terms.push_strength.survived",
        "curriculum.terms.push_survival_rate.survived",
    } <= names


def _end_episodes(env, mask, pushed, fell, diverged=None):
    """Makes the masked worlds end an episode of 10 steps now: pushed ones at step 5, ``fell``
    terminated, the others timed out; then runs the curriculum as a reset does."""
    push = recovery.find_event_term(env, "push")
    tm = env.termination_manager
    env.episode_length_buf.fill_(10)
    push.last_push_step.copy_(torch.where(pushed, env.common_step_counter - 5, recovery.RandomPush.NEVER))
    tm.terminated.copy_(mask & fell)
    tm.truncated.copy_(mask & ~fell)
    env.sim.diverged.copy_(torch.zeros_like(mask) if diverged is None else diverged)
    env.curriculum_manager.apply(mask)
    return float(push.strength), float(env.curriculum_manager.state["push_survival_rate"])


def test_curriculum_raises_after_a_window_survived_and_lowers_after_falls(push_env, restore):
    yes, no = torch.ones(3, dtype=torch.bool), torch.zeros(3, dtype=torch.bool)
    only_0 = torch.tensor([True, False, False])
    step = PUSH_SCHEDULES["force"].step
    low, high = PUSH_SCHEDULES["force"].limits
    push = recovery.find_event_term(push_env, "push")
    push.strength.fill_(200.0)
    push_env.curriculum_manager.apply(no)  # nothing ended: nothing counted
    # Three survive: fewer than the window, no decision; a fourth: 4/4 survived, up one step.
    assert _end_episodes(push_env, yes, yes, no)[0] == 200.0
    assert _end_episodes(push_env, only_0, yes, no)[0] == pytest.approx(200.0 + step)
    # Worlds not pushed, or whose physics diverged, do not count.
    assert _end_episodes(push_env, yes, no, yes)[0] == pytest.approx(200.0 + step)
    assert _end_episodes(push_env, yes, yes, yes, diverged=yes)[0] == pytest.approx(200.0 + step)
    # Four falls: 0/4 survived, down one step.
    _end_episodes(push_env, yes, yes, yes)
    assert _end_episodes(push_env, only_0, yes, yes)[0] == pytest.approx(200.0)
    # Two of four survive: 0.5 is neither below lower_below (0.5) nor at raise_above (0.8).
    _end_episodes(push_env, torch.tensor([True, True, False]), yes, torch.tensor([True, False, False]))
    strength, rate = _end_episodes(
        push_env, torch.tensor([True, True, False]), yes, torch.tensor([False, True, False])
    )
    assert strength == pytest.approx(200.0)
    # The survival rate counts every pushed episode so far: 3 + 1 + 0 + 2 survived of 3 + 1 + 4 + 4.
    assert rate == pytest.approx(6 / 12)
    # The strength stays within the limits.
    push.strength.fill_(high)
    _end_episodes(push_env, yes, yes, no)
    assert _end_episodes(push_env, yes, yes, no)[0] == pytest.approx(high)
    push.strength.fill_(low)
    _end_episodes(push_env, yes, yes, yes)
    assert _end_episodes(push_env, yes, yes, yes)[0] == pytest.approx(low)


def test_pushes_and_curriculum_replay_bitwise_after_set_state(push_env, restore):
    _roll(push_env, 5, seed=1)
    buffer = io.BytesIO()
    torch.save(push_env.get_state(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    push = recovery.find_event_term(push_env, "push")
    assert bool(push.force_steps_left.any()), "a force should be acting at the save"

    saved_strength = float(push.strength)
    first = _roll(push_env, 20)
    first_strength = float(push.strength)
    assert (first["terminated"] | first["truncated"]).any()
    assert first_strength != saved_strength, "the curriculum should have decided within the rollout"
    push_env.set_state(state)
    assert float(push.strength) == saved_strength
    second = _roll(push_env, 20)
    for key in first:
        assert torch.equal(first[key], second[key]), key
    assert float(push.strength) == first_strength


def test_play_mode_pushes_with_the_fixed_strength():
    cfg = make_humanoid_push_recovery_env_cfg(play=True, push_strength=1.3)
    env = _env(cfg, 2)
    push = recovery.find_event_term(env, "push")
    assert float(push.strength) == pytest.approx(1.3) and push.min_ratio == 1.0
    before = env.sim.qvel.clone()
    env.reset_buf.zero_()
    push(env, torch.ones(2, dtype=torch.bool))
    speed = torch.linalg.vector_norm((env.sim.qvel - before)[:, :2], dim=1)
    assert torch.allclose(speed, torch.full((2,), 1.3), atol=1e-5)
    # Outcomes change nothing in play mode, and every pushed episode counts for the survival rate.
    yes = torch.ones(2, dtype=torch.bool)
    _end_episodes(env, yes, yes, torch.tensor([True, False]))
    _end_episodes(env, yes, yes, torch.tensor([False, False]))
    strength, rate = _end_episodes(env, yes, yes, torch.tensor([False, False]))
    assert strength == pytest.approx(1.3) and rate == pytest.approx(5 / 6)
    assert env.pop_episode_stats()["Curriculum/push_strength"] == pytest.approx(1.3)


# ---------------------------------------------------------------------------- getting up
def _lying_kind(quat: torch.Tensor) -> list[str]:
    """face_up / face_down / side / upright, from where the base's x (front) and z (up) axes point."""
    ex = quat_rotate(quat, torch.tensor([1.0, 0.0, 0.0]).expand(quat.shape[0], 3))[:, 2]
    ez = quat_rotate(quat, torch.tensor([0.0, 0.0, 1.0]).expand(quat.shape[0], 3))[:, 2]
    return [
        "upright" if z > 0.7 else "face_up" if x > 0.5 else "face_down" if x < -0.5 else "side"
        for x, z in zip(ex.tolist(), ez.tolist(), strict=True)
    ]


def _joint_ranges(env):
    ids = env.index.ids("joint", list(HUMANOID_ROBOT_CFG.joint_names))
    low, high = torch.as_tensor(env.mj_model.jnt_range[ids], dtype=torch.float32).T
    return env.index.joint_qpos_ids(list(HUMANOID_ROBOT_CFG.joint_names)), low, high


def test_getup_resets_start_lying_in_a_mix_of_poses(getup_env, restore):
    qpos_ids, low, high = _joint_ranges(getup_env)
    kinds = []
    for seed in range(3):
        getup_env.reset(seed=seed)
        qpos = getup_env.sim.qpos
        assert torch.all(qpos[:, 2] < 0.3 * STANDING), qpos[:, 2]
        assert torch.all((qpos[:, qpos_ids] >= low) & (qpos[:, qpos_ids] <= high))
        assert torch.all(getup_env.sim.qvel == 0)
        kinds += _lying_kind(qpos[:, 3:7])
    assert "upright" not in kinds and len(set(kinds)) >= 2, kinds
    # Nothing ends an episode for lying on the ground; the robot stays on it under random actions.
    rollout = _roll(getup_env, 20)
    assert _all_finite(getup_env, rollout)
    assert not (rollout["terminated"] | rollout["truncated"]).any()
    assert torch.all(getup_env.sim.qpos[:, 2] < 0.5 * STANDING)


def test_fresh_drop_places_the_lowest_geom_at_the_drop_height(getup_env, restore):
    cfg = EventTermCfg(
        func=recovery.ResetLying,
        params={"settle_s": 0.0, "drop_height_range_m": (0.05, 0.1), "joint_scale": 1.0},
    )
    lying = recovery.ResetLying(cfg, getup_env)
    assert lying.pool_qpos.shape[0] == 0
    mask = torch.tensor([True, True, False, True])
    before = getup_env.sim.qpos.clone()
    lying(getup_env, mask, **cfg.params)
    getup_env.sim.forward()
    qpos = getup_env.sim.qpos
    assert torch.equal(qpos[2], before[2])
    lowest = lying.lowest_z()[mask]
    assert torch.all((lowest > 0.05 - 1e-4) & (lowest < 0.1 + 1e-4)), lowest
    qpos_ids, low, high = _joint_ranges(getup_env)
    assert torch.all((qpos[mask][:, qpos_ids] >= low) & (qpos[mask][:, qpos_ids] <= high))
    assert "upright" not in _lying_kind(qpos[mask][:, 3:7])


def test_getup_success_flag_fires_only_standing_at_time_out(getup_env, restore):
    cfg = make_humanoid_getup_env_cfg()
    assert set(cfg.terminations) == {"time_out", "success_standing"}
    assert all(t.time_out for t in cfg.terminations.values())
    env = getup_env
    sim = env.sim
    sim.qpos[0] = sim.init_qpos  # world 0 stands in the home pose; the others lie
    sim.qpos[1] = sim.init_qpos
    sim.forward()
    env.episode_length_buf.copy_(torch.tensor([env.max_episode_length, 5, env.max_episode_length, 0]))
    params = {"standing_height": STANDING, "height_ratio": 0.9, "min_upright": 0.9}
    assert recovery.is_standing(env, **params).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert recovery.standing_at_time_out(env, **params).tolist() == [True, False, False, False]
    assert float(recovery.base_height_progress(env, 0.1, STANDING)[0]) == pytest.approx(1.0, abs=1e-5)


def test_getup_penalizes_flight_and_a_fast_rise_as_mujoco_c_sees_contact(getup_env, restore):
    """``airborne`` is 1 exactly where MuJoCo's C engine finds no contact for the same state (a robot
    held 1 m up, against robots lying on the floor); ``base_rise_speed_above`` is the hand-worked
    ``max(0, v_z - limit)^2``."""
    import mujoco

    env, sim = getup_env, getup_env.sim
    assert {"airborne", "base_rise_speed"} <= set(make_humanoid_getup_env_cfg().rewards)
    sim.qpos[0] = sim.init_qpos
    sim.qpos[0, 2] += 1.0  # world 0 held in the air; the others lie where their reset put them
    sim.qvel.zero_()
    sim.qvel[0, 2], sim.qvel[1, 2] = 2.0, 0.5  # base rising at 2 m/s and 0.5 m/s (world frame)
    sim.forward()
    flying = recovery.airborne(env)
    data = mujoco.MjData(env.mj_model)
    in_contact = []
    for world in range(env.num_envs):
        data.qpos[:], data.qvel[:] = sim.qpos[world].double().numpy(), sim.qvel[world].double().numpy()
        mujoco.mj_forward(env.mj_model, data)
        in_contact.append(data.ncon > 0)
    assert in_contact[0] is False and all(in_contact[1:])
    assert flying.tolist() == [0.0 if c else 1.0 for c in in_contact]
    rise = recovery.base_rise_speed_above(env, limit_m_s=0.8)
    assert rise[0].item() == pytest.approx((2.0 - 0.8) ** 2, rel=1e-5)
    assert rise[1].item() == 0.0
