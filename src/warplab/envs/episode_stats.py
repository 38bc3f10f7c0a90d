"""Statistics of finished episodes, accumulated on the device and read once per iteration."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.managers.protocols import CommandTerm, overrides

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class EpisodeStats:
    """Sums of returns, lengths, reward terms and termination causes over finished episodes."""

    def __init__(self, env: RlEnv):
        self._env = env
        dev = env.device
        n = env.num_envs
        self.episode_return = torch.zeros(n, device=dev)
        """Undiscounted return of each world's current episode ``[num_envs]``."""
        self._finished = torch.zeros((), dtype=torch.int64, device=dev)
        self._sum_return = torch.zeros((), dtype=torch.float64, device=dev)
        self._sum_length = torch.zeros((), dtype=torch.float64, device=dev)
        self._sum_terms = torch.zeros(len(env.reward_manager.names), dtype=torch.float64, device=dev)
        self._sum_causes = torch.zeros(len(env.termination_manager.names), dtype=torch.int64, device=dev)
        # Totals seen at the last ``pop`` (tensors, so that an exact save of the env holds them).
        self._last_nan = torch.zeros((), dtype=torch.int64, device=dev)
        self._last_bad_actions = torch.zeros((), dtype=torch.int64, device=dev)
        # Commands that log (a success count), found once.
        self._logging_commands = [
            b for b in env.command_manager.bound_terms if overrides(b.term, CommandTerm, "pop_log")
        ]

    def record(self, reward: torch.Tensor, done: torch.Tensor) -> None:
        """Adds this step's reward; folds the episodes that ended (``done [num_envs]``) into the sums."""
        env = self._env
        self.episode_return += reward
        d = done.to(torch.float64)
        self._finished += done.sum()
        self._sum_return += (self.episode_return.double() * d).sum()
        self._sum_length += (env.episode_length_buf.double() * d).sum()
        self._sum_terms += (env.reward_manager.episode_sums.double() * d[:, None]).sum(0)
        self._sum_causes += (env.termination_manager.term_flags & done[:, None]).sum(0)
        self.episode_return.mul_(~done)

    def pop(self) -> dict[str, float]:
        """Means since the last call; an empty dict when no episode finished."""
        env = self._env
        finished = int(self._finished.item())
        out: dict[str, float] = {}
        nan_total = env.sim.diverged_count.clone()
        bad_actions = env.action_manager.nonfinite_count.clone()
        out["Env/nan_resets"] = float((nan_total - self._last_nan).item())
        out["Env/nonfinite_actions"] = float((bad_actions - self._last_bad_actions).item())
        # Which bound the diverged worlds broke (warplab.sim.divergence), for the causes that occurred.
        out.update({f"Env/diverged_{c}": float(n) for c, n in env.sim.pop_divergence_causes().items()})
        self._last_nan.copy_(nan_total)
        self._last_bad_actions.copy_(bad_actions)
        for name, value in env.curriculum_manager.state.items():
            out[f"Curriculum/{name}"] = float(value.float().mean().item())
        for bound in self._logging_commands:
            out.update({f"Command/{bound.name}/{k}": float(v) for k, v in bound.term.pop_log().items()})
        if finished:
            out["Episode/return"] = float(self._sum_return.item()) / finished
            out["Episode/length"] = float(self._sum_length.item()) / finished
            for name, s in zip(env.reward_manager.names, self._sum_terms.tolist(), strict=True):
                out[f"Episode_Reward/{name}"] = s / finished
            for name, c in zip(env.termination_manager.names, self._sum_causes.tolist(), strict=True):
                out[f"Episode_Termination/{name}"] = c / finished
            out["Episode/count"] = float(finished)
        self._finished.zero_()
        self._sum_return.zero_()
        self._sum_length.zero_()
        self._sum_terms.zero_()
        self._sum_causes.zero_()
        return out

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """Live buffers for an exact save: the current episodes' ``episode_return``, the sums over
        episodes finished since the last ``pop``, and the totals seen at that ``pop``."""
        return {
            "episode_return": self.episode_return,
            "finished": self._finished,
            "sum_return": self._sum_return,
            "sum_length": self._sum_length,
            "sum_terms": self._sum_terms,
            "sum_causes": self._sum_causes,
            "last_nan": self._last_nan,
            "last_bad_actions": self._last_bad_actions,
        }
