"""The bit patterns of a float format: what an 8-bit (or 16-bit) register holds.

:func:`quantize_float` simulates a format on float32/float64 arrays; this file turns those
values into the format's own codes and back, so that a test can walk through all 2^(1+e+m)
codes (decode, then encode back) and compare with other implementations code by code.

A code is ``s | E | f`` (sign on top, then the e-bit exponent field E, then the m-bit fraction
f), read as

    E = 0            (−1)ˢ · f·2⁻ᵐ · 2^emin              (zero and subnormals)
    0 < E < top      (−1)ˢ · (1 + f·2⁻ᵐ) · 2^(E − bias)
    E = top = 2ᵉ−1   as above, except: "ieee": ±inf (f = 0), NaN (f ≠ 0); "nan": NaN if f is all
                     ones (E4M3's S.1111.111); "none": never special.

NaN payloads travel: a NaN code decodes to a float64 NaN whose leading fraction bits are f,
and such a NaN encodes back to f (any other NaN encodes to the format's quiet NaN, f = 10…0,
or all ones for "nan" formats). So every code of every format survives decode → encode.
"""
from __future__ import annotations

import numpy as np

F64_FRACTION = 52


def _unsigned(fmt) -> type:
    width = 1 + fmt.exp_bits + fmt.man_bits
    return next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(t).bits >= width)


def decode(codes, fmt) -> np.ndarray:
    """float64 values of ``codes`` (integers in [0, 2^(1+e+m))), any shape; −0 for the negative
    zero code, NaN payloads kept in the leading fraction bits."""
    codes = np.asarray(codes)
    width = 1 + fmt.exp_bits + fmt.man_bits
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"decode: codes must be integers, got {codes.dtype}")
    if codes.size and (codes.min() < 0 or codes.max() >= 2 ** width):
        raise ValueError(f"decode: codes of {fmt.label} must lie in [0, {2 ** width - 1}], got "
                         f"[{codes.min()}, {codes.max()}]")
    c = codes.astype(np.int64)
    m, top = fmt.man_bits, 2 ** fmt.exp_bits - 1
    sign, field, frac = c >> (width - 1), (c >> m) & top, c & (2 ** m - 1)
    normal = np.ldexp(1.0 + np.ldexp(frac.astype(np.float64), -m), np.maximum(field, 1) - fmt.bias)
    value = np.where(field == 0, np.ldexp(frac.astype(np.float64), fmt.emin - m), normal)
    if fmt.specials == "ieee":
        value = np.where(field == top, np.where(frac == 0, np.inf, np.nan), value)
    nan = (field == top) & ((frac != 0) if fmt.specials == "ieee" else
                            (frac == 2 ** m - 1) if fmt.specials == "nan" else False)
    value = np.where(sign == 1, -value, value)  # −0.0 for the negative zero code
    if np.any(nan):  # NaN with the code's sign and its fraction as the leading payload bits
        payload = (np.uint64(0x7FF) << np.uint64(52)) | (frac[nan].astype(np.uint64) << np.uint64(F64_FRACTION - m))
        payload |= sign[nan].astype(np.uint64) << np.uint64(63)
        value[nan] = payload.view(np.float64)
    return value


def encode(values, fmt) -> np.ndarray:
    """The codes of ``values``, which must be values of ``fmt`` (round them first with
    :func:`~minicompress.quant.quantize_float`); unsigned, the narrowest type that holds them."""
    x = np.asarray(values, dtype=np.float64)
    m, width, top = fmt.man_bits, 1 + fmt.exp_bits + fmt.man_bits, 2 ** fmt.exp_bits - 1
    magnitude = np.abs(x)
    nan, inf = np.isnan(x), np.isinf(x)
    finite = ~(nan | inf)
    if fmt.specials != "ieee" and inf.any():
        raise ValueError(f"encode: {fmt.label} has no infinities; got {x[inf].ravel()[0]}")
    if fmt.specials == "none" and nan.any():
        raise ValueError(f"encode: {fmt.label} has no NaN (its codes are all finite numbers)")
    rounded = np.where(finite, x, 0.0)
    if not np.array_equal(fmt.quantize(rounded, "toward_zero"), rounded) or \
            np.any(magnitude[finite] > fmt.max):
        bad = x.ravel()[np.flatnonzero(finite.ravel() & (fmt.quantize(rounded, "toward_zero")
                                                         != rounded).ravel())]
        raise ValueError(f"encode: {bad[0] if bad.size else 'a value'} is not a value of "
                         f"{fmt!r}; quantize it first")
    magnitude = np.where(finite, magnitude, 0.0)
    mantissa, exponent = np.frexp(np.where(finite, magnitude, 1.0))  # |x| = mantissa·2^exponent
    field = np.maximum(exponent - 1 + fmt.bias, 0)
    subnormal = magnitude < fmt.smallest_normal
    frac = np.where(subnormal, np.ldexp(magnitude, m - fmt.emin),
                    np.ldexp(2 * mantissa - 1, m)).astype(np.int64)
    field = np.where(subnormal, 0, field)
    bits = x.view(np.uint64) if x.ndim else np.array([x]).view(np.uint64)[0]
    payload = ((bits >> np.uint64(F64_FRACTION - m)) & np.uint64(2 ** m - 1)).astype(np.int64)
    if fmt.specials == "ieee":
        nan_frac = np.where(payload == 0, 2 ** (m - 1), payload)  # keep a payload, else quiet
    else:
        nan_frac = np.full_like(payload, 2 ** m - 1)  # E4M3's only NaN
    field = np.where(nan | inf, top, field)
    frac = np.where(nan, nan_frac, np.where(inf, 0, frac))
    sign = np.signbit(x).astype(np.int64)
    code = (sign << (width - 1)) | (field << m) | frac
    out = code.astype(_unsigned(fmt))
    return out[()] if out.ndim == 0 else out
