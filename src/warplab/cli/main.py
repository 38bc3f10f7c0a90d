"""The ``warplab`` command: ``list``, ``train``, ``sweep``, ``play``, ``export``, ``sim2sim``, ``inspect``, ``bench``.

Each subcommand's own options are read by tyro from a dataclass (``warplab train --help``);
``--env.FIELD VALUE`` and ``--agent.FIELD VALUE`` change the task's config (see ``overrides.py``).
A user's mistake (unknown task, missing checkpoint, bad value, no GPU) prints one clear line and
exits with status 2; anything else is a bug and keeps its traceback.
``bench`` reads its options with argparse where tyro is missing (``cli/bench.py``: the GPU machine).
"""

from __future__ import annotations

import sys
from typing import Any

USAGE = """usage: warplab {list,train,sweep,play,export,sim2sim,inspect,bench} [options]

  list    the registered tasks, one line each
  train   train a policy with PPO, SAC or TD3 (--algo; default task: the humanoid on a GPU, cartpole-balance on a CPU)
  sweep   train trials of a task over a search space with Ray Tune (pip install 'warplab[sweep]')
  play    run a trained policy and write a video
  export  write a trained policy to ONNX with its deployment metadata
  sim2sim run an exported policy on MuJoCo's C engine with latency, noise, weak motors, pushes
  inspect the bodies, joints, actuators, masses and contacts of an MJCF, URDF or USD file, with warnings
  bench   throughput of raw physics, env steps, policy inference and training (PPO, SAC, TD3) per world count

`warplab COMMAND --help` lists a command's options."""

_USER_ERROR_CLASSES = (
    ("warplab.tasks.registry", "UnknownTaskError"),
    ("warplab.envs.managers.term", "ConfigError"),
    ("warplab.rl.checkpoint", "CheckpointError"),
    ("warplab.deploy.policy_checks", "PolicyError"),
    ("warplab.sim.device", "DeviceError"),
    ("warplab.sim.errors", "CapacityError"),
    ("warplab.viz.backends", "RenderError"),
    ("warplab.atomic_files", "FileWriteError"),
)
"""warplab's own user-error classes, by defining module (see ``user_errors``)."""


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's mistake (or the machine's limits), shown as one line with
    status 2: warplab's own (``UnknownTaskError``, ``ConfigError``, ``CheckpointError``,
    ``PolicyError``, ``DeviceError``, ``CapacityError``, ``RenderError``, ``FileWriteError``), and
    ``FileNotFoundError``, ``PermissionError`` and ``ValueError`` (``OutputPathError``,
    ``WorldsDoNotFitError``, ``AssetError`` and ``ConfigError`` are ``ValueError``s).

    Only the classes of modules already imported are listed: an exception of a module never
    imported cannot have been raised, and ``warplab --help`` or a refused ``warplab inspect`` need
    not import torch and Warp (seconds) to say so.
    """
    own = (getattr(sys.modules.get(module), name, None) for module, name in _USER_ERROR_CLASSES)
    return (*(cls for cls in own if cls is not None), FileNotFoundError, PermissionError, ValueError)


def __getattr__(name: str) -> Any:
    if name == "USER_ERRORS":
        return user_errors()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


OUT_OF_MEMORY = ("can't allocate memory", "out of memory", "failed to allocate")
"""Words of the allocators' failures (torch on the CPU and CUDA, Warp): a size too large for the
machine that no estimate caught (a network's width, an observation history) is the user's setting,
not a bug."""


def _out_of_memory_line(error: BaseException) -> str:
    """One line for an allocator's failure: its size when it says it, else its first line."""
    import re

    text = str(error).strip()
    size = re.search(r"allocate (\d+) bytes", text)
    what = (
        f"an allocation of {int(size.group(1)) / 2**30:.3g} GB failed"
        if size
        else (text.splitlines() or [type(error).__name__])[0]
    )
    return (
        f"out of memory: {what}; lower --num-envs or the sizes you raised "
        "(network widths, rollout steps, observation history)"
    )


def _out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(words in text for words in OUT_OF_MEMORY)


class OptionError(ValueError):
    """An option tyro could not read (a wrong type, a missing value or a missing required option)."""


def parse_options(cls: type, args: list[str], prog: str, **kwargs: Any) -> Any:
    """``tyro.cli(cls, args=args, prog=prog, **kwargs)``, with tyro's error panel made one line.

    tyro prints a panel of a dozen lines (title, message, the option's help, where to look) and
    exits with status 2; here its message becomes an ``OptionError``, shown like every other user
    error: ``warplab train: error: Error parsing --num-envs: could not convert 'abc' ... (warplab
    train --help)``. ``--help`` goes through untouched.
    """
    import contextlib
    import io

    import tyro

    panel = io.StringIO()
    try:
        with contextlib.redirect_stderr(panel):
            return tyro.cli(cls, args=args, prog=prog, **kwargs)
    except SystemExit as exit_:
        if not exit_.code:
            sys.stderr.write(panel.getvalue())
            raise
        raise OptionError(f"{_panel_message(panel.getvalue())} ({prog} --help)") from None


_BOX = "│┃╭╮╰╯┏┓┗┛"
"""Panel corner and side characters, where tyro draws its panel for a terminal."""


def _panel_message(text: str) -> str:
    """The message of a tyro error panel as one line: the lines after its title, up to its first
    rule or its list of the types tried (drawn or plain, as rich prints it with or without a
    terminal)."""
    lines = [line.strip().strip(_BOX).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    body: list[str] = []
    for line in lines[1:]:
        rule = set(line) <= set("─━-═ ")
        if rule and body or line == "Got errors:":
            break
        if not rule:
            body.append(" ".join(line.split()))
    title = lines[0].strip("─━- ") if lines else "cannot read the options"
    return " ".join(body) or title


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command, rest = (argv[0], argv[1:]) if argv else ("--help", [])
    import warnings

    # A warning (a timestep near the stability limit, a robot file's placeholder) is one line
    # naming the command, like its errors, not Python's two lines with a source path.
    formatwarning = warnings.formatwarning
    warnings.formatwarning = lambda message, *_, **__: f"warplab {command}: warning: {message}\n"
    try:
        if command in ("-h", "--help"):
            print(USAGE)
            return 0 if argv else 2
        return _run(command, rest)
    except KeyboardInterrupt:
        print(f"warplab {command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output went away (`warplab inspect robot.xml | head`): nothing to say
        # to it. A broken pipe elsewhere (a video encoder that died) is not this, and is raised.
        if not _stdout_reader_gone():
            raise
        import os

        # Python flushes stdout again at exit; pointed at nothing, that flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except user_errors() as error:
        print(f"warplab {command}: error: {error}", file=sys.stderr)
        return 2
    except (RuntimeError, MemoryError) as error:
        if not _out_of_memory(error):
            raise
        print(f"warplab {command}: error: {_out_of_memory_line(error)}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = formatwarning


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reading end was closed (the kernel reports an error on it)."""
    import select

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no file descriptor (captured), or no poll
        return False


def _run(command: str, rest: list[str]) -> int:
    """Runs one subcommand; its modules are imported here, so that ``warplab --help`` and each
    command's ``--help`` do not wait for torch and Warp."""
    if command == "bench":
        import shlex

        from warplab.cli.bench import bench_command, parse_args

        return bench_command(parse_args(rest, "warplab bench"), shlex.join(["warplab", "bench", *rest]))
    if command == "list":
        if rest in (["-h"], ["--help"]):
            print("usage: warplab list\n\nThe registered tasks, one line each: name and description.")
            return 0
        if rest:
            raise OptionError(f"takes no arguments, got {' '.join(rest)!r} (warplab list --help)")
        from warplab.cli.commands import list_command

        return list_command()
    if command == "train":
        from warplab.cli.commands import TrainArgs, train_command

        args, unknown = parse_options(TrainArgs, rest, "warplab train", return_unknown_args=True)
        return train_command(args, unknown, argv=rest)
    if command == "sweep":
        from warplab.cli.sweep import SweepArgs, sweep_command
        from warplab.cli.sweep_space import split_space_args

        space, others = split_space_args(rest)
        args, unknown = parse_options(SweepArgs, others, "warplab sweep", return_unknown_args=True)
        return sweep_command(args, space, unknown)
    if command == "play":
        from warplab.cli.commands import PlayArgs, play_command

        args, unknown = parse_options(PlayArgs, rest, "warplab play", return_unknown_args=True)
        return play_command(args, unknown)
    if command == "export":
        from warplab.cli.commands import ExportArgs, export_command

        return export_command(parse_options(ExportArgs, rest, "warplab export"))
    if command == "sim2sim":
        from warplab.cli.sim2sim import Sim2SimArgs, sim2sim_command

        return sim2sim_command(parse_options(Sim2SimArgs, rest, "warplab sim2sim"))
    if command == "inspect":
        from warplab.cli.inspect import InspectArgs, inspect_command

        return inspect_command(parse_options(InspectArgs, rest, "warplab inspect"))
    print(f"warplab: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
