"""Karnin's sensitivity: estimate, during ordinary training, what deleting each weight would cost.

E. D. Karnin, "A simple procedure for pruning back-propagation trained neural networks",
IEEE Transactions on Neural Networks 1(2):239-242, 1990. doi:10.1109/72.80236

The idea: the sensitivity of the error to a weight is S = E(w = 0) − E(w_f), the error without
the weight minus the error with its final value, all other weights final. Instead of measuring
it, integrate ∂E/∂w along the path the weight actually travelled during training, from w_i to
w_f, and stretch the result to the interval from 0 to w_f. The running sum needs one "shadow
array" entry per weight, updated at every step of ordinary back-propagation, so the estimate
costs no extra pass over the data: delete the weights with the smallest estimate.

Equations. The paper's equation numbers could not be checked against the PDF here; the plain
gradient-descent form Σ Δw² · w_f/(w_f − w_i) is quoted in a bibliography annotation of the
paper, the 1/η factor and the general form are our derivation of it:
  sensitivity      S = E(w = 0) − E(w = w_f)                                [K90: sensitivity]
  line integral    S ≈ −∫_{w_i}^{w_f} ∂E/∂w dw · w_f / (w_f − w_i)          [K90: approximation]
  general form     Ŝ = −Σ_n ∂E/∂w(n) · Δw(n) · w_f / (w_f − w_i)            (any optimizer)
  plain SGD        Δw = −η ∂E/∂w, so Ŝ = Σ_n Δw(n)² · w_f / (η (w_f − w_i)) [K90: shadow arrays]
:class:`ShadowArray` records the general gradient-times-step form, so the estimate stays a
Riemann sum of the line integral with momentum or Adam, where Δw ≠ −η ∂E/∂w; the plain-SGD form
is its special case (tested). Where the weight barely moved, w_f − w_i ≈ 0 and the stretch
factor blows up: the denominator is clamped to ±``min_change`` (:func:`sensitivity_estimate`).
Ŝ is negative where the weight moved toward zero without crossing it; it is used as it is
(lowest deleted first).

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
whose sign the path integral does not see. Cost: 1.0x the time of an
epoch without the wrapper; memory 3x the float32 parameters (float64 sums, initial weights).
Full run: about 270 s of CPU.

Run: ``python -m minicompress.papers.karnin1990_sensitivity [--quick] [--seed 0]`` (or
``minicompress reproduce karnin``). Quick run, seed 0 (about 8 s of one core; one LeNet seed,
no full-batch variant): rule-plus-exception Spearman(Ŝ, S) 0.82 ± 0.13 (|w| 0.95, 13 nets),
parameters deletable by Ŝ 1.2, |w| 2.0, random 0.2; band 0.65 ± 0.13 (|w| 0.80, 6 nets);
digits (5 epochs on 4,000 images, 77% test accuracy), 90% deleted: Ŝ 65%, |w| 75%, random 10%.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minicompress import nn, pruning
from minicompress.papers.shadow import ShadowArray, sensitivity_estimate, shadow_update
from minicompress.report import Report, command_line, save_figure, say, verdict
from minicompress.rng import as_rng
from minicompress.train import evaluate, fit

__all__ = ["Config", "ShadowArray", "shadow_update", "sensitivity_estimate",
           "brute_force_sensitivity", "flat", "reproduce"]


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


# ----- the reference: brute-force sensitivity --------------------------------------------------
def flat(arrays) -> np.ndarray:
    """The arrays of a list (one per parameter) raveled and concatenated, in order."""
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def brute_force_sensitivity(model: nn.Sequential, loss, x: np.ndarray, y: np.ndarray,
                            params=None, entries=None) -> np.ndarray:
    """S = E(w = 0) − E(w) for each entry, every other weight as it is   [K90: sensitivity].

    Parameters
    ----------
    model : Sequential
    loss : the error E (e.g. ``nn.MSELoss("sum")``), evaluated on (x, y).
    params : list of Parameter, optional
        Whose entries to score (default ``model.parameters()``); each must belong to a layer of
        ``model``.
    entries : 1-D int array, optional
        Positions in the concatenation of the raveled ``params`` (the layout of :func:`flat`);
        default all.

    Returns
    -------
    float64 array (len(entries),)

    Each entry costs a forward pass from its own layer up (the layers below are computed once).
    For a Linear layer's weight W[o, i] the layer's output with that weight zeroed is
    y[:, o] − W[o, i]·x[:, i], exact, so not even that layer is recomputed.
    """
    layers = list(model.layers) if isinstance(model, nn.Sequential) else None
    if layers is None:
        raise TypeError(f"brute_force_sensitivity: expected a Sequential, got {type(model).__name__}")
    params = model.parameters() if params is None else list(params)
    owner = {id(p): k for k, layer in enumerate(layers) for p in layer.parameters()}
    for p in params:
        if id(p) not in owner:
            raise ValueError(f"brute_force_sensitivity: parameter {p.name or p} is not in the model")
    sizes = np.cumsum([0] + [p.data.size for p in params])
    entries = np.arange(sizes[-1]) if entries is None else np.asarray(entries)
    if entries.ndim != 1 or (entries.size and (entries.min() < 0 or entries.max() >= sizes[-1])):
        raise ValueError(f"brute_force_sensitivity: entries must be a 1-D array of positions in "
                         f"[0, {sizes[-1]}), got {entries!r}")
    inputs, outputs, h = [], [], x  # what layer k receives and emits with the weights as they are
    for layer in layers:
        inputs.append(h)
        h = layer(h)
        outputs.append(h)
    base = loss(h, y)

    def error_from(k, out):  # E with layer k's output replaced by ``out``
        for layer in layers[k + 1:]:
            out = layer(out)
        return loss(out, y)

    result = np.zeros(entries.size)
    for j, position in enumerate(entries):
        i = int(np.searchsorted(sizes, position, side="right") - 1)
        p, index = params[i], int(position - sizes[i])
        k = owner[id(p)]
        layer, value = layers[k], p.value().flat[index]
        if isinstance(layer, nn.Linear):  # patch one output column, exact
            out = outputs[k].copy()
            if p is layer.weight:
                o, col = np.unravel_index(index, p.shape)
                out[:, o] -= value * inputs[k][:, col]
            else:
                out[:, index] -= value
            result[j] = error_from(k, out) - base
        else:  # any other layer: set the entry to zero and recompute from that layer up
            saved, p.data.flat[index] = p.data.flat[index], 0
            result[j] = error_from(k, layer(inputs[k])) - base
            p.data.flat[index] = saved
    return result


# ----- the method on small nets ----------------------------------------------------------------
def sigmoid_mlp(sizes, *, init_scale: float | None = None, rng=None, dtype=np.float32) -> nn.Sequential:
    """Linear + Sigmoid layers of the given sizes, e.g. (4, 2, 1); weights and biases from
    U(−init_scale, init_scale), or the engine's default U(±1/√fan_in) if None."""
    rng, layers = as_rng(rng), []
    for a, b in zip(sizes[:-1], sizes[1:]):
        linear = nn.Linear(a, b, rng=rng, dtype=dtype)
        for p in linear.parameters() if init_scale is not None else ():
            p.data = rng.uniform(-init_scale, init_scale, p.shape).astype(dtype)
        layers += [linear, nn.Sigmoid()]
    return nn.Sequential(*layers)


def train_with_shadow(model, loss, optimizer, x, y, *, epochs: int, batch_size: int | None = None,
                      rng=None, stop=None, verbose: bool = False) -> ShadowArray:
    """Ordinary training through ``fit`` with the optimizer wrapped in a :class:`ShadowArray`
    (full batch if ``batch_size`` is None; ``stop(record) -> True`` ends training early)."""
    shadow = ShadowArray(optimizer)
    fit(model, loss, shadow, x, y, epochs=epochs, batch_size=batch_size or len(x), rng=rng,
        shuffle=batch_size is not None, verbose=verbose, on_epoch=stop)
    return shadow


def deletion_accuracy(model, params_of, scores, amount, accuracy) -> float:
    """``accuracy(copy)`` of a copy of ``model`` whose lowest-scoring entries of
    ``params_of(copy)`` are deleted, one global ranking, no retraining; ``amount`` is a count
    or a fraction (as for :func:`minicompress.pruning.global_prune`), ``scores`` aligned with
    ``params_of(model)``. ``model`` itself is left unchanged."""
    pruned = copy.deepcopy(model)
    if amount:
        pruning.global_prune(params_of(pruned), amount, scores)
    return accuracy(pruned)


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
    report = Report(f"Karnin's shadow-array sensitivity (1990), seed {seed}{' (quick)' if quick else ''}",
                    [r for part in toys + [digits] for r in part["rows"]],
                    notes=[n for part in toys + [digits] for n in part["notes"]])
    report.figures += [_figure_toys(toys, out_dir / "karnin_toy_tasks.png"),
                       _figure_digits(digits, cfg, out_dir / "karnin_digits.png")]
    print(report.table())
    return report


def _toy(task: str, cfg: Config, seed: int, verbose: bool) -> dict:
    """Many small nets: Spearman(Ŝ, S) and how many parameters each criterion deletes safely."""
    from minicompress.datasets import load
    if task == "rule+exception":
        (x, y), sizes, seeds = load("rule_plus_exception"), (4, 2, 1), cfg.rpe_seeds
        x_test, y_test, tolerance = x, y, 0.0  # all 16 patterns must stay correct
    else:
        x, y = load("karnin_2d", "train", n=cfg.band_n_train, seed=seed)
        x_test, y_test = load("karnin_2d", "test", n=cfg.band_n_test, seed=seed)
        sizes, seeds, tolerance = (2, cfg.band_hidden, 1), cfg.band_seeds, 0.01
    target, loss = y[:, None].astype(np.float32), nn.MSELoss(reduction="sum")
    accuracy = lambda m: float(((m(x_test)[:, 0] > 0.5) == y_test).mean())  # noqa: E731
    say("karnin", verbose, f"{task}: {seeds} nets {'-'.join(map(str, sizes))}")
    nets = []
    for k in range(seeds):
        rng = np.random.default_rng([seed, k])
        if task == "rule+exception":
            model = sigmoid_mlp(sizes, init_scale=cfg.init_scale, rng=rng)
            solved = lambda record, m=model: bool(np.abs(m(x) - target).max() < 0.1)  # noqa: E731
            shadow = train_with_shadow(model, loss, nn.SGD(model.parameters(), lr=cfg.rpe_lr), x, target,
                                       epochs=cfg.rpe_max_epochs, stop=solved)
            ok = solved(None)
        else:
            model = sigmoid_mlp(sizes, rng=rng)
            shadow = train_with_shadow(model, loss, nn.SGD(model.parameters(), lr=cfg.band_lr,
                                                           momentum=cfg.band_momentum),
                                       x, target, epochs=cfg.band_epochs)
            ok = accuracy(model) >= cfg.band_solved
        if not ok:
            continue
        params = model.parameters()
        scores = {"karnin": shadow.sensitivity(cfg.min_change),
                  "magnitude": [np.abs(p.data) for p in params],
                  "random": [rng.random(p.shape) for p in params]}
        true = brute_force_sensitivity(model, loss, x, target)  # flat, in parameter order
        ends = np.cumsum([p.data.size for p in params])
        scores["brute force"] = [true[end - p.data.size:end].reshape(p.shape) for p, end in zip(params, ends)]
        base = accuracy(model)
        curves = {c: [deletion_accuracy(model, lambda m: m.parameters(), scores[c], n, accuracy)
                      for n in range(true.size + 1)] for c in CRITERIA}
        nets.append(dict(true=true, estimate=flat(scores["karnin"]), curves=curves,
                         spearman={c: _spearman(flat(scores[c]), true) for c in CRITERIA[:2]},
                         deletable={c: _first_failure(curves[c], base - tolerance) for c in CRITERIA}))
    rows, n = [], len(nets)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))  # weights and biases
    for c in CRITERIA:
        if c in ("karnin", "magnitude"):
            rho = [net["spearman"][c] for net in nets]
            rows.append(_row(task, c, "Spearman with the true sensitivity S", _mean(rho), _std(rho), n))
        deletable = [net["deletable"][c] for net in nets]
        rows.append(_row(task, c, f"parameters deletable (of {n_params}) keeping accuracy",
                         _mean(deletable), _std(deletable), n))
    by = {(r["method"], r["measure"][:8]): r["value"] for r in rows}
    setting = (f"plain gradient descent, lr {cfg.rpe_lr}, until every output is within 0.1 of its "
               f"target ({n} of {seeds} nets got there)" if task == "rule+exception" else
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
    below = [i for i, a in enumerate(curve) if a < threshold - 1e-12]
    return (below[0] - 1) if below else len(curve) - 1


def _digits(cfg: Config, seed: int, data: str, where: dict, verbose: bool) -> dict:
    """LeNet-300-100 over ``cfg.digits_seeds`` seeds: Ŝ vs brute force on sampled weights,
    deletion without retraining, and the cost of the shadow arrays."""
    from minicompress.datasets import load_train_test
    from minicompress.papers.magnitude import lenet_300_100
    (x, y), (x_test, y_test) = load_train_test(data, n_train=cfg.n_train, n_test=cfg.n_test,
                                               seed=seed, **where)  # the same for every seed
    regimes = {"minibatch SGD": dict(lr=cfg.lr, epochs=cfg.epochs, n=cfg.n_train, batch_size=cfg.batch_size),
               "full-batch GD": dict(lr=cfg.full_batch_lr, epochs=cfg.full_batch_epochs,
                                     n=cfg.full_batch_n, batch_size=None)}
    if not cfg.full_batch_epochs:
        del regimes["full-batch GD"]
    runs = {regime: [] for regime in regimes}  # one dict of measured numbers per seed
    for s in range(seed, seed + cfg.digits_seeds):
        rng = np.random.default_rng(s)
        initial = lenet_300_100(rng=rng)
        for regime, setting in regimes.items():
            say("karnin", verbose, f"{data}, seed {s}: LeNet-300-100, {regime} ({setting['epochs']} epochs on "
                          f"{setting['n']} images) with shadow arrays")
            runs[regime].append(_lenet_run(cfg, copy.deepcopy(initial), setting, x, y, x_test, y_test,
                                           rng, verbose))
    overhead = _overhead(cfg, initial, nn.SoftmaxCrossEntropy(), x, y, rng, verbose)
    rows = []
    for regime, seeds in runs.items():
        for key in seeds[0]["numbers"]:
            values = [r["numbers"][key] for r in seeds]
            rows.append(_row(f"{data} {regime}", *key, _mean(values), _std(values), len(values)))
    rows += overhead["rows"]
    mean = {regime: {k: _mean([r["numbers"][k] for r in seeds]) for k in seeds[0]["numbers"]}
            for regime, seeds in runs.items()}
    top, spearman = max(cfg.amounts), "Spearman with S, sampled weights"
    deleted = lambda m, c, a: m[c, f"test accuracy %, {100 * a:.0f}% of weights deleted"]  # noqa: E731
    sgd = mean["minibatch SGD"]
    notes = [f"{data}, LeNet-300-100 ({cfg.digits_seeds} seed(s): mean, std over seeds; weights only, "
             f"global ranking, no retraining; S = E(w = 0) − E(w_f) for {cfg.sampled_weights} weights "
             f"drawn at random, E the mean cross-entropy on {cfg.brute_force_n} training images, in "
             f"float64): Spearman(Ŝ, S) " + ", ".join(
                 f"{m['karnin', spearman]:.2f} with {regime} (|w|: {m['magnitude', spearman]:.2f}, "
                 f"dense test accuracy {m['dense', 'test accuracy %']:.1f}%)" for regime, m in mean.items()),
             "why Ŝ ranks poorly here: training stopped away from a minimum of E, so S is dominated "
             "by the first-order term −g·w_f, which has either sign and which the path integral "
             "does not see: " + ", ".join(
                 f"{m['S', '% of sampled weights with S < 0']:.0f}% of S < 0 and Spearman(S, −g·w_f) = "
                 f"{m['−g·w_f', 'Spearman with S (first-order term)']:.2f} ({regime})"
                 for regime, m in mean.items()),
             f"claim 'deleting by Ŝ beats random' ({100 * top:.0f}% deleted, every seed): "
             + verdict(all(deleted(r["numbers"], "karnin", top) > deleted(r["numbers"], "random", top)
                            for seeds in runs.values() for r in seeds))
             + f"; 'deleting by Ŝ is at least as good as by |w|' ({100 * top:.0f}% deleted, every "
               f"seed): " + verdict(all(deleted(r["numbers"], "karnin", top) >= deleted(r["numbers"], "magnitude", top)
                                         for seeds in runs.values() for r in seeds))
             + f" (minibatch SGD: Ŝ {deleted(sgd, 'karnin', top):.1f}% vs |w| "
               f"{deleted(sgd, 'magnitude', top):.1f}% vs random {deleted(sgd, 'random', top):.1f}%; at "
               f"{100 * min(cfg.amounts):.0f}% deleted Ŝ {deleted(sgd, 'karnin', min(cfg.amounts)):.1f}% vs "
               f"|w| {deleted(sgd, 'magnitude', min(cfg.amounts)):.1f}%, mean over seeds)",
             overhead["note"]]
    return dict(rows=rows, notes=notes, runs={r: seeds[0] for r, seeds in runs.items()}, data=data)


def _lenet_run(cfg: Config, model, setting: dict, x, y, x_test, y_test, rng, verbose: bool) -> dict:
    """Train one LeNet-300-100 with shadow arrays and measure everything of one seed."""
    loss = nn.SoftmaxCrossEntropy()
    accuracy = lambda m: 100 * evaluate(m, loss, x_test, y_test)["accuracy"]  # noqa: E731
    shadow = train_with_shadow(model, loss, nn.SGD(model.parameters(), lr=setting["lr"], momentum=0.9),
                               x[:setting["n"]], y[:setting["n"]], epochs=setting["epochs"],
                               batch_size=setting["batch_size"], rng=rng, verbose=verbose)
    weights = pruning.weights(model)
    position = [next(j for j, p in enumerate(shadow.params) if p is w) for w in weights]
    karnin = [shadow.sensitivity(cfg.min_change)[j] for j in position]
    moved = flat([np.abs(w.data - shadow.initial[j]) for w, j in zip(weights, position)])
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
               ("karnin", "Spearman with S, sampled weights"): _spearman(est, true),
               ("magnitude", "Spearman with S, sampled weights"): _spearman(mag, true),
               ("karnin", "Spearman with S, the half that moved most"): _spearman(est[most], true[most]),
               ("karnin", "Spearman with S, the half that moved least"): _spearman(est[~most], true[~most]),
               ("karnin", "Spearman of |score| with |S|"): _spearman(np.abs(est), np.abs(true)),
               ("magnitude", "Spearman of |score| with |S|"): _spearman(mag, np.abs(true)),
               ("S", "% of sampled weights with S < 0"): _pct(true < 0),
               ("−g·w_f", "Spearman with S (first-order term)"): _spearman(first_order, true)}
    scores = {"karnin": karnin, "magnitude": [np.abs(w.data) for w in weights],
              "random": [rng.random(w.shape) for w in weights]}
    for amount in cfg.amounts:
        for c, score in scores.items():
            numbers[c, f"test accuracy %, {100 * amount:.0f}% of weights deleted"] = deletion_accuracy(
                model, pruning.weights, score, amount, accuracy)
    return dict(numbers=numbers, est=est, true=true, amounts=cfg.amounts)


def _overhead(cfg: Config, initial, loss, x, y, rng, verbose: bool) -> dict:
    """Seconds per epoch with and without the wrapper, alternating; memory of the shadow arrays."""
    say("karnin", verbose, f"overhead: {cfg.timing_epochs} epochs with and {cfg.timing_epochs} without, alternating")
    seconds = {"SGD": [], "ShadowArray(SGD)": []}
    model = copy.deepcopy(initial)
    fit(model, loss, nn.SGD(model.parameters(), lr=cfg.lr), x[:cfg.timing_n], y[:cfg.timing_n],
        epochs=1, batch_size=cfg.batch_size, rng=rng, verbose=False)  # warm-up, not timed
    for _ in range(cfg.timing_epochs):
        for kind in seconds:
            optimizer = nn.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
            optimizer = ShadowArray(optimizer) if kind != "SGD" else optimizer
            start = time.perf_counter()
            fit(model, loss, optimizer, x[:cfg.timing_n], y[:cfg.timing_n], epochs=1,
                batch_size=cfg.batch_size, rng=rng, verbose=False)
            seconds[kind].append(time.perf_counter() - start)
    shadow = ShadowArray(nn.SGD(model.parameters(), lr=cfg.lr))
    extra = sum(a.nbytes for a in shadow.shadow + shadow.initial)
    weights = sum(p.data.nbytes for p in model.parameters())
    plain, wrapped = (float(np.median(seconds[k])) for k in seconds)
    rows = [_row("overhead", k, "seconds per epoch, median", float(np.median(v)),
                 float(np.std(v)), len(v)) for k, v in seconds.items()]
    rows.append(_row("overhead", "ShadowArray", "extra memory / parameter memory", extra / weights))
    note = (f"overhead: {wrapped / plain:.2f}x the time of an epoch without the wrapper ({wrapped:.2f} "
            f"vs {plain:.2f} s, median of {cfg.timing_epochs} epochs of {min(cfg.timing_n, len(x))} images, batch "
            f"{cfg.batch_size}); memory: a "
            f"float64 shadow array and a copy of the initial weights, {extra / weights:.1f}x the "
            f"float32 parameters (Karnin counts one extra array per weight: the sum; the initial "
            f"weights are the second)")
    return dict(rows=rows, note=note)


def _figure_toys(toys: list[dict], path: Path) -> Path:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 7), layout="constrained")
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
    return save_figure(fig, path)


def _figure_digits(digits: dict, cfg: Config, path: Path) -> Path:
    from matplotlib.figure import Figure
    from matplotlib.ticker import SymmetricalLogLocator
    fig = Figure(figsize=(4 * (len(digits["runs"]) + 1), 4), layout="constrained")
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
               title=f"{regime}: Spearman {_spearman(run['est'], run['true']):.2f}")
    ax = axes[-1]
    for (regime, run), style in zip(digits["runs"].items(), ("-", "--")):
        for c, colour in zip(("karnin", "magnitude", "random"), ("C0", "C1", "C2")):
            ax.plot([100 * a for a in cfg.amounts],
                    [run["numbers"][c, f"test accuracy %, {100 * a:.0f}% of weights deleted"] for a in cfg.amounts],
                    style + "o", color=colour, markersize=4, label=f"{c}, {regime}")
    ax.set(xlabel="weights deleted % (global, no retraining)", ylabel="test accuracy %",
           title=f"LeNet-300-100, {digits['data']}, first seed")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def _row(experiment: str, method: str, measure: str, value, spread=np.nan, n=None) -> dict:
    """One number of the report (the experiments measure different things: one row each)."""
    return dict(experiment=experiment, method=method, measure=measure, value=float(value),
                spread=float(spread), n="" if n is None else int(n))


def _spearman(a, b) -> float:
    """Spearman's rank correlation; NaN if either side is constant (no ranking to compare)."""
    from scipy.stats import spearmanr
    a, b = np.asarray(a), np.asarray(b)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])


def _pct(flags) -> float:
    return float(100 * np.mean(flags)) if np.size(flags) else np.nan


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else np.nan


def _std(values) -> float:
    """Population std over seeds or nets; NaN for fewer than two (no spread to report)."""
    return float(np.std(values)) if len(values) > 1 else np.nan




if __name__ == "__main__":
    command_line(reproduce, __doc__)
