"""Replay buffer: n-step windows, discounts, ring wrap-around, sampling, checkpoints and input errors.

Every expected number below is worked out by hand in the comments from the reward and done tables
of `_fill`; the tests identify each sampled transition by its observation, which encodes (t, world).
"""

from __future__ import annotations

import inspect
import io

import pytest
import torch

from warplab.rl.replay import ReplayBatch, ReplayBuffer, replay_nbytes

N = 3
"""Worlds."""
GAMMA = 0.5
"""A power of two, so every discounted sum below is exact in float32."""
OBS_SHAPES = {"policy": (2,), "critic": (2, 3)}
"""Asymmetric groups: the critic sees a larger, two-dimensional observation."""
ACTION_DIM = 2

# Rewards r[t][w] = 3t + w + 1, step by step:
#   t:   0        1        2        3           4           5
#   r: 1 2 3    4 5 6    7 8 9    10 11 12    13 14 15    16 17 18
# World 0 never finishes; world 1 terminates at t=1 and is truncated at t=4; world 2 is truncated
# at t=1 and terminates at t=5.
TERMINATED = {(1, 1), (5, 2)}
"""(t, world) pairs that end in a termination."""
TRUNCATED = {(1, 2), (4, 1)}
"""(t, world) pairs that end in a time-out."""


def _id(t: int, w: int) -> float:
    """The number that marks step t of world w in every stored field."""
    return 10.0 * t + w


def _obs(t: int, offset: float = 0.0) -> dict[str, torch.Tensor]:
    """Observations of step t: policy [N, 2] = (id, -id), critic [N, 2, 3] = id + 1000 everywhere.

    next_obs uses offset 0.5, so a final observation is never mistaken for the next step's obs.
    """
    ids = torch.tensor([_id(t, w) + offset for w in range(N)])
    return {
        "policy": torch.stack([ids, -ids], dim=1),
        "critic": (ids + 1000.0)[:, None, None].expand(N, 2, 3).clone(),
    }


def _add_step(buffer: ReplayBuffer, t: int) -> None:
    ids = torch.tensor([_id(t, w) for w in range(N)])
    buffer.add(
        obs=_obs(t),
        actions=torch.stack([100.0 + ids, 200.0 + ids], dim=1),
        rewards=torch.tensor([3.0 * t + w + 1 for w in range(N)]),
        next_obs=_obs(t, offset=0.5),
        terminated=torch.tensor([(t, w) in TERMINATED for w in range(N)]),
        truncated=torch.tensor([(t, w) in TRUNCATED for w in range(N)]),
    )


def _fill(num_steps: int, capacity: int = 4, n_step: int = 3) -> ReplayBuffer:
    buffer = ReplayBuffer(capacity, N, OBS_SHAPES, ACTION_DIM, "cpu", n_step=n_step, gamma=GAMMA)
    for t in range(num_steps):
        _add_step(buffer, t)
    return buffer


def _by_pair(batch: ReplayBatch) -> dict[tuple[int, int], tuple[float, float, float]]:
    """{(t, world): (reward, discount, id of next_obs)} of every distinct sampled transition.

    Also checks that every field of a sample comes from the same (t, world) and that a pair
    sampled twice gives the same transition.
    """
    ids = batch.obs["policy"][:, 0]
    assert torch.equal(batch.obs["policy"][:, 1], -ids)
    assert torch.equal(batch.obs["critic"], (ids + 1000.0)[:, None, None].expand(-1, 2, 3))
    assert torch.equal(batch.actions, torch.stack([100.0 + ids, 200.0 + ids], dim=1))
    next_ids = batch.next_obs["policy"][:, 0]
    assert torch.equal(batch.next_obs["critic"], (next_ids + 1000.0)[:, None, None].expand(-1, 2, 3))
    out: dict[tuple[int, int], tuple[float, float, float]] = {}
    for sample_id, reward, discount, next_id in zip(
        ids.tolist(), batch.rewards.tolist(), batch.discounts.tolist(), next_ids.tolist(), strict=True
    ):
        pair = (int(sample_id) // 10, int(sample_id) % 10)
        assert out.setdefault(pair, (reward, discount, next_id)) == (reward, discount, next_id)
    return out


def _sample_all(buffer: ReplayBuffer, draws: int = 2000, seed: int = 0) -> ReplayBatch:
    return buffer.sample(draws, generator=torch.Generator().manual_seed(seed))


def test_n_step_windows_before_wrap_around():
    # Four steps into a buffer of capacity 4, n = 3, gamma = 0.5. (t, w): (reward sum, discount,
    # next_obs id = 10 * last step + w + 0.5), by hand:
    expected = {
        # World 0, no done: full windows while 3 steps remain, then cut by the newest step (t=3).
        (0, 0): (1 + 0.5 * 4 + 0.25 * 7, 0.125, 20.5),  # = 4.75, steps 0..2
        (1, 0): (4 + 0.5 * 7 + 0.25 * 10, 0.125, 30.5),  # = 10, steps 1..3
        (2, 0): (7 + 0.5 * 10, 0.25, 30.5),  # = 12, steps 2..3: the newest is t=3
        (3, 0): (10, 0.5, 30.5),  # one step: the newest
        # World 1 terminates at t=1: the window stops there with discount 0.
        (0, 1): (2 + 0.5 * 5, 0.0, 11.5),  # = 4.5, steps 0..1
        (1, 1): (5, 0.0, 11.5),
        (2, 1): (8 + 0.5 * 11, 0.25, 31.5),  # = 13.5
        (3, 1): (11, 0.5, 31.5),
        # World 2 is truncated at t=1: the window stops there, discount gamma^k, and bootstraps
        # from the final observation of t=1 (id 12.5).
        (0, 2): (3 + 0.5 * 6, 0.25, 12.5),  # = 6, k = 2
        (1, 2): (6, 0.5, 12.5),  # k = 1
        (2, 2): (9 + 0.5 * 12, 0.25, 32.5),  # = 15
        (3, 2): (12, 0.5, 32.5),
    }
    assert _by_pair(_sample_all(_fill(4))) == expected


def test_windows_after_wrap_around_never_read_overwritten_rows():
    # Six steps into capacity 4: rows hold t = 4, 5, 2, 3 (t=0 and t=1 were overwritten), so the
    # oldest step that can be drawn is t=2. A window starting at t=5 (row 1) must stop there: row 2
    # holds the older t=2, and reading it would add 0.5 * 7 to world 0's sum. By hand:
    expected = {
        (2, 0): (7 + 0.5 * 10 + 0.25 * 13, 0.125, 40.5),  # = 15.25
        (3, 0): (10 + 0.5 * 13 + 0.25 * 16, 0.125, 50.5),  # = 20.5, reads rows 3, 0, 1 (wraps)
        (4, 0): (13 + 0.5 * 16, 0.25, 50.5),  # = 21
        (5, 0): (16, 0.5, 50.5),
        # World 1 is truncated at t=4 (its termination at t=1 is gone with its row).
        (2, 1): (8 + 0.5 * 11 + 0.25 * 14, 0.125, 41.5),  # = 17, ends at n and at the time-out
        (3, 1): (11 + 0.5 * 14, 0.25, 41.5),  # = 18
        (4, 1): (14, 0.5, 41.5),
        (5, 1): (17, 0.5, 51.5),
        # World 2 terminates at t=5, the newest step.
        (2, 2): (9 + 0.5 * 12 + 0.25 * 15, 0.125, 42.5),  # = 18.75
        (3, 2): (12 + 0.5 * 15 + 0.25 * 18, 0.0, 52.5),  # = 24, the termination is the n-th step
        (4, 2): (15 + 0.5 * 18, 0.0, 52.5),  # = 24
        (5, 2): (18, 0.0, 52.5),
    }
    buffer = _fill(6)
    assert buffer.num_added_steps == 6 and buffer.num_stored_steps == 4
    assert _by_pair(_sample_all(buffer)) == expected


def test_one_step_transitions():
    # n = 1: reward r_t, discount 0.5 unless terminated, next_obs the step's own final obs.
    pairs = _by_pair(_sample_all(_fill(2, n_step=1)))
    assert pairs == {
        (0, 0): (1, 0.5, 0.5),
        (0, 1): (2, 0.5, 1.5),
        (0, 2): (3, 0.5, 2.5),
        (1, 0): (4, 0.5, 10.5),
        (1, 1): (5, 0.0, 11.5),  # terminated
        (1, 2): (6, 0.5, 12.5),  # truncated: bootstraps from its final obs
    }


def test_samples_only_written_pairs_uniformly():
    # Two of four rows written: only the 2 * 3 pairs of t = 0, 1 may come out.
    batch = _sample_all(_fill(2), draws=600)
    assert set(_by_pair(batch)) == {(t, w) for t in range(2) for w in range(N)}
    # Full and wrapped: 12 pairs, 12,000 draws, about 1,000 each (binomial std about 30); each
    # pair must come out, and none at under half or over 1.5 times its share.
    batch = _sample_all(_fill(6), draws=12_000, seed=1)
    ids = batch.obs["policy"][:, 0]
    counts = {pair: int((ids == _id(*pair)).sum()) for pair in _by_pair(batch)}
    assert set(counts) == {(t, w) for t in range(2, 6) for w in range(N)}
    assert all(500 < count < 1500 for count in counts.values()), counts


def test_sampling_is_reproducible_and_shaped():
    buffer = _fill(5)
    a, b = _sample_all(buffer, 7, seed=3), _sample_all(buffer, 7, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.obs.values(), b.obs.values(), strict=True))
    assert torch.equal(a.rewards, b.rewards) and torch.equal(a.discounts, b.discounts)
    assert a.obs["policy"].shape == (7, 2) and a.obs["critic"].shape == (7, 2, 3)
    assert a.next_obs["critic"].shape == (7, 2, 3) and a.actions.shape == (7, ACTION_DIM)
    assert a.rewards.shape == (7,) and a.discounts.shape == (7,)
    assert a.rewards.dtype == torch.float32 and a.discounts.dtype == torch.float32


def test_ignores_extra_groups_and_copies_inputs():
    buffer = ReplayBuffer(2, N, {"policy": (2,)}, ACTION_DIM, "cpu")
    obs = _obs(0)  # has a "critic" group the buffer does not store
    buffer.add(
        obs,
        torch.zeros(N, 2),
        torch.zeros(N),
        obs,
        torch.zeros(N, dtype=torch.bool),
        torch.zeros(N, dtype=torch.bool),
    )
    obs["policy"].fill_(-7.0)  # an env reusing its tensor must not change what was stored
    assert set(buffer.obs) == {"policy"}
    assert buffer.obs["policy"][0, :, 0].tolist() == [0.0, 1.0, 2.0]


def test_state_dict_round_trip_resumes_exactly():
    buffer = _fill(6)
    file = io.BytesIO()
    torch.save(buffer.state_dict(), file)
    file.seek(0)
    state = torch.load(file, weights_only=True)
    restored = ReplayBuffer(4, N, OBS_SHAPES, ACTION_DIM, "cpu", n_step=3, gamma=GAMMA)
    restored.load_state_dict(state)
    assert restored.num_added_steps == 6 and int(restored.pos) == 2 and int(restored.size) == 4
    assert _by_pair(_sample_all(restored)) == _by_pair(_sample_all(buffer))
    # The same draws from the same generator state, before and after one more step.
    _add_step(buffer, 6)
    _add_step(restored, 6)
    a, b = _sample_all(buffer, 50, seed=9), _sample_all(restored, 50, seed=9)
    assert torch.equal(a.obs["critic"], b.obs["critic"]) and torch.equal(a.rewards, b.rewards)
    assert torch.equal(a.next_obs["policy"], b.next_obs["policy"]) and torch.equal(a.discounts, b.discounts)


def test_state_dict_of_a_filling_buffer_holds_only_written_rows():
    # 2 of 4 rows written: the state holds 2 rows (CPU copies, not views of the buffer).
    buffer = _fill(2)
    state = buffer.state_dict()
    assert state["obs"]["critic"].shape == (2, N, 2, 3) and state["rewards"].shape == (2, N)
    state["rewards"].fill_(99.0)
    assert buffer.rewards[0].tolist() == [1.0, 2.0, 3.0]
    restored = _fill(0)
    restored.load_state_dict(buffer.state_dict())
    assert _by_pair(_sample_all(restored)) == _by_pair(_sample_all(buffer))


def test_load_state_dict_rejects_another_configuration():
    state = _fill(2).state_dict()
    other = ReplayBuffer(5, N, OBS_SHAPES, ACTION_DIM, "cpu", n_step=3, gamma=GAMMA)
    with pytest.raises(ValueError, match="capacity_per_env"):
        other.load_state_dict(state)
    state["rewards"] = torch.zeros(3, N)
    with pytest.raises(ValueError, match=r"rewards must be a tensor of shape \[2, 3\]"):
        _fill(0).load_state_dict(state)
    with pytest.raises(ValueError, match="not a replay buffer state"):
        _fill(0).load_state_dict({"model": {}})


def _valid_step() -> dict:
    return {
        "obs": _obs(0),
        "actions": torch.zeros(N, ACTION_DIM),
        "rewards": torch.zeros(N),
        "next_obs": _obs(0),
        "terminated": torch.zeros(N, dtype=torch.bool),
        "truncated": torch.zeros(N, dtype=torch.bool),
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("actions", torch.zeros(N, 3), r"actions must have shape \[3, 2\], got \[3, 3\]"),
        ("rewards", torch.zeros(N, 1), r"rewards must have shape \[3\], got \[3, 1\]"),
        (
            "rewards",
            torch.zeros(N, dtype=torch.float64),
            "rewards must have dtype torch.float32, got torch.float64",
        ),
        ("terminated", torch.zeros(N), "terminated must have dtype torch.bool, got torch.float32"),
        ("truncated", [False] * N, "truncated must be a torch.Tensor, got list"),
        (
            "actions",
            torch.zeros(N, ACTION_DIM, device="meta"),
            "actions must be on the buffer's device cpu, got meta",
        ),
        ("obs", {"policy": torch.zeros(N, 2)}, r"obs lacks the groups \['critic'\]"),
        (
            "next_obs",
            {"policy": torch.zeros(N, 2), "critic": torch.zeros(N, 6)},
            r"next_obs\['critic'\] must have shape \[3, 2, 3\], got \[3, 6\]",
        ),
        ("obs", torch.zeros(N, 2), "obs must be a dict"),
    ],
)
def test_add_rejects_bad_inputs_in_one_line(field, value, message):
    buffer = _fill(0)
    step = _valid_step()
    step[field] = value
    with pytest.raises(ValueError, match=message) as error:
        buffer.add(**step)
    assert "\n" not in str(error.value)
    assert buffer.num_added_steps == 0 and int(buffer.pos) == 0  # nothing was written


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"capacity_per_env": 0}, "capacity_per_env must be an integer >= 1, got 0"),
        ({"capacity_per_env": 2.0}, "capacity_per_env must be an integer >= 1, got 2.0"),
        ({"num_envs": True}, "num_envs must be an integer >= 1, got True"),
        ({"action_dim": -1}, "action_dim must be an integer >= 1"),
        ({"n_step": 0}, "n_step must be an integer >= 1"),
        ({"gamma": 1.5}, r"gamma must be a number in \[0, 1\], got 1.5"),
        ({"obs_shapes": {}}, "obs_shapes must map at least one group"),
        ({"obs_shapes": {"policy": (0,)}}, r"obs_shapes\['policy'\] must be a sequence of integers >= 1"),
    ],
)
def test_constructor_rejects_bad_values_in_one_line(kwargs, message):
    args = {"capacity_per_env": 4, "num_envs": N, "obs_shapes": OBS_SHAPES, "action_dim": 2, "device": "cpu"}
    with pytest.raises(ValueError, match=message) as error:
        ReplayBuffer(**{**args, **kwargs})
    assert "\n" not in str(error.value)


def test_sample_rejects_bad_calls():
    with pytest.raises(ValueError, match="the buffer is empty"):
        _fill(0).sample(4)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        _fill(1).sample(0)


def test_nbytes_by_hand():
    # Per (step, world): obs and next_obs of 2 + 6 float32 each (64 B), 2 float32 actions (8 B),
    # a float32 reward (4 B), two bools (2 B): 78 B; times 4 steps * 3 worlds = 936 B.
    assert _fill(0).nbytes() == 936
    assert replay_nbytes(4, N, OBS_SHAPES, ACTION_DIM) == 936


def test_add_and_sample_have_no_host_sync_calls():
    # A host sync cannot be observed on the CPU; the GPU check runs elsewhere. This guards the
    # source against the calls that sync (a Python `if` on a tensor would be bool(tensor)).
    for method in (ReplayBuffer.add, ReplayBuffer.sample):
        source = inspect.getsource(method)
        for call in (".item(", "nonzero", "bool(", ".tolist(", ".cpu(", "int(self.", "float(self."):
            assert call not in source, f"{method.__name__} calls {call}"


def test_a_resume_may_change_n_step_and_gamma():
    # Windows are built at sampling from one-step rewards, so a state loads into a buffer with
    # another n and gamma. n = 1, gamma 0.5 from a state written with n = 3: (1, 1) is r = 5,
    # terminated: discount 0; (0, 0) is r = 1, discount 0.5, next_obs its own final obs (0.5).
    restored = ReplayBuffer(4, N, OBS_SHAPES, ACTION_DIM, "cpu", n_step=1, gamma=GAMMA)
    restored.load_state_dict(_fill(2).state_dict())
    pairs = _by_pair(_sample_all(restored))
    assert pairs[(1, 1)] == (5.0, 0.0, 11.5) and pairs[(0, 0)] == (1.0, 0.5, 0.5)


def test_add_under_inference_mode_then_sample_for_autograd():
    # The collection loop adds under inference mode; the update samples outside it and
    # differentiates through a network applied to the batch.
    buffer = _fill(0)
    with torch.inference_mode():
        _add_step(buffer, 0)
        _add_step(buffer, 1)
    batch = _sample_all(buffer, draws=8)
    assert not batch.obs["policy"].is_inference()
    weight = torch.ones(2, requires_grad=True)
    (batch.obs["policy"] @ weight).sum().backward()
    assert weight.grad is not None
