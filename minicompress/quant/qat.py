"""Simulated ("fake") quantization in a float model: post-training calibration and
quantization-aware training (Jacob et al. 2018, §3), without editing a layer.

:func:`prepare` copies an engine model (Linear / Conv2d, with ReLU, MaxPool2d and Flatten between
them) and inserts

- a :class:`FakeQuantize` on the input and after every layer with weights (after its ReLU when
  one follows: the ReLU is fused, as in the integer kernel), which rounds activations onto
  x̂ = S·(clamp(round(x/S + Z)) − Z) with (S, Z) from its observer;
- a :class:`QuantizedWeights` around every Linear / Conv2d, which hands the layer fake-quantized
  weights ŵ (per output channel or per tensor) in forward and backward while the optimizer
  updates the float weights w.

Gradients: the straight-through estimator (Bengio et al. 2013), as PyTorch's fake-quant ops:
∂x̂/∂x = 1 where round(x/S) + Z lies within the codes, 0 where the clamp acts; the same mask for
ŵ and w.

Second-order rules of :class:`FakeQuantize` (for :mod:`minicompress.nn.curvature`): the STE
replaces rounding by the identity, a linear map, so its second derivative is 0 and every rule
is the mask m: h_in = m·h_out (m² = m), s_in = m·s_out, R{x̂} = m·R{x}, R{g_in} = m·R{g_out}.
These describe the STE surrogate, not the true function (whose derivative is 0 almost
everywhere). :class:`QuantizedWeights` has no second-order rules (NotImplementedError): compute
curvature on the float model.

Modes. ``calibrate(model, x)``: post-training quantization, observers see the data and nothing is
rounded; then every FakeQuantize rounds with its frozen range. ``model.train()`` with
``qat=True`` observers (EMA): ranges follow the data while the model trains through the
rounding.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import nn
from minicompress.quant.affine import code_range, dequantize_affine, quantize_affine
from minicompress.quant.observers import OBSERVERS, MovingAverageMinMaxObserver, Observer

WEIGHTED = (nn.Linear, nn.Conv2d)
PASS_THROUGH = (nn.MaxPool2d, nn.Flatten)  # they only select or reshape codes


def _fake(x, scale, zero_point, observer: Observer, axis):
    """(x̂, inside mask) for the observer's code range; x̂ in x's dtype."""
    narrow = observer.symmetric
    low, high = code_range(observer.bits, observer.signed, narrow=narrow)
    q = quantize_affine(x, scale, zero_point, bits=observer.bits, signed=observer.signed,
                        axis=axis, narrow=narrow, zero_point_first=True)
    t = x.astype(np.float64) / (scale if axis is None else
                                np.reshape(scale, (-1,) + (1,) * (x.ndim - 1)))
    z = zero_point if axis is None else np.reshape(zero_point, (-1,) + (1,) * (x.ndim - 1))
    unclamped = np.rint(t + z)
    inside = (unclamped >= low) & (unclamped <= high)
    return dequantize_affine(q, scale, zero_point, axis=axis, dtype=x.dtype), inside, q


class FakeQuantize(nn.Module):
    """x̂ = S·(clamp(round(x/S + Z)) − Z) per tensor, (S, Z) from ``observer``; STE backward.

    Attributes ``observing`` (feed batches to the observer, in training mode) and
    ``quantizing`` (round; else the identity) select the mode; ``codes`` holds the last
    forward's integer codes when quantizing.
    """

    def __init__(self, observer: Observer, *, observing: bool = True, quantizing: bool = True):
        super().__init__()
        if not isinstance(observer, Observer) or observer.axis is not None:
            raise TypeError(f"FakeQuantize: expected a per-tensor Observer, got {observer!r}")
        self.observer, self.observing, self.quantizing = observer, observing, quantizing
        self._qparams = None

    def qparams(self):
        """(scale, zero_point) from the observer (recomputed after it saw new data)."""
        if self._qparams is None:
            self._qparams = self.observer.qparams()
        return self._qparams

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.observing and self.training:
            self.observer.observe(x)
            self._qparams = None
        self.cache.update(shape=x.shape, inside=None)
        if not self.quantizing:
            return x
        scale, zero_point = self.qparams()
        x_hat, inside, self.cache["codes"] = _fake(x, scale, zero_point, self.observer, None)
        self.cache["inside"] = inside
        return x_hat

    def _mask(self, g):
        inside = self.cached("inside")
        return g if inside is None else g * inside

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        return self._mask(g_out)

    # ----- second order: the STE's linear map (module docstring) ---------------------------
    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        return (None if g_out is None else self._mask(g_out)), self._mask(h_out)

    def backward_ggn(self, s_out, need_input=True):
        return self._mask(s_out)

    def forward_r(self, rx, v):
        return None if rx is None else self._mask(rx)

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        return self._mask(g_out), self._mask(rg_out)

    def extra_repr(self) -> str:
        return repr(self.observer)


class QuantizedWeights(nn.Module):
    """A Linear or Conv2d computing with fake-quantized weights ŵ; the optimizer updates the
    float weights w (held in the layer's Parameter), whose gradient is the STE's, masked where
    ŵ was clamped. ŵ is recomputed whenever w has changed."""

    def __init__(self, layer: nn.Module, observer: Observer):
        super().__init__()
        if not isinstance(layer, WEIGHTED):
            raise TypeError(f"QuantizedWeights: expected a Linear or Conv2d, got {type(layer).__name__}")
        if observer.axis not in (None, 0):
            raise ValueError(f"QuantizedWeights: weights are quantized per tensor or per output "
                             f"channel (axis 0), got axis {observer.axis}")
        self.layer, self.observer = layer, observer
        self.quantized = None  # (ŵ, inside mask, codes, scale, zero_point)
        self.quantized_from = None  # the w that ŵ was computed from

    def weight_qparams(self):
        """(codes, scale, zero_point) of the current weights (int8/int16 codes)."""
        w = self.layer.weight.value()
        if self.quantized is None or not np.array_equal(w, self.quantized_from):
            self.quantized_from = w.copy()
            self.observer.reset()
            self.observer.observe(w)
            scale, zero_point = self.observer.qparams()
            w_hat, inside, codes = _fake(w, scale, zero_point, self.observer, self.observer.axis)
            self.quantized = (w_hat, inside, codes, scale, zero_point)
        return self.quantized[2:]

    def _swap(self, run):
        """Run ``run()`` with ŵ in place of w, then put w back."""
        self.weight_qparams()
        p = self.layer.weight
        w = p.data
        p.data = self.quantized[0]
        try:
            return run()
        finally:
            p.data = w

    def forward(self, x):
        return self._swap(lambda: self.layer.forward(x))

    def _masked_grad(self, run):
        p = self.layer.weight
        before = p.grad.copy()
        out = self._swap(run)
        p.grad = before + (p.grad - before) * self.quantized[1]  # STE: zero where ŵ was clamped
        return out

    def backward(self, g_out):
        return self._masked_grad(lambda: self.layer.backward(g_out))

    def grad_params(self, g_out):
        self._masked_grad(lambda: self.layer.grad_params(g_out))

    def grad_input(self, g_out):
        return self._swap(lambda: self.layer.grad_input(g_out))

    def _no_rule(self, method):
        return NotImplementedError(
            f"{self.describe()}: fake-quantized weights have no second-order rule {method}: "
            f"rounding's derivative is 0 almost everywhere and the straight-through estimator "
            f"defines only the first derivative; compute curvature on the float model")

    def macs(self, output_shape, nonzero=False):
        return self.layer.macs(output_shape, nonzero)

    def extra_repr(self) -> str:
        return f"{self.layer!r}, {self.observer!r}"


def observer(name: str, **kwargs) -> Observer:
    """An observer by name: "minmax", "moving_average", "percentile", "mse"."""
    if name not in OBSERVERS:
        raise ValueError(f"observer: expected one of {list(OBSERVERS)}, got {name!r}")
    return OBSERVERS[name](**kwargs)


def prepare(model: nn.Module, *, weight_bits: int = 8, activation_bits: int = 8,
            per_channel: bool = True, weight_observer: str = "minmax",
            activation_observer: str = "minmax", qat: bool = False,
            averaging_constant: float = 0.01) -> nn.Sequential:
    """A copy of ``model`` with fake quantization inserted (module docstring).

    Weights: symmetric signed codes of ``weight_bits`` (narrow range ±(2^(b−1) − 1)), per output
    channel or per tensor. Activations: asymmetric int8 (``activation_bits``) per tensor.
    ``qat=True`` gives every activation an EMA observer (``averaging_constant``) instead of
    ``activation_observer``. The original model is left unchanged.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"prepare: expected an engine Sequential, got {type(model).__name__}")
    layers = list(copy.deepcopy(model.clear()).layers)  # cleared first: no scratch buffers copied
    act = lambda: (MovingAverageMinMaxObserver(averaging_constant, bits=activation_bits) if qat
                   else observer(activation_observer, bits=activation_bits))
    out = [FakeQuantize(act())]
    for i, layer in enumerate(layers):
        if isinstance(layer, WEIGHTED):
            out.append(QuantizedWeights(layer, observer(weight_observer, bits=weight_bits,
                                                        symmetric=True, axis=0 if per_channel else None)))
            if not (i + 1 < len(layers) and isinstance(layers[i + 1], nn.ReLU)):
                out.append(FakeQuantize(act()))
        elif isinstance(layer, nn.ReLU):
            if not (i > 0 and isinstance(layers[i - 1], WEIGHTED)):
                raise NotImplementedError(f"prepare: a ReLU must follow a Linear or Conv2d (layer {i})")
            out += [layer, FakeQuantize(act())]
        elif isinstance(layer, PASS_THROUGH):
            out.append(layer)
        else:
            raise NotImplementedError(f"prepare: {type(layer).__name__} (layer {i}) has no integer "
                                      f"kernel; supported: Linear, Conv2d, ReLU, MaxPool2d, Flatten")
    return nn.Sequential(*out)


def fake_quantizers(model: nn.Module) -> list[FakeQuantize]:
    return [m for m in model.modules() if isinstance(m, FakeQuantize)]


def calibrate(model: nn.Sequential, x: np.ndarray, *, batch_size: int = 500) -> nn.Sequential:
    """Post-training quantization: show ``x`` to every activation observer (nothing rounded),
    then freeze the ranges and round. Returns the model, in evaluation mode."""
    for fq in fake_quantizers(model):
        fq.observer.reset()
        fq.observing, fq.quantizing, fq._qparams = True, False, None
    model.eval()
    for fq in fake_quantizers(model):
        fq.training = True  # observers see data in training mode; nothing else changes
    for start in range(0, len(x), batch_size):
        model.forward(x[start:start + batch_size])
    for fq in fake_quantizers(model):
        fq.observing, fq.quantizing = False, True
    return model.eval()
