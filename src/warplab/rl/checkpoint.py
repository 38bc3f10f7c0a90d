"""Checkpoints: atomic writes, safe loads, RNG states, and clear errors for bad files.

A checkpoint is a dict of tensors and plain Python values, so it loads with
``torch.load(path, weights_only=True)``. `OnPolicyRunner.save` lists what goes into it.
"""

from __future__ import annotations

import io
import math
import random
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from torch import nn

from warplab._values import is_int as _is_int
from warplab.atomic_files import atomic_write

FORMAT_VERSION = 1
"""Bumped when the layout of a checkpoint changes in a way old code cannot read."""

REQUIRED_KEYS = ("format_version", "iteration", "model", "optimizer", "learning_rate", "rng", "config")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, not a warplab checkpoint, or does not fit the model."""


def _write_payload(payload: Mapping[str, Any], file: IO[bytes]) -> None:
    # The checkpoint is serialized in memory and then written: torch's zip writer, writing to a
    # file itself, turns a full disk into "RuntimeError: unexpected pos", where a plain write
    # raises the OSError that `atomic_write` reports as one line naming the file. (Also the one
    # seam for tests that simulate a crash in the middle of a write.)
    buffer = io.BytesIO()
    torch.save(dict(payload), buffer)
    file.write(buffer.getbuffer())


def save_checkpoint(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write `payload` to `path` atomically (`warplab.atomic_files.atomic_write`).

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and the file
    is then renamed over `path`. A process killed at any point leaves either the old checkpoint
    or the new one, never a partial file under `path`.

    Raises:
        CheckpointError: the payload's weights hold NaN or inf (`nonfinite_weights`); nothing is
            written and a file already at `path` is kept.
    """
    path = Path(path)
    bad = nonfinite_weights(payload)
    if bad:
        raise CheckpointError(
            f"refusing to write checkpoint {path}: {describe_nonfinite(bad)}; training has diverged "
            f"(lower the learning rate, or look for NaN in the observations or rewards). Earlier "
            f"checkpoints are kept as they were"
        )
    with atomic_write(path, "wb") as file:
        _write_payload(payload, file)
    return path


# Non-finite weights --------------------------------------------------------------------------------


def _walk_tensors(prefix: str, value: Any) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor in a nest of dicts, lists and tuples, as (dotted name, tensor)."""
    if isinstance(value, torch.Tensor):
        yield prefix, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk_tensors(f"{prefix}.{key}", item)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk_tensors(f"{prefix}.{i}", item)


def nonfinite_weights(checkpoint: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """The tensors of a checkpoint's weights that hold NaN or inf: ``[(name, n_nan, n_inf)]``.

    Looks at what a resume, an export or a play would use: ``model`` (the networks and their
    observation normalizers), ``optimizer`` (Adam's moments) and ``learning_rate``. Names are dotted
    paths, e.g. ``model.actor.0.weight`` or ``optimizer.state.3.exp_avg``. The env's saved state is
    not looked at: it is the simulation's, and the env checks what it restores.
    """
    bad = []
    for part in ("model", "optimizer"):
        for name, tensor in _walk_tensors(part, checkpoint.get(part)):
            if not tensor.is_floating_point() and not tensor.is_complex():
                continue
            nan = int(torch.isnan(tensor).sum())
            inf = int(torch.isinf(tensor).sum())
            if nan or inf:
                bad.append((name, nan, inf))
    rate = checkpoint.get("learning_rate")
    if isinstance(rate, (int, float)) and not math.isfinite(rate):
        bad.append(("learning_rate", int(math.isnan(rate)), int(math.isinf(rate))))
    return bad


def describe_nonfinite(bad: list[tuple[str, int, int]], shown: int = 5) -> str:
    """``non-finite values in model.actor.0.weight (13 NaN), ... and 4 more tensors``."""
    parts = []
    for name, nan, inf in bad[:shown]:
        counts = [f"{n} {what}" for n, what in ((nan, "NaN"), (inf, "inf")) if n]
        parts.append(f"{name} ({', '.join(counts)})")
    more = f" and {len(bad) - shown} more tensors" if len(bad) > shown else ""
    return f"non-finite values in {', '.join(parts)}{more}"


def check_finite_weights(path: str | Path, checkpoint: Mapping[str, Any]) -> None:
    """Raise `CheckpointError` naming `path` and the tensors when the weights hold NaN or inf, or an
    observation normalizer holds a negative variance or count (its ``sqrt(var + epsilon)`` would
    give NaN actions for every observation)."""
    bad = nonfinite_weights(checkpoint)
    if bad:
        raise CheckpointError(
            f"checkpoint {path}: {describe_nonfinite(bad)}; it cannot be resumed, exported or played "
            f"(training had diverged when it was saved): use an earlier checkpoint"
        )
    negative = [
        f"model.{name} ({int((tensor < 0).sum())} < 0)"
        for name, tensor in checkpoint["model"].items()
        if name.endswith(("normalizer.var", "normalizer.count")) and bool((tensor < 0).any())
    ]
    if negative:
        raise CheckpointError(
            f"checkpoint {path}: negative normalizer statistics in {', '.join(negative)}; a variance or "
            f"count is never negative in a checkpoint warplab wrote: use another checkpoint"
        )


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint onto the CPU with ``weights_only=True`` and check its top-level layout.

    Raises:
        CheckpointError: the file is missing, truncated or corrupt, is not a warplab checkpoint
            of a format this code reads, or its weights hold NaN or inf (`check_finite_weights`).
            The message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with warnings.catch_warnings():
            # A plain pickle of a newer protocol is refused below in one line; torch's warning
            # about the protocol would only come before it.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
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
    _check_layout(path, checkpoint)
    check_finite_weights(path, checkpoint)
    return checkpoint


def _check_layout(path: Path, checkpoint: Mapping[str, Any]) -> None:
    """Raise `CheckpointError` when a top-level entry has a type `OnPolicyRunner.save` never writes.

    A file edited or made by hand could otherwise fail deep inside the network's construction or the
    optimizer's state, with an error that names neither the file nor the entry.
    """
    problems = []
    model = checkpoint["model"]
    if not isinstance(model, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in model.items()
    ):
        problems.append("'model' must map parameter names to tensors")
    for key in ("optimizer", "rng", "config"):
        if not isinstance(checkpoint[key], Mapping):
            problems.append(f"'{key}' must be a dict, got {type(checkpoint[key]).__name__}")
    if not _is_int(checkpoint["iteration"]) or checkpoint["iteration"] < 0:
        problems.append(f"'iteration' must be an integer >= 0, got {checkpoint['iteration']!r}")
    rate = checkpoint["learning_rate"]
    # A NaN or infinite rate is reported with the weights (`nonfinite_weights`).
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or (math.isfinite(rate) and rate <= 0):
        problems.append(f"'learning_rate' must be a number > 0, got {rate!r}")
    action_dim = checkpoint.get("action_dim")
    if action_dim is not None and (not _is_int(action_dim) or action_dim < 1):
        problems.append(f"'action_dim' must be a positive integer, got {action_dim!r}")
    shapes = checkpoint.get("obs_shapes")
    if shapes is not None and not (
        isinstance(shapes, Mapping)
        and all(
            isinstance(shape, (list, tuple)) and all(_is_int(n) and n > 0 for n in shape)
            for shape in shapes.values()
        )
    ):
        problems.append(f"'obs_shapes' must map groups to lists of positive sizes, got {str(shapes)[:100]}")
    if problems:
        raise CheckpointError(f"checkpoint {path} is not a warplab checkpoint: {'; '.join(problems)}")


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
    if path.suffix == ".onnx":
        return (
            "it is an ONNX policy (for `warplab sim2sim` and warplab.deploy.Policy), not a checkpoint; "
            "give the model_<iteration>.pt written beside it"
        )
    with open(path, "rb") as file:
        head = file.read(4)
    if head[:1] == b"\x80" and head != b"PK\x03\x04":
        # A pickle that is not torch's zip format and that weights_only loading could not read: a
        # plain `pickle.dump`, not a checkpoint. It is never unpickled another way.
        return (
            f"the file is a Python pickle that weights_only=True loading cannot read ({detail[:200]}), not "
            f"a checkpoint written by warplab; warplab never unpickles arbitrary objects, since a pickle "
            f"can run code"
        )
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
    config = checkpoint.get("config", {})
    # SAC and TD3 keep their network settings in sac_policy, PPO in policy.
    networks = "sac_policy" if config.get("algorithm") in ("sac", "td3") else "policy"
    saved_policy = config.get(networks, {})
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
        policy_cfg: this model's `PolicyCfg` (or `SacPolicyCfg`) as a plain dict, to say which
            setting differs.
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
