"""Shared setup of the warplab.rl tests."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import warplab.rl  # noqa: F401
except ImportError:
    # Not installed (no `pip install -e .` yet): import from the source tree.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
