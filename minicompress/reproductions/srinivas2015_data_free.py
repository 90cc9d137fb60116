"""Data-free parameter pruning: merge each redundant neuron into its most similar partner.

S. Srinivas, R. V. Babu. "Data-free parameter pruning for Deep Neural Networks." BMVC 2015,
arXiv:1507.06149.

The idea. Hidden neurons i, j of a fully connected layer with equal incoming weight sets W_i = W_j
(weights and bias) compute the same activation, so the next layer's input z = Σ_k a_k h(W_k·x) is
unchanged if j is deleted and its outgoing weights added to i's, a_i ← a_i + a_j ("surgery"). For
near-duplicates the error a_j (h(W_j·x) − h(W_i·x)) is at most |a_j| ‖W_j − W_i‖ ‖x‖ for a
1-Lipschitz h (ReLU); without the pair-independent ‖x‖², merging j into i costs the saliency

    s_ij = ⟨a_j²⟩ ‖W_i − W_j‖²,        ⟨a_j²⟩ = mean over the next layer of a_j²

(weights only, no data). Greedily merge the pair of least saliency, update the saliencies it
changed, repeat; stop where the sorted saliency curve bends upward (read off a plot in the paper;
:func:`knee` makes the rule explicit).

Here: all s_ij at once from the Gram matrix, ‖W_i − W_j‖² = ‖W_i‖² + ‖W_j‖² − 2 W_i·W_j
(:func:`pairwise_saliency`); the greedy order with O(n) updates per merge instead of a fresh
O(n²) search (:func:`merge_sequence`); the surgery, deleting the units for real
(:func:`merge_neurons`). ``normalize=True``, reported apart (a secondary source credits the paper
with a normalization; we could not check which), uses ReLU's positive homogeneity,
h(c·W·x) = c·h(W·x) for c > 0: each weight set scaled to unit norm, its norm moved into its
outgoing weights, so a duplicate W_j = c·W_i merges exactly, a_i ← a_i + c·a_j.

Reproduction (the paper's MNIST experiment): the 500 hidden neurons of an MLP 784-500-10 and of
LeNet-5's fc 800→500 (:mod:`minicompress.models`), trained with Caffe's weight decay 5e-4,
removed without fine-tuning by (i) saliency + surgery, (ii) the same without surgery, (iii)
random, (iv) the smallest ‖W_j‖, (v) the normalized option: test accuracy vs the fraction
removed, the largest fraction within 1 point of dense, and what the data-free knee picks.

Deviations: synthetic digits by default (``data="mnist_test_split"``: 8,000 training and 2,000
test images of the MNIST test set); short SGD training (the paper started from Caffe's converged
LeNet); ReLU after the convolutions; the saliency and knee rule as summarised above and in the
project's paper card, not checked against the PDF.

Run: ``python -m minicompress.reproductions.srinivas2015_data_free [--quick] [--data mnist_test_split
--data-dir DIR]`` or ``minicompress reproduce data-free``.

Expected quick run (5,000 synthetic training digits, 2,000 test, seed 0; 9 s on 2 idle cores,
deterministic for the seed): dense MLP 90.0%, LeNet-5 95.4%; at 50% of the neurons removed,
MLP surgery 89.2 / no surgery 88.1 / random 85.7 / smallest norm 88.6%, LeNet-5 95.2 / 95.0 /
93.7 / 95.0%; within 1 point: 55% (MLP) and 56% (LeNet-5) of all parameters.

Measured full runs (seeds 0, 1, 2, mean ± std; test accuracy in %; OPENBLAS_NUM_THREADS=1):

    synthetic digits, 20,000 / 2,000 (1 min 48 s)    MLP 784-500-10       LeNet-5 (fc 800→500)
    dense                                            95.5 ± 0.5           98.9 ± 0.1
    50% removed: surgery / no surg. / random / norm  95.0 / 94.3 / 88.5 / 94.4   98.9 / 98.8 / 98.0 / 98.8
    90% removed: same order                          77.9 / 63.8 / 46.1 / 62.0   95.5 / 92.9 / 82.5 / 90.2
    90% removed, normalized + surgery                80.6                 97.5
    parameters removable within 1 point (surgery)    56.0 ± 4.9%          77.8 ± 3.9%  (normalized 83.4 ± 1.8%)

    MNIST test set split 8,000 / 2,000 (53 s)
    dense                                            96.3 ± 0.2           98.0 ± 0.2
    50% removed: surgery / no surg. / random / norm  96.1 / 96.0 / 94.2 / 96.1   98.0 / 97.9 / 97.0 / 98.0
    90% removed: same order                          88.2 / 77.4 / 74.8 / 81.6   95.9 / 92.9 / 76.7 / 93.9
    parameters removable within 1 point (surgery)    69.3 ± 0.9%          77.8 ± 1.8%  (normalized 85.9 ± 1.8%)

Claims. Surgery beats all three baselines at 90% of the neurons removed in every seed, on both
data sets and networks, and is >= each baseline at 78–94% of the curves' points: reproduced.
"Strictly above at 50%": holds for the MLP on synthetic digits (margins +0.7, +6.5, +0.7 points),
NOT on real digits or for LeNet-5, where at 50% all methods but random sit at the dense accuracy
and the differences (−0.05 to +0.1 points) are ties within noise. Parameters removable within 1
point: 56–78% of the whole network with the paper's saliency, 83–86% with the normalized option,
against the paper's 85% (its LeNet was trained to convergence in Caffe). The data-free knee, as
implemented here, is NOT a usable stopping rule: it stops at 92–95% of the neurons, 6–28 points
below the dense accuracy.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np

from minicompress import metrics, nn
from minicompress.models import FC1, lenet5
from minicompress.reproductions.experiment import load_data, over_seeds, pm, train_lenet as train
from minicompress.pruning import remove_units
from minicompress.report import Report
from minicompress.reproductions.experiment import command_line, save_figure, say
from minicompress.rng import as_rng

METHODS = ("saliency + surgery", "saliency, no surgery", "random", "smallest norm",
           "normalized + surgery")


@dataclass(frozen=True)
class Config:
    """Defaults: the paper's MNIST networks, briefly trained with Caffe's weight decay."""

    n_train: int = 20_000  # training images (mnist_test_split has 8,000)
    n_test: int = 2_000
    networks: tuple = ("mlp", "lenet5")  # 784-500-10 (layer 1 pruned), LeNet-5 (fc 800→500 pruned)
    epochs: dict = field(default_factory=lambda: {"mlp": 15, "lenet5": 5})
    batch_size: int = 64  # Caffe's LeNet solver
    lr: float = 0.05  # SGD with momentum 0.9
    weight_decay: float = 5e-4  # Caffe's LeNet solver; it makes neurons more mergeable
    fractions: tuple = tuple(np.round(np.arange(0.02, 0.99, 0.02), 2))  # of the 500 neurons
    tolerance: float = 1.0  # points of test accuracy for "removable without loss"
    seeds: int = 3  # headline numbers are mean ± std over seeds

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=5_000, epochs={"mlp": 10, "lenet5": 3}, seeds=1,
                   fractions=tuple(np.round(np.arange(0.05, 0.96, 0.05), 2)))


# ----- the method: pure functions of the weights --------------------------------------------------
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
    return _squared_distances(w_in) * np.mean(a_out * a_out, axis=0)[None, :]


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
    """The data-free stopping rule: how many merges to keep.

    The saliencies of successive merges grow slowly, then shoot up once only dissimilar neurons
    are left. With the curve made monotone (running maximum) and both axes scaled to [0, 1], the
    knee is the point farthest below the straight line from the first to the last point (the
    "Kneedle" rule); the merges up to and including it are kept.
    """
    s = np.maximum.accumulate(np.asarray(saliencies, dtype=np.float64))
    if s.ndim != 1 or s.size < 3:
        raise ValueError(f"saliencies: expected a 1-D curve of at least 3 merges, got shape {s.shape}")
    x = np.linspace(0.0, 1.0, s.size)
    y = (s - s[0]) / max(s[-1] - s[0], np.finfo(float).tiny)
    return int(np.argmax(x - y)) + 1


# ----- surgery on a model -----------------------------------------------------------------------
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
    return w, a


# ----- the reproduction ---------------------------------------------------------------------------
def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Train, prune by every method at every fraction (no fine-tuning), print, plot.

    ``data``: see :func:`~minicompress.reproductions.experiment.load_data`, e.g. "mnist_test_split" with
    ``data_dir`` (``verify=False`` for unofficial copies). The data are the same for every seed;
    seeds change the initialization and the batch order.
    """
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("data-free", cfg, data, out_dir, data_dir, verify)
    runs = {net: [] for net in cfg.networks}  # network: one run per seed
    for s in range(seed, seed + cfg.seeds):
        for net in cfg.networks:
            say("data-free", verbose, f"seed {s}: {net}")
            runs[net].append(_one_run(cfg, net, s, train_set, test_set, verbose))
    report = _summarize(runs, cfg, data)
    report.figures.append(_figure(runs, cfg, seed, out_dir / "data_free_accuracy.png"))
    print(report.table())
    return report


def mlp_784_500_10(rng=None, dtype=np.float32) -> nn.Sequential:
    """784 → 500 (ReLU) → 10, taking (n, 1, 28, 28) images; the hidden layer is layer 1."""
    rng = as_rng(rng)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 500, rng=rng, dtype=dtype), nn.ReLU(),
                         nn.Linear(500, 10, rng=rng, dtype=dtype))


NETWORKS = {"mlp": (mlp_784_500_10, 1), "lenet5": (lenet5, FC1)}  # builder, pruned layer


def _one_run(cfg: Config, net: str, seed: int, train_set, test_set, verbose: bool) -> dict:
    build, layer = NETWORKS[net]
    rng = np.random.default_rng(seed)
    model = train(build(rng), train_set, cfg, rng, epochs=cfg.epochs[net], lr=cfg.lr, verbose=verbose)
    # Pruning one fc layer leaves the layers below it unchanged: compute their output once and
    # evaluate only the pruned head at every fraction.
    features, y_test = _forward(model.layers[:layer], test_set[0]), test_set[1]
    accuracy = lambda m: 100 * float(np.mean(_forward(m.layers[layer:], features).argmax(1) == y_test))
    w, a = weight_sets(model, layer)  # the method sees the weights, nothing else
    n = w.shape[0]
    sequences = {m: merge_sequence(w, a, n - 1, normalize=m.startswith("normalized"))
                 for m in (METHODS[0], METHODS[4])}
    sequences[METHODS[1]] = sequences[METHODS[0]]  # the same neurons, deleted without surgery
    order = {"random": rng.permutation(n), "smallest norm": np.argsort(np.linalg.norm(w, axis=1))}

    def pruned(m: str, k: int) -> nn.Sequential:  # k neurons removed by method m
        if m in order:
            return remove_units(model, layer, np.sort(order[m][k:]))
        return merge_neurons(model, layer, sequences[m][:k], surgery=m != METHODS[1])

    curves = {m: np.array([accuracy(pruned(m, int(round(f * n)))) for f in cfg.fractions]) for m in METHODS}
    saliency = np.array([s.saliency for s in sequences[METHODS[0]]])
    k_knee = knee(saliency)
    params = metrics.count_params(model)
    per_neuron = params - metrics.count_params(remove_units(model, layer, np.arange(n - 1)))
    return dict(dense=accuracy(model), curves=curves, n=n, params=params, params_per_neuron=per_neuron,
                saliency=saliency, knee=k_knee, knee_accuracy=accuracy(pruned(METHODS[0], k_knee)))


def _forward(layers, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    """``layers`` applied one after another to ``x``, ``batch`` examples at a time."""
    return np.concatenate([reduce(lambda h, layer: layer(h), layers, x[start:start + batch])
                           for start in range(0, len(x), batch)])


def removable(curve: np.ndarray, dense: float, fractions, tolerance: float) -> float:
    """The largest fraction f such that every fraction up to f stays within ``tolerance``
    points of ``dense`` (0 if the first one already falls below)."""
    n_ok = np.logical_and.accumulate(np.asarray(curve) >= dense - tolerance).sum()  # leading oks
    return float(fractions[n_ok - 1]) if n_ok else 0.0


def _params_removed(run: dict, fraction: float) -> float:
    return round(fraction * run["n"]) * run["params_per_neuron"] / run["params"]


def _summarize(runs: dict, cfg: Config, data: str) -> Report:
    """The table (rows per network and method) and the claims checked, per network."""
    fractions = np.array(cfg.fractions)
    at = {f: int(np.argmin(np.abs(fractions - f))) for f in (0.3, 0.5, 0.7, 0.9)}
    rows, notes = [], []
    for net, rs in runs.items():
        dense = np.array([r["dense"] for r in rs])
        rows.append(dict(network=net, method="dense", acc30=dense.mean(), acc50=dense.mean(),
                         acc50_std=dense.std(), acc70=dense.mean(), acc90=dense.mean()))
        curves = {m: np.array([r["curves"][m] for r in rs]) for m in METHODS}  # (seeds, fractions)
        p_ok = {}
        for m, acc in curves.items():
            f_ok = np.array([removable(r["curves"][m], r["dense"], fractions, cfg.tolerance) for r in rs])
            p_ok[m] = np.array([_params_removed(r, f) for r, f in zip(rs, f_ok)])
            rows.append(dict(network=net, method=m, acc30=acc[:, at[0.3]].mean(), acc50=acc[:, at[0.5]].mean(),
                             acc50_std=acc[:, at[0.5]].std(), acc70=acc[:, at[0.7]].mean(),
                             acc90=acc[:, at[0.9]].mean(), mean_acc=acc.mean(), neurons_1pt=100 * f_ok.mean(),
                             params_1pt=100 * p_ok[m].mean(), params_1pt_std=100 * p_ok[m].std()))
        knees = np.array([r["knee"] / r["n"] for r in rs])
        knee_drop = np.array([r["dense"] - r["knee_accuracy"] for r in rs])
        rows.append(dict(network=net, method="knee (data-free stop)", knee_neurons=100 * knees.mean(),
                         knee_params=100 * np.mean([_params_removed(r, k) for r, k in zip(rs, knees)]),
                         knee_drop=knee_drop.mean(), knee_drop_std=knee_drop.std()))
        ours = curves[METHODS[0]]
        for f in (0.5, 0.9):  # the 50%, and deep into the curve where methods separate
            margins = {m: ours[:, at[f]] - curves[m][:, at[f]] for m in METHODS[1:4]}
            held = np.all([v > 0 for v in margins.values()], axis=0)  # per seed
            text = ", ".join(f"{m} {pm(v, '+.2f')}" for m, v in margins.items())
            notes.append(f"{net}: saliency + surgery strictly above the three baselines at {fractions[at[f]]:.0%} "
                         f"of the neurons removed: {over_seeds(held)} (margins in points: {text})")
        dominated = np.mean([ours >= curves[m] for m in METHODS[1:4]])
        notes += [f"{net}: saliency + surgery >= each baseline at {100 * dominated:.0f}% of the "
                  f"(fraction, baseline, seed) points of the curve",
                  f"{net}: parameters removable within {cfg.tolerance:g} point: {pm(p_ok[METHODS[0]], '.1f', 100)}% "
                  f"of the whole network (paper: 85% on its MNIST network)",
                  f"{net}: the data-free knee stops at {100 * knees.mean():.0f}% of the neurons, "
                  f"{pm(knee_drop)} points below dense"]
    title = (f"Srinivas & Babu data-free neuron merging on {data} ({cfg.seeds} seed(s); test "
             f"accuracy % after removing 30/50/70/90% of the 500 hidden neurons and its mean over "
             f"the curve, no fine-tuning; the largest % of neurons and of all parameters removable "
             f"within {cfg.tolerance:g} point; where the knee stops and what it costs)")
    return Report(title, rows, notes=notes)


def _figure(runs: dict, cfg: Config, seed: int, path: Path) -> Path:
    """Accuracy against the neurons removed, per network; the saliency curves and their knees."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5 * len(runs) + 4.5, 4), layout="constrained")
    *axes, right = fig.subplots(1, len(runs) + 1)
    f = 100 * np.array(cfg.fractions)
    for ax, (net, rs) in zip(axes, runs.items()):
        dense = np.mean([r["dense"] for r in rs])
        for m in METHODS:
            acc = np.array([r["curves"][m] for r in rs])
            ax.plot(f, acc.mean(0), label=m, lw=2 if m == METHODS[0] else 1.2)
            ax.fill_between(f, acc.min(0), acc.max(0), alpha=0.2)
        ax.axhline(dense, color="k", lw=0.8, label="dense")
        ax.axhline(dense - cfg.tolerance, color="k", lw=0.8, ls=":", label=f"dense − {cfg.tolerance:g}")
        ax.axvline(100 * np.mean([r["knee"] / r["n"] for r in rs]), color="grey", ls="--", label="knee")
        ax.set(xlabel="hidden neurons removed (%)", ylabel="test accuracy (%)", ylim=(max(0, dense - 40), 100),
               title=f"{net}: no fine-tuning, no data")
        ax.legend(fontsize=7)
        r = rs[0]  # the first seed's saliency curve
        line, = right.semilogy(100 * np.arange(1, r["n"]) / r["n"], np.maximum(r["saliency"], 1e-12), label=net)
        right.axvline(100 * r["knee"] / r["n"], color=line.get_color(), ls="--")
    right.set(xlabel="hidden neurons removed (%)", ylabel="saliency of the merge",
              title=f"saliency curve and knee (seed {seed})")
    right.legend(fontsize=7)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
