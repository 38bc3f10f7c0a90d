"""Where a SAC/TD3 update's time goes: milliseconds an update (graphed, as training runs it) for each
variant, and the eager update's kernels by device time.

  python3 benchmarks/profile_sac_update.py --task Humanoid-v5 --num-envs 4096 --out $OUT

The networks, optimizers and replay buffer are the task's agent config's (``--algo``, ``--set
sac.FIELD VALUE``), with the task's observation shapes and action size; the buffer holds random
transitions (an update's cost does not depend on the numbers in it). For each variant (``plain``,
``bf16``: ``sac.bf16_autocast``, ``compiled``: ``sac.compile_networks``), after warm-up updates
(which also record the CUDA graphs and compile), ``--updates`` updates are timed with CUDA events
over the whole loop (no sync inside it). Then ``--profile-updates`` eager updates of the plain
variant run under ``torch.profiler``: the table lists each kernel's calls and device time per update,
and the update's wall time against the sum of its kernels (the rest is the device waiting for the
host, which the CUDA graph removes).

Writes ``profile_sac_update_<task>_<num_envs>.json`` under ``--out``. On a CPU it runs (small
``--num-envs`` and batch advised) but sees no device kernels.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections import defaultdict
from pathlib import Path

import torch

VARIANTS = {"plain": {}, "bf16": {"bf16_autocast": True}, "compiled": {"compile_networks": True}}


def _agent_cfg(task: str, algo: str, sets: list[tuple[str, str]]):
    from warplab.cli.overrides import apply_text_overrides
    from warplab.rl.config import validate
    from warplab.tasks import get_task

    spec = get_task(task)
    cfg = spec.agent_cfg_factory()
    cfg = apply_text_overrides(cfg, dict(sets), "agent")
    cfg.algorithm = algo
    validate(cfg)
    return cfg


def _shapes(task: str, device: str) -> tuple[dict[str, tuple[int, ...]], int]:
    """The task's observation shapes {group: shape} and action size, from a one-world env."""
    import warplab

    env = warplab.make(task, num_envs=1, device=device)
    return dict(env.observation_shapes), int(env.action_dim)


def _build(cfg, shapes, action_dim: int, num_envs: int, device: str, capacity: int):
    from warplab.rl.off_policy_networks import OffPolicyActorCritic
    from warplab.rl.replay import ReplayBuffer
    from warplab.rl.sac import SAC

    torch.manual_seed(0)
    model = OffPolicyActorCritic(
        shapes, action_dim, cfg.sac_policy, cfg.sac, deterministic=cfg.algorithm == "td3"
    )
    model = model.to(device)
    agent = SAC(model, cfg.sac, cfg.algorithm, seed=0)
    groups = {g: shapes[g] for g in dict.fromkeys(("policy", model.critic_group))}
    replay = ReplayBuffer(
        capacity, num_envs, groups, action_dim, device, n_step=cfg.sac.n_step, gamma=cfg.sac.gamma
    )
    g = torch.Generator(device=device).manual_seed(1)
    for _ in range(capacity):

        def obs():
            return {k: torch.randn(num_envs, *s, device=device, generator=g) for k, s in groups.items()}

        replay.add(
            obs(),
            torch.rand(num_envs, action_dim, device=device, generator=g) * 2 - 1,
            torch.randn(num_envs, device=device, generator=g),
            obs(),
            torch.rand(num_envs, device=device, generator=g) < 0.01,
            torch.rand(num_envs, device=device, generator=g) < 0.01,
        )
    return agent, replay


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_updates(agent, replay, warmup: int, updates: int) -> float:
    """Milliseconds an update (sample + update, the actor every policy_delay), over ``updates``."""
    for _ in range(warmup):
        agent.train_step(replay)
    _sync()
    start = time.perf_counter()
    for _ in range(updates):
        agent.train_step(replay)
    _sync()
    return (time.perf_counter() - start) / updates * 1e3


def profile_eager(agent, replay, updates: int) -> dict:
    """Kernels of eager updates by device time a update, and wall against kernel time."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    for _ in range(3):
        agent.train_step(replay)
    _sync()
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        for _ in range(updates):
            agent.train_step(replay)
        _sync()
        wall_ms = (time.perf_counter() - start) / updates * 1e3
    kernels: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0.0, "ms": 0.0})
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            row = kernels[event.name[:100]]
            row["calls"] += 1.0 / updates
            row["ms"] += event.device_time / 1e3 / updates
    total = sum(r["ms"] for r in kernels.values())
    top = sorted(kernels.items(), key=lambda kv: -kv[1]["ms"])[:30]
    return {
        "wall_ms_per_update": wall_ms,
        "kernel_ms_per_update": total,
        "kernels_per_update": sum(r["calls"] for r in kernels.values()),
        "top_kernels": [{"name": k, **v} for k, v in top],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="Humanoid-v5")
    ap.add_argument("--num-envs", type=int, default=4096)
    ap.add_argument("--algo", choices=("sac", "td3"), default="sac")
    ap.add_argument("--set", nargs=2, action="append", default=[], metavar=("FIELD", "VALUE"),
                    help="agent field, e.g. sac.batch_size 32768")  # fmt: skip
    ap.add_argument("--variants", nargs="+", choices=tuple(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--capacity", type=int, default=16, help="replay steps per world filled (default 16)")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--updates", type=int, default=100)
    ap.add_argument("--profile-updates", type=int, default=10)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    from warplab.atomic_files import atomic_write_json

    base = _agent_cfg(args.task, args.algo, args.set)
    shapes, action_dim = _shapes(args.task, args.device)
    sac = base.sac
    card = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    result: dict = {
        "task": args.task,
        "num_envs": args.num_envs,
        "algorithm": args.algo,
        "card": card,
        "batch_size": sac.batch_size,
        "distributional": sac.distributional,
        "num_atoms": sac.num_atoms,
        "actor_hidden_dims": list(base.sac_policy.actor_hidden_dims),
        "critic_hidden_dims": list(base.sac_policy.critic_hidden_dims),
        "observation_shapes": {k: list(v) for k, v in shapes.items()},
        "action_dim": action_dim,
        "variants": {},
    }
    print(
        f"{args.task} x {args.num_envs} on {card}: batch {sac.batch_size}, shapes {shapes}, actions {action_dim}"
    )
    for name in args.variants:
        cfg = dataclasses.replace(base, sac=dataclasses.replace(sac, **VARIANTS[name]))
        agent, replay = _build(cfg, shapes, action_dim, args.num_envs, args.device, args.capacity)
        ms = time_updates(agent, replay, args.warmup, args.updates)
        graph = getattr(agent, "_graph", None)
        result["variants"][name] = {"ms_per_update": ms, "graph_failed": getattr(graph, "failed", None)}
        print(f"  {name:9s} {ms:8.3f} ms an update (graph_update {cfg.sac.graph_update})", flush=True)
        del agent, replay
    eager_cfg = dataclasses.replace(base, sac=dataclasses.replace(sac, graph_update=False))
    agent, replay = _build(eager_cfg, shapes, action_dim, args.num_envs, args.device, args.capacity)
    profile = profile_eager(agent, replay, args.profile_updates)
    result["eager_profile"] = profile
    print(
        f"  eager: wall {profile['wall_ms_per_update']:.3f} ms an update, kernels {profile['kernel_ms_per_update']:.3f} ms "
        f"({profile['kernels_per_update']:.0f} kernels)"
    )
    for row in profile["top_kernels"]:
        print(f"    {row['ms']:8.3f} ms {row['calls']:6.1f} calls  {row['name']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / f"profile_sac_update_{args.task}_{args.num_envs}.json", result)


if __name__ == "__main__":
    main()
