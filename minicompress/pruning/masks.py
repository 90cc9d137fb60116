"""Masks: which entries of a parameter are deleted, chosen from a score per entry (or per slice).

Every pruning criterion of the survey is a *score provider*: magnitude |w|, OBD's ½·h_kk·w²,
Karnin's sensitivity, a slice's L_n norm. This file turns scores into 0/1 masks, with PyTorch's
``torch.nn.utils.prune`` rules:

- ``amount`` is an int (how many entries to delete) or a float in [0, 1] (the fraction of the
  entries *still unpruned* to delete, rounded with Python's ``round``, i.e. half to even);
- only unpruned entries are candidates and the new mask is the old one with more zeros, so
  pruning 0.5 twice leaves 25% of the entries;
- the lowest scores are deleted first. Ties are broken by flat (C-order) index, lower index
  deleted first (PyTorch's ``topk`` leaves ties unspecified).

Deviation: PyTorch's ``l1_unstructured`` takes ``|importance_scores|``; here scores are used as
given (a score is an importance: pass ``np.abs(w)`` yourself, which is the default of
:func:`prune`).

A mask lives on the parameter (``param.mask``), so the layer computes with ``data * mask``,
masked entries get zero gradient and no optimizer moves them. :func:`remove` bakes the zeros
into ``data``; :mod:`minicompress.pruning.surgery` then deletes whole units for real.
"""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from minicompress.nn.module import Module, Parameter
from minicompress.rng import as_rng


def prune_count(amount, n_unpruned: int) -> int:
    """How many of ``n_unpruned`` entries ``amount`` deletes: an int as it is, a float f in
    [0, 1] as ``round(f · n_unpruned)``. Bad amounts raise, naming the argument."""
    if isinstance(amount, (bool, np.bool_)) or not isinstance(amount, (numbers.Integral, numbers.Real)):
        raise TypeError(f"amount: expected an int (a count) or a float in [0, 1] (a fraction), "
                        f"got {type(amount).__name__} {amount!r}")
    if isinstance(amount, numbers.Integral):
        if not 0 <= amount <= n_unpruned:
            raise ValueError(f"amount: an int count must be in [0, {n_unpruned}] (the number of "
                             f"unpruned candidates), got {amount}")
        return int(amount)
    if math.isnan(amount) or not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount: a float fraction must be in [0, 1], got {amount!r}")
    return round(float(amount) * n_unpruned)


def compute_mask(scores, amount, mask=None) -> np.ndarray:
    """Delete the ``amount`` lowest-scoring unpruned entries.

    Parameters
    ----------
    scores : array_like, any shape
        One importance per entry; lower is deleted first. NaN is rejected.
    amount : int or float
        A count of entries, or a fraction in [0, 1] of the unpruned entries (see module docs).
    mask : array_like of 0/1, optional
        The current mask (same shape). Only its 1-entries are candidates.

    Returns
    -------
    np.ndarray, float64, scores' shape
        The new mask: ``mask`` with ``count`` more zeros.
    """
    scores = np.asarray(scores)
    if not np.issubdtype(scores.dtype, np.number) or np.issubdtype(scores.dtype, np.complexfloating):
        raise TypeError(f"scores: expected a real numeric array, got dtype {scores.dtype}")
    if np.isnan(scores).any():
        raise ValueError(f"scores: {int(np.isnan(scores).sum())} NaN score(s); every entry needs "
                         f"a comparable score")
    new = np.ones(scores.shape) if mask is None else _check_mask(mask, scores.shape)
    flat = new.reshape(-1)  # a view: writing into it writes into ``new``
    candidates = np.flatnonzero(flat)
    count = prune_count(amount, candidates.size)
    # stable sort: equal scores keep flat-index order, so the lower index is deleted first
    order = np.argsort(scores.reshape(-1)[candidates], kind="stable")
    flat[candidates[order[:count]]] = 0.0
    return new


def prune(param: Parameter, amount, scores=None) -> Parameter:
    """Layer-wise pruning: delete ``amount`` of ``param``'s unpruned entries, lowest score first.

    ``scores`` defaults to ``|param.data|`` (magnitude pruning, PyTorch's ``l1_unstructured``).
    The new mask is combined with the old one; returns ``param``.
    """
    _check_param(param)
    scores = np.abs(param.data) if scores is None else _check_scores(scores, param)
    param.mask = compute_mask(scores, amount, param.mask)
    return param


def global_prune(params, amount, scores=None) -> list[Parameter]:
    """One ranking across several parameters: the ``amount`` lowest scores of all of them.

    Parameters
    ----------
    params : iterable of Parameter
        E.g. :func:`weights` of a model (``model.parameters()`` works too).
    amount : int or float
        Count, or fraction of all their unpruned entries together.
    scores : list of arrays, optional
        Aligned with ``params``; default ``|data|``. Scores must be comparable across
        parameters (raw structured norms are not, which is why PyTorch refuses global
        structured pruning).

    Ties across parameters are broken by position in the concatenation (params order, then
    flat index), so earlier parameters lose ties.
    """
    params = _check_params(params)
    if scores is None:
        scores = [np.abs(p.data) for p in params]
    if len(scores) != len(params):
        raise ValueError(f"scores: expected {len(params)} arrays (one per parameter), got {len(scores)}")
    scores = [_check_scores(s, p) for s, p in zip(scores, params)]
    masks = [np.ones(p.shape) if p.mask is None else p.mask for p in params]
    flat = compute_mask(np.concatenate([s.ravel() for s in scores]), amount,
                        np.concatenate([m.ravel() for m in masks]))
    start = 0
    for p in params:
        p.mask = flat[start:start + p.data.size].reshape(p.shape)
        start += p.data.size
    return params


def structured_prune(param: Parameter, amount, dim: int, slice_scores) -> Parameter:
    """Delete whole slices along ``dim`` (rows of a Linear weight for dim=0, filters of a conv
    weight for dim=0, input channels for dim=1), lowest ``slice_scores`` first.

    A slice is a candidate while any of its entries is unpruned; ``amount`` counts slices.
    ``slice_scores`` has shape ``(param.shape[dim],)``.
    """
    _check_param(param)
    dim = _check_dim(dim, param)
    slice_scores = np.asarray(slice_scores)
    if slice_scores.shape != (param.shape[dim],):
        raise ValueError(f"slice_scores: expected shape ({param.shape[dim]},) for dim {dim} of "
                         f"{param.name or 'the parameter'} {param.shape}, got {slice_scores.shape}")
    other = tuple(d for d in range(param.data.ndim) if d != dim)
    alive = None if param.mask is None else param.mask.any(axis=other).astype(np.float64)
    keep = compute_mask(slice_scores, amount, alive)  # (param.shape[dim],)
    shape = [1] * param.data.ndim
    shape[dim] = -1
    mask = np.broadcast_to(keep.reshape(shape), param.shape)
    param.mask = mask if param.mask is None else mask * param.mask
    return param


def ln_structured(param: Parameter, amount, n, dim: int, scores=None) -> Parameter:
    """Delete whole slices along ``dim`` with the smallest L_n norm (PyTorch's ``ln_structured``).

    The norm of slice j is ‖S[..., j, ...]‖_n over all other axes, with S = ``scores`` (entry
    importances of ``param``'s shape) or, by default, the effective weights ``data * mask``.
    ``n`` as in ``np.linalg.norm``: 1, 2, ``np.inf``, ...
    """
    _check_param(param)
    dim = _check_dim(dim, param)
    s = param.value() if scores is None else _check_scores(scores, param)
    s = np.moveaxis(s, dim, 0).reshape(param.shape[dim], -1)  # (slices, entries per slice)
    try:
        norms = np.linalg.norm(s, ord=n, axis=1)
    except (ValueError, TypeError):
        raise ValueError(f"n: expected a vector norm order of np.linalg.norm (1, 2, np.inf, "
                         f"-np.inf, 0, ...), got {n!r}") from None
    return structured_prune(param, amount, dim, norms)


def random_unstructured(param: Parameter, amount, rng=None) -> Parameter:
    """Delete ``amount`` unpruned entries chosen uniformly at random (the baseline)."""
    _check_param(param)
    return prune(param, amount, scores=as_rng(rng).random(param.shape))


def random_structured(param: Parameter, amount, dim: int, rng=None) -> Parameter:
    """Delete ``amount`` unpruned slices along ``dim`` chosen uniformly at random."""
    _check_param(param)
    dim = _check_dim(dim, param)
    return structured_prune(param, amount, dim, as_rng(rng).random(param.shape[dim]))


def remove(param: Parameter) -> Parameter:
    """Make pruning permanent: ``data ← data · mask`` and drop the mask (PyTorch's ``remove``).

    The deleted entries are then plain zeros that training may move again.
    """
    _check_param(param)
    if param.mask is not None:
        param.data = param.data * param.mask
        param.mask = None
    return param


def is_pruned(model: Module) -> bool:
    """Does any parameter of ``model`` carry a mask?"""
    return any(p.mask is not None for p in model.parameters())


def n_masked(param: Parameter) -> int:
    """How many entries of ``param`` its mask deletes (0 without a mask)."""
    return 0 if param.mask is None else int(param.mask.size - np.count_nonzero(param.mask))


def masked_fraction(params) -> float:
    """Fraction of the entries of ``params`` deleted by their masks (the pruning sparsity; an
    entry that is zero without a mask is not counted: see :mod:`minicompress.metrics`)."""
    params = _check_params(params)
    return sum(n_masked(p) for p in params) / sum(p.data.size for p in params)


def weights(model: Module) -> list[Parameter]:
    """The weight matrices and kernels of ``model`` (names ending in ``weight``): what the
    libraries and Han et al. prune. Biases are left alone."""
    return [p for name, p in model.named_parameters() if name.split(".")[-1] == "weight"]


def _check_param(param) -> None:
    if not isinstance(param, Parameter):
        raise TypeError(f"param: expected a Parameter (e.g. model[0].weight), got "
                        f"{type(param).__name__}")


def _check_params(params) -> list[Parameter]:
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"params: item {i} is a {type(p).__name__}, not a Parameter "
                            f"(pass model.parameters() or pruning.weights(model))")
    if not params:
        raise ValueError("params: got an empty list")
    return params


def _check_mask(mask, shape: tuple) -> np.ndarray:
    """A copy of a 0/1 mask of ``shape`` as float64, or a ValueError naming what is wrong."""
    mask = np.asarray(mask)
    if not (np.issubdtype(mask.dtype, np.number) or mask.dtype == bool) \
            or np.issubdtype(mask.dtype, np.complexfloating):
        raise TypeError(f"mask: expected a real 0/1 array, got dtype {mask.dtype}")
    if mask.shape != shape:
        raise ValueError(f"mask: shape {mask.shape} does not match scores of shape {shape}")
    bad = ~np.isin(mask, (0, 1))
    if bad.any():
        first = mask.ravel()[np.flatnonzero(bad.ravel())[0]].item()
        raise ValueError(f"mask: expected only 0 and 1, got {first!r} ({int(bad.sum())} entries "
                         f"other than 0/1)")
    return mask.astype(np.float64)


def _check_scores(scores, param: Parameter) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.shape != param.shape:
        raise ValueError(f"scores: expected shape {param.shape} (of {param.name or 'the parameter'}), "
                         f"got {scores.shape}")
    return scores


def _check_dim(dim, param: Parameter) -> int:
    ndim = param.data.ndim
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or not -ndim <= dim < ndim:
        raise ValueError(f"dim: expected an int in [{-ndim}, {ndim - 1}] for "
                         f"{param.name or 'a parameter'} of shape {param.shape}, got {dim!r}")
    return int(dim) % ndim


def flat_parameters(model: Module) -> np.ndarray:
    """All of ``model``'s parameters raveled and concatenated, in order, as float64 (P,)."""
    return np.concatenate([p.data.ravel() for p in model.parameters()]).astype(np.float64)


def with_parameters(model: Module, w: np.ndarray, deleted) -> Module:
    """A deep copy of ``model`` whose parameters are the flat vector ``w`` (P,), in the order of
    :func:`flat_parameters`; ``deleted`` (a flat bool mask (P,), or indices) marks the entries
    masked to zero and frozen. ``model`` is left unchanged."""
    model, start = copy.deepcopy(model), 0
    gone = np.zeros(w.size, bool)
    gone[deleted] = True
    for p in model.parameters():
        size = p.data.size
        p.data = w[start:start + size].reshape(p.shape).astype(p.data.dtype)
        p.mask = (~gone[start:start + size]).reshape(p.shape).astype(p.data.dtype)
        start += size
    return model
