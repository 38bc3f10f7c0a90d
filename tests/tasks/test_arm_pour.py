"""``arm-pour``: the reset puts the cup in the closed gripper with every sphere inside it, the lip and
the containers' counts against numbers worked out by hand, a scripted move over the bowl and tilt
through the env's own actions that pours the spheres into the bowl, and the contact capacity's
overflow error."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from warplab.envs.mdp.objects import object_free_joint, object_pos_w
from warplab.envs.rl_env import RlEnv
from warplab.sim import CapacityError
from warplab.tasks import make_env_cfg
from warplab.tasks.pour import mdp as pour_mdp
from warplab.tasks.pour.env_cfg import (
    BOWL,
    BOWL_SHAPE,
    CUP,
    CUP_HEIGHT,
    CUP_RADIUS,
    CUP_SHAPE,
    NCONMAX,
    NJMAX,
    SPHERE_LATTICE,
    SPHERE_RADIUS,
    SPHERES,
    TABLE_HEIGHT,
)

from .arm_script import home_and_down_rotation, ik, peak_contacts_and_rows, scripted_actions

NUM_ENVS = 4


def make(num_envs: int = NUM_ENVS, **sim: int) -> RlEnv:
    cfg = make_env_cfg("arm-pour", play=True)
    cfg.num_envs = num_envs
    cfg.device = "cpu"
    cfg.seed = 0
    if sim:
        cfg.sim = dataclasses.replace(cfg.sim, **sim)
    return RlEnv(cfg)


@pytest.fixture(scope="module")
def env() -> RlEnv:
    return make()


def test_the_lattice_keeps_the_spheres_apart_and_inside_the_cup():
    centres = torch.as_tensor(SPHERE_LATTICE)
    gaps = torch.cdist(centres, centres) + 1.0 * torch.eye(len(centres))
    # 2 radii plus the 1 mm layer gap, less twice the 1.5 mm jitter each way, stays over contact.
    assert gaps.min() > 2 * SPHERE_RADIUS + 0.001 - 1e-9
    assert (torch.linalg.vector_norm(centres[:, :2], dim=1) + SPHERE_RADIUS < CUP_RADIUS - 0.0005).all()
    assert (centres[:, 2] + SPHERE_RADIUS < CUP_HEIGHT).all()


def test_a_reset_puts_the_cup_upright_in_the_closed_gripper_with_every_sphere_inside(env):
    env.reset(seed=0)
    assert (pour_mdp.spheres_inside(env, SPHERES, CUP_SHAPE)).all()
    assert (pour_mdp.share_inside(env, SPHERES, BOWL_SHAPE) == 0).all()
    axis = pour_mdp.cup_axis_w(env, CUP)
    torch.testing.assert_close(axis, torch.tensor([[0.0, 0.0, 1.0]]).expand(NUM_ENVS, 3), atol=1e-5, rtol=0)
    # Upright, the lip is the rim's centre: the cup's origin plus its height straight up.
    expected = object_pos_w(env, CUP) + torch.tensor([0.0, 0.0, CUP_HEIGHT])
    torch.testing.assert_close(pour_mdp.cup_lip_w(env, CUP_SHAPE), expected, atol=1e-5, rtol=0)
    # The bowl stands on the table, a different place in each world.
    bowl = object_pos_w(env, BOWL)
    torch.testing.assert_close(bowl[:, 2], torch.full((NUM_ENVS,), TABLE_HEIGHT + 0.001), atol=1e-5, rtol=0)
    assert len({tuple(p) for p in bowl[:, :2].tolist()}) == NUM_ENVS
    # Held still for a second, the gripper keeps the cup and the spheres stay in it.
    for _ in range(50):
        env.step(torch.zeros(NUM_ENVS, env.action_dim))
    assert (pour_mdp.spheres_inside(env, SPHERES, CUP_SHAPE)).all()
    assert not pour_mdp.cup_lost(env, CUP, "ee", 0.055, 0.01).any()


def test_a_cup_on_its_side_has_its_lip_at_the_rims_lowest_point(env):
    env.reset(seed=0)
    # Turn every cup a quarter turn about world y (w, x, y, z): its axis points along +x, and the rim's
    # lowest point is a radius below the rim's centre.
    q = torch.tensor([2**-0.5, 0.0, 2**-0.5, 0.0])
    qpos = env.sim.qpos.clone()
    adr = object_free_joint(env, CUP)[0]
    qpos[:, adr + 3 : adr + 7] = q
    env.set_physical_state(qpos=qpos)
    pos = object_pos_w(env, CUP)
    expected = pos + torch.tensor([CUP_HEIGHT, 0.0, -CUP_RADIUS])
    torch.testing.assert_close(pour_mdp.cup_lip_w(env, CUP_SHAPE), expected, atol=1e-5, rtol=0)
    # Half of the cup's tilt reward's first factor: (1 - cos 90 deg) / 2.
    d = pour_mdp.lip_to_bowl_xy(env, CUP_SHAPE, BOWL)
    expected_tilt = 0.5 * (1.0 - torch.tanh(d / 0.05))
    torch.testing.assert_close(
        pour_mdp.tilt_over_bowl(env, CUP_SHAPE, BOWL, 0.05), expected_tilt, atol=1e-5, rtol=0
    )


def _rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.slow  # about 21 s on a 2-core CPU: 145 policy steps of four worlds with ten spheres each
def test_a_scripted_move_over_the_bowl_and_tilt_pours_the_spheres_in_and_earns_the_reward():
    env = make()
    env.reset(seed=0)
    model = env.mj_model
    home, down = home_and_down_rotation(model)
    bowl = object_pos_w(env, BOWL).numpy()
    tilt = 1.9  # rad, about 110 degrees: past the cup's tipping angle, within the wrist's range
    plans = []
    for i in range(NUM_ENVS):
        # The TCP 15 cm over the table, above the bowl's centre, the tilt turned toward the bowl's
        # bearing from the base; the tilt is reached in small steps so each solve starts near the last.
        over = np.array([bowl[i, 0], bowl[i, 1], TABLE_HEIGHT + 0.15])
        facing = _rot_z(float(np.arctan2(over[1], over[0]))) @ down
        q_over = ik(model, home, over, facing)
        q, q_half = q_over, q_over
        for k, angle in enumerate(np.linspace(0.0, tilt, 12)[1:], start=1):
            q = ik(model, q, over, facing @ _rot_y(-angle))
            q_half = q if k == 6 else q_half
        plans.append((q_over, q_half, q))
    phases = [
        (40, lambda p, i: home, lambda p, i: p[0], 0.0),
        (10, lambda p, i: p[0], lambda p, i: p[0], 0.0),
        (25, lambda p, i: p[0], lambda p, i: p[1], 0.0),
        (25, lambda p, i: p[1], lambda p, i: p[2], 0.0),
        (45, lambda p, i: p[2], lambda p, i: p[2], 0.0),
    ]
    names = env.termination_manager.names
    success = torch.zeros(NUM_ENVS, dtype=torch.bool)
    episode_return = torch.zeros(NUM_ENVS)
    peak = (0, 0)
    for action in scripted_actions(env, home, np.tile(home, (NUM_ENVS, 1)), plans, phases):
        _, reward, terminated, _, _ = env.step(action[:, :7])  # the arm's 7: the gripper has no action
        assert not terminated.any()  # the cup never leaves the gripper
        episode_return += reward * ~success
        success |= env.termination_manager.term_flags[:, names.index("success")]
        peak = tuple(max(a, b) for a, b in zip(peak, peak_contacts_and_rows(env), strict=True))
    assert success.sum() >= 3, success
    # Each pouring world earned the in-bowl level on top of the lip's and tilt's shaping.
    assert (episode_return[success] > 2.0).all(), episode_return
    # The capacity measured for NCONMAX and NJMAX (env_cfg's comment) still holds with 2x headroom.
    assert 2 * peak[0] <= NCONMAX and 2 * peak[1] <= NJMAX, peak
    env.sim.check_capacity()


def test_a_too_small_contact_capacity_fails_with_an_error_that_names_the_setting():
    env = make(num_envs=2, nconmax=8)
    env.reset(seed=0)
    for _ in range(3):
        env.step(torch.zeros(2, env.action_dim))
    with pytest.raises(CapacityError, match=r"nconmax=8 .*raise SimCfg\.nconmax"):
        env.pop_episode_stats()
