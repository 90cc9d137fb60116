"""HAWQ / HAWQ-V2: Hessian-aware mixed precision, one bit width per layer chosen by curvature.

Z. Dong, Z. Yao, A. Gholami, M. W. Mahoney, K. Keutzer. "HAWQ: Hessian AWare Quantization of
Neural Networks with Mixed-Precision." ICCV 2019.
Z. Dong, Z. Yao, Y. Cai, D. Arfeen, A. Gholami, M. W. Mahoney, K. Keutzer. "HAWQ-V2: Hessian Aware
trace-Weighted Quantization of Neural Networks." NeurIPS 2020.

The idea. Quantizing layer l's weights W_l moves them by ΔW_l = Q_b(W_l) − W_l; at a minimum the
loss grows by about ½ ΔWᵀ H ΔW. A layer whose loss surface is sharp (large Hessian block H_l)
should keep more bits than a flat one. HAWQ measures the sharpness by the top eigenvalue λ_max(H_l),
found by power iteration on Hessian-vector products. HAWQ-V2 replaces it with the average trace
Tr(H_l)/n_l (n_l the number of weights of layer l), estimated by Hutchinson's method, because one
eigenvalue says little about the rest of the spectrum. It then replaces the hand-chosen ordering
of V1 by an automatic choice: the Pareto frontier of sensitivity against model size.

Equations (HAWQ-V2's Ω, its Eq. (2.11), and Fig. 4's frontier; their notation). For an
assignment b = (b_1, ..., b_L) of bits to layers,

    Ω_l(b_l) = (Tr(H_l)/n_l) · ‖Q_{b_l}(W_l) − W_l‖²₂          (HAWQ-V2)
    Ω_l(b_l) = λ_max(H_l) · ‖Q_{b_l}(W_l) − W_l‖²₂             (HAWQ's criterion, V2's form)

    Ω(b) = Σ_l Ω_l(b_l),    size(b) = Σ_l n_l · b_l  (bits of weights; biases stay in float)

Every assignment in {2, 4, 8}^L is a point (size(b), Ω(b)); the non-dominated points (no other
assignment is both no larger and no more sensitive, one strictly) form the Pareto frontier.
Under a size budget B the choice is b* = argmin {Ω(b) : size(b) ≤ B}, a point of the frontier.

Quantizer. Q_b is symmetric uniform quantization per output channel: scale S_c = max|W_c| /
(2^(b−1) − 1), codes in ±(2^(b−1) − 1) (:func:`~minicompress.quant.choose_qparams`,
:func:`~minicompress.quant.fake_quantize`, ``narrow=True``), the usual rule for weights. Per
channel because one scale for a whole layer lets its largest output channel set the grid of every
other; at 2 bits the codes are {−1, 0, 1}·S_c.

Deviations. The papers fine-tune after quantizing (quantization-aware); here the search itself:
post-training quantization. The search is exhaustive over B^L, which the papers' networks, with
tens of blocks, do not allow; ours have four weight layers.
"""
from __future__ import annotations

import copy
import itertools
import numbers

import numpy as np

from minicompress import nn
from minicompress.nn.curvature import top_eigenvalues, trace
from minicompress.quant import choose_qparams, fake_quantize
from minicompress.rng import as_rng

CRITERIA = ("trace", "eigenvalue")
BITS = (2, 4, 8)
MAX_ASSIGNMENTS = 3 ** 10  # exhaustive search: B^L assignments held in memory at once


def weight_layers(model) -> list:
    """The Linear and Conv2d modules of ``model``, in ``model.modules()`` order: the layers that
    get a bit width (their biases stay in float)."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if not layers:
        raise ValueError("dong2019_hawq: the model has no Linear or Conv2d layer to quantize")
    return layers


def layer_curvature(model, loss, x, y, *, criterion: str = "trace", n: int = 100, rng=None,
                    tol: float = 1e-3, max_iter: int = 100) -> np.ndarray:
    """Each weight layer's sharpness: Tr(H_l)/n_l (``"trace"``) or λ_max(H_l) (``"eigenvalue"``).

    H_l is the diagonal block of the Hessian of ``loss`` (its reduction, e.g. the mean over the
    batch (x, y)) for layer l's weight. ``"trace"``: Hutchinson with ``n`` Rademacher probes of
    all the weights at once (:func:`~minicompress.nn.curvature.trace`, ``per_layer=True``: the
    block traces of the same n hvps); ``"eigenvalue"``: Lanczos on each block
    (:func:`~minicompress.nn.curvature.top_eigenvalues`, to ``tol``, at most ``max_iter`` hvps).

    Returns
    -------
    ndarray (L,), float64, aligned with :func:`weight_layers`.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"layer_curvature: criterion must be one of {CRITERIA}, got {criterion!r}")
    weights = [layer.weight for layer in weight_layers(model)]
    if criterion == "trace":
        traces = trace(model, loss, x, y, n=n, rng=rng, per_layer=True, params=weights)
        return np.array([t / w.data.size for t, w in zip(traces, weights)], np.float64)
    rng = as_rng(rng)
    return np.array([top_eigenvalues(model, loss, x, y, 1, tol=tol, max_iter=max_iter, rng=rng,
                                     params=[w])[0][0] for w in weights], np.float64)


def _check_bits(bits, who: str) -> int:
    if isinstance(bits, bool) or not isinstance(bits, numbers.Integral) or not 2 <= bits <= 16:
        raise ValueError(f"{who}: bits must be an int in [2, 16], got {bits!r}")
    return int(bits)


def quantize(weight, bits: int) -> np.ndarray:
    """Q_b(W): symmetric per-output-channel quantization (axis 0), in W's dtype."""
    bits, w = _check_bits(bits, "quantize"), np.asarray(weight)
    if w.ndim < 2 or not np.issubdtype(w.dtype, np.floating):
        raise ValueError(f"quantize: weight must be a float array (out, ...) with ≥ 2 axes, got "
                         f"{w.dtype} of shape {w.shape}")
    rows = w.reshape(len(w), -1).astype(np.float64)
    scale, zero = choose_qparams(rows.min(axis=1), rows.max(axis=1), bits=bits, symmetric=True)
    return fake_quantize(w, scale, zero, bits=bits, axis=0, narrow=True)


def perturbation(weight, bits: int) -> float:
    """‖Q_b(W) − W‖²₂, in float64 (the quantization of a float64 copy of W)."""
    w = np.asarray(weight, np.float64)
    return float(np.sum((quantize(w, bits) - w) ** 2))


def _check_choices(bits_choices, who: str) -> tuple:
    choices = tuple(_check_bits(b, who) for b in bits_choices)
    if not choices or len(set(choices)) != len(choices):
        raise ValueError(f"{who}: bits_choices must be distinct bit widths, got {bits_choices!r}")
    return choices


def sensitivity(curvature, weights, bits_choices=BITS) -> np.ndarray:
    """Ω_l(b) = curvature_l · ‖Q_b(W_l) − W_l‖²₂ for every layer l and every b in bits_choices.

    Parameters
    ----------
    curvature : (L,) non-negative numbers (from :func:`layer_curvature`).
    weights : L weight arrays (or Parameters), aligned with ``curvature``.

    Returns
    -------
    ndarray (L, B), float64.
    """
    choices = _check_choices(bits_choices, "sensitivity")
    curvature = np.asarray(curvature, np.float64)
    weights = [getattr(w, "data", w) for w in weights]
    if curvature.ndim != 1 or len(curvature) != len(weights) or not len(weights):
        raise ValueError(f"sensitivity: expected one curvature per weight array, got "
                         f"{curvature.shape} curvatures for {len(weights)} weights")
    if not np.all(np.isfinite(curvature)) or np.any(curvature < 0):
        raise ValueError(f"sensitivity: curvatures must be finite and ≥ 0 (Ω is a penalty), got "
                         f"{curvature}")
    return np.array([[c * perturbation(w, b) for b in choices] for c, w in zip(curvature, weights)])


def _assignments(omega, sizes, bits_choices, who: str):
    """Every assignment as indices (B^L, L), with its Ω(b) and size(b)."""
    choices = _check_choices(bits_choices, who)
    omega, sizes = np.asarray(omega, np.float64), np.asarray(sizes)
    if omega.ndim != 2 or omega.shape[1] != len(choices) or sizes.shape != (omega.shape[0],):
        raise ValueError(f"{who}: expected omega (L, {len(choices)}) and sizes (L,), got "
                         f"{omega.shape} and {sizes.shape}")
    if not np.all(np.isfinite(omega)) or not np.issubdtype(sizes.dtype, np.integer) or np.any(sizes < 1):
        raise ValueError(f"{who}: omega must be finite and sizes positive integers (weights per layer)")
    count = len(choices) ** omega.shape[0]
    if count > MAX_ASSIGNMENTS:
        raise ValueError(f"{who}: {len(choices)}^{omega.shape[0]} = {count} assignments exceed the "
                         f"exhaustive limit of {MAX_ASSIGNMENTS}; fewer layers or bit choices")
    index = np.array(list(itertools.product(range(len(choices)), repeat=omega.shape[0])))
    layers = np.arange(omega.shape[0])
    total = omega[layers, index].sum(axis=1)
    size = (np.array(choices, np.int64)[index] * sizes.astype(np.int64)).sum(axis=1)
    return choices, index, total, size


def pareto_frontier(omega, sizes, bits_choices=BITS) -> list[tuple]:
    """The assignments no other one dominates, by increasing size.

    b dominates b' when size(b) ≤ size(b') and Ω(b) ≤ Ω(b'), one of them strictly. Exhaustive
    over the B^L assignments (at most ``MAX_ASSIGNMENTS``).

    Returns
    -------
    list of (assignment, Ω(b), size(b)): assignment a tuple of L bit widths.
    """
    choices, index, total, size = _assignments(omega, sizes, bits_choices, "pareto_frontier")
    frontier, best_smaller = [], np.inf
    for s in np.unique(size):  # increasing
        here = np.flatnonzero(size == s)
        least = total[here].min()
        if least < best_smaller:  # not beaten by a smaller assignment; ties of equal size all kept
            frontier += [(tuple(choices[i] for i in index[k]), float(total[k]), int(s))
                         for k in here if total[k] == least]
            best_smaller = least
    return frontier


def choose_bits(omega, sizes, bits_choices=BITS, budget=None) -> tuple:
    """b* = argmin {Ω(b) : size(b) ≤ budget}; ties go to the smaller, then the first assignment
    in lexicographic order of the choice indices. ``budget`` in bits (Σ n_l b_l)."""
    if not isinstance(budget, numbers.Real) or isinstance(budget, bool) or not np.isfinite(budget):
        raise ValueError(f"choose_bits: budget must be a finite number of bits, got {budget!r}")
    choices, index, total, size = _assignments(omega, sizes, bits_choices, "choose_bits")
    feasible = np.flatnonzero(size <= budget)
    if not feasible.size:
        raise ValueError(f"choose_bits: no assignment fits the budget of {budget} bits; the "
                         f"smallest takes {int(size.min())}")
    best = feasible[np.lexsort((feasible, size[feasible], total[feasible]))[0]]
    return tuple(choices[i] for i in index[best])


def model_size(model, assignment) -> int:
    """size(b) = Σ_l n_l · b_l of ``model``'s weight layers, in bits."""
    layers = weight_layers(model)
    return int(sum(layer.weight.data.size * _check_bits(b, "model_size")
                   for layer, b in zip(layers, _check_assignment(layers, assignment))))


def _check_assignment(layers, assignment) -> tuple:
    if not isinstance(assignment, (tuple, list)) or len(assignment) != len(layers):
        raise ValueError(f"dong2019_hawq: assignment must give one bit width per weight layer "
                         f"({len(layers)}), got {assignment!r}")
    return tuple(assignment)


def quantize_weights(model, assignment) -> nn.Module:
    """A copy of ``model`` with each weight layer's W_l replaced by Q_{b_l}(W_l) (biases, masks
    and ``model``'s parameters untouched; its forward caches are cleared, as before any copy)."""
    layers = weight_layers(model)
    bits = [_check_bits(b, "quantize_weights") for b in _check_assignment(layers, assignment)]
    names = {id(p): name for name, p in model.named_parameters()}
    state = model.state_dict()
    for layer, b in zip(layers, bits):
        state[names[id(layer.weight)]] = quantize(layer.weight.data, b)
    quantized = copy.deepcopy(model.clear())  # cached activations are not copied (only values)
    quantized.load_state_dict(state)
    return quantized
