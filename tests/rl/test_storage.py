"""Rollout storage shapes and mini-batch coverage."""

from __future__ import annotations

import pytest
import torch

from warplab.rl import RolloutStorage


def _filled_storage(num_steps: int = 3, num_envs: int = 5) -> RolloutStorage:
    storage = RolloutStorage(
        num_steps, num_envs, {"policy": (2,), "critic": (4, 2)}, action_dim=3, device="cpu"
    )
    for t in range(num_steps):
        # Sample id t * N + n in every field, to follow samples through the shuffling.
        ids = torch.arange(num_envs, dtype=torch.float32) + t * num_envs
        storage.record_action(
            {"policy": ids[:, None].expand(-1, 2), "critic": ids[:, None, None].expand(-1, 4, 2)},
            actions=ids[:, None].expand(-1, 3),
            log_probs=ids,
            action_mean=ids[:, None].expand(-1, 3),
            action_std=torch.ones(num_envs, 3),
            values=ids,
        )
        storage.record_outcome(rewards=ids, dones=torch.zeros(num_envs, dtype=torch.bool))
    storage.compute_returns(torch.zeros(num_envs), gamma=0.99, lam=0.95)
    return storage


def test_shapes():
    storage = _filled_storage()
    assert storage.obs["policy"].shape == (3, 5, 2) and storage.obs["critic"].shape == (3, 5, 4, 2)
    assert storage.actions.shape == (3, 5, 3) and storage.rewards.shape == (3, 5)
    assert storage.dones.dtype == torch.bool and storage.batch_size == 15
    with pytest.raises(RuntimeError, match="full"):
        storage.record_action(
            {"policy": torch.zeros(5, 2), "critic": torch.zeros(5, 4, 2)}, *[torch.zeros(5)] * 5
        )


def test_mini_batches_cover_every_sample_once_per_epoch():
    storage = _filled_storage()
    batches = list(
        storage.mini_batches(num_mini_batches=4, num_epochs=2, generator=torch.Generator().manual_seed(0))
    )
    assert len(batches) == 8
    # 15 samples in 4 mini-batches: sizes 4, 4, 4, 3.
    assert [len(batch.old_values) for batch in batches[:4]] == [4, 4, 4, 3]
    for epoch in (batches[:4], batches[4:]):
        ids = torch.cat([batch.old_values for batch in epoch])
        assert sorted(ids.tolist()) == list(range(15))
    batch = batches[0]
    # Every field of a sample comes from the same (t, n).
    assert torch.equal(batch.obs["policy"][:, 0], batch.old_values)
    assert torch.equal(batch.obs["critic"][:, 2, 1], batch.old_values)
    assert torch.equal(batch.actions[:, 1], batch.old_log_prob)
    assert batch.obs["critic"].shape == (4, 4, 2) and batch.actions.shape == (4, 3)


def test_shuffling_is_reproducible_from_the_generator():
    storage = _filled_storage()

    def order(seed: int) -> list[float]:
        batches = storage.mini_batches(4, 2, torch.Generator().manual_seed(seed))
        return torch.cat([batch.old_values for batch in batches]).tolist()

    assert order(1) == order(1)
    assert order(1) != order(2)
    assert order(1)[:15] != order(1)[15:]  # A new permutation each epoch.


def test_gae_needs_a_full_rollout():
    storage = RolloutStorage(2, 1, {"policy": (1,)}, 1, "cpu")
    with pytest.raises(RuntimeError, match="holds 0 of 2 steps"):
        storage.compute_returns(torch.zeros(1), 0.99, 0.95)
