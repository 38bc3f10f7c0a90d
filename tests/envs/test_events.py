"""Events: when they run and on which worlds; randomization of model fields; pushes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from warplab.envs import EventTermCfg, RlEnv, mdp

from ._cfgs import Flag, cartpole_cfg, free_body_cfg


def record(env, mask, log):
    log.append(mask.tolist())


def test_startup_once_reset_on_reset_worlds_interval_on_timers():
    startup, reset, interval = [], [], []
    flag = Flag(2)
    events = {
        "startup": EventTermCfg(func=record, mode="startup", params={"log": startup}),
        "reset": EventTermCfg(func=record, mode="reset", params={"log": reset}),
        # policy_dt is 0.02 s: a 0.05 s timer runs out on the 3rd step after it was drawn.
        "interval": EventTermCfg(
            func=record, mode="interval", params={"log": interval}, interval_range_s=(0.05, 0.05)
        ),
    }
    env = RlEnv(cartpole_cfg(events=events, terminations={"fail": flag.cfg()}))
    assert startup == [[True, True]]
    assert reset == [[True, True]]  # the first reset of every world, at construction
    assert interval == []
    for step in range(1, 10):
        flag.flag[:] = torch.tensor([step == 2, False])
        env.step(torch.zeros(2, 1))
    assert startup == [[True, True]]
    # Reset events run every step with the mask of the finished worlds (no host sync to skip them).
    assert reset == [[True, True]] + [[step == 2, False] for step in range(1, 10)]
    # World 1 fires at steps 3, 6, 9; world 0 restarted its timer when it reset at step 2: 5, 8.
    fired = [[s + 1 for s, m in enumerate(interval) if m[w]] for w in range(2)]
    assert fired == [[5, 8], [3, 6, 9]]
    assert len(interval) == 9  # called every step, with the mask of the worlds that are due


def test_reset_events_leave_other_worlds_alone():
    flag = Flag(2)
    events = {
        "reset": EventTermCfg(
            func=mdp.reset_joints_by_offset,
            mode="reset",
            params={"position_range": (-0.2, 0.2), "velocity_range": (-0.5, 0.5)},
        )
    }
    env = RlEnv(cartpole_cfg(events=events, terminations={"fail": flag.cfg()}))
    assert (env.sim.qpos.abs() <= 0.2).all() and (env.sim.qvel.abs() <= 0.5).all()
    assert (env.sim.qpos != 0).all()
    env.step(torch.zeros(2, 1))
    qpos, qvel = env.sim.qpos.clone(), env.sim.qvel.clone()
    # The next step moves both worlds a little; world 0 then restarts from a new draw.
    flag.flag[0] = True
    env.step(torch.zeros(2, 1))
    assert (env.sim.qpos[0].abs() <= 0.2).all() and (env.sim.qvel[0].abs() <= 0.5).all()
    # World 1 carried on from where it was: a 0.02 s step moves its joints by about qvel * 0.02.
    np.testing.assert_allclose(env.sim.qpos[1].numpy(), (qpos[1] + 0.02 * qvel[1]).numpy(), atol=0.01)


def _friction(env):
    return env.sim.model_field("geom_friction")


def test_randomize_friction_changes_masked_worlds_from_the_nominal_value():
    env = RlEnv(cartpole_cfg(num_envs=3))
    nominal = torch.as_tensor(env.mj_model.geom_friction, dtype=torch.float32)  # MuJoCo's compiled model
    mask = torch.tensor([True, False, True])
    mdp.randomize_friction(env, mask, ranges=(0.5, 1.5))
    f = _friction(env)
    assert f.shape == (3, env.mj_model.ngeom, 3)
    ratio = f[:, :, 0] / nominal[:, 0]
    assert ((ratio[[0, 2]] >= 0.5) & (ratio[[0, 2]] <= 1.5)).all()
    assert (ratio[[0, 2]] != 1.0).all()
    torch.testing.assert_close(f[1], nominal, rtol=0, atol=0)
    # Only the sliding friction (column 0) changes.
    torch.testing.assert_close(f[:, :, 1:], nominal[None, :, 1:].expand(3, -1, -1), rtol=0, atol=0)
    # A second draw scales the nominal value again; it does not compound.
    for _ in range(2):
        mdp.randomize_friction(env, mask, ranges=(2.0, 2.0))
        torch.testing.assert_close(f[[0, 2], :, 0], 2.0 * nominal[None, :, 0].expand(2, -1))


def test_randomize_friction_on_named_geoms():
    env = RlEnv(cartpole_cfg())
    nominal = torch.as_tensor(env.mj_model.geom_friction[:, 0], dtype=torch.float32)
    mdp.randomize_friction(env, torch.tensor([True, True]), ranges=(3.0, 3.0), geoms="pole")
    pole = env.mj_model.geom("pole").id
    expected = nominal.clone()
    expected[pole] *= 3.0
    torch.testing.assert_close(_friction(env)[:, :, 0], expected.expand(2, -1))


@pytest.mark.parametrize(
    ("operation", "expected"),
    [("scale", [0.1, 0.002 * 4.0]), ("add", [0.1, 0.002 + 4.0]), ("abs", [0.1, 4.0])],
)
def test_randomize_field_operations(operation, expected):
    env = RlEnv(cartpole_cfg())
    # The cart-pole's joint damping: slider 0.1, hinge 0.002 (N s/m, N m s/rad).
    assert env.mj_model.dof_damping.tolist() == pytest.approx([0.1, 0.002])
    mask = torch.tensor([False, True])
    for _ in range(2):  # twice: still from the nominal value
        mdp.randomize_field(env, mask, "dof_damping", (4.0, 4.0), operation, ids=[1])
    damping = env.sim.model_field("dof_damping")
    torch.testing.assert_close(damping[0], torch.tensor([0.1, 0.002]))
    torch.testing.assert_close(damping[1], torch.tensor(expected))


def test_randomize_friction_as_a_reset_event_changes_only_the_reset_world():
    flag = Flag(2)
    events = {
        "friction": EventTermCfg(func=mdp.randomize_friction, mode="reset", params={"ranges": (0.5, 1.5)})
    }
    env = RlEnv(cartpole_cfg(events=events, terminations={"fail": flag.cfg()}))
    nominal = torch.as_tensor(env.mj_model.geom_friction[:, 0], dtype=torch.float32)
    before = _friction(env)[:, :, 0].clone()
    for _ in range(4):
        flag.flag[:] = torch.tensor([True, False])
        env.step(torch.zeros(2, 1))
        after = _friction(env)[:, :, 0].clone()
        assert (after[0] != before[0]).all()
        torch.testing.assert_close(after[1], before[1], rtol=0, atol=0)
        ratio = after[0] / nominal
        assert ((ratio >= 0.5) & (ratio <= 1.5)).all()
        before = after


def test_push_by_setting_velocity_adds_the_kick():
    env = RlEnv(free_body_cfg(num_envs=3))
    qvel = torch.tensor([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.0, 0.0]).repeat(3, 1)
    env.sim.set_state(qvel=qvel)
    mask = torch.tensor([True, False, True])
    mdp.push_by_setting_velocity(
        env, mask, velocity_range={"x": (1.0, 1.0), "z": (-2.0, -2.0), "yaw": (0.5, 0.5)}
    )
    kick = torch.tensor([1.0, 0.0, -2.0, 0.0, 0.0, 0.5, 0.0, 0.0])
    torch.testing.assert_close(env.sim.qvel, qvel + mask[:, None] * kick)
    # A random kick stays in its range and leaves the joints alone.
    before = env.sim.qvel.clone()
    mdp.push_by_setting_velocity(env, mask, velocity_range={"y": (-0.5, 0.5)})
    change = env.sim.qvel - before
    assert (change[:, [0, 2, 3, 4, 5, 6, 7]] == 0).all() and (change[1] == 0).all()
    assert (change[[0, 2], 1].abs() <= 0.5).all() and (change[[0, 2], 1] != 0).all()


def test_base_reset_draws_once_for_all_six_ranges(monkeypatch):
    """``reset_root_state_uniform`` draws its six pose offsets in one call (and six velocities in
    another), each column within its own range: a fixed range gives exactly its value, a missing key
    0, and columns are not copies of one another. A reversed range is refused by name."""
    from warplab.envs import draws

    env = RlEnv(free_body_cfg(num_envs=64))
    calls = []
    real_rand = draws.rand
    monkeypatch.setattr(draws, "rand", lambda *a, **k: calls.append(a[0]) or real_rand(*a, **k))
    q, v = 0, 0
    init = env.sim.init_qpos[:3].clone()
    pose = {"x": (-0.5, 0.5), "y": (1.0, 2.0), "z": (0.25, 0.25)}
    velocity = {"x": (-1.0, 1.0), "yaw": (-3.0, -2.0)}
    mask = torch.ones(64, dtype=torch.bool)
    mdp.reset_root_state_uniform(env, mask, pose_range=pose, velocity_range=velocity)
    assert calls == [(64, 6), (64, 6)]
    offset = env.sim.qpos[:, q : q + 3] - init
    assert (offset[:, 0].abs() <= 0.5).all() and ((offset[:, 1] >= 1.0) & (offset[:, 1] <= 2.0)).all()
    torch.testing.assert_close(offset[:, 2], torch.full((64,), 0.25))
    qvel = env.sim.qvel[:, v : v + 6]
    assert (qvel[:, 0].abs() <= 1.0).all() and ((qvel[:, 5] >= -3.0) & (qvel[:, 5] <= -2.0)).all()
    assert (qvel[:, 1:5] == 0).all()
    # Two columns of one draw are independent numbers, not the same numbers rescaled.
    assert not torch.allclose((offset[:, 0] + 0.5), (offset[:, 1] - 1.0))
    with pytest.raises(ValueError, match="low <= high"):
        mdp.reset_root_state_uniform(env, mask, pose_range={"roll": (0.3, -0.3)})
