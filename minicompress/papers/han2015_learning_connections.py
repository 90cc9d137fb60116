"""Han, Pool, Tran & Dally (2015), "Learning both Weights and Connections for Efficient Neural
Networks", NIPS 2015.

The idea (Sec. 3). Train the network to learn which connections matter; delete the unimportant
ones; retrain the survivors so that they compensate; iterate. The pruned network keeps its
accuracy with a fraction of the weights (LeNet-300-100: 267K → 22K weights, 12×, test error
1.64% → 1.59%; LeNet-5: 431K → 36K, 0.80% → 0.77%, Table 1), and sometimes generalizes a little
better, the survey's "pruning can also increase accuracy".

The three steps (Sec. 3, Figure 2):

    1. train the dense network (with L2 regularization: it works best with iterative pruning);
    2. prune every connection whose weight is below a threshold, per layer; the threshold is a
       quality parameter q times the standard deviation of the layer's weights,
           prune w_ij  if  |w_ij| < q · σ_layer                    (Distiller's reading, [S2]);
    3. retrain the remaining connections with the deleted ones fixed at zero, then repeat 2–3.

Retraining starts from the surviving trained weights (not from a re-initialization: Sec. 3.2,
re-initialized survivors do worse). Dropout, when used, is rescaled after pruning,
D_r = D_o·√(C_r/C_o) with C the number of connections (Sec. 3.1); our LeNets have none.

This file: the threshold rule for one weight and for a model. Here σ is the standard deviation of
the layer's *unpruned* weights, so each round's threshold rises as small weights go (the paper
does not say which; on a first round the two readings agree). The loop is the caller's
(:func:`minicompress.pruning.iterative_pruning` or the reproduction's own).
"""
from __future__ import annotations

import numbers

import numpy as np

from minicompress import nn, pruning


def std_threshold_mask(weight, quality: float, mask=None) -> np.ndarray:
    """Han et al.'s rule on one weight: 0 where |w| < q·σ or where ``mask`` is already 0, else 1.

    Parameters
    ----------
    weight : array_like, any shape; finite
    quality : float >= 0
        q; 0 deletes nothing.
    mask : array_like of 0/1, optional
        The current mask; σ is taken over its unpruned entries.

    Returns
    -------
    np.ndarray, float64, weight's shape
    """
    w = np.asarray(weight, np.float64)
    if isinstance(quality, bool) or not isinstance(quality, numbers.Real) or not quality >= 0 \
            or not np.isfinite(quality):
        raise ValueError(f"quality: expected a finite number >= 0 (threshold = quality · std), got {quality!r}")
    if not np.isfinite(w).all():
        raise ValueError(f"weight: {int((~np.isfinite(w)).sum())} non-finite entries")
    alive = np.ones(w.shape, bool) if mask is None else np.asarray(mask) != 0
    if alive.shape != w.shape:
        raise ValueError(f"mask: shape {alive.shape} does not match weight of shape {w.shape}")
    if not alive.any():
        return np.zeros(w.shape)
    threshold = quality * w[alive].std()
    return (alive & (np.abs(w) >= threshold)).astype(np.float64)


def prune_by_std(model: nn.Module, quality: float) -> float:
    """Step 2 on every weight of ``model`` (biases are kept), masks combined with the old ones;
    returns the fraction of the weights now deleted."""
    for w in pruning.weights(model):
        w.mask = std_threshold_mask(w.data, quality, w.mask)
    return pruning.masked_fraction(pruning.weights(model))
