"""Data-free parameter pruning: merge each redundant neuron into its most similar partner.

S. Srinivas, R. V. Babu. "Data-free parameter pruning for Deep Neural Networks." BMVC 2015,
arXiv:1507.06149.

The idea. Hidden neurons i, j of a fully connected layer with equal incoming weight sets W_i = W_j
(weights and bias) compute the same activation, so the next layer's input

    z = Σ_k a_k h(W_k · X)

is unchanged if j is deleted and its outgoing weights are added to i's,

    a_i ← a_i + a_j                                                          ("surgery").

For near-duplicates, with ε_ij = W_i − W_j, the squared change of z after that surgery is
a_j² (h(W_j·X) − h(W_i·X))² ≤ a_j² ‖ε_ij‖² ‖X‖² for a 1-Lipschitz h (ReLU). Dropping ‖X‖², which
is the same for every pair, leaves the saliency of merging j into i, computed from the weights alone:

    s_ij = ⟨a_j²⟩ ‖ε_ij‖²,        ⟨a_j²⟩ = mean over the next layer of a_j².

The algorithm: compute every s_ij, merge the pair of least saliency (delete j, a_i ← a_i + a_j),
update the saliencies that changed, repeat. How many to merge is read off the curve of the
saliencies of successive merges, which rises slowly and then steeply (the paper reads the cut-off
from a plot; :func:`knee` is our explicit version of that reading, not a rule the paper states).

Here: all s_ij at once from the Gram matrix, ‖ε_ij‖² = ‖W_i‖² + ‖W_j‖² − 2 W_i·W_j
(:func:`pairwise_saliency`); the greedy order with O(n) updates per merge instead of a fresh
O(n²) search (:func:`merge_sequence`); the surgery on a model, deleting the neurons for real
(:func:`merge_neurons`, through :func:`minicompress.pruning.remove_units`).

``normalize=True`` is an extension, not the paper's saliency (a secondary source credits the paper
with a normalization that we could not check): ReLU is positively homogeneous,
h(c·W·X) = c·h(W·X) for c > 0, so each weight set may be scaled to unit norm with its norm moved
into its outgoing weights; a duplicate W_j = c·W_i then merges exactly, a_i ← a_i + c·a_j.

The saliency and the algorithm follow the summary above; they were not checked against the PDF.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from minicompress import nn
from minicompress.pruning import remove_units


def pairwise_saliency(w_in: np.ndarray, a_out: np.ndarray) -> np.ndarray:
    """All saliencies s_ij = ⟨a_j²⟩ ‖W_i − W_j‖² at once.

    Parameters
    ----------
    w_in : (n, d), a_out : (m, n)
        Row i of ``w_in`` is neuron i's incoming weight set (weights, then bias); column j of
        ``a_out`` its outgoing weights (the next layer's W[:, j]).

    Returns
    -------
    (n, n) float64
        s[i, j]: the cost of deleting j and adding its outgoing weights to i's (not symmetric:
        it is the deleted neuron's ⟨a_j²⟩ that counts); +inf on the diagonal.
    """
    w_in, a_out = _check_weight_sets(w_in, a_out)
    with np.errstate(invalid="ignore"):  # inf · 0 on the diagonal of a neuron with no outputs
        s = _squared_distances(w_in) * np.mean(a_out * a_out, axis=0)[None, :]
    np.fill_diagonal(s, np.inf)
    return s


def _squared_distances(w: np.ndarray) -> np.ndarray:
    """‖W_i − W_j‖² from the Gram matrix (clipped at 0 against rounding), +inf on the diagonal."""
    sq = np.einsum("nd,nd->n", w, w)
    d = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (w @ w.T), 0.0)  # (n, n)
    np.fill_diagonal(d, np.inf)
    return d


@dataclass(frozen=True)
class Merge:
    """One step of the greedy removal: neuron ``removed`` goes, ``kept`` takes over its outgoing
    weights times ``scale`` (1 for the paper's method), at the cost ``saliency``."""

    kept: int
    removed: int
    saliency: float
    scale: float = 1.0


def merge_sequence(w_in, a_out, n_remove: int, *, normalize: bool = False) -> list[Merge]:
    """The paper's greedy removal: repeatedly merge the pair of least saliency.

    Saliencies are kept up to date cheaply: the weight sets never change, only the outgoing
    weights of the neuron that absorbs a merge, so each neuron j remembers its nearest living
    partner p(j) = argmin_i ‖W_i − W_j‖², and s_j = ⟨a_j²⟩ ‖W_p(j) − W_j‖² is the saliency of
    deleting it. After merging j into i only ⟨a_i²⟩ changes, and only neurons whose partner was
    j need a new one.

    Parameters
    ----------
    w_in : (n, d), a_out : (m, n)
        As in :func:`pairwise_saliency`.
    n_remove : int
        How many neurons to delete, 0 ≤ n_remove < n.
    normalize : bool
        Scale each weight set to unit norm first, its norm moved into its outgoing weights
        (exact for ReLU; an extension, see the module docstring).
    """
    w, a = _check_weight_sets(w_in, a_out)
    n = w.shape[0]
    if isinstance(n_remove, bool) or not isinstance(n_remove, (int, np.integer)) or not 0 <= n_remove < n:
        raise ValueError(f"n_remove: expected an int in [0, {n - 1}] (one neuron must stay), got {n_remove!r}")
    norms = np.linalg.norm(w, axis=1) if normalize else np.ones(n)
    norms[norms == 0] = 1.0  # an all-zero weight set stays as it is
    w, a = w / norms[:, None], a * norms[None, :]
    d = _squared_distances(w)
    a2 = np.mean(a * a, axis=0)  # (n,) ⟨a_j²⟩
    partner = np.argmin(d, axis=0)  # nearest neuron of each neuron j (column j)
    alive = np.ones(n, bool)
    merges = []
    for _ in range(n_remove):
        s = np.where(alive, a2 * d[partner, np.arange(n)], np.inf)
        j = int(np.argmin(s))
        i = int(partner[j])
        merges.append(Merge(i, j, float(s[j]), float(norms[j] / norms[i])))
        a[:, i] += a[:, j]  # surgery, in the normalized coordinates
        a2[i] = np.mean(a[:, i] ** 2)
        alive[j] = False
        d[j, :] = np.inf  # j can no longer absorb anyone
        orphans = np.flatnonzero(alive & (partner == j))
        partner[orphans] = np.argmin(d[:, orphans], axis=0)
    return merges


def knee(saliencies) -> int:
    """A data-free stopping rule read off the saliency curve: how many merges to keep.

    The saliencies of successive merges grow slowly, then shoot up once only dissimilar neurons
    are left. With the curve made monotone (running maximum) and both axes scaled to [0, 1], the
    knee is the point farthest below the straight line from the first to the last point (the
    "Kneedle" rule); the merges up to and including it are kept. On a linear scale the last few
    merges, orders of magnitude costlier than the rest, dominate the chord, so the knee lands
    late, where the curve has risen visibly on that scale (our formalization of reading a plot).
    """
    s = np.maximum.accumulate(np.asarray(saliencies, dtype=np.float64))
    if s.ndim != 1 or s.size < 3:
        raise ValueError(f"saliencies: expected a 1-D curve of at least 3 merges, got shape {s.shape}")
    x = np.linspace(0.0, 1.0, s.size)
    y = (s - s[0]) / max(s[-1] - s[0], np.finfo(float).tiny)
    return int(np.argmax(x - y)) + 1


def weight_sets(model: nn.Sequential, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """(w_in (n, d), a_out (m, n)) of hidden layer ``layer``: a Linear → activation → Linear."""
    consumer = _check_mergeable(model, layer)
    w, b = model[layer].weight.data, model[layer].bias
    return (w if b is None else np.c_[w, b.data]), model[consumer].weight.data


def merge_neurons(model: nn.Sequential, layer: int, merges, *, surgery: bool = True) -> nn.Sequential:
    """A smaller copy of ``model`` with the ``merges`` applied in order to hidden layer ``layer``.

    With ``surgery`` each removed neuron's outgoing weights are first added to its partner's
    (a_i ← a_i + scale·a_j, where a_j already holds whatever j absorbed before); without, the
    neurons are just deleted. The model itself is left unchanged.
    """
    consumer = _check_mergeable(model, layer)
    removed = [merge.removed for merge in merges]
    if len(set(removed)) != len(removed):
        raise ValueError("merges: a neuron is removed twice; pass a sequence from merge_sequence")
    new = copy.deepcopy(model.clear())
    a = new[consumer].weight.data  # (m, n): columns are outgoing weight vectors
    if surgery:
        for merge in merges:
            a[:, merge.kept] += merge.scale * a[:, merge.removed]
    return remove_units(new, layer, np.setdiff1d(np.arange(model[layer].out_features), removed))


def _check_mergeable(model, layer: int) -> int:
    """Index of the consumer; a clear error unless layer, layer+1, layer+2 are Linear, an
    activation, Linear, without masks (masked weights would hide part of a merge)."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected a Sequential, got {type(model).__name__}")
    trio = model.layers[layer:layer + 3]
    kinds = [type(m).__name__ for m in trio]
    if len(trio) != 3 or not all(map(isinstance, trio, (nn.Linear, nn.Activation, nn.Linear))):
        raise ValueError(f"layer {layer}: data-free merging needs Linear, activation, Linear at "
                         f"layers {layer}..{layer + 2}, got {kinds}")
    masked = [p.name for p in (*model[layer].parameters(), *model[layer + 2].parameters())
              if p.mask is not None]
    if masked:
        raise ValueError(f"layer {layer}: parameters {masked} carry masks; bake them in with "
                         f"pruning.remove before merging")
    return layer + 2


def _check_weight_sets(w_in, a_out) -> tuple[np.ndarray, np.ndarray]:
    w, a = np.asarray(w_in, np.float64), np.array(a_out, np.float64)  # a: a copy we may change
    if w.ndim != 2 or a.ndim != 2 or a.shape[1] != w.shape[0] or w.shape[0] < 2:
        raise ValueError(f"expected w_in (n, d) and a_out (m, n) with n >= 2 neurons, got "
                         f"w_in {w.shape} and a_out {a.shape}")
    if not (np.isfinite(w).all() and np.isfinite(a).all()):
        raise ValueError("w_in, a_out: expected finite weights, got NaN or inf")
    return w, a
