"""Srinivas & Babu (2015), data-free neuron merging: the MNIST experiment, without data.

The method is in :mod:`minicompress.papers.srinivas2015_data_free`. Reproduced: the 500 hidden
neurons of an MLP 784-500-10 and of LeNet-5's fc 800→500 (:mod:`minicompress.models`), trained
with Caffe's LeNet solver (weight decay 5e-4), removed without fine-tuning by (i) saliency +
surgery, (ii) the same neurons deleted without surgery, (iii) random neurons, (iv) the smallest
‖W_j‖, (v) the normalized option (an extension): test accuracy against the fraction removed, the
largest fraction within 1 point of dense, and where the data-free knee stops.

Deviations: synthetic digits by default; short SGD training (the paper started from Caffe's
converged LeNet); ReLU after the convolutions; the saliency and the stopping rule as summarised
in the paper file, not checked against the PDF.

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
from minicompress.papers.srinivas2015_data_free import knee, merge_neurons, merge_sequence, weight_sets
from minicompress.pruning import remove_units
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, load_data, save_figure, say, train_lenet

METHODS = ("saliency + surgery", "saliency, no surgery", "random", "smallest norm",
           "normalized + surgery")
OURS, BASELINES = METHODS[0], METHODS[1:4]
PAPER = "Srinivas & Babu 2015"


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

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=5_000, epochs={"mlp": 10, "lenet5": 3},
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
    claims = [c for net, run in runs.items() for c in claims_of(net, run, cfg)]
    title = (f"Srinivas & Babu data-free neuron merging on {data} (seed {seed}; test accuracy % "
             f"after removing 30/50/70/90% of the 500 hidden neurons and its mean over the curve, no "
             f"fine-tuning; the largest % of neurons and of all parameters removable within "
             f"{cfg.tolerance:g} point; where the knee stops and what it costs)")
    report = Report(title, rows, claims=claims, data=data,
                    notes=[f"{len(train_set[1])} training and {len(test_set[1])} test images; "
                           f"fractions of the 500 neurons {cfg.fractions[0]:.0%} to {cfg.fractions[-1]:.0%}"])
    report.figures.append(_figure(runs, cfg, seed, out_dir / "data_free_accuracy.png"))
    if verbose:
        print(report.table())
    return report


NETWORKS = {"mlp": (lambda rng: mlp((784, 500, 10), rng=rng), 1), "lenet5": (lenet5, FC1)}  # builder, layer


def one_run(cfg: Config, net: str, seed: int, train_set, test_set, verbose: bool) -> dict:
    """Train one network, then every method's accuracy at every fraction of neurons removed."""
    build, layer = NETWORKS[net]
    rng = np.random.default_rng(seed)
    model = train_lenet(build(rng), train_set, cfg, rng, epochs=cfg.epochs[net], lr=cfg.lr, verbose=verbose)
    # Pruning one fc layer leaves the layers below it unchanged: compute their output once and
    # evaluate only the pruned head at every fraction.
    features, y_test = _forward(model.layers[:layer], test_set[0]), test_set[1]
    accuracy = lambda m: 100 * float(np.mean(_forward(m.layers[layer:], features).argmax(1) == y_test))
    w, a = weight_sets(model, layer)  # the method sees the weights, nothing else
    n = w.shape[0]
    sequences = {m: merge_sequence(w, a, n - 1, normalize=m.startswith("normalized")) for m in (OURS, METHODS[4])}
    sequences[METHODS[1]] = sequences[OURS]  # the same neurons, deleted without surgery
    order = {"random": rng.permutation(n), "smallest norm": np.argsort(np.linalg.norm(w, axis=1))}

    def pruned(m: str, k: int):  # k neurons removed by method m
        if m in order:
            return remove_units(model, layer, np.sort(order[m][k:]))
        return merge_neurons(model, layer, sequences[m][:k], surgery=m != METHODS[1])

    curves = {m: np.array([accuracy(pruned(m, int(round(f * n)))) for f in cfg.fractions]) for m in METHODS}
    saliency = np.array([s.saliency for s in sequences[OURS]])
    k_knee = knee(saliency)
    params = metrics.count_params(model)
    per_neuron = params - metrics.count_params(remove_units(model, layer, np.arange(n - 1)))
    return dict(dense=accuracy(model), curves=curves, n=n, params=params, params_per_neuron=per_neuron,
                saliency=saliency, knee=k_knee, knee_accuracy=accuracy(pruned(OURS, k_knee)))


def _forward(layers, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    """``layers`` applied one after another to ``x``, ``batch`` examples at a time."""
    return np.concatenate([reduce(lambda h, layer: layer(h), layers, x[start:start + batch])
                           for start in range(0, len(x), batch)])


# ----- the table and the claims: pure functions of one run ----------------------------------------
def removable(curve, dense: float, fractions, tolerance: float) -> float:
    """The largest fraction f such that every fraction up to f stays within ``tolerance``
    points of ``dense`` (0 if the first one already falls below, or anything is not finite)."""
    curve = np.asarray(curve, dtype=float)
    ok = np.isfinite(curve) & (curve >= dense - tolerance) if np.isfinite(dense) else np.zeros(curve.shape, bool)
    n_ok = int(np.logical_and.accumulate(ok).sum())  # leading fractions within tolerance
    return float(fractions[n_ok - 1]) if n_ok else 0.0


def params_removed(run: dict, fraction: float) -> float:
    """The fraction of all the network's parameters that removing ``fraction`` of the neurons removes."""
    return round(fraction * run["n"]) * run["params_per_neuron"] / run["params"]


def _at(fractions, f: float) -> int:
    return int(np.argmin(np.abs(np.asarray(fractions) - f)))


def table(net: str, run: dict, cfg: Config) -> list[dict]:
    """Rows: dense, each method (accuracy at 30/50/70/90%, mean over the curve, removable within
    tolerance), and the knee."""
    at = {f: _at(cfg.fractions, f) for f in (0.3, 0.5, 0.7, 0.9)}
    d = run["dense"]
    rows = [dict(network=net, method="dense", acc30=d, acc50=d, acc50_std=0.0, acc70=d, acc90=d)]
    for m, acc in run["curves"].items():
        f_ok = removable(acc, d, cfg.fractions, cfg.tolerance)
        rows.append(dict(network=net, method=m, acc30=acc[at[0.3]], acc50=acc[at[0.5]], acc50_std=0.0,
                         acc70=acc[at[0.7]], acc90=acc[at[0.9]], mean_acc=float(np.mean(acc)),
                         neurons_1pt=100 * f_ok, params_1pt=100 * params_removed(run, f_ok), params_1pt_std=0.0))
    k = run["knee"] / run["n"]
    rows.append(dict(network=net, method="knee (data-free stop)", knee_neurons=100 * k,
                     knee_params=100 * params_removed(run, k), knee_drop=d - run["knee_accuracy"], knee_drop_std=0.0))
    return rows


def claims_of(net: str, run: dict, cfg: Config) -> list[Claim]:
    """Every checked statement about one network's run (see the module docstring)."""
    key = f"data-free.{net}"
    curves, d, tol = run["curves"], run["dense"], cfg.tolerance
    mean = {m: float(np.mean(curves[m])) for m in (OURS, *BASELINES)}
    out = [Claim(f"{key}.dominates", f"{net}: saliency + surgery dominates the baselines across the curve: "
                 f"its mean accuracy over the fractions removed is above that of no surgery, random and "
                 f"smallest norm", True, all(np.isfinite(mean[m]) and mean[OURS] > mean[m] for m in BASELINES),
                 "mean accuracy %: " + ", ".join(f"{m} {v:.2f}" for m, v in mean.items()),
                 f"{PAPER}: surgery above naive removal and random (figures, not checked)")]
    f_ok = removable(curves[OURS], d, cfg.fractions, tol)
    out.append(Claim(f"{key}.half_the_neurons", f"{net}: at least 50% of the hidden neurons removable within "
                     f"{tol:g} point of dense (saliency + surgery, no fine-tuning)", True, f_ok >= 0.5,
                     f"{100 * f_ok:.0f}% of the neurons (dense {d:.2f}%)",
                     f"{PAPER}, abstract: up to 85% of the MNIST network's parameters (most of its fc neurons)"))
    for f in (0.5, 0.9):  # our contrasts: the middle of the curve, and deep into it
        i = _at(cfg.fractions, f)
        margins = {m: curves[OURS][i] - curves[m][i] for m in BASELINES}
        out.append(Claim(f"{key}.above_at_{round(100 * f)}",
                         f"{net}: saliency + surgery strictly above each baseline (no surgery, random, "
                         f"smallest norm) at {cfg.fractions[i]:.0%} of the neurons removed", False,
                         all(np.isfinite(v) and v > 0 for v in margins.values()),
                         "margins in points: " + ", ".join(f"{m} {v:+.2f}" for m, v in margins.items()),
                         f"{PAPER}: surgery above random and naive removal (figures, not checked)"))
    p_ok = params_removed(run, f_ok)
    out.append(Claim(f"{key}.params_85", f"{net}: at least 85% of all parameters removable within "
                     f"{tol:g} point of dense (saliency + surgery)", net == "lenet5", p_ok >= 0.85,
                     f"{100 * p_ok:.1f}% of the parameters ({100 * f_ok:.0f}% of the neurons)",
                     f"{PAPER}, abstract: up to 85% of the MNIST network's parameters"))
    k = run["knee"] / run["n"]
    drop = d - run["knee_accuracy"]
    out.append(Claim(f"{key}.knee_within_tolerance", f"{net}: the data-free knee stops where accuracy is "
                     f"within {tol:g} point of dense", False, bool(np.isfinite(drop) and drop <= tol),
                     f"stops at {100 * k:.0f}% of the neurons, {drop:.2f} points below dense",
                     f"{PAPER}: the cut-off is read off the saliency curve"))
    return out


# ----- the figure -------------------------------------------------------------------------------------
def _figure(runs: dict, cfg: Config, seed: int, path: Path) -> Path:
    """Accuracy against the neurons removed, per network; the saliency curves and their knees."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5 * len(runs) + 4.5, 4), layout="constrained")
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
        line, = right.semilogy(100 * np.arange(1, r["n"]) / r["n"], np.maximum(r["saliency"], 1e-12), label=net)
        right.axvline(100 * r["knee"] / r["n"], color=line.get_color(), ls="--")
    right.set(xlabel="hidden neurons removed (%)", ylabel="saliency of the merge",
              title=f"saliency curve and knee (seed {seed})")
    right.legend(fontsize=7)
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
