"""``warplab.envs.cfg_checks``: the numbers of every registered task pass, the documented values of
the terms' params pass, and the divergence guard's settings are refused before anything is built."""

from __future__ import annotations

import dataclasses
import math

import pytest

import warplab
from warplab.envs import ConfigError
from warplab.envs.rl_env import validate_cfg
from warplab.tasks.registry import make_env_cfg


@pytest.mark.parametrize("play", [False, True])
@pytest.mark.parametrize("task", warplab.list_tasks())
def test_every_registered_task_passes_with_its_own_defaults(task, play):
    validate_cfg(make_env_cfg(task, play=play))


def test_a_curriculum_without_an_upper_limit_is_accepted():
    # PushStrengthCurriculum's own default is limits=(0, inf): the push grows as long as the robot
    # keeps surviving. Written out in a config, it was refused as "must be a finite number".
    cfg = make_env_cfg("humanoid-push-recovery")
    (name,) = [n for n, c in cfg.curriculum.items() if "limits" in c.params]
    cfg.curriculum[name].params["limits"] = (0.0, math.inf)
    validate_cfg(cfg)
    # NaN stays refused there, naming the param.
    cfg.curriculum[name].params["limits"] = (0.0, math.nan)
    with pytest.raises(ConfigError, match=rf"RlEnvCfg\.curriculum\.{name}\.params\.limits\[1\] must be"):
        validate_cfg(cfg)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("joint_range_margin", -0.5),
        ("joint_range_margin", math.nan),
        ("max_free_distance", 0.0),
        ("max_free_distance", -10.0),
    ],
)
def test_the_divergence_bounds_are_refused_by_their_env_path_before_the_build(field, value):
    # They were refused only by the Simulation (as SimCfg's), after the model was compiled, its
    # buffers probed and the worlds allocated on the device.
    cfg = make_env_cfg("cartpole-balance")
    cfg.sim = dataclasses.replace(cfg.sim, **{field: value})
    with pytest.raises(ConfigError) as error:
        validate_cfg(cfg)
    message = str(error.value)
    assert message.startswith(f"RlEnvCfg.sim.{field} must be") and repr(value) in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("field", "value"), [("joint_range_margin", math.inf), ("max_free_distance", math.inf)]
)
def test_an_infinite_divergence_bound_turns_that_check_off_and_passes(field, value):
    cfg = make_env_cfg("cartpole-balance")
    cfg.sim = dataclasses.replace(cfg.sim, **{field: value})
    validate_cfg(cfg)
