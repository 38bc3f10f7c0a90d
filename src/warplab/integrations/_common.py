"""Pieces the adapters share: the import error, the time-out flag and the observation groups."""

from __future__ import annotations

import torch

INSTALL_HINT = 'pip install "warplab[integrations]"'


def missing_library(library: str, module: str, error: ImportError) -> ImportError:
    """The ImportError an adapter raises when ``library`` (imported as ``module``) is not installed."""
    return ImportError(
        f"warplab.integrations.{module} needs {library}, which could not be imported ({error}). "
        f"Install it with: {INSTALL_HINT}"
    )


def time_outs(terminated: torch.Tensor, truncated: torch.Tensor) -> torch.Tensor:
    """Worlds whose episode was cut by the time limit and did not also terminate.

    A world that terminates on the step its time runs out has reached a terminal state: its value
    must not be bootstrapped, so it is not a time-out here (as in ``warplab.rl``).

    Args:
      terminated: ``[num_envs]`` bool. truncated: ``[num_envs]`` bool. Same device.

    Returns: ``[num_envs]`` bool, on the same device.
    """
    return truncated & ~terminated


def check_group(env, group: str, role: str) -> None:
    """Raises ``ValueError`` naming the env's observation groups when ``group`` is not one of them."""
    if group not in env.observation_shapes:
        raise ValueError(
            f"{role}: the env has no observation group {group!r}; its groups are "
            f"{sorted(env.observation_shapes)}"
        )


def default_critic_group(env) -> str | None:
    """``"critic"`` when the env has that observation group, else None (a symmetric critic)."""
    return "critic" if "critic" in env.observation_shapes else None
