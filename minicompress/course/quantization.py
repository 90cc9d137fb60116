"""Exercises of tutorial 05 (quantization): stochastic rounding to ⟨IL, FL⟩ (Gupta et al. 2015,
Eq. 2) and bfloat16's round-to-nearest-even on bit patterns (Kalamkar et al. 2019)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, Failure, Seed, random_cases
from minicompress.course.exercise import Exercise
from minicompress.course.stochastic import check_stochastic_grid
from minicompress.quant import BFLOAT16, FixedPoint, quantize_fixed, quantize_float


def stochastic_round(x, int_bits, frac_bits, rng):
    """The library's quantize_fixed with Gupta et al.'s ⟨IL, FL⟩ = FixedPoint(IL + FL, FL)."""
    return quantize_fixed(np.asarray(x, np.float64), FixedPoint(int_bits + frac_bits, frac_bits),
                          "stochastic", rng)


def fixed_grid(case):
    """The two grid points every draw of x may take: ⌊s⌋ε and ⌈s⌉ε, s = x·2^FL saturated."""
    x, il, fl = (case.inputs[k] for k in ("x", "int_bits", "frac_bits"))
    fmt = FixedPoint(il + fl, fl)
    s = np.clip(np.asarray(x, np.float64) * 2.0 ** fl, fmt.min_code, fmt.max_code)
    return np.floor(s) * fmt.resolution, np.ceil(s) * fmt.resolution


def stochastic_cases():
    edge = [Case("edge: values on the grid stay", dict(x=np.array([0.0, 0.25, -1.5, 1.75]), int_bits=2,
                                                       frac_bits=2, rng=Seed(0))),
            Case("edge: saturation at both ends of ⟨2, 2⟩ = [−2, 1.75]",
                 dict(x=np.array([5.0, -7.0, 1.8, -2.01, np.inf]), int_bits=2, frac_bits=2, rng=Seed(1))),
            Case("edge: negative values between grid points", dict(x=np.array([-0.1, -0.3, -1.01]), int_bits=2,
                                                                   frac_bits=2, rng=Seed(2))),
            Case("edge: ⟨4, 12⟩, tiny values", dict(x=np.array([1e-4, -1e-4, 3e-5]), int_bits=4, frac_bits=12, rng=Seed(3)))]
    return edge + random_cases(lambda r: dict(x=r.normal(scale=2.0, size=40), int_bits=int(r.integers(1, 5)),
                                              frac_bits=int(r.integers(1, 9)), rng=Seed(r.integers(100))))


STOCHASTIC_PROBES = [(dict(x=x, int_bits=il, frac_bits=fl), label) for x, il, fl, label in (
    (0.3, 2, 2, "⟨2, 2⟩, 0.2 of a step above 0.25"), (0.125, 2, 2, "⟨2, 2⟩, half way"),
    (-0.3, 2, 2, "⟨2, 2⟩, negative: between −0.5 and −0.25"), (0.9, 2, 2, "⟨2, 2⟩, 0.6 of a step"),
    (1.7, 2, 2, "⟨2, 2⟩, just below the largest value 1.75"), (-1.9, 2, 2, "⟨2, 2⟩, just above −2"),
    (1e-4, 4, 12, "⟨4, 12⟩, 0.41 of a step above 0"))]


def check_stochastic(exercise, fn):
    return check_stochastic_grid(exercise, fn, fixed_grid, STOCHASTIC_PROBES)


def bfloat16_round(x):
    """The library's quantize_float(x, BFLOAT16, "nearest_even") on float32."""
    return quantize_float(np.asarray(x, np.float32), BFLOAT16, "nearest_even")


PATTERNS = {  # float32 bit pattern: what it tests
    0x3F808000: "a tie, kept part even: down", 0x3F818000: "a tie, kept part odd: up",
    0x3F808001: "just above a tie: up", 0x3F807FFF: "just below a tie: down",
    0xBF818000: "a negative tie", 0x3FFFFFFF: "the carry into the exponent",
    0x7F7FFFFF: "float32's largest: rounds to inf", 0x7F7F7FFF: "near bfloat16's largest: down",
    0x00018000: "a subnormal tie: up to even", 0x00008000: "the smallest tie: down to 0",
    0x00000000: "+0", 0x80000000: "−0 keeps its sign", 0x80008001: "tiny negative: up"}


def bits(x):
    return np.asarray(x, np.float32).view(np.uint32)


def bfloat16_cases():
    edge = [Case(f"edge: {what}", dict(x=np.array([p], np.uint32).view(np.float32))) for p, what in PATTERNS.items()]
    return edge + random_cases(lambda r: dict(x=np.concatenate([
        (r.normal(size=6) * 10.0 ** r.integers(-40, 38, size=6)).astype(np.float32),
        (r.integers(0, 0x7F800000, size=6, dtype=np.uint32) | (r.integers(0, 2, 6, dtype=np.uint32) << 31)
         ).view(np.float32)])))


def bfloat16_properties(case, expected, received):
    e, r = bits(expected), np.asarray(received)
    if r.dtype != np.float32:
        raise Failure("dtype", f"expected float32 (bfloat16 values held in float32), received {r.dtype}")
    r = r.view(np.uint32)
    x = bits(case.inputs["x"])
    for k in np.flatnonzero(e != r):
        raise Failure("bits", f"at index {k}: input 0x{x[k]:08X} ({float(case.inputs['x'][k])!r}) "
                              f"should become 0x{e[k]:08X} ({float(expected[k])!r}), received "
                              f"0x{r[k]:08X} ({float(received[k])!r})")


EXERCISES = [
    Exercise(
        name="stochastic_round", tutorial="05_quantization",
        title="Stochastic rounding to the fixed-point format ⟨IL, FL⟩",
        statement="""
Implement stochastic_round(x, int_bits, frac_bits, rng) -> q (Gupta et al. 2015, Eq. 2).
⟨IL, FL⟩ has IL integer bits (the sign included) and FL fraction bits: the grid ε·ℤ, ε = 2^−FL,
on [−2^(IL−1), 2^(IL−1) − ε]. First saturate x to that range, then

    q = ⌊x⌋        with probability 1 − (x − ⌊x⌋)/ε
    q = ⌊x⌋ + ε    with probability (x − ⌊x⌋)/ε         so E[q] = x

(⌊x⌋: the largest grid point ≤ x). x: float64 array, any shape; q: float64, x's shape. Draw
one uniform number per entry from rng (a np.random.Generator), nothing from np.random.
""",
        stub='''
import numpy as np

def stochastic_round(x, int_bits, frac_bits, rng):
    """x (any shape) -> q on the grid of <int_bits, frac_bits>, E[q] = x inside the range."""
    raise NotImplementedError
''',
        hint="Work in units of ε: s = x·2^FL is an integer on the grid. Clip s to the integer codes "
             "[−2^(IL+FL−1), 2^(IL+FL−1) − 1], then round up where rng.random(s.shape) < s − ⌊s⌋.",
        reference=stochastic_round, cases=stochastic_cases, checker=check_stochastic),
    Exercise(
        name="bfloat16_round", tutorial="05_quantization",
        title="float32 to bfloat16, round to nearest even, on the bit patterns",
        statement="""
Implement bfloat16_round(x) -> y: x float32 (finite, any shape) rounded to the nearest
bfloat16 value (1 sign, 8 exponent, 7 mantissa bits: the top 16 bits of a float32 pattern),
ties to the even pattern, returned as float32 (the low 16 bits zero). Work on the patterns,
b = x.view(np.uint32), in integer arithmetic only (Kalamkar et al. 2019: bfloat16 is float32
with the 16 low mantissa bits rounded off, round to nearest even):

    the low 16 bits of b above 0x8000 → round up, below → down, exactly 0x8000 → to the
    neighbour whose lowest kept bit (bit 16) is 0

The carry may ripple into the exponent (that is right: the next binade, or inf past the largest).
""",
        stub='''
import numpy as np

def bfloat16_round(x):
    """x float32 (finite) -> float32 holding the nearest bfloat16 values (ties to even)."""
    raise NotImplementedError
''',
        hint="A positive float's pattern grows with its value, so rounding the pattern rounds the "
             "value, and the sign bit is never touched by the carry of a finite value. Add 0x7FFF "
             "plus the lowest kept bit (bit 16), then clear the low 16 bits.",
        reference=bfloat16_round, cases=bfloat16_cases, exact_dtype=True,
        properties=bfloat16_properties),
]
