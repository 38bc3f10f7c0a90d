"""``hand-grasp-lift``: the grasp terms against values worked out from the sites and sensors, and a
scripted reach, close and lift through the env's own actions that lifts the object in most worlds
and earns the lift and grasp rewards."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from warplab.assets.robots.arm import TABLE_HEIGHT
from warplab.envs.mdp import object_shape_onehot
from warplab.envs.mdp.objects import object_pos_w, object_quat_w
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg
from warplab.tasks.hand_grasp import mdp as grasp_mdp
from warplab.tasks.hand_grasp.env_cfg import (
    GRASP_SITES,
    HAND_JOINTS,
    NCONMAX,
    NJMAX,
    PALM_SITE,
)
from warplab.tasks.lift import mdp as lift_mdp
from warplab.tasks.lift.env_cfg import GOAL, LIFT_CLEARANCE_M, OBJECT, OBJECT_SHAPES

from .arm_script import ik, peak_contacts_and_rows, scripted_actions

NUM_ENVS = 8
SEED = 3
# The closing pose of the scripted grasp, rad: each finger's (spread, MCP, PIP, DIP), then the thumb's
# (CMC rotation, CMC flexion, MCP, IP). The fingers curl under the object's far side, the thumb
# comes round its near side; found by a search over closing poses on MuJoCo's C engine.
FINGER_CLOSED = (0.0, 0.7, 1.17, 1.31)
THUMB_CLOSED = (1.77, 0.21, 1.06, 1.18)
PALM_OFFSET_M = 0.03
"""The palm's centre sits this far behind the object's centre (towards the wrist), over its top."""


@pytest.fixture(scope="module")
def env() -> RlEnv:
    cfg = make_env_cfg("hand-grasp-lift", play=True)
    cfg.num_envs = NUM_ENVS
    cfg.device = "cpu"
    cfg.seed = SEED
    return RlEnv(cfg)


def _hand_action(env: RlEnv, q: np.ndarray) -> np.ndarray:
    """The hand's 16 actions that target the joint angles ``q`` [16] (``HomeCenteredPositionAction``:
    ``home + scale * action``, ``scale = max(high - home, home - low)`` of each control range)."""
    m = env.mj_model
    ids = [m.actuator(name).id for name in HAND_JOINTS]
    home = np.array([m.qpos0[m.jnt_qposadr[m.joint(name).id]] for name in HAND_JOINTS])
    low, high = m.actuator_ctrlrange[ids].T
    return (q - home) / np.maximum(high - home, home - low)


def _palm_down_grasp(
    model, home: np.ndarray, xy: np.ndarray, top: float, yaw: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Arm joint angles [7] that put the palm's centre over an object's top at ``xy`` (world, m),
    palm down, the fingers along the base's +y turned by ``yaw`` rad; with the palm's position [3]
    and rotation [3, 3]. None where inverse kinematics does not converge."""
    fingers = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
    down = np.array([0.0, 0.0, -1.0])
    rotation = np.stack([fingers, np.cross(down, fingers), down], axis=1)
    grasp_pos = np.array([*xy, top]) - PALM_OFFSET_M * fingers
    # From home, inverse kinematics finds a turned pose more surely by way of the unturned one.
    square = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    try:
        first = ik(model, home, grasp_pos, square, PALM_SITE)
        return ik(model, first, grasp_pos, rotation, PALM_SITE), grasp_pos, rotation
    except AssertionError:
        return None


def test_grasp_centre_is_the_mean_of_the_palm_and_fingertips(env):
    env.reset(seed=0)
    m = env.mj_model
    points = torch.stack([env.sim.site_xpos[:, m.site(name).id] for name in GRASP_SITES], dim=1)
    torch.testing.assert_close(grasp_mdp.grasp_centre_w(env, list(GRASP_SITES)), points.mean(dim=1))
    d = torch.linalg.vector_norm(object_pos_w(env, OBJECT) - points.mean(dim=1), dim=1)
    got = grasp_mdp.grasp_centre_object_distance_tanh(env, OBJECT, list(GRASP_SITES), 0.1)
    torch.testing.assert_close(got, torch.tensor([1.0 - math.tanh(float(x) / 0.1) for x in d]))


# About 30 s on the CPU: 235 policy steps of eight worlds with the hand's many contacts.
@pytest.mark.slow
def test_scripted_reach_close_and_lift_earns_the_grasp_and_lift_rewards(env):
    """Over the object palm down, down onto it, close the fingers, lift to the goal's height: arm
    joint targets from inverse kinematics on the palm's centre, turned into the env's actions."""
    env.reset(seed=0)
    shapes = object_shape_onehot(env, OBJECT).argmax(1).tolist()
    assert {OBJECT_SHAPES.index("box"), OBJECT_SHAPES.index("cylinder")} <= set(shapes), shapes
    model = env.mj_model
    home = env.sim.init_qpos[:7].double().numpy()
    q_start = env.sim.qpos[:, :7].double().numpy()
    obj_pos = object_pos_w(env, OBJECT).double().numpy()
    quat = object_quat_w(env, OBJECT).double().numpy()
    goal = lift_mdp.goal_position_w(env, GOAL).double().numpy()
    plans = []
    for i in range(NUM_ENVS):
        # The fingers point along a horizontal line square to a face of a box (any line for the
        # round shapes, which stand upright), the palm's normal down: the first of the four such
        # lines, nearest the base's +y first, that the arm reaches.
        yaw = 2.0 * math.atan2(quat[i, 3], quat[i, 0])
        yaw = (yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4
        top = 2.0 * obj_pos[i, 2] - TABLE_HEIGHT  # upright shapes: as far above the origin as below
        for turn in (0.0, math.pi / 2, -math.pi / 2, math.pi):
            solved = _palm_down_grasp(model, home, obj_pos[i, :2], top, yaw + turn)
            if solved is not None:
                break
        assert solved is not None, f"world {i}: no palm-down grasp within reach"
        grasp, grasp_pos, rotation = solved
        above = ik(model, grasp, grasp_pos + [0.0, 0.0, 0.12], rotation, PALM_SITE)
        lifted = ik(model, grasp, np.array([*grasp_pos[:2], goal[i, 2]]), rotation, PALM_SITE)
        plans.append((above, grasp, lifted))
    open_hand = np.zeros(len(HAND_JOINTS))
    closed = _hand_action(env, np.array([*FINGER_CLOSED * 3, *THUMB_CLOSED]))
    phases = [  # (policy steps, from, to, hand actions)
        (60, lambda p, i: q_start[i], lambda p, i: p[0], open_hand),
        (50, lambda p, i: p[0], lambda p, i: p[1], open_hand),
        (10, lambda p, i: p[1], lambda p, i: p[1], 0.5 * closed),
        (25, lambda p, i: p[1], lambda p, i: p[1], closed),
        (60, lambda p, i: p[1], lambda p, i: p[2], closed),
        (30, lambda p, i: p[2], lambda p, i: p[2], closed),
    ]
    names = env.reward_manager.names
    grasped_steps = torch.zeros(NUM_ENVS)
    peak_contacts, peak_rows = 0, 0
    for action in scripted_actions(env, home, q_start, plans, phases):
        _, _, terminated, truncated, _ = env.step(action)
        assert not truncated.any()
        grasped_steps += env.reward_manager.step_terms[:, names.index("grasping_object")] > 0
        contacts, rows = peak_contacts_and_rows(env)
        peak_contacts, peak_rows = max(peak_contacts, contacts), max(peak_rows, rows)
    terms = env.reward_manager.step_terms
    lifted = terms[:, names.index("lifting_object")] > 0
    clearance = lift_mdp.object_clearance(env, OBJECT, TABLE_HEIGHT)
    print(f"shapes {shapes}, lifted {lifted.tolist()}, clearance {clearance.tolist()}")
    print(f"peak per world: {peak_contacts} contacts, {peak_rows} constraint rows")
    torch.testing.assert_close(
        terms[lifted, names.index("lifting_object")], torch.full((int(lifted.sum()),), 15.0 * env.policy_dt)
    )
    assert (clearance[lifted] > LIFT_CLEARANCE_M).all()
    assert int(lifted.sum()) > NUM_ENVS // 2, lifted
    box, cylinder = OBJECT_SHAPES.index("box"), OBJECT_SHAPES.index("cylinder")
    assert any(lifted[i] for i in range(NUM_ENVS) if shapes[i] == box)
    assert any(lifted[i] for i in range(NUM_ENVS) if shapes[i] == cylinder)
    assert (grasped_steps[lifted] >= 60).all(), grasped_steps
    # The capacity (env_cfg.NCONMAX, NJMAX) keeps a factor of 2 over what a grasp uses.
    assert 2 * peak_contacts <= NCONMAX and 2 * peak_rows <= NJMAX
