"""One way to turn a user's ``rng`` argument into a NumPy random generator.

Every stochastic function in minicompress takes ``rng``: a ``np.random.Generator`` (used as it
is, so one generator can be threaded through a whole run), an int seed (same seed, same bits),
or None (fresh entropy from the operating system, not reproducible). The global ``np.random``
state is never read or written.
"""
from __future__ import annotations

import numbers

import numpy as np


def as_rng(rng=None) -> np.random.Generator:
    """Return a ``np.random.Generator`` for ``rng``.

    Parameters
    ----------
    rng : np.random.Generator, int or None
        A generator is returned unchanged (its stream is shared, not copied); a non-negative
        int seeds a new PCG64 generator; None seeds one from the operating system.

    Raises
    ------
    TypeError
        If ``rng`` is of any other type (a float, a legacy ``RandomState``, ...).
    ValueError
        If ``rng`` is a negative int.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng: a seed must be a non-negative int, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        "rng: expected a np.random.Generator, an int seed or None, "
        f"got {type(rng).__name__} ({rng!r})"
    )
