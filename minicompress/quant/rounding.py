"""Rounding a real number to an integer: the step every number format is built on.

A number format is a grid. Fixed point ⟨IL, FL⟩ is the grid ε·ℤ with ε = 2⁻ᶠᴸ; a float format
is the same kind of grid with ε following the exponent. Quantizing x is then three steps:
scale s = x/ε (exact: ε is a power of two), round s to an integer, scale back. The functions
here are the middle step. Each takes an array ``s`` of scaled values (float32 or float64),
overwrites it with integers (the caller passes a temporary) and returns it.

================  ==============================================  ==================================
mode              rule                                            where it comes from
================  ==============================================  ==================================
``nearest``       ⌈s − ½⌉: nearest integer, ties *down* (to −∞)    Gupta et al. 2015, Eq. 1
``nearest_even``  nearest integer, ties to the even one           IEEE 754's default
``down``          ⌊s⌋ (toward −∞; two's-complement truncation)     Gupta et al.'s ⌊x⌋
``toward_zero``   trunc(s)                                        IEEE 754 round-toward-zero
``stochastic``    ⌊s⌋ + 1 with probability s − ⌊s⌋, else ⌊s⌋       Gupta et al. 2015, Eq. 2
================  ==============================================  ==================================

Stochastic rounding is unbiased, E[q] = s: it rounds up with probability equal to the distance
from ⌊s⌋. It draws u ~ U[0, 1) in s's dtype and rounds up when u < s − ⌊s⌋. The draws are
multiples of 2⁻ᵇ (b = 24 for float32, 53 for float64), so P(up) = ⌈(s − ⌊s⌋)·2ᵇ⌉/2ᵇ; with the
rounding of s − ⌊s⌋ itself (inexact only for −½ < s < 0), P(up) differs from the exact distance
by less than 2⁻ᵇ: a bias below 2⁻²⁴ of a grid step in float32, invisible in any training run.

The float formats round on bit patterns instead (the ``round_pattern_*`` kernels at the end):
the same three IEEE-style modes, exact, including stochastic rounding with integer random bits.
"""
from __future__ import annotations

import numpy as np

from minicompress.rng import as_rng


def round_nearest(s: np.ndarray, rng=None, buffers=None) -> np.ndarray:
    """⌈s − ½⌉: the nearest integer, halves rounded down (toward −∞), as Gupta et al.'s Eq. 1:
    ⌊x⌋ if x − ⌊x⌋ ≤ ε/2, else ⌊x⌋ + ε. Exact for |s| ≤ 2ᵇ⁻¹ (s − ½ is then representable)."""
    np.subtract(s, 0.5, out=s)
    np.ceil(s, out=s)
    return np.add(s, 0.0, out=s)  # ⌈−0.3⌉ is −0.0; adding +0.0 makes it +0.0, so 0 stays 0


def round_nearest_even(s: np.ndarray, rng=None, buffers=None) -> np.ndarray:
    """The nearest integer, halves to the even one (IEEE 754; NumPy's ``rint``)."""
    return np.rint(s, out=s)


def round_down(s: np.ndarray, rng=None, buffers=None) -> np.ndarray:
    """⌊s⌋: the largest integer ≤ s."""
    return np.floor(s, out=s)


def round_toward_zero(s: np.ndarray, rng=None, buffers=None) -> np.ndarray:
    """trunc(s): drop the fraction (⌊s⌋ for s ≥ 0, ⌈s⌉ for s < 0)."""
    return np.trunc(s, out=s)


def round_stochastic(s: np.ndarray, rng=None, buffers: dict | None = None) -> np.ndarray:
    """⌊s⌋ + 1 with probability s − ⌊s⌋, else ⌊s⌋ (Gupta et al. 2015, Eq. 2), so E[q] = s.

    Draws one uniform number per entry from ``rng`` (a Generator, an int seed or None).
    ``buffers`` (a dict the caller keeps, as the engine's im2col does) holds the two scratch
    arrays between calls: fresh large temporaries cost page faults that can take longer than
    the arithmetic. The result is written into ``s``.

    Readable form: ``lower + (u < distance)``; the code below computes the same integers
    without a boolean temporary.
    """
    lower = np.floor(s, out=scratch(buffers, "lower", s))
    distance = np.subtract(s, lower, out=s)  # in [0, 1]
    u = as_rng(rng).random(s.shape, dtype=s.dtype, out=scratch(buffers, "uniform", s))
    # ⌈distance − u⌉ is 1 when u < distance and 0 otherwise: distance − u lies in (−1, 1], and
    # a rounded float difference keeps the sign of the exact one.
    np.subtract(distance, u, out=s)
    np.ceil(s, out=s)
    s += lower
    return s


def scratch(buffers: dict | None, key: str, like: np.ndarray, dtype=None) -> np.ndarray:
    """An uninitialized array shaped like ``like`` (of its dtype, or ``dtype``), kept in
    ``buffers`` for the next call (a new one every call without ``buffers``)."""
    dtype = np.dtype(like.dtype if dtype is None else dtype)
    if buffers is None:
        return np.empty(like.shape, dtype)
    slot = (key, like.shape, dtype.str)
    if slot not in buffers:
        buffers[slot] = np.empty(like.shape, dtype)
    return buffers[slot]


ROUNDINGS = {
    "nearest": round_nearest,
    "nearest_even": round_nearest_even,
    "down": round_down,
    "toward_zero": round_toward_zero,
    "stochastic": round_stochastic,
}


def rounding_function(mode: str, allowed: tuple, who: str):
    """The kernel for ``mode``, or a ValueError listing the modes ``who`` accepts."""
    if not isinstance(mode, str) or mode not in allowed:
        raise ValueError(f"{who}: unknown rounding {mode!r}; expected one of "
                         + ", ".join(repr(m) for m in allowed))
    return ROUNDINGS[mode]


# ----- the same on bit patterns: the low ``drop`` bits of a non-negative float's pattern ----
# A positive float's pattern is monotone in its value and affine inside each binade, so adding
# to it and clearing its low bits rounds to fewer mantissa bits (minicompress.quant.floats).
# Each returns a new array of ``magnitude``'s unsigned type.


def round_pattern_nearest_even(magnitude, drop, rng):
    """Add half a step minus one, plus the lowest kept bit: a tie then carries exactly when the
    kept part is odd, so ties go to the even neighbour."""
    if drop == 0:
        return magnitude.copy()
    t = magnitude.dtype.type
    out = magnitude >> t(drop)
    out &= t(1)  # the lowest kept bit
    out += magnitude
    out += t((1 << (drop - 1)) - 1)
    return clear_low_bits(out, drop)


def round_pattern_toward_zero(magnitude, drop, rng):
    return clear_low_bits(magnitude.copy(), drop)


def round_pattern_stochastic(magnitude, drop, rng):
    """Add d uniform random bits: the carry happens with probability (dropped bits)/2ᵈ."""
    # the narrowest unsigned type that holds d bits: bfloat16's 16 random bits come as uint16,
    # half the generator's work of uint32 draws
    narrowest = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(t).bits >= drop)
    noise = as_rng(rng).integers(0, 1 << drop, size=magnitude.shape, dtype=narrowest)
    return clear_low_bits(magnitude + noise, drop)  # the sum takes the magnitude's type


def clear_low_bits(bits, drop):
    bits &= ~bits.dtype.type((1 << drop) - 1)
    return bits


PATTERN_ROUNDINGS = {"nearest_even": round_pattern_nearest_even,
                     "toward_zero": round_pattern_toward_zero, "stochastic": round_pattern_stochastic}
