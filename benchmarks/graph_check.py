"""Checks the captured env step against the eager one, tensor by tensor (CUDA only).

  python3 benchmarks/graph_check.py --task humanoid-velocity-flat-dr Humanoid-v5 [--json out.json]

For each task: two envs with the same seed, one eager (``graph_step=False``) and one captured;
before every step the eager env's whole state (generator included) is copied into the captured
one, both step with the same random action (through resets: episodes last 0.6 s), and their
outputs and every saved buffer (``env_state.live_tensors``) are compared. Then, on the captured
env, the same state with the generator moved on must draw other numbers (observation noise).

``--baseline`` runs the same comparison with both envs eager: how far two eager steps from the same
state already differ on this card (float atomics), the floor a captured step's difference is
judged against.

Prints ``true`` as its last line when the captured step is safe to train with (it captured, its
outputs agree to 1e-3 relative to their size, ``|a - b| / max(1, |a|)``, no done flag differs, and
its random draws advance from replay to replay), else ``false``. ``worst_output`` names the output,
index and values where they differ most.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import torch


def _envs(task: str, num_envs: int, baseline: bool = False, compile_managers: bool = False):
    from warplab.envs.rl_env import RlEnv
    from warplab.tasks import make_env_cfg

    out = []
    for graph in (False, not baseline):
        cfg = make_env_cfg(task)
        cfg.num_envs, cfg.device, cfg.seed, cfg.graph_step = num_envs, "cuda", 3, graph
        # The reference stays plain and eager; the env under test may also compile its managers.
        cfg.compile_managers = compile_managers and graph
        cfg.episode_length_s = 0.6
        out.append(RlEnv(cfg))
    return out


def _differences(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Elementwise absolute difference; NaN against NaN counts as equal, NaN against a number as inf."""
    a, b = a.double(), b.double()
    both_nan = a.isnan() & b.isnan()
    return (a - b).abs().masked_fill(both_nan, 0.0).nan_to_num(nan=math.inf)


def _difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest absolute difference (``_differences``)."""
    d = _differences(a, b)
    return float(d.max()) if d.numel() else 0.0


def _worst_output(names, outs_a, outs_b) -> dict:
    """Where the outputs differ most relative to their size: ``|a - b| / max(1, |a|)`` (float32
    rounding grows with the value: a contact force of hundreds of newtons differs in its 4th decimal)."""
    worst = {"relative_difference": 0.0}
    for name, a, b in zip(names, outs_a, outs_b, strict=True):
        if not a.numel():
            continue
        rel = (_differences(a, b) / a.double().abs().clamp(min=1.0)).nan_to_num(nan=math.inf)
        flat = int(rel.argmax())
        if float(rel.flatten()[flat]) > worst["relative_difference"]:
            index = list(torch.unravel_index(torch.tensor(flat), a.shape))
            worst = {
                "relative_difference": float(rel.flatten()[flat]),
                "output": name,
                "index": [int(i) for i in index],
                "eager_value": float(a.flatten()[flat]),
                "other_value": float(b.flatten()[flat]),
            }
    return worst


def check(
    task: str, num_envs: int = 64, steps: int = 12, baseline: bool = False, compile_managers: bool = False
) -> dict:
    """Steps both envs from the same state each time (the eager env's state is copied into the
    captured one first): MuJoCo Warp on a GPU sums contact forces with atomics, so two envs drift
    apart by float rounding even when both run eagerly; compared one step at a time they must agree
    to rounding, random draws included."""
    from warplab.envs.env_state import live_tensors

    eager, graphed = _envs(task, num_envs, baseline, compile_managers)
    if graphed._step_graph is None and not baseline:
        from warplab.envs.step_graph import graph_unsafe_terms

        return {"task": task, "captured": False, "unsafe_terms": graph_unsafe_terms(graphed), "safe": False}
    gen = torch.Generator(device="cuda").manual_seed(0)
    worst_out, worst_state, dones_differ, worst_names = 0.0, 0.0, 0, []
    worst_relative = {"relative_difference": 0.0}
    for _ in range(steps):
        graphed.set_state(eager.get_state())
        action = torch.rand(num_envs, eager.action_dim, generator=gen, device="cuda") * 2 - 1
        out_e, out_g = eager.step(action), graphed.step(action)
        flat_e = [*out_e[0].values(), out_e[1], *out_e[4]["final_obs"].values()]
        flat_g = [*out_g[0].values(), out_g[1], *out_g[4]["final_obs"].values()]
        worst_out = max(worst_out, max(_difference(a, b) for a, b in zip(flat_e, flat_g, strict=True)))
        names = (
            [f"obs.{k}" for k in out_e[0]] + ["reward"] + [f"final_obs.{k}" for k in out_e[4]["final_obs"]]
        )
        step_worst = _worst_output(names, flat_e, flat_g)
        if step_worst["relative_difference"] > worst_relative["relative_difference"]:
            worst_relative = step_worst
        dones_differ += int((out_e[2] != out_g[2]).sum() + (out_e[3] != out_g[3]).sum())
        a, b = live_tensors(eager), live_tensors(graphed)
        for name, t in a.items():
            if t.dtype.is_floating_point and t.numel() and name != "sim.data.qacc_warmstart":
                d = _difference(t, b[name])
                if d > worst_state:
                    worst_state = d
                if d > 1e-3:
                    worst_names.append((d, name))
    g = graphed
    state = g.get_state()
    zero = torch.zeros(num_envs, g.action_dim, device="cuda")
    o1 = g.step(zero)[0]["policy"].clone()
    g.set_state(state)
    torch.rand(1, generator=g.rng, device="cuda")  # the same state, the generator moved on
    o2 = g.step(zero)[0]["policy"].clone()
    result = {
        "task": task,
        "baseline_two_eager_envs": baseline,
        "compile_managers": compile_managers,
        "captured": g._step_graph is not None and g._step_graph.captured,
        "capture_failed": g._step_graph.failed if g._step_graph is not None else None,
        "max_output_difference": worst_out,
        "max_output_relative_difference": worst_relative["relative_difference"],
        "worst_output": worst_relative,
        "max_state_difference": worst_state,
        "states_differing_over_1e-3": [f"{n}: {d:.3g}" for d, n in sorted(worst_names, reverse=True)[:12]],
        "done_flags_differing": dones_differ,
        "draws_follow_generator": not bool(torch.equal(o1, o2)),
    }
    result["safe"] = bool(
        (result["captured"] or baseline)
        and worst_relative["relative_difference"] < 1e-3
        and dones_differ == 0
        and result["draws_follow_generator"]
    )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", nargs="+", default=["humanoid-velocity-flat-dr"])
    ap.add_argument("--json")
    ap.add_argument(
        "--ignore-unsafe",
        action="store_true",
        help="capture even terms that declare graph_safe = False (to study them)",
    )
    ap.add_argument(
        "--baseline",
        action="store_true",
        help="both envs eager: the difference two eager steps from one state already show on this card",
    )
    ap.add_argument(
        "--compile-managers",
        action="store_true",
        help="the captured env also compiles its managers (RlEnvCfg.compile_managers), against the plain eager one",
    )
    args = ap.parse_args()
    if args.ignore_unsafe:
        import warplab.envs.step_graph as step_graph

        step_graph.graph_unsafe_terms = lambda env: []
    results = [check(t, baseline=args.baseline, compile_managers=args.compile_managers) for t in args.task]
    for r in results:
        print(json.dumps(r, indent=1), file=sys.stderr)
    if args.json:
        from warplab.atomic_files import atomic_write_json

        atomic_write_json(args.json, results, indent=1)
    print("true" if all(r["safe"] for r in results) else "false")


if __name__ == "__main__":
    main()
