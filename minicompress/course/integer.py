"""Exercise of tutorial 10 (integer inference): the affine quantizer q = clamp(round(r/S + Z))
(Jacob et al. 2018, Sec. 2.1, Eq. 1 read backwards)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise
from minicompress.quant import quantize_affine as library_quantize_affine
from minicompress.quant import requantize


def quantize_affine(x, scale, zero_point, bits):
    """The library's quantize_affine with signed codes, one (S, Z) for the whole tensor."""
    return library_quantize_affine(x, scale, zero_point, bits=bits, signed=True)


def affine_cases():
    edge = [Case("edge: ties to even, Z = 0", dict(x=np.array([0.5, 1.5, 2.5, -0.5, -1.5]), scale=1.0,
                                                   zero_point=0, bits=8)),
            Case("edge: a tie with an odd zero point (Z added before rounding)",
                 dict(x=np.array([2.5, 0.25, -0.75]), scale=1.0, zero_point=1, bits=8)),
            Case("edge: saturation at both ends", dict(x=np.array([1000.0, -1000.0, 12.7, -12.8, -12.9]),
                                                       scale=0.1, zero_point=0, bits=8)),
            Case("edge: 4-bit codes [−8, 7]", dict(x=np.array([0.9, -0.9, 0.35, -0.45]), scale=0.1, zero_point=-2, bits=4)),
            Case("edge: 12-bit codes (int16)", dict(x=np.array([1.0, -1.0, 3.0]), scale=1 / 1024, zero_point=5, bits=12))]
    return edge + random_cases(lambda r: dict(x=r.normal(scale=2.0, size=(3, 4)), scale=float(r.uniform(0.005, 0.05)),
                                              zero_point=int(r.integers(-20, 21)), bits=int(r.choice([4, 8, 8, 16]))))


def quantize_multiplier(m):
    """The library's (M₀, n) with 31 significant bits."""
    return requantize.quantize_multiplier(m)


def multiplier_cases():
    edge = [Case("edge: M = 0.5 exactly (M₀ = 2³⁰, n = 0)", dict(m=0.5)),
            Case("edge: M = 0.75 (M₀ = 3·2²⁹, n = 0)", dict(m=0.75)),
            Case("edge: M = 2⁻⁸ (a right shift n = 8)", dict(m=2.0 ** -8)),
            Case("edge: M ≥ 1 (n < 0, a left shift)", dict(m=3.0)),
            Case("edge: M just below 1 rounds up to 1: renormalize (M₀ = 2³⁰, n = −1)", dict(m=1 - 2.0 ** -40)),
            Case("edge: a tie at the 31st bit goes to even", dict(m=0.5 + 2.0 ** -32))]
    return edge + random_cases(lambda r: dict(m=float(10 ** r.uniform(-6, 1))))


EXERCISES = [
    Exercise(
        name="quantize_affine", tutorial="10_integer_inference",
        title="The affine (uniform) quantizer of 8-bit inference",
        statement="""
Implement quantize_affine(x, scale, zero_point, bits) -> q, signed integer codes
(Jacob et al. 2018, Sec. 2.1: r = S (q − Z), read backwards):

    q = clamp(round_half_even(x / S + Z), −2^(b−1), 2^(b−1) − 1)

Z is added *before* rounding (that matters at ties when Z is odd). x: floats, any shape;
scale S > 0 a float; zero_point Z an int inside the code range; bits b in [2, 16].
q: x's shape, dtype int8 for b ≤ 8, int16 otherwise.
""",
        stub='''
import numpy as np

def quantize_affine(x, scale, zero_point, bits):
    """x (any shape) -> signed integer codes (int8 for bits <= 8, else int16)."""
    raise NotImplementedError
''',
        hint="np.rint rounds half to even (Python's round does too, np.round as well; int() and "
             "astype truncate). Clip *before* casting: int8(200) wraps around to −56.",
        reference=quantize_affine, cases=affine_cases, exact_dtype=True),
    Exercise(
        name="quantize_multiplier", tutorial="10_integer_inference",
        title="The fixed-point multiplier (M₀, n) of requantization",
        statement="""
Implement quantize_multiplier(m) -> (m0, n), two Python ints, for a real multiplier
M = S_in·S_w/S_out > 0 (Jacob et al. 2018, Sec. 2.2, Eq. 6): M = 2⁻ⁿ · M₀ / 2³¹ with M₀ an
int in [2³⁰, 2³¹), so that requantization is one integer multiply and one shift:

    M = f · 2^e with ½ ≤ f < 1 (math.frexp);   M₀ = round_half_even(f · 2³¹);   n = −e
    if the rounding gives M₀ = 2³¹, use M₀ = 2³⁰ and n − 1 instead

n < 0 means a left shift (M ≥ 1).
""",
        stub='''
import math

def quantize_multiplier(m):
    """m > 0 -> (m0, n) ints with m ≈ 2**-n * m0 / 2**31 and 2**30 <= m0 < 2**31."""
    raise NotImplementedError
''',
        hint="math.frexp(m) gives f and e; Python's round() already breaks ties to even; check "
             "with math.ldexp(m0, -31 - n).",
        reference=quantize_multiplier, cases=multiplier_cases, outputs=("m0", "n"), rtol=0.0, atol=0.0),
]
