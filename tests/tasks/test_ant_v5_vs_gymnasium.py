"""warplab's ``Ant-v5`` against Gymnasium's own ``Ant-v5``, from identical states.

Gymnasium's ant already uses the Newton solver, so both engines solve the same problem; they differ
by float32 (MuJoCo Warp) against float64 (MuJoCo's C engine). States come from a Gymnasium rollout
under random actions; each is written into one warplab world (``RlEnv.set_physical_state``, in a
world that was elsewhere before) and into Gymnasium (its ``set_state``), and both step with the
same actions.

With the legs on the ground, the comparison uses the elliptic friction cone in both engines: with
Gymnasium's pyramidal cone the friction depends on each contact's tangent directions, and MuJoCo
Warp picks other tangents than MuJoCo's C engine for some contacts (see docs/environments.md), which
moves a sliding foot's velocity by a few hundredths.
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest
import torch

import warplab
from warplab.envs import RlEnv
from warplab.tasks import make_env_cfg
from warplab.tasks.gym_mujoco import ant_spec

WORLD = 1
# The 105 values of Gymnasium's documented observation, in order: qpos without x and y, qvel, and
# the clipped external forces of the 13 bodies after the world body.
GYM_LAYOUT = {"qpos": 13, "qvel": 14, "cfrc_ext": 78}
# float32 physics over five substeps: about 1e-6 of the largest values (see the Humanoid-v5 test);
# 1e-4 leaves a wide margin while any layout, sign or offset error fails.
RTOL, ATOL = 1e-4, 1e-4
# The contact forces are clipped to [-1, 1]: unclipped entries carry the solver's float32 error,
# which scales with the largest force in the world.
FORCE_ATOL = 2e-3
# The forward reward differences the torso's x over 50 ms: float32 positions resolve ~1e-7 m.
FORWARD_ATOL = 1e-4


def _elliptic_ant_spec() -> mujoco.MjSpec:
    spec = ant_spec()
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    return spec


@pytest.fixture(scope="module")
def rollout():
    genv = gym.make("Ant-v5").unwrapped
    genv.model.opt.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    genv.reset(seed=0)
    rng = np.random.default_rng(0)
    states = []
    for _ in range(120):
        states.append((genv.data.qpos.copy(), genv.data.qvel.copy(), genv.data.ncon))
        genv.step(rng.uniform(-1.0, 1.0, genv.model.nu))
    return genv, states


@pytest.fixture(scope="module")
def wl_env():
    return warplab.make("Ant-v5", num_envs=3, device="cpu")


def test_observation_layout_matches_gymnasium(wl_env):
    assert wl_env.observation_shapes["policy"] == (sum(GYM_LAYOUT.values()),) == (105,)
    assert wl_env.action_dim == 8
    assert wl_env.policy_dt == pytest.approx(0.05)
    assert wl_env.max_episode_length == 1000


@pytest.fixture(scope="module")
def elliptic_env():
    cfg = make_env_cfg("Ant-v5")
    cfg.scene, cfg.num_envs, cfg.device = _elliptic_ant_spec, 3, "cpu"
    return RlEnv(cfg)


def _step_from_here(genv, env, action, what):
    """Steps Gymnasium and warplab's world WORLD with ``action`` and compares every output."""
    action = action.astype(np.float32)
    g_obs, g_rew, g_term, _, g_info = genv.step(action.astype(np.float64))
    actions = torch.zeros(env.num_envs, env.action_dim)
    actions[WORLD] = torch.from_numpy(action)
    _, w_rew, w_term, _, w_info = env.step(actions)
    w_obs = w_info["final_obs"]["policy"][WORLD].double().numpy()
    terms = dict(zip(env.reward_manager.names, env.reward_manager.step_terms[WORLD].tolist(), strict=True))

    np.testing.assert_allclose(w_obs[:27], g_obs[:27], rtol=RTOL, atol=ATOL, err_msg=f"{what}: qpos/qvel")
    np.testing.assert_allclose(w_obs[27:], g_obs[27:], rtol=0, atol=FORCE_ATOL, err_msg=f"{what}: cfrc_ext")
    assert terms["healthy"] == g_info["reward_survive"]
    assert terms["forward"] == pytest.approx(g_info["reward_forward"], abs=FORWARD_ATOL)
    assert terms["ctrl"] == pytest.approx(g_info["reward_ctrl"], rel=1e-5)
    assert terms["contact"] == pytest.approx(g_info["reward_contact"], rel=1e-2, abs=1e-5)
    assert float(w_rew[WORLD]) == pytest.approx(g_rew, abs=FORWARD_ATOL + 1e-4)
    assert bool(w_term[WORLD]) == g_term
    return g_term


def _stir(env, seed):
    """Random steps of every world, so that the env's caches hold other states than the next one."""
    rng = np.random.default_rng(seed)
    for _ in range(2):
        env.step(torch.from_numpy(rng.uniform(-1.0, 1.0, (env.num_envs, env.action_dim)).astype(np.float32)))


def test_one_step_matches_gymnasium_from_identical_states(rollout, elliptic_env):
    genv, states = rollout
    # The initial state, and states with the legs on the ground (contacts) later in the rollout.
    picks = [0] + [k for k in range(10, 120, 7) if states[k][2] >= 1][:4]
    assert len(picks) >= 3, "the rollout should reach states with ground contact"
    rng = np.random.default_rng(1)
    env = elliptic_env
    for k in picks:
        _stir(env, seed=k)
        qpos, qvel, _ = states[k]
        genv.set_state(qpos, qvel)
        env.set_physical_state(qpos=qpos, qvel=qvel, worlds=[WORLD])
        _step_from_here(genv, env, rng.uniform(-1.0, 1.0, 8), f"state {k}")


def test_several_steps_from_a_set_state_match(rollout, elliptic_env):
    # Mid-episode, from a state with the legs on the ground: every term follows the set state over
    # several steps (the forward reward's torso position carries from one step to the next).
    genv, states = rollout
    k = next(k for k in range(30, 120) if states[k][2] >= 2)
    _stir(elliptic_env, seed=7)
    genv.set_state(*states[k][:2])
    elliptic_env.set_physical_state(qpos=states[k][0], qvel=states[k][1], worlds=WORLD)
    rng = np.random.default_rng(4)
    for step in range(4):
        if _step_from_here(genv, elliptic_env, rng.uniform(-1.0, 1.0, 8), f"state {k}, step {step}"):
            break


def test_reset_noise_matches_gymnasium_ranges(wl_env):
    env = wl_env
    env.reset(seed=3)
    init_qpos = env.sim.init_qpos
    assert torch.all((env.sim.qpos - init_qpos).abs() <= 0.1 + 1e-6)
    # qvel noise is normal with std 0.1: over 3 worlds x 14 entries its spread is near 0.1.
    assert 0.03 < float(env.sim.qvel.std()) < 0.3
