"""What counts as a number in a config, checkpoint or policy file: the checks every layer shares.

Plain Python only (no numpy, torch or Warp), so the robot-side runtime can use it. ``bool`` is an
``int`` to Python but never a number here: ``True`` where a count or a gain belongs is a mistake.
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard


def is_int(value: Any) -> TypeGuard[int]:
    """An ``int`` that is not a ``bool``."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> TypeGuard[int | float]:
    """An ``int`` or ``float`` that is not a ``bool`` (NaN and infinities included)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """A number (``is_number``) that is neither NaN nor infinite."""
    return is_number(value) and math.isfinite(value)
