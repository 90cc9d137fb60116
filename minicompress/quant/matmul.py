"""Exact integer matrix products on a float BLAS: the fixed-point product of Gupta et al.'s
hardware, and the int8 × int8 → int32 product of integer-only inference.

NumPy has no integer BLAS: ``a @ b`` on int32 arrays runs a plain loop, some 40× slower than a
float32 GEMM of the same shape. But a float GEMM *is* an exact integer accumulator as long as no
number it forms needs more bits than the significand holds:

Theorem (the bound behind :func:`integer_matmul` and :func:`fixed_matmul`). Let a (m, k) and
b (k, n) hold integers and B ≥ max_{i,j} Σ_l |a_il|·|b_lj|. If B ≤ 2ᵖ (p = 24 for float32, 53
for float64), the float GEMM returns the exact integer product, whatever order, blocking or FMA
the BLAS uses. Proof: every product a_il·b_lj and every partial sum of them is an integer of
magnitude at most B ≤ 2ᵖ, hence representable; an IEEE operation whose exact result is
representable returns it unrounded; so no operation rounds, by induction over the operations. ∎

Cheap upper bounds for B (we take the least of them): k·max|a|·max|b|, and by Cauchy–Schwarz
max_i ‖a_i‖₂ · max_j ‖b_j‖₂ (rows of a, columns of b; the squared norms are summed in float64
and the bound inflated by 10⁻⁹ to cover that rounding). Where even float64 is not enough, an
exact int64 product is used (B ≤ 2⁶² checked), and past that we refuse.

For int8 operands |a_il·b_lj| ≤ 2¹⁴, so float32 is exact for any k ≤ 1024 (all of LeNet's
layers); for the 16-bit codes of Gupta et al., float64 is exact for k ≤ 2²³.
"""
from __future__ import annotations

import numpy as np

from minicompress.quant.fixed_point import FixedPoint, check_word_fits, float_array, quantize_fixed
from minicompress.quant.rounding import scratch
from minicompress.rng import as_rng


def sum_bound(a: np.ndarray, b: np.ndarray, a_max: float, b_max: float, unit: float = 1.0) -> float:
    """An upper bound on max_{i,j} Σ_l |a_il b_lj| / unit (see the module docstring), given
    a_max ≥ max|a| and b_max ≥ max|b|."""
    bound = float(a.shape[1]) * a_max * b_max / unit
    if a.size and b.size and bound > 2.0 ** 24:  # the two extra passes only when they can help
        rows = np.einsum("ij,ij->i", a, a, dtype=np.float64).max()
        cols = np.einsum("ij,ij->j", b, b, dtype=np.float64).max()
        bound = min(bound, float(np.sqrt(rows * cols)) * (1 + 1e-9) / unit)
    return bound


def accumulator(bound: float) -> str:
    """"float32", "float64" or "int64": the cheapest exact accumulator for sums bounded by
    ``bound`` (in units of one product of codes); ValueError beyond int64."""
    for name, bits in (("float32", 24), ("float64", 53), ("int64", 62)):
        if bound <= 2.0 ** bits:
            return name
    raise ValueError(f"sums of products can reach 2^{np.log2(bound):.1f}, beyond int64's range")


def integer_matmul(a: np.ndarray, b: np.ndarray, *, method: str = "blas") -> np.ndarray:
    """The exact product of two integer matrices (int8/int16/int32/int64 codes): int32 when
    every sum fits in it, else int64.

    ``method="blas"`` takes the cheapest exact accumulator of the module docstring; ``"int32"``
    is the readable reference, NumPy's integer matmul (a loop, no BLAS), in int32 where the
    sums fit and int64 otherwise.
    """
    if method not in ("blas", "int32"):
        raise ValueError(f"integer_matmul: method must be 'blas' or 'int32', got {method!r}")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"integer_matmul: expected a (m, k) and b (k, n), got {a.shape} and {b.shape}")
    for name, x in (("a", a), ("b", b)):
        if not np.issubdtype(x.dtype, np.integer):
            raise TypeError(f"integer_matmul: {name} must hold integers, got {x.dtype}")
    a_max, b_max = (float(2 ** 7 if x.dtype == np.int8 else np.abs(x.astype(np.int64)).max(initial=0))
                    for x in (a, b))  # int8: |x| ≤ 2⁷ without a pass over it
    out = np.int32 if a.shape[1] * a_max * b_max < 2 ** 31 else np.int64
    if method == "blas":
        kind = accumulator(sum_bound(a, b, a_max, b_max))
    else:
        accumulator(a.shape[1] * a_max * b_max)  # refuses sums beyond int64
        kind = out
    return (a.astype(kind) @ b.astype(kind)).astype(out, copy=False)


def fixed_matmul(a, b, fmt: FixedPoint, rounding: str, rng=None, *, a_fmt: FixedPoint = None,
                 b_fmt: FixedPoint = None, buffers: dict | None = None) -> np.ndarray:
    """``a @ b`` as fixed-point hardware computes it: exact products, exact sums, one rounding.

    The operands are on their grids: a = A·ε_a, b = B·ε_b with integer codes A, B. The exact
    product is (A @ B)·ε_a·ε_b, rounded once into ``fmt``. By the theorem in the module
    docstring, a float GEMM on the codes is exact when the bound on the sums fits its
    significand; scaling by the powers of two ε changes no significand, so for float32 input
    and sums ≤ 2²⁴ the float32 product ``a @ b`` of the values themselves is already exact.
    Otherwise the codes go through float64 (≤ 2⁵³: 16-bit codes up to k = 2²³ terms), and
    beyond that through an exact int64 product, rounded in integers.

    Parameters
    ----------
    a : ndarray (m, k) on the grid of ``a_fmt``;  b : ndarray (k, n) on the grid of ``b_fmt``
        float32 or float64; ``a_fmt`` and ``b_fmt`` default to ``fmt``.
    fmt : FixedPoint
        Format of the result.
    rounding, rng
        As for :func:`quantize_fixed`, applied once to each of the m·n exact sums.
    buffers : dict, optional
        Scratch space kept by the caller between calls (the operands' codes).

    Returns
    -------
    ndarray (m, n) of dtype ``np.result_type(a, b)``, on the grid of ``fmt``.

    Raises
    ------
    ValueError
        Shapes that do not multiply, operands off their grids or out of range (round them first
        with :func:`quantize_fixed`), or sums beyond even int64.
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
    a_max, b_max = (check_on_grid(x, f, name) * f.resolution
                    for x, f, name in ((a, a_fmt, "a"), (b, b_fmt, "b")))
    unit = 2.0 ** -(a_fmt.frac_bits + b_fmt.frac_bits)  # one product of codes, in real units
    try:
        kind = accumulator(sum_bound(a, b, a_max, b_max, unit))
    except ValueError as error:
        raise ValueError(f"fixed_matmul: {error} (k = {a.shape[1]} products of {a_fmt.word_bits}- "
                         f"and {b_fmt.word_bits}-bit codes); use narrower words or a shorter k") from None
    if kind == "float32" and a.dtype == b.dtype == np.float32 and unit >= 2.0 ** -149:
        exact = a @ b  # exact: the theorem, scaled by ε_a·ε_b (a multiple of float32's 2⁻¹⁴⁹)
    elif kind != "int64":
        codes = [np.multiply(x, 2.0 ** f.frac_bits, out=scratch(buffers, "codes " + w, x, np.float64))
                 for x, f, w in ((a, a_fmt, "a"), (b, b_fmt, "b"))]
        exact = (codes[0] @ codes[1]) * unit  # float64, exact; ×unit: a power of two
    else:
        a_codes, b_codes = (np.rint(x.astype(np.float64) * 2.0 ** f.frac_bits).astype(np.int64)
                            for x, f in ((a, a_fmt), (b, b_fmt)))
        sums = a_codes @ b_codes  # int64, exact: |sums| ≤ 2⁶² was checked
        shift = a_fmt.frac_bits + b_fmt.frac_bits - fmt.frac_bits
        return round_integers(sums, shift, fmt, rounding, rng).astype(out_dtype)
    return quantize_fixed(exact.astype(np.float64, copy=False), fmt, rounding, rng).astype(
        out_dtype, copy=False)


def check_on_grid(x: np.ndarray, fmt: FixedPoint, what: str) -> float:
    """max|x| in codes, after checking that every entry is a code of ``fmt`` times its step."""
    codes = x * x.dtype.type(2.0 ** fmt.frac_bits)  # exact: a power of two
    low, high = (codes.min(), codes.max()) if codes.size else (0, 0)
    if low < fmt.min_code or high > fmt.max_code:
        raise ValueError(f"fixed_matmul: {what} lies outside the range [{fmt.min:g}, {fmt.max:g}] "
                         f"of {fmt!r}; round it with quantize_fixed first")
    off = codes != np.rint(codes)
    if off.any():
        bad = int(np.flatnonzero(off.ravel())[0])
        raise ValueError(f"fixed_matmul: {what} is not on the grid of {fmt!r} (flat index {bad} "
                         f"holds {x.ravel()[bad]!r}); round it with quantize_fixed first")
    return float(max(-low, high))


def round_integers(sums: np.ndarray, shift: int, fmt: FixedPoint, rounding: str, rng) -> np.ndarray:
    """Exact integer sums s (in units of 2^−(shift + FL)) rounded to codes of ``fmt``, in
    integers, as :func:`quantize_fixed` rounds t = s/2^shift: "nearest" ⌈t − ½⌉ (ties down),
    "down" ⌊t⌋, "stochastic" ⌊(s + u)/2^shift⌋ with u uniform in [0, 2^shift) (up with
    probability exactly t − ⌊t⌋); then saturated. Returns the values, float64."""
    s = sums.astype(np.int64)
    if shift <= 0:
        codes = s << -shift
    elif rounding == "nearest":
        codes = -(((1 << (shift - 1)) - s) >> shift)  # ⌈t − ½⌉ = −⌊(2^(shift−1) − s)/2^shift⌋
    elif rounding == "down":
        codes = s >> shift
    else:
        codes = (s + as_rng(rng).integers(0, 1 << shift, size=s.shape)) >> shift
    return np.clip(codes, fmt.min_code, fmt.max_code) * fmt.resolution
