"""``RlEnvCfg.reset_forward = "none"``: the step skips the forward pass after resets, and the env
refuses it, naming the term, when an observation or a manager reset reads a derived quantity.

The reference is the same task with ``"positions_velocities"`` (itself checked against MuJoCo's C
engine in ``tests/sim/test_forward_positions_velocities.py``): where nothing reads what the forward
computes, skipping it must change no output of the step, bit for bit on the CPU."""

from __future__ import annotations

import pytest
import torch

from warplab.envs.config import CommandTermCfg, ObservationTermCfg
from warplab.envs.managers import CommandTerm
from warplab.envs.managers.term import ConfigError
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg

from ._cfgs import assert_steps_agree


def _env(task: str, num_envs: int, **fields) -> RlEnv:
    cfg = make_env_cfg(task)
    cfg.num_envs, cfg.device, cfg.seed = num_envs, "cpu", 5
    for name, value in fields.items():
        setattr(cfg, name, value)
    return cfg


@pytest.mark.slow
def test_skipping_the_forward_changes_no_output_of_the_flat_task():
    light = RlEnv(
        _env("humanoid-velocity-flat", 4, episode_length_s=0.1, reset_forward="positions_velocities")
    )
    none = RlEnv(_env("humanoid-velocity-flat", 4, episode_length_s=0.1, reset_forward="none"))
    # The check run while building left the env as it found it: same first observations.
    for group in light.observations:
        assert torch.equal(none.observations[group], light.observations[group])
    gen = torch.Generator().manual_seed(1)
    resets, poses_differ = 0, False
    for _ in range(12):
        action = torch.rand(4, light.action_dim, generator=gen) * 2 - 1
        obs_l, rew_l, term_l, trunc_l, info_l = light.step(action)
        obs_n, rew_n, term_n, trunc_n, info_n = none.step(action)
        resets += int((term_l | trunc_l).sum())
        for group in obs_l:
            assert torch.equal(obs_n[group], obs_l[group])
            assert torch.equal(info_n["final_obs"][group], info_l["final_obs"][group])
        assert torch.equal(rew_n, rew_l)
        assert torch.equal(term_n, term_l) and torch.equal(trunc_n, trunc_l)
        poses_differ |= not torch.equal(none.sim.xpos, light.sim.xpos)
    assert resets >= 4
    # The forward really was skipped (body poses between steps differ), so the test can fail.
    assert poses_differ


def test_the_velocity_task_family_skips_it_and_the_rough_task_does_not():
    assert make_env_cfg("humanoid-velocity-flat").reset_forward == "none"
    assert make_env_cfg("humanoid-push-recovery").reset_forward == "none"
    assert make_env_cfg("humanoid-getup").reset_forward == "none"
    # Its height scan reads the base's pose from the forward pass.
    assert make_env_cfg("humanoid-velocity-rough").reset_forward == "positions_velocities"


def _torso_height(env) -> torch.Tensor:
    """The torso's height read from the forward pass (``xpos``), not from qpos."""
    return env.sim.xpos[:, 1, 2:3]


def test_an_observation_reading_a_pose_is_refused_by_name():
    cfg = _env("humanoid-velocity-flat", 2, reset_forward="none")
    cfg.observations["policy"].terms["torso_height"] = ObservationTermCfg(func=_torso_height)
    with pytest.raises(ConfigError, match=r"observations\.policy\.terms\.torso_height") as error:
        RlEnv(cfg)
    assert "reset_forward='positions_velocities'" in str(error.value)
    # The terms that read qpos and qvel only are not named.
    assert "joint_pos" not in str(error.value)
    # With the positions-and-velocities forward the same task builds.
    cfg.reset_forward = "positions_velocities"
    RlEnv(cfg)


class _CommandAheadOfTorso(CommandTerm):
    """A command drawn at reset from the torso's position (``xpos``): a manager reset that reads a
    derived quantity."""

    def __init__(self, cfg, env):
        self._env = env
        self.command = torch.zeros(env.num_envs, 2, device=env.device)

    def resample(self, mask: torch.Tensor) -> None:
        target = self._env.sim.xpos[:, 1, :2] + 1.0
        self.command.copy_(torch.where(mask[:, None], target, self.command))


def test_a_command_reading_a_pose_at_reset_is_refused_by_name():
    cfg = _env("humanoid-velocity-flat", 2, reset_forward="none")
    cfg.commands["goal"] = CommandTermCfg(func=_CommandAheadOfTorso, resampling_time_range_s=(5.0, 5.0))
    with pytest.raises(ConfigError, match=r"commands\.terms\.goal\.command"):
        RlEnv(cfg)


def test_gymnasium_humanoid_is_refused_for_what_it_reads():
    # Humanoid-v5 observes body inertias and velocities and its forward reward reads the centre of
    # mass at reset: each is named.
    cfg = _env("Humanoid-v5", 2, reset_forward="none")
    with pytest.raises(ConfigError) as error:
        RlEnv(cfg)
    message = str(error.value)
    for path in (
        "observations.policy.terms.cinert",
        "observations.policy.terms.cvel",
        "rewards.terms.forward",
    ):
        assert path in message


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_flat_task_builds_and_steps_as_with_the_forward():
    """On CUDA the flat task builds with ``"none"`` (the check once named the critic's
    ``feet_contact_force`` there: capturing its forward's graph ran a full forward) and its step
    gives what ``"positions_velocities"`` gives, to rounding (contact forces are summed with atomics
    on a GPU, so states are re-synced before every step)."""

    def env(reset_forward: str) -> RlEnv:
        cfg = _env("humanoid-velocity-flat", 64, episode_length_s=0.3, reset_forward=reset_forward)
        cfg.device = "cuda"
        return RlEnv(cfg)

    light, none = env("positions_velocities"), env("none")
    # The check left no graph of its forward behind.
    assert "forward_pos_vel" not in none.sim._graphs
    gen = torch.Generator(device="cuda").manual_seed(1)
    resets = 0
    for step in range(24):
        none.set_state(light.get_state())
        action = torch.rand(64, light.action_dim, generator=gen, device="cuda") * 2 - 1
        out_l = light.step(action)
        assert_steps_agree(out_l, none.step(action), atol=1e-3, rtol=1e-4, step=step)
        resets += int((out_l[2] | out_l[3]).sum())
    assert resets >= 64
