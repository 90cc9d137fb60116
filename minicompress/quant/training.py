"""Quantized training without editing a layer: modules that round what flows between layers
(this file), and an optimizer wrapper that rounds what the optimizer stores (``optim.py``).

Four kinds of values can each get their own format and rounding (a :class:`Quantizer`):

- activations: rounded in forward, between layers, by :class:`Quantize`;
- back-propagated errors: rounded in backward, between layers, by :class:`Quantize`;
- weights and biases: rounded once at the start and after every step, and
- weight updates: w ← Q(w − η·g), both by :class:`~minicompress.quant.optim.QuantizedOptimizer`.

:func:`quantize_model` copies any engine model and inserts the :class:`Quantize` modules in
one of two placements:

``"outputs"`` (Gupta et al. 2015)
    every value stored between layers lives in the format: the input, and the output of every
    layer that can leave the grid (all but ReLU, MaxPool2d and Flatten, which only select or
    reshape on-grid values), in forward and in backward. In a float64 model, a Linear or Conv2d
    layer with on-grid weights then computes each dot product exactly (products of 16-bit codes
    summed in float64: see :func:`~minicompress.quant.matmul.fixed_matmul`), and the
    Quantize after it rounds the result once, as the paper's multiply-accumulate hardware does.
``"inputs"`` (the TPU's bfloat16 recipe, Kalamkar et al. 2019)
    the inputs of every matrix product are rounded: a Quantize before each layer with
    parameters rounds x in forward, one after it rounds the error g in backward; products
    and sums stay in the model's float32 (bfloat16 × bfloat16 products are exact in float32).

Rounding is treated as the identity in backward (the straight-through estimator), and
saturation as what it is, a clamp: with ``clip_gradient=True`` the error is zeroed where the
forward value lay outside the range, so a unit pinned beyond the range end stops receiving
gradient. The range ends themselves count as inside and pass their gradient (a change to
clamp's gradient exactly at the boundary once switched the estimator off there: pytorch/ao
PR #4806).
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import nn
from minicompress.nn.checks import check_grad_out
from minicompress.quant.quantizer import Quantizer

GRID_PRESERVING = (nn.ReLU, nn.MaxPool2d, nn.Flatten)  # outputs are inputs, selected or reshaped
PLACEMENTS = ("outputs", "inputs")


class Quantize(nn.Module):
    """Rounds activations in forward and errors in backward; no parameters.

    Parameters
    ----------
    forward, backward : Quantizer or None
        Applied to the input in forward, and to the incoming error in backward (None: unchanged).
    clip_gradient : bool
        Zero the error where ``forward`` saturated (the derivative of a clamp); else pass it.
    dtype : floating dtype or None
        Cast the input to this dtype first (the first Quantize of a float64 simulation takes
        float32 data); the error goes back in the input's dtype.
    """

    def __init__(self, forward: Quantizer | None = None, backward: Quantizer | None = None, *,
                 clip_gradient: bool = True, dtype=None):
        super().__init__()
        for name, q in (("forward", forward), ("backward", backward)):
            if q is not None and not isinstance(q, Quantizer):
                raise TypeError(f"Quantize: {name} must be a Quantizer or None, got {type(q).__name__}")
        self.forward_quantizer, self.backward_quantizer = forward, backward
        self.clip_gradient, self.dtype = clip_gradient, None if dtype is None else np.dtype(dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.cache.update(x_dtype=x.dtype, shape=x.shape, outside=None)
        if self.dtype is not None:
            x = x.astype(self.dtype, copy=False)
        q = self.forward_quantizer
        if q is None:
            return x
        if not self.training:  # evaluation: the same rounding, left out of the training counts
            return q.quantize(x)
        if self.clip_gradient:
            self.cache["outside"] = q.outside(x)
        return q(x)

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        check_grad_out(self, g_out, self.cached("shape"))
        outside = self.cache["outside"]
        g = g_out if outside is None else np.where(outside, 0, g_out)
        if self.backward_quantizer is not None:
            g = self.backward_quantizer(g)
        return g.astype(self.cache["x_dtype"], copy=False)

    def extra_repr(self) -> str:
        parts = [f"{name}={q.fmt.label} {q.rounding}" for name, q in
                 (("forward", self.forward_quantizer), ("backward", self.backward_quantizer))
                 if q is not None]
        return ", ".join(parts + ([f"dtype={self.dtype}"] if self.dtype is not None else []))


def quantize_model(model: nn.Module, *, activations: Quantizer | None = None,
                   errors: Quantizer | None = None, inputs: Quantizer | None = None,
                   placement: str = "outputs", clip_gradient: bool = True,
                   dtype=None) -> nn.Sequential:
    """A copy of ``model`` with :class:`Quantize` modules inserted (placements in the module
    docstring). The original model is left untouched; weights are the optimizer's business
    (:class:`~minicompress.quant.optim.QuantizedOptimizer` rounds them).

    Parameters
    ----------
    model : Sequential, or a single layer
    activations, errors : Quantizer or None
        Forward values and backward errors between layers.
    inputs : Quantizer or None
        The network's input ("outputs" placement; under "inputs" the first layer's input is
        rounded by ``activations`` like every matrix-product input).
    placement : {"outputs", "inputs"}
    clip_gradient : bool
        See :class:`Quantize`.
    dtype : floating dtype or None
        Convert the copy (float64 makes every dot product of 16-bit codes exact); a first
        Quantize then casts the data.

    Returns
    -------
    Sequential, named afresh (parameter names change where modules were inserted).
    """
    if placement not in PLACEMENTS:
        raise ValueError(f"quantize_model: placement must be one of {PLACEMENTS}, got {placement!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"quantize_model: expected an engine Module, got {type(model).__name__}")
    model = copy.deepcopy(model)
    for module in model.modules():
        module.cache.clear()
    if dtype is not None:
        model.astype(dtype)
    layers = model.layers if isinstance(model, nn.Sequential) else [model]
    body = _insert(layers, activations, errors, placement, clip_gradient)
    first = inputs if placement == "outputs" else None
    if first is not None or dtype is not None:
        body.insert(0, Quantize(first, clip_gradient=clip_gradient, dtype=dtype))
    return nn.Sequential(*body)


def _insert(layers, activations, errors, placement, clip_gradient) -> list:
    out = []
    for layer in layers:
        if isinstance(layer, nn.Sequential):
            out.append(nn.Sequential(*_insert(layer.layers, activations, errors, placement, clip_gradient)))
            continue
        if any(True for _ in layer.named_children()):
            raise TypeError(f"quantize_model: {layer.describe()} holds sub-modules that are not a "
                            f"Sequential; insert Quantize modules into it by hand")
        has_params = bool(layer.parameters())
        if placement == "inputs" and has_params and activations is not None:
            out.append(Quantize(activations, clip_gradient=clip_gradient))
        out.append(layer)
        if placement == "outputs" and not isinstance(layer, GRID_PRESERVING) \
                and (activations is not None or errors is not None):
            out.append(Quantize(activations, errors, clip_gradient=clip_gradient))
        if placement == "inputs" and has_params and errors is not None:
            out.append(Quantize(backward=errors))
    return out
