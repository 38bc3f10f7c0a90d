"""``arm-open-drawer``: the scene's layout, the reward and observation terms against values worked out
by hand, and a scripted approach, grasp and pull through the env's own actions that opens every
world's drawer past its target, earns the rewards and ends the episode as a success."""

from __future__ import annotations

import math
from collections.abc import Iterator

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.robots.arm import EE_SITE
from warplab.envs.rl_env import RlEnv
from warplab.tasks import handle_mdp, make_env_cfg
from warplab.tasks.drawer import mdp as drawer_mdp
from warplab.tasks.drawer.env_cfg import (
    DRAWER,
    DRAWER_DAMPING,
    DRAWER_FRICTIONLOSS,
    DRAWER_TRAVEL,
    HANDLE_POS,
    HANDLE_SITE,
    NCONMAX,
    NJMAX,
    SLIDE,
    TARGET,
    TARGET_TRAVEL,
)
from warplab.tasks.handle_task import SUCCESS_HOLD_STEPS

from .arm_script import (
    approach_and_grasp,
    approach_and_grasp_phases,
    home_and_down_rotation,
    ik,
    run_handle_script,
    scripted_actions,
)

NUM_ENVS = 4


@pytest.fixture(scope="module")
def env() -> RlEnv:
    cfg = make_env_cfg("arm-open-drawer", play=True)
    cfg.num_envs = NUM_ENVS
    cfg.device = "cpu"
    cfg.seed = 0
    return RlEnv(cfg)


def test_the_closed_knob_is_in_front_of_the_arm_within_the_jitter_and_targets_within_range(env):
    env.reset(seed=0)
    site = env.mj_model.site(HANDLE_SITE).id
    knob = env.sim.site_xpos[:, site]
    # The cabinet moves up to 3 cm in x and y, the knob up to 1 cm in y and z on the drawer's face.
    offset = knob - torch.tensor(HANDLE_POS)
    assert (offset[:, 0].abs() <= 0.03 + 1e-5).all() and (offset[:, 1].abs() <= 0.04 + 1e-5).all()
    assert (offset[:, 2].abs() <= 0.01 + 1e-5).all()
    assert len(set(offset[:, 1].tolist())) == NUM_ENVS  # drawn per world
    target = env.command(TARGET)[:, 0]
    assert ((target >= TARGET_TRAVEL[0]) & (target <= TARGET_TRAVEL[1])).all()
    assert (handle_mdp.joint_opening(env, SLIDE) == 0).all()
    # The privileged critic term reads each world's drawn slide damping and friction (factors 0.5-2).
    damping_friction = handle_mdp.slide_damping_friction(env, SLIDE)
    nominal = torch.tensor([DRAWER_DAMPING, DRAWER_FRICTIONLOSS])
    assert ((damping_friction >= 0.5 * nominal - 1e-6) & (damping_friction <= 2.0 * nominal + 1e-6)).all()


def test_the_cabinet_walls_move_with_the_cabinet_in_each_world(env):
    env.reset(seed=0)
    m = env.mj_model
    cabinet = m.body(DRAWER).id
    walls = [g for g in range(m.ngeom) if m.geom_bodyid[g] == cabinet]
    assert walls and m.body_weldid[cabinet] == 0  # welded to the world: MuJoCo Warp's static geoms
    moved = env.sim.model_field("body_pos")[:, cabinet] - torch.as_tensor(
        m.body_pos[cabinet], dtype=torch.float32
    )
    assert (moved[:, :2].abs() > 1e-4).all()  # every world's cabinet left its compiled place
    for w in range(NUM_ENVS):
        # The C engine, given this world's model fields and state, places the walls the same.
        model = env.sim.world_mj_model(w)
        data = mujoco.MjData(model)
        data.qpos[:] = env.sim.qpos[w].double().numpy()
        mujoco.mj_forward(model, data)
        np.testing.assert_allclose(
            env.sim.geom_xpos[w, walls].double().numpy(),
            data.geom_xpos[walls],
            atol=1e-5,
            err_msg=f"world {w}",
        )


def test_the_ee_to_handle_vector_is_the_site_difference_in_the_unturned_base_frame(env):
    env.reset(seed=0)
    ee, handle = env.mj_model.site(EE_SITE).id, env.mj_model.site(HANDLE_SITE).id
    expected = env.sim.site_xpos[:, handle] - env.sim.site_xpos[:, ee]  # the base is not turned
    got = handle_mdp.site_offset_in_frame(env, EE_SITE, HANDLE_SITE, "link0")
    torch.testing.assert_close(got, expected)
    approach = handle_mdp.handle_distance_tanh(env, EE_SITE, HANDLE_SITE, 0.1)
    torch.testing.assert_close(
        approach, torch.tensor([1.0 - math.tanh(float(x) / 0.1) for x in expected.norm(dim=1)])
    )


def drawer_script(env: RlEnv) -> Iterator[torch.Tensor]:
    """The scripted approach, grasp and pull from the env's state now, one action per policy step
    (175 steps): above the knob, down around it, close, pull past the target, hold."""
    model = env.mj_model
    home, rotation = home_and_down_rotation(model)

    q_start = env.sim.qpos[:, :7].double().numpy()
    knob = env.sim.site_xpos[:, model.site(HANDLE_SITE).id].double().numpy()
    target = env.command(TARGET)[:, 0].double().numpy()
    plans = []
    for i in range(env.num_envs):
        above, grasp = approach_and_grasp(model, home, rotation, knob[i])
        # Pull 4 cm past the target (within the slide's range): the knob follows the fingers.
        pull = min(target[i] + 0.04, DRAWER_TRAVEL)
        pulled = ik(model, grasp, knob[i] - [pull, 0.0, 0.0], rotation)
        plans.append((above, grasp, pulled))
    phases = [  # (policy steps, from, to, gripper action)
        *approach_and_grasp_phases(q_start),
        (60, lambda p, i: p[1], lambda p, i: p[2], -1.0),
        (30, lambda p, i: p[2], lambda p, i: p[2], -1.0),
    ]
    return scripted_actions(env, home, q_start, plans, phases)


def test_scripted_approach_grasp_and_pull_opens_every_drawer_past_its_target(env):
    """Above the knob, down around it, close, pull towards the base past the target, hold: joint
    targets from inverse kinematics turned into the env's actions (``home + 0.5 * action`` rad, the
    gripper's sign). Every world grasps, opens its drawer past its target and ends its episode by
    the success termination before the time-out."""
    env.reset(seed=0)
    target = env.command(TARGET)[:, 0].double().numpy()
    dt = env.policy_dt
    run = run_handle_script(
        env, drawer_script(env), SLIDE, ("grasp_handle", "open_drawer", "drawer_past_target")
    )
    succeeded, best, peak_opening = run.succeeded, run.best, run.peak_opening
    peak_contacts, peak_rows = run.peak_contacts, run.peak_rows
    assert succeeded.all(), (
        f"worlds that succeeded {succeeded.tolist()}, peak opening {peak_opening.tolist()}"
    )
    assert (peak_opening >= torch.as_tensor(target, dtype=torch.float32)).all()
    torch.testing.assert_close(best["grasp_handle"], torch.full((NUM_ENVS,), 2.0 * dt))
    torch.testing.assert_close(best["open_drawer"], torch.full((NUM_ENVS,), 10.0 * dt))
    torch.testing.assert_close(best["drawer_past_target"], torch.full((NUM_ENVS,), 10.0 * dt))
    # The capacity (env_cfg.NCONMAX, NJMAX) keeps a factor of 2 over what a grasp and pull uses.
    print(f"peak per world: {peak_contacts} contacts, {peak_rows} constraint rows")
    assert 2 * peak_contacts <= NCONMAX and 2 * peak_rows <= NJMAX


def test_success_needs_the_drawer_held_past_its_target(env):
    """The success termination fires after ``SUCCESS_HOLD_STEPS`` steps in a row past the target."""
    env.reset(seed=0)
    term = env.command_manager.term(TARGET)
    assert isinstance(term, drawer_mdp.TargetTravelCommand)
    term.held_steps.copy_(
        torch.tensor([0, SUCCESS_HOLD_STEPS - 1, SUCCESS_HOLD_STEPS, 3 * SUCCESS_HOLD_STEPS])
    )
    got = handle_mdp.opened_and_held(env, TARGET, SUCCESS_HOLD_STEPS)
    assert got.tolist() == [False, False, True, True]
    term.held_steps.zero_()
