"""Commands: resampled on their timers and on reset; UniformVelocityCommand's ranges and standing share."""

from __future__ import annotations

import pytest
import torch

from warplab.envs import CommandTermCfg, ObservationGroupCfg, ObservationTermCfg, RlEnv, mdp

from ._cfgs import Flag, cartpole_cfg

RANGES = {"lin_vel_x": (-1.0, 2.0), "lin_vel_y": (-0.5, 0.5), "ang_vel_z": (0.25, 0.75)}


def _env(num_envs=2, rel_standing_envs=0.0, resample_s=(0.05, 0.05), terminations=None):
    commands = {
        "vel": CommandTermCfg(
            func=mdp.UniformVelocityCommand,
            params={**RANGES, "rel_standing_envs": rel_standing_envs},
            resampling_time_range_s=resample_s,
        )
    }
    observations = {
        "policy": ObservationGroupCfg(
            terms={"cmd": ObservationTermCfg(func=mdp.generated_commands, params={"command_name": "vel"})}
        )
    }
    cfg = cartpole_cfg(
        num_envs, commands=commands, observations=observations, terminations=terminations or {}
    )
    return RlEnv(cfg)


def test_commands_resample_on_their_timer_and_on_reset():
    flag = Flag(2)
    env = _env(terminations={"fail": flag.cfg()})
    changed = []
    previous = env.command("vel").clone()
    for step in range(1, 8):
        flag.flag[:] = torch.tensor([step == 1, False])
        obs, *_ = env.step(torch.zeros(2, 1))
        now = env.command("vel").clone()
        # The observation term reads the command as it is after the step.
        torch.testing.assert_close(obs["policy"], now, rtol=0, atol=0)
        changed.append((now != previous).all(dim=1).tolist())
        previous = now
    # policy_dt 0.02 s, timer 0.05 s: world 1 draws at steps 3 and 6; world 0 also on its reset at
    # step 1, which restarts its timer: steps 1, 4 and 7.
    fired = [[s + 1 for s, c in enumerate(changed) if c[w]] for w in range(2)]
    assert fired == [[1, 4, 7], [3, 6]]


def test_uniform_velocity_command_respects_its_ranges():
    env = _env(num_envs=8, resample_s=(100.0, 100.0))
    term = env.command_manager.term("vel")
    draws = []
    everyone = torch.ones(8, dtype=torch.bool)
    for _ in range(50):
        term.resample(everyone)
        draws.append(term.command.clone())
    draws = torch.cat(draws)
    for i, (lo, hi) in enumerate(RANGES.values()):
        assert draws[:, i].min() >= lo and draws[:, i].max() <= hi
        # 400 uniform draws come close to both ends of the range.
        assert draws[:, i].min() < lo + 0.05 * (hi - lo) and draws[:, i].max() > hi - 0.05 * (hi - lo)
    # Only masked worlds get a new command.
    before = term.command.clone()
    term.resample(torch.tensor([False, True] * 4))
    torch.testing.assert_close(term.command[0::2], before[0::2], rtol=0, atol=0)
    assert (term.command[1::2] != before[1::2]).all()


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_rel_standing_envs_is_the_share_of_zero_commands(share):
    env = _env(num_envs=8, rel_standing_envs=share, resample_s=(100.0, 100.0))
    term = env.command_manager.term("vel")
    standing = 0
    for _ in range(100):
        term.resample(torch.ones(8, dtype=torch.bool))
        standing += int((term.command == 0).all(dim=1).sum())
    # 800 draws: the share of standing commands has a standard deviation below 0.018.
    assert standing / 800 == pytest.approx(share, abs=0.07)


def test_unknown_command_name_lists_the_commands():
    env = _env()
    with pytest.raises(KeyError, match="vel"):
        env.command("speed")
