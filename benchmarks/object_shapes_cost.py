"""What the parked geoms of a multi-shape object cost the collision pipeline (warplab.assets.object_shapes).

  python3 benchmarks/object_shapes_cost.py --num-worlds 64 --steps 200 --rounds 5 [--device cpu]

A palm (a fixed box) with five finger capsules over a floor, and an object resting on the palm.
Compared, each with ``num_worlds`` worlds of one MuJoCo Warp model:

- ``single_<shape>``: an object of that one shape (a model per shape: no parked geom);
- ``set_box``: the object with box, sphere, cylinder and capsule geoms, the box active in every
  world, the other three parked;
- ``set_mixed``: the same, each world's shape drawn by ``mdp.randomize_object_shape``; its
  single-shape counterpart is ``single_weighted``, the single-shape models' figures weighted by
  how many worlds of ``set_mixed`` hold each shape (what separate models would cost).

For each: the geom pairs in MuJoCo Warp's broadphase list (``nxn_geom_pair_filtered``, tested in
every world at every step), the pairs that passed the broadphase (``d.ncollision``: the
narrowphase's work) and the contacts (``d.nacon``), both summed over worlds after the last step,
and the time of ``mjw.step`` (median of ``rounds`` rounds of ``steps`` steps, the configurations
interleaved so that a busy machine slows them alike). Prints a table and writes JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import mujoco

SHAPES = ("box", "sphere", "cylinder", "capsule")
RANGES = {
    "box": ((0.02, 0.03),) * 3,
    "sphere": ((0.02, 0.03),),
    "cylinder": ((0.02, 0.03), (0.02, 0.03)),
    "capsule": ((0.015, 0.02), (0.015, 0.025)),
}
PALM_TOP = 0.1
HAND_XML = f"""<mujoco>
  <worldbody>
    <body name="palm" pos="0 0 {PALM_TOP - 0.01}">
      <geom type="box" size="0.08 0.08 0.01"/>
      <body name="slider" pos="0 0 0.2">
        <joint name="slide" type="slide" axis="0 0 1" range="-0.05 0.05"/>
        <geom type="capsule" fromto="-0.05 -0.05 0 -0.05 0.05 0" size="0.008"/>
        <geom type="capsule" fromto="0.05 -0.05 0 0.05 0.05 0" size="0.008"/>
        <geom type="capsule" fromto="-0.05 0.05 0 0.05 0.05 0" size="0.008"/>
        <geom type="capsule" fromto="-0.05 -0.05 0 0.05 -0.05 0" size="0.008"/>
        <geom type="capsule" fromto="0 -0.05 0 0 0.05 0" size="0.008"/>
      </body>
    </body>
  </worldbody>
  <actuator><position name="slide" joint="slide" kp="50" kv="5"/></actuator>
</mujoco>"""


def _env(num_worlds: int, device: str, shape: str | None):
    from warplab.assets.scene import ObjectCfg, Scene
    from warplab.envs import (
        ActionTermCfg,
        EventTermCfg,
        ObservationGroupCfg,
        ObservationTermCfg,
        RlEnv,
        RlEnvCfg,
        mdp,
    )

    if shape is None:
        obj = ObjectCfg("part", mass=0.1, shapes=SHAPES, shape_size_ranges=dict(RANGES))
    else:
        size = tuple(0.5 * (lo + hi) for lo, hi in RANGES[shape])
        obj = ObjectCfg("part", shape, size=size, mass=0.1)
    events = {
        "place": EventTermCfg(
            func=mdp.reset_object_pose,
            mode="reset",
            params={"object": "part", "position": (0.0, 0.0, PALM_TOP), "on_surface": True},
        )
    }
    if shape is None:
        events = {
            "shape": EventTermCfg(func=mdp.randomize_object_shape, mode="startup", params={"object": "part"}),
            **events,
        }
    cfg = RlEnvCfg(
        scene=Scene(robot=mujoco.MjSpec.from_string(HAND_XML), objects=(obj,)).build,
        num_envs=num_worlds,
        device=device,
        observations={"policy": ObservationGroupCfg(terms={"q": ObservationTermCfg(func=mdp.joint_pos)})},
        actions={"slide": ActionTermCfg(func=mdp.JointPositionAction, params={"actuators": "slide"})},
        rewards={},
        terminations={},
        events=events,
    )
    return RlEnv(cfg)


def _park_all_but_box(env) -> None:
    """Puts every world of a multi-shape env back to the compiled model's shapes (the box active)."""
    import torch

    from warplab.assets.object_shapes import PARKED_MARGIN

    m = env.mj_model
    geoms = [m.geom(f"part_{s}").id for s in SHAPES]
    active = torch.tensor([s == "box" for s in SHAPES])
    env.sim.model_field("geom_margin")[:, geoms] = torch.where(active, 0.0, PARKED_MARGIN).to(env.device)
    env.sim.model_field("geom_size")[:, geoms] = torch.as_tensor(m.geom_size[geoms], dtype=torch.float32).to(
        env.device
    )
    env.sim.model_field("body_inertia")[:, m.body("part").id] = torch.as_tensor(
        m.body_inertia[m.body("part").id], dtype=torch.float32
    ).to(env.device)
    env.sim.set_const()
    env.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-worlds", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import mujoco_warp as mjw
    import warp as wp

    envs = {f"single_{s}": _env(args.num_worlds, args.device, s) for s in SHAPES}
    envs["set_box"] = _env(args.num_worlds, args.device, None)
    _park_all_but_box(envs["set_box"])
    envs["set_mixed"] = _env(args.num_worlds, args.device, None)
    times: dict[str, list[float]] = {name: [] for name in envs}
    for env in envs.values():  # warm-up: kernels compiled, the objects settled
        for _ in range(20):
            mjw.step(env.sim.model, env.sim.data)
    wp.synchronize()
    for _ in range(args.rounds):
        for name, env in envs.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                mjw.step(env.sim.model, env.sim.data)
            wp.synchronize()
            times[name].append((time.perf_counter() - start) / args.steps * 1e3)
    rows = {}
    for name, env in envs.items():
        m, d = env.sim.model, env.sim.data
        rows[name] = {
            "pair_list": int(m.nxn_geom_pair_filtered.shape[0]),
            "broadphase_passed": int(d.ncollision.numpy()[0]),
            "contacts": int(d.nacon.numpy()[0]),
            "step_ms": statistics.median(times[name]),
        }
    shapes = mdp_onehot(envs["set_mixed"])
    rows["single_weighted"] = {
        k: sum(rows[f"single_{s}"][k] * shapes[s] for s in SHAPES) / args.num_worlds for k in rows["set_box"]
    }
    print(
        f"{args.num_worlds} worlds on {args.device}, {args.steps} steps x {args.rounds} rounds; mixed: {shapes}"
    )
    print(f"{'model':<16}{'pair list':>10}{'passed':>10}{'contacts':>10}{'ms/step':>10}")
    for name, r in rows.items():
        print(
            f"{name:<16}{r['pair_list']:>10.0f}{r['broadphase_passed']:>10.0f}"
            f"{r['contacts']:>10.0f}{r['step_ms']:>10.2f}"
        )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        out = {"num_worlds": args.num_worlds, "device": args.device, "steps": args.steps, "rows": rows}
        from warplab.atomic_files import atomic_write_json

        atomic_write_json(args.out / "object_shapes_cost.json", out)


def mdp_onehot(env) -> dict[str, int]:
    """How many worlds hold each shape."""
    from warplab.envs import mdp

    counts = mdp.object_shape_onehot(env, "part").sum(0).tolist()
    return {s: int(c) for s, c in zip(SHAPES, counts, strict=True)}


if __name__ == "__main__":
    main()
