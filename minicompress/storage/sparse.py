"""Deep Compression's sparse index: each kept entry's distance to the previous one in b bits.

A pruned tensor, flattened in C order, keeps the entries at positions p_0 < p_1 < ... The
stream stores, for each of them, the number of positions skipped since the previous one,
d_j = p_j − p_{j−1} − 1 (p_{−1} = −1), in a fixed number of bits b (Han et al. 2016, §2 and
Fig. 2: 8 bits for convolutions, 5 for fully connected layers). A gap too long for b bits is
bridged by fillers: the largest symbol, m = 2^b − 1, means "skip m positions, no entry here".
So d_j = q·m + r is written as q fillers, then r (0 ≤ r < m).

Deviation: the paper's filler is a stored zero weight, which also takes a weight code; ours is
recognised by its symbol alone, so a filler costs its b index bits and no weight bits.

>>> relative_index([1, 2, 9], bits=2)     # gaps 1, 0, 6 = 3 + 3 + 0: m = 3
array([1, 0, 3, 3, 0])
>>> positions_from_index([1, 0, 3, 3, 0], bits=2)
array([1, 2, 9])
"""
from __future__ import annotations

import numpy as np

MAX_INDEX_BITS = 16


def relative_index(positions, bits: int) -> np.ndarray:
    """The symbols (int64, each in [0, 2^bits − 1]) of strictly increasing flat positions."""
    m = _filler(bits)
    positions = np.asarray(positions, np.int64).ravel()
    if positions.size and (positions[0] < 0 or np.any(np.diff(positions) <= 0)):
        raise ValueError("relative_index: positions must be non-negative and strictly increasing")
    gaps = np.diff(positions, prepend=-1) - 1  # positions skipped before each entry
    fillers, rest = np.divmod(gaps, m)
    symbols = np.full(positions.size + int(fillers.sum()), m, np.int64)
    symbols[np.arange(positions.size) + np.cumsum(fillers)] = rest  # each entry after its fillers
    return symbols


def positions_from_index(symbols, bits: int, size: int | None = None) -> np.ndarray:
    """Inverse of :func:`relative_index`: the flat positions of the entries.

    ``size`` (the tensor's number of entries), if given, bounds the positions: a stream that
    runs past the end raises ValueError.
    """
    m = _filler(bits)
    symbols = np.asarray(symbols, np.int64).ravel()
    if symbols.size and (symbols.min() < 0 or symbols.max() > m):
        raise ValueError(f"positions_from_index: symbols must be in [0, {m}] for {bits} bits")
    entry = symbols != m
    advance = np.where(entry, symbols + 1, m)  # an entry moves past its gap and itself
    positions = (np.cumsum(advance) - 1)[entry]
    if size is not None and positions.size and positions[-1] >= size:
        raise ValueError(f"positions_from_index: the index reaches position {positions[-1]} of a "
                         f"tensor of {size} entries (corrupted index)")
    return positions


def _filler(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_INDEX_BITS:
        raise ValueError(f"bits: the relative index needs an int number of bits in "
                         f"[1, {MAX_INDEX_BITS}], got {bits!r}")
    return 2 ** int(bits) - 1
