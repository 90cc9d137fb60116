"""The small tasks of the 1988-1990 pruning papers, generated exactly.

Boolean tasks return their whole truth table, patterns in binary counting order (the first
input is the most significant bit), as ``x`` float32 (n_patterns, n_inputs) of 0/1 and ``y``
int64 (n_patterns,) of 0/1. The papers train and test on the whole table, so the training and
the test "split" of these tasks are the same 16 or 64 patterns. MONK's problems (Optimal Brain
Surgeon's demonstrations, :func:`monk`) draw a training set at random, the whole table the test.
"""
from __future__ import annotations

import itertools

import numpy as np

RULE_PLUS_EXCEPTION_INPUTS = ("A", "B", "C", "D")
MULTIPLEXER_INPUTS = ("s1", "s0", "d0", "d1", "d2", "d3")
MONK_SIZES = (3, 3, 2, 3, 4, 2)  # values of MONK's six attributes: 432 patterns, 17 one-hot inputs
MONK_TRAIN = {1: 124, 2: 169, 3: 122}  # training patterns of MONK-1, 2, 3 (Thrun et al. 1991)


def bit_patterns(n_bits: int) -> np.ndarray:
    """All 2**n_bits patterns of n_bits bits, int64 (2**n_bits, n_bits), row i = i in binary."""
    powers = np.arange(n_bits - 1, -1, -1)
    return (np.arange(2 ** n_bits)[:, None] >> powers) & 1


def rule_plus_exception():
    """Mozer & Smolensky's rule-plus-exception task (also used by Karnin).

    Four inputs A, B, C, D; target y = (A and B) or (not A and not B and not C and not D).
    Of the 16 patterns, 4 follow the rule (A = B = 1), 1 is the exception (0000), 11 are 0.

    Returns
    -------
    x : np.ndarray, float32, (16, 4)
        Columns A, B, C, D.
    y : np.ndarray, int64, (16,)
    """
    bits = bit_patterns(4)
    a, b, c, d = bits.T
    y = (a & b) | ((1 - a) & (1 - b) & (1 - c) & (1 - d))
    return bits.astype(np.float32), y.astype(np.int64)


def multiplexer():
    """The 4-bit multiplexer of Mozer & Smolensky: 2 address bits select 1 of 4 data bits.

    Returns
    -------
    x : np.ndarray, float32, (64, 6)
        Columns s1, s0 (address, s1 most significant), then d0, d1, d2, d3 (data).
    y : np.ndarray, int64, (64,)
        y = d[2 * s1 + s0].
    """
    bits = bit_patterns(6)
    address = 2 * bits[:, 0] + bits[:, 1]
    y = bits[np.arange(64), 2 + address]
    return bits.astype(np.float32), y.astype(np.int64)


def karnin_2d(n, rng, *, half_width=0.3):
    """A two-class problem in the plane, for Karnin's 2-2-1 experiment.

    Points are uniform in the unit square; class 1 is the diagonal band |x1 - x2| < half_width.
    Two hidden units (one per edge of the band) solve it exactly, so a 2-2-1 network can, and a
    wider one has units and weights to spare. With half_width 0.3 the band covers
    1 - 0.7**2 = 51% of the square, so the classes are nearly balanced. Karnin (1990) used a
    2-D problem with a 2-2-1 network; its exact definition is not reproduced here.

    Parameters
    ----------
    n : int
        Number of points.
    rng : np.random.Generator
        The random stream (see :func:`minicompress.datasets.splits.split_rng`).
    half_width : float
        Half the width of the band, measured along either axis.

    Returns
    -------
    x : np.ndarray, float32, (n, 2)
    y : np.ndarray, int64, (n,)
    """
    x = rng.random((n, 2), dtype=np.float32)
    y = np.abs(x[:, 0] - x[:, 1]) < half_width
    return x, y.astype(np.int64)


def monk(problem: int, rng):
    """MONK's problem 1, 2 or 3 (Thrun et al. 1991), generated from its rule.

    All 432 patterns are the test set; the training set is ``MONK_TRAIN[problem]`` of them drawn
    at random (the published fixed files are not used); MONK-3 has 5% of its training labels
    flipped. Inputs are one-hot, 17 per pattern.

    Returns
    -------
    x, y, x_test, y_test : float64 (n, 17), int64 (n,) of 0/1, float64 (432, 17), int64 (432,)
    """
    a = np.array(list(itertools.product(*[range(1, s + 1) for s in MONK_SIZES])))
    a1, a2, a3, a4, a5, a6 = a.T
    rule = {1: (a1 == a2) | (a5 == 1), 2: (a == 1).sum(axis=1) == 2,
            3: ((a5 == 3) & (a4 == 1)) | ((a5 != 4) & (a2 != 3))}[problem]
    x = np.concatenate([np.eye(s)[a[:, i] - 1] for i, s in enumerate(MONK_SIZES)], axis=1)
    train = rng.choice(len(x), MONK_TRAIN[problem], replace=False)
    y = rule[train].astype(np.int64)
    if problem == 3:
        flip = rng.choice(len(train), round(0.05 * len(train)), replace=False)
        y[flip] = 1 - y[flip]
    return x[train], y, x, rule.astype(np.int64)
