"""warplab's ``Humanoid-v5`` against Gymnasium's own ``Humanoid-v5``, from identical states.

Gymnasium's model asks for the PGS solver, which MuJoCo Warp lacks; both sides use Newton here, so
the physics is the same up to float32 (MuJoCo Warp) against float64 (MuJoCo's C engine). States
come from a Gymnasium rollout under random actions: standing, falling with a foot on the floor,
passing below the healthy height, lying on the floor with several contacts. Each is written into
warplab with ``RlEnv.set_physical_state``, in a world that was somewhere else before (the env has
stepped other states), and into Gymnasium with its ``set_state``.

One known difference is left out of the main comparison: with Gymnasium's pyramidal friction cone,
the friction a contact can exert depends on the contact's tangent directions, and MuJoCo Warp picks
other tangents than MuJoCo's C engine for some capsule-plane contacts. While a capsule slides on the
floor (about steps 165-200 of this rollout) one physics step then differs by up to ~0.2 rad/s in
qvel. The elliptic cone does not depend on the tangents; the last test compares those sliding states
with it, in both engines.
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
from warplab.tasks.gym_mujoco import humanoid_spec

WORLD = 1
"""The warplab world that receives each state (the others step with zero actions, unobserved)."""

# The 348 values of Gymnasium's documented observation, in order, with their sizes.
GYM_LAYOUT = {"qpos": 22, "qvel": 23, "cinert": 130, "cvel": 78, "qfrc_actuator": 17, "cfrc_ext": 78}
SEGMENTS = {}
_start = 0
for _name, _size in GYM_LAYOUT.items():
    SEGMENTS[_name] = slice(_start, _start + _size)
    _start += _size

# Tolerances. MuJoCo Warp computes in float32 (about 6e-8 relative per operation); five RK4
# substeps with a constraint solve grow that to about 1e-6 of the largest values (measured: 2e-5 in
# qvel of magnitude 20). 1e-4 relative plus 1e-4 absolute leaves a margin of ~50 over that while any
# layout, sign or offset error (of order 1) fails.
RTOL, ATOL = 1e-4, 1e-4
# Contact forces come out of the constraint solver, whose float32 stopping tolerance (1e-6 in MuJoCo
# Warp, 1e-8 in C) leaves errors proportional to the largest force in the world, not to each entry:
# 1e-4 of the largest |cfrc_ext| (measured: 2e-6 of it).
FORCE_RTOL_OF_MAX = 1e-4
# The contact cost is 5e-7 * sum(cfrc_ext^2): its relative error is about twice that of the forces.
CONTACT_COST_RTOL = 1e-3
# The forward reward differences the centre of mass over 15 ms: float32 positions near 1 m resolve
# ~1e-7 m, i.e. ~1e-5 m/s.
FORWARD_ATOL = 1e-4


def _gym_humanoid(cone: int = mujoco.mjtCone.mjCONE_PYRAMIDAL):
    env = gym.make("Humanoid-v5").unwrapped
    env.model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    env.model.opt.cone = cone
    return env


@pytest.fixture(scope="module")
def gym_rollout():
    """Gymnasium's env and the (qpos, qvel) before each of 200 steps under random actions."""
    genv = _gym_humanoid()
    genv.reset(seed=0)
    rng = np.random.default_rng(0)
    states = []
    for _ in range(200):
        states.append((genv.data.qpos.copy(), genv.data.qvel.copy(), genv.data.ncon))
        genv.step(rng.uniform(-0.4, 0.4, genv.model.nu))
    return genv, states


@pytest.fixture(scope="module")
def selected_states(gym_rollout):
    """Named states of the rollout, chosen by what they show rather than by step number."""
    _, states = gym_rollout
    z = [s[0][2] for s in states]
    ncon = [s[2] for s in states]
    picks = {"standing": 0}
    picks["foot_on_floor"] = next(k for k in range(len(states)) if ncon[k] >= 1 and 1.0 < z[k] < 1.3)
    picks["falling_unhealthy"] = next(k for k in range(len(states)) if z[k] < 1.0)
    # Lying still, before the sliding from about step 165 on (see the module docstring).
    lying = [k for k in range(160) if z[k] < 0.3 and ncon[k] >= 3]
    picks["lying_a"], picks["lying_b"] = lying[0], lying[len(lying) // 2]
    return {name: states[k][:2] for name, k in picks.items()}


@pytest.fixture(scope="module")
def wl_env():
    return warplab.make("Humanoid-v5", num_envs=3, device="cpu")


def _step_both(genv, env, qpos, qvel, action, world=WORLD):
    """Writes one state into Gymnasium and into warplab's world ``world``; steps both with ``action``."""
    genv.set_state(qpos, qvel)  # mj_forward: positions, and so the centre of mass, are current
    # The forward reward differences the centre of mass from the state before the step, in both.
    env.set_physical_state(qpos=qpos, qvel=qvel, worlds=[world])
    return _step_from_here(genv, env, action, world)


def _step_from_here(genv, env, action, world=WORLD):
    """Steps Gymnasium and warplab's world ``world`` (the others with zero actions) with ``action``."""
    action = action.astype(np.float32)  # the same numbers on both sides
    g_obs, g_rew, g_term, g_trunc, g_info = genv.step(action.astype(np.float64))
    actions = torch.zeros(env.num_envs, env.action_dim)
    actions[world] = torch.from_numpy(action)
    _, w_rew, w_term, w_trunc, w_info = env.step(actions)
    return (g_obs, g_rew, g_term, g_info), _world_outputs(env, w_rew, w_term, w_trunc, w_info, world)


def _world_outputs(env, w_rew, w_term, w_trunc, w_info, world):
    w_obs = w_info["final_obs"]["policy"][world].double().numpy()  # before any reset
    w_terms = dict(
        zip(env.reward_manager.names, env.reward_manager.step_terms[world].double().tolist(), strict=True)
    )
    return w_obs, float(w_rew[world]), bool(w_term[world]), bool(w_trunc[world]), w_terms


def _stir(env, steps=3, seed=0):
    """Steps every world of ``env`` under random actions, so its caches hold other states."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        env.step(torch.from_numpy(rng.uniform(-0.4, 0.4, (env.num_envs, env.action_dim)).astype(np.float32)))


def _assert_same_step(gym_out, wl_out, force_rtol_of_max=FORCE_RTOL_OF_MAX):
    g_obs, g_rew, g_term, g_info = gym_out
    w_obs, w_rew, w_term, w_trunc, w_terms = wl_out
    assert w_obs.shape == g_obs.shape == (348,)
    for name, seg in SEGMENTS.items():
        if name == "cfrc_ext":
            atol = force_rtol_of_max * np.abs(g_obs[seg]).max() + 1e-3
            np.testing.assert_allclose(w_obs[seg], g_obs[seg], rtol=0, atol=atol, err_msg=name)
        else:
            np.testing.assert_allclose(w_obs[seg], g_obs[seg], rtol=RTOL, atol=ATOL, err_msg=name)
    assert w_terms["healthy"] == g_info["reward_survive"]
    assert w_terms["forward"] == pytest.approx(g_info["reward_forward"], abs=FORWARD_ATOL)
    assert w_terms["ctrl"] == pytest.approx(g_info["reward_ctrl"], rel=1e-5, abs=1e-7)
    assert w_terms["contact"] == pytest.approx(g_info["reward_contact"], rel=CONTACT_COST_RTOL, abs=1e-7)
    assert w_rew == pytest.approx(
        g_rew, abs=FORWARD_ATOL + CONTACT_COST_RTOL * abs(g_info["reward_contact"]) + 1e-5
    )
    assert w_term == g_term
    assert not w_trunc


@pytest.mark.parametrize("state", ["standing", "foot_on_floor", "falling_unhealthy", "lying_a", "lying_b"])
def test_step_matches_gymnasium(gym_rollout, selected_states, wl_env, state):
    genv, _ = gym_rollout
    qpos, qvel = selected_states[state]
    action = np.random.default_rng(len(state)).uniform(-0.4, 0.4, genv.model.nu)
    gym_out, wl_out = _step_both(genv, wl_env, qpos, qvel, action)
    _assert_same_step(gym_out, wl_out)
    g_obs, _, g_term, g_info = gym_out
    # Each state shows what it was picked for.
    if state.startswith("lying"):
        assert np.abs(g_obs[SEGMENTS["cfrc_ext"]]).max() > 100.0  # contact forces of some 100 N
        assert g_info["reward_contact"] < -0.01
    assert g_term == (state != "standing" and state != "foot_on_floor")


def test_controls_beyond_the_ctrlrange_cost_as_given(gym_rollout, selected_states, wl_env):
    # Gymnasium passes the action to ctrl unclipped: MuJoCo clamps it to [-0.4, 0.4] inside the
    # physics, but the control cost is on the raw action.
    genv, _ = gym_rollout
    qpos, qvel = selected_states["standing"]
    action = np.random.default_rng(1).uniform(-1.0, 1.0, genv.model.nu)
    gym_out, wl_out = _step_both(genv, wl_env, qpos, qvel, action)
    _assert_same_step(gym_out, wl_out)
    assert gym_out[3]["reward_ctrl"] < -0.1 * 17 * 0.4**2 * 0.5  # well beyond what ±0.4 allows on average


@pytest.mark.parametrize("state", ["standing", "foot_on_floor"])
def test_several_steps_in_a_row_match(gym_rollout, selected_states, wl_env, state):
    # Set mid-episode, in a world that was elsewhere: the forward reward's position before the step
    # and the observations carry over from one step to the next, every term from the set state.
    genv, _ = gym_rollout
    _stir(wl_env, seed=len(state))
    qpos, qvel = selected_states[state]
    rng = np.random.default_rng(5)
    action = rng.uniform(-0.4, 0.4, genv.model.nu)
    _assert_same_step(*_step_both(genv, wl_env, qpos, qvel, action))
    for _ in range(4):
        gym_out, wl_out = _step_from_here(genv, wl_env, rng.uniform(-0.4, 0.4, genv.model.nu))
        _assert_same_step(gym_out, wl_out)
        if gym_out[2]:  # warplab resets a terminated world; Gymnasium would go on
            break


def test_several_worlds_set_at_once_match(gym_rollout, selected_states, wl_env):
    genv, _ = gym_rollout
    _stir(wl_env, seed=11)
    picks = {0: "lying_a", 2: "foot_on_floor"}
    wl_env.set_physical_state(
        qpos=np.stack([selected_states[s][0] for s in picks.values()]),
        qvel=np.stack([selected_states[s][1] for s in picks.values()]),
        worlds=list(picks),
    )
    rng = np.random.default_rng(3)
    actions = rng.uniform(-0.4, 0.4, (wl_env.num_envs, wl_env.action_dim)).astype(np.float32)
    _, w_rew, w_term, w_trunc, w_info = wl_env.step(torch.from_numpy(actions))
    for world, state in picks.items():
        genv.set_state(*selected_states[state])
        g_obs, g_rew, g_term, _, g_info = genv.step(actions[world].astype(np.float64))
        wl_out = _world_outputs(wl_env, w_rew, w_term, w_trunc, w_info, world)
        _assert_same_step((g_obs, g_rew, g_term, g_info), wl_out)


def test_set_state_returns_its_observation(gym_rollout, selected_states, wl_env):
    # The observation handed back is MuJoCo's of the new state (with the controls the world has),
    # contact forces included, so a policy can act on it.
    genv, _ = gym_rollout
    _stir(wl_env, seed=2)
    for state in ("standing", "lying_a"):
        qpos, qvel = selected_states[state]
        obs = wl_env.set_physical_state(qpos=qpos, qvel=qvel, worlds=WORLD)
        assert obs is wl_env.observations
        genv.data.ctrl[:] = wl_env.sim.ctrl[WORLD].double().numpy()
        genv.set_state(qpos, qvel)
        mujoco.mj_rnePostConstraint(genv.model, genv.data)  # cfrc_ext, which mj_forward leaves out
        g_obs, w_obs = genv._get_obs(), obs["policy"][WORLD].double().numpy()
        for name, seg in SEGMENTS.items():
            atol = FORCE_RTOL_OF_MAX * np.abs(g_obs[seg]).max() + 1e-3 if name == "cfrc_ext" else ATOL
            np.testing.assert_allclose(
                w_obs[seg], g_obs[seg], rtol=RTOL, atol=atol, err_msg=f"{state}: {name}"
            )


def test_forward_reward_follows_a_set_state_by_hand():
    # The centre of mass moves 0.7 m between the world's last step and the state set here. The
    # forward reward of the next step (zero action) must difference the set state's centre of mass,
    # (x_after - x_before) / dt with both worked out on MuJoCo's C engine, not the one the term
    # cached at the end of the last step (which would add 0.7 m / 15 ms = 47 m/s).
    env = warplab.make("Humanoid-v5", num_envs=2, device="cpu", seed=1)
    _stir(env, steps=2)
    qpos = env.sim.qpos[1].double().numpy().copy()
    qvel = env.sim.qvel[1].double().numpy().copy()
    qpos[0] += 0.7
    qvel[0] = 0.8  # the root moves forward at 0.8 m/s
    cached = float(env.reward_manager.term("forward").x_before[1])
    env.set_physical_state(qpos=qpos, qvel=qvel, worlds=[1])

    mjm = humanoid_spec().compile()
    data = mujoco.MjData(mjm)
    data.qpos[:], data.qvel[:] = qpos.astype(np.float32), qvel.astype(np.float32)
    mujoco.mj_forward(mjm, data)
    x_before = float(data.subtree_com[0, 0])
    for _ in range(5):
        mujoco.mj_step(mjm, data)
    # After mj_step MuJoCo's positions are those computed at the start of the last substep, as in
    # Gymnasium and warplab.
    x_after = float(data.subtree_com[0, 0])
    by_hand = (x_after - x_before) / (5 * mjm.opt.timestep)
    assert abs(x_before - cached) > 0.6

    env.step(torch.zeros(env.num_envs, env.action_dim))
    forward = float(env.reward_manager.step_terms[1, env.reward_manager.index("forward")])
    assert by_hand > 0.3
    assert forward == pytest.approx(1.25 * by_hand, abs=1.25 * FORWARD_ATOL)


def test_observation_layout_matches_gymnasium(gym_rollout, wl_env):
    genv, _ = gym_rollout
    assert sum(GYM_LAYOUT.values()) == 348
    assert wl_env.observation_shapes == {"policy": (348,)}
    assert genv.observation_space.shape == (348,)
    assert wl_env.observation_manager.term_dims["policy"] == GYM_LAYOUT
    structure = {k: v for k, v in genv.observation_structure.items() if k in GYM_LAYOUT}
    assert structure == GYM_LAYOUT


def test_timing_and_episode_length_match_gymnasium(gym_rollout, wl_env):
    genv, _ = gym_rollout
    assert wl_env.policy_dt == pytest.approx(genv.dt)  # 5 substeps of 3 ms
    assert wl_env.max_episode_length == gym.spec("Humanoid-v5").max_episode_steps == 1000
    assert wl_env.action_dim == genv.action_space.shape[0] == 17


def test_reset_distribution_and_first_observation(gym_rollout):
    genv, _ = gym_rollout
    env = warplab.make("Humanoid-v5", num_envs=8, device="cpu", seed=3)
    init_qpos, init_qvel = genv.init_qpos, genv.init_qvel
    for seed in (None, 4):
        obs, _ = env.reset(seed=seed)
        qpos, qvel = env.sim.qpos.double().numpy(), env.sim.qvel.double().numpy()
        # Uniform noise in [-0.01, 0.01] on every qpos and qvel entry (1e-6: float32 storage).
        assert np.abs(qpos - init_qpos).max() <= 0.01 + 1e-6
        assert np.abs(qvel - init_qvel).max() <= 0.01 + 1e-6
        assert (np.abs(qpos - init_qpos) > 0).mean() > 0.9 and (np.abs(qvel) > 0).mean() > 0.9
        # 8 worlds x 24 qpos entries come close to both ends of the range.
        assert (qpos - init_qpos).max() > 0.008 and (qpos - init_qpos).min() < -0.008
        # The first observation is what Gymnasium observes in the same state (after its reset, which
        # zeroes the controls).
        genv.data.ctrl[:] = 0.0
        for w in range(env.num_envs):
            genv.set_state(qpos[w], qvel[w])
            # mj_forward leaves cfrc_ext as the last step left it: compute it for this state.
            mujoco.mj_rnePostConstraint(genv.model, genv.data)
            np.testing.assert_allclose(
                obs["policy"][w].double().numpy(), genv._get_obs(), rtol=RTOL, atol=ATOL
            )


def test_sliding_contacts_match_with_elliptic_cones(gym_rollout):
    _, states = gym_rollout
    genv = _gym_humanoid(cone=mujoco.mjtCone.mjCONE_ELLIPTIC)
    genv.reset(seed=0)

    def elliptic_spec():
        spec = humanoid_spec()
        spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
        return spec

    cfg = make_env_cfg("Humanoid-v5")
    cfg.scene, cfg.num_envs, cfg.device = elliptic_spec, 3, "cpu"
    env = RlEnv(cfg)
    rng = np.random.default_rng(9)
    for k in range(166, 200, 6):
        qpos, qvel, _ = states[k]
        gym_out, wl_out = _step_both(genv, env, qpos, qvel, rng.uniform(-0.4, 0.4, genv.model.nu))
        # The elliptic cone makes the solve non-smooth; in float32 Newton stops further from the
        # optimum there (measured: 2e-4 of the largest force), hence 1e-3 for the forces.
        _assert_same_step(gym_out, wl_out, force_rtol_of_max=1e-3)


def test_sac_actions_span_exactly_the_motors_control_range():
    """SAC/TD3 act in [-action_scale, action_scale]; for Humanoid-v5 that must be the model's own
    control range (read from Gymnasium's humanoid.xml here), or the squashed actions saturate."""
    from warplab.tasks.gym_mujoco.agent_cfg import make_humanoid_v5_agent_cfg
    from warplab.tasks.gym_mujoco.humanoid_v5 import humanoid_spec

    model = humanoid_spec().compile()
    assert model.actuator_ctrllimited.all()
    low, high = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
    assert (low == -high).all() and (high == high[0]).all()
    assert make_humanoid_v5_agent_cfg().sac_policy.action_scale == float(high[0])
