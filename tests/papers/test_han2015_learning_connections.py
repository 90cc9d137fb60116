"""Han et al. 2015's threshold rule: |w| < q·σ of the layer's unpruned weights is deleted."""
import numpy as np
import pytest

from minicompress import pruning
from minicompress.models import lenet_300_100
from minicompress.papers.han2015_learning_connections import prune_by_std, std_threshold_mask


def test_threshold_by_hand():
    w = np.array([1.0, -1.0, 3.0, -3.0])  # mean 0, σ = √5 = 2.236
    np.testing.assert_array_equal(std_threshold_mask(w, 0.4), [1, 1, 1, 1])  # 0.894
    np.testing.assert_array_equal(std_threshold_mask(w, 1.0), [0, 0, 1, 1])  # 2.236
    np.testing.assert_array_equal(std_threshold_mask(w, 1.4), [0, 0, 0, 0])  # 3.13
    np.testing.assert_array_equal(std_threshold_mask(w, 0.0), [1, 1, 1, 1])


def test_sigma_is_over_the_unpruned_weights_and_old_zeros_stay():
    w = np.array([0.1, 0.2, 5.0, -5.0, 100.0])
    mask = np.array([1, 1, 1, 1, 0])  # σ of (0.1, 0.2, 5, -5) = 3.54, not the 100's
    np.testing.assert_array_equal(std_threshold_mask(w, 1.0, mask), [0, 0, 1, 1, 0])
    assert not std_threshold_mask(w, 1.0, np.zeros(5)).any()


def test_prune_by_std_prunes_every_weight_and_rises_each_round():
    model = lenet_300_100(rng=0)
    first = prune_by_std(model, 1.0)
    # uniform initial weights U(-a, a): P(|w| < a/√3) = 1/√3
    assert first == pytest.approx(1 / np.sqrt(3), abs=0.01)
    assert all(p.mask is None for name, p in model.named_parameters() if name.endswith("bias"))
    second = prune_by_std(model, 1.0)
    assert second > first
    for w in pruning.weights(model):
        alive = w.mask == 1
        assert np.abs(w.data[~alive]).max() < np.abs(w.data[alive]).min()


@pytest.mark.parametrize("bad", [-0.5, np.nan, np.inf, True, "1"])
def test_bad_quality(bad):
    with pytest.raises(ValueError, match="quality: expected a finite number >= 0"):
        std_threshold_mask(np.ones(3), bad)


def test_bad_weight_and_mask():
    with pytest.raises(ValueError, match="non-finite"):
        std_threshold_mask([1.0, np.nan], 1.0)
    with pytest.raises(ValueError, match="mask: shape"):
        std_threshold_mask(np.ones(3), 1.0, np.ones(4))
