"""Setup shared by every test of warplab."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    # The test machines share two cores, and the worlds and networks in tests are small: one torch
    # thread is enough, and faster than threads fighting over the cores.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
