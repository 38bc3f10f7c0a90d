"""``warplab export`` over an existing policy when the file cannot be written whole."""

from __future__ import annotations

import os
import subprocess
import sys

# The command runs in a child process whose files may not grow past 4 kB (RLIMIT_FSIZE): the
# cart-pole's ONNX file (about 9 kB) then fails part-way through, as on a full disk.
CHILD = """
import resource, sys
from warplab.cli.main import main
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
sys.exit(main(sys.argv[1:]))
"""


def test_export_onto_a_full_disk_is_one_line_and_keeps_the_previous_policy(
    tmp_path, cartpole_checkpoint, cartpole_onnx
):
    out = tmp_path / "policy.onnx"
    out.write_bytes(cartpole_onnx.read_bytes())
    good = out.read_bytes()
    argv = ["export", "--checkpoint", str(cartpole_checkpoint), "--out", str(out)]
    # No byte-code files: one written past the limit would fail the child before the export does.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"warplab export: error: cannot write {out}: File too large; nothing was written there "
        "(a file already there is kept)"
    )
    assert out.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.onnx"]


def test_export_onto_its_own_checkpoint_is_refused_and_keeps_it(tmp_path, cartpole_checkpoint, capsys):
    # `--out` naming the checkpoint (here through a link) would replace the trained weights by ONNX.
    from warplab.cli.main import main
    from warplab.rl.checkpoint import load_checkpoint

    checkpoint = tmp_path / "model_1.pt"
    checkpoint.write_bytes(cartpole_checkpoint.read_bytes())
    good = checkpoint.read_bytes()
    (tmp_path / "link.pt").symlink_to(checkpoint)
    for out in (checkpoint, tmp_path / "link.pt"):
        argv = ["export", "--checkpoint", str(checkpoint), "--out", str(out)]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err == (
            f"warplab export: error: cannot write {out}: it is the checkpoint being read ({checkpoint}); "
            "give another file name (nothing was written)"
        )
    assert checkpoint.read_bytes() == good
    assert load_checkpoint(checkpoint)["iteration"] == 1
