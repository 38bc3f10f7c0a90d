"""What every CUDA graph capture in warplab needs around it, whichever layer captures (plain Python:
``warplab.rl`` imports it without Warp or MuJoCo)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def no_garbage_collection() -> Iterator[None]:
    """Collects Python's garbage now and holds the collector off until the block ends.

    A CUDA graph capture fails when anything else touches the device meanwhile, and the cyclic
    garbage collector runs whenever allocations tip it: if it then frees a torch ``CUDAGraph``
    left unreachable (an earlier runner's graphed update, say), the graph's destructor runs inside
    the capture and the capture, and with it the env's construction, fails ("operation not
    permitted when stream is capturing"). torch's own ``torch.cuda.graph`` collects before it
    captures for the same reason; Warp's ``ScopedCapture`` does not.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
