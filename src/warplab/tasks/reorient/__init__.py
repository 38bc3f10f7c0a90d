"""The reorientation family: a hand turns a cube in its palm to one sampled orientation after another.

- ``env_cfg``: the hand-generic factory ``make_reorient_env_cfg(hand)`` with ``ReorientHandCfg`` and
  ``ReorientRandomizationCfg``;
- ``hand_env_cfg``: ``hand-reorient-cube`` and ``hand-reorient-cube-openai`` (the project's hand);
- ``shadow_env_cfg``: ``shadow-reorient-cube`` (Gymnasium-Robotics' Shadow hand; needs
  ``warplab[robotics]`` to build);
- ``mdp``: the terms only these tasks use;
- ``agent_cfg``: the learner's settings, imported only when a learner asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from warplab.tasks.registry import register_task
from warplab.tasks.reorient.env_cfg import (
    ReorientHandCfg,
    ReorientRandomizationCfg,
    make_reorient_env_cfg,
    reorient_scene,
)
from warplab.tasks.reorient.hand_env_cfg import (
    HAND_REORIENT_CFG,
    make_hand_reorient_env_cfg,
    make_hand_reorient_openai_env_cfg,
)
from warplab.tasks.reorient.shadow_env_cfg import SHADOW_REORIENT_CFG, make_shadow_reorient_env_cfg

if TYPE_CHECKING:
    from warplab.rl.config import RunnerCfg

__all__ = [
    "HAND_REORIENT_CFG",
    "SHADOW_REORIENT_CFG",
    "ReorientHandCfg",
    "ReorientRandomizationCfg",
    "make_hand_reorient_env_cfg",
    "make_hand_reorient_openai_env_cfg",
    "make_reorient_env_cfg",
    "make_shadow_reorient_env_cfg",
    "reorient_scene",
]


# Each agent config is imported when asked for, not above: building an env config must not load
# the learner (tests/tasks/test_task_imports.py checks it).
def _hand_agent_cfg() -> RunnerCfg:
    from warplab.tasks.reorient.agent_cfg import make_hand_reorient_agent_cfg

    return make_hand_reorient_agent_cfg()


def _hand_openai_agent_cfg() -> RunnerCfg:
    from warplab.tasks.reorient.agent_cfg import make_hand_reorient_openai_agent_cfg

    return make_hand_reorient_openai_agent_cfg()


def _shadow_agent_cfg() -> RunnerCfg:
    from warplab.tasks.reorient.agent_cfg import make_shadow_reorient_agent_cfg

    return make_shadow_reorient_agent_cfg()


register_task(
    "hand-reorient-cube",
    make_hand_reorient_env_cfg,
    _hand_agent_cfg,
    "The project's hand, palm up, turns a cube in its palm to each sampled orientation (0.1 rad).",
)
register_task(
    "hand-reorient-cube-openai",
    make_hand_reorient_openai_env_cfg,
    _hand_openai_agent_cfg,
    "hand-reorient-cube with OpenAI's success tolerance, 0.4 rad.",
)
register_task(
    "shadow-reorient-cube",
    make_shadow_reorient_env_cfg,
    _shadow_agent_cfg,
    "Gymnasium-Robotics' Shadow hand turns a cube to each sampled orientation (0.1 rad); needs warplab[robotics].",
)
