"""The search space of ``warplab sweep`` and its results table; nothing here imports Ray.

A space is given on the command line, one entry per ``--space``::

    --space agent.ppo.learning_rate loguniform 1e-4 1e-3
    --space agent.ppo.entropy_coef uniform 0.0 0.01
    --space agent.ppo.num_mini_batches choice 2 4 8

Each entry names a config field as ``--env.*`` / ``--agent.*`` overrides do, then a kind and its
values. A trial receives its sample as the text of such an override, so the training run converts
and checks it exactly as ``warplab train --agent.ppo.learning_rate 3e-4`` would.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from warplab.envs.managers.term import ConfigError

KINDS = {
    "uniform": "LOW HIGH (numbers, LOW < HIGH)",
    "loguniform": "LOW HIGH (numbers, 0 < LOW < HIGH)",
    "choice": "VALUE [VALUE ...] (each as --env.*/--agent.* would read it)",
}
"""The kinds of entry and the values each takes."""


@dataclasses.dataclass(frozen=True)
class SpaceEntry:
    """One ``--space PATH KIND VALUE...`` entry."""

    path: str
    """``env.a.b`` or ``agent.a.b``: the config field the entry samples."""
    kind: str
    """One of `KINDS`."""
    values: tuple[str, ...]
    """The entry's values as written: the bounds of ``uniform`` / ``loguniform``, the options of ``choice``."""

    @property
    def text(self) -> str:
        """The entry as the user wrote it, for error messages."""
        return " ".join(("--space", self.path, self.kind, *self.values))

    def bounds(self) -> tuple[float, float]:
        """(low, high) of a ``uniform`` or ``loguniform`` entry."""
        return float(self.values[0]), float(self.values[1])

    def probes(self) -> list[str]:
        """Values that stand for the entry when it is checked against the task's config: both bounds
        (as a sample would be written) or every option."""
        if self.kind == "choice":
            return list(self.values)
        return [repr(bound) for bound in self.bounds()]


def split_space_args(argv: Sequence[str]) -> tuple[list[list[str]], list[str]]:
    """Takes the ``--space`` entries out of ``argv``: each runs up to the next argument that starts
    with ``--`` (values such as ``-0.5`` or ``1e-4`` do not). Returns (the entries' words, the rest)."""
    entries: list[list[str]] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] != "--space":
            rest.append(argv[i])
            i += 1
            continue
        i += 1
        words: list[str] = []
        while i < len(argv) and not argv[i].startswith("--"):
            words.append(argv[i])
            i += 1
        entries.append(words)
    return entries, rest


def parse_space(entries: Sequence[Sequence[str]]) -> list[SpaceEntry]:
    """Reads ``--space`` entries (each ``[PATH, KIND, VALUE...]``), refusing with one line that names
    the entry: a path outside ``env.``/``agent.``, an unknown kind, the wrong number of values,
    bounds that are not numbers or not in order, a path given twice, or no entry at all."""
    if not entries:
        raise ConfigError(
            "no search space: give at least one --space PATH KIND VALUE..., e.g. "
            "--space agent.ppo.learning_rate loguniform 1e-4 1e-3"
        )
    space: list[SpaceEntry] = []
    for words in entries:
        text = " ".join(("--space", *words))
        if len(words) < 2:
            raise ConfigError(
                f"{text!r}: give PATH KIND VALUE..., e.g. agent.ppo.learning_rate loguniform 1e-4 1e-3"
            )
        path, kind, values = words[0], words[1], tuple(words[2:])
        head, _, field = path.partition(".")
        if head not in ("env", "agent") or not field:
            raise ConfigError(
                f"{text!r}: the path {path!r} must start with env. or agent. (e.g. agent.ppo.learning_rate)"
            )
        if kind not in KINDS:
            raise ConfigError(f"{text!r}: unknown kind {kind!r}; use {', '.join(KINDS)}")
        entry = SpaceEntry(path, kind, values)
        if kind == "choice":
            if not values:
                raise ConfigError(f"{text!r}: choice needs {KINDS[kind]}")
        else:
            if len(values) != 2:
                raise ConfigError(f"{text!r}: {kind} needs {KINDS[kind]}, got {len(values)} value(s)")
            try:
                low, high = entry.bounds()
            except ValueError:
                raise ConfigError(f"{text!r}: {kind} needs {KINDS[kind]}") from None
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ConfigError(f"{text!r}: {kind} needs LOW < HIGH, both finite; got {low} and {high}")
            if kind == "loguniform" and low <= 0:
                raise ConfigError(f"{text!r}: loguniform needs 0 < LOW, got {low}")
        if any(other.path == path for other in space):
            raise ConfigError(f"{text!r}: {path} is already in the space; give each field once")
        space.append(entry)
    return space


def check_space_fits(
    space: Sequence[SpaceEntry], env_cfg: Any, agent_cfg: Any, owned: dict[str, str]
) -> None:
    """Refuses, before any trial starts, an entry whose field the task's configs lack, whose values
    that field cannot take, or that the sweep sets itself (`owned`: ``env`` fields such as
    ``num_envs`` and the option that sets them): the message names the entry."""
    from warplab.cli.overrides import apply_text_overrides

    configs = {"env": env_cfg, "agent": agent_cfg}
    for entry in space:
        head, _, field = entry.path.partition(".")
        if head == "env" and field in owned:
            raise ConfigError(f"{entry.text!r}: env.{field} is set by the sweep's own option {owned[field]}")
        for probe in entry.probes():
            try:
                apply_text_overrides(configs[head], {field: probe}, head)
            except ConfigError as error:
                hint = ""
                if entry.kind != "choice" and "as an integer" in str(error):
                    hint = f"; {entry.kind} draws floats: use choice for an integer field"
                raise ConfigError(f"{entry.text!r}: {error}{hint}") from None


def override_args(config: dict[str, Any]) -> list[str]:
    """A trial's sample ``{path: value}`` as the ``--env.*``/``--agent.*`` arguments of a training run.
    Numbers are written with ``repr`` so that the run reads back exactly the float that was drawn."""
    args: list[str] = []
    for path, value in config.items():
        args += [f"--{path}", repr(value) if isinstance(value, float) else str(value)]
    return args


TABLE_FIELDS = ("trial", "status", "iterations", "best_return", "last_return")
"""The columns of the results table before the space's own (one per entry) and the paths."""


def latest_checkpoint(run_folder: Path | None) -> Path | None:
    """The ``model_<iteration>.pt`` of the highest iteration in `run_folder`, or None."""
    if run_folder is None or not run_folder.is_dir():
        return None
    found = [
        (int(p.stem.split("_")[1]), p)
        for p in run_folder.glob("model_*.pt")
        if p.stem.split("_")[1].isdigit()
    ]
    return max(found)[1] if found else None


def table_rows(
    trials: Sequence[dict[str, Any]], space: Sequence[SpaceEntry]
) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the results table, best return first (trials without one last).

    Each trial is ``{"trial", "status", "iterations", "best_return", "last_return", "config": {path:
    value}, "run_folder": Path | None}``; returns are the mean episode return of an iteration."""
    header = [*TABLE_FIELDS, *(entry.path for entry in space), "run_folder", "checkpoint"]

    def number(value: Any) -> str:
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.6g}"

    def key(trial: dict[str, Any]) -> float:
        best = trial.get("best_return")
        return -math.inf if best is None or math.isnan(best) else float(best)

    rows = []
    for trial in sorted(trials, key=key, reverse=True):
        folder = trial.get("run_folder")
        checkpoint = latest_checkpoint(folder)
        rows.append(
            [
                str(trial["trial"]),
                str(trial["status"]),
                str(trial.get("iterations", 0)),
                number(trial.get("best_return")),
                number(trial.get("last_return")),
                *(
                    repr(v) if isinstance(v := trial["config"].get(entry.path, ""), float) else str(v)
                    for entry in space
                ),
                "" if folder is None else str(folder),
                "" if checkpoint is None else str(checkpoint),
            ]
        )
    return header, rows


def table_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def table_markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(row) for row in rows)]) + "\n"
