"""warplab.rl: PPO, SAC and TD3, rollout storage and replay, normalizers, networks, and the runners.

Trains against any env that follows `VecEnv` (see docs/training.md); knows nothing of tasks.
"""

from warplab.rl.checkpoint import (
    CheckpointError,
    capture_rng_states,
    check_model_state,
    load_checkpoint,
    restore_rng_states,
    save_checkpoint,
)
from warplab.rl.config import (
    PolicyCfg,
    PpoCfg,
    RunnerCfg,
    SacCfg,
    SacPolicyCfg,
    runner_cfg_from_dict,
    to_plain,
    validate,
)
from warplab.rl.env_protocol import VecEnv
from warplab.rl.gae import bootstrap_timeouts, compute_gae
from warplab.rl.losses import PpoLossTerms, gaussian_kl, ppo_losses
from warplab.rl.networks import ActorCritic, gaussian_entropy, gaussian_log_prob, make_mlp
from warplab.rl.normalizer import EmpiricalNormalizer
from warplab.rl.off_policy_networks import OffPolicyActorCritic
from warplab.rl.off_policy_runner import OffPolicyRunner
from warplab.rl.ppo import PPO, adapt_learning_rate
from warplab.rl.replay import ReplayBatch, ReplayBuffer
from warplab.rl.run_common import run_dir, seed_everything
from warplab.rl.runner import OnPolicyRunner
from warplab.rl.runners import make_runner
from warplab.rl.sac import SAC
from warplab.rl.storage import MiniBatch, RolloutStorage

__all__ = [
    "PPO",
    "SAC",
    "ActorCritic",
    "CheckpointError",
    "EmpiricalNormalizer",
    "MiniBatch",
    "OffPolicyActorCritic",
    "OffPolicyRunner",
    "OnPolicyRunner",
    "PolicyCfg",
    "PpoCfg",
    "PpoLossTerms",
    "ReplayBatch",
    "ReplayBuffer",
    "RolloutStorage",
    "RunnerCfg",
    "SacCfg",
    "SacPolicyCfg",
    "VecEnv",
    "adapt_learning_rate",
    "bootstrap_timeouts",
    "capture_rng_states",
    "check_model_state",
    "compute_gae",
    "gaussian_entropy",
    "gaussian_kl",
    "gaussian_log_prob",
    "load_checkpoint",
    "make_mlp",
    "make_runner",
    "ppo_losses",
    "restore_rng_states",
    "run_dir",
    "runner_cfg_from_dict",
    "save_checkpoint",
    "seed_everything",
    "to_plain",
    "validate",
]
