"""Checkpoints: atomic writes, safe loads, RNG states, and clear errors for bad files.

A checkpoint is a dict of tensors and plain Python values, so it loads with
``torch.load(path, weights_only=True)``. `OnPolicyRunner.save` lists what goes into it.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from torch import nn

FORMAT_VERSION = 1
"""Bumped when the layout of a checkpoint changes in a way old code cannot read."""

REQUIRED_KEYS = ("format_version", "iteration", "model", "optimizer", "learning_rate", "rng", "config")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, not a warplab checkpoint, or does not fit the model."""


def _write_payload(payload: Mapping[str, Any], file: BinaryIO) -> None:
    # One seam for tests that simulate a crash in the middle of a write.
    torch.save(dict(payload), file)


def save_checkpoint(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write `payload` to `path` atomically.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and the file
    is then renamed over `path` with `os.replace` (atomic on POSIX and Windows within one file
    system). A process killed at any point leaves either the old checkpoint or the new one,
    never a partial file under `path`; a stale temporary file may stay behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as file:
            _write_payload(payload, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # Persist the rename itself; not every platform lets a folder be opened for this.
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU with ``weights_only=True`` and check its top-level layout.

    Raises:
        CheckpointError: the file is missing, truncated or corrupt, or is not a warplab checkpoint
            of a format this code reads. The message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for bad bytes
        raise CheckpointError(
            f"checkpoint {path} cannot be read: {_describe_load_error(path, error)}"
        ) from error
    if not isinstance(checkpoint, dict):
        raise CheckpointError(
            f"checkpoint {path} holds a {type(checkpoint).__name__}, not a warplab checkpoint dict"
        )
    missing = [key for key in REQUIRED_KEYS if key not in checkpoint]
    if missing:
        raise CheckpointError(f"checkpoint {path} is not a warplab checkpoint: it lacks the keys {missing}")
    if checkpoint["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format_version {checkpoint['format_version']!r}; this warplab reads "
            f"version {FORMAT_VERSION}"
        )
    return checkpoint


def _describe_load_error(path: Path, error: Exception) -> str:
    """Say in one line why `torch.load` failed, without torch's advice on weights_only=False."""
    text = str(error)
    size = path.stat().st_size
    if size == 0:
        return "the file is empty (0 bytes)"
    if "WeightsUnpickler error:" in text:
        detail = text.split("WeightsUnpickler error:", 1)[1].strip().split("\n")[0].strip()
        if "Unsupported global" in detail:
            detail = detail.split(" was not an allowed global")[0]
            return (
                f"the file holds Python objects that weights_only=True loading refuses ({detail[:200]}); "
                f"warplab checkpoints hold only tensors and plain values"
            )
    else:
        detail = text.strip().split("\n")[0].split(". ")[0].strip()
    return f"the file is truncated or corrupt ({size} bytes; {type(error).__name__}: {detail[:200]})"


# RNG states ----------------------------------------------------------------------------------------


def capture_rng_states() -> dict[str, Any]:
    """RNG states of torch (CPU and every CUDA device), numpy's global RNG and Python's `random`.

    Stored as tensors and plain values so they survive ``weights_only=True``: numpy's key array
    becomes an int64 tensor; Python's state is a tuple of ints, which loads as is.
    """
    np_state = np.random.get_state(legacy=False)
    return {
        "torch": torch.get_rng_state(),
        "torch_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "python": random.getstate(),
    }


def restore_rng_states(states: Mapping[str, Any]) -> None:
    """Inverse of `capture_rng_states`. CUDA states are restored only when CUDA is available."""
    torch.set_rng_state(states["torch"].cpu())
    cuda_states = states.get("torch_cuda", [])
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([state.cpu() for state in cuda_states[: torch.cuda.device_count()]])
    np_state = states["numpy"]
    np.random.set_state(
        {
            "bit_generator": np_state["bit_generator"],
            "state": {"key": np_state["key"].numpy().astype(np.uint32), "pos": np_state["pos"]},
            "has_gauss": np_state["has_gauss"],
            "gauss": np_state["gauss"],
        }
    )
    python_state = states["python"]
    random.setstate((python_state[0], tuple(python_state[1]), python_state[2]))


# Model compatibility -------------------------------------------------------------------------------


def _as_list(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def _explain_mismatch(checkpoint: Mapping[str, Any], model: nn.Module, policy_cfg: Mapping[str, Any]) -> str:
    """Why the checkpoint's network differs from `model`, from the settings saved in both."""
    reasons = []
    saved_shapes = checkpoint.get("obs_shapes")
    model_shapes = {name: list(shape) for name, shape in getattr(model, "obs_shapes", {}).items()}
    if saved_shapes is not None:
        saved_shapes = {name: list(shape) for name, shape in saved_shapes.items()}
        if saved_shapes != model_shapes:
            reasons.append(
                f"the checkpoint was trained on observation shapes {saved_shapes}, this env has {model_shapes}"
            )
    saved_action_dim = checkpoint.get("action_dim")
    if saved_action_dim is not None and saved_action_dim != getattr(model, "action_dim", saved_action_dim):
        reasons.append(
            f"the checkpoint was trained with action_dim={saved_action_dim}, this env has {model.action_dim}"
        )
    saved_policy = checkpoint.get("config", {}).get("policy", {})
    for key in (
        "actor_hidden_dims",
        "critic_hidden_dims",
        "actor_obs_normalization",
        "critic_obs_normalization",
    ):
        if (
            key in saved_policy
            and key in policy_cfg
            and _as_list(saved_policy[key]) != _as_list(policy_cfg[key])
        ):
            reasons.append(
                f"the checkpoint was trained with {key}={_as_list(saved_policy[key])} "
                f"(this model has {_as_list(policy_cfg[key])})"
            )
    return "; ".join(reasons) if reasons else "the saved settings do not say why"


def check_model_state(
    path: str | Path, checkpoint: Mapping[str, Any], model: nn.Module, policy_cfg: Mapping[str, Any]
) -> None:
    """Raise `CheckpointError` unless ``checkpoint["model"]`` has exactly `model`'s keys and shapes.

    Args:
        path: the checkpoint's file, for the message.
        checkpoint: the loaded checkpoint.
        model: the network about to receive the weights.
        policy_cfg: this model's `PolicyCfg` as a plain dict, to say which setting differs.
    """
    saved = checkpoint["model"]
    expected = model.state_dict()
    missing = [key for key in expected if key not in saved]
    unexpected = [key for key in saved if key not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"this model has {missing} but the checkpoint does not")
        if unexpected:
            parts.append(f"the checkpoint has {unexpected} but this model does not")
        raise CheckpointError(
            f"checkpoint {path} does not fit this policy: {'; '.join(parts)}: "
            f"{_explain_mismatch(checkpoint, model, policy_cfg)}"
        )
    for key, tensor in expected.items():
        if tuple(saved[key].shape) != tuple(tensor.shape):
            raise CheckpointError(
                f"checkpoint {path} does not fit this policy: policy layer {key} has shape "
                f"{list(saved[key].shape)} in the checkpoint but {list(tensor.shape)} in this model: "
                f"{_explain_mismatch(checkpoint, model, policy_cfg)}"
            )
