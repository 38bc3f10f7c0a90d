"""docs/environments.md shows the env step as its code: the page's copy must stay the code."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

from warplab.envs.rl_env import RlEnv

DOCS = Path(__file__).resolve().parents[2] / "docs" / "environments.md"


def _without_docstring(source: str) -> list[str]:
    """The function's code lines, dedented, its docstring and blank lines dropped, comments kept."""
    source = textwrap.dedent(source)
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    first = function.body[0]
    drop: set[int] = set()
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        drop = set(range(first.lineno, first.end_lineno + 1))
    lines = source.splitlines()
    body = [line for number, line in enumerate(lines, 1) if number not in drop and line.strip()]
    return [re.sub(r"\s+#.*$", "", line).rstrip() for line in body if not line.strip().startswith("#")]


def _documented(name: str) -> list[str]:
    text = DOCS.read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if f"def {name}(" in b)
    start = block.index(f"def {name}(")
    rest = block[start:].splitlines()
    function = [rest[0]] + [line for line in _until_next_def(rest[1:])]
    return _without_docstring("\n".join(function))


def _until_next_def(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if line.startswith("def "):
            break
        out.append(line)
    return out


def _signature_free(lines: list[str]) -> list[str]:
    """Lines after the ``def`` line(s): the page writes signatures without types."""
    for index, line in enumerate(lines):
        if line.rstrip().endswith(":") and not line.startswith(" "):
            return lines[index + 1 :]
    return lines


def test_the_documented_step_is_the_code():
    for name in ("_step_worlds", "_reset_worlds"):
        code = _signature_free(_without_docstring(inspect.getsource(getattr(RlEnv, name))))
        documented = _signature_free(_documented(name))
        assert documented == code, f"docs/environments.md shows RlEnv.{name} other than it is"
