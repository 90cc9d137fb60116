"""Microscaling (MX) block formats (OCP Microscaling Formats Specification v1.0, 2023).

A block of k = 32 consecutive values V_i shares one scale X = 2^e, stored as an E8M0 code (8
bits: the biased exponent e + 127, no sign, no mantissa; code 255 is NaN), and each value keeps
a narrow element P_i (FP8 E4M3/E5M2, FP6 E2M3/E3M2, FP4 E2M1, or INT8), so that V_i ≈ X·P_i.

The scale is chosen from the block's largest magnitude (the spec's §6.3; microxcaling's
``shared_exp_method="max"``):

    e = ⌊log₂ max_i |V_i|⌋ − emax_elem,        clamped to [−127, 127]

where emax_elem is the exponent of the element format's largest binade (E4M3 8, E5M2 15,
E2M3 2, E3M2 4, E2M1 2; INT8, read as the fixed point k·2⁻⁶ with k ∈ [−127, 127], 0). The
largest |V_i|/X then lies in [2^emax, 2^(emax+1)): it can exceed the element's max (E2M1: up to
7.99 > 6), and such elements saturate to ±max, as the spec prescribes. Elements are rounded
with round-to-nearest-even or stochastically. An all-zero block gets e = −127; a block with a
NaN or ±inf gets the NaN scale, so all its values decode as NaN.

Bits per value: element bits + 8/32 (E4M3: 8.25; E2M1: 4.25).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minicompress.quant.floats import E2M1, E2M3, E3M2, E4M3, E5M2, FloatFormat, quantize_float
from minicompress.rng import as_rng

E8M0_BIAS, E8M0_NAN = 127, 255
INT8_FRACTION = 6  # MXINT8 elements: k·2⁻⁶


@dataclass(frozen=True)
class MXFormat:
    """``element``: a FloatFormat or the string "int8"; ``block_size`` values share a scale."""

    element: FloatFormat | str
    block_size: int = 32

    def __post_init__(self):
        if not (isinstance(self.element, FloatFormat) or self.element == "int8"):
            raise ValueError(f"MXFormat: element must be a FloatFormat or 'int8', got {self.element!r}")
        if isinstance(self.block_size, bool) or not isinstance(self.block_size, int) or self.block_size < 1:
            raise ValueError(f"MXFormat: block_size must be a positive int, got {self.block_size!r}")

    @property
    def emax(self) -> int:
        return 0 if self.element == "int8" else self.element.emax

    @property
    def element_max(self) -> float:
        return 127 * 2.0 ** -INT8_FRACTION if self.element == "int8" else self.element.max

    @property
    def bits_per_value(self) -> float:
        bits = 8 if self.element == "int8" else 1 + self.element.exp_bits + self.element.man_bits
        return bits + 8 / self.block_size

    @property
    def label(self) -> str:
        return "MX" + ("INT8" if self.element == "int8" else self.element.label.upper())


MXFP8_E4M3, MXFP8_E5M2 = MXFormat(E4M3), MXFormat(E5M2)
MXFP6_E2M3, MXFP6_E3M2, MXFP4, MXINT8 = MXFormat(E2M3), MXFormat(E3M2), MXFormat(E2M1), MXFormat("int8")


def e8m0_decode(codes) -> np.ndarray:
    """2^(code − 127) as float64; NaN for code 255."""
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer) or (codes.size and (codes.min() < 0 or codes.max() > 255)):
        raise ValueError(f"e8m0_decode: codes must be integers in [0, 255], got {codes}")
    return np.where(codes == E8M0_NAN, np.nan, np.ldexp(1.0, codes.astype(np.int64) - E8M0_BIAS))


def e8m0_encode(scales) -> np.ndarray:
    """The E8M0 codes (uint8) of powers of two 2⁻¹²⁷ … 2¹²⁷ or NaN."""
    s = np.asarray(scales, np.float64)
    mantissa, exponent = np.frexp(np.where(np.isfinite(s) & (s > 0), s, 1.0))
    if np.any(np.isfinite(s) & ((s <= 0) | (mantissa != 0.5))) or np.any(np.isinf(s)):
        raise ValueError("e8m0_encode: a scale must be a power of two (or NaN)")
    code = exponent - 1 + E8M0_BIAS
    if np.any(np.isfinite(s) & ((code < 0) | (code > 254))):
        raise ValueError("e8m0_encode: scales must lie in [2^-127, 2^127]")
    return np.where(np.isnan(s), E8M0_NAN, code).astype(np.uint8)


def _blocks(x: np.ndarray, k: int) -> np.ndarray:
    """x (..., n) as (..., ⌈n/k⌉, k), the tail padded with zeros."""
    n = x.shape[-1]
    pad = (-n) % k
    if pad:
        x = np.concatenate([x, np.zeros(x.shape[:-1] + (pad,), x.dtype)], axis=-1)
    return x.reshape(*x.shape[:-1], -1, k)


def mx_encode(x, fmt: MXFormat, rounding: str = "nearest_even", rng=None, *, axis: int = -1):
    """(scale codes (…, blocks) uint8, elements (…, blocks, k) float64 values of the element
    format) of x, blocks of ``fmt.block_size`` along ``axis``."""
    if not isinstance(fmt, MXFormat):
        raise TypeError(f"mx_encode: fmt must be an MXFormat, got {type(fmt).__name__}")
    if rounding not in ("nearest_even", "stochastic"):
        raise ValueError(f"mx_encode: rounding must be 'nearest_even' or 'stochastic', got {rounding!r}")
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    v = _blocks(x, fmt.block_size)
    finite = np.isfinite(v).all(axis=-1)
    amax = np.max(np.abs(np.where(np.isfinite(v), v, 0.0)), axis=-1)
    _, exponent = np.frexp(np.where(amax > 0, amax, 1.0))  # amax = f·2^exponent, ½ ≤ f < 1
    shared = np.where(amax > 0, exponent - 1 - fmt.emax, -E8M0_BIAS)  # ⌊log₂ amax⌋ − emax
    shared = np.clip(shared, -E8M0_BIAS, E8M0_BIAS)
    scale_codes = np.where(finite, shared + E8M0_BIAS, E8M0_NAN).astype(np.uint8)
    scaled = np.where(finite[..., None], v, 0.0) * np.ldexp(1.0, -shared)[..., None]  # exact
    if fmt.element == "int8":
        rng = as_rng(rng) if rounding == "stochastic" else None
        s = scaled * 2.0 ** INT8_FRACTION
        k = np.floor(s + rng.random(s.shape)) if rng is not None else np.rint(s)
        elements = np.clip(k, -127, 127) * 2.0 ** -INT8_FRACTION
    else:
        elements = quantize_float(scaled, fmt.element, rounding, rng, saturate=True)
    return scale_codes, elements


def mx_decode(scale_codes, elements, n: int | None = None, *, axis: int = -1) -> np.ndarray:
    """X·P_i of every block, flattened back along ``axis`` (the first n values: the padding
    dropped)."""
    values = e8m0_decode(scale_codes)[..., None] * elements  # NaN scale: a NaN block
    values = values.reshape(*values.shape[:-2], -1)
    if n is not None:
        values = values[..., :n]
    return np.moveaxis(values, -1, axis)


def mx_quantize(x, fmt: MXFormat, rounding: str = "nearest_even", rng=None, *, axis: int = -1) -> np.ndarray:
    """x rounded to the MX format and decoded back, in x's dtype (float32/float64), same shape."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"mx_quantize: x must be floats, got {x.dtype}")
    codes, elements = mx_encode(x, fmt, rounding, rng, axis=axis)
    return mx_decode(codes, elements, x.shape[axis], axis=axis).astype(x.dtype)
