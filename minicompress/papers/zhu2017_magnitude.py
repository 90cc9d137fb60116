"""Magnitude pruning as the libraries ship it: PyTorch's ``torch.nn.utils.prune`` and TensorFlow
Model Optimization's ``prune_low_magnitude`` with Zhu & Gupta's gradual schedule.

M. Zhu, S. Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
compression", arXiv:1710.01878 (2017); the schedule ships in TF-MOT as ``PolynomialDecay``
(``pruning_schedule.py``), the mask update in ``pruning_impl.py``; PyTorch ``l1_unstructured``,
``global_unstructured``, ``ln_structured``. The LeNet-300-100 numbers to hold a run against are
S. Han, J. Pool, J. Tran, W. Dally, "Learning both weights and connections for efficient neural
networks", NIPS 2015, Table 1: pruned 12× (267K → 22K weights), test error 1.64% → 1.59%.

The idea. A weight's importance is its magnitude |w|. Delete the smallest (per layer, or with one
threshold across layers) and go on training with the deleted weights held at zero. Pruning
*gradually* while training, on a schedule that removes much early and little late, lets the
network adapt as it loses capacity; and a large sparse network beats a small dense one with as
many nonzero weights (Zhu & Gupta, Sec. 1 and 4).

Equations.
  layer-wise       mask_l = 0 on the round(s·n_l) smallest |w| of layer l        (PyTorch, TF-MOT)
  global           one ranking of |w| over all layers, round(s·Σ n_l) deleted    (``global_unstructured``)
  gradual, Eq. 1   s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³,  t ∈ {t₀, t₀ + Δt, …, t₀ + nΔt}
                   (Zhu & Gupta, Sec. 3): the masks are recomputed every Δt steps while training
                   goes on, n updates in all, and stay fixed after t₀ + nΔt.
  reporting        compression = weights / nonzero weights; speedup = dense MACs / nonzero MACs.

TF-MOT's mask update keeps k = max(round(n(1 − s)), 1) weights of a layer: those with |w| ≥ the
k-th largest |w| (ties kept), recomputed at each update from the magnitudes of *all* the layer's
weights; the weights are then assigned w·mask, and a masked weight receives gradient again (one
step's worth) before the next update, so in principle it can return. The machinery here
(:class:`minicompress.pruning.ScheduledPruner`) differs in two ways, both deviations from TF-MOT:
exactly n − k weights go (ties by flat index), and masks only gain zeros (a masked weight gets
no gradient, never moves and never returns). Under a schedule whose sparsity only grows, a
weight TF-MOT zeroed holds at most one step's update when the next mask is computed, so it is
almost always zeroed again; the two rules then give nearly the same masks.

Functions: :func:`prune_weights` (one shot, "layer" / "global" / "random"), :func:`gradual_schedule`
(Eq. 1 in the paper's t₀, n, Δt) and :class:`GradualPruning` (Eq. 1 applied to every weight
matrix from ``fit(on_step=...)``, each to its own final sparsity if asked).
"""
from __future__ import annotations

import numbers

from minicompress import nn, pruning

METHODS = ("layer", "global", "random")


def layer_sparsities(model: nn.Module, sparsity) -> list[float]:
    """One sparsity per weight matrix of ``model``: ``sparsity`` itself if it is one number,
    else the sequence checked against the number of weight matrices (e.g. Han et al.'s Table 2
    rates for LeNet-300-100: 92%, 91% and 74% of fc1, fc2, fc3 pruned, 12× overall)."""
    n = len(pruning.weights(model))
    rates = [sparsity] * n if isinstance(sparsity, numbers.Real) else list(sparsity)
    if len(rates) != n:
        raise ValueError(f"sparsity: expected one number or one per weight matrix ({n}), got {sparsity!r}")
    return rates


def prune_weights(model: nn.Module, method: str, sparsity, rng=None) -> None:
    """One-shot pruning of ``model``'s weight matrices (biases are kept).

    Parameters
    ----------
    model : Module
    method : {"layer", "global", "random"}
        "layer": each weight loses the fraction ``sparsity`` of its smallest |w| (PyTorch's
        ``l1_unstructured`` on each layer, TF-MOT); "global": one threshold over all of them
        (``global_unstructured``); "random": ``random_unstructured`` on each layer (the baseline).
    sparsity : float in [0, 1], or one per weight matrix ("layer" and "random")
        Fraction deleted, counted among the entries still unpruned.
    rng : Generator, int or None
        Draws of "random".
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    weights = pruning.weights(model)
    if method == "global":
        if not isinstance(sparsity, numbers.Real):
            raise ValueError(f"sparsity: global pruning takes one number, got {sparsity!r}")
        pruning.global_prune(weights, sparsity)
        return
    for w, rate in zip(weights, layer_sparsities(model, sparsity)):
        if method == "layer":
            pruning.prune(w, rate)
        else:
            pruning.random_unstructured(w, rate, rng=rng)


def gradual_schedule(final_sparsity: float, *, begin_step: int, n_updates: int, frequency: int,
                     initial_sparsity: float = 0.0) -> pruning.PolynomialDecay:
    """Zhu & Gupta's Eq. 1 with the paper's parameters: start t₀ = ``begin_step``, n =
    ``n_updates`` mask updates Δt = ``frequency`` steps apart, so the final sparsity is reached
    exactly at the last update, t₀ + nΔt (TF-MOT's ``PolynomialDecay`` with power 3)."""
    if isinstance(n_updates, bool) or not isinstance(n_updates, int) or n_updates < 1:
        raise ValueError(f"n_updates: expected an int >= 1, got {n_updates!r}")
    return pruning.PolynomialDecay(initial_sparsity, final_sparsity, begin_step=begin_step,
                                   end_step=begin_step + n_updates * frequency, power=3,
                                   frequency=frequency)


class GradualPruning:
    """Zhu & Gupta's gradual pruning of each weight matrix of ``model`` to its final sparsity,
    layer-wise as TF-MOT (one :class:`~minicompress.pruning.ScheduledPruner` and one Eq. 1
    schedule per matrix, all on the same steps); pass it as ``fit(..., on_step=pruning)``.

    Parameters
    ----------
    model : Module
    final_sparsity : float, or one per weight matrix
    begin_step, n_updates, frequency : int
        t₀, n and Δt of Eq. 1 (:func:`gradual_schedule`).

    Attributes
    ----------
    schedules : list of PolynomialDecay
    history : list of dict
        One record per mask update: step and the realized sparsity over all weight matrices.
    """

    def __init__(self, model: nn.Module, final_sparsity, *, begin_step: int, n_updates: int,
                 frequency: int):
        self.weights = pruning.weights(model)
        self.schedules = [gradual_schedule(s, begin_step=begin_step, n_updates=n_updates,
                                           frequency=frequency)
                          for s in layer_sparsities(model, final_sparsity)]
        self.pruners = [pruning.ScheduledPruner([w], s) for w, s in zip(self.weights, self.schedules)]
        self.history: list[dict] = []

    def __call__(self, step: int) -> None:
        for pruner in self.pruners:
            pruner(step)
        if self.schedules[0].should_update(step):
            self.history.append(dict(step=step, sparsity=self.sparsity()))

    def sparsity(self) -> float:
        """Fraction of masked entries over all weight matrices."""
        return pruning.masked_fraction(self.weights)

    def target(self, step: int) -> float:
        """Eq. 1's overall sparsity at ``step`` (the layers' targets weighted by their sizes)."""
        sizes = [w.data.size for w in self.weights]
        return sum(n * s.sparsity(step) for n, s in zip(sizes, self.schedules)) / sum(sizes)
