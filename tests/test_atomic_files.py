"""Files written whole or not at all: ``warplab.atomic_files`` and every writer that uses it.

A kill or a failure in the middle of a write must leave the previous file byte for byte, and a
writer that fails (rather than being killed) must leave no temporary file. The kills here are
real: a child process gets a file-size limit (``RLIMIT_FSIZE``) and dies of ``SIGXFSZ`` at the
first write past it, i.e. part-way through the file, exactly where a ``kill -9`` or a full disk
would catch it. The last tests scan ``src/warplab`` and ``benchmarks`` so that a new writer that
bypasses the helper fails here.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from warplab.atomic_files import FileWriteError, atomic_path, atomic_write, atomic_write_json, temp_path_for

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 64 * 1024
"""Bytes a child may write to one file before the kernel stops it."""


def _temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".tmp-" in p.name)


# The helper itself -------------------------------------------------------------------------------


def test_temp_name_is_hidden_beside_the_file_and_keeps_its_suffix(tmp_path):
    tmp = temp_path_for(tmp_path / "video.mp4")
    assert tmp.parent == tmp_path and tmp.name.startswith(".video.tmp-") and tmp.suffix == ".mp4"
    assert temp_path_for(tmp_path / "video.mp4") != tmp  # Two writers of one file never share it.


def test_json_lands_whole_in_a_new_folder(tmp_path):
    out = atomic_write_json(tmp_path / "a" / "b" / "report.json", {"x": [1, 2]})
    assert out.read_text() == '{\n  "x": [\n    1,\n    2\n  ]\n}\n'
    assert _temps(out.parent) == []


def test_a_writer_that_fails_part_way_keeps_the_previous_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the good policy")
    with pytest.raises(OSError, match="disk full"), atomic_write(path) as file:
        file.write(b"half of a new pol")
        raise OSError("disk full")
    assert path.read_bytes() == b"the good policy"
    assert _temps(tmp_path) == []


def test_an_interrupt_keeps_the_previous_file(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{}\n")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as tmp:
        tmp.write_text('{"half": ')
        raise KeyboardInterrupt
    assert path.read_text() == "{}\n" and _temps(tmp_path) == []


def test_a_writer_that_writes_nothing_is_an_error_not_an_empty_file(tmp_path):
    path = tmp_path / "video.mp4"
    path.write_bytes(b"old video")
    with pytest.raises(RuntimeError, match="created no file"), atomic_path(path):
        pass
    assert path.read_bytes() == b"old video"


def test_a_name_that_cannot_be_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "video.mp4").mkdir()
    with pytest.raises(FileWriteError, match=r"cannot write .*video\.mp4: it is a folder; give a file name"):
        atomic_write_json(tmp_path / "video.mp4", {})
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(
        FileWriteError, match=r"cannot write .*notes\.txt/report\.json: File exists|Not a directory"
    ):
        atomic_write_json(tmp_path / "notes.txt" / "report.json", {})
    assert (tmp_path / "notes.txt").read_text() == "a file"


# Real writers killed or failing part-way, in a child process ---------------------------------------


def _run_limited(
    setup: str, write: str, out: Path, die: bool, limit: int = LIMIT
) -> subprocess.CompletedProcess:
    """Runs `setup`, then `write` (which writes to ``OUT``) under a file-size limit of `limit` bytes.

    With `die`, the kernel kills the child (SIGXFSZ) at its first write past the limit; otherwise
    that write fails with ``OSError: [Errno 27] File too large`` (Python ignores SIGXFSZ).
    """
    code = "\n".join(
        [
            "import resource, signal",
            "from pathlib import Path",
            f"OUT = Path({str(out)!r})",
            textwrap.dedent(setup),
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))",
            f"signal.signal(signal.SIGXFSZ, signal.{'SIG_DFL' if die else 'SIG_IGN'})",
            textwrap.dedent(write),
        ]
    )
    # No .pyc files: a byte-code cache written past the limit would end the child too early.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def _check_outcome(result, path: Path, good: bytes, die: bool) -> None:
    if die:
        assert result.returncode == -signal.SIGXFSZ, result.stderr[-2000:]
        # Killed part-way: the temporary file holds exactly what the kernel let through.
        (tmp,) = _temps(path.parent)
        assert tmp.stat().st_size == LIMIT and tmp.suffix == path.suffix
    else:
        # A failing write is one line naming the file, not the temporary file's name.
        expected = f"FileWriteError: cannot write {path}: File too large; nothing was written there"
        assert result.returncode == 1 and expected in result.stderr, result.stderr[-2000:]
        assert _temps(path.parent) == []
    assert path.read_bytes() == good


CHECKPOINT_SETUP = """
import torch
from warplab.rl.checkpoint import save_checkpoint

def payload(iteration, size):
    return {"format_version": 1, "iteration": iteration, "model": {"w": torch.ones(size)},
            "optimizer": {}, "learning_rate": 1e-3, "rng": {}, "config": {}}
"""


@pytest.mark.parametrize("die", [True, False], ids=["killed", "failed"])
def test_checkpoint_save_killed_or_failing_mid_write_keeps_the_previous_checkpoint(tmp_path, die):
    from warplab.rl.checkpoint import load_checkpoint, save_checkpoint

    path = tmp_path / "model_1.pt"
    save_checkpoint(path, _small_payload(iteration=1))
    good = path.read_bytes()
    result = _run_limited(CHECKPOINT_SETUP, "save_checkpoint(OUT, payload(2, 1_000_000))", path, die)
    _check_outcome(result, path, good, die)
    assert load_checkpoint(path)["iteration"] == 1


def _small_payload(iteration: int) -> dict:
    import torch

    return {
        "format_version": 1,
        "iteration": iteration,
        "model": {"w": torch.ones(4)},
        "optimizer": {},
        "learning_rate": 1e-3,
        "rng": {},
        "config": {},
    }


EXPORT_SETUP = """
from warplab.deploy.export import export_onnx
from warplab.rl import ActorCritic, PolicyCfg

# About 1.2 MB of weights: the ONNX file is far larger than the limit.
model = ActorCritic({"policy": (64,)}, 8, PolicyCfg(actor_hidden_dims=(512, 512), critic_hidden_dims=(16,)))
"""


@pytest.mark.parametrize("die", [True, False], ids=["killed", "failed"])
def test_export_killed_or_failing_mid_write_keeps_the_previous_policy_with_its_metadata(tmp_path, die):
    # The reported failure: a kill during `warplab export` over model_N.onnx left a 0-byte file, and
    # a kill between the graph and its metadata left a graph without metadata under the final name.
    import onnx

    from warplab.deploy.export import export_onnx
    from warplab.rl import ActorCritic, PolicyCfg

    path = tmp_path / "model_1.onnx"
    small = ActorCritic({"policy": (64,)}, 8, PolicyCfg(actor_hidden_dims=(8,), critic_hidden_dims=(8,)))
    export_onnx(small, 64, path, {"task": "the good one"})
    good = path.read_bytes()
    result = _run_limited(EXPORT_SETUP, 'export_onnx(model, 64, OUT, {"task": "new"})', path, die)
    _check_outcome(result, path, good, die)
    assert {p.key: p.value for p in onnx.load(str(path)).metadata_props} == {"task": '"the good one"'}


TRAINING_SETUP = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
from rl.helpers import make_runner

runner = make_runner(OUT.parent, save_interval=1, logger="none")
runner.learn(1)  # model_1.pt, before the limit
"""


def test_a_disk_that_fills_during_training_stops_it_with_one_line_and_keeps_the_checkpoints(tmp_path):
    # The next checkpoint (about 20 kB) is larger than the limit: its write fails as on a full disk.
    path = tmp_path / "model_2.pt"
    result = _run_limited(TRAINING_SETUP, "runner.learn(1)", path, die=False, limit=4096)
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f"warplab.atomic_files.FileWriteError: cannot write {path}: File too large; nothing was written "
        "there (a file already there is kept)"
    )
    from warplab.rl.checkpoint import load_checkpoint

    assert load_checkpoint(tmp_path / "model_1.pt")["iteration"] == 1
    assert not path.exists() and _temps(tmp_path) == []


def test_video_that_fails_mid_encode_keeps_the_previous_video(tmp_path):
    from warplab.viz.video import write_mp4

    frames = [np.full((64, 64, 3), 40 * i, dtype=np.uint8) for i in range(5)]
    path = write_mp4(frames, tmp_path / "video.mp4", fps=25)
    good = path.read_bytes()
    assert good[4:8] == b"ftyp"  # An MP4: the temporary name kept the suffix the encoder reads.
    # A frame of another size half-way through makes the encoder raise after frames were written.
    with pytest.raises(Exception):  # noqa: B017 - imageio raises ValueError or OSError by version.
        write_mp4([*frames, np.zeros((32, 32, 3), dtype=np.uint8), *frames], path, fps=25)
    assert path.read_bytes() == good
    assert _temps(tmp_path) == []


# Every writer goes through the helper ---------------------------------------------------------------

# Calls that create or overwrite a file, by the name of the function called.
_WRITERS_ANY = {
    "write_text",
    "write_bytes",
    "savefig",
    "tofile",
    "get_writer",
    "imwrite",
    "mimwrite",
    "mimsave",
    "imsave",
    "to_csv",
    "to_pickle",
    "to_parquet",
    "touch",
    "SummaryWriter",
    "mj_saveLastXML",
    "mj_saveModel",
    "copyfile",
    "copy2",
    "copytree",
}
# The same for names too common to flag on any object: only when called on these modules.
_WRITERS_OF_MODULES = {
    "save": {"torch", "onnx", "np", "numpy", "pickle", "joblib"},
    "save_model": {"onnx"},
    "savez": {"np", "numpy"},
    "savez_compressed": {"np", "numpy"},
    "dump": {"json", "pickle", "yaml", "joblib", "torch"},
    "export": {"torch"},
    "copy": {"shutil"},
    "move": {"shutil"},
    "rename": {"os"},
    "replace": {"os"},
}
_ATOMIC_CONTEXTS = {"atomic_path", "atomic_write"}

ALLOWED = {
    # TensorBoard appends to its own event files while a run goes; a run killed half-way keeps the
    # events written so far, which is what a log is for.
    ("src/warplab/rl/run_logger.py", "SummaryWriter"),
    ("benchmarks/mjlab_g1.py", "SummaryWriter"),
    # torch.save serializes a checkpoint into an in-memory buffer, which save_checkpoint then
    # writes into the temporary file that atomic_write gives it.
    ("src/warplab/rl/checkpoint.py", "torch.save"),
    # The ONNX graph is exported into an in-memory buffer; the file is written by atomic_write_bytes.
    ("src/warplab/deploy/export.py", "torch.onnx.export"),
    # A progress log written as the libraries run, so that a killed benchmark still says what happened.
    ("benchmarks/libraries.py", "open"),
}


def _name(func: ast.expr) -> tuple[str, str]:
    """(the called name, its dotted form): ``torch.onnx.export`` -> ("export", "torch.onnx.export")."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    elif isinstance(func, ast.Call):
        parts.append(_name(func.func)[1] + "()")
    return (parts[0] if parts else "", ".".join(reversed(parts)))


def _open_mode(call: ast.Call, dotted: str) -> str | None:
    """The mode of ``open(path, mode)`` / ``path.open(mode)``; '?' when not a literal."""
    position = 1 if dotted == "open" else 0
    node = call.args[position] if len(call.args) > position else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            node = keyword.value
    if node is None:
        return "r"
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "?"


def _is_write(call: ast.Call) -> str | None:
    """The dotted name of `call` when it creates or overwrites a file, else None."""
    name, dotted = _name(call.func)
    root = dotted.split(".")[0]
    if name == "open" and root not in ("os", "tarfile", "zipfile", "gzip", "Image", "webbrowser"):
        mode = _open_mode(call, dotted)
        return dotted if mode == "?" or set(mode) & set("wax+") else None
    if dotted == "os.open":
        if call.args and ast.unparse(call.args[0]) == "os.devnull":
            return None  # Nothing is kept: the null device is not a file that could be torn.
        flags = ast.unparse(call.args[1]) if len(call.args) > 1 else ""
        return dotted if any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND")) else None
    if name in _WRITERS_ANY:
        return dotted
    if name in _WRITERS_OF_MODULES and root in _WRITERS_OF_MODULES[name]:
        return dotted
    if name in ("replace", "rename") and len(call.args) == 1 and not call.keywords and root != "dataclasses":
        return dotted  # Path.replace(target) / Path.rename(target); str.replace takes two arguments.
    return None


def unsafe_writes(source: str) -> list[tuple[int, str]]:
    """``[(line, call)]`` of the file writes in `source` not made inside ``with atomic_path/atomic_write``."""
    found = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                visit(item.context_expr, guarded)
                if (
                    isinstance(item.context_expr, ast.Call)
                    and _name(item.context_expr.func)[0] in _ATOMIC_CONTEXTS
                ):
                    guarded = True  # Later items and the body write into the temporary file.
            for child in node.body:
                visit(child, guarded)
            return
        if isinstance(node, ast.Call) and not guarded:
            dotted = _is_write(node)
            if dotted is not None:
                found.append((node.lineno, dotted))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(ast.parse(source), False)
    return found


def test_the_scan_finds_each_kind_of_write():
    # The scan must be able to fail: each of these is a write that bypasses the helper.
    unsafe = """
        open(p, "w").write(x)
        with open(p, mode="ab") as f: f.write(x)
        with p.open("w") as f: json.dump(x, f)
        p.write_text(s); p.write_bytes(b); tmp.replace(p); os.replace(a, b)
        torch.save(x, p); onnx.save(m, p); np.save(p, x); plt.savefig(p)
        imageio.get_writer(p); torch.onnx.export(m, a, p); shutil.copy(a, b)
        os.open(p, os.O_WRONLY | os.O_CREAT)
    """
    found = [call for _, call in unsafe_writes(textwrap.dedent(unsafe))]
    assert found == [
        "open", "open", "p.open", "json.dump", "p.write_text", "p.write_bytes", "tmp.replace", "os.replace",
        "torch.save", "onnx.save", "np.save", "plt.savefig", "imageio.get_writer", "torch.onnx.export",
        "shutil.copy", "os.open",
    ]  # fmt: skip
    safe = """
        open(p).read(); open(p, "rb"); s.replace("a", "b"); dataclasses.replace(c, x=1)
        with atomic_path(p) as tmp, imageio.get_writer(tmp) as w: w.append_data(f)
        with atomic_files.atomic_write(p, "w") as f: json.dump(x, f)
        with atomic_path(p) as tmp: plt.savefig(tmp)
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    """
    assert unsafe_writes(textwrap.dedent(safe)) == []


def test_every_file_is_written_through_the_atomic_helper():
    files = sorted((ROOT / "src" / "warplab").rglob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))
    files = [f for f in files if f.name != "atomic_files.py"]  # The helper's own rename and fsync.
    seen, problems = set(), []
    for file in files:
        relative = file.relative_to(ROOT).as_posix()
        for line, call in unsafe_writes(file.read_text()):
            if (relative, call) in ALLOWED:
                seen.add((relative, call))
            else:
                problems.append(f"{relative}:{line}: {call}")
    assert not problems, (
        "these calls write a file without warplab.atomic_files (a kill mid-write would leave a torn "
        "file); write through atomic_path / atomic_write / atomic_write_*, or add the call to ALLOWED "
        "with the reason:\n" + "\n".join(problems)
    )
    assert seen == ALLOWED, f"ALLOWED names calls that are gone: {sorted(ALLOWED - seen)}"


def test_an_output_that_is_an_input_is_refused_under_any_name(tmp_path):
    from warplab.atomic_files import check_not_an_input

    policy = tmp_path / "policy.onnx"
    policy.write_bytes(b"the trained policy")
    os.link(policy, tmp_path / "hard.onnx")
    for out in (policy, tmp_path / "sub" / ".." / "policy.onnx", tmp_path / "hard.onnx"):
        with pytest.raises(FileWriteError, match=r"it is the --policy file being read \(.*policy\.onnx\)"):
            check_not_an_input(out, {"--model file": None, "--policy file": policy})
    check_not_an_input(tmp_path / "report.json", {"--policy file": policy})  # Another file: no error.
    assert policy.read_bytes() == b"the trained policy"
