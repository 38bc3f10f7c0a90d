"""Small mesh files the importer tests write: a cube as OBJ, and binary STL files of any size."""

from __future__ import annotations

import struct

# A cube of edge 0.1 m as an OBJ file: 8 vertices, 12 triangles.
CUBE_OBJ = "\n".join(
    [f"v {x} {y} {z}" for x in (-0.05, 0.05) for y in (-0.05, 0.05) for z in (-0.05, 0.05)]
    + ["f 1 2 4 3", "f 5 7 8 6", "f 1 5 6 2", "f 3 4 8 7", "f 1 3 7 5", "f 2 6 8 4"]
)


def binary_stl(path, triangles: int) -> None:
    """Writes a binary STL of ``triangles`` small triangles."""
    # A header, a triangle count, then 50 bytes per triangle (normal, 3 corners, attribute).
    tri = struct.pack("<12fH", 0, 0, 1, 0, 0, 0, 0.05, 0, 0, 0, 0.05, 0, 0)
    corner = struct.pack("<12fH", 0, 0, 1, 0, 0, 0.05, 0.05, 0, 0, 0, 0.05, 0, 0)
    with open(path, "wb") as f:
        f.write(
            b"\0" * 80
            + struct.pack("<I", triangles)
            + (tri + corner) * (triangles // 2)
            + tri * (triangles % 2)
        )


def inspect_error(capsys, *args: str) -> str:
    """Runs ``warplab inspect ARGS`` and returns its one-line error, after checking that it is one:
    exit status 2, ``warplab inspect: error: `` on one line of stderr, no traceback."""
    from warplab.cli.main import main

    assert main(["inspect", *args]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warplab inspect: error: "), err
    assert "Traceback" not in err and out == ""
    return lines[0]
