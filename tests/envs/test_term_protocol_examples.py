"""The worked examples of "Term protocols" in docs/environments.md, run as written on the cart-pole:
the code block is read from the page itself, so the page cannot drift from what is tested."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from warplab.deploy.sim2sim_model import fall_thresholds
from warplab.envs.config import (
    ActionTermCfg,
    CommandTermCfg,
    CurriculumTermCfg,
    EventTermCfg,
    ObservationTermCfg,
    RewardTermCfg,
    TerminationTermCfg,
)
from warplab.envs.managers.term import ConfigError
from warplab.envs.rl_env import RlEnv
from warplab.tasks.cartpole import make_cartpole_env_cfg

DOC = Path(__file__).resolve().parents[2] / "docs" / "environments.md"


def _examples() -> dict:
    text = DOC.read_text()
    section = text[text.index("### One worked example per kind") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - the page's own example
    return namespace


@pytest.fixture(scope="module")
def env_and_examples():
    ex = _examples()
    cfg = make_cartpole_env_cfg()
    cfg.num_envs, cfg.device, cfg.seed = 4, "cpu", 0
    cfg.actions = {"force": ActionTermCfg(func=ex["CartForce"], params={"scale": 2.0})}
    cfg.observations["policy"].terms["pole_angle"] = ObservationTermCfg(
        func=ex["pole_angle"], params={"joints": "hinge"}
    )
    cfg.rewards = {"upright": RewardTermCfg(func=ex["UprightSteps"], weight=1.0)}
    cfg.terminations = {
        "cart_out": TerminationTermCfg(
            func=ex["cart_outside"], params={"joints": "slider", "low": -1.0, "high": 1.0}
        )
    }
    cfg.commands = {"target": CommandTermCfg(func=ex["CartTarget"], params={"limit": 0.5})}
    cfg.events = {"tilt": EventTermCfg(func=ex["tilt_pole"], mode="reset", params={"angle_rad": 0.05})}
    cfg.curriculum = {"episodes": CurriculumTermCfg(func=ex["EpisodesEnded"])}
    return RlEnv(cfg), ex, cfg


def test_each_kind_does_what_the_page_says(env_and_examples):
    env, ex, cfg = env_and_examples
    obs, _ = env.reset(seed=0)
    hinge = env.index.joint_qpos_ids("hinge")
    slider = env.index.joint_qpos_ids("slider")
    # Event: every world starts with its pole at 0.05 rad; the observation reads it.
    assert torch.allclose(env.sim.qpos[:, hinge], torch.full((4, 1), 0.05))
    assert torch.allclose(obs["policy"][:, -1], torch.full((4,), 0.05))
    # Curriculum: the worlds reset so far are counted (construction and reset: all of them, twice).
    assert float(env.curriculum_manager.state["episodes"]) == 8.0
    # Command: drawn in its range.
    command = env.command("target")
    assert command.shape == (4, 1) and bool(((command >= -0.5) & (command <= 0.5)).all())
    # Action: scale times the action reaches the motor's control.
    action = torch.full((4, 1), 0.25)
    env.step(action)
    assert torch.allclose(env.sim.ctrl[:, 0], torch.full((4,), 0.5))
    # Reward: steps since the episode began, reset with the world.
    env.step(action)
    assert torch.equal(env.reward_manager.step_terms[:, 0], torch.full((4,), 2.0))
    # Termination: a cart put beyond 1 m ends that world's episode, and its reward state restarts.
    env.sim.qpos[0, slider] = 1.5
    _, _, terminated, _, _ = env.step(torch.zeros(4, 1))
    assert terminated.tolist() == [True, False, False, False]
    assert env.reward_manager.term("upright").steps.tolist() == [0.0, 3.0, 3.0, 3.0]


def test_declarations_reach_export_and_sim_to_sim(env_and_examples):
    env, ex, cfg = env_and_examples
    assert fall_thresholds(cfg.terminations, env.index.names["joint"])["joint_ranges"] == {
        "slider": [-1.0, 1.0]
    }
    targets = env.action_manager.terms["force"].actuator_targets()
    assert targets.control == "effort" and targets.scale.tolist() == [2.0]
    from warplab.deploy.export import _command_metadata, _observation_metadata

    pole = next(t for t in _observation_metadata(env) if t["name"] == "pole_angle")
    assert pole["signal"] == "joint_pos" and pole["params"] == {"joints": ["hinge"]}
    assert _command_metadata(env)["target"]["components"] == ["cart_x"]
    assert _command_metadata(env)["target"]["ranges"] == [[-0.5, 0.5]]


def test_a_term_class_outside_the_protocol_is_refused():
    class NotARewardTerm:
        def __init__(self, cfg, env):
            pass

        def __call__(self, env):
            return torch.zeros(env.num_envs)

    cfg = make_cartpole_env_cfg()
    cfg.num_envs, cfg.device = 2, "cpu"
    cfg.rewards["odd"] = RewardTermCfg(func=NotARewardTerm, weight=1.0)
    with pytest.raises(
        ConfigError, match=r"rewards\.odd\.func: class .*NotARewardTerm must subclass .*RewardTerm"
    ):
        RlEnv(cfg)
