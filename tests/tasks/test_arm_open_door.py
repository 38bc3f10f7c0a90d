"""``arm-open-door``: the scene's layout, the terms against values worked out by hand, and a scripted
approach, grasp and swing through the env's own actions that opens every world's door past its
target angle, earns the rewards and ends the episode as a success."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from warplab.assets.robots.arm import EE_SITE
from warplab.envs.rl_env import RlEnv
from warplab.tasks import handle_mdp, make_env_cfg
from warplab.tasks.door import mdp as door_mdp
from warplab.tasks.door.env_cfg import (
    HANDLE_POS,
    HANDLE_SITE,
    HINGE,
    HINGE_DAMPING,
    HINGE_FRICTIONLOSS,
    HINGE_SITE,
    HINGE_STIFFNESS,
    NCONMAX,
    NJMAX,
    OPEN_ANGLE,
    TARGET,
    TARGET_ANGLE,
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
    cfg = make_env_cfg("arm-open-door", play=True)
    cfg.num_envs = NUM_ENVS
    cfg.device = "cpu"
    cfg.seed = 0
    return RlEnv(cfg)


def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_the_closed_knob_is_in_front_of_the_arm_and_the_hinge_on_its_left(env):
    env.reset(seed=0)
    model = env.mj_model
    knob = env.sim.site_xpos[:, model.site(HANDLE_SITE).id]
    hinge = env.sim.site_xpos[:, model.site(HINGE_SITE).id]
    # The cabinet moves up to 3 cm in x and y, the knob up to 1 cm along the door's width and height.
    offset = knob - torch.tensor(HANDLE_POS)
    assert (offset[:, 0].abs() <= 0.03 + 1e-5).all() and (offset[:, 1].abs() <= 0.04 + 1e-5).all()
    assert (offset[:, 2].abs() <= 0.01 + 1e-5).all()
    assert len(set(offset[:, 1].tolist())) == NUM_ENVS  # drawn per world
    # The hinge's site moves with the cabinet: 0.34 m (width less the knob's inset) left of the knob,
    # within the knob's 1 cm, and 5 cm behind it (the knob's offset: the hinge runs along the door's
    # front edge).
    torch.testing.assert_close(hinge[:, 0] - knob[:, 0], torch.full((NUM_ENVS,), 0.05), atol=1e-5, rtol=0)
    assert ((hinge[:, 1] - knob[:, 1] - 0.34).abs() <= 0.01 + 1e-5).all()
    target = env.command(TARGET)[:, 0]
    assert ((target >= TARGET_ANGLE[0]) & (target <= TARGET_ANGLE[1])).all()
    assert (handle_mdp.joint_opening(env, HINGE) == 0).all()
    # The privileged critic term reads each world's drawn damping, friction, stiffness (factors 0.5-2)
    # and spring rest angle (+-0.1 rad from closed).
    dynamics = door_mdp.hinge_dynamics(env, HINGE)
    nominal = torch.tensor([HINGE_DAMPING, HINGE_FRICTIONLOSS, HINGE_STIFFNESS])
    assert ((dynamics[:, :3] >= 0.5 * nominal - 1e-6) & (dynamics[:, :3] <= 2.0 * nominal + 1e-6)).all()
    assert (dynamics[:, 3].abs() <= 0.1 + 1e-6).all() and len(set(dynamics[:, 3].tolist())) == NUM_ENVS


def test_the_ee_to_handle_vector_and_the_approach_kernel(env):
    env.reset(seed=0)
    ee, handle = env.mj_model.site(EE_SITE).id, env.mj_model.site(HANDLE_SITE).id
    expected = env.sim.site_xpos[:, handle] - env.sim.site_xpos[:, ee]  # the base is not turned
    got = handle_mdp.site_offset_in_frame(env, EE_SITE, HANDLE_SITE, "link0")
    torch.testing.assert_close(got, expected)
    approach = handle_mdp.handle_distance_tanh(env, EE_SITE, HANDLE_SITE, 0.1)
    torch.testing.assert_close(
        approach, torch.tensor([1.0 - math.tanh(float(x) / 0.1) for x in expected.norm(dim=1)])
    )


def test_scripted_approach_grasp_and_swing_opens_every_door_past_its_target(env):
    """Above the knob, down around it, close, then swing the knob along its circle about the hinge
    with the wrist turning as the door does, past the target, and hold: joint targets from inverse
    kinematics turned into the env's actions. Every world grasps, opens its door past its target and
    ends its episode by the success termination before the time-out."""
    env.reset(seed=0)
    model = env.mj_model
    home, rotation = home_and_down_rotation(model)

    q_start = env.sim.qpos[:, :7].double().numpy()
    knob = env.sim.site_xpos[:, model.site(HANDLE_SITE).id].double().numpy()
    hinge = env.sim.site_xpos[:, model.site(HINGE_SITE).id].double().numpy()
    target = env.command(TARGET)[:, 0].double().numpy()
    segments = 6
    plans = []
    for i in range(NUM_ENVS):
        above, grasp = approach_and_grasp(model, home, rotation, knob[i])
        plan = [above, grasp]
        # Opening turns the door about the world's -z: the knob and the wrist turn by -angle about z.
        swing = min(target[i] + 0.1, OPEN_ANGLE)
        for k in range(1, segments + 1):
            turn = _rot_z(-swing * k / segments)
            point = hinge[i] + turn @ (knob[i] - hinge[i])
            plan.append(ik(model, plan[-1], point, turn @ rotation))
        plans.append(plan)
    phases = [  # (policy steps, from, to, gripper action)
        *approach_and_grasp_phases(q_start),
    ]
    for k in range(1, segments + 1):
        phases.append((12, lambda p, i, k=k: p[k], lambda p, i, k=k: p[k + 1], -1.0))
    phases.append((30, lambda p, i: p[-1], lambda p, i: p[-1], -1.0))

    dt = env.policy_dt
    run = run_handle_script(
        env,
        scripted_actions(env, home, q_start, plans, phases),
        HINGE,
        ("grasp_handle", "open_door", "door_past_target"),
    )
    succeeded, best, peak_angle = run.succeeded, run.best, run.peak_opening
    peak_contacts, peak_rows = run.peak_contacts, run.peak_rows
    assert succeeded.all(), f"worlds that succeeded {succeeded.tolist()}, peak angle {peak_angle.tolist()}"
    assert (peak_angle >= torch.as_tensor(target, dtype=torch.float32)).all()
    torch.testing.assert_close(best["grasp_handle"], torch.full((NUM_ENVS,), 2.0 * dt))
    torch.testing.assert_close(best["open_door"], torch.full((NUM_ENVS,), 10.0 * dt))
    torch.testing.assert_close(best["door_past_target"], torch.full((NUM_ENVS,), 10.0 * dt))
    # The capacity (env_cfg.NCONMAX, NJMAX) keeps a factor of 2 over what a grasp and swing uses.
    print(f"peak per world: {peak_contacts} contacts, {peak_rows} constraint rows")
    assert 2 * peak_contacts <= NCONMAX and 2 * peak_rows <= NJMAX


def test_success_needs_the_door_held_past_its_target(env):
    """The success termination fires after ``SUCCESS_HOLD_STEPS`` steps in a row past the target."""
    env.reset(seed=0)
    term = env.command_manager.term(TARGET)
    assert isinstance(term, door_mdp.TargetAngleCommand)
    term.held_steps.copy_(
        torch.tensor([0, SUCCESS_HOLD_STEPS - 1, SUCCESS_HOLD_STEPS, 3 * SUCCESS_HOLD_STEPS])
    )
    got = handle_mdp.opened_and_held(env, TARGET, SUCCESS_HOLD_STEPS)
    assert got.tolist() == [False, False, True, True]
    term.held_steps.zero_()
