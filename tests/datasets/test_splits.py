"""The seeded, stratified train/test split helper."""
import numpy as np
import pytest

from minicompress.datasets import train_test_split


@pytest.fixture
def data():
    y = np.repeat(np.arange(3), [50, 30, 20])  # unbalanced classes
    x = np.arange(100 * 2).reshape(100, 2).astype(np.float32)
    return x, y


def test_stratified_split_has_the_exact_size_and_class_shares(data):
    x, y = data
    (x_tr, y_tr), (x_te, y_te) = train_test_split(x, y, test_size=25, rng=0)
    assert len(y_te) == 25 and len(y_tr) == 75
    # Quotas 12.5, 7.5, 5: the one unit left over goes to the tied remainders' first class.
    assert np.bincount(y_te).tolist() == [13, 7, 5]
    ids = np.concatenate([x_tr[:, 0], x_te[:, 0]])
    assert sorted(ids.tolist()) == x[:, 0].tolist()  # a partition of the examples
    assert (np.diff(x_te[:, 0]) > 0).all()  # original order kept


def test_same_seed_same_split_other_seed_other_split(data):
    x, y = data
    first = train_test_split(x, y, test_size=0.2, rng=7)[1][0]
    again = train_test_split(x, y, test_size=0.2, rng=7)[1][0]
    other = train_test_split(x, y, test_size=0.2, rng=8)[1][0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other) and len(first) == 20


def test_unstratified_split(data):
    x, y = data
    _, (x_te, _) = train_test_split(x, y, test_size=10, rng=0, stratify=False)
    assert len(x_te) == 10


@pytest.mark.parametrize("bad", [0, 100, 1.0, 0.0, -3, "half", True])
def test_bad_test_sizes(data, bad):
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(*data, test_size=bad)


def test_length_mismatch(data):
    x, y = data
    with pytest.raises(ValueError, match="x has 99 examples but y has 100"):
        train_test_split(x[:99], y, test_size=5)


def test_labels_must_be_integer_classes_of_shape_n(data):
    x, y = data
    with pytest.raises(ValueError, match=r"y: expected integer class labels of shape \(n,\), got int64 array of shape \(100, 1\)"):
        train_test_split(x, y[:, None], test_size=5)
    with pytest.raises(ValueError, match="got float64 array of shape \\(100,\\); pass stratify=False"):
        train_test_split(x, y + 0.5, test_size=5)
    assert len(train_test_split(x, y + 0.5, test_size=5, stratify=False)[1][1]) == 5
