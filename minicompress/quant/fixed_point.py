"""Fixed-point numbers ⟨IL, FL⟩, simulated exactly on float arrays (Gupta et al. 2015, Sec. 2).

A fixed-point word of ``word_bits`` bits holds a two's-complement integer code k; its value is
k·ε with ε = 2⁻ᶠᴸ, ``frac_bits`` = FL bits after the binary point. Gupta et al. write the format
⟨IL, FL⟩ with IL = word_bits − FL integer bits, the sign included, so ⟨4, 12⟩ is
``FixedPoint(16, 12)``. The representable values are

    −2^(IL−1), …, −ε, 0, ε, …, 2^(IL−1) − ε        (codes −2^(WL−1) … 2^(WL−1) − 1)

Quantizing x (:func:`quantize_fixed`): s = x·2ᶠᴸ, saturate s to the code range, round s to an
integer (:mod:`minicompress.quant.rounding`), multiply by ε. Every step is exact in floating
point while the codes fit the float's significand (24 bits for float32, 53 for float64): scaling
by a power of two is exact, and so is the rounding of a float to an integer. So a value already
on the grid comes back unchanged, bit for bit, however often it is quantized: no drift.

NaN policy: a fixed-point word has no NaN, so a NaN input raises
:class:`~minicompress.nn.NonFiniteError` (inside ``fit`` it is reported with the step); ±inf
saturates to the range ends, like any value outside the range.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from minicompress.nn.checks import NonFiniteError
from minicompress.quant.rounding import rounding_function

FLOAT_INT_BITS = {np.dtype(np.float32): 24, np.dtype(np.float64): 53}  # exact integers: ±2^bits


@dataclass(frozen=True)
class FixedPoint:
    """A signed fixed-point format: ``word_bits`` bits (sign included), ``frac_bits`` of them
    after the binary point. Gupta et al.'s ⟨IL, FL⟩ is ``FixedPoint(IL + FL, FL)``.

    ``frac_bits`` may exceed ``word_bits`` (IL < 0): the point then lies left of the word, and
    the range [−2^(IL−1), 2^(IL−1) − ε] is narrower than ±½. ``FixedPoint(8, 12)`` holds
    [−2⁻⁵, 2⁻⁵ − 2⁻¹²], for values known to be small (e.g. gradients).

    Attributes (derived): ``integer_bits`` IL, ``resolution`` ε = 2⁻ᶠᴸ, ``min`` = −2^(IL−1),
    ``max`` = 2^(IL−1) − ε, ``min_code`` = −2^(WL−1), ``max_code`` = 2^(WL−1) − 1.
    """

    word_bits: int
    frac_bits: int

    ROUNDINGS = ("nearest", "stochastic", "down")  # not a field: no annotation

    def __post_init__(self):
        for name, value, low, high in (("word_bits", self.word_bits, 2, 53),
                                       ("frac_bits", self.frac_bits, 0, 64)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
                    or not low <= value <= high:
                raise ValueError(f"FixedPoint: {name} must be an int in [{low}, {high}], got "
                                 f"{value!r} (word_bits counts the sign bit: Gupta's <IL, FL> "
                                 f"is FixedPoint(IL + FL, FL))")

    @property
    def integer_bits(self) -> int:
        return self.word_bits - self.frac_bits

    @property
    def resolution(self) -> float:
        return 2.0 ** -self.frac_bits

    @property
    def min_code(self) -> int:
        return -(2 ** (self.word_bits - 1))

    @property
    def max_code(self) -> int:
        return 2 ** (self.word_bits - 1) - 1

    @property
    def min(self) -> float:
        return self.min_code * self.resolution

    @property
    def max(self) -> float:
        return self.max_code * self.resolution

    @property
    def label(self) -> str:
        """Gupta et al.'s short name, ``"<IL,FL>"``."""
        return f"<{self.integer_bits},{self.frac_bits}>"

    def quantize(self, x, rounding: str, rng=None, buffers: dict | None = None) -> np.ndarray:
        """``quantize_fixed(x, self, rounding, rng, buffers=buffers)``."""
        return quantize_fixed(x, self, rounding, rng, buffers=buffers)

    def bits(self, value) -> str:
        """The two's-complement word of an on-grid ``value``, with its binary point:
        ``FixedPoint(8, 4).bits(-1.25) == "1110.1100"``."""
        code = int(to_codes(np.float64(value), self))
        word = format(code % 2 ** self.word_bits, f"0{self.word_bits}b")
        point = self.word_bits - self.frac_bits
        if point < 0:  # IL < 0: the point lies left of the word; show the sign extension
            word, point = word[0] * -point + word, 0
        return word if self.frac_bits == 0 else word[:point] + "." + word[point:]

    def __repr__(self) -> str:
        return (f"FixedPoint(word_bits={self.word_bits}, frac_bits={self.frac_bits}): "
                f"<IL={self.integer_bits}, FL={self.frac_bits}>, range [{self.min!r}, "
                f"{self.max!r}], resolution 2^-{self.frac_bits} = {self.resolution:.6g}")


def quantize_fixed(x, fmt: FixedPoint, rounding: str, rng=None, *, buffers: dict | None = None
                   ) -> np.ndarray:
    """Round ``x`` onto the grid of ``fmt``, saturating at its range ends.

    Parameters
    ----------
    x : ndarray or float, float32 or float64
        Any shape. The result has the same shape and dtype.
    fmt : FixedPoint
    rounding : {"nearest", "stochastic", "down"}
        "nearest": Gupta et al.'s Eq. 1, ties down (toward −∞): x = ⌊x⌋ + ε/2 → ⌊x⌋.
        "stochastic": Eq. 2, ⌊x⌋ + ε with probability (x − ⌊x⌋)/ε, so E[q(x)] = x inside the
        range. "down": ⌊x⌋, the largest grid point ≤ x (two's-complement truncation).
    rng : np.random.Generator, int or None
        The random draws of stochastic rounding (one per entry); unused otherwise.
    buffers : dict, optional
        Scratch space kept by the caller between calls (stochastic rounding's temporaries).

    Returns
    -------
    A new ndarray of x's shape and dtype (a NumPy scalar for a scalar input): values k·ε with
    min_code ≤ k ≤ max_code. Values outside [fmt.min, fmt.max] become the nearer range end.

    Raises
    ------
    TypeError
        ``fmt`` is not a FixedPoint, or ``x`` is not float32/float64, or the words are wider than
        the float's exact integers (24 bits for float32: pass float64 instead).
    ValueError
        Unknown rounding mode.
    NonFiniteError
        ``x`` contains NaN.
    """
    if not isinstance(fmt, FixedPoint):
        raise TypeError(f"quantize_fixed: fmt must be a FixedPoint, got {type(fmt).__name__}")
    round_to_integer = rounding_function(rounding, FixedPoint.ROUNDINGS, "quantize_fixed")
    x = float_array(x, "quantize_fixed")
    check_word_fits(fmt, x.dtype, "quantize_fixed")
    s = np.multiply(x.reshape(-1) if x.ndim == 0 else x, x.dtype.type(2.0 ** fmt.frac_bits))
    # (s = x·2^FL is exact: a power of two; a scalar travels as a 1-element array)
    # Saturate first: the codes' range ends are integers, so clipping then rounding equals
    # rounding then clipping, and every later operation stays within the exact integers.
    np.clip(s, fmt.min_code, fmt.max_code, out=s)
    q = round_to_integer(s, rng, buffers)
    q *= x.dtype.type(fmt.resolution)
    if np.isnan(q.min()):  # the minimum is NaN exactly when some entry is (a fast reduction)
        index = int(np.flatnonzero(np.isnan(q.ravel()))[0])
        raise NonFiniteError(f"quantize_fixed: x contains NaN (first at flat index {index}); a "
                             f"fixed-point word has no NaN")
    return q[0] if x.ndim == 0 else q


def to_codes(x, fmt: FixedPoint) -> np.ndarray:
    """The integer codes k of on-grid values x = k·ε: what the registers hold.

    Returns int32 for words up to 32 bits, else int64. Raises ValueError if ``x`` is off the
    grid or out of range (round it with :func:`quantize_fixed` first).
    """
    _check_format(fmt, "to_codes")
    x = float_array(x, "to_codes")
    check_on_grid(x, fmt, "to_codes", "x")
    codes = (x.astype(np.float64) * 2.0 ** fmt.frac_bits)
    return codes.astype(np.int32 if fmt.word_bits <= 32 else np.int64)


def from_codes(codes, fmt: FixedPoint, dtype=np.float64) -> np.ndarray:
    """Values k·ε of integer codes k (which must lie in [min_code, max_code]), as float32 or
    float64 ``dtype``."""
    _check_format(fmt, "from_codes")
    dtype = float_dtype(dtype, "from_codes")
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"from_codes: codes must be integers, got {codes.dtype}")
    if codes.size and (codes.min() < fmt.min_code or codes.max() > fmt.max_code):
        raise ValueError(f"from_codes: codes must lie in [{fmt.min_code}, {fmt.max_code}] for "
                         f"{fmt.word_bits}-bit words, got [{codes.min()}, {codes.max()}]")
    check_word_fits(fmt, dtype, "from_codes")
    return codes.astype(dtype) * dtype.type(fmt.resolution)


# ----- checks shared with the float formats and the training wrappers -----------------------
def float_array(x, who: str, what: str = "x") -> np.ndarray:
    """``x`` as a float32 or float64 array (scalars included), or a TypeError saying so."""
    array = np.asarray(x)
    if array.dtype not in FLOAT_INT_BITS:
        raise TypeError(f"{who}: {what} must be float32 or float64, got {array.dtype}; convert "
                        f"it with .astype(np.float32) or .astype(np.float64)")
    return array


def float_dtype(dtype, who: str) -> np.dtype:
    """``dtype`` as np.float32 or np.float64, or a TypeError naming it."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{who}: dtype must be float32 or float64, got {dtype!r}") from None
    if dtype not in FLOAT_INT_BITS:
        raise TypeError(f"{who}: dtype must be float32 or float64, got {dtype}")
    return dtype


def _check_format(fmt, who: str) -> None:
    if not isinstance(fmt, FixedPoint):
        raise TypeError(f"{who}: fmt must be a FixedPoint, got {type(fmt).__name__}")


def check_word_fits(fmt: FixedPoint, dtype, who: str) -> None:
    """Words wider than the float's exact integers could not be simulated exactly."""
    if fmt.word_bits > FLOAT_INT_BITS[float_dtype(dtype, who)]:
        raise TypeError(f"{who}: {fmt.word_bits}-bit words do not fit exactly in {np.dtype(dtype)} "
                        f"(at most {FLOAT_INT_BITS[np.dtype(dtype)]} bits); use float64 values")


def check_on_grid(x: np.ndarray, fmt: FixedPoint, who: str, what: str) -> None:
    """Every entry of ``x`` must be k·ε with min_code ≤ k ≤ max_code."""
    s = x * x.dtype.type(2.0 ** fmt.frac_bits)
    if x.size and (s.min() < fmt.min_code or s.max() > fmt.max_code):
        raise ValueError(f"{who}: {what} lies outside the range [{fmt.min:g}, {fmt.max:g}] of "
                         f"{fmt!r}; round it with quantize_fixed first")
    if not np.array_equal(s, np.floor(s)):
        bad = int(np.flatnonzero(s.ravel() != np.floor(s.ravel()))[0])
        raise ValueError(f"{who}: {what} is not on the grid of {fmt!r} (flat index {bad} holds "
                         f"{x.ravel()[bad]!r}); round it with quantize_fixed first")
