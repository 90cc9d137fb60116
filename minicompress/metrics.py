"""How big and how costly a model is: parameters, nonzeros, sparsity, compression, FLOPs, storage,
measured latency, and a per-layer ``summary`` table.

Three quantities are kept apart (ShrinkBench's convention, Blalock et al. 2020):

    sparsity           = zeros / parameters                 (a fraction in [0, 1])
    compression ratio  = parameters / nonzeros              (≥ 1; 10 means a tenth is left)
    theoretical speedup = dense FLOPs / nonzero FLOPs

Counts are of the *effective* values ``data * mask``: a masked entry and a weight that is
exactly zero both count as zero. Functions take a Module, a Parameter or a list of Parameters.

FLOPs convention: multiply-accumulates (MACs) for one example, which every layer reports itself
(``Module.macs(output_shape, nonzero)``): one per stored weight per output position, so Linear
in·out, Conv2d c_out·c_in·kh·kw·oh·ow (the zero padding included), a factorized layer its two
factors, a column-pruned or CSR convolution only what it stores. "Nonzero" MACs count only
nonzero weights: nnz(W) per output position. Bias additions, activations, pooling and the loss
are not counted. (Some authors count 2 FLOPs per MAC; we do not.)
"""
from __future__ import annotations

import io
from itertools import accumulate

import numpy as np

from minicompress.bench import median_ms, print_table
from minicompress.nn import Module, Parameter, Sequential


def count_params(model) -> int:
    """Number of parameter entries (weights and biases)."""
    return sum(p.data.size for p in _params(model))


def count_nonzero(model) -> int:
    """Number of nonzero effective entries (``data * mask``)."""
    return sum(int(np.count_nonzero(p.value())) for p in _params(model))


def sparsity(model) -> float:
    """Fraction of effective entries that are zero."""
    return 1.0 - count_nonzero(model) / count_params(model)


def compression_ratio(model) -> float:
    """parameters / nonzeros (inf if every entry is zero)."""
    nonzero = count_nonzero(model)
    return count_params(model) / nonzero if nonzero else float("inf")


def storage_bits(model, *, value_bits: int | None = None, index_bits: int | None = None) -> int:
    """Bits to store the parameters.

    Dense (``index_bits=None``): every entry at ``value_bits`` (default: its dtype's width).
    Sparse: only nonzeros, each with ``index_bits`` of position (e.g. a relative index, as in
    Deep Compression): nnz · (value_bits + index_bits).
    """
    total = 0
    for p in _params(model):
        bits = 8 * p.data.itemsize if value_bits is None else value_bits
        if index_bits is None:
            total += p.data.size * bits
        else:
            total += int(np.count_nonzero(p.value())) * (bits + index_bits)
    return total


def flops(model: Module, input_shape: tuple) -> dict:
    """Multiply-accumulates per example, dense and nonzero (see the module docstring).

    Parameters
    ----------
    model : Module
    input_shape : tuple
        One example's shape, without the batch axis: ``(784,)`` or ``(1, 28, 28)``.

    Returns
    -------
    dict
        ``dense`` and ``nonzero`` totals, and ``layers``: one dict per layer that computes
        (MACs > 0) with name, kind, dense, nonzero.
    """
    layers = [dict(name=layer.name, kind=type(layer).__name__, dense=dense, nonzero=nonzero)
              for layer, out_shape in _trace(model, input_shape)
              for dense, nonzero in [_macs(layer, out_shape)] if dense > 0]
    return dict(dense=sum(r["dense"] for r in layers), nonzero=sum(r["nonzero"] for r in layers),
                layers=layers)


def _macs(layer: Module, out_shape: tuple) -> tuple[int, int]:
    """(dense, nonzero) MACs of one layer given its output shape (1, o[, oh, ow])."""
    return layer.macs(out_shape[1:]), layer.macs(out_shape[1:], nonzero=True)


def latency(model: Module, x: np.ndarray, *, repeats: int = 20, warmup: int = 3) -> float:
    """Median wall-clock seconds of ``model(x)`` over ``repeats`` runs after ``warmup`` runs.

    For printing and comparing in one run, never for asserting: timings vary between machines
    and with whatever else runs.
    """
    return median_ms(lambda: model(x), repeats, warmup) / 1e3


def latencies(models: dict, x: np.ndarray, layers=(), *, repeats: int, rounds: int) -> dict:
    """``{name: {"network": ms, index: ms}}``: median milliseconds of each Sequential's forward
    pass on ``x`` and of each of its ``layers`` (indices) on that layer's own input (``repeats``
    timed runs after 2 warm-ups), models interleaved within each of ``rounds`` rounds (so a
    drift in the machine's speed hits all alike), the median over rounds. For printing ratios
    measured side by side, never for asserting."""
    inputs = {name: list(accumulate(m.layers, lambda h, layer: layer(h), initial=x))
              for name, m in models.items()}
    times = {name: {} for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            calls = {"network": (model, x), **{i: (model[i], inputs[name][i]) for i in layers}}
            for key, (f, h) in calls.items():
                times[name].setdefault(key, []).append(median_ms(lambda: f(h), repeats, 2))
    return {name: {k: float(np.median(v)) for k, v in t.items()} for name, t in times.items()}


def summary(model: Module, input_shape: tuple) -> str:
    """A per-layer table: output shape, parameters, nonzeros, sparsity, dense and nonzero MACs.

    ``print(summary(model, (784,)))``.
    """
    rows = []
    for layer, out_shape in _trace(model, input_shape):
        own = list(layer.own_parameters())
        dense, nonzero = _macs(layer, out_shape)
        rows.append({"layer": layer.name, "kind": repr(layer), "output": str(out_shape[1:]),
                     "params": count_params(own), "nonzero": count_nonzero(own),
                     "sparsity": f"{sparsity(own):.1%}" if own else "",
                     "MACs": dense, "MACs_nonzero": nonzero})
    total = flops(model, input_shape)
    rows.append({"layer": "total", "kind": "", "output": "", "params": count_params(model),
                 "nonzero": count_nonzero(model), "sparsity": f"{sparsity(model):.1%}",
                 "MACs": total["dense"], "MACs_nonzero": total["nonzero"]})
    out = io.StringIO()
    print_table(rows, f"{type(model).__name__}: {count_params(model):,} parameters, compression "
                      f"{compression_ratio(model):.2f}x, theoretical speedup "
                      f"{total['dense'] / max(total['nonzero'], 1):.2f}x", out)
    return out.getvalue()


def _trace(model: Module, input_shape: tuple):
    """(leaf layer, output shape) for each leaf, from a forward pass on one example of zeros."""
    dtype = next((_weight_dtype(m) for m in _leaves(model) if _weight_dtype(m) is not None), np.float32)
    x = np.zeros((1, *tuple(input_shape)), dtype)
    for layer in _leaves(model):
        x = layer(x)
        yield layer, x.shape


def _weight_dtype(layer: Module):
    """The dtype a layer computes in: of its weight Parameter or array (a CSR matrix), if any."""
    w = getattr(layer, "weight", None)
    return getattr(w, "data", w).dtype if w is not None else None


def _leaves(model: Module):
    if isinstance(model, Sequential):
        for layer in model.layers:
            yield from _leaves(layer)
    else:
        yield model


def _params(obj) -> list[Parameter]:
    if isinstance(obj, Module):
        return obj.parameters()
    if isinstance(obj, Parameter):
        return [obj]
    params = list(obj)
    if not all(isinstance(p, Parameter) for p in params):
        raise TypeError("expected a Module, a Parameter or a list of Parameters")
    return params
