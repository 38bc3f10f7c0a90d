"""Shared setup of the warplab.rl tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

try:
    import warplab.rl  # noqa: F401
except ImportError:
    # Not installed (no `pip install -e .` yet): import from the source tree.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machines share two cores; one thread is also faster for these tiny networks.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
