"""``warplab bench`` and ``python3 -m warplab.bench``: the throughput of each layer of a task, per
world count (the measurements are ``warplab.bench``; docs/benchmarking.md).

The options are ``warplab.bench.BenchArgs``, read by tyro like every other command's; where tyro
is not installed (the GPU machine has none) the same dataclass is read with argparse
(``plain_options``), with the same spellings and help. Both spellings print a user's mistake as
one line and exit with status 2.
"""

from __future__ import annotations

import shlex
import sys

from warplab.bench.options import BenchArgs
from warplab.cli.paths import check_writable_file

MODULE_PROG = "python3 -m warplab.bench"


def parse_args(argv: list[str] | None = None, prog: str = MODULE_PROG) -> BenchArgs:
    """``BenchArgs`` from the command line: tyro where installed, else argparse over the same fields.

    Raises ``OptionError`` (one line) for what cannot be read, including a list option given
    without a value (``--task`` alone).
    """
    from warplab.cli.main import OptionError, parse_options
    from warplab.cli.plain_options import parse_plain

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        import tyro  # noqa: F401
    except ImportError:
        args = parse_plain(BenchArgs, argv, prog)
    else:
        args = parse_options(BenchArgs, argv, prog)
    for option, values in (
        ("--task", args.task),
        ("--num-envs", args.num_envs),
        ("--reset-forward", args.reset_forward),
        ("--agent-overrides", args.agent_overrides),
    ):
        if values is not None and len(values) == 0:
            raise OptionError(f"{option} needs at least one value ({prog} --help)")
    return args


def bench_command(args: BenchArgs, command: str) -> int:
    """Runs the bench of ``args``; ``command`` is the command line recorded in the JSON."""
    from warplab.bench import run

    if args.json is not None:
        # Before minutes of measuring, not after.
        check_writable_file(args.json, "--json")
    run(args, command)
    return 0


def main(argv: list[str] | None = None, prog: str = MODULE_PROG) -> int:
    """``python3 -m warplab.bench``: a user's mistake prints one line and returns 2, as ``warplab
    bench`` does (``warplab.cli.main``)."""
    from warplab.cli.main import user_errors

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return bench_command(parse_args(argv, prog), shlex.join([*prog.split(), *argv]))
    except user_errors() as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
