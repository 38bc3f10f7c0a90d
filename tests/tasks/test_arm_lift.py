"""``arm-lift``: the goal command and the rewards' kernels against numbers worked out by hand, and a
scripted grasp and lift through the env's own actions that earns the lift and goal rewards."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import torch

from warplab.assets.robots.arm import EE_SITE, TABLE_HEIGHT
from warplab.envs.mdp import object_shape_onehot
from warplab.envs.mdp.objects import object_pos_w
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg
from warplab.tasks.lift import mdp as lift_mdp
from warplab.tasks.lift.env_cfg import (
    GOAL,
    GOAL_RANGES,
    LIFT_CLEARANCE_M,
    NCONMAX,
    NJMAX,
    OBJECT,
    OBJECT_SHAPES,
)

from .arm_script import home_and_down_rotation, ik, peak_contacts_and_rows, scripted_actions

NUM_ENVS = 4
SEED = 3
"""Its startup draw gives the four worlds three different shapes (checked below)."""


@pytest.fixture(scope="module")
def env() -> RlEnv:
    cfg = make_env_cfg("arm-lift", play=True)
    cfg.num_envs = NUM_ENVS
    cfg.device = "cpu"
    cfg.seed = SEED
    return RlEnv(cfg)


def test_goals_are_drawn_in_the_base_frame_within_isaac_labs_ranges(env):
    env.reset(seed=0)
    goal = env.command(GOAL)
    for k, axis in enumerate("xyz"):
        lo, hi = GOAL_RANGES[axis]
        assert ((goal[:, k] >= lo) & (goal[:, k] <= hi)).all()
    # The base stands on the table top at the world's origin, unturned: world = base + (0, 0, 0.75).
    expected = goal + torch.tensor([0.0, 0.0, TABLE_HEIGHT])
    torch.testing.assert_close(lift_mdp.goal_position_w(env, GOAL), expected)


def test_every_object_rests_on_the_table_after_a_reset_and_is_not_lifted(env):
    env.reset(seed=0)
    clearance = lift_mdp.object_clearance(env, OBJECT, TABLE_HEIGHT)
    torch.testing.assert_close(clearance, torch.zeros(NUM_ENVS), atol=1e-6, rtol=0)
    lifted = lift_mdp.object_lifted(env, OBJECT, TABLE_HEIGHT, LIFT_CLEARANCE_M)
    assert (lifted == 0).all()


def lift_script(env: RlEnv) -> Iterator[torch.Tensor]:
    """The scripted grasp and lift from the env's state now, one action per policy step (200 steps):
    over the object, down, close, carry to the goal, hold."""
    model = env.mj_model
    home, rotation = home_and_down_rotation(model)

    q_start = env.sim.qpos[:, :7].double().numpy()
    obj_pos = object_pos_w(env, OBJECT).double().numpy()
    goal = lift_mdp.goal_position_w(env, GOAL).double().numpy()
    plans = []
    for i in range(env.num_envs):
        # Grasp at the object's centre, but no lower than 2.5 cm over the table: the pads' lower edge
        # stays clear of the table top for a small object.
        grasp_pos = obj_pos[i].copy()
        grasp_pos[2] = max(grasp_pos[2], TABLE_HEIGHT + 0.025)
        above = ik(model, home, grasp_pos + [0.0, 0.0, 0.12], rotation)
        grasp = ik(model, above, grasp_pos, rotation)
        carried = ik(model, grasp, goal[i] + (grasp_pos - obj_pos[i]), rotation)
        plans.append((above, grasp, carried))
    phases = [  # (policy steps, from, to, gripper action)
        (40, lambda p, i: q_start[i], lambda p, i: p[0], 1.0),
        (40, lambda p, i: p[0], lambda p, i: p[1], 1.0),
        (20, lambda p, i: p[1], lambda p, i: p[1], -1.0),
        (60, lambda p, i: p[1], lambda p, i: p[2], -1.0),
        (40, lambda p, i: p[2], lambda p, i: p[2], -1.0),
    ]
    return scripted_actions(env, home, q_start, plans, phases)


def test_scripted_grasp_and_lift_earns_the_lift_and_goal_rewards(env):
    """Over the object, down, close, carry to the goal, hold: joint targets from inverse kinematics
    turned into the env's actions (``home + 0.5 * action`` rad, the gripper's sign). Every world,
    whatever its shape, lifts its object, brings it within 2 cm of its goal and is never terminated."""
    obs, _ = env.reset(seed=0)
    onehot = object_shape_onehot(env, OBJECT)
    assert onehot.shape == (NUM_ENVS, len(OBJECT_SHAPES))
    assert len(set(onehot.argmax(1).tolist())) >= 3, f"shapes per world {onehot.argmax(1).tolist()}"
    names = env.reward_manager.names
    lifted_steps = torch.zeros(NUM_ENVS)
    peak_contacts, peak_rows = 0, 0
    for action in lift_script(env):
        _, _, terminated, truncated, _ = env.step(action)
        assert not (terminated | truncated).any()
        terms = env.reward_manager.step_terms
        lifted_steps += terms[:, names.index("lifting_object")] > 0
        contacts, rows = peak_contacts_and_rows(env)
        peak_contacts, peak_rows = max(peak_contacts, contacts), max(peak_rows, rows)
    terms = env.reward_manager.step_terms
    dt = env.policy_dt
    torch.testing.assert_close(terms[:, names.index("lifting_object")], torch.full((NUM_ENVS,), 15.0 * dt))
    # Within 2 cm of the goal: the coarse kernel 1 - tanh(d / 0.3) > 0.93, the fine one 1 - tanh(d / 0.05) > 0.6.
    assert (terms[:, names.index("object_goal_tracking")] > 16.0 * dt * 0.93).all()
    assert (terms[:, names.index("object_goal_tracking_fine_grained")] > 5.0 * dt * 0.6).all()
    distance = torch.linalg.vector_norm(
        object_pos_w(env, OBJECT) - lift_mdp.goal_position_w(env, GOAL), dim=1
    )
    assert (distance < 0.02).all(), distance
    assert (lifted_steps >= 60).all()  # lifted through the carry and the hold
    # Held within 2 cm of the goal for the last 40 steps: the task's success (5 cm, 10 steps) is met.
    goal_term = env.command_manager.term(GOAL)
    assert goal_term.succeeded.all() and (goal_term.held_steps >= 40).all(), goal_term.held_steps
    # The capacity (env_cfg.NCONMAX, NJMAX) keeps a factor of 2 over what a grasp uses.
    print(f"peak per world: {peak_contacts} contacts, {peak_rows} constraint rows")
    assert 2 * peak_contacts <= NCONMAX and 2 * peak_rows <= NJMAX


def test_reaching_kernel_is_one_minus_tanh_of_the_distance_over_std(env):
    env.reset(seed=0)
    site = env.mj_model.site(EE_SITE).id
    d = torch.linalg.vector_norm(object_pos_w(env, OBJECT) - env.sim.site_xpos[:, site], dim=1)
    got = lift_mdp.ee_object_distance_tanh(env, OBJECT, EE_SITE, 0.1)
    expected = torch.tensor([1.0 - math.tanh(float(x) / 0.1) for x in d])
    torch.testing.assert_close(got, expected)


def test_the_penalties_grow_a_thousandfold_after_10000_policy_steps(env):
    """Isaac Lab's curriculum: action rate and joint velocity from -1e-4 to -1e-1 at step 10,000."""
    rewards = env.reward_manager
    columns = [rewards.index("action_rate"), rewards.index("joint_vel")]
    env.reset(seed=0)
    env.step(torch.zeros(NUM_ENVS, env.action_dim))
    torch.testing.assert_close(rewards.weight_scales[columns], torch.ones(2))
    env.step_count.fill_(10_000)
    env.step(torch.zeros(NUM_ENVS, env.action_dim))
    torch.testing.assert_close(rewards.weight_scales[columns], torch.full((2,), 1000.0))
    others = [i for i in range(len(rewards.names)) if i not in columns]
    torch.testing.assert_close(rewards.weight_scales[others], torch.ones(len(others)))
    env.step_count.zero_()
    env.step(torch.zeros(NUM_ENVS, env.action_dim))
