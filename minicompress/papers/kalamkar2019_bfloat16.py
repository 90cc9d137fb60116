"""bfloat16 training: float32's range in 16 bits, and the recipes that make it train like float32.

D. Kalamkar, D. Mudigere, N. Mellempudi, D. Das, et al.
"A Study of BFLOAT16 for Deep Learning Training."
arXiv:1905.12322 (2019). The format is Google Brain's, for TPUs ("BFloat16: the secret to high
performance on Cloud TPUs", Google Cloud blog, 2019; TensorFlow's ``bfloat16.h``).

The idea. bfloat16 (1 sign, 8 exponent, 7 mantissa bits: the upper half of a float32) keeps
float32's 8 exponent bits, so a gradient neither underflows nor overflows where float32 would
not and no loss scaling is needed; but it keeps only 8 bits of precision: adjacent numbers near
w are 2⁻⁸|w| to 2⁻⁷|w| apart. Kalamkar et al.'s mixed-precision flow (the TPU's) rounds the
*inputs* of every matrix product — activations, weights and back-propagated errors — to
bfloat16 with round-to-nearest-even, accumulates and outputs in float32, and keeps float32
master weights and optimizer state; their claim (abstract) is that it reaches float32's results
in the same number of iterations with no hyperparameter changes. Storing the weights
themselves in bfloat16 with nearest rounding stalls once the updates fall below half a spacing,
|η·g| < 2⁻⁹|w| or so, unless the updates are rounded stochastically.

Equations. bf16(x) by round-to-nearest-even on the float32 pattern u (TensorFlow's conversion):
    u ← u + 0x7FFF + ((u >> 16) & 1), then clear the low 16 bits
(NaN kept quiet, overflow to ±inf; :func:`minicompress.quant.quantize_float`). An update Δ to a
stored weight w survives nearest rounding only if |Δ| > spacing(w)/2; stochastic rounding keeps
it in expectation, E[SR(w + Δ)] = w + Δ.

:data:`RECIPES` names the recipes compared (the first two Kalamkar et al.'s, the rest contrasts);
:func:`recipe_setup` builds one from a float32 model: ``quantize_model(placement="inputs")``
rounds matrix-product inputs in forward and errors in backward, and a
:class:`~minicompress.quant.QuantizedOptimizer` either keeps float32 masters and hands the
layers bfloat16 copies (``compute=``) or stores the weights in 16 bits (w ← Q(w − η·g)).
"""
from __future__ import annotations

from minicompress import nn
from minicompress.quant import BFLOAT16, FLOAT16, QuantizedOptimizer, Quantizer, quantize_model

# name: (format of matmul inputs and of stored weights, weight rounding or None for fp32 master)
RECIPES = {
    "fp32": (None, None),
    "bf16 mixed (TPU)": (BFLOAT16, None),
    "bf16 weights, RNE updates": (BFLOAT16, "nearest_even"),
    "bf16 weights, SR updates": (BFLOAT16, "stochastic"),
    "fp16, no loss scaling": (FLOAT16, "nearest_even"),
    "fp16 mixed (fp32 master)": (FLOAT16, None),
}


def recipe_setup(model: nn.Module, recipe: str, lr: float, rng):
    """(model to train, optimizer, quantizers by kind) for one recipe of :data:`RECIPES`.

    Parameters
    ----------
    model : Sequential
        A float32 network (copied; left unchanged unless the recipe is "fp32").
    recipe : str
        A key of :data:`RECIPES`.
    lr : float
        SGD's step size.
    rng : Generator
        One stream for every stochastic rounding of the run.

    Returns
    -------
    (model, QuantizedOptimizer, {"activations": Quantizer, "errors": Quantizer} or {} for fp32)
    """
    if recipe not in RECIPES:
        raise ValueError(f"recipe: expected one of {list(RECIPES)}, got {recipe!r}")
    fmt, weight_rounding = RECIPES[recipe]
    if fmt is None:
        return model, QuantizedOptimizer(nn.SGD(model.parameters(), lr=lr)), {}
    kinds = {k: Quantizer(fmt, "nearest_even", rng) for k in ("activations", "errors")}
    quantized = quantize_model(model, **kinds, placement="inputs")
    sgd = nn.SGD(quantized.parameters(), lr=lr)
    if weight_rounding is None:  # float32 master weights, 16-bit copies in the products
        optimizer = QuantizedOptimizer(sgd, compute=Quantizer(fmt, "nearest_even", rng, count=False))
    else:  # the weights themselves stored in 16 bits: w ← Q(w − η·g)
        optimizer = QuantizedOptimizer(sgd, Quantizer(fmt, weight_rounding, rng, count=False))
    return quantized, optimizer, kinds
