"""warplab's ``FrankaKitchenMicrowave-v1`` against Gymnasium-Robotics' own ``FrankaKitchen-v1`` with
``tasks_to_complete=["microwave"]``.

The reference is ``gymnasium.make("FrankaKitchen-v1", tasks_to_complete=["microwave"])`` of
gymnasium-robotics 1.4.2 on MuJoCo 4.0 (its joint-type comparison patched by
``gym_robotics_reference``); both run the package's kitchen scene as it ships (Newton, 100
iterations, Euler, 2 ms, 40 substeps a step). The package adds uniform noise to every observation
and integrates the action from the noisy joint positions, which no two random generators share:
the step-for-step comparisons run the deterministic variant on both sides (warplab's
``noise=False``, the package's ``robot_noise_ratio=0, object_noise_ratio=0``), and the noise is
checked on its own (amplitudes against the package's arrays, draws against the package's by a
Kolmogorov-Smirnov statistic, the action integrated from the noisy observation).

Measured MuJoCo Warp (float32, CPU) against MuJoCo's C engine (float64), 50 open-loop steps of
uniform random actions from the package's start: the robot's joint positions agree to 3e-6 rad,
its velocities to 9e-6 rad/s; the props' positions to 1.7e-5 (the kettle, which rests on the stove
on 4 contacts, settles 1.7e-5 m apart in the first step and stays there) and their velocities to
5.3e-4 in the first step (the kettle's settling), 1.8e-5 after; the microwave's angle (the goal)
to 2e-10. The arm touches nothing under those actions, so nothing grows: 50 steps agree as well
as 5. The test runs the first 12 (each ~0.4 s of Warp on the CPU) with bounds that leave a
margin of about 5 over those numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium_robotics")
# The kitchen's first MuJoCo Warp build compiles collision kernels for six geom types: about 110 s
# on the 2-core CPU with an empty kernel cache (31 s where other tasks' kernels are cached, 2-5 s
# once the kitchen's are); the tests then take about 11 s.
pytestmark = pytest.mark.slow

from warplab.envs import RlEnv  # noqa: E402
from warplab.tasks import make_env_cfg  # noqa: E402
from warplab.tasks.gym_robotics import kitchen_mdp  # noqa: E402
from warplab.tasks.gym_robotics.kitchen import INIT_QPOS, make_kitchen_microwave_env_cfg  # noqa: E402

from .gym_robotics_reference import ks_statistic, package_env  # noqa: E402

TASK = "FrankaKitchenMicrowave-v1"
MICROWAVE_QPOS = 22
"""The microwave door's hinge in the package's qpos (``OBS_ELEMENT_INDICES["microwave"]``)."""
PARTS = {
    "robot_qpos": (slice(0, 9), 1.5e-5),
    "robot_qvel": (slice(9, 18), 5e-5),
    "prop_qpos": (slice(18, 39), 1e-4),
    "prop_qvel": (slice(39, 59), 3e-3),
    "goals": (slice(59, 61), 1e-6),
}
"""The flat observation's parts and the bound each must agree to (module docstring)."""
OPEN_LOOP_STEPS = 12


def _flat(obs: dict) -> np.ndarray:
    """The package's dict flattened as warplab's observation: observation, achieved, desired goal."""
    return np.concatenate(
        [obs["observation"], obs["achieved_goal"]["microwave"], obs["desired_goal"]["microwave"]]
    )


def _assert_obs_close(warplab_obs: torch.Tensor, package_obs: np.ndarray) -> None:
    w = warplab_obs.double().numpy()
    for name, (part, atol) in PARTS.items():
        np.testing.assert_allclose(w[part], package_obs[part], rtol=0, atol=atol, err_msg=name)


@pytest.fixture(scope="module")
def package_quiet():
    """The package's env, deterministic variant."""
    yield from package_env(
        "FrankaKitchen-v1", tasks_to_complete=["microwave"], robot_noise_ratio=0.0, object_noise_ratio=0.0
    )


@pytest.fixture(scope="module")
def env_quiet():
    """warplab's deterministic variant, one world on the CPU."""
    cfg = make_kitchen_microwave_env_cfg(noise=False)
    cfg.num_envs, cfg.device, cfg.seed = 1, "cpu", 0
    return RlEnv(cfg)


def _step_both(ref, env: RlEnv, action: np.ndarray):
    action = action.astype(np.float32)
    g_obs, g_rew, g_term, g_trunc, _ = ref.step(action)
    _, w_rew, w_term, w_trunc, w_info = env.step(torch.from_numpy(action)[None])
    w = (w_info["final_obs"]["policy"][0], float(w_rew[0]), bool(w_term[0]), bool(w_trunc[0]))
    return (_flat(g_obs), float(g_rew), bool(g_term), bool(g_trunc)), w


def test_layout_model_and_timing(package_quiet, env_quiet):
    ref, env = package_quiet, env_quiet
    u = ref.unwrapped
    assert env.observation_manager.term_dims["policy"] == {
        "robot_qpos": 9, "robot_qvel": 9, "prop_qpos": 21, "prop_qvel": 20, "achieved_goal": 1, "desired_goal": 1,
    }  # fmt: skip
    assert ref.observation_space["observation"].shape == (59,)
    assert env.action_dim == ref.action_space.shape[0] == 9
    assert env.cfg.decimation == u.robot_env.frame_skip == 40
    assert env.policy_dt == pytest.approx(u.robot_env.dt) == pytest.approx(0.08)
    assert env.max_episode_length == ref.spec.max_episode_steps == 280
    mjm = env.mj_model
    for field in (
        "actuator_gainprm",
        "actuator_biasprm",
        "actuator_ctrlrange",
        "body_mass",
        "dof_damping",
        "jnt_range",
    ):
        np.testing.assert_array_equal(getattr(mjm, field), getattr(u.model, field), err_msg=field)
    assert (mjm.opt.timestep, mjm.opt.iterations, mjm.opt.solver) == (
        u.model.opt.timestep, u.model.opt.iterations, u.model.opt.solver,
    )  # fmt: skip


def test_steps_from_the_package_start(package_quiet, env_quiet):
    # The same start, then the same random actions open loop: observations within PARTS, the same
    # rewards (0: the door stays shut) and no termination.
    ref, env = package_quiet, env_quiet
    g_obs, _ = ref.reset(seed=0)
    obs, _ = env.reset()
    _assert_obs_close(obs["policy"][0], _flat(g_obs))
    np.testing.assert_array_equal(env.sim.qvel.numpy(), 0.0)
    rng = np.random.default_rng(1)
    for _ in range(OPEN_LOOP_STEPS):
        g, w = _step_both(ref, env, rng.uniform(-1, 1, 9))
        _assert_obs_close(w[0], g[0])
        assert w[1:] == g[1:] == (0.0, False, False)
    # The servo targets of the last step: the package's, from the same positions.
    np.testing.assert_allclose(env.sim.ctrl[0].double().numpy(), ref.unwrapped.data.ctrl, atol=1e-5)


@pytest.mark.parametrize(("angle", "completed"), [(-0.3, False), (-0.6, True), (-1.0, True)])
def test_reward_and_termination_at_the_goal(package_quiet, env_quiet, angle, completed):
    # The door put open at ``angle`` (the goal -0.75 rad within 0.3 or not), the arm held: the
    # package's reward (tasks completed) and termination, and warplab's, for the same state.
    ref, env = package_quiet, env_quiet
    ref.reset(seed=0)
    env.reset()
    u = ref.unwrapped
    u.data.qpos[MICROWAVE_QPOS] = angle
    env.set_physical_state(qpos=u.data.qpos.copy(), qvel=u.data.qvel.copy())
    g, w = _step_both(ref, env, np.zeros(9))
    _assert_obs_close(w[0], g[0])
    assert g[1:] == (float(completed), completed, False)
    assert w[1:] == g[1:]
    if completed:  # the world started over: the next observation is the start's
        assert abs(float(env.sim.qpos[0, MICROWAVE_QPOS]) - INIT_QPOS[MICROWAVE_QPOS]) < 1e-6
        assert int(env.episode_length_buf[0]) == 0


def test_truncated_after_280_steps(env_quiet):
    env = env_quiet
    env.reset()
    env.episode_length_buf.fill_(278)
    for k in (279, 280):
        _, _, term, trunc, _ = env.step(torch.zeros(env.num_envs, env.action_dim))
        assert not term.any() and bool(trunc.all()) == (k == 280)


def test_noise_as_the_package_draws_it():
    # warplab's default (the package's noise): the amplitudes are the package's arrays times its
    # ratios; the draws, divided by them, are uniform in [-1, 1] as the package's are; and the servo
    # targets are integrated from the noisy joint positions the policy observed.
    cfg = make_env_cfg(TASK)
    cfg.num_envs, cfg.device, cfg.seed = 8, "cpu", 0
    env = RlEnv(cfg)
    term = env.action_manager.term("joint_velocities")
    assert isinstance(term, kitchen_mdp.JointVelocityAction)
    gen = package_env("FrankaKitchen-v1", tasks_to_complete=["microwave"])
    ref = next(gen)
    try:
        r = ref.unwrapped.robot_env
        expected = np.concatenate(
            [0.01 * r.robot_pos_noise_amp[:9], 0.01 * r.robot_vel_noise_amp[:9],
             0.0005 * r.robot_pos_noise_amp[8:], 0.0005 * r.robot_vel_noise_amp[9:]]
        )  # fmt: skip
        np.testing.assert_allclose(term.noise_amplitude.double().numpy(), expected, rtol=1e-6)
        # The package's draws: its observations after resets minus the state they observe.
        theirs = []
        for seed in range(20):
            g_obs, _ = ref.reset(seed=seed)
            u = ref.unwrapped
            clean = np.concatenate([u.data.qpos[:9], u.data.qvel[:9], u.data.qpos[9:], u.data.qvel[9:]])
            theirs.append((g_obs["observation"] - clean) / expected)
    finally:
        gen.close()
    ours = []
    for seed in range(8):
        obs, _ = env.reset(seed=seed)
        clean = torch.cat(
            [env.sim.qpos[:, :9], env.sim.qvel[:, :9], env.sim.qpos[:, 9:], env.sim.qvel[:, 9:]], 1
        )
        # The observation is the state plus the term's draw (to float32 rounding of the sum).
        torch.testing.assert_close(obs["policy"][:, :59], clean + term.noise, rtol=0, atol=1e-6)
        ours.append(term.noise.double().numpy() / expected)
    ours_flat, theirs_flat = np.concatenate(ours).ravel(), np.concatenate(theirs).ravel()
    assert np.abs(ours_flat).max() <= 1.0 + 1e-6 and np.abs(theirs_flat).max() <= 1.0 + 1e-6
    # 3,776 draws of ours, 1,180 of theirs: a KS statistic of 0.06 would be rare (p < 0.002) for
    # the same distribution; a different shape (a normal, a wrong scale) is far above it.
    assert ks_statistic(ours_flat, theirs_flat) < 0.06
    # The targets: the observed (noisy) positions plus 2 * action * 0.08 s, within the config's
    # bounds; not the noise-free positions (the robot's noise is up to 1e-3 rad).
    observed, clean = obs["policy"][:, :9].clone(), env.sim.qpos[:, :9].clone()
    action = torch.rand(env.num_envs, 9, generator=torch.Generator().manual_seed(0)) * 2.4 - 1.2
    env.step(action)
    velocity_step = 0.16 * action.clamp(-1.0, 1.0)
    expected_targets = (observed + velocity_step).clamp(term.pos_low, term.pos_high)
    torch.testing.assert_close(env.sim.ctrl[:, :9], expected_targets, rtol=0, atol=1e-6)
    clean_targets = (clean + velocity_step).clamp(term.pos_low, term.pos_high)
    assert (clean_targets - expected_targets).abs().max() > 1e-4


def test_the_action_space_is_the_packages(package_quiet, env_quiet):
    """The Gymnasium adapter's action space is the package's, [-1, 1] for each of the 9 joints: the
    velocity term declares the range it clamps to (``action_range``)."""
    from warplab.integrations.spaces import action_space

    ours, theirs = action_space(env_quiet), package_quiet.action_space
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.low, theirs.low)
    np.testing.assert_array_equal(ours.high, theirs.high)
