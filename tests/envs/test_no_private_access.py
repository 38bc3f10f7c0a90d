"""No module outside ``envs/managers`` reaches into another object's private state, and nothing
recognises a term by its name: modules ask through the managers' public view and the terms'
declared protocols (``warplab.envs.managers.protocols``, ``warplab.term_export``)."""

from __future__ import annotations

import ast
from pathlib import Path

import warplab

SRC = Path(warplab.__file__).parent

ALLOWED: dict[str, str] = {}
"""Files still allowed to touch private attributes, and why. Empty it, do not grow it."""


def _modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if not rel.startswith("envs/managers/"):
            out.append((rel, ast.parse(path.read_text(), filename=str(path))))
    return out


def _own_names(tree: ast.Module) -> set[str]:
    """Names whose private attributes a module may read: ``self``, ``cls``, the modules it imports
    (``torch._dynamo``) and the classes it defines (``Foo._CACHE``)."""
    names = {"self", "cls"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
    return names


def private_accesses(rel: str, tree: ast.Module) -> list[str]:
    """``"file:line: expr"`` for each ``x._name`` where ``x`` is not the module's own."""
    own = _own_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        if not node.attr.startswith("_") or node.attr.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in own:
            continue
        found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return found


def _mentions_name(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and sub.attr == "__name__":
            return True
        if isinstance(sub, ast.Constant) and sub.value == "__name__":
            return True
    return False


def name_matches(rel: str, tree: ast.Module) -> list[str]:
    """``"file:line: expr"`` for each comparison, or dict look-up, of a ``__name__``: how a module
    recognises a term by its name. ``if __name__ == "__main__"`` is not one."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Name) and o.id == "__name__" for o in operands):
                continue  # the module's own name: a script entry point
            if any(_mentions_name(o) for o in operands):
                found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Subscript) and _mentions_name(node.slice):
            found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and _mentions_name(node.args[0])
        ):
            found.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_outside_the_managers_touches_private_state():
    found = [hit for rel, tree in _modules() if rel not in ALLOWED for hit in private_accesses(rel, tree)]
    assert not found, (
        "private attributes reached from outside their class; ask through a public method or "
        f"property (the managers' bound_terms, a term protocol's hook): {found}"
    )


def test_the_allow_list_names_existing_files():
    modules = dict(_modules())
    assert set(ALLOWED) <= set(modules), (
        f"ALLOWED names files that do not exist: {set(ALLOWED) - set(modules)}"
    )


def test_no_term_is_recognised_by_its_name():
    found = [hit for rel, tree in _modules() for hit in name_matches(rel, tree)]
    assert not found, (
        "a term recognised by its __name__; declare what it means instead "
        f"(warplab.term_export, a protocol's class attribute): {found}"
    )


def test_the_scans_find_what_they_look_for():
    """The scans are not blind: a private access and a name match written on purpose are found."""
    tree = ast.parse(
        "import torch\n"
        "def f(env, term):\n"
        "    env._world_down = torch._C\n"
        "    if term.func.__name__ == 'bad_orientation':\n"
        "        return SIGNALS.get(type(term).__name__)\n"
        "if __name__ == '__main__':\n"
        "    f(None, None)\n"
    )
    assert private_accesses("x.py", tree) == ["x.py:3: env._world_down"]
    assert [hit.split(":")[1] for hit in name_matches("x.py", tree)] == ["4", "5"]
