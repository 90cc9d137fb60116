"""The papers' toy tasks against their truth tables."""
import numpy as np
import pytest

from minicompress.datasets import load
from minicompress.datasets.toy import MONK_SIZES, MONK_TRAIN, monk


def test_rule_plus_exception_truth_table():
    x, y = load("rule_plus_exception")
    assert x.shape == (16, 4) and x.dtype == np.float32 and y.dtype == np.int64
    assert len({row.tobytes() for row in x}) == 16  # every pattern once
    positives = {"".join(str(int(b)) for b in row) for row, t in zip(x, y) if t == 1}
    assert positives == {"1100", "1101", "1110", "1111", "0000"}  # 4 rule cases + exception


def test_multiplexer_selects_the_addressed_data_bit():
    x, y = load("multiplexer")
    assert x.shape == (64, 6) and len({row.tobytes() for row in x}) == 64
    for (s1, s0, *data), target in zip(x.astype(int), y):
        assert target == data[2 * s1 + s0]
    assert y.sum() == 32


def test_both_splits_of_a_truth_table_are_the_whole_table():
    for name in ("rule_plus_exception", "multiplexer"):
        train, test = load(name, "train"), load(name, "test")
        np.testing.assert_array_equal(train[0], test[0])
        np.testing.assert_array_equal(train[1], test[1])
        with pytest.raises(ValueError, match="fixed truth table"):
            load(name, n=8)


def test_karnin_2d_band_and_splits():
    x, y = load("karnin_2d")
    x_test, y_test = load("karnin_2d", "test")
    assert x.shape == (200, 2) and x_test.shape == (1000, 2) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() < 1
    np.testing.assert_array_equal(y, np.abs(x[:, 0] - x[:, 1]) < 0.3)
    assert 0.4 < y_test.mean() < 0.62  # the band covers 51% of the square
    assert not np.isin(x_test[:, 0], x[:, 0]).any()  # independent streams


def test_karnin_2d_is_seeded():
    a, b, c = load("karnin_2d", seed=1), load("karnin_2d", seed=1), load("karnin_2d", seed=2)
    assert a[0].tobytes() == b[0].tobytes() and a[0].tobytes() != c[0].tobytes()
    assert load("karnin_2d", n=50)[0].shape == (50, 2)


@pytest.mark.parametrize("problem", [1, 2, 3])
def test_monk_data_follow_the_rules(problem):
    x, y, x_test, y_test = monk(problem, np.random.default_rng(0))
    assert x_test.shape == (432, 17) and len(x) == MONK_TRAIN[problem]
    assert np.all(x_test.sum(axis=1) == 6) and len({tuple(r) for r in x_test}) == 432  # one-hot, all patterns
    starts = np.cumsum((0,) + MONK_SIZES[:-1])
    a = np.stack([x_test[:, s:s + k].argmax(axis=1) + 1 for s, k in zip(starts, MONK_SIZES)], axis=1)
    for row, label in zip(a, y_test):  # the rules, written out one pattern at a time
        a1, a2, a3, a4, a5, a6 = row
        expected = {1: a1 == a2 or a5 == 1, 2: sum(v == 1 for v in row) == 2,
                    3: (a5 == 3 and a4 == 1) or (a5 != 4 and a2 != 3)}[problem]
        assert label == expected
    index = {tuple(r): i for i, r in enumerate(x_test)}
    flipped = sum(y[j] != y_test[index[tuple(r)]] for j, r in enumerate(x))
    assert flipped == (round(0.05 * len(x)) if problem == 3 else 0)
