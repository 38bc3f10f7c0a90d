"""Recording a policy's rollout in one world, for videos."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def record_qpos(
    env,
    act: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    seconds: float,
    world: int = 0,
) -> tuple[np.ndarray, dict[str, float]]:
    """Runs ``act`` in ``env`` for ``seconds`` of simulated time and records one world's joint positions.

    Returns:
      qpos ``[T, nq]`` of world ``world`` after each policy step (T = seconds / policy_dt), and a
      summary: ``return`` of that world (summed over episodes) and ``episodes_finished`` in it.
    """
    steps = max(1, int(round(seconds / env.policy_dt)))
    obs, _ = env.reset()
    frames = torch.empty(steps, env.sim.qpos.shape[1], device=env.device)
    total_return = torch.zeros((), device=env.device)
    finished = torch.zeros((), device=env.device)
    with torch.inference_mode():
        for t in range(steps):
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            frames[t] = env.sim.qpos[world]
            total_return += reward[world]
            finished += (terminated | truncated)[world].float()
    return frames.cpu().numpy(), {"return": float(total_return), "episodes_finished": float(finished)}
