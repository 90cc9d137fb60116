"""Srinivas & Babu (2015), data-free neuron merging: the MNIST experiment, without data.

The method is in :mod:`minicompress.papers.srinivas2015_data_free`. The 500 hidden neurons of
an MLP 784-500-10 and of LeNet-5's fc 800→500 (:mod:`minicompress.models`), trained with Caffe's
LeNet solver (batch 64, momentum 0.9, weight decay 5e-4), are removed without fine-tuning by
(i) saliency + surgery, (ii) the same neurons deleted without surgery, (iii) random neurons,
(iv) the smallest ‖W_j‖, (v) the normalized option (an extension): test accuracy against the
fraction removed, the largest fraction within 1 point of dense, the knee.

Claims (``data-free.<net>.*``). Headline: ``dominates``, (i)'s mean accuracy over the curve above
each of (ii)-(iv)'s; ``half_the_neurons``, >= 50% of the neurons removable within 1 point of
dense; ``params_85`` (LeNet-5), >= 85% of all parameters within 1 point, the abstract's number
(the paper's "without significantly affecting performance" names no tolerance). Contrasts: strictly
above each baseline at 50% and 90% removed (ours: at 50% all but random sit at the dense accuracy,
so it is a tie within noise), the normalized option at 85%, the knee.

Not reproduced: the 85% (0 of 10 quick seeds; the full runs' numbers are in the results file).
Without fine-tuning the paper's saliency keeps fewer parameters within 1 point here; the
normalized option comes closer. In the quick run the MLP (ours; the paper's network is LeNet)
sits at the 50% boundary on synthetic digits: 45-65% of its neurons in 10 seeds (the claim held
in 6 of 10). LeNet-5's "dominates" held in 9 of 10 quick seeds on mnist_test_split (10 of 10 on
synthetic digits and in the full runs).

The knee is not the paper's rule, and it stops too late (91-96% of the neurons, 4-40 points
below dense): :mod:`.srinivas2015_data_free_knee` says why and what a log scale gives.

Quick run: the MLP on 8,000 digits for 10 epochs, LeNet-5 on the first 5,000 for 3 (its epoch
costs ten MLP epochs): dense about 92% and 95% on synthetic digits, 3-4 points below the full run
(20,000 images; the MLP 15 epochs, LeNet-5 10, about Caffe's 10,000 batches of 64). Deviations:
synthetic digits by default; ReLU after the convolutions; lr 0.05 without decay.

Run: ``python -m minicompress.reproductions.srinivas2015_data_free [--quick] [--data
mnist_test_split --data-dir DIR]`` or ``minicompress reproduce data-free [--seeds 0-9]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

import numpy as np

from minicompress import metrics
from minicompress.models import FC1, lenet5, mlp
from minicompress.papers.srinivas2015_data_free import merge_neurons, merge_sequence, weight_sets
from minicompress.pruning import remove_units
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import (command_line, figure, finite, load_data, save_figure, say,
                                                   train_lenet)
from minicompress.reproductions.srinivas2015_data_free_knee import (  # where the data-free stop falls
    KNEE, PAPER, ROUNDING, data_free_stop, knee_claim, knee_row, saliency_panel)

METHODS = ("saliency + surgery", "saliency, no surgery", "random", "smallest norm",
           "normalized + surgery")
OURS, BASELINES = METHODS[0], METHODS[1:4]


@dataclass(frozen=True)
class Config:
    """Defaults: the paper's MNIST networks, trained with Caffe's LeNet solver."""

    n_train: int = 20_000  # training images (mnist_test_split has 8,000)
    lenet_images: int | None = None  # LeNet-5 trains on the first ones only (None: all)
    n_test: int = 10_000  # (mnist_test_split has 2,000)
    networks: tuple = ("mlp", "lenet5")  # 784-500-10 (layer 1 pruned), LeNet-5 (fc 800→500 pruned)
    epochs: dict = field(default_factory=lambda: {"mlp": 15, "lenet5": 10})  # Caffe's LeNet: 10,000 batches
    batch_size: int = 64  # Caffe's LeNet solver
    lr: float = 0.05  # SGD with momentum 0.9
    weight_decay: float = 5e-4  # Caffe's LeNet solver; it makes neurons more mergeable
    fractions: tuple = tuple(np.round(np.arange(0.02, 0.99, 0.02), 2))  # of the 500 neurons
    tolerance: float = 1.0  # points of test accuracy for "removable without loss"

    @classmethod
    def quick(cls) -> "Config":
        """An LeNet-5 epoch costs ten MLP epochs: the MLP gets 8,000 images, LeNet-5 5,000."""
        return cls(n_train=8_000, lenet_images=5_000, n_test=2_000, epochs={"mlp": 10, "lenet5": 3},
                   fractions=tuple(np.round(np.arange(0.05, 0.96, 0.05), 2)))


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, data_dir=None,
              verify: bool = True, out_dir=None, verbose: bool = True,
              config: Config | None = None) -> Report:
    """Train, prune by every method at every fraction (no fine-tuning), tabulate, plot, claim.

    ``data``: see :func:`~minicompress.reproductions.experiment.load_data`. The seed sets the
    initialization, the batch order and the random baseline.
    """
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("data-free", cfg, data, out_dir, data_dir, verify)
    runs = {}
    for net in cfg.networks:
        say("data-free", verbose, f"seed {seed}: {net}")
        runs[net] = one_run(cfg, net, seed, train_set, test_set, verbose)
    rows = [row for net, run in runs.items() for row in table(net, run, cfg)]
    claims = [c for net in runs for c in claims_of(rows, net, cfg.tolerance)]
    title = (f"Srinivas & Babu data-free neuron merging on {data} (seed {seed}; test accuracy % "
             f"after removing 30/50/70/90% of the 500 hidden neurons and its mean over the curve, no "
             f"fine-tuning; the largest % of neurons and of all parameters removable within "
             f"{cfg.tolerance:g} point; where the knee stops and what it costs)")
    n_train = len(train_set[1])
    report = Report(title, rows, claims=claims, data=data, notes=[
        f"{n_train} training images (LeNet-5: the first {min(n_train, cfg.lenet_images or n_train)}), "
        f"{len(test_set[1])} test images; {cfg.fractions[0]:.0%} to {cfg.fractions[-1]:.0%} of the neurons "
        f"removed"])
    report.figures.append(_figure(runs, cfg, seed, out_dir / "data_free_accuracy.png"))
    if verbose:
        print(report.table())
    return report


NETWORKS = {"mlp": (lambda rng: mlp((784, 500, 10), rng=rng), 1), "lenet5": (lenet5, FC1)}  # builder, layer


def one_run(cfg: Config, net: str, seed: int, train_set, test_set, verbose: bool) -> dict:
    """Train one network, then every method's accuracy at every fraction of neurons removed."""
    build, layer = NETWORKS[net]
    rng = np.random.default_rng(seed)
    if net == "lenet5" and cfg.lenet_images is not None:
        train_set = tuple(a[:cfg.lenet_images] for a in train_set)
    model = train_lenet(build(rng), train_set, cfg, rng, epochs=cfg.epochs[net], lr=cfg.lr, verbose=verbose)
    # Pruning hidden layer ``layer`` leaves everything below it unchanged, and a pruned layer's
    # activations are the kept columns of the dense layer's: compute those once, then run only
    # each pruned model's consumer on them.
    hidden, y_test = _forward(model.layers[:layer + 2], test_set[0]), test_set[1]  # (n_test, 500)
    accuracy = lambda m, kept: 100 * float(np.mean(pruned_logits(m, layer, hidden, kept).argmax(1) == y_test))
    w, a = weight_sets(model, layer)  # the method sees the weights, nothing else
    n = w.shape[0]
    sequences = {m: merge_sequence(w, a, n - 1, normalize=m.startswith("normalized")) for m in (OURS, METHODS[4])}
    sequences[METHODS[1]] = sequences[OURS]  # the same neurons, deleted without surgery
    order = {"random": rng.permutation(n), "smallest norm": np.argsort(np.linalg.norm(w, axis=1))}

    def pruned_accuracy(m: str, k: int) -> float:  # k neurons removed by method m
        if m in order:
            kept = np.sort(order[m][k:])
            return accuracy(remove_units(model, layer, kept), kept)
        merges = sequences[m][:k]
        kept = np.setdiff1d(np.arange(n), [merge.removed for merge in merges])
        return accuracy(merge_neurons(model, layer, merges, surgery=m != METHODS[1]), kept)

    curves = {m: np.array([pruned_accuracy(m, int(round(f * n))) for f in cfg.fractions]) for m in METHODS}
    stop = data_free_stop(sequences[OURS], lambda k: pruned_accuracy(OURS, k))
    params = metrics.count_params(model)
    per_neuron = params - metrics.count_params(remove_units(model, layer, np.arange(n - 1)))
    return dict(dense=accuracy(model, np.arange(n)), curves=curves, n=n, params=params,
                params_per_neuron=per_neuron, **stop)


def pruned_logits(pruned, layer: int, hidden: np.ndarray, kept) -> np.ndarray:
    """``pruned``'s outputs from the dense model's activations ``hidden`` (n, units) of hidden
    layer ``layer``: the pruned layer computes the ``kept`` columns of them (its rows are a subset
    of the dense layer's, everything below is unchanged), so only its consumer and what follows run."""
    return _forward(pruned.layers[layer + 2:], hidden[:, kept])


def _forward(layers, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    """``layers`` applied one after another to ``x``, ``batch`` examples at a time."""
    return np.concatenate([reduce(lambda h, layer: layer(h), layers, x[start:start + batch])
                           for start in range(0, len(x), batch)])


# ----- the table and the claims: pure functions of one run ----------------------------------------
def removable(curve, dense: float, fractions, tolerance: float) -> float:
    """The largest fraction f such that every fraction up to f stays within ``tolerance``
    points of ``dense`` (0 if the first one already falls below, or anything is not finite)."""
    curve = np.asarray(curve, dtype=float)
    ok = np.isfinite(curve) & (curve >= dense - tolerance - ROUNDING)
    if not np.isfinite(dense):
        ok[:] = False
    n_ok = int(np.logical_and.accumulate(ok).sum())  # leading fractions within tolerance
    return float(fractions[n_ok - 1]) if n_ok else 0.0


def params_removed(run: dict, fraction: float) -> float:
    """The fraction of all the network's parameters that removing ``fraction`` of the neurons removes."""
    return round(fraction * run["n"]) * run["params_per_neuron"] / run["params"]


def _at(fractions, f: float) -> int:
    return int(np.argmin(np.abs(np.asarray(fractions) - f)))


def table(net: str, run: dict, cfg: Config) -> list[dict]:
    """Rows: dense, each method (accuracy at 30/50/70/90% removed, mean over the curve, the largest
    % of neurons and of all parameters removable within tolerance), and the knee."""
    at = {f: _at(cfg.fractions, f) for f in (0.3, 0.5, 0.7, 0.9)}
    d = run["dense"]
    rows = [dict(network=net, method="dense", acc30=d, acc50=d, acc70=d, acc90=d)]
    for m, acc in run["curves"].items():
        f_ok = removable(acc, d, cfg.fractions, cfg.tolerance)
        rows.append(dict(network=net, method=m, **{f"acc{round(100 * f)}": acc[i] for f, i in at.items()},
                         mean_acc=float(np.mean(acc)), neurons_1pt=100 * f_ok,
                         params_1pt=100 * params_removed(run, f_ok)))
    return rows + [knee_row(net, run, params_removed)]


def claims_of(rows: list[dict], net: str, tolerance: float = 1.0) -> list[Claim]:
    """Every checked statement about one network, from the table's rows (a pure function)."""
    by = {r["method"]: r for r in rows if r["network"] == net}
    ours, key, tol = by[OURS], f"data-free.{net}", f"{tolerance:g} point"
    above = lambda col: {m: ours[col] - by[m][col] for m in BASELINES}  # margins in points
    holds_above = lambda margins: all(finite(v) and v > 0 for v in margins.values())
    words = lambda margins: ", ".join(f"{m} {v:+.2f}" for m, v in margins.items())
    mean_margins = above("mean_acc")
    out = [Claim(f"{key}.dominates", f"{net}: saliency + surgery dominates the baselines across the curve: "
                 f"its mean accuracy over the fractions removed is above that of no surgery, random and "
                 f"smallest norm", True, holds_above(mean_margins),
                 f"mean accuracy {ours['mean_acc']:.2f}%; margins in points: {words(mean_margins)}",
                 f"{PAPER}: surgery above naive removal and random neuron choice"),
           Claim(f"{key}.half_the_neurons", f"{net}: at least 50% of the hidden neurons removable within {tol} "
                 f"of dense (saliency + surgery, no fine-tuning)", True,
                 finite(ours["neurons_1pt"]) and ours["neurons_1pt"] >= 50,
                 f"{ours['neurons_1pt']:.0f}% of the neurons, {ours['params_1pt']:.1f}% of the parameters",
                 f"{PAPER}, abstract: up to 85% of the MNIST network's parameters, nearly all in its fc layer")]
    for f in (50, 90):  # our contrasts: the middle of the curve, and deep into it
        margins = above(f"acc{f}")
        out.append(Claim(f"{key}.above_at_{f}", f"{net}: saliency + surgery strictly above each baseline (no "
                         f"surgery, random, smallest norm) at {f}% of the neurons removed", False,
                         holds_above(margins), f"margins in points: {words(margins)}",
                         f"{PAPER}: surgery above naive removal and random neuron choice"))
    for method, headline in ((OURS, net == "lenet5"), (METHODS[4], False)):
        p = by[method]["params_1pt"]
        out.append(Claim(f"{key}.params_85" + ("" if method == OURS else "_normalized"),
                         f"{net}: at least 85% of all parameters removable within {tol} of dense ({method})",
                         headline, finite(p) and p >= 85,
                         f"{p:.1f}% of the parameters ({by[method]['neurons_1pt']:.0f}% of the neurons)",
                         f"{PAPER}, abstract: up to 85% of the parameters of an MNIST-trained LeNet"))
    return out + [knee_claim(by[KNEE], net, key, tolerance)]


# ----- the figure -------------------------------------------------------------------------------------
def _figure(runs: dict, cfg: Config, seed: int, path: Path) -> Path:
    """Accuracy against the neurons removed, per network; the saliency curves and their knees."""
    fig = figure(5 * len(runs) + 4.5, 4)
    *axes, right = fig.subplots(1, len(runs) + 1)
    f = 100 * np.array(cfg.fractions)
    for ax, (net, r) in zip(axes, runs.items()):
        for m in METHODS:
            ax.plot(f, r["curves"][m], label=m, lw=2 if m == OURS else 1.2)
        ax.axhline(r["dense"], color="k", lw=0.8, label="dense")
        ax.axhline(r["dense"] - cfg.tolerance, color="k", lw=0.8, ls=":", label=f"dense − {cfg.tolerance:g}")
        ax.axvline(100 * r["knee"] / r["n"], color="grey", ls="--", label="knee")
        ax.set(xlabel="hidden neurons removed (%)", ylabel="test accuracy (%)",
               ylim=(max(0, r["dense"] - 40), 100), title=f"{net}: no fine-tuning, no data")
        ax.legend(fontsize=7)
    saliency_panel(right, runs, seed)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
