"""``arm-pick-place``: the goal on the table away from the object's start, the rest point and the
rewards' kernels against numbers worked out by hand, and a scripted grasp, carry and release through
the env's own actions that places every world's object at its goal and ends the episode a success."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import warp as wp

from warplab.assets.robots.arm import TABLE_HEIGHT
from warplab.envs.mdp import object_shape_onehot
from warplab.envs.mdp.objects import object_pos_w
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg
from warplab.tasks.lift import mdp as lift_mdp
from warplab.tasks.lift.env_cfg import GOAL, OBJECT, OBJECT_SHAPES
from warplab.tasks.pick_place import mdp as place_mdp
from warplab.tasks.pick_place.env_cfg import (
    GOAL_MIN_DISTANCE_M,
    GOAL_RANGES,
    NCONMAX,
    NJMAX,
    PLACE_TOLERANCE_M,
    SUCCESS_HOLD_STEPS,
)

from .arm_script import home_and_down_rotation, ik, scripted_actions

NUM_ENVS = 4
SEED = 3
"""arm-lift's seed: its startup draw gives the four worlds three different shapes (checked below)."""


@pytest.fixture(scope="module")
def env() -> RlEnv:
    cfg = make_env_cfg("arm-pick-place", play=True)
    cfg.num_envs = NUM_ENVS
    cfg.device = "cpu"
    cfg.seed = SEED
    return RlEnv(cfg)


def test_goals_lie_on_the_table_in_range_and_away_from_the_objects_start(env):
    for seed in range(8):
        env.reset(seed=seed)
        goal = env.command(GOAL)
        for k, axis in enumerate("xy"):
            lo, hi = GOAL_RANGES[axis]
            assert ((goal[:, k] >= lo) & (goal[:, k] <= hi)).all()
        # The base stands on the table top at the world's origin, unturned: the goal's world z is
        # the table top's, and its x-y the base frame's.
        goal_w = lift_mdp.goal_position_w(env, GOAL)
        torch.testing.assert_close(goal_w[:, 2], torch.full((NUM_ENVS,), TABLE_HEIGHT))
        start = object_pos_w(env, OBJECT)[:, :2]
        assert (torch.linalg.vector_norm(goal_w[:, :2] - start, dim=1) >= GOAL_MIN_DISTANCE_M).all()


def test_the_rest_point_of_every_shape_lies_on_the_table_and_nothing_is_earned_unlifted(env):
    env.reset(seed=0)
    rest = place_mdp.object_rest_point_w(env, OBJECT)
    torch.testing.assert_close(rest[:, 2], torch.full((NUM_ENVS,), TABLE_HEIGHT), atol=1e-6, rtol=0)
    torch.testing.assert_close(rest[:, :2], object_pos_w(env, OBJECT)[:, :2])
    # The object-to-goal observation is the goal minus the rest point, in base axes (= world axes).
    offset = place_mdp.object_goal_offset_in_frame(env, OBJECT, GOAL)
    torch.testing.assert_close(offset, lift_mdp.goal_position_w(env, GOAL) - rest)
    # Not lifted yet: the carry and place rewards are gated off, the lift reward is 0.
    assert (place_mdp.carry_distance_tanh(env, GOAL, 0.3) == 0).all()
    assert (place_mdp.object_placed(env, GOAL) == 0).all()
    assert (place_mdp.lifted_until_near_goal(env, GOAL, 0.05) == 0).all()


def test_carry_kernel_is_one_minus_tanh_of_the_rest_point_distance_once_lifted(env):
    env.reset(seed=0)
    goal_term = env.command_manager.term(GOAL)
    goal_term.lifted_once.fill_(True)
    d = torch.linalg.vector_norm(
        lift_mdp.goal_position_w(env, GOAL) - place_mdp.object_rest_point_w(env, OBJECT), dim=1
    )
    expected = torch.tensor([1.0 - math.tanh(float(x) / 0.05) for x in d])
    torch.testing.assert_close(place_mdp.carry_distance_tanh(env, GOAL, 0.05), expected)
    # Lifted once and on the table but at least 10 cm from the goal: no lift reward, not placed.
    assert (place_mdp.lifted_until_near_goal(env, GOAL, 0.05) == 0).all()
    assert (place_mdp.object_placed(env, GOAL) == 0).all()
    env.reset(seed=0)
    assert not goal_term.lifted_once.any()


def _peak_per_world(env: RlEnv, active: torch.Tensor) -> tuple[int, int]:
    """The most contacts and constraint rows any world of ``active`` holds now."""
    count = int(env.sim.contact.count[0])
    per_world = torch.bincount(env.sim.contact.worldid[:count].long(), minlength=env.num_envs)
    rows = wp.to_torch(env.sim.data.nefc)
    return int((per_world * active).max()), int((rows * active).max())


def test_scripted_grasp_carry_and_release_places_every_object_and_succeeds(env):
    """Over the object, down, close, up, over the goal, down, open: joint targets from inverse
    kinematics turned into the env's actions. Every world, whatever its shape, lifts its object,
    sets it down within 3 cm of its goal, lets go, and its episode ends as a success (a truncation),
    never as a drop, having earned the lift, carry and place rewards."""
    obs, _ = env.reset(seed=0)
    onehot = object_shape_onehot(env, OBJECT)
    assert onehot.shape == (NUM_ENVS, len(OBJECT_SHAPES))
    assert len(set(onehot.argmax(1).tolist())) >= 3, f"shapes per world {onehot.argmax(1).tolist()}"
    model = env.mj_model
    home, rotation = home_and_down_rotation(model)

    q_start = env.sim.qpos[:, :7].double().numpy()
    obj_pos = object_pos_w(env, OBJECT).double().numpy()
    rest = place_mdp.object_rest_point_w(env, OBJECT).double().numpy()
    goal = lift_mdp.goal_position_w(env, GOAL).double().numpy()
    up = np.array([0.0, 0.0, 0.12])
    plans = []
    for i in range(NUM_ENVS):
        # Grasp at the object's centre, but no lower than 2.5 cm over the table (arm-lift's script).
        grasp_pos = obj_pos[i].copy()
        grasp_pos[2] = max(grasp_pos[2], TABLE_HEIGHT + 0.025)
        # Set down with the rest point on the goal: dropped from even 5 mm, an upright capsule (on a
        # round end) tips over.
        place_pos = goal[i] + (grasp_pos - rest[i])
        above = ik(model, home, grasp_pos + up, rotation)
        grasp = ik(model, above, grasp_pos, rotation)
        lifted = ik(model, grasp, grasp_pos + up, rotation)
        over_goal = ik(model, lifted, place_pos + up, rotation)
        place = ik(model, over_goal, place_pos, rotation)
        plans.append((above, grasp, lifted, over_goal, place))

    def at(k):
        return lambda p, i: p[k]

    phases = [  # (policy steps, from, to, gripper action)
        (40, lambda p, i: q_start[i], at(0), 1.0),
        (40, at(0), at(1), 1.0),
        (20, at(1), at(1), -1.0),
        (40, at(1), at(2), -1.0),
        (60, at(2), at(3), -1.0),
        (40, at(3), at(4), -1.0),
        (40, at(4), at(4), 1.0),
    ]
    names = env.reward_manager.names
    terms_at_end = torch.zeros(NUM_ENVS, len(names))
    lifted_steps = torch.zeros(NUM_ENVS)
    placing_steps = torch.zeros(NUM_ENVS)
    done = torch.zeros(NUM_ENVS, dtype=torch.bool)
    success = torch.zeros(NUM_ENVS, dtype=torch.bool)
    offset_at_end = torch.zeros(NUM_ENVS, 3)
    success_col = env.termination_manager.names.index("success")
    peak_contacts, peak_rows = 0, 0
    for action in scripted_actions(env, home, q_start, plans, phases):
        active = ~done
        _, _, terminated, truncated, info = env.step(action)
        terms = env.reward_manager.step_terms
        lifted_steps += active & (terms[:, names.index("lifting_object")] > 0)
        placing_steps += active & (terms[:, names.index("placing_object")] > 0)
        finished = active & (terminated | truncated)
        assert not (active & terminated).any(), "an object dropped"
        terms_at_end[finished] = terms[finished]
        success |= finished & env.termination_manager.term_flags[:, success_col]
        # The terminal observation's last three columns: the object-to-goal vector (play: no noise).
        offset_at_end[finished] = info["final_obs"]["policy"][finished, -3:]
        done |= finished
        contacts, rows = _peak_per_world(env, active & ~finished)
        peak_contacts, peak_rows = max(peak_contacts, contacts), max(peak_rows, rows)
        if done.all():
            break
    assert success.all(), f"success per world {success.tolist()}"
    assert (torch.linalg.vector_norm(offset_at_end, dim=1) < PLACE_TOLERANCE_M).all(), offset_at_end
    dt = env.policy_dt
    assert (lifted_steps >= 60).all(), lifted_steps  # lifted through the lift and the carry
    assert (placing_steps >= SUCCESS_HOLD_STEPS).all(), placing_steps
    # The last step's rewards: resting at the goal, open, lifted earlier: the lift (near the goal),
    # the place bonus, and the carry kernels within 3 cm: 1 - tanh(0.03 / 0.3) > 0.9, / 0.05 > 0.46.
    torch.testing.assert_close(
        terms_at_end[:, names.index("lifting_object")], torch.full((NUM_ENVS,), 15.0 * dt)
    )
    torch.testing.assert_close(
        terms_at_end[:, names.index("placing_object")], torch.full((NUM_ENVS,), 10.0 * dt)
    )
    assert (
        terms_at_end[:, names.index("carrying_object")] > 16.0 * dt * (1 - math.tanh(PLACE_TOLERANCE_M / 0.3))
    ).all()
    assert (
        terms_at_end[:, names.index("carrying_object_fine_grained")]
        > 5.0 * dt * (1 - math.tanh(PLACE_TOLERANCE_M / 0.05))
    ).all()
    # The capacity (env_cfg.NCONMAX, NJMAX) keeps a factor of 2 over what a pick and place uses.
    print(f"peak per world: {peak_contacts} contacts, {peak_rows} constraint rows")
    assert 2 * peak_contacts <= NCONMAX and 2 * peak_rows <= NJMAX
