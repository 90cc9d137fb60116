"""Affine (uniform) quantization: r = S·(q − Z), per tensor or per channel (Jacob et al. 2018, §2.1).

A real value r is stored as an integer code q of ``bits`` bits, through a *scale* S > 0 (a real
number) and a *zero point* Z (an integer code):

    q = clamp(round_half_even(r / S + Z), q_min, q_max)        r̂ = S·(q − Z)

with [q_min, q_max] = [−2^(b−1), 2^(b−1) − 1] (signed) or [0, 2^b − 1] (unsigned). Z is a code,
so the real 0 is represented exactly (r = 0 ↦ q = Z ↦ r̂ = 0): zero padding and ReLU stay
exact. Inside the range [S·(q_min − Z), S·(q_max − Z)] the error is at most S/2.

Z is added *before* rounding, as DESIGN.md specifies for ``quantize_affine`` (fbgemm's "legacy"
rounding, and PyTorch's before fbgemm's ``LEGACY=false``); round(r/S) + Z differs from it only
at exact ties with an odd Z, and ``zero_point_first=False`` gives that variant (today's PyTorch
``quantize_per_tensor`` on x86, which also multiplies by a float32 1/S instead of dividing).

Per channel (``axis=k``): one (S, Z) per index along axis k, e.g. per output channel of a weight
(axis 0 of a Linear's (out, in) or a Conv2d's (o, c, kh, kw) weight).

Choosing (S, Z) from a range [lo, hi] (:func:`choose_qparams`, PyTorch's observer rule): the
range is widened to contain 0, then

    asymmetric: S = (hi − lo)/(q_max − q_min),  Z = q_min − round(lo/S)  (clamped to the codes)
    symmetric:  S = max(|lo|, |hi|)/(2^(b−1) − 1),  Z = 0, codes restricted to ±(2^(b−1) − 1)

(the symmetric, "narrow" range of TFLite's int8 weights: −128 is never used, so that
−q is always a code). S is at least float32's machine epsilon (a constant tensor gets S = ε).
"""
from __future__ import annotations

import numbers

import numpy as np

from minicompress.nn.checks import NonFiniteError

EPS = float(np.finfo(np.float32).eps)  # smallest scale, as PyTorch's observers


def code_range(bits: int, signed: bool, *, narrow: bool = False) -> tuple[int, int]:
    """(q_min, q_max) of ``bits``-bit codes; ``narrow`` drops −2^(b−1) (symmetric weights)."""
    check_bits(bits, "code_range")
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
    return (low + 1 if narrow and signed else low), high


def code_dtype(bits: int, signed: bool) -> np.dtype:
    """The narrowest NumPy integer type holding the codes: int8/uint8 up to 8 bits, else 16."""
    return np.dtype(("int" if signed else "uint") + ("8" if bits <= 8 else "16"))


def check_bits(bits, who: str) -> int:
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not 2 <= bits <= 16:
        raise ValueError(f"{who}: bits must be an int in [2, 16], got {bits!r}")
    return int(bits)


def _params(x_shape, scale, zero_point, axis, who: str):
    """(scale, zero_point) as float64 / int64 arrays broadcastable against x, validated."""
    scale = np.asarray(scale, dtype=np.float64)
    zero_point = np.asarray(zero_point)
    if zero_point.dtype.kind == "f":
        if not np.all(zero_point == np.round(zero_point)):
            raise ValueError(f"{who}: zero_point must hold integers (codes), got {zero_point}")
    elif zero_point.dtype.kind not in "iu":
        raise TypeError(f"{who}: zero_point must be integers, got {zero_point.dtype}")
    zero_point = zero_point.astype(np.int64)
    if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError(f"{who}: scale must be positive and finite, got {scale}")
    if axis is None:
        if scale.size != 1 or zero_point.size != 1:
            raise ValueError(f"{who}: per-tensor quantization takes one scale and one zero_point, "
                             f"got {scale.size} and {zero_point.size}; pass axis= for per channel")
        return scale.reshape(()), zero_point.reshape(())
    ndim = len(x_shape)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not -ndim <= axis < ndim:
        raise ValueError(f"{who}: axis must be an int in [{-ndim}, {ndim - 1}] for an input of "
                         f"shape {tuple(x_shape)}, got {axis!r}")
    axis = axis % ndim
    channels = x_shape[axis]
    if scale.ndim != 1 or scale.size != channels or zero_point.size not in (1, channels):
        raise ValueError(f"{who}: per-channel along axis {axis} expects {channels} scales and "
                         f"zero points, got {scale.shape} and {zero_point.shape}")
    shape = [1] * ndim
    shape[axis] = channels
    return scale.reshape(shape), np.broadcast_to(zero_point.reshape(-1), (channels,)).reshape(shape)


def quantize_affine(x, scale, zero_point, *, bits: int = 8, signed: bool = True, axis=None,
                    narrow: bool = False, zero_point_first: bool = True) -> np.ndarray:
    """Integer codes q = clamp(round_half_even(x / S + Z)) (see the module docstring).

    Parameters
    ----------
    x : array_like of floats, any shape
    scale : float, or (x.shape[axis],) floats > 0
    zero_point : int, or (x.shape[axis],) ints within the code range
    bits : int in [2, 16];  signed : bool
        Codes in [−2^(b−1), 2^(b−1) − 1] or [0, 2^b − 1].
    axis : int or None
        None: one (S, Z) for the whole tensor; k: one per index along axis k.
    narrow : bool
        Leave out the code −2^(b−1) (symmetric weights).
    zero_point_first : bool
        True: round(x/S + Z) (the definition above); False: round(x/S) + Z.

    Returns
    -------
    ndarray of x's shape, int8/uint8 (bits ≤ 8) or int16/uint16.

    Raises
    ------
    ValueError for scale ≤ 0, bits outside [2, 16], an axis out of range, mismatched parameter
    sizes, zero points outside the codes; NonFiniteError for NaN in x (±inf saturates).
    """
    bits = check_bits(bits, "quantize_affine")
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"quantize_affine: x must be floats, got {x.dtype}")
    s, z = _params(x.shape, scale, zero_point, axis, "quantize_affine")
    low, high = code_range(bits, signed, narrow=narrow)
    if np.any(z < low) or np.any(z > high):
        raise ValueError(f"quantize_affine: zero_point must lie in [{low}, {high}] for {bits}-bit "
                         f"{'signed' if signed else 'unsigned'} codes, got {np.unique(z)}")
    if np.isnan(x).any():
        raise NonFiniteError(f"quantize_affine: x contains NaN (first at flat index "
                             f"{int(np.flatnonzero(np.isnan(x.ravel()))[0])}); a code has no NaN")
    t = x.astype(np.float64) / s
    q = np.rint(t + z) if zero_point_first else np.rint(t) + z
    return np.clip(q, low, high).astype(code_dtype(bits, signed))


def dequantize_affine(q, scale, zero_point, *, axis=None, dtype=np.float32) -> np.ndarray:
    """Real values S·(q − Z) of integer codes, in ``dtype`` (float32 as PyTorch: (q − Z) is
    exact, the product rounded once in ``dtype``)."""
    q = np.asarray(q)
    if not np.issubdtype(q.dtype, np.integer):
        raise TypeError(f"dequantize_affine: q must be integer codes, got {q.dtype}")
    s, z = _params(q.shape, scale, zero_point, axis, "dequantize_affine")
    dtype = np.dtype(dtype)
    return (q.astype(np.int64) - z).astype(dtype) * s.astype(dtype)


def fake_quantize(x, scale, zero_point, *, bits: int = 8, signed: bool = True, axis=None,
                  narrow: bool = False) -> np.ndarray:
    """x rounded onto the grid S·(q − Z) and back, in x's dtype (what quantization-aware
    training computes with)."""
    x = np.asarray(x)
    q = quantize_affine(x, scale, zero_point, bits=bits, signed=signed, axis=axis, narrow=narrow)
    return dequantize_affine(q, scale, zero_point, axis=axis, dtype=x.dtype)


def choose_qparams(lo, hi, *, bits: int = 8, signed: bool = True, symmetric: bool = False):
    """(scale, zero_point) for the range [lo, hi] (arrays for per-channel ranges), by the rule in
    the module docstring. Returns float64 scale(s) and int64 zero point(s)."""
    bits = check_bits(bits, "choose_qparams")
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise NonFiniteError(f"choose_qparams: the range must be finite, got [{lo}, {hi}]")
    if np.any(lo > hi):
        raise ValueError(f"choose_qparams: expected lo <= hi, got [{lo}, {hi}]")
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)  # the range always holds 0
    if symmetric:
        if not signed:
            raise ValueError("choose_qparams: symmetric quantization needs signed codes")
        scale = np.maximum(np.maximum(-lo, hi) / (2 ** (bits - 1) - 1), EPS)
        return scale, np.zeros(scale.shape, np.int64)
    low, high = code_range(bits, signed)
    scale = np.maximum((hi - lo) / (high - low), EPS)
    zero_point = np.clip(low - np.rint(lo / scale), low, high).astype(np.int64)
    return scale, zero_point
