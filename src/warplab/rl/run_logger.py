"""Where a training run's numbers go: TensorBoard, W&B, and the console."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from warplab.rl.config import RunnerCfg


def import_wandb() -> Any:
    """Import W&B, or raise `ImportError` saying how to install it or turn it off."""
    try:
        return importlib.import_module("wandb")
    except ImportError as error:
        raise ImportError(
            "RunnerCfg.logger is 'wandb' but the wandb package is not installed: run `pip install wandb`, "
            "or choose --logger tensorboard"
        ) from error


class ScalarWriter:
    """Writes scalars to TensorBoard event files in `log_dir`, and to W&B when asked.

    With ``logger="none"`` or no `log_dir` it writes nothing. W&B runs also keep the TensorBoard
    files, so a run can be inspected offline either way.

    Args:
        log_dir: run folder, or None.
        cfg: the runner's settings (logger, wandb_project).
        config: the resolved config as a plain dict, sent to W&B.
    """

    def __init__(self, log_dir: Path | None, cfg: RunnerCfg, config: Mapping[str, Any]) -> None:
        self._tensorboard = None
        self._wandb = None
        if log_dir is None or cfg.logger == "none":
            return
        from torch.utils.tensorboard import SummaryWriter

        self._tensorboard = SummaryWriter(log_dir=str(log_dir), flush_secs=10)
        if cfg.logger == "wandb":
            wandb = import_wandb()
            self._wandb = wandb.init(
                project=cfg.wandb_project, name=log_dir.name, dir=str(log_dir), config=dict(config)
            )

    def write(self, scalars: Mapping[str, float], iteration: int) -> None:
        """Record ``{tag: value}`` at step `iteration`."""
        if self._tensorboard is not None:
            for tag, value in scalars.items():
                self._tensorboard.add_scalar(tag, value, iteration)
        if self._wandb is not None:
            self._wandb.log(dict(scalars), step=iteration)

    def flush(self) -> None:
        if self._tensorboard is not None:
            self._tensorboard.flush()

    def close(self) -> None:
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None
        if self._wandb is not None:
            self._wandb.finish()
            self._wandb = None


def _format_duration(seconds: float) -> str:
    seconds = int(max(seconds, 0.0))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ConsoleProgress:
    """Progress of one `learn()` call: a tqdm bar on a terminal, else one line every few iterations.

    Args:
        mode: "auto" (bar when stdout is a terminal), "bar", "lines" or "off".
        start: iteration the call starts from.
        num_iterations: iterations in this call.
        print_interval: in "lines" mode, print every this many iterations (and the last one).
    """

    def __init__(self, mode: str, start: int, num_iterations: int, print_interval: int) -> None:
        if mode == "auto":
            mode = "bar" if sys.stdout.isatty() else "lines"
        self.mode = mode
        self.start = start
        self.end = start + num_iterations
        self.print_interval = print_interval
        self._started = time.perf_counter()
        self._bar = None
        # Iterations in which no episode ends show the last known values.
        self._last: dict[str, float] = {}
        if mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=num_iterations, unit="it", dynamic_ncols=True, desc="train")

    def update(self, iteration: int, scalars: Mapping[str, float]) -> None:
        """Report that `iteration` iterations are done, with this iteration's scalars."""
        steps_per_s = scalars.get("Perf/total_steps_per_s", float("nan"))
        for key in ("Episode/return", "Episode/length"):
            if key in scalars:
                self._last[key] = scalars[key]
        ret = self._last.get("Episode/return")
        ret_text = f"{ret:.2f}" if ret is not None else "-"
        if self._bar is not None:
            self._bar.set_description(f"it {iteration}/{self.end}", refresh=False)
            self._bar.set_postfix_str(f"{steps_per_s:,.0f} steps/s, return {ret_text}", refresh=False)
            self._bar.update(1)
            return
        if self.mode != "lines":
            return
        done = iteration - self.start
        if done % self.print_interval != 0 and iteration != self.end:
            return
        elapsed = time.perf_counter() - self._started
        eta = elapsed / max(done, 1) * (self.end - iteration)
        length = self._last.get("Episode/length")
        length_text = f"{length:.1f}" if length is not None else "-"
        print(
            f"[warplab.rl] it {iteration}/{self.end} | {steps_per_s:,.0f} steps/s "
            f"(collect {scalars.get('Perf/collection_time_s', 0.0):.3g} s, "
            f"learn {scalars.get('Perf/learning_time_s', 0.0):.3g} s) | return {ret_text} | "
            f"length {length_text} | ETA {_format_duration(eta)}",
            flush=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
