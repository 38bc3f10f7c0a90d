"""Terms only the drawer task uses. The rest it shares with the door task (``tasks.handle_mdp``)."""

from __future__ import annotations

from warplab.tasks.handle_mdp import TargetOpeningCommand


class TargetTravelCommand(TargetOpeningCommand):
    """How far to pull the drawer out: a ``TargetOpeningCommand`` of a slide joint, m, drawn from
    ``travel``.

    Params: ``travel``: ``(low, high)`` m; ``joint``: the drawer's slide joint.
    """

    components = ("travel",)
    range_param = "travel"


__all__ = ["TargetTravelCommand"]
