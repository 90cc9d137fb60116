"""The fixed-point matrix product of Gupta et al.'s hardware, simulated exactly.

Their multiply-accumulate units (the FPGA accelerator of Gupta et al. 2015) keep every product
and the running sum in a wide accumulator and round each dot product once into the output
format. Float64 can play that accumulator exactly (see :func:`fixed_matmul`).
"""
from __future__ import annotations

import numpy as np

from minicompress.quant.fixed_point import FixedPoint, check_word_fits, float_array, quantize_fixed
from minicompress.quant.rounding import scratch


def fixed_matmul(a, b, fmt: FixedPoint, rounding: str, rng=None, *, a_fmt: FixedPoint = None,
                 b_fmt: FixedPoint = None, buffers: dict | None = None) -> np.ndarray:
    """``a @ b`` as fixed-point hardware computes it: exact products, exact sums, one rounding.

    The operands are on their grids: codes k·ε of at most 2^(w−1) in magnitude. Their products
    summed over k terms are integers (in units of ε_a·ε_b) bounded by k·2^(w_a−1)·2^(w_b−1);
    below 2⁵³ (k ≤ 2²³ for 16-bit words) float64 holds every partial sum exactly, so a float64
    product of the codes *is* the wide accumulator, whatever order BLAS adds in. (A float32
    product of two 16-bit codes already needs 30 bits.)

    Parameters
    ----------
    a : ndarray (m, k) on the grid of ``a_fmt``;  b : ndarray (k, n) on the grid of ``b_fmt``
        float32 or float64; ``a_fmt`` and ``b_fmt`` default to ``fmt``.
    fmt : FixedPoint
        Format of the result.
    rounding, rng
        As for :func:`quantize_fixed`, applied once to each of the m·n exact sums.
    buffers : dict, optional
        Scratch space kept by the caller between calls (the operands' codes in float64):
        allocating megabytes afresh on every call costs page faults that can take longer than
        the product itself.

    Returns
    -------
    ndarray (m, n) of dtype ``np.result_type(a, b)``, on the grid of ``fmt``.

    Raises
    ------
    ValueError
        Shapes that do not multiply, operands off their grids or out of range (round them first
        with :func:`quantize_fixed`), or words so wide that float64 could not add exactly.
    """
    a_fmt, b_fmt = a_fmt or fmt, b_fmt or fmt
    for name, f in (("fmt", fmt), ("a_fmt", a_fmt), ("b_fmt", b_fmt)):
        if not isinstance(f, FixedPoint):
            raise TypeError(f"fixed_matmul: {name} must be a FixedPoint, got {type(f).__name__}")
    a, b = float_array(a, "fixed_matmul", "a"), float_array(b, "fixed_matmul", "b")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"fixed_matmul: expected a (m, k) and b (k, n), got {a.shape} and {b.shape}")
    out_dtype = np.result_type(a, b)
    check_word_fits(fmt, out_dtype, "fixed_matmul")
    largest_sum = a.shape[1] * 2 ** (a_fmt.word_bits - 1) * 2 ** (b_fmt.word_bits - 1)
    if largest_sum > 2 ** 53:
        raise ValueError(f"fixed_matmul: sums of {a.shape[1]} products of {a_fmt.word_bits}- and "
                         f"{b_fmt.word_bits}-bit codes can reach 2^{np.log2(largest_sum):.1f}, beyond "
                         f"float64's exact integers (2^53); use narrower words or a shorter k")
    sums = codes64(a, a_fmt, "a", buffers) @ codes64(b, b_fmt, "b", buffers)  # (m, n): exact
    exact = sums * 2.0 ** -(a_fmt.frac_bits + b_fmt.frac_bits)  # in units of 1 (a power of two)
    return quantize_fixed(exact, fmt, rounding, rng).astype(out_dtype, copy=False)


def codes64(x: np.ndarray, fmt: FixedPoint, what: str, buffers: dict | None = None) -> np.ndarray:
    """The integer codes x·2^FL as float64, checked to be integers within the word's range."""
    codes = scratch(buffers, "codes " + what, x, np.float64)
    np.multiply(x, 2.0 ** fmt.frac_bits, out=codes)  # exact: a power of two
    if codes.size and (codes.min() < fmt.min_code or codes.max() > fmt.max_code):
        raise ValueError(f"fixed_matmul: {what} lies outside the range [{fmt.min:g}, {fmt.max:g}] "
                         f"of {fmt!r}; round it with quantize_fixed first")
    if not np.array_equal(codes, np.floor(codes, out=scratch(buffers, "floor " + what, codes))):
        bad = int(np.flatnonzero(codes.ravel() != np.floor(codes.ravel()))[0])
        raise ValueError(f"fixed_matmul: {what} is not on the grid of {fmt!r} (flat index {bad} "
                         f"holds {x.ravel()[bad]!r}); round it with quantize_fixed first")
    return codes
