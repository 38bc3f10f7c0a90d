"""warplab.integrations.gymnasium: the VectorEnv's same-step autoreset, spaces and seeding; the
single-world ids against Gymnasium's env checker and Gymnasium's own Humanoid-v5."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import gymnasium
import mujoco
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from gymnasium.wrappers.vector import RecordEpisodeStatistics

import warplab
from warplab.envs import RlEnv, mdp
from warplab.envs.config import ObservationGroupCfg, ObservationTermCfg
from warplab.integrations.gymnasium import WarplabVectorEnv, make_vector_env, register_envs
from warplab.tasks import make_env_cfg

CARTPOLE = "cartpole-balance"
SHORT = {"episode_length_s": 0.1}
"""Cart-pole episodes of 0.1 s: 5 policy steps of 0.02 s, too short for the pole to fall."""


def _policy_dt(env: RlEnv) -> float:
    """The policy step from the model's own timestep and the config's decimation, s."""
    return env.cfg.decimation * env.mj_model.opt.timestep


# ---------------------------------------------------------------------------------------- registry
def test_every_task_has_a_gymnasium_id_with_both_entry_points():
    ids = register_envs()  # a second registration is a no-op, not an error
    assert ids == [f"warplab/{t}" for t in warplab.list_tasks()]
    for env_id in ids:
        spec = gymnasium.spec(env_id)
        assert spec.entry_point.endswith(":WarplabEnv")
        assert spec.vector_entry_point.endswith(":make_vector_env")
        assert spec.max_episode_steps is None  # warplab truncates by itself


def test_make_vec_builds_the_batched_env_through_the_vector_entry_point():
    envs = gymnasium.make_vec("warplab/cartpole-balance", num_envs=3, device="cpu")
    assert isinstance(envs, WarplabVectorEnv) and envs.num_envs == 3
    assert envs.metadata["autoreset_mode"] is gymnasium.vector.AutoresetMode.SAME_STEP
    assert envs.spec.id == "warplab/cartpole-balance"
    envs.close()


# ---------------------------------------------------------------------------------------- spaces
def test_spaces_of_the_cartpole():
    envs = make_vector_env(3, CARTPOLE, device="cpu")
    box = gymnasium.spaces.Box
    assert envs.single_observation_space == box(-np.inf, np.inf, (4,), np.float32)
    assert envs.observation_space == box(-np.inf, np.inf, (3, 4), np.float32)
    # The motor's control range is [-1, 1] and the effort action has scale 1.
    assert envs.single_action_space == box(-1.0, 1.0, (1,), np.float32)
    assert envs.action_space == box(-1.0, 1.0, (3, 1), np.float32)


@pytest.mark.parametrize(
    "params, low, high",
    [
        ({"scale": 0.5}, -2.0, 2.0),  # ctrl = 0.5 * a in [-1, 1]
        ({"scale": -0.25}, -4.0, 4.0),  # a negative scale swaps the ends
        ({"scale": 0.5, "clip": (-0.5, 3.0)}, -0.5, 2.0),  # the clip and the control range intersect
    ],
)
def test_action_bounds_follow_scale_clip_and_control_range(params, low, high):
    envs = make_vector_env(1, CARTPOLE, device="cpu", env_cfg_overrides={"actions.cart_force.params": params})
    assert envs.single_action_space.low.tolist() == [low]
    assert envs.single_action_space.high.tolist() == [high]


def test_beyond_the_action_bound_the_physics_does_not_change():
    """Two worlds from the same state: an action past the bound moves them exactly as the bound does;
    one inside the bound does not."""
    envs = make_vector_env(2, CARTPOLE, device="cpu")
    sim = envs.rl_env.sim
    high = float(envs.single_action_space.high[0])

    def step_from_same_state(a0, a1):
        envs.reset(seed=0)
        sim.set_state(sim.qpos[:1].repeat(2, 1), sim.qvel[:1].repeat(2, 1), torch.tensor([0, 1]))
        envs.step(torch.tensor([[a0], [a1]]))
        return sim.qpos.clone()

    qpos = step_from_same_state(high, 5.0 * high)
    torch.testing.assert_close(qpos[0], qpos[1], rtol=0, atol=0)
    qpos = step_from_same_state(0.9 * high, high)
    assert (qpos[0] - qpos[1]).abs().max() > 1e-5


# ------------------------------------------------------------------------------- same-step autoreset
def test_time_outs_return_the_terminal_observation_in_final_obs():
    """The terminal observation of a truncated episode equals the observation of a twin env (same seed,
    long episodes) at the same step: the state before the reset, not after it."""
    envs = make_vector_env(3, CARTPOLE, device="cpu", seed=5, env_cfg_overrides=SHORT)
    twin = warplab.make(CARTPOLE, num_envs=3, device="cpu", seed=5)
    horizon = math.ceil(round(SHORT["episode_length_s"] / _policy_dt(twin), 6))
    assert horizon == 5
    obs, _ = envs.reset(seed=9)
    twin_obs, _ = twin.reset(seed=9)
    torch.testing.assert_close(obs, twin_obs["policy"], rtol=0, atol=0)
    gen = torch.Generator().manual_seed(0)
    for step in range(1, horizon + 1):
        action = 0.3 * (2 * torch.rand(3, 1, generator=gen) - 1)
        obs, reward, terminated, truncated, infos = envs.step(action)
        twin_obs, twin_reward, *_ = twin.step(action)
        for value in (obs, reward, terminated, truncated, infos["final_obs"], infos["_final_obs"]):
            assert isinstance(value, torch.Tensor) and value.device == envs.device
        assert obs.dtype == torch.float32 and terminated.dtype == torch.bool
        assert set(infos) == {"final_obs", "_final_obs", "final_info", "_final_info"}
        assert not terminated.any()
        torch.testing.assert_close(reward, twin_reward, rtol=0, atol=0)
        torch.testing.assert_close(infos["final_obs"], twin_obs["policy"], rtol=0, atol=0)
        if step < horizon:
            assert not truncated.any() and not infos["_final_obs"].any()
            torch.testing.assert_close(obs, twin_obs["policy"], rtol=0, atol=0)
        else:
            assert truncated.all() and infos["_final_obs"].all() and infos["_final_info"].all()
            # The returned observation starts the next episode: within the reset range of 0.1.
            assert obs[:, :2].abs().max() <= 0.1 + 1e-6
            assert not torch.equal(obs, twin_obs["policy"])


def test_numpy_mode_builds_infos_as_gymnasium_does_and_its_episode_statistics_agree():
    """Random pushes topple the pole within a second. Gymnasium's RecordEpisodeStatistics sums the
    returns on the host from our rewards and flags; warplab sums them on the device: they agree."""
    envs = RecordEpisodeStatistics(make_vector_env(4, CARTPOLE, device="cpu", seed=1, array="numpy"))
    rl_env = envs.unwrapped.rl_env
    obs, info = envs.reset(seed=2)
    assert isinstance(obs, np.ndarray) and obs.dtype == np.float32 and obs.shape == (4, 4) and info == {}
    rl_env.pop_episode_stats()
    rng = np.random.default_rng(0)
    returns = []
    for _ in range(120):
        obs, reward, terminated, truncated, infos = envs.step(rng.uniform(-1, 1, (4, 1)))
        assert reward.dtype == np.float32 and terminated.dtype == np.bool_ and not truncated.any()
        if not terminated.any():
            assert "final_obs" not in infos and "episode" not in infos
            continue
        np.testing.assert_array_equal(infos["_final_obs"], terminated)
        np.testing.assert_array_equal(infos["_final_info"], terminated)
        for i in range(4):
            final = infos["final_obs"][i]
            if not terminated[i]:
                assert final is None
                continue
            assert final.dtype == np.float32 and final.shape == (4,)
            # Terminated: the pole leaned past 0.4 rad or the cart left +-2.5 m; then a fresh start.
            assert abs(final[1]) > 0.4 or abs(final[0]) > 2.5, final
            assert np.abs(obs[i, :2]).max() <= 0.1 + 1e-6
            returns.append(infos["episode"]["r"][i])
        if len(returns) >= 6:
            break
    assert len(returns) >= 6, "random pushes should topple the pole several times in 120 steps"
    stats = rl_env.pop_episode_stats()
    assert stats["Episode/count"] == len(returns)
    assert stats["Episode/return"] == pytest.approx(np.mean(returns), rel=1e-5)


def test_dict_observations_of_several_groups():
    cfg = make_env_cfg(CARTPOLE)
    cfg.observations["critic"] = ObservationGroupCfg(
        terms={
            "joint_pos": ObservationTermCfg(func=mdp.joint_pos),
            "last_action": ObservationTermCfg(func=mdp.last_action),
        }
    )
    cfg.num_envs, cfg.device, cfg.episode_length_s = 2, "cpu", 0.04
    env = RlEnv(cfg)
    with pytest.raises(ValueError, match=r"no observation group 'privileged'.*\['critic', 'policy'\]"):
        WarplabVectorEnv(env, obs_groups=("policy", "privileged"))

    envs = WarplabVectorEnv(env, obs_groups=("policy", "critic"))
    box = gymnasium.spaces.Box
    assert envs.single_observation_space == gymnasium.spaces.Dict(
        {"policy": box(-np.inf, np.inf, (4,), np.float32), "critic": box(-np.inf, np.inf, (3,), np.float32)}
    )
    obs, _ = envs.reset(seed=0)
    assert set(obs) == {"policy", "critic"} and obs["critic"].shape == (2, 3)
    envs.step(torch.full((2, 1), 0.5))
    obs, *_, infos = envs.step(torch.full((2, 1), 0.25))
    # The critic's last action is the one just taken in the terminal observation, zero after the reset.
    assert infos["final_obs"]["critic"][:, 2].tolist() == [0.25, 0.25]
    assert obs["critic"][:, 2].tolist() == [0.0, 0.0]

    numpy_envs = WarplabVectorEnv(env, obs_groups=("policy", "critic"), array="numpy")
    numpy_envs.reset(seed=0)
    numpy_envs.step(np.full((2, 1), 0.5))
    obs, *_, infos = numpy_envs.step(np.full((2, 1), 0.25))
    assert infos["final_obs"][1]["critic"].tolist() == [*infos["final_obs"][1]["policy"][:2].tolist(), 0.25]
    assert obs in numpy_envs.observation_space


# ---------------------------------------------------------------------------------------- seeding, input
def test_reset_seed_reproduces_the_batch():
    envs = make_vector_env(3, CARTPOLE, device="cpu")
    first, _ = envs.reset(seed=3)
    envs.step(torch.zeros(3, 1))
    again, _ = envs.reset(seed=3)
    other, _ = envs.reset(seed=4)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.equal(first, other)
    with pytest.raises(TypeError, match="one int"):
        envs.reset(seed=[1, 2, 3])
    with pytest.raises(ValueError, match="no reset options"):
        envs.reset(options={"reset_mask": np.ones(3, bool)})


def test_bad_actions_are_refused_or_zeroed_with_the_env_error():
    envs = make_vector_env(2, CARTPOLE, device="cpu", array="numpy")
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"action has shape \[2\], expected \[num_envs=2, action_dim=1\]"):
        envs.step(np.zeros(2))
    with pytest.raises(ValueError, match="floating-point"):
        envs.step(np.zeros((2, 1), dtype=np.int64))
    envs.unwrapped.rl_env.pop_episode_stats()
    envs.step(np.array([[np.nan], [0.0]]))  # zeroed and counted, as the env does for any learner
    assert envs.unwrapped.rl_env.pop_episode_stats()["Env/nonfinite_actions"] == 1.0


def test_an_env_without_terminal_observations_is_refused():
    env = warplab.make(CARTPOLE, num_envs=1, device="cpu", final_observation=False)
    with pytest.raises(ValueError, match="final_observation=True"):
        WarplabVectorEnv(env)


# ---------------------------------------------------------------------------------------- single world
@pytest.mark.parametrize("task", [CARTPOLE, "Humanoid-v5"])
def test_single_world_ids_pass_gymnasiums_env_checker(task):
    env = gymnasium.make(f"warplab/{task}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)  # rendering: see the last test
    # Gymnasium's own MuJoCo envs draw the same two notes about unbounded observations; anything
    # else (an observation outside its space, a wrong dtype, a reused buffer) is a defect.
    unexpected = [
        str(w.message)
        for w in caught
        if "infinity" not in str(w.message) and not issubclass(w.category, DeprecationWarning)
    ]
    assert not unexpected, unexpected
    env.close()


def test_single_world_ends_episodes_with_the_terminal_observation():
    env = gymnasium.make("warplab/cartpole-balance", env_cfg_overrides=SHORT)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float64 and obs.shape == (4,)
    for step in range(1, 6):
        obs, reward, terminated, truncated, info = env.step(np.zeros(1, np.float32))
        assert isinstance(reward, float) and info == {} and not terminated
        assert truncated == (step == 5)
    # The last observation continues the episode (not a reset pose): the pole kept moving.
    sim = env.unwrapped.rl_env.sim
    assert np.abs(obs[:2] - sim.qpos[0].double().numpy()).max() > 1e-4  # the world itself restarted
    with pytest.raises(ValueError, match=r"expected \(1,\)"):
        env.step(np.zeros(2, np.float32))


def test_single_humanoid_matches_gymnasiums_humanoid_v5():
    """Spaces equal Gymnasium's own Humanoid-v5; from the same state, one step gives the same
    observation and reward (both engines with the Newton solver: see the Humanoid-v5 task tests)."""
    ours = gymnasium.make("warplab/Humanoid-v5")
    ref = gymnasium.make("Humanoid-v5")
    assert ours.observation_space == ref.observation_space  # Box(-inf, inf, (348,), float64)
    assert ours.action_space == ref.action_space  # Box(-0.4, 0.4, (17,), float32)

    ours.reset(seed=0)
    ref.reset(seed=0)
    ref_env = ref.unwrapped
    ref_env.model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    sim = ours.unwrapped.rl_env.sim
    ref_env.set_state(sim.qpos[0].double().numpy(), sim.qvel[0].double().numpy())
    action = np.linspace(-0.3, 0.3, 17, dtype=np.float32)
    obs, reward, terminated, truncated, _ = ours.step(action)
    ref_obs, ref_reward, ref_terminated, ref_truncated, _ = ref.step(action)
    assert obs.dtype == ref_obs.dtype == np.float64 and obs.shape == ref_obs.shape
    # float32 physics against float64: tolerances of tests/tasks/test_humanoid_v5_vs_gymnasium.py.
    np.testing.assert_allclose(obs[:270], ref_obs[:270], rtol=1e-4, atol=1e-4)  # qpos ... qfrc_actuator
    forces = ref_obs[270:]
    np.testing.assert_allclose(obs[270:], forces, rtol=0, atol=1e-4 * np.abs(forces).max() + 1e-6)
    assert reward == pytest.approx(ref_reward, abs=1e-3)
    assert (terminated, truncated) == (ref_terminated, ref_truncated) == (False, False)


RENDER_SCRIPT = """
import warnings
import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env
from warplab.integrations.gymnasium import WarplabEnv, make_vector_env

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    check_env(gymnasium.make("warplab/cartpole-balance").unwrapped)  # with its render checks
unexpected = [
    str(w.message) for w in caught
    if "infinity" not in str(w.message) and not issubclass(w.category, DeprecationWarning)
]
assert not unexpected, unexpected
frame = WarplabEnv("cartpole-balance", render_mode="rgb_array", render_size=(160, 120)).render()
assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8 and frame.std() > 1.0, frame.shape
frames = make_vector_env(2, "cartpole-balance", device="cpu", render_mode="rgb_array").render()
assert len(frames) == 1 and frames[0].shape == (480, 640, 3)
assert make_vector_env(1, "cartpole-balance", device="cpu").render() is None
print("rendered")
"""


def test_rendering_passes_the_env_checker_in_a_fresh_process():
    """MuJoCo reads MUJOCO_GL when first imported, which in a test session has already happened:
    rendering runs in a fresh process with OSMesa, as a user's script would."""
    env = {**os.environ, "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
    result = subprocess.run(
        [sys.executable, "-c", RENDER_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    if "RenderError" in result.stderr:
        pytest.skip(f"no offscreen rendering here: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0 and "rendered" in result.stdout, result.stderr[-3000:]
