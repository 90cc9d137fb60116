"""Karnin's sensitivity: estimate, during ordinary training, what deleting each weight would cost.

E. D. Karnin, "A simple procedure for pruning back-propagation trained neural networks",
IEEE Transactions on Neural Networks 1(2):239-242, 1990. doi:10.1109/72.80236

The idea: the sensitivity of the error to a weight is S = E(w = 0) − E(w_f), the error without
the weight minus the error with its final value, all other weights final. Instead of measuring
it, integrate ∂E/∂w along the path the weight actually travelled during training, from w_i to
w_f, and stretch the result to the interval from 0 to w_f. The running sum needs one "shadow
array" entry per weight, updated at every step of ordinary back-propagation, so the estimate
costs no extra pass over the data: delete the weights with the smallest estimate. The shadow
array, the estimate and the brute-force S are in :mod:`minicompress.papers.karnin1990_sensitivity`.

Equations. The paper's equation numbers could not be checked against the PDF here; the plain
gradient-descent form Σ Δw² · w_f/(w_f − w_i) is quoted in a bibliography annotation of the
paper, the 1/η factor and the general form are our derivation of it:
  sensitivity      S = E(w = 0) − E(w = w_f)                                [K90: sensitivity]
  line integral    S ≈ −∫_{w_i}^{w_f} ∂E/∂w dw · w_f / (w_f − w_i)          [K90: approximation]
  general form     Ŝ = −Σ_n ∂E/∂w(n) · Δw(n) · w_f / (w_f − w_i)            (any optimizer)
  plain SGD        Δw = −η ∂E/∂w, so Ŝ = Σ_n Δw(n)² · w_f / (η (w_f − w_i)) [K90: shadow arrays]
:class:`ShadowArray` records the general gradient-times-step form, so the estimate stays a
Riemann sum of the line integral with momentum or Adam, where Δw ≠ −η ∂E/∂w; the plain-SGD form
is its special case (tested). Where the weight barely moved, w_f − w_i ≈ 0 and the stretch factor
blows up: the denominator is clamped to ±``min_change`` (:func:`sensitivity_estimate`). Ŝ is
negative where the weight moved toward zero without crossing it; used as is, lowest deleted first.

Deviations. The paper's learning rates, training lengths and 2-D problem are not known: our
2-D task is the band |x1 − x2| < 0.3 in the unit square (``karnin_2d``), and since Karnin's
2-2-1 net is minimal for it (no parameter can go), we use 2-4-1. Squared error Σ(t − o)² and
full-batch gradient descent on the toy tasks; biases are scored and pruned like weights there
(the 13 parameters of the 4-2-1 net). The digits network (LeNet-300-100, softmax cross-entropy,
minibatch SGD with momentum, and a full-batch variant; only weight matrices pruned) is ours, to
see how the estimate fares on a modern-size net; its true sensitivity is measured on sampled
weights only (brute force over all 266,000 is out of reach).

Results (full run, seed 0; the Report has every number). On the paper's small problems the
claim holds: Spearman(Ŝ, S) 0.83 ± 0.10 on rule-plus-exception (35 converged nets of 50) and
0.63 ± 0.14 on the band (18 of 20), and pruning by Ŝ deletes more parameters than random before
the first error (1.2 vs 0.1 of 13; 3.1 vs 0.5 of 17). But |w| ranks better (0.95, 0.81) and
deletes more (2.0, 4.4). On digits (LeNet-300-100, 3 seeds) both rank S poorly: Spearman
0.03 ± 0.03 after minibatch SGD (|w| 0.05 ± 0.02) and 0.29 ± 0.05 after full-batch GD (|w|
0.23 ± 0.03); and deleting by Ŝ is worse than by |w|: 90% of the weights deleted without
retraining keeps 55 ± 5% test accuracy by Ŝ, 90 ± 1% by |w|, 13% at random (92.4% dense;
equal at 50%). Why: training stops away from a minimum of E, so S is dominated by the
first-order term −g·w_f (Spearman 0.99 with S after minibatch SGD; 47% of the S negative),
whose sign the path integral does not see. Cost: 1.0x the time of an epoch without the wrapper;
memory 3x the float32 parameters (float64 sums, initial weights). Full run: about 270 s of CPU.

Run: ``python -m minicompress.reproductions.karnin1990_sensitivity [--quick] [--seed 0]`` (or
``minicompress reproduce karnin``). Quick run, seed 0 (about 8 s of one core; one LeNet seed,
no full-batch variant): rule-plus-exception Spearman(Ŝ, S) 0.82 ± 0.13 (|w| 0.95, 13 nets),
parameters deletable by Ŝ 1.2, |w| 2.0, random 0.2; band 0.65 ± 0.13 (|w| 0.80, 6 nets);
digits (5 epochs on 4,000 images, 77% test accuracy), 90% deleted: Ŝ 65%, |w| 75%, random 10%.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from minicompress import nn, pruning
from minicompress.datasets import load, load_train_test
from minicompress.reproductions.experiment import (assemble, criterion_met, deletion_accuracy, figure,
                                                   flat, mean, pct, row, spearman, std)
from minicompress.papers.karnin1990_sensitivity import (ShadowArray, brute_force_sensitivity, sensitivity_estimate,
                                        shadow_update, train_with_shadow)
from minicompress.models import lenet_300_100, sigmoid_mlp
from minicompress.report import Report
from minicompress.reproductions.experiment import command_line, save_figure, say, verdict
from minicompress.train import evaluate, fit

__all__ = ["Config", "ShadowArray", "shadow_update", "sensitivity_estimate", "brute_force_sensitivity",
           "flat", "sigmoid_mlp", "train_with_shadow", "deletion_accuracy", "reproduce"]


@dataclass(frozen=True)
class Config:
    """Settings of the three experiments (the paper gives few: see Deviations)."""

    # rule-plus-exception, 4-2-1 sigmoid net, plain full-batch gradient descent
    rpe_seeds: int = 50
    rpe_lr: float = 0.5  # on Σ(t − o)²
    rpe_max_epochs: int = 3000  # stops earlier once every output is within 0.1 of its target
    init_scale: float = 0.5  # toy nets: weights and biases from U(−0.5, 0.5)
    # the 2-D band task, 2-2-1 sigmoid net
    band_seeds: int = 20
    band_hidden: int = 4  # Karnin's 2-2-1 is minimal for the band: nothing to delete
    band_n_train: int = 200
    band_n_test: int = 2_000
    band_lr: float = 0.05  # on Σ(t − o)² over the 200 points, momentum below
    band_momentum: float = 0.9
    band_epochs: int = 2000
    band_solved: float = 0.95  # nets below this test accuracy are reported but not scored
    # LeNet-300-100 on digits
    n_train: int = 10_000
    n_test: int = 2_000
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05  # SGD, momentum 0.9
    full_batch_n: int = 3_000  # the full-batch variant trains on this many images ...
    full_batch_epochs: int = 150  # ... for this many steps (0: no full-batch variant)
    full_batch_lr: float = 0.1  # momentum 0.9
    sampled_weights: int = 2_000  # weights whose true sensitivity is measured by brute force
    brute_force_n: int = 2_000  # training images E is measured on
    amounts: tuple = (0.5, 0.7, 0.8, 0.9)  # fractions of the weights deleted, no retraining
    digits_seeds: int = 3  # LeNet runs (each: both regimes)
    timing_epochs: int = 3  # of each kind, alternating, for the overhead ...
    timing_n: int = 10_000  # ... on this many training images
    min_change: float = 1e-6  # guard of w_f − w_i

    @classmethod
    def quick(cls) -> "Config":
        return cls(rpe_seeds=20, band_seeds=8, band_epochs=1000, n_train=4_000, n_test=1_000,
                   epochs=5, full_batch_epochs=0, sampled_weights=500, brute_force_n=500,
                   digits_seeds=1, timing_n=2_000)


# ----- the reproduction ------------------------------------------------------------------------
CRITERIA = ("karnin", "magnitude", "random", "brute force")


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Rule-plus-exception, the 2-D band and LeNet-300-100 on digits; table and figures.

    ``data``: the image set of the digits experiment, "synth_digits" (default) or another name
    :func:`minicompress.datasets.load_train_test` knows ("mnist_test_split" with ``data_dir``).
    """
    cfg = config or (Config.quick() if quick else Config())
    out_dir = Path(out_dir or Path("out") / "karnin")
    out_dir.mkdir(parents=True, exist_ok=True)
    toys = [_toy("rule+exception", cfg, seed, verbose), _toy("2-D band", cfg, seed, verbose)]
    digits = _digits(cfg, seed, data or "synth_digits", dict(data_dir=data_dir, verify=verify), verbose)
    return assemble(f"Karnin's shadow-array sensitivity (1990), seed {seed}{' (quick)' if quick else ''}",
                    toys + [digits], _figures(toys, digits, cfg, out_dir))


def _toy(task: str, cfg: Config, seed: int, verbose: bool) -> dict:
    """Many small nets: Spearman(Ŝ, S) and how many parameters each criterion deletes safely."""
    rpe = task == "rule+exception"
    if rpe:  # plain gradient descent until every output is within 0.1; all 16 patterns must stay correct
        (x, y), sizes, seeds, tolerance = load("rule_plus_exception"), (4, 2, 1), cfg.rpe_seeds, 0.0
        x_test, y_test, init, lr, momentum, epochs = x, y, cfg.init_scale, cfg.rpe_lr, 0.0, cfg.rpe_max_epochs
    else:  # a fixed number of steps with momentum, from the engine's default initialization
        x, y = load("karnin_2d", "train", n=cfg.band_n_train, seed=seed)
        x_test, y_test = load("karnin_2d", "test", n=cfg.band_n_test, seed=seed)
        sizes, seeds, tolerance, init = (2, cfg.band_hidden, 1), cfg.band_seeds, 0.01, None
        lr, momentum, epochs = cfg.band_lr, cfg.band_momentum, cfg.band_epochs
    target, loss = y[:, None].astype(np.float32), nn.MSELoss(reduction="sum")
    accuracy = lambda m: float(((m(x_test)[:, 0] > 0.5) == y_test).mean())  # noqa: E731

    def solved(m) -> bool:  # every output within 0.1 of its target; the band: test accuracy
        return criterion_met(m, x, target, 0.1) if rpe else accuracy(m) >= cfg.band_solved
    say("karnin", verbose, f"{task}: {seeds} nets {'-'.join(map(str, sizes))}")
    nets = []
    for k in range(seeds):
        rng = np.random.default_rng([seed, k])
        model = sigmoid_mlp(sizes, init_scale=init, rng=rng)
        stop = (lambda record, m=model: solved(m)) if rpe else None  # the band: all its epochs
        shadow = train_with_shadow(model, loss, nn.SGD(model.parameters(), lr=lr, momentum=momentum),
                                   x, target, epochs=epochs, stop=stop)
        if not solved(model):
            continue
        params = model.parameters()
        true = brute_force_sensitivity(model, loss, x, target)  # flat, in parameter order
        split = np.split(true, np.cumsum([p.data.size for p in params])[:-1])
        scores = {"karnin": shadow.sensitivity(cfg.min_change), "magnitude": [np.abs(p.data) for p in params],
                  "random": [rng.random(p.shape) for p in params],
                  "brute force": [t.reshape(p.shape) for t, p in zip(split, params)]}
        base = accuracy(model)
        curves = {c: [deletion_accuracy(model, lambda m: m.parameters(), scores[c], n, accuracy)
                      for n in range(true.size + 1)] for c in CRITERIA}
        nets.append(dict(true=true, estimate=flat(scores["karnin"]), curves=curves,
                         spearman={c: spearman(flat(scores[c]), true) for c in CRITERIA[:2]},
                         deletable={c: _first_failure(curves[c], base - tolerance) for c in CRITERIA}))
    rows, n, add = [], len(nets), partial(row, task)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))  # weights and biases
    for c in CRITERIA:
        if c in ("karnin", "magnitude"):
            rho = [net["spearman"][c] for net in nets]
            rows.append(add(c, "Spearman with the true sensitivity S", mean(rho), std(rho), n))
        deletable = [net["deletable"][c] for net in nets]
        rows.append(add(c, f"parameters deletable (of {n_params}) keeping accuracy", mean(deletable),
                        std(deletable), n))
    by = {(r["method"], r["measure"][:8]): r["value"] for r in rows}
    setting = (f"plain gradient descent, lr {cfg.rpe_lr}, until every output is within 0.1 of its "
               f"target ({n} of {seeds} nets got there)" if rpe else
               f"{cfg.band_n_train} points, lr {cfg.band_lr}, momentum {cfg.band_momentum}, "
               f"{cfg.band_epochs} full-batch steps ({n} of {seeds} nets reached "
               f"{100 * cfg.band_solved:.0f}% test accuracy)")
    notes = [f"{task} ({'-'.join(map(str, sizes))}, Σ(t − o)², {setting}): claim 'Ŝ ranks like the "
             f"true sensitivity' (Spearman > 0.6): " + verdict(by["karnin", "Spearman"] > 0.6)
             + f" ({by['karnin', 'Spearman']:.2f}; |w| {by['magnitude', 'Spearman']:.2f}); "
             f"'pruning by Ŝ beats random': " + verdict(by["karnin", "paramete"] > by["random", "paramete"])
             + f" ({by['karnin', 'paramete']:.1f} vs {by['random', 'paramete']:.1f} parameters deletable; "
             f"|w| {by['magnitude', 'paramete']:.1f}, brute-force S {by['brute force', 'paramete']:.1f})"]
    return dict(task=task, rows=rows, notes=notes, nets=nets)


def _first_failure(curve, threshold) -> int:
    """How many deletions (in order) the accuracy survives before it first drops below threshold."""
    below = np.flatnonzero(np.asarray(curve) < threshold - 1e-12)
    return int(below[0]) - 1 if below.size else len(curve) - 1


def _digits(cfg: Config, seed: int, data: str, where: dict, verbose: bool) -> dict:
    """LeNet-300-100 over ``cfg.digits_seeds`` seeds: Ŝ vs brute force on sampled weights,
    deletion without retraining, and the cost of the shadow arrays."""
    (x, y), (x_test, y_test) = load_train_test(data, n_train=cfg.n_train, n_test=cfg.n_test,
                                               seed=seed, **where)  # the same for every seed
    regimes = {"minibatch SGD": dict(lr=cfg.lr, epochs=cfg.epochs, n=cfg.n_train,
                                     batch_size=cfg.batch_size),
               "full-batch GD": dict(lr=cfg.full_batch_lr, epochs=cfg.full_batch_epochs,
                                     n=cfg.full_batch_n, batch_size=None)}
    if not cfg.full_batch_epochs:
        del regimes["full-batch GD"]
    runs = {regime: [] for regime in regimes}  # the measured numbers of each seed
    for s in range(seed, seed + cfg.digits_seeds):
        rng = np.random.default_rng(s)
        initial = lenet_300_100(rng=rng)
        for regime, setting in regimes.items():
            say("karnin", verbose, f"{data}, seed {s}: LeNet-300-100, {regime} ({setting['epochs']} "
                                   f"epochs on {setting['n']} images) with shadow arrays")
            runs[regime].append(_lenet_run(cfg, copy.deepcopy(initial), setting, x, y, x_test, y_test,
                                           rng, verbose))
    overhead = _overhead(cfg, initial, nn.SoftmaxCrossEntropy(), x, y, rng, verbose)
    average = {regime: {k: mean([r["numbers"][k] for r in seeds]) for k in seeds[0]["numbers"]}
               for regime, seeds in runs.items()}
    rows = [row(f"{data} {regime}", *key, average[regime][key], std([r["numbers"][key] for r in seeds]),
                len(seeds)) for regime, seeds in runs.items() for key in seeds[0]["numbers"]] + overhead["rows"]
    top, low, sgd = max(cfg.amounts), min(cfg.amounts), average["minibatch SGD"]
    rank = "Spearman with S, sampled weights"
    every_seed = [r["numbers"] for seeds in runs.values() for r in seeds]
    deleted = lambda m, c, a: m[c, f"test accuracy %, {100 * a:.0f}% of weights deleted"]  # noqa: E731
    notes = [f"{data}, LeNet-300-100 ({cfg.digits_seeds} seed(s): mean, std over seeds; weights only, "
             f"global ranking, no retraining; S = E(w = 0) − E(w_f) for {cfg.sampled_weights} weights "
             f"drawn at random, E the mean cross-entropy on {cfg.brute_force_n} training images, in "
             f"float64): Spearman(Ŝ, S) " + ", ".join(
                 f"{m['karnin', rank]:.2f} with {regime} (|w|: {m['magnitude', rank]:.2f}, "
                 f"dense test accuracy {m['dense', 'test accuracy %']:.1f}%)" for regime, m in average.items()),
             "why Ŝ ranks poorly here: training stopped away from a minimum of E, so S is dominated "
             "by the first-order term −g·w_f, which has either sign and which the path integral "
             "does not see: " + ", ".join(
                 f"{m['S', '% of sampled weights with S < 0']:.0f}% of S < 0 and Spearman(S, −g·w_f) = "
                 f"{m['−g·w_f', 'Spearman with S (first-order term)']:.2f} ({regime})"
                 for regime, m in average.items()),
             f"claim 'deleting by Ŝ beats random' ({100 * top:.0f}% deleted, every seed): "
             + verdict(all(deleted(m, "karnin", top) > deleted(m, "random", top) for m in every_seed))
             + f"; 'deleting by Ŝ is at least as good as by |w|' ({100 * top:.0f}% deleted, every "
             f"seed): " + verdict(all(deleted(m, "karnin", top) >= deleted(m, "magnitude", top)
                                      for m in every_seed))
             + f" (minibatch SGD: Ŝ {deleted(sgd, 'karnin', top):.1f}% vs |w| "
             f"{deleted(sgd, 'magnitude', top):.1f}% vs random {deleted(sgd, 'random', top):.1f}%; at "
             f"{100 * low:.0f}% deleted Ŝ {deleted(sgd, 'karnin', low):.1f}% vs |w| "
             f"{deleted(sgd, 'magnitude', low):.1f}%, mean over seeds)",
             overhead["note"]]
    return dict(rows=rows, notes=notes, runs={r: seeds[0] for r, seeds in runs.items()}, data=data)


def _lenet_run(cfg: Config, model, setting: dict, x, y, x_test, y_test, rng, verbose: bool) -> dict:
    """Train one LeNet-300-100 with shadow arrays and measure everything of one seed."""
    loss = nn.SoftmaxCrossEntropy()
    accuracy = lambda m: 100 * evaluate(m, loss, x_test, y_test)["accuracy"]  # noqa: E731
    shadow = train_with_shadow(model, loss, nn.SGD(model.parameters(), lr=setting["lr"], momentum=0.9),
                               x[:setting["n"]], y[:setting["n"]], epochs=setting["epochs"],
                               batch_size=setting["batch_size"], rng=rng, verbose=verbose)
    weights, position = pruning.weights(model), {id(p): j for j, p in enumerate(shadow.params)}
    sensitivity = shadow.sensitivity(cfg.min_change)
    karnin = [sensitivity[position[id(w)]] for w in weights]
    moved = flat([np.abs(w.data - shadow.initial[position[id(w)]]) for w in weights])
    sample = np.sort(rng.choice(moved.size, size=min(cfg.sampled_weights, moved.size), replace=False))
    say("karnin", verbose, f"brute-force sensitivity of {sample.size} weights on {cfg.brute_force_n} images")
    # in float64: deleting one of 266,000 weights changes E by ~1e-6, float32's noise level
    model64 = copy.deepcopy(model).astype(np.float64)
    xb, yb = x[:cfg.brute_force_n].astype(np.float64), y[:cfg.brute_force_n]
    true = brute_force_sensitivity(model64, loss, xb, yb, pruning.weights(model64), sample)
    # why S is hard to predict: away from a minimum, S ≈ −g·w_f (first order) has either sign
    model64.zero_grad()
    loss(model64(xb), yb)
    model64.grad_params(loss.backward())
    first_order = flat([-w.grad * w.data for w in pruning.weights(model64)])[sample]
    est, mag = flat(karnin)[sample], flat([np.abs(w.data) for w in weights])[sample]
    most = moved[sample] >= np.median(moved[sample])
    numbers = {("dense", "test accuracy %"): accuracy(model),
               ("karnin", "Spearman with S, sampled weights"): spearman(est, true),
               ("magnitude", "Spearman with S, sampled weights"): spearman(mag, true),
               ("karnin", "Spearman with S, the half that moved most"): spearman(est[most], true[most]),
               ("karnin", "Spearman with S, the half that moved least"): spearman(est[~most], true[~most]),
               ("karnin", "Spearman of |score| with |S|"): spearman(np.abs(est), np.abs(true)),
               ("magnitude", "Spearman of |score| with |S|"): spearman(mag, np.abs(true)),
               ("S", "% of sampled weights with S < 0"): pct(true < 0),
               ("−g·w_f", "Spearman with S (first-order term)"): spearman(first_order, true)}
    scores = {"karnin": karnin, "magnitude": [np.abs(w.data) for w in weights],
              "random": [rng.random(w.shape) for w in weights]}
    for amount in cfg.amounts:
        for c, score in scores.items():
            numbers[c, f"test accuracy %, {100 * amount:.0f}% of weights deleted"] = deletion_accuracy(
                model, pruning.weights, score, amount, accuracy)
    return dict(numbers=numbers, est=est, true=true)


def _overhead(cfg: Config, initial, loss, x, y, rng, verbose: bool) -> dict:
    """Seconds per epoch with and without the wrapper, alternating; memory of the shadow arrays."""
    say("karnin", verbose, f"overhead: {cfg.timing_epochs} epochs with and {cfg.timing_epochs} without, alternating")
    seconds, model = {"SGD": [], "ShadowArray(SGD)": []}, copy.deepcopy(initial)
    epoch = partial(fit, model, loss, x=x[:cfg.timing_n], y=y[:cfg.timing_n], epochs=1,
                    batch_size=cfg.batch_size, rng=rng, verbose=False)
    epoch(nn.SGD(model.parameters(), lr=cfg.lr))  # warm-up, not timed
    for _ in range(cfg.timing_epochs):
        for kind in seconds:
            optimizer = nn.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
            optimizer = ShadowArray(optimizer) if kind != "SGD" else optimizer
            start = time.perf_counter()
            epoch(optimizer)
            seconds[kind].append(time.perf_counter() - start)
    shadow = ShadowArray(nn.SGD(model.parameters(), lr=cfg.lr))
    extra = sum(a.nbytes for a in shadow.shadow + shadow.initial)
    weights = sum(p.data.nbytes for p in model.parameters())
    plain, wrapped = (float(np.median(seconds[k])) for k in seconds)
    rows = [row("overhead", k, "seconds per epoch, median", np.median(v), np.std(v), len(v))
            for k, v in seconds.items()]
    rows.append(row("overhead", "ShadowArray", "extra memory / parameter memory", extra / weights))
    note = (f"overhead: {wrapped / plain:.2f}x the time of an epoch without the wrapper ({wrapped:.2f} vs "
            f"{plain:.2f} s, median of {cfg.timing_epochs} epochs of {min(cfg.timing_n, len(x))} images, batch "
            f"{cfg.batch_size}); memory: a float64 shadow array and a copy of the initial weights, "
            f"{extra / weights:.1f}x the float32 parameters (Karnin counts one extra array per weight: the "
            f"sum; the initial weights are the second)")
    return dict(rows=rows, note=note)


def _figures(toys: list[dict], digits: dict, cfg: Config, out_dir: Path) -> list[Path]:
    """Ŝ vs S and deletion curves on the toy tasks; the same on digits (first seed)."""
    from matplotlib.ticker import SymmetricalLogLocator
    fig = figure(11, 7)
    axes = fig.subplots(2, len(toys))
    for column, toy in enumerate(toys):
        scatter, curve = axes[0, column], axes[1, column]
        for net in toy["nets"]:
            scatter.scatter(net["true"], net["estimate"], s=8, alpha=0.5, color="C0")
        scatter.set_xscale("symlog", linthresh=0.01)
        scatter.set_yscale("symlog", linthresh=0.01)
        scatter.set(xlabel="true sensitivity S = E(w=0) − E(w_f)", ylabel="Karnin's estimate Ŝ",
                    title=f"{toy['task']}: {len(toy['nets'])} nets")
        for c in CRITERIA:
            curves = np.array([net["curves"][c] for net in toy["nets"]]) if toy["nets"] else np.zeros((1, 1))
            curve.plot(100 * curves.mean(axis=0), "o-", markersize=3, label=c)
        curve.set(xlabel="parameters deleted (lowest score first, no retraining)",
                  ylabel="accuracy % (mean over nets)")
        curve.legend(fontsize=8)
    paths = [save_figure(fig, out_dir / "karnin_toy_tasks.png")]
    fig = figure(4 * (len(digits["runs"]) + 1), 4)
    axes = fig.subplots(1, len(digits["runs"]) + 1)
    for ax, (regime, run) in zip(axes[:-1], digits["runs"].items()):
        ax.scatter(run["true"], run["est"], s=4, alpha=0.4)
        for axis, values, set_scale in ((ax.xaxis, run["true"], ax.set_xscale),
                                        (ax.yaxis, run["est"], ax.set_yscale)):
            limit = 10.0 ** np.floor(np.log10(max(np.percentile(np.abs(values), 10), 1e-12)))
            set_scale("symlog", linthresh=limit)  # signs matter here: both sides, log-spaced
            axis.set_major_locator(SymmetricalLogLocator(linthresh=limit, base=100))
        ax.tick_params(axis="x", labelrotation=35)
        ax.set(xlabel="true sensitivity S (sampled weights)", ylabel="Ŝ",
               title=f"{regime}: Spearman {spearman(run['est'], run['true']):.2f}")
    ax = axes[-1]
    for (regime, run), style in zip(digits["runs"].items(), ("-", "--")):
        for c, colour in zip(("karnin", "magnitude", "random"), ("C0", "C1", "C2")):
            ax.plot([100 * a for a in cfg.amounts],
                    [run["numbers"][c, f"test accuracy %, {100 * a:.0f}% of weights deleted"] for a in cfg.amounts],
                    style + "o", color=colour, markersize=4, label=f"{c}, {regime}")
    ax.set(xlabel="weights deleted % (global, no retraining)", ylabel="test accuracy %",
           title=f"LeNet-300-100, {digits['data']}, first seed")
    ax.legend(fontsize=7)
    return paths + [save_figure(fig, out_dir / "karnin_digits.png")]


if __name__ == "__main__":
    command_line(reproduce, __doc__)
