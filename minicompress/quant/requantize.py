"""Requantization with integers only: an int32 accumulator back to 8-bit codes (Jacob et al. 2018,
§2.2 and Appendix B; gemmlowp's fixed-point arithmetic).

A layer with input scale S₁, weight scale S₂ and output scale S₃ accumulates
A = Σ (q₁ − Z₁)(q₂ − Z₂) + q_bias in int32 and must output q₃ = Z₃ + round(M·A) with
M = S₁S₂/S₃ (Eq. 4–5), a real number, "empirically always in (0, 1)". It is written

    M = 2⁻ⁿ · M₀ / 2³¹,      M₀ an int32 in [2³⁰, 2³¹), n ≥ 0            (Eq. 6)

so M·A is two integer steps (an M ≥ 1, which coarse weights can give, has n < 0: A is first
shifted left by −n, as TFLite does, and the bound on A then includes that shift):

1. ``srdhm(A, M₀)`` = round(A·M₀ / 2³¹): gemmlowp's SaturatingRoundingDoublingHighMul, the high
   32 bits of the 64-bit product 2·A·M₀, rounded to nearest with ties toward +∞ (its nudge
   2³⁰ or 1 − 2³⁰ before a division that truncates toward 0);
2. ``rounding_shift(x, n)`` = round(x / 2ⁿ): RoundingDivideByPOT, a right shift with
   round-to-nearest, ties away from 0 (the remainder against a threshold).

then q₃ = clamp(Z₃ + that, lo, hi): saturation to the codes, with a fused ReLU as a higher lo.

M₀'s precision. :func:`quantize_multiplier` rounds M to ``bits`` significant bits (31: the
paper's, and TFLite's ``QuantizeMultiplier``). The float simulation of the same steps
(:func:`requantize_float`) is exact when |A|·M₀ < 2⁵², so the integer-model converter gives M₀
min(31, 52 − log₂ bound(A)) bits: it then equals the integer kernel bit for bit by
construction, and M₀ is still an int32 in [2³⁰, 2³¹) (its low bits are 0); a relative change of
M below 2⁻²⁵ for LeNet's layers.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def quantize_multiplier(m: float, bits: int = 31) -> tuple[int, int]:
    """(M₀, n) with M = 2⁻ⁿ·M₀/2³¹, M₀ in [2³⁰, 2³¹) rounded to ``bits`` significant bits;
    n < 0 (a left shift) for M ≥ 1. Raises ValueError unless M is positive and finite and
    1 ≤ bits ≤ 31."""
    if not (isinstance(m, (float, int, np.floating)) and math.isfinite(m) and m > 0):
        raise ValueError(f"quantize_multiplier: expected a positive finite M = S_in·S_w/S_out, got {m!r}")
    if not 1 <= bits <= 31:
        raise ValueError(f"quantize_multiplier: bits must be in [1, 31], got {bits!r}")
    fraction, exponent = math.frexp(float(m))  # m = fraction·2^exponent, ½ ≤ fraction < 1
    significand = round(fraction * 2 ** bits)  # Python's round: ties to even
    if significand == 2 ** bits:  # rounded up to 1.0: renormalize
        significand, exponent = significand // 2, exponent + 1
    return significand << (31 - bits), -exponent


def multiplier_value(m0: int, n: int) -> float:
    """The real number 2⁻ⁿ·M₀/2³¹ that (M₀, n) stands for (exact in float64)."""
    return math.ldexp(m0, -31 - n)


# ----- the integer kernels -------------------------------------------------------------------
def srdhm(a: np.ndarray, m0) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul(a, M₀) for int32 a: round(a·M₀/2³¹), ties toward +∞.

    gemmlowp adds a nudge (2³⁰, or 1 − 2³⁰ for a negative product) and divides truncating toward
    0; for every integer product p that equals ⌊(p + 2³⁰)/2³¹⌋, one add and one arithmetic shift
    on the int64 product (|a·M₀| < 2⁶²: no overflow). The one saturating case, a = M₀ = −2³¹,
    cannot occur: M₀ > 0. Returns int64."""
    product = a.astype(np.int64) * np.asarray(m0, np.int64)
    product += np.int64(1 << 30)
    product >>= np.int64(31)
    return product


def rounding_shift(x: np.ndarray, n) -> np.ndarray:
    """RoundingDivideByPOT(x, n): round(x/2ⁿ), ties away from 0, by a shift and a threshold on
    the remainder (gemmlowp). n ≥ 0 (scalar or broadcastable, per channel). Returns int64."""
    x = x.astype(np.int64, copy=False)
    n = np.asarray(n, np.int64)
    mask = (np.int64(1) << n) - 1
    threshold = (mask >> 1) + (x < 0)
    up = (x & mask) > threshold
    out = x >> n
    out += up
    return out


def requantize(acc: np.ndarray, m0, n, zero_point, low: int, high: int) -> np.ndarray:
    """Output codes clamp(Z + rounding_shift(srdhm(acc·2^max(−n, 0), M₀), max(n, 0)), low, high)
    of an int32 accumulator; m0, n, zero_point scalars or per channel (broadcastable). The
    caller guarantees that the left-shifted accumulator still fits in int32. Returns int32."""
    n = np.asarray(n, np.int64)
    if np.any(n < 0):
        acc = acc.astype(np.int64) << np.maximum(-n, 0)
    scaled = rounding_shift(srdhm(acc, m0), np.maximum(n, 0))
    scaled += np.asarray(zero_point, np.int64)
    return np.clip(scaled, low, high).astype(np.int32)


# ----- the same steps in float64 ------------------------------------------------------------
def requantize_float(acc: np.ndarray, m0, n, zero_point, low: int, high: int) -> np.ndarray:
    """:func:`requantize` computed in float64 (acc holds integers as floats): v = acc·M₀·2⁻³¹,
    w = ⌊v + ½⌋ (ties toward +∞), u = w·2⁻ⁿ, sign(u)·⌊|u| + ½⌋ (ties away from 0), + Z, clamp.

    Exact, hence equal to :func:`requantize`, whenever |acc|·2^max(−n, 0)·M₀ < 2⁵²: that is then an
    integer float64 holds, v has at most 52 significant bits so v + ½ is exact, and the rest
    are a power-of-two scaling and roundings of exactly known values.
    """
    n = np.asarray(n, np.float64)
    v = acc * np.exp2(np.maximum(-n, 0)) * np.asarray(m0, np.float64) * 2.0 ** -31
    w = np.floor(v + 0.5)
    u = w * np.exp2(-np.maximum(n, 0))
    rounded = np.sign(u) * np.floor(np.abs(u) + 0.5)
    return np.clip(rounded + np.asarray(zero_point, np.float64), low, high)
