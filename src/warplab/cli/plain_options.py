"""Options of a flat dataclass read with argparse, where tyro is not installed (the GPU machine).

``parse_plain(cls, args, prog)`` reads the same spellings as tyro does for the field types the
bench uses (``--num-envs 4096 8192`` for ``list[int] | None``, ``--tf32-matmul off`` for a
``Literal``, ``--json PATH`` for ``Path | None``), with each field's docstring as its help, so a
command declared once as a dataclass runs on machines with and without tyro. Its mistakes raise
``OptionError`` as one line, like ``parse_options``'.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import inspect
import io
import types
import typing
from pathlib import Path
from typing import Any, Literal


def field_docstrings(cls: type) -> dict[str, str]:
    """The string literal under each annotated field of ``cls``'s body, by field name (none where
    the source cannot be read: the options still parse, without their help)."""
    try:
        body = ast.parse(inspect.getsource(cls)).body[0]
    except (OSError, TypeError):
        return {}
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for field, doc in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)
        ):
            docs[field.target.id] = " ".join(doc.value.value.split())
    return docs


def _argument(hint: Any) -> dict[str, Any]:
    """argparse's keywords for a field of type ``hint``: ``T``, ``T | None``, ``list[T]`` or
    ``list[T] | None`` with ``T`` one of str, int, float, Path or a ``Literal`` of strings."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kept = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(kept) != 1:
            raise TypeError(f"unsupported option type {hint}")
        hint = kept[0]
    keywords: dict[str, Any] = {}
    if typing.get_origin(hint) is list:
        keywords["nargs"] = "+"
        (hint,) = typing.get_args(hint)
    if typing.get_origin(hint) is Literal:
        keywords["choices"] = typing.get_args(hint)
    elif hint in (str, int, float, Path):
        keywords["type"] = hint
    else:
        raise TypeError(f"unsupported option type {hint}")
    return keywords


def plain_parser(cls: type, prog: str) -> argparse.ArgumentParser:
    """An argparse parser of ``cls``'s fields: ``--field-name``, defaults as the dataclass has them."""
    parser = argparse.ArgumentParser(
        prog=prog,
        # As tyro reads options: whole names only, so a flag means the same on either machine.
        allow_abbrev=False,
        description=" ".join((cls.__doc__ or "").split()),
    )
    docs, hints = field_docstrings(cls), typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            raise TypeError(f"{cls.__name__}.{field.name}: every option needs a default")
        shown = " ".join(map(str, default)) if isinstance(default, list) else default
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=field.name,
            default=default,
            help=f"{docs.get(field.name, '')} (default: {shown})",
            **_argument(hints[field.name]),
        )
    return parser


def parse_plain(cls: type, args: list[str], prog: str) -> Any:
    """``cls`` from ``args`` through ``plain_parser``; argparse's usage and error become one
    ``OptionError`` line, ``--help`` prints and exits as usual."""
    from warplab.cli.main import OptionError

    messages = io.StringIO()
    try:
        with contextlib.redirect_stderr(messages):
            namespace = plain_parser(cls, prog).parse_args(args)
    except SystemExit as exit_:
        if not exit_.code:
            raise
        # argparse prints its usage (several lines) and then "PROG: error: ...": keep the last.
        lines = messages.getvalue().strip().splitlines() or ["cannot read the options"]
        raise OptionError(f"{lines[-1].removeprefix(f'{prog}: error: ')} ({prog} --help)") from None
    return cls(**vars(namespace))


__all__ = ["field_docstrings", "parse_plain", "plain_parser"]
