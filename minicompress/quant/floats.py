"""Low-precision binary floating-point formats (bfloat16, IEEE half, ...), simulated on float32
or float64 arrays by manipulating their bit patterns.

A format with e exponent bits and m mantissa (fraction) bits stores (−1)ˢ·1.f·2^(E − bias),
bias = 2^(e−1) − 1, for exponent fields E = 1 … 2ᵉ − 2; subnormals (−1)ˢ·0.f·2^(1 − bias) for
E = 0; ±inf and NaN for E = 2ᵉ − 1.

==========  ==  ==  =====================  ===================  =====================  ======
format      e   m   largest finite         smallest normal      smallest subnormal     ulp(1)
==========  ==  ==  =====================  ===================  =====================  ======
bfloat16    8   7   (2 − 2⁻⁷)·2¹²⁷ ≈ 3.4e38  2⁻¹²⁶ ≈ 1.2e−38     2⁻¹³³ ≈ 9.2e−41          2⁻⁷
float16     5   10  65504                  2⁻¹⁴ ≈ 6.1e−5        2⁻²⁴ ≈ 6.0e−8            2⁻¹⁰
float32     8   23  ≈ 3.4e38               2⁻¹²⁶                2⁻¹⁴⁹                    2⁻²³
E5M2        5   2   57344                  2⁻¹⁴                 2⁻¹⁶                     2⁻²
E4M3 (fn)   4   3   448                    2⁻⁶                  2⁻⁹                      2⁻³
E3M2, E2M3  3/2 2/3 28 / 7.5               2⁻² / 1              2⁻⁴ / 2⁻³                2⁻² / 2⁻³
E2M1        2   1   6                      1                    ½                        ½
==========  ==  ==  =====================  ===================  =====================  ======

The 8-bit floats (Micikevicius et al. 2022; the OCP 8-bit float and Microscaling specs) differ in
what the top exponent field E = 2ᵉ − 1 holds (``FloatFormat.specials``):

- ``"ieee"``: ±inf (f = 0) and NaNs (f ≠ 0), as IEEE 754: bfloat16, float16, E5M2.
- ``"nan"``: no infinities; the top field holds normal numbers, except S.1…1.1…1, the only NaN.
  E4M3 ("e4m3fn"): max = 1.75·2⁸ = 448 (S.1111.110).
- ``"none"``: every pattern is a finite number: the FP6 (E2M3, E3M2) and FP4 (E2M1) elements
  of the MX formats, max = (2 − 2⁻ᵐ)·2^(2ᵉ − 1 − bias).

How :func:`quantize_float` rounds, on each input's bit pattern (float32 viewed as uint32, float64
as uint64; the sign is set aside and put back at the end):

1. Normal range: the format keeps the top m of the input's 23 (52) fraction bits, so rounding
   drops the low d = 23 − m bits of the pattern. The pattern of a positive float grows with its
   value and is affine inside each binade, so "add, then clear the low d bits" rounds it, and a
   carry out of the fraction walks into the exponent by itself (1.11…1·2ᵏ → 1.0·2ᵏ⁺¹).
   Nearest-even adds 2^(d−1) − 1 plus the lowest kept bit (for bfloat16, d = 16: TensorFlow's
   ``u += 0x7FFF + ((u >> 16) & 1)``); toward zero adds nothing; stochastic adds d random bits,
   which rounds up with probability exactly (dropped bits)/2ᵈ.
2. Below the smallest normal number 2^emin (only when the format has fewer exponent bits than
   the input: float16 in float32, bfloat16 in float64) the spacing stops shrinking: there the
   format is fixed point with resolution 2^(emin − m), and those entries are rounded as such
   (:func:`~minicompress.quant.rounding.round_stochastic` for stochastic rounding).
3. Overflow, beyond the largest finite value, where libraries differ (ml_dtypes issues #260,
   #400): nearest-even does what a cast does, ±inf for "ieee" formats (IEEE 754, ml_dtypes,
   PyTorch), NaN for E4M3 (ml_dtypes' and PyTorch's e4m3fn: 464 → 448, 465 → NaN); formats
   without specials saturate at ±max (ml_dtypes, the OCP spec). ``saturate=True`` clamps to ±max
   instead, ±inf inputs included (CUDA's ``__NV_SATFINITE``; ONNX's ``saturate``). Toward zero
   gives ±max (IEEE 754); stochastic saturates at ±max (our choice: no rounding to infinity).

What stochastic rounding's mean is, E[q(x)] over the random bits, for finite x:

- x itself, exactly, for |x| ≤ max outside the fixed-point branch of step 2;
- in that branch, x itself for |x| ≥ the smallest subnormal; below it, P(up) is the distance
  rounded *up* to a multiple of 2⁻ᵇ (b = 24 for float32 input, 53 for float64: the resolution
  of the uniform draws), so E[q(x)] − |x| lies in [0, 2⁻ᵇ·smallest subnormal);
- ±max for |x| > max (saturation, not x);
- with ``subnormals=False``, 0 wherever the rounded value falls below the smallest normal (the
  flush biases toward zero).
4. ±0 keep their sign; ±inf stay (E4M3: NaN; without specials: ±max); NaN stays NaN (quiet,
   with its sign and leading payload bits, as TensorFlow's bfloat16 conversion; a format
   without NaN has no code for it, and :meth:`FloatFormat.encode` refuses it).

Subnormals are kept by default (IEEE gradual underflow: NumPy's float16, PyTorch's and
ml_dtypes' bfloat16 do the same). ``FloatFormat(..., subnormals=False)`` flushes subnormal
results to ±0, as TPUs do.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from minicompress.quant.fixed_point import float_array
from minicompress.quant.rounding import PATTERN_ROUNDINGS, rounding_function, scratch
from minicompress.rng import as_rng

# the float dtypes we simulate on: (unsigned view, exponent bits, fraction bits)
CONTAINERS = {np.dtype(np.float32): (np.uint32, 8, 23), np.dtype(np.float64): (np.uint64, 11, 52)}


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format with ``exp_bits`` exponent and ``man_bits`` stored
    mantissa bits (1 sign bit besides); IEEE 754 semantics. ``subnormals=False`` flushes
    subnormal results to ±0. ``specials``: what the top exponent field holds, "ieee" (±inf and
    NaNs), "nan" (only S.1…1.1…1 is NaN, no infinities: E4M3) or "none" (FP6, FP4)."""

    exp_bits: int
    man_bits: int
    subnormals: bool = True
    specials: str = "ieee"

    ROUNDINGS = ("nearest_even", "toward_zero", "stochastic")  # not a field: no annotation
    SPECIALS = ("ieee", "nan", "none")

    def __post_init__(self):
        for name, value, low, high in (("exp_bits", self.exp_bits, 2, 11),
                                       ("man_bits", self.man_bits, 1, 52)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
                    or not low <= value <= high:
                raise ValueError(f"FloatFormat: {name} must be an int in [{low}, {high}], got "
                                 f"{value!r} (bfloat16 is FloatFormat(8, 7), float16 FloatFormat(5, 10))")
        if not isinstance(self.subnormals, bool):
            raise ValueError(f"FloatFormat: subnormals must be True or False, got {self.subnormals!r}")
        if self.specials not in self.SPECIALS:
            raise ValueError(f"FloatFormat: specials must be one of {self.SPECIALS}, got {self.specials!r}")

    @property
    def bias(self) -> int:
        return 2 ** (self.exp_bits - 1) - 1

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal number (also of every subnormal's spacing)."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        """Exponent of the largest binade (the top field is a binade unless it holds ±inf)."""
        return self.bias + (self.specials != "ieee")

    @property
    def max(self) -> float:
        """The largest finite value (E4M3: the all-ones mantissa of the top field is NaN)."""
        top = 2 ** self.man_bits - 1 - (self.specials == "nan")  # largest mantissa field
        return (1.0 + top * 2.0 ** -self.man_bits) * 2.0 ** self.emax

    @property
    def smallest_normal(self) -> float:
        return 2.0 ** self.emin

    @property
    def smallest_subnormal(self) -> float:
        return 2.0 ** (self.emin - self.man_bits)

    @property
    def epsilon(self) -> float:
        """ulp(1) = 2⁻ᵐ: the gap between 1 and the next larger number."""
        return 2.0 ** -self.man_bits

    def spacing(self, x) -> np.ndarray:
        """The gap between adjacent numbers of the format at |x| (finite x):
        2^(max(⌊log₂|x|⌋, emin) − m). An update smaller than half of it is lost by rounding.
        Raises ValueError for NaN or ±inf (there is no gap there)."""
        values = np.asarray(x, dtype=np.float64)
        if not np.isfinite(values).all():
            bad = values.ravel()[np.flatnonzero(~np.isfinite(values.ravel()))[0]]
            raise ValueError(f"spacing: x must be finite (the gap between neighbours of a finite "
                             f"number), got {bad}" + ("" if values.ndim == 0 else
                             f" among {values.size} values"))
        _, exponent = np.frexp(values)  # |x| = f·2^exponent, ½ ≤ |f| < 1
        exponent = np.where(np.asarray(x) == 0, self.emin, np.maximum(exponent - 1, self.emin))
        return np.ldexp(1.0, exponent - self.man_bits)

    @property
    def label(self) -> str:
        """"bfloat16", "float16", or "e<exp_bits>m<man_bits>" (+ "-ftz" when flushing)."""
        name = {(8, 7): "bfloat16", (5, 10): "float16"}.get((self.exp_bits, self.man_bits),
                                                            f"e{self.exp_bits}m{self.man_bits}")
        name = name if self.specials == "ieee" else f"e{self.exp_bits}m{self.man_bits}fn"
        return name + ("" if self.subnormals else "-ftz")

    def quantize(self, x, rounding: str, rng=None, buffers: dict | None = None, *,
                 saturate: bool = False) -> np.ndarray:
        """``quantize_float(x, self, rounding, rng, saturate=saturate, buffers=buffers)``."""
        return quantize_float(x, self, rounding, rng, saturate=saturate, buffers=buffers)

    def bits(self, value) -> str:
        """"sign exponent mantissa" of a value of the format: ``BFLOAT16.bits(1.0)`` is
        ``"0 01111111 0000000"``."""
        code = int(self.encode(np.float64(value)))
        word = format(code, f"0{1 + self.exp_bits + self.man_bits}b")
        return f"{word[0]} {word[1:1 + self.exp_bits]} {word[1 + self.exp_bits:]}"

    def encode(self, values) -> np.ndarray:
        """The bit patterns (unsigned ints, sign bit on top) of values of the format;
        :func:`~minicompress.quant.float_codes.encode`."""
        from minicompress.quant.float_codes import encode
        return encode(values, self)

    def decode(self, codes) -> np.ndarray:
        """The float64 values of bit patterns; :func:`~minicompress.quant.float_codes.decode`."""
        from minicompress.quant.float_codes import decode
        return decode(codes, self)

    def __repr__(self) -> str:
        flush = ("" if self.subnormals else ", subnormals=False") + \
            ("" if self.specials == "ieee" else f", specials={self.specials!r}")
        return (f"FloatFormat(exp_bits={self.exp_bits}, man_bits={self.man_bits}{flush}): "
                f"{1 + self.exp_bits + self.man_bits} bits, max {self.max:.4g}, smallest normal "
                f"{self.smallest_normal:.4g}, smallest subnormal {self.smallest_subnormal:.4g}, "
                f"ulp(1) = 2^-{self.man_bits}")


BFLOAT16 = FloatFormat(8, 7)
FLOAT16 = FloatFormat(5, 10)
E5M2 = FloatFormat(5, 2)                   # FP8 for gradients: IEEE-like, with ±inf
E4M3 = FloatFormat(4, 3, specials="nan")   # FP8 for weights and activations ("e4m3fn")
E3M2 = FloatFormat(3, 2, specials="none")  # FP6 (MX)
E2M3 = FloatFormat(2, 3, specials="none")  # FP6 (MX)
E2M1 = FloatFormat(2, 1, specials="none")  # FP4 (MX)


def quantize_float(x, fmt: FloatFormat, rounding: str, rng=None, *, saturate: bool = False,
                   buffers: dict | None = None) -> np.ndarray:
    """Round ``x`` to the nearest values of the float format ``fmt`` (steps in the module docstring).

    Parameters
    ----------
    x : ndarray or float, float32 or float64
        Any shape; the result has the same shape and dtype. The input must be able to hold the
        format: float32 holds formats with up to 8 exponent and 23 mantissa bits.
    fmt : FloatFormat
    rounding : {"nearest_even", "toward_zero", "stochastic"}
        IEEE round-to-nearest-even, IEEE round-toward-zero (truncation of the pattern), or
        stochastic rounding: up with probability (x − lower)/(upper − lower), so E[q(x)] = x
        inside the range (the exceptions are in the module docstring).
    rng : np.random.Generator, int or None
        The random bits of stochastic rounding (one generator for all of them, also with an int
        seed); unused otherwise.
    saturate : bool
        Overflow policy of nearest-even (step 3): False does what a cast does (±inf, or NaN for
        E4M3); True clamps to ±max, ±inf included. The other roundings always saturate.
    buffers : dict, optional
        Scratch space kept by the caller between calls (the sign and magnitude patterns).

    Returns
    -------
    A new ndarray of x's shape and dtype (a NumPy scalar for a scalar input).
    """
    if not isinstance(fmt, FloatFormat):
        raise TypeError(f"quantize_float: fmt must be a FloatFormat, got {type(fmt).__name__}")
    rounding_function(rounding, FloatFormat.ROUNDINGS, "quantize_float")  # validates the name
    x = float_array(x, "quantize_float")
    rng = as_rng(rng) if rounding == "stochastic" else None  # one stream for both branches
    uint, exp_bits, frac_bits = CONTAINERS[x.dtype]
    if fmt.exp_bits > exp_bits or fmt.man_bits > frac_bits:
        raise TypeError(f"quantize_float: {x.dtype} values cannot hold {fmt!r} exactly; pass "
                        f"float64 input")
    pattern = np.ascontiguousarray(x).reshape(-1).view(uint)  # (size,), shares x's memory
    sign_bit = uint(1 << (exp_bits + frac_bits))
    sign = np.bitwise_and(pattern, sign_bit, out=scratch(buffers, "sign", pattern))
    magnitude = np.bitwise_and(pattern, ~sign_bit, out=scratch(buffers, "magnitude", pattern))
    drop = frac_bits - fmt.man_bits
    out = PATTERN_ROUNDINGS[rounding](magnitude, drop, rng)  # step 1, a new array
    bias = 2 ** (exp_bits - 1) - 1
    if fmt.exp_bits < exp_bits:  # step 2: the format's subnormal range is normal here
        smallest_normal = uint((fmt.emin + bias) << frac_bits)
        tiny = np.flatnonzero(magnitude < smallest_normal)
        if tiny.size:
            out[tiny] = _round_subnormals(magnitude[tiny].view(x.dtype), fmt, rounding, rng).view(uint)
    largest = np.array(fmt.max, x.dtype).view(uint)[()]  # the pattern of ±max, unsigned
    infinity = uint(((1 << exp_bits) - 1) << frac_bits)
    quiet_nan = lambda m: (m & ~uint((1 << drop) - 1)) | uint(1 << (frac_bits - 1))
    clamp = saturate or rounding != "nearest_even" or fmt.specials == "none"
    if clamp:  # step 3: saturate (inf and NaN inputs are put back below)
        np.minimum(out, largest, out=out)
    else:  # beyond the largest finite: ±inf, or E4M3's NaN (as a cast)
        out[out > largest] = infinity if fmt.specials == "ieee" else quiet_nan(infinity)
    if magnitude.max(initial=0) >= infinity:  # step 4: inf and NaN inputs
        is_nan = magnitude > infinity
        out[magnitude == infinity] = largest if saturate or fmt.specials == "none" else \
            infinity if fmt.specials == "ieee" else quiet_nan(infinity)
        out[is_nan] = quiet_nan(magnitude[is_nan])
    if not fmt.subnormals:
        out[out < uint((fmt.emin + bias) << frac_bits)] = 0  # flush to ±0
    out |= sign
    result = out.view(x.dtype).reshape(x.shape)
    return result[()] if x.ndim == 0 else result


SUBNORMAL_ROUNDING = {"nearest_even": "nearest_even", "toward_zero": "down",  # on magnitudes
                      "stochastic": "stochastic"}


def _round_subnormals(magnitude: np.ndarray, fmt: FloatFormat, rounding: str, rng) -> np.ndarray:
    """|x| < 2^emin rounded on the fixed grid of spacing 2^(emin − m) (gradual underflow)."""
    kernel = rounding_function(SUBNORMAL_ROUNDING[rounding], tuple(SUBNORMAL_ROUNDING.values()),
                               "quantize_float")
    scale = magnitude.dtype.type(2.0 ** (fmt.man_bits - fmt.emin))
    q = kernel(magnitude * scale, rng)  # integers 0 … 2^m (2^m is the smallest normal)
    return q * magnitude.dtype.type(fmt.smallest_subnormal)
