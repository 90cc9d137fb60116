"""Integer-arithmetic-only inference, and the training that prepares for it.

B. Jacob, S. Kligys, B. Chen, M. Zhu, M. Tang, A. Howard, H. Adam, D. Kalenichenko.
"Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference."
CVPR 2018 (arXiv:1712.05877). The scheme of TensorFlow Lite; PyTorch's ``torch.ao`` follows it.

The idea. Store every weight and activation as an 8-bit integer code q through an affine map of
the reals, r = S(q − Z) (§2.1, Eq. 1), with a real scale S > 0 and an integer zero point Z
(the code of r = 0, so zero padding and ReLU are exact). Then a layer's matrix product needs only
integer arithmetic: int8 products summed in an int32 accumulator, an int32 bias, and one
fixed-point multiplication that rescales the accumulator into the next layer's codes. To keep
accuracy, train with the same rounding simulated in float ("fake quantization", §3), gradients
passed straight through the rounding.

Equations (the paper's notation: 1 input, 2 weights, 3 output).

    r = S(q − Z)                                                        (1)
    q₃ = Z₃ + M Σ_j (q₁ − Z₁)(q₂ − Z₂),  M = S₁S₂/S₃                    (4)
    M = 2⁻ⁿ M₀,  M₀ ∈ [0.5, 1) as an int32 fixed-point number            (6)
    q₃ = Z₃ + M (N Z₁Z₂ − Z₁ a₂ − Z₂ a₁ + Σ_j q₁q₂),  a₁ = Σ_j q₁, a₂ = Σ_j q₂    (7–8)
    bias: int32, S_bias = S₁S₂, Z_bias = 0                               (§2.4)

Simulated quantization in training (§3.1): weights quantized before they are used,
activations at the points where inference quantizes them (after the fused ReLU),
q = clamp(round(r/S + Z)), r̂ = S(q − Z); weight ranges from their min and max, activation
ranges by exponential moving averages of the batch min and max; ∂r̂/∂r = 1 inside the range.

The machinery is in :mod:`minicompress.quant`: :func:`~minicompress.quant.quantize_affine`
(Eq. 1), the observers, :func:`~minicompress.quant.qat.prepare` and
:func:`~minicompress.quant.qat.calibrate` (fake quantization, STE), and
:mod:`~minicompress.quant.integer_model` (Eq. 7–8 with int8 × int8 → int32 and the (M₀, n)
requantization of :mod:`~minicompress.quant.requantize`). This file puts them together as the
paper's two procedures:

- :func:`post_training`: calibrate the ranges on a few batches and convert (what TFLite calls
  post-training quantization, the paper's baseline);
- :func:`quantization_aware`: the fake-quantized copy to train (§3), then :func:`to_integer`.

Deviations. Weights are symmetric int8 codes in ±127 (per tensor, or per output channel as in
TFLite's later int8 spec) rather than the paper's uint8 with a zero point; activations are
int8 with a zero point (the paper: uint8; the same up to an offset of 128). Batch norm
folding (§3.2) has nothing to fold: the LeNets have none. M₀ keeps at most 31 significant
bits, fewer when the layer's accumulator bound requires it, so that the float64 simulation is
exact (:mod:`minicompress.quant.requantize`).
"""
from __future__ import annotations

import numpy as np

from minicompress import nn
from minicompress.quant.integer_model import IntegerGemm, IntegerModel, convert
from minicompress.quant.qat import calibrate, prepare


def post_training(model: nn.Sequential, calibration_x: np.ndarray, *, weight_bits: int = 8,
                  per_channel: bool = True, observer: str = "minmax"):
    """Post-training quantization: (fake-quantized float model, :class:`IntegerModel`).

    ``observer`` chooses the activation ranges from ``calibration_x`` ("minmax",
    "moving_average", "percentile" or "mse"); weights use their min and max, per output channel
    (``per_channel``) or per tensor, symmetric, ``weight_bits`` bits. ``model`` is unchanged.
    """
    fake = calibrate(prepare(model, weight_bits=weight_bits, per_channel=per_channel,
                             activation_observer=observer), calibration_x)
    return fake, convert(fake)


def quantization_aware(model: nn.Sequential, *, weight_bits: int = 8, per_channel: bool = True,
                       averaging_constant: float = 0.01) -> nn.Sequential:
    """The copy of ``model`` to train with simulated quantization (§3): fake-quantized weights
    (recomputed from the float weights every step) and activations whose ranges are EMAs of the
    batch min and max. Train it like any engine model; then :func:`to_integer`."""
    return prepare(model, weight_bits=weight_bits, per_channel=per_channel, qat=True,
                   averaging_constant=averaging_constant)


def to_integer(fake: nn.Sequential) -> IntegerModel:
    """The integer-only model of a fake-quantized one, with its current weights and ranges."""
    return convert(fake.eval())


def integer_ops(model: IntegerModel, input_shape: tuple) -> dict:
    """Integer operations per example: int8 multiply-accumulates into int32 (Σ q₁q₂) and the
    per-output work of requantization (the int32 corrections, the 64-bit M₀ product, the
    rounding shift and the clamp, counted as 4 operations each)."""
    x = np.zeros((1, *input_shape), np.int8)
    macs = outputs = 0
    for layer in model.layers:
        y = layer.forward(x)
        if isinstance(layer, IntegerGemm):
            macs += y.size * layer.weight.shape[1]
            outputs += y.size
        x = y
    return dict(int8_macs=int(macs), requantize_ops=int(4 * outputs))
