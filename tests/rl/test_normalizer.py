"""The running normalizer against numpy's statistics of all batches concatenated."""

from __future__ import annotations

import numpy as np
import torch

from warplab.rl import EmpiricalNormalizer


def test_statistics_equal_numpy_of_concatenated_batches():
    rng = np.random.default_rng(0)
    # Batches of different sizes, scales and offsets, including a batch of one sample.
    batches = [
        rng.normal(loc, scale, size=(n, 3))
        for loc, scale, n in [(5.0, 2.0, 7), (-3.0, 0.5, 1), (0.0, 10.0, 300)]
    ]
    normalizer = EmpiricalNormalizer(3)
    for batch in batches:
        normalizer.update(torch.tensor(batch, dtype=torch.float32))
    everything = np.concatenate(batches)
    np.testing.assert_allclose(normalizer.mean.numpy(), everything.mean(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(normalizer.var.numpy(), everything.var(axis=0), rtol=1e-5)
    assert int(normalizer.count) == len(everything)
    assert normalizer.mean.dtype == torch.float32 and normalizer.var.dtype == torch.float32


def test_forward_normalizes_and_clamps_without_changing_statistics():
    normalizer = EmpiricalNormalizer(2, epsilon=0.0, clip=5.0)
    normalizer.update(torch.tensor([[1.0, 10.0], [3.0, 30.0]]))  # mean [2, 20], var [1, 100]
    out = normalizer(torch.tensor([[3.0, 0.0], [100.0, -1000.0]]))
    # (3 - 2) / 1 = 1; (0 - 20) / 10 = -2; the second row is far out and clamps to +-5.
    torch.testing.assert_close(out, torch.tensor([[1.0, -2.0], [5.0, -5.0]]))
    torch.testing.assert_close(normalizer.mean, torch.tensor([2.0, 20.0]))
    assert int(normalizer.count) == 2


def test_constant_input_does_not_divide_by_zero():
    normalizer = EmpiricalNormalizer(1)
    normalizer.update(torch.full((10, 1), 4.0))
    assert torch.isfinite(normalizer(torch.tensor([[4.5]]))).all()


def test_state_dict_round_trip():
    normalizer = EmpiricalNormalizer((2, 3))
    normalizer.update(torch.randn(50, 2, 3) * 3.0 + 1.0)
    copy = EmpiricalNormalizer((2, 3))
    copy.load_state_dict(normalizer.state_dict())
    x = torch.randn(4, 2, 3)
    torch.testing.assert_close(copy(x), normalizer(x))
    assert set(normalizer.state_dict()) == {"mean", "var", "count"}


def test_update_inside_inference_mode():
    # The runner updates statistics outside inference mode, but an update inside it must work too.
    normalizer = EmpiricalNormalizer(1)
    with torch.inference_mode():
        normalizer.update(torch.ones(4, 1))
    assert not normalizer.mean.is_inference()
    torch.testing.assert_close(normalizer.mean, torch.ones(1))


def test_absurd_finite_samples_keep_the_statistics_finite():
    """A finite but absurd observation (1e30: a position scaled by 1e30 in a config) once made the
    float32 variance inf and the merge NaN (inf * 0 on the first batch), and every later input NaN.
    Samples enter clamped to +-1e18, so the statistics are those of the clamped batch: here mean 0
    and population variance 1e36, worked out by hand."""
    norm = EmpiricalNormalizer(2)
    norm.update(torch.tensor([[1e30, 3.0], [-1e30, 5.0]]))
    assert torch.isfinite(norm.mean).all() and torch.isfinite(norm.var).all()
    assert torch.allclose(norm.mean, torch.tensor([0.0, 4.0]))
    assert torch.allclose(norm.var, torch.tensor([1e36, 1.0]), rtol=1e-5)
    norm.update(torch.tensor([[3e38, 4.0], [float("inf"), 4.0]]))  # float32's largest value, and inf
    assert torch.isfinite(norm.mean).all() and torch.isfinite(norm.var).all()
    out = norm(torch.tensor([[1e30, 4.0], [-1e30, 4.0]]))
    assert torch.isfinite(out).all() and out.abs().max() <= norm.clip
