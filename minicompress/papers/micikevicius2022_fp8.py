"""FP8 training: two 8-bit float formats, one for each direction, and a scale per tensor.

P. Micikevicius, D. Stosic, N. Burgess, M. Cornea, P. Dubey, R. Grisenthwaite, S. Ha,
A. Heinecke, P. Judd, J. Kamalu, N. Mellempudi, S. Oberman, M. Shoeybi, M. Siu, H. Wu.
"FP8 Formats for Deep Learning." arXiv:2209.05433 (2022); the OCP 8-bit floating point
specification (2023) standardizes both formats.

The idea. Two encodings share the 8 bits differently (§2): E4M3 (4 exponent, 3 mantissa bits;
no infinities, one NaN pattern S.1111.111, so its top binade holds numbers: max 448, smallest
subnormal 2⁻⁹) keeps more precision, for the forward pass (weights and activations); E5M2 (IEEE
conventions, max 57344, smallest subnormal 2⁻¹⁶) keeps more range, for the backward pass (the
gradients of activations). Neither covers a tensor's values unless the tensor is first
multiplied by a *per-tensor scaling factor* that moves its largest magnitude near the format's
max (§3): x ↦ Q(s·x)/s. With that, training in FP8 matches 16-bit training on image, language
and translation models with the same hyperparameters (§4, Tables 2-5).

Equations. For a tensor x and format F (max_F its largest finite value), as used here

    s = 2^⌊log₂(max_F / amax(x))⌋,   x̂ = RNE_F(s·x) / s   (saturating at ±max_F)

with amax(x) = max|x|. A power-of-two s makes the scaling itself exact, so x̂ differs from x only by
the format's rounding. Matrix products take E4M3 inputs in forward and E5M2 errors in backward and
accumulate in float32; master weights and the optimizer stay in float32 (§3, "mixed precision").

Deviations. The paper (and NVIDIA's Transformer Engine) uses *delayed* scaling: s from the amax
history of earlier steps, so that a cast needs no extra pass; we scale from the current tensor's
amax ("just-in-time"), which is what delayed scaling approximates. s is rounded to a power of two
(the paper allows any real s).

:data:`RECIPES` names the recipes compared; :func:`recipe_setup` builds one, reusing
:func:`~minicompress.quant.quantize_model` (rounding of matrix-product inputs, errors in
backward) and :class:`~minicompress.quant.QuantizedOptimizer` (float32 masters, low-precision
copies), as the bfloat16 reproduction does.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import nn
from minicompress.quant import (BFLOAT16, E4M3, E5M2, FloatFormat, Quantize, QuantizedOptimizer,
                                Quantizer, quantize_float, quantize_model)

SCALE_LIMIT = 2.0 ** 100  # keeps s·x and x̂/s inside float32 for any tensor


def scale_for(x: np.ndarray, fmt: FloatFormat) -> float:
    """s = 2^⌊log₂(max_F / amax(x))⌋ (1 for an all-zero or non-finite tensor)."""
    finite = x[np.isfinite(x)]
    amax = float(np.abs(finite).max()) if finite.size else 0.0
    if amax == 0.0:
        return 1.0
    return float(min(2.0 ** np.floor(np.log2(fmt.max / amax)), SCALE_LIMIT))


class ScaledQuantizer(Quantizer):
    """A :class:`Quantizer` that rounds x̂ = Q(s·x)/s with the per-tensor scale of
    :func:`scale_for` (saturating), and counts like any Quantizer."""

    def quantize(self, x: np.ndarray) -> np.ndarray:
        s = x.dtype.type(scale_for(x, self.fmt))
        return quantize_float(x * s, self.fmt, self.rounding, self.rng, saturate=True,
                              buffers=self.buffers) / s

    def outside(self, x: np.ndarray):
        return None  # the scale brings every finite value inside the range

    def __repr__(self) -> str:
        return f"ScaledQuantizer({self.fmt!r}, {self.rounding!r})"


# name: (forward format, backward format, per-tensor scaling)
RECIPES = {
    "fp32": (None, None, False),
    "bf16 mixed": (BFLOAT16, BFLOAT16, False),
    "fp8 E4M3/E5M2, per-tensor scaling": (E4M3, E5M2, True),
    "fp8 E4M3/E5M2, no scaling": (E4M3, E5M2, False),
    "fp8 E4M3 both ways, per-tensor scaling": (E4M3, E4M3, True),
}


def recipe_setup(model: nn.Module, recipe: str, lr: float, rng, *, momentum: float = 0.9):
    """(model to train, optimizer, {"activations": [...], "errors": [...]} quantizers) for one
    recipe of :data:`RECIPES`: float32 master weights, SGD with step ``lr`` and ``momentum``
    (its state in float32 too); the layers compute
    with rounded copies of the weights, and every matrix-product input is rounded (activations
    in forward, errors in backward), each tensor with its own quantizer (and scale)."""
    if recipe not in RECIPES:
        raise ValueError(f"recipe: expected one of {list(RECIPES)}, got {recipe!r}")
    forward, backward, scaled = RECIPES[recipe]
    if forward is None:
        return model, QuantizedOptimizer(nn.SGD(model.parameters(), lr=lr, momentum=momentum)), {}
    make = ScaledQuantizer if scaled else Quantizer
    quantized = quantize_model(model, activations=make(forward, "nearest_even", rng),
                               errors=make(backward, "nearest_even", rng), placement="inputs")
    kinds = {"activations": [], "errors": []}
    for module in quantized.modules():  # a quantizer of its own per tensor
        if isinstance(module, Quantize):
            for attr, kind in (("forward_quantizer", "activations"), ("backward_quantizer", "errors")):
                shared = getattr(module, attr)
                if shared is not None:
                    own = copy.copy(shared)  # the same random stream, its own counts and buffers
                    own.buffers = {}
                    own.reset()
                    setattr(module, attr, own)
                    kinds[kind].append(own)
    optimizer = QuantizedOptimizer(nn.SGD(quantized.parameters(), lr=lr, momentum=momentum),
                                   compute=make(forward, "nearest_even", rng, count=False))
    return quantized, optimizer, kinds


def zeroed_fraction(quantizers) -> float:
    """Nonzero values rounded to 0 over all the quantizers' inputs (NaN before any input)."""
    nonzero = sum(q.counts["nonzero"] for q in quantizers)
    return sum(q.counts["zeroed"] for q in quantizers) / nonzero if nonzero else float("nan")
