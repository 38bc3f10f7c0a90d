"""Data-parallel training (`warplab.rl.distributed`) with two CPU ranks over gloo on cart-poles.

One ``torch.distributed.run`` of ``ddp_worker.py`` serves every check (starting ranks costs seconds):
after PPO's and SAC's updates the weights are the same bits on both ranks; the ranks drew different
worlds; the normalizers hold the statistics of both ranks' observations together; only rank 0 wrote
a run folder; a checkpoint written by two ranks resumes on one, and one written by one rank resumes
on two.

Slow (about 35 s here): each of the two ranks imports torch, Warp and MuJoCo and builds its worlds
(about 10 s on two shared cores) before it trains for a few seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from .ddp_worker import build

WORKER = Path(__file__).with_name("ddp_worker.py")

pytestmark = pytest.mark.slow


def _assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs between the ranks"


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("ddp")
    # A one-rank checkpoint for the two ranks to resume.
    single = build(log_dir=out / "single")
    single.learn(1)
    single.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2] / "src"), *sys.path])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    done = subprocess.run(
        [*command, str(WORKER), str(out), str(out / "single" / "model_1.pt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return out, [torch.load(out / f"result_{rank}.pt", weights_only=True) for rank in (0, 1)]


def test_weights_are_the_same_on_both_ranks_after_updates(two_ranks):
    _, (r0, r1) = two_ranks
    assert r0["world_size"] == r1["world_size"] == 2
    _assert_same_state(r0["ppo"], r1["ppo"])
    assert r0["ppo_lr"] == r1["ppo_lr"]  # the adaptive rate read the same (averaged) KL
    assert r0["sac_updates"] == r1["sac_updates"] > 0
    _assert_same_state(r0["sac"], r1["sac"])
    assert torch.equal(r0["sac_log_alpha"], r1["sac_log_alpha"])
    _assert_same_state(r0["resumed"], r1["resumed"])


def test_ranks_draw_different_worlds(two_ranks):
    _, (r0, r1) = two_ranks
    assert not torch.equal(r0["first_obs"], r1["first_obs"])
    # After resuming, rank 0 continues the saved worlds and rank 1 starts its own.
    assert not torch.equal(r0["resumed_first_obs"], r1["resumed_first_obs"])


def test_normalizer_holds_both_ranks_observations(two_ranks):
    _, (r0, r1) = two_ranks
    _assert_same_state(r0["normalizer"], r1["normalizer"])
    both = torch.cat([r0["first_obs"], r1["first_obs"]]).double().numpy()
    stats = r0["normalizer"]
    assert int(stats["count"]) == both.shape[0]
    np.testing.assert_allclose(stats["mean"].numpy(), both.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["var"].numpy(), both.var(axis=0), rtol=1e-4, atol=1e-6)


def test_only_rank_0_writes(two_ranks):
    out, _ = two_ranks
    assert not (out / "run_rank1").exists()
    written = sorted(path.name for path in (out / "run_rank0").iterdir())
    assert {"model_1.pt", "model_2.pt", "resolved_config.json"} <= set(written)


def test_two_rank_checkpoint_resumes_on_one(two_ranks):
    out, (r0, _) = two_ranks
    checkpoint = torch.load(out / "run_rank0" / "model_2.pt", weights_only=True)
    assert checkpoint["world_size"] == 2
    single = build()
    single.load(out / "run_rank0" / "model_2.pt")
    _assert_same_state({k: v for k, v in single.policy.state_dict().items()}, r0["ppo"])
    single.learn(1)
    assert single.iteration == 3
    assert all(torch.isfinite(v).all() for v in single.policy.state_dict().values())
