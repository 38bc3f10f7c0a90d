"""``arm-pour``: the reset puts the cup in the closed gripper with every sphere inside it, the lip and
the containers' counts against numbers worked out by hand, a scripted move over the bowl and tilt
through the env's own actions that pours the spheres into the bowl, and the contact capacity's
overflow error; the bowl's per-world scale against a bowl compiled at that size by MuJoCo, its walls'
world positions against MuJoCo's C engine, and the spheres counted in it against the scaled shape."""

from __future__ import annotations

import copy
import dataclasses

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets import props
from warplab.envs.mdp.objects import object_free_joint, object_pos_w
from warplab.envs.rl_env import RlEnv
from warplab.sim import CapacityError
from warplab.tasks import make_env_cfg
from warplab.tasks.pour import mdp as pour_mdp
from warplab.tasks.pour.env_cfg import (
    BOWL,
    BOWL_BOTTOM_RADIUS,
    BOWL_FLOOR,
    BOWL_HEIGHT,
    BOWL_SCALE_RANGE,
    BOWL_SHAPE,
    BOWL_TOP_RADIUS,
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


def _bowl_geoms(model: mujoco.MjModel) -> list[int]:
    body = model.body(BOWL).id
    return [g for g in range(model.ngeom) if model.geom_bodyid[g] == body]


def test_each_world_draws_its_bowl_scale_and_gets_the_bowl_mujoco_compiles_at_that_size(env):
    scale = pour_mdp.container_scale(env, BOWL).numpy()
    assert len(set(scale.tolist())) == NUM_ENVS
    assert ((scale >= BOWL_SCALE_RANGE[0]) & (scale <= BOWL_SCALE_RANGE[1])).all(), scale
    torch.testing.assert_close(pour_mdp.container_scale(env, CUP), torch.ones(NUM_ENVS))
    geoms = _bowl_geoms(env.mj_model)
    body = env.mj_model.body(BOWL).id
    fields = {k: v.numpy() for k, v in env.sim.fields.arrays().items()}
    # MuJoCo Warp holds geom_aabb as [ngeom, 2, 3] (centre, half sizes), MuJoCo as [ngeom, 6]: compared
    # flattened per geom.
    for i, s in enumerate(scale.tolist()):
        # The reference: MuJoCo compiles props.add_bowl with every length s times the built one (the
        # 5 mm wall included), so its sizes, placements, collision bounds and inertia are MuJoCo's own.
        spec = mujoco.MjSpec()
        props.add_bowl(
            spec,
            name=BOWL,
            bottom_radius=s * BOWL_BOTTOM_RADIUS,
            top_radius=s * BOWL_TOP_RADIUS,
            height=s * BOWL_HEIGHT,
            wall=s * 0.005,
            floor=s * BOWL_FLOOR,
        )
        ref = spec.compile()
        ref_geoms = _bowl_geoms(ref)
        for name in ("geom_size", "geom_pos", "geom_rbound", "geom_aabb"):
            np.testing.assert_allclose(
                fields[name][i][geoms].reshape(len(geoms), -1),
                getattr(ref, name)[ref_geoms].reshape(len(geoms), -1),
                atol=2e-6,
                rtol=0,
                err_msg=name,
            )
        ref_body = ref.body(BOWL).id
        np.testing.assert_allclose(fields["body_ipos"][i][body], ref.body_ipos[ref_body], atol=2e-6, rtol=0)
        np.testing.assert_allclose(
            fields["body_inertia"][i][body], ref.body_inertia[ref_body], atol=1e-8, rtol=1e-4
        )


def test_the_bowls_walls_stand_where_mujocos_c_engine_puts_them_with_that_worlds_fields(env):
    env.reset(seed=0)
    model = env.mj_model
    geoms = _bowl_geoms(model)
    fields = {k: v.numpy() for k, v in env.sim.fields.arrays().items()}
    for i in range(NUM_ENVS):
        ref = copy.deepcopy(model)
        ref.geom_size[:] = fields["geom_size"][i]
        ref.geom_pos[:] = fields["geom_pos"][i]
        d = mujoco.MjData(ref)
        d.qpos[:] = env.sim.qpos[i].numpy()
        mujoco.mj_forward(ref, d)
        np.testing.assert_allclose(env.sim.geom_xpos[i, geoms].numpy(), d.geom_xpos[geoms], atol=1e-5, rtol=0)
        np.testing.assert_allclose(
            env.sim.geom_xmat[i, geoms].numpy().reshape(-1, 9), d.geom_xmat[geoms], atol=1e-5
        )


def test_a_sphere_near_a_large_bowls_rim_is_inside_it_and_outside_a_smaller_bowl(env):
    env.reset(seed=0)
    scale = pour_mdp.container_scale(env, BOWL)
    big, small = int(scale.argmax()), int(scale.argmin())
    s_big = float(scale[big])
    # Half-way up the large bowl, 95% of the way out to its wall there: the inside radius at bowl-frame
    # height z of a bowl scaled by s is s * (5 cm + (z / s - 1.2 cm) / 4.8 cm * 4 cm), so 12 mm of the
    # larger bowl's radius separate the largest and smallest drawn here.
    z = 0.5 * s_big * BOWL_HEIGHT
    rise = BOWL_HEIGHT - BOWL_FLOOR

    def radius(s: float) -> float:
        return s * (BOWL_BOTTOM_RADIUS + (z / s - BOWL_FLOOR) / rise * (BOWL_TOP_RADIUS - BOWL_BOTTOM_RADIUS))

    x = 0.95 * radius(s_big)
    assert x > radius(float(scale[small])) + 0.005  # the draw leaves the point well outside the small one
    qpos = env.sim.qpos.clone()
    adr = object_free_joint(env, SPHERES[0])[0]
    qpos[:, adr : adr + 3] = object_pos_w(env, BOWL) + torch.tensor([x, 0.0, z])
    env.set_physical_state(qpos=qpos)
    inside = pour_mdp.spheres_inside(env, SPHERES, BOWL_SHAPE)[:, 0]
    expected = torch.tensor([x <= radius(float(s)) for s in scale])
    assert inside[big] and not inside[small]
    torch.testing.assert_close(inside, expected)


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
