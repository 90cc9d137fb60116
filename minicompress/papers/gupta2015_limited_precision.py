"""Training in 16-bit fixed point: round-to-nearest loses the small updates, stochastic rounding
keeps them in expectation.

S. Gupta, A. Agrawal, K. Gopalakrishnan, P. Narayanan. "Deep Learning with Limited Numerical
Precision." ICML 2015, PMLR 37:1737–1746. arXiv:1502.02551.

The idea. Train with the network's values held in a 16-bit fixed-point format ⟨IL, FL⟩. With
round-to-nearest, an update smaller than half a grid step (|η·g| < ε/2 = 2^−(FL+1)) rounds to
nothing every time, so a weight whose gradient is small never moves and training stalls.
Stochastic rounding rounds up with probability equal to the fractional distance, so each update
survives *in expectation* (E[round(x)] = x) and 16-bit training tracks float32.

Equations (Sec. 3; the equation numbers could not be checked against the PDF here):
  ⟨IL, FL⟩          WL = IL + FL bits, sign included; ε = 2^−FL; range [−2^(IL−1), 2^(IL−1) − ε]
  round-to-nearest  ⌊x⌋ if x − ⌊x⌋ ≤ ε/2, else ⌊x⌋ + ε (⌊x⌋: the largest multiple of ε ≤ x)
  stochastic        ⌊x⌋ + ε with probability (x − ⌊x⌋)/ε, else ⌊x⌋
  Convert(x)        saturate to the range ends, else round
  multiply-add      products and sums exact (wide accumulator), one Convert per dot product

Which values live in the format (Sec. 4): the parameters (weights W_l, biases B_l) and the
intermediate values of back-propagation — layer outputs Y_l, back-propagated errors δ_l, and
the updates ΔW_l, ΔB_l. Here, after :func:`limited_precision`:
- the input, and every layer output that can leave the grid (Linear, Conv2d), are converted
  once in forward, and every back-propagated error once in backward (``quantize_model``'s
  "outputs" placement). The copy is float64, so a dot product of 16-bit values is exact and
  its Convert is its only rounding;
- the weight update: SGD's step is w ← Convert(w − η·∂E/∂w), one rounding
  (:class:`~minicompress.quant.QuantizedOptimizer`). Since w is on the grid, Convert(w + ΔW) =
  w + Convert(ΔW) for both roundings (rounding commutes with shifts by multiples of ε) apart
  from saturation: it is the paper's update ΔW_l = Convert(−η·∂E/∂W) added to W_l. The weight
  gradient ∂E/∂W itself, before the learning rate, is not among the paper's stored values and
  is not converted on its own: the dot products Σ_n δ_n a_nᵀ that make it are converted once,
  as the update;
- evaluation: the test passes use the same arithmetic as training, stochastic rounding included
  (the paper does not say how its test errors were computed; its accelerator rounds
  stochastically in the multiplier itself). :func:`with_rounding` makes a copy that rounds
  every converted value to nearest instead, for a deterministic test error.
A clipped unit passes no error (the derivative of saturation, ``clip_gradient``): without it,
with everything in ⟨2, 14⟩ the activations saturate and training collapses.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import nn
from minicompress.quant import FixedPoint, Quantize, QuantizedOptimizer, Quantizer, quantize_model

ROUNDING_NAMES = {"nearest": "RN", "stochastic": "SR"}


def limited_precision(model: nn.Module, fmt: FixedPoint | None, rounding: str | None, lr: float,
                      rng, *, convert_logits: bool = True):
    """Gupta et al.'s training setup: the model's values in ``fmt`` with ``rounding``.

    Parameters
    ----------
    model : Sequential
        A float32 network (left unchanged; the returned one is a float64 copy).
    fmt : FixedPoint or None
        None: float32 training, with the same optimizer wrapper (it counts lost updates).
    rounding : {"nearest", "stochastic"} or None
    lr : float
        SGD's step size on the loss as the caller computes it (e.g. summed over the batch).
    rng : Generator
        One stream for every stochastic rounding of the run.
    convert_logits : bool
        Convert the last layer's output (the logits, the softmax cost's input) like every other
        layer output. False keeps them as the wide accumulator computed them (their error,
        p − y, is still converted): a logit in ⟨2, 14⟩ cannot leave [−2, 2), which caps the
        softmax's confidence at 0.86 and stops the gradient of every saturated logit.

    Returns
    -------
    (model to train, optimizer, quantizers by kind: "activations", "errors", "inputs")
    """
    if fmt is None:
        return model, QuantizedOptimizer(nn.SGD(model.parameters(), lr=lr)), {}
    kinds = {k: Quantizer(fmt, rounding, rng) for k in ("activations", "errors", "inputs")}
    quantized = quantize_model(model, **kinds, placement="outputs", dtype=np.float64)
    if not convert_logits:  # the Quantize after the last layer keeps only its backward rounding
        if not isinstance(quantized.layers[-1], Quantize):
            raise ValueError(f"convert_logits=False: expected the model to end with a layer whose "
                             f"output is converted (Linear, Conv2d), got {quantized.layers[-1].describe()}")
        quantized = nn.Sequential(*quantized.layers[:-1], Quantize(backward=kinds["errors"]))
    weights = Quantizer(fmt, rounding, rng, count=False)  # the optimizer counts lost updates
    return quantized, QuantizedOptimizer(nn.SGD(quantized.parameters(), lr=lr), weights), kinds


def with_rounding(model: nn.Sequential, rounding: str) -> nn.Sequential:
    """A copy of a model from :func:`limited_precision` whose converted values (inputs, layer
    outputs) are rounded with ``rounding`` (e.g. "nearest" for a deterministic test pass) in the
    same formats; the weights are shared values, copied."""
    twin = copy.deepcopy(model)
    for module in twin.modules():
        if isinstance(module, Quantize) and module.forward_quantizer is not None:
            q = module.forward_quantizer
            module.forward_quantizer = Quantizer(q.fmt, rounding, q.rng, count=False)
    return twin
