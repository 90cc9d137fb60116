"""Train and test splits: disjoint random streams for generated data, a split helper for files.

Generated datasets draw their training and test sets from two *independent* random streams
derived from one seed (``np.random.SeedSequence(seed).spawn(2)``), so the test set is never a
reshuffle of training examples, and asking for more training data does not change the test set.

Real datasets come with their own split. Where only one part is at hand (on machines that hold
only MNIST's 10,000 test images), :func:`train_test_split` makes a seeded, stratified split::

    x, y = load("mnist", split="test", data_dir="/work/shared/data/mnist")
    (x_train, y_train), (x_test, y_test) = train_test_split(x, y, test_size=2000, rng=0)
"""
from __future__ import annotations

import numbers

import numpy as np

from minicompress.rng import as_rng

SPLITS = ("train", "test")


def check_split(split) -> str:
    """Return ``split`` if it is "train" or "test", else raise a ValueError that lists both."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of: {', '.join(SPLITS)}")
    return split


def split_rng(seed, split) -> np.random.Generator:
    """The random stream of one split of a generated dataset: independent of the other split.

    Parameters
    ----------
    seed : int
        The dataset's seed (non-negative).
    split : {"train", "test"}
    """
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    child = np.random.SeedSequence(int(seed)).spawn(len(SPLITS))[SPLITS.index(check_split(split))]
    return np.random.default_rng(child)


def train_test_split(x, y, *, test_size, rng=0, stratify=True):
    """Split ``(x, y)`` into a training and a test part, reproducibly.

    Parameters
    ----------
    x : np.ndarray, (n, ...)
        Inputs; any trailing shape.
    y : np.ndarray, (n,)
        Integer class labels.
    test_size : int or float
        Number of test examples (int, 1 <= test_size < n), or a fraction of n (float in (0, 1)).
    rng : np.random.Generator, int or None
        Decides which examples go to the test part. Same seed, same split.
    stratify : bool
        Keep every class's share in both parts: each class gives round(fraction * its count)
        examples to the test part, with leftover units assigned to the classes with the largest
        remainders (ties by class order), so the test part has exactly ``test_size`` examples.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        Examples keep their original relative order within each part.
    """
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim != 1 or (stratify and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(f"y: expected integer class labels of shape (n,), got {y.dtype} array "
                         f"of shape {y.shape}" + ("" if y.ndim != 1 else "; pass stratify=False "
                                                  "to split other targets"))
    n = len(y)
    if len(x) != n:
        raise ValueError(f"x has {len(x)} examples but y has {n}")
    n_test = _test_count(test_size, n)
    rng = as_rng(rng)
    if not stratify:
        test = rng.permutation(n)[:n_test]
    else:
        classes, counts = np.unique(y, return_counts=True)
        quota = counts * (n_test / n)
        take = np.floor(quota).astype(np.int64)
        leftover = n_test - take.sum()
        order = np.argsort(-(quota - take), kind="stable")  # largest remainder first
        take[order[:leftover]] += 1
        test = np.concatenate([
            rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take)
        ])
    is_test = np.zeros(n, dtype=bool)
    is_test[test] = True
    return (x[~is_test], y[~is_test]), (x[is_test], y[is_test])


def _test_count(test_size, n) -> int:
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        count = int(test_size)
    elif isinstance(test_size, numbers.Real) and 0 < test_size < 1:
        count = int(round(test_size * n))
    else:
        raise ValueError(f"test_size: expected an int count or a float fraction in (0, 1), "
                         f"got {test_size!r}")
    if not 1 <= count < n:
        raise ValueError(f"test_size: {test_size!r} gives {count} test examples out of {n}; "
                         "both parts must be non-empty")
    return count
