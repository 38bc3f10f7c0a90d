"""Small runner configs, small SAC agents and batches, and comparisons shared by the rl tests."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from warplab.rl import OnPolicyRunner, PolicyCfg, PpoCfg, RunnerCfg, SacCfg, SacPolicyCfg
from warplab.rl.off_policy_networks import OffPolicyActorCritic
from warplab.rl.replay import ReplayBatch
from warplab.rl.sac import SAC

from .toy_env import ToyEnv, ToyEnvCfg


def small_cfg(**overrides) -> RunnerCfg:
    """A runner config sized for one CPU core: 8 steps per rollout, tiny networks, no console."""
    policy = overrides.pop("policy", PolicyCfg(actor_hidden_dims=(16, 16), critic_hidden_dims=(16, 16)))
    ppo = overrides.pop("ppo", PpoCfg(num_steps_per_env=8, num_learning_epochs=2, num_mini_batches=2))
    return RunnerCfg(**{"console": "off", "seed": 7, "policy": policy, "ppo": ppo, **overrides})


def make_runner(
    log_dir: Path | None = None,
    env_cls=ToyEnv,
    num_envs: int = 16,
    critic_group: bool = False,
    max_episode_length: int = 50,
    **cfg_overrides,
) -> OnPolicyRunner:
    """A runner on a fresh toy env; `cfg_overrides` go to `small_cfg`."""
    env = env_cls(
        ToyEnvCfg(num_envs=num_envs, critic_group=critic_group, max_episode_length=max_episode_length)
    )
    return OnPolicyRunner(env, small_cfg(**cfg_overrides), log_dir=log_dir)


def assert_same_tensors(a: dict, b: dict) -> None:
    """Bit-for-bit equality of two dicts of tensors (or nested dicts / lists of them)."""
    assert a.keys() == b.keys()
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            assert_same_tensors(x, y)
        elif isinstance(x, torch.Tensor):
            assert torch.equal(x, y), f"{key} differs"
        else:
            assert x == y, f"{key} differs: {x!r} != {y!r}"


def assert_same_training_state(resumed: OnPolicyRunner, straight: OnPolicyRunner) -> None:
    """A resumed run and an uninterrupted one agree bit for bit: iteration, every parameter and
    normalizer buffer, the optimizer's moments, the learning rate and the env's state."""
    assert resumed.iteration == straight.iteration
    assert_same_tensors(resumed.policy.state_dict(), straight.policy.state_dict())
    assert_same_tensors(
        resumed.ppo.optimizer.state_dict()["state"], straight.ppo.optimizer.state_dict()["state"]
    )
    assert resumed.ppo.learning_rate == straight.ppo.learning_rate
    assert_same_tensors(resumed.env.get_state(), straight.env.get_state())


# Operators that read a device value on the host (a sync on CUDA) or copy host data to the device.
_HOST_READ_OPS = {
    "_local_scalar_dense",  # .item(), float(t), int(t), bool(t), a 0-d tensor passed as a number
    "nonzero",
    "nonzero_static",
    "masked_select",
    "is_nonzero",
    "equal",
    "lift_fresh",  # torch.tensor(python data): a host-to-device copy
}


class HostReadRecorder(TorchDispatchMode):
    """Counts, on any device, what would make the host wait for a CUDA device.

    Operators of ``_HOST_READ_OPS`` and indexing by a bool mask are seen by torch's dispatcher;
    ``Tensor.tolist`` and ``Tensor.numpy`` read memory without an operator, so they are patched
    while the recorder is active. On the CPU none of these waits for anything, which is why a
    test here needs this recorder rather than ``torch.cuda.set_sync_debug_mode``.

    ``hits`` maps (what, the last warplab lines that called it) to a count; `paused` stops
    recording, e.g. around an optimizer step whose CPU implementation reads its step counter.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hits: dict[tuple[str, tuple[str, ...]], int] = {}
        self._paused = False
        self._patches: list[tuple[str, object]] = []

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    def _record(self, name: str) -> None:
        if self._paused:
            return
        where = tuple(
            f"{frame.filename.split('/src/')[-1]}:{frame.lineno}"
            for frame in traceback.extract_stack()
            if "/warplab/" in frame.filename
        )
        key = (name, where[-3:])
        self.hits[key] = self.hits.get(key, 0) + 1

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self._paused, previous = True, self._paused
        try:
            yield
        finally:
            self._paused = previous

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        bool_index = name == "index" and any(
            isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in (args[1] or [])
        )
        if name in _HOST_READ_OPS or bool_index:
            self._record(name)
        return func(*args, **(kwargs or {}))

    def __enter__(self):
        for name in ("tolist", "numpy"):
            original = getattr(torch.Tensor, name)

            def patched(tensor, *args, _original=original, _name=name, **kwargs):
                self._record(_name)
                return _original(tensor, *args, **kwargs)

            # Both are inherited from torch._C.TensorBase: the patch shadows them on torch.Tensor.
            self._patches.append((name, torch.Tensor.__dict__.get(name)))
            setattr(torch.Tensor, name, patched)
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            for name, own in reversed(self._patches):
                if own is None:
                    delattr(torch.Tensor, name)
                else:
                    setattr(torch.Tensor, name, own)
            self._patches.clear()


SAC_BATCH, SAC_ACTIONS = 64, 2
SAC_SHAPES = {"policy": (3,), "critic": (5,)}
SAC_ACTION_SCALE = 1.5


def small_sac_agent(algorithm: str = "sac", **sac) -> SAC:
    """A SAC (or TD3) agent with 32x32 networks on the CPU, C51 on 11 atoms in [-5, 5], the same
    weights (seeded) and generator seed every call; ``sac`` overrides ``SacCfg`` fields."""
    cfg = SacCfg(**{"batch_size": SAC_BATCH, "num_atoms": 11, "v_min": -5.0, "v_max": 5.0, **sac})
    policy = SacPolicyCfg(
        actor_hidden_dims=(32, 32), critic_hidden_dims=(32, 32), action_scale=SAC_ACTION_SCALE
    )
    torch.manual_seed(0)
    model = OffPolicyActorCritic(SAC_SHAPES, SAC_ACTIONS, policy, cfg, deterministic=algorithm == "td3")
    return SAC(model, cfg, algorithm, seed=4)


def random_sac_batch(seed: int = 3) -> ReplayBatch:
    """A batch of SAC_BATCH random transitions for `small_sac_agent` (a tenth of them terminal)."""
    g = torch.Generator().manual_seed(seed)

    def obs():
        return {name: torch.randn(SAC_BATCH, *shape, generator=g) for name, shape in SAC_SHAPES.items()}

    return ReplayBatch(
        obs=obs(),
        actions=SAC_ACTION_SCALE * (2 * torch.rand(SAC_BATCH, SAC_ACTIONS, generator=g) - 1),
        rewards=torch.randn(SAC_BATCH, generator=g),
        next_obs=obs(),
        discounts=0.9 * (torch.rand(SAC_BATCH, generator=g) > 0.1),
    )
