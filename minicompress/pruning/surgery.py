"""Surgery: a new, physically smaller model without the deleted units, and an index map.

A mask leaves every tensor at full size, so a pruned model is no faster (the complaint users of
every pruning library make). Surgery deletes a *unit* for real: a row of a Linear weight (a
hidden neuron) or a filter of a Conv2d weight, with its bias, and the matching inputs of the
*consumer*, the next layer with parameters:

    Linear → (activations) → Linear              columns of the consumer's W
    Conv2d → (activations, pools) → Conv2d       input channels of the consumer's W
    Conv2d → (activations, pools) → Flatten → Linear
                                                 the block of h·w columns of each channel

Which units can go without changing the outputs (:func:`shrink`):

- *dead out*: the consumer's effective weights from the unit are all zero, so nobody reads it;
- *dead in*: the unit's effective incoming weights are all zero, so it emits the constant
  c = f(b) (pools keep a constant constant). For ReLU/tanh and b = 0, c = 0; otherwise c times
  the consumer's weights is folded into the consumer's bias. A padded consumer convolution sees
  zeros at the border instead of c, so such a unit is kept unless c = 0.

The outputs then match the masked model up to floating-point summation order.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress.nn import Activation, AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, Parameter, Sequential

PRODUCERS = (Linear, Conv2d)
PASS_THROUGH = (Activation, MaxPool2d, AvgPool2d, Flatten)  # keep each channel separate


def remove_units(model: Sequential, layer: int, keep) -> Sequential:
    """A copy of ``model`` in which layer ``layer`` keeps only the units (output features or
    filters) listed in ``keep``, in that order, and its consumer only the matching inputs.

    This deletes whatever it is told to; it preserves the outputs only if the removed units
    contributed nothing (use :func:`shrink` to find those).
    """
    new = _copy(model)
    _remove_in_place(new, layer, _check_keep(keep, _n_units(new, layer)))
    return new


def shrink(model: Sequential) -> tuple[Sequential, dict[int, np.ndarray]]:
    """A smaller copy of ``model`` without the units that cannot change its outputs.

    Returns
    -------
    model : Sequential
        The new model (parameters copied, masks sliced along).
    index_map : dict {layer index: kept original unit indices}
        For every layer whose units were considered (all producers but the output layer):
        new unit i of that layer is old unit ``index_map[layer][i]``.

    A layer whose every unit is removable keeps its first one, so no layer becomes empty.
    """
    new = _copy(model)
    index_map = {}
    for i, layer in enumerate(new.layers):
        if not isinstance(layer, PRODUCERS) or _consumer(new, i, required=False) is None:
            continue
        removable = _dead_units(new, i)
        keep = np.flatnonzero(~removable)
        if keep.size == 0:
            keep = np.array([0])
        _fold_constants(new, i, np.setdiff1d(np.flatnonzero(removable), keep))
        _remove_in_place(new, i, keep)
        index_map[i] = keep
    return new, index_map


def _dead_units(model: Sequential, i: int) -> np.ndarray:
    """Boolean (units,): True where the unit is dead out, or dead in with a foldable constant."""
    layer, (_, consumer, _) = model.layers[i], _consumer(model, i)
    w = layer.weight.value()
    dead_in = ~w.reshape(w.shape[0], -1).any(axis=1)
    consumer_w = _unit_columns(model, i, consumer, consumer.weight.value())  # (units, out, cols)
    dead_out = ~consumer_w.reshape(consumer_w.shape[0], -1).any(axis=1)
    constants = _constants(model, i)
    foldable = constants == 0
    if consumer.bias is not None and consumer.bias.mask is None:
        foldable |= not (isinstance(consumer, Conv2d) and consumer.padding != (0, 0))
    return dead_out | (dead_in & foldable)


def _constants(model: Sequential, i: int) -> np.ndarray:
    """c_u = f(b_u): what each unit of layer i emits, as seen by its consumer, when its
    incoming weights are zero (the activations in between applied to the bias)."""
    layer = model.layers[i]
    c = np.zeros(_n_units(model, i)) if layer.bias is None else layer.bias.value().astype(np.float64)
    for between in model.layers[i + 1:_consumer(model, i)[0]]:
        if isinstance(between, Activation):
            c = between.f(c)
    return c


def _fold_constants(model: Sequential, i: int, units: np.ndarray) -> None:
    """Add the constant outputs of dead-in ``units`` times their weights to the consumer's bias."""
    c = _constants(model, i)[units]
    if not c.any():
        return
    _, consumer, _ = _consumer(model, i)
    cols = _unit_columns(model, i, consumer, consumer.weight.value())[units]  # (units, out, ...)
    cols = cols.reshape(len(units), cols.shape[1], -1).sum(axis=2)  # (units, out)
    consumer.bias.data = consumer.bias.data + (c @ cols).astype(consumer.bias.data.dtype)


def _remove_in_place(model: Sequential, i: int, keep: np.ndarray) -> None:
    layer = model.layers[i]
    _, consumer, block = _consumer(model, i)
    layer.weight = _sliced(layer.weight, keep, axis=0)
    if layer.bias is not None:
        layer.bias = _sliced(layer.bias, keep, axis=0)
    if isinstance(layer, Linear):
        layer.out_features = len(keep)
    else:
        layer.out_channels = len(keep)
    cols = (keep[:, None] * block + np.arange(block)).ravel()  # each unit's block of inputs
    consumer.weight = _sliced(consumer.weight, cols, axis=1)
    if isinstance(consumer, Linear):
        consumer.in_features = len(cols)
    else:
        consumer.in_channels = len(cols)
    model.clear().set_names()


def _consumer(model: Sequential, i: int, required: bool = True):
    """(index, layer, block): the next layer with parameters after layer i, and how many of its
    inputs each unit of layer i feeds (h·w after a Flatten, else 1)."""
    flattened = False
    for j in range(i + 1, len(model.layers)):
        layer = model.layers[j]
        if isinstance(layer, PRODUCERS):
            units = _n_units(model, i)
            inputs = layer.weight.shape[1]
            if inputs % units or (inputs != units and not flattened):
                raise ValueError(f"surgery: {layer.describe()} takes {inputs} inputs, which do not "
                                 f"split into the {units} units of {model.layers[i].describe()}")
            return j, layer, inputs // units
        if not isinstance(layer, PASS_THROUGH):
            raise TypeError(f"surgery: does not know how {layer.describe()} mixes units; it "
                            f"handles {', '.join(c.__name__ for c in PASS_THROUGH)} between layers")
        flattened |= isinstance(layer, Flatten)
    if required:
        raise ValueError(f"surgery: {model.layers[i].describe()} is the output layer; its units are "
                         f"the model's outputs and cannot be removed")
    return None


def _unit_columns(model, i, consumer, w) -> np.ndarray:
    """The consumer's weights grouped by unit of layer i: (units, out, block[, kh, kw])."""
    w = np.moveaxis(w, 1, 0)  # (inputs, out, ...), inputs = units · block
    return w.reshape(_n_units(model, i), -1, *w.shape[1:]).swapaxes(1, 2)


def _sliced(p: Parameter, index: np.ndarray, axis: int) -> Parameter:
    new = Parameter(np.take(p.data, index, axis=axis), p.name)
    new.mask = None if p.mask is None else np.take(p.mask, index, axis=axis)
    return new


def _n_units(model: Sequential, i: int) -> int:
    layer = model.layers[i]
    if not isinstance(layer, PRODUCERS):
        raise TypeError(f"surgery: layer {i} is {layer.describe()}; only Linear and Conv2d have units")
    return layer.weight.shape[0]


def _check_keep(keep, units: int) -> np.ndarray:
    keep = np.asarray(keep)
    if keep.ndim != 1 or keep.size == 0 or not np.issubdtype(keep.dtype, np.integer):
        raise ValueError(f"keep: expected a non-empty 1-D array of unit indices, got {keep!r}")
    if keep.min() < 0 or keep.max() >= units or len(np.unique(keep)) != keep.size:
        raise ValueError(f"keep: indices must be distinct and in [0, {units - 1}], got {keep.tolist()}")
    return keep


def _copy(model: Sequential) -> Sequential:
    if not isinstance(model, Sequential) or any(isinstance(m, Sequential) for m in model.layers):
        raise TypeError(f"surgery: expected a flat Sequential model, got {type(model).__name__}")
    return copy.deepcopy(model.clear())
