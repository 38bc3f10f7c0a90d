"""Every number a user can set on the command line, given values that once ended in tracebacks.

The cart-pole's configs are walked for every numeric field (and tuple of numbers) reachable as
``--env.PATH`` or ``--agent.PATH``; each is given NaN, inf, -inf, 0, -1, 1e30 and a 31-digit
integer. Each run must end in exit 0 (the value is legal) or exit 2 with one line on stderr naming
the problem, never a traceback. The quick test stops after validation (``--print-config``); the
slow one builds the env and trains one iteration with every value the quick one accepted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from warplab.cli.main import main
from warplab.tasks import get_task, make_env_cfg

TASK = "cartpole-balance"
VALUES = ("nan", "inf", "-inf", "0", "-1", "1e30", str(10**30))
NUMERIC_WHEN_NONE = {"timestep", "nconmax", "njmax", "history_length", "max_abs_qvel", "max_free_distance"}
"""Fields whose default None stands for a number (the model's own, a size from a probe)."""


def numeric_fields(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    """``(dotted path, current value)`` of every number or tuple of numbers below ``obj``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for field in dataclasses.fields(obj):
            if field.name == "func":
                continue
            value = getattr(obj, field.name)
            if value is None and field.name in NUMERIC_WHEN_NONE:
                yield f"{path}.{field.name}", None
            else:
                yield from numeric_fields(value, f"{path}.{field.name}")
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from numeric_fields(value, f"{path}.{key}")
    elif isinstance(obj, (tuple, list)):
        if obj and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in obj):
            yield path, obj
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


def cases() -> list[tuple[str, str]]:
    fields = [
        *numeric_fields(make_env_cfg(TASK), "env"),
        *numeric_fields(get_task(TASK).agent_cfg_factory(), "agent"),
    ]
    out = []
    for path, current in fields:
        for value in VALUES:
            # A tuple gets the bad value in its first place, the rest as they are.
            text = ",".join([value, *map(str, current[1:])]) if isinstance(current, (tuple, list)) else value
            out.append((path, text))
    return out


CASES = cases()


def _outcome(capsys, argv: list[str]) -> int:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, f"{argv}:\n{captured.err}"
    assert code in (0, 2), f"{argv} exited {code}:\n{captured.err}"
    if code == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("warplab train: error: "), f"{argv}:\n{captured.err}"
    return code


def test_the_walk_reaches_every_kind_of_field():
    paths = {path for path, _ in CASES}
    assert len(paths) > 50
    for expected in (
        "env.episode_length_s",
        "env.timestep",
        "env.sim.njmax",
        "env.rewards.alive.weight",
        "env.terminations.pole_fell.params.low",
        "env.events.reset_joints.params.position_range",
        "agent.ppo.learning_rate",
        "agent.policy.actor_hidden_dims",
        "agent.seed",
    ):
        assert expected in paths


def test_every_numeric_field_is_refused_in_one_line_or_accepted(capsys):
    accepted = []
    for path, text in CASES:
        if (
            _outcome(
                capsys, ["train", "--task", TASK, "--device", "cpu", f"--{path}", text, "--print-config"]
            )
            == 0
        ):
            accepted.append((path, text))
    # NaN and infinities are refused everywhere but in the bounds that document them.
    for path, text in accepted:
        assert text.split(",")[0] not in ("nan", "inf", "-inf") or path.startswith(
            ("env.sim.max_abs_q", "env.sim.joint_range_margin", "env.sim.max_free_distance")
        ), (path, text)


@pytest.mark.slow
def test_every_accepted_value_builds_and_trains_one_iteration(capsys, tmp_path):
    # About a second a case on a 2-core CPU (about a hundred cases).
    common = ["--runs-dir", str(tmp_path), "--agent.logger", "none", "--agent.console", "off"]
    for path, text in CASES:
        check = ["train", "--task", TASK, "--device", "cpu", f"--{path}", text, "--print-config"]
        if _outcome(capsys, check) != 0:
            continue
        argv = ["train", "--task", TASK, "--device", "cpu", f"--{path}", text, *common]
        if path != "agent.max_iterations":
            argv += ["--max-iterations", "1"]
        if path != "agent.ppo.num_steps_per_env":
            argv += ["--agent.ppo.num_steps_per_env", "8"]
        if path not in ("env.num_envs",):
            argv += ["--num-envs", "2"]
        _outcome(capsys, argv)
