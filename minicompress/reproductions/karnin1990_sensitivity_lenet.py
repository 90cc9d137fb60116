"""Karnin's sensitivity on LeNet-300-100, part (2) and (3) of
:mod:`minicompress.reproductions.karnin1990_sensitivity` (that module's docstring says what is
reproduced, the deviations and what held; ``minicompress reproduce karnin`` runs this part with the
toy tasks).

A modern-size net on digits: Spearman(Ŝ, S) on sampled weights (S by brute force in float64),
global deletion by Ŝ, |w| and at random without retraining, the first-order term −g·w_f (why Ŝ
ranks poorly here), and the time and memory overhead of the shadow arrays.
"""
from __future__ import annotations

import copy
import time
from functools import partial
from pathlib import Path

import numpy as np

from minicompress import nn, pruning
from minicompress.models import lenet_300_100
from minicompress.papers.karnin1990_sensitivity import ShadowArray, brute_force_sensitivity
from minicompress.report import Claim
from minicompress.reproductions.experiment import (deletion_accuracy, figure, flat, pct, row, save_figure, say,
                                                   spearman, value_of)
from minicompress.train import evaluate, fit

CRITERIA = ("karnin", "magnitude", "random")
AT = "test accuracy %, {:.0f}% of weights deleted"


def lenet_experiment(cfg, seed: int, data: str, train_set, test_set, verbose: bool) -> dict:
    """LeNet-300-100: Ŝ vs brute force on sampled weights, deletion without retraining, the overhead."""
    x, y = train_set
    regimes = {"minibatch SGD": dict(lr=cfg.lr, epochs=cfg.epochs, n=cfg.n_train, batch_size=cfg.batch_size),
               "full-batch GD": dict(lr=cfg.full_batch_lr, epochs=cfg.full_batch_epochs, n=cfg.full_batch_n,
                                     batch_size=None)}
    if not cfg.full_batch_epochs:
        del regimes["full-batch GD"]
    rng = np.random.default_rng(seed)
    initial, runs, rows = lenet_300_100(rng=rng), {}, []
    for regime, setting in regimes.items():
        say("karnin", verbose, f"{data}: LeNet-300-100, {regime} with shadow arrays")
        runs[regime] = _lenet_run(cfg, copy.deepcopy(initial), setting, (x, y), test_set, rng, verbose)
        rows += [row(f"{data} {regime}", *key, value) for key, value in runs[regime]["numbers"].items()]
    overhead = _overhead(cfg, initial, x, y, rng, verbose)
    notes = [f"{data}, LeNet-300-100: weights only, global ranking, no retraining; S = E(w = 0) − E(w_f) for "
             f"{cfg.sampled_weights} weights drawn at random, E the mean cross-entropy on {cfg.brute_force_n} "
             f"training images, in float64; " + "; ".join(
                 f"{regime}: lr {s['lr']}, momentum 0.9, {s['epochs']} epochs on {min(s['n'], len(x))} images, "
                 f"batch {s['batch_size'] or 'all'}" for regime, s in regimes.items()), overhead["note"]]
    return dict(rows=rows + overhead["rows"], notes=notes, runs=runs, data=data)


def _lenet_run(cfg, model, setting: dict, train_set, test_set, rng, verbose: bool) -> dict:
    """Train one LeNet-300-100 with shadow arrays and measure everything of one regime."""
    loss, (x, y), n = nn.SoftmaxCrossEntropy(), train_set, setting["n"]
    accuracy = lambda m: 100 * evaluate(m, loss, *test_set)["accuracy"]  # noqa: E731
    shadow = ShadowArray(nn.SGD(model.parameters(), lr=setting["lr"], momentum=0.9))
    fit(model, loss, shadow, x[:n], y[:n], epochs=setting["epochs"], batch_size=setting["batch_size"] or len(x[:n]),
        rng=rng, shuffle=setting["batch_size"] is not None, verbose=verbose)
    weights, position = pruning.weights(model), {id(p): j for j, p in enumerate(shadow.params)}
    sensitivity = shadow.sensitivity(cfg.min_change)
    karnin = [sensitivity[position[id(w)]] for w in weights]
    sample = np.sort(rng.choice(sum(w.data.size for w in weights), size=cfg.sampled_weights, replace=False))
    say("karnin", verbose, f"brute-force sensitivity of {sample.size} weights on {cfg.brute_force_n} images")
    # in float64: deleting one of 266,000 weights changes E by ~1e-6, float32's noise level
    model64 = copy.deepcopy(model).astype(np.float64)
    xb, yb = x[:cfg.brute_force_n].astype(np.float64), y[:cfg.brute_force_n]
    true = brute_force_sensitivity(model64, loss, xb, yb, pruning.weights(model64), sample)
    model64.zero_grad()  # why S is hard to predict: away from a minimum, S ≈ −g·w_f has either sign
    loss(model64(xb), yb)
    model64.grad_params(loss.backward())
    first_order = flat([-w.grad * w.data for w in pruning.weights(model64)])[sample]
    est, mag = flat(karnin)[sample], flat([np.abs(w.data) for w in weights])[sample]
    numbers = {("dense", "test accuracy %"): accuracy(model),
               ("karnin", "Spearman with S, sampled weights"): spearman(est, true),
               ("magnitude", "Spearman with S, sampled weights"): spearman(mag, true),
               ("karnin", "Spearman of |score| with |S|"): spearman(np.abs(est), np.abs(true)),
               ("magnitude", "Spearman of |score| with |S|"): spearman(mag, np.abs(true)),
               ("S", "% of sampled weights with S < 0"): pct(true < 0),
               ("−g·w_f", "Spearman with S (first-order term)"): spearman(first_order, true)}
    scores = {"karnin": karnin, "magnitude": [np.abs(w.data) for w in weights],
              "random": [rng.random(w.shape) for w in weights]}
    for amount in cfg.amounts:
        for c, score in scores.items():
            numbers[c, AT.format(100 * amount)] = deletion_accuracy(model, pruning.weights, score, amount, accuracy)
    return dict(numbers=numbers, est=est, true=true)


def _overhead(cfg, initial, x, y, rng, verbose: bool) -> dict:
    """The fastest epoch with and without the wrapper, alternating; memory of the shadow arrays."""
    say("karnin", verbose, f"overhead: {cfg.timing_epochs} epochs with and {cfg.timing_epochs} without, alternating")
    seconds, model = {"SGD": [], "ShadowArray(SGD)": []}, copy.deepcopy(initial)
    epoch = partial(fit, model, nn.SoftmaxCrossEntropy(), x=x[:cfg.timing_n], y=y[:cfg.timing_n], epochs=1,
                    batch_size=cfg.batch_size, rng=rng, verbose=False)
    epoch(nn.SGD(model.parameters(), lr=cfg.lr))  # warm-up, not timed
    for _ in range(cfg.timing_epochs):
        for kind in seconds:
            optimizer = nn.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
            start = time.perf_counter()
            epoch(ShadowArray(optimizer) if kind != "SGD" else optimizer)
            seconds[kind].append(time.perf_counter() - start)
    shadow = ShadowArray(nn.SGD(model.parameters(), lr=cfg.lr))
    extra = sum(a.nbytes for a in shadow.shadow + shadow.initial) / sum(p.data.nbytes for p in model.parameters())
    rows = [row("overhead", k, "seconds per epoch, fastest", min(v), np.std(v), len(v)) for k, v in seconds.items()]
    note = (f"overhead: the fastest of {cfg.timing_epochs} epochs of {min(cfg.timing_n, len(x))} images each way "
            f"(batch {cfg.batch_size}), alternating, in this process (machine load matters); memory: a float64 "
            f"shadow array and a copy of the initial weights")
    return dict(rows=rows + [row("overhead", "ShadowArray", "extra memory / parameter memory", extra)], note=note)


# ----- claims: pure functions of the rows ----------------------------------------------------------
def lenet_claims(rows: list[dict], data: str, amount: float) -> list[Claim]:
    """The LeNet and overhead claims, checked on the rows of one run (``data``: the digits' name;
    ``amount``: the fraction of LeNet's weights deleted that the claims look at)."""
    lenet, at, name = partial(value_of, rows, f"{data} minibatch SGD"), AT.format(100 * amount), f"{100 * amount:.0f}%"
    (karnin, magnitude, random), rank = (lenet(c, at) for c in CRITERIA), "Spearman with S, sampled weights"
    first, negative = lenet("−g·w_f", "Spearman with S (first-order term)"), lenet("S", "% of sampled weights with S < 0")
    plain, wrapped = (value_of(rows, "overhead", k, "seconds per epoch, fastest") for k in ("SGD", "ShadowArray(SGD)"))
    ratio, memory = wrapped / plain if plain > 0 and wrapped > 0 else np.nan, value_of(
        rows, "overhead", "ShadowArray", "extra memory / parameter memory")
    where, full = f"LeNet-300-100 on {data}, minibatch SGD", partial(value_of, rows, f"{data} full-batch GD")
    variant = [Claim("karnin.lenet.full_batch_ranks_better", f"LeNet-300-100 on {data}: Ŝ ranks like S better after "
                     f"full-batch GD than after minibatch SGD (Σ g·Δw collects the noise of every minibatch step)",
                     False, full("karnin", rank) > lenet("karnin", rank), f"Spearman {full('karnin', rank):.2f} vs "
                     f"{lenet('karnin', rank):.2f}")] if not np.isnan(full("karnin", rank)) else []
    return variant + [
        Claim("karnin.lenet.beats_random", f"{where}: deleting {name} of the weights by Ŝ keeps more test accuracy "
              f"than at random", False, karnin > random, f"Ŝ {karnin:.1f}% vs random {random:.1f}%"),
        Claim("karnin.lenet.at_least_magnitude", f"{where}: deleting {name} of the weights by Ŝ keeps at least the "
              f"test accuracy of deleting by |w|", False, karnin >= magnitude, f"Ŝ {karnin:.1f}% vs |w| "
              f"{magnitude:.1f}% (dense {lenet('dense', 'test accuracy %'):.1f}%)"),
        Claim("karnin.lenet.spearman", f"{where}: Spearman(Ŝ, S) on sampled weights > 0.6", False,
              lenet("karnin", rank) > 0.6, f"{lenet('karnin', rank):.2f} (|w|: {lenet('magnitude', rank):.2f})"),
        Claim("karnin.lenet.first_order", f"{where}: S is dominated by the first-order term −g·w_f, whose sign "
              f"the path integral does not see (Spearman(S, −g·w_f) > 0.9)", False, first > 0.9,
              f"{first:.2f}; S < 0 for {negative:.0f}% of the weights"),
        Claim("karnin.overhead.negligible", "negligible overhead: an epoch with the shadow arrays takes at most "
              "1.25× the time of an epoch without", True, ratio <= 1.25, f"{ratio:.2f}× ({wrapped:.3f} vs "
              f"{plain:.3f} s per epoch, machine load matters); memory {memory:.1f}× the float32 parameters (a "
              f"float64 sum and the initial value per weight)",
              "does not interfere with learning and demands a negligible computational overhead (abstract)")]


def lenet_figure(digits: dict, amounts, out_dir: Path) -> Path:
    """Ŝ vs S on LeNet's sampled weights, per regime; test accuracy vs fraction deleted."""
    fig = figure(4 * (len(digits["runs"]) + 1), 4)
    axes = fig.subplots(1, len(digits["runs"]) + 1)
    for ax, (regime, run) in zip(axes, digits["runs"].items()):
        ax.scatter(run["true"], run["est"], s=4, alpha=0.4)
        for set_scale, values in ((ax.set_xscale, run["true"]), (ax.set_yscale, run["est"])):  # signs matter
            set_scale("symlog", linthresh=10.0 ** np.floor(np.log10(max(np.percentile(np.abs(values), 10), 1e-12))))
        ax.tick_params(axis="x", labelrotation=35)
        ax.set(xlabel="true sensitivity S (sampled weights)", ylabel="Ŝ",
               title=f"{regime}: Spearman {spearman(run['est'], run['true']):.2f}")
    for (regime, run), style in zip(digits["runs"].items(), ("-", "--")):
        for c, colour in zip(CRITERIA, ("C0", "C1", "C2")):
            axes[-1].plot([100 * a for a in amounts], [run["numbers"][c, AT.format(100 * a)] for a in amounts],
                          style + "o", color=colour, ms=4, label=f"{c}, {regime}")
    axes[-1].set(xlabel="weights deleted % (global, no retraining)", ylabel="test accuracy %",
                 title=f"LeNet-300-100, {digits['data']}")
    axes[-1].legend(fontsize=7)
    return save_figure(fig, out_dir / "karnin_digits.png")
