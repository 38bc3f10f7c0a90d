"""One rank of the data-parallel tests (tests/rl/test_distributed.py), started by ``torch.distributed.run``.

Usage: ``python -m torch.distributed.run --nproc-per-node 2 ddp_worker.py OUT RESUME``. Each rank trains
PPO on its own cart-poles for two iterations (passing a run folder of its own: only rank 0 may write
there), SAC for one iteration, and resumes the one-rank checkpoint RESUME for one more PPO iteration;
what the test compares goes to ``OUT/result_<rank>.pt``, the only file this script itself writes.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

import warplab
from warplab.rl import distributed, make_runner
from warplab.tasks import get_task

TASK = "cartpole-balance"
NUM_ENVS = 4


def runner_cfg(algorithm: str = "ppo"):
    """The registered settings made small: 8-step rollouts, SAC updates from the second step."""
    cfg = get_task(TASK).agent_cfg_factory()
    cfg.algorithm = algorithm
    cfg.console = "off"
    cfg.save_interval = 1
    cfg.export_onnx = False
    cfg.ppo = dataclasses.replace(cfg.ppo, num_steps_per_env=8, num_learning_epochs=2, num_mini_batches=2)
    cfg.sac = dataclasses.replace(
        cfg.sac, num_steps_per_env=4, learning_starts=2, random_steps=2, batch_size=8, replay_size_per_env=16
    )
    return cfg


def make_env():
    """This rank's worlds, seeded as ``warplab train`` seeds them."""
    seed = distributed.rank_seed(runner_cfg().seed, distributed.rank())
    return warplab.make(TASK, num_envs=NUM_ENVS, device="cpu", seed=seed)


def build(algorithm: str = "ppo", log_dir: Path | None = None, env=None):
    """A runner of this rank on `env` (default: new worlds of `make_env`); each runner resets them."""
    return make_runner(make_env() if env is None else env, runner_cfg(algorithm), log_dir=log_dir)


def main(out: Path, resume: Path) -> None:
    device = distributed.init_process_group("cpu")
    rank = distributed.rank()
    result: dict[str, object] = {"device": device, "world_size": distributed.world_size()}

    # One env serves every runner (building worlds costs seconds on a CPU); each runner resets it.
    env = make_env()
    ppo = build(log_dir=out / f"run_rank{rank}", env=env)
    ppo.learn(1)
    result["first_obs"] = ppo.storage.flat_obs()["policy"].clone()
    result["normalizer"] = {k: v.clone() for k, v in ppo.policy.actor_obs_normalizer.state_dict().items()}
    ppo.learn(1)
    result["ppo"] = {k: v.clone() for k, v in ppo.policy.state_dict().items()}
    result["ppo_lr"] = ppo.ppo.learning_rate
    ppo.close()

    sac = build("sac", env=env)
    sac.learn(1)
    result["sac"] = {k: v.clone() for k, v in sac.policy.state_dict().items()}
    result["sac_log_alpha"] = sac.agent.log_alpha.detach().clone()
    result["sac_updates"] = sac.agent.num_updates

    resumed = build(env=env)
    resumed.load(resume)
    result["resumed_first_obs"] = resumed._obs["policy"].clone()
    resumed.learn(1)
    result["resumed"] = {k: v.clone() for k, v in resumed.policy.state_dict().items()}
    result["resumed_iteration"] = resumed.iteration

    torch.save(result, out / f"result_{rank}.pt")
    distributed.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
