"""Skeletonization: trim the units whose removal would change the error least.

M. C. Mozer, P. Smolensky, "Skeletonization: a technique for trimming the fat from a network via
relevance assessment", Advances in Neural Information Processing Systems 1 (NIPS 1988),
pp. 107-115, Morgan Kaufmann, 1989.

The idea: give every input and hidden unit i a gate α_i (α = 1 is the trained network, α_i = 0
removes unit i); the error lost without the unit is its relevance, estimated from one backward
pass as −∂E/∂α_i at α = 1 with the *linear* error, smoothed over training sweeps. Train to
criterion, delete the least relevant unit, retrain, repeat: a large network trimmed down learns
more reliably than the small one trained from the start, and what is left is easier to read.
The gates, the linear error, ρ̂ and ρ are in :mod:`minicompress.pruning.gates`; here the method.

Equations. The paper's equations are unnumbered and could not be checked against the PDF here;
the tags name the step of the method as the secondary sources describe it (Reed & Marks,
"Neural Smithing", ch. 13; the SNNS manual and its PRUNE_Skeletonization code):
  gated unit       x_j = f(Σ_i w_ji α_i x_i)                                   [M&S: gates]
  relevance        ρ_i = E(α_i = 0) − E(α_i = 1)                               [M&S: relevance]
  estimate         ρ̂_i = −∂E/∂α_i |α=1 = −Σ_p x_i^p Σ_j w_ji ∂E/∂a_j^p          [M&S: approximation]
  linear error     E^l = Σ_p Σ_j |t_pj − o_pj|,  ∂E^l/∂o = sign(o − t)          [M&S: linear error]
  smoothing        ρ̂_i ← 0.8 ρ̂_i + 0.2 · (−∂E^l/∂α_i), once per sweep          [M&S: averaging]
(ρ̂ > 0 for a unit whose removal raises the error). Why the linear error: the quadratic error's
derivative 2(o − t) vanishes as the outputs reach their targets, so at convergence every unit
looks irrelevant; sign(o − t) keeps its size. Measured below: at convergence |ρ̂| with the
quadratic error is about 1/20 of |ρ̂| with the linear error; after the first sweep about equal.

Deviations. The paper's learning rate, momentum, initial weights and criterion are not known:
full-batch gradient descent on E = Σ(t − o)² (no ½; our lr 0.5 is lr 1.0 on the PDP books'
½Σ(t − o)²), weights and biases from U(−0.5, 0.5), criterion "every output within 0.1 of its
target". Our rule tells "rule" and "exception" hidden units apart: activations thresholded at
0.5, the unit's minority value on exactly the 4 patterns A = B = 1, or on exactly 0000. Only
the first hidden layer is trimmed, by physical surgery (:func:`remove_unit`); input units are
scored, not removed. Ours, after the paper's input-unit demonstrations: input relevance of a
784-100-10 ReLU net trained with cross-entropy on digits (linear error of its softmax outputs,
averaged every 10 minibatch steps on a fixed subset).

Results (full run, seed 0; tables and notes of ``reproduce``): rule-plus-exception, 75 of 100
nets reach criterion, all split into a rule and an exception unit; ρ̂ (linear) ranks the rule
unit first in 95% (true ρ 93%, quadratic ρ̂ 53%); the multiplexer, 50 nets per route, failures
of 4 hidden units from scratch vs 8 trimmed to 4 by relevance: 11 vs 1 (lr 0.5, no momentum),
7 vs 0 (lr 0.25, momentum 0.5), 9 vs 6 (lr 0.125, momentum 0.9): the advantage shrinks with
heavy momentum, as the prototype found; trimming a random unit fails most (23, 7, 16), trimming
by outgoing |w| as rarely as by relevance (0, 0, 2). Digits (784-100-10, 92.0% test accuracy):
gating off the most relevant half of the pixels leaves 38.7%, a random half 69.8%; Spearman of
ρ̂ with the true input relevance 0.84 at the final weights, 0.56 for the running average (it
lags behind weights that still move). Full run: about 150 s of CPU.

Run: ``python -m minicompress.reproductions.mozer1988_skeletonization [--quick] [--seed 0]`` (or
``minicompress reproduce skeletonization``). Quick run, seed 0 (about 15 s of one core): rule
unit first in 95% of 20 nets (quadratic error: 45%); |ρ̂ quadratic|/|ρ̂ linear| 1.00 after the
first sweep, 0.059 at convergence; multiplexer failures of 20: 6 from scratch, 1 by relevance,
1 by |w|, 14 random; digits: gating off the most relevant half of the pixels leaves 23.5% test
accuracy, a random half 63.1% (no retraining).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from minicompress import nn
from minicompress.datasets import load, load_train_test
from minicompress.nn.checks import positive_int
from minicompress.pruning.gates import (ERRORS, LinearError, RelevanceTracker, ema, error_function, gate,
                                       gates, relevance_estimate, remove_unit, require_gates, trainable,
                                       true_relevance)
from minicompress.reproductions.experiment import (assemble, criterion_met, deletion_accuracy, figure, flat,
                                                   iqr, mean, median, pct, row, spearman,
                                                   std, train_to_criterion)
from minicompress.models import sigmoid_mlp
from minicompress.report import Report
from minicompress.reproductions.experiment import command_line, save_figure, say, verdict
from minicompress.rng import as_rng
from minicompress.train import evaluate, fit

__all__ = ["Config", "ERRORS", "LinearError", "error_function", "relevance_estimate", "true_relevance",
           "ema", "RelevanceTracker", "gated_mlp", "criterion_met", "train_to_criterion", "remove_unit",
           "skeletonize", "reproduce"]

ROUTES = ("scratch", "relevance", "magnitude", "random")  # of the multiplexer experiment


@dataclass(frozen=True)
class Config:
    """Settings of the three experiments (the paper gives few: see Deviations)."""

    init_scale: float = 0.5  # weights and biases drawn from U(−0.5, 0.5)
    margin: float = 0.1  # criterion: every output within 0.1 of its 0/1 target
    decay: float = 0.8  # relevance average: ρ̂ ← 0.8 ρ̂ + 0.2 (−∂E^l/∂α)   [M&S: averaging]
    # rule-plus-exception, 4-2-1 sigmoid network
    rpe_seeds: int = 100
    rpe_lr: float = 0.25  # on Σ(t − o)²: 0.5 on the ½Σ(t − o)² of the PDP books
    rpe_momentum: float = 0.9
    rpe_max_epochs: int = 3000
    # 4-bit multiplexer: 4 hidden from scratch vs 8 trimmed to 4
    mux_seeds: int = 50
    # (lr on Σ(t − o)², momentum): plain gradient descent, then more and more momentum
    mux_settings: tuple = ((0.5, 0.0), (0.25, 0.5), (0.125, 0.9))
    mux_max_epochs: int = 5000  # per training stage (initial training, each retraining)
    mux_hidden: int = 8
    mux_target: int = 4
    # input relevance on synthetic digits, 784-hidden-10 ReLU
    digits_n_train: int = 10_000
    digits_n_test: int = 2_000
    digits_hidden: int = 100
    digits_epochs: int = 10
    digits_batch_size: int = 64
    digits_lr: float = 0.05  # SGD, momentum 0.9, softmax cross-entropy
    digits_relevance_subset: int = 500  # training images the relevance is measured on ...
    digits_relevance_every: int = 10  # ... every 10 steps (each costs a pass over them)
    digits_removed: tuple = (0.5, 0.75, 0.9)  # fractions of input pixels gated off

    @classmethod
    def quick(cls) -> "Config":
        return cls(rpe_seeds=30, rpe_max_epochs=1000, mux_seeds=20, mux_settings=((0.5, 0.0),),
                   mux_max_epochs=2000, digits_n_train=3_000, digits_n_test=1_000, digits_epochs=4,
                   digits_relevance_subset=200)


# ----- the method ----------------------------------------------------------------------------
def gated_mlp(sizes, *, init_scale: float = 0.5, rng=None, dtype=np.float32) -> nn.Sequential:
    """A gated sigmoid MLP, e.g. sizes (4, 2, 1): Gate(4), Linear(4, 2), Sigmoid, Gate(2),
    Linear(2, 1), Sigmoid; weights and biases from U(−init_scale, init_scale)."""
    if len(sizes) < 2:
        raise ValueError(f"gated_mlp: sizes needs an input and an output size, got {sizes!r}")
    return gate(sigmoid_mlp(sizes, init_scale=init_scale, rng=rng, dtype=dtype))


def skeletonize(model, x, target, n_units: int, *, lr: float, momentum: float, margin: float,
                max_epochs: int, choose: str = "relevance", decay: float = 0.8, rng=None):
    """Mozer & Smolensky's loop on the first hidden layer: train to criterion, delete one unit,
    retrain, until ``n_units`` are left.

    ``choose``: "relevance" (least ρ̂, linear error, smoothed during the last training),
    "magnitude" (least Σ_j |w_ji| outgoing) or "random" (the baselines).

    Returns (model, total epochs, criterion met at the end); stops early if a stage fails.
    """
    if choose not in ROUTES[1:]:
        raise ValueError(f"skeletonize: choose must be relevance, magnitude or random, got {choose!r}")
    if len(require_gates(model, "skeletonize")) < 2:
        raise ValueError("skeletonize: the model has no hidden layer to trim")
    positive_int(n_units, "skeletonize", "n_units")
    rng, total = as_rng(rng), 0
    while True:
        tracker = RelevanceTracker(model, x, target, decay=decay) if choose == "relevance" else None
        epochs, ok = train_to_criterion(model, x, target, lr=lr, momentum=momentum, margin=margin,
                                        max_epochs=max_epochs, on_step=tracker)
        total, hidden = total + epochs, gates(model)[1]
        if not ok or hidden.units <= n_units:
            return model, total, ok
        if choose == "relevance":
            unit = int(np.argmin(tracker.relevance[1]))
        elif choose == "magnitude":
            consumer = model.layers[model.layers.index(hidden) + 1]
            unit = int(np.argmin(np.abs(consumer.weight.value()).sum(axis=0)))
        else:
            unit = int(rng.integers(hidden.units))
        model = remove_unit(model, 1, unit)


# ----- the reproduction ------------------------------------------------------------------------
def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None,
              data_dir=None, verify: bool = True, config: Config | None = None,
              verbose: bool = True) -> Report:
    """Rule-plus-exception, the multiplexer and input relevance on digits; table and figures.

    ``data``: the image set of the digits experiment, "synth_digits" (default) or another name
    :func:`minicompress.datasets.load_train_test` knows ("mnist_test_split" with ``data_dir``).
    """
    cfg = config or (Config.quick() if quick else Config())
    out_dir = Path(out_dir or Path("out") / "skeletonization")
    out_dir.mkdir(parents=True, exist_ok=True)
    rpe, mux = _rule_plus_exception(cfg, seed, verbose), _multiplexer(cfg, seed, verbose)
    digits = _digits(cfg, seed, data or "synth_digits", dict(data_dir=data_dir, verify=verify), verbose)
    return assemble(f"Skeletonization (Mozer & Smolensky 1988), seed {seed}{' (quick)' if quick else ''}",
                    [rpe, mux, digits], _figures(rpe, mux, digits, cfg, out_dir))


def _rule_plus_exception(cfg: Config, seed: int, verbose: bool) -> dict:
    """Many 4-2-1 nets trained to criterion; relevance of the rule and the exception unit."""
    x, y = load("rule_plus_exception")
    target = y[:, None].astype(np.float32)
    roles = {frozenset(np.flatnonzero(x[:, 0] * x[:, 1])): "rule", frozenset([0]): "exception"}
    say("skeletonization", verbose, f"rule-plus-exception: {cfg.rpe_seeds} nets 4-2-1, each trained to criterion")
    nets = []
    for k in range(cfg.rpe_seeds):
        model = gated_mlp((4, 2, 1), init_scale=cfg.init_scale, rng=np.random.default_rng([seed, k]))
        trackers = [RelevanceTracker(model, x, target, error, cfg.decay) for error in ERRORS]
        path = []  # hidden units' (linear ρ̂, quadratic ρ̂) after every sweep

        def after_sweep(step, trackers=trackers, path=path):
            for tracker in trackers:
                tracker()
            path.append([tracker.relevance[1] for tracker in trackers])
        _, ok = train_to_criterion(model, x, target, lr=cfg.rpe_lr, momentum=cfg.rpe_momentum,
                                   margin=cfg.margin, max_epochs=cfg.rpe_max_epochs, on_step=after_sweep)
        if not ok:
            continue
        model(x)
        active = model.layers[2].cache["y"] > 0.5  # (16 patterns, 2 units)
        # a unit's role: the patterns on which it takes its minority value
        role = [roles.get(frozenset(np.flatnonzero(a != (a.sum() > 8)))) for a in active.T]
        linear, quadratic = (tracker.relevance for tracker in trackers)
        rho = true_relevance(model, x, target)
        scatter = (flat(linear), flat(rho))
        nets.append(dict(seed=k, role=role, path=np.array(path), linear=linear[1],
                         quadratic=quadratic[1], true=rho[1], spearman=spearman(*scatter), scatter=scatter))
    split = [net for net in nets if sorted(map(str, net["role"])) == ["exception", "rule"]]
    add, rows, n = partial(row, "rule+exception"), [], len(split)
    for key, method in (("linear", "ρ̂, linear error"), ("true", "ρ, true (linear error)"),
                        ("quadratic", "ρ̂, quadratic error")):
        rule, exception = (np.array([net[key][net["role"].index(r)] for net in split])
                           for r in ("rule", "exception"))
        ratio = rule / np.abs(exception)
        rows += [add(method, "% of nets: rule unit above exception unit", pct(rule > exception), n=n),
                 add(method, "ρ(rule) / |ρ(exception)|, median (IQR)", median(ratio), iqr(ratio), n),
                 add(method, "mean |ρ| of the 2 hidden units at convergence",
                     mean(np.abs(np.r_[rule, exception])), n=n)]
    # quadratic / linear size of ρ̂ after the first sweep and at convergence: the fading
    fade = np.array([[np.abs(net["path"][i, 1]).mean() / np.abs(net["path"][i, 0]).mean()
                      for i in (0, -1)] for net in split]).reshape(-1, 2)
    rhos = [net["spearman"] for net in nets]
    rows += [add("ρ̂ quadratic / ρ̂ linear", f"mean |ρ̂| ratio {when}", mean(f), std(f), n)
             for when, f in (("after sweep 1", fade[:, 0]), ("at convergence", fade[:, 1]))]
    rows.append(add("ρ̂ linear vs ρ", "Spearman over each net's 6 gates", mean(rhos), std(rhos),
                    len(nets)))
    first = rows[0]["value"]
    notes = [f"rule-plus-exception: {len(nets)} of {cfg.rpe_seeds} nets reached the criterion (lr "
             f"{cfg.rpe_lr} on Σ(t − o)², momentum {cfg.rpe_momentum}, at most {cfg.rpe_max_epochs} "
             f"sweeps); {n} have a rule and an exception unit; spread = IQR or std over nets",
             "claim 'the rule unit is more relevant than the exception unit' (ρ̂, linear error, in "
             "at least 90% of the nets): " + verdict(first >= 90) + f" ({first:.0f}% of nets; true "
             f"ρ: {rows[3]['value']:.0f}%, ρ̂ with the quadratic error: {rows[6]['value']:.0f}%)",
             "claim 'quadratic-error relevance fades at convergence, linear-error relevance does "
             "not': " + verdict(mean(fade[:, 1]) < 0.25 * mean(fade[:, 0]))
             + f" (|ρ̂ quadratic| / |ρ̂ linear| = {mean(fade[:, 0]):.2f} after the first sweep, "
             f"{mean(fade[:, 1]):.3f} at convergence)"]
    return dict(rows=rows, notes=notes, nets=nets, split=split)


def _multiplexer(cfg: Config, seed: int, verbose: bool) -> dict:
    """4 hidden units from scratch vs 8 trimmed to 4 (by ρ̂, |w_out|, at random); per setting."""
    x, y = load("multiplexer")
    target = y[:, None].astype(np.float32)
    rows, notes, counts = [], [], {}
    for lr, momentum in cfg.mux_settings:
        common = dict(lr=lr, momentum=momentum, margin=cfg.margin, max_epochs=cfg.mux_max_epochs)
        add = partial(row, f"multiplexer lr {lr} mom {momentum}")
        for route in ROUTES:
            say("skeletonization", verbose, f"multiplexer lr {lr} momentum {momentum}: {route}, {cfg.mux_seeds} nets")
            epochs = []  # of the nets that reached the criterion
            for k in range(cfg.mux_seeds):
                rng = np.random.default_rng([seed, k])
                hidden = cfg.mux_target if route == "scratch" else cfg.mux_hidden
                model = gated_mlp((6, hidden, 1), init_scale=cfg.init_scale, rng=rng)
                if route == "scratch":
                    n_epochs, ok = train_to_criterion(model, x, target, **common)
                else:
                    _, n_epochs, ok = skeletonize(model, x, target, cfg.mux_target, choose=route,
                                                  decay=cfg.decay, rng=rng, **common)
                epochs += [n_epochs] if ok else []
            failed = counts[lr, momentum, route] = cfg.mux_seeds - len(epochs)
            method = (f"{cfg.mux_target} hidden from scratch" if route == "scratch" else
                      f"{cfg.mux_hidden} -> {cfg.mux_target} by {route}")
            rows += [add(method, "failures (nets)", failed, n=cfg.mux_seeds),
                     add(method, "epochs to criterion, median (IQR)", median(epochs), iqr(epochs),
                         len(epochs))]
        fails = {route: counts[lr, momentum, route] for route in ROUTES}
        notes.append(f"multiplexer, lr {lr} on Σ(t − o)², momentum {momentum}: claim 'trimming 8 to 4 "
                     f"by relevance fails less often than 4 from scratch': "
                     + verdict(fails["relevance"] < fails["scratch"]) + f" ({fails['relevance']} vs "
                     f"{fails['scratch']} failures of {cfg.mux_seeds}; random trimming {fails['random']}, "
                     f"outgoing |w| {fails['magnitude']})")
    notes.append(f"multiplexer: a failure is a net (or any of its retraining stages) not reaching the "
                 f"criterion in {cfg.mux_max_epochs} sweeps; epochs count every stage of successful runs")
    return dict(rows=rows, notes=notes, counts=counts)


def _digits(cfg: Config, seed: int, data: str, where: dict, verbose: bool) -> dict:
    """Input-pixel relevance of a gated 784-hidden-10 ReLU net trained with cross-entropy."""
    (x, y), (x_test, y_test) = load_train_test(data, n_train=cfg.digits_n_train,
                                               n_test=cfg.digits_n_test, seed=seed, **where)
    rng = np.random.default_rng(seed)
    model = gate(nn.Sequential(nn.Flatten(), nn.Linear(784, cfg.digits_hidden, rng=rng), nn.ReLU(),
                               nn.Linear(cfg.digits_hidden, 10, rng=rng)))
    n = cfg.digits_relevance_subset
    xs, ts, error = x[:n], nn.one_hot(y[:n], 10), LinearError(softmax=True)  # of the softmax outputs
    tracker = RelevanceTracker(model, xs, ts, error, cfg.decay, every=cfg.digits_relevance_every)
    loss = nn.SoftmaxCrossEntropy()
    say("skeletonization", verbose, f"{data}: training a 784-{cfg.digits_hidden}-10 net, tracking input relevance")
    fit(model, loss, nn.SGD(trainable(model), lr=cfg.digits_lr, momentum=0.9), x, y,
        epochs=cfg.digits_epochs, batch_size=cfg.digits_batch_size, rng=rng, verbose=verbose,
        on_step=tracker)
    smoothed, final = tracker.relevance[0], relevance_estimate(model, xs, ts, error)[0]
    say("skeletonization", verbose, "true input relevance: one forward pass per pixel")
    true = true_relevance(model, xs, ts, error)[0]
    accuracy = lambda m: 100 * evaluate(m, loss, x_test, y_test)["accuracy"]  # noqa: E731
    # pixels gated off lowest score first, no retraining (random: the ranks of a random order)
    scores = {"least ρ̂ first": smoothed, "least |ρ̂| first": np.abs(smoothed),
              "most ρ̂ first": -smoothed, "random": np.argsort(rng.permutation(784))}
    add, dense, half = partial(row, f"{data} input relevance"), accuracy(model), 100 * cfg.digits_removed[0]
    rows, by = [add("no pixel removed", "test accuracy %", dense)], {}
    for method, score in scores.items():
        for fraction in cfg.digits_removed:
            kept = deletion_accuracy(model, lambda m: [gates(m)[0].alpha], [score], fraction, accuracy)
            rows.append(add(method, f"test accuracy %, {100 * fraction:.0f}% of pixels gated off", kept))
            by.setdefault(method, kept)  # at the first fraction
    rhos = (spearman(smoothed, true), spearman(final, true))
    rows += [add("ρ̂ averaged vs ρ", "Spearman over the 784 pixels", rhos[0]),
             add("ρ̂ final vs ρ", "Spearman over the 784 pixels", rhos[1])]
    notes = [f"{data}: {cfg.digits_n_train} training images, {cfg.digits_epochs} epochs, test "
             f"accuracy {dense:.1f}%; relevance on {n} training images with the linear error of the "
             f"softmax outputs, averaged 0.8/0.2 every {cfg.digits_relevance_every} SGD steps. "
             f"Spearman with the true relevance: {rhos[0]:.2f} (averaged ρ̂), {rhos[1]:.2f} "
             f"(ρ̂ at the final weights)",
             f"claim 'relevance finds the critical inputs' (gating off the most relevant {half:.0f}% "
             f"hurts more than a random {half:.0f}%): " + verdict(by["most ρ̂ first"] < by["random"])
             + f" ({by['most ρ̂ first']:.1f}% vs {by['random']:.1f}%). Deleting the least relevant "
             f"first by the signed ρ̂ ({by['least ρ̂ first']:.1f}%) is "
             + ("worse" if by["least ρ̂ first"] < by["random"] else "no worse")
             + f" than random: it deletes first the pixels with ρ̂ < 0 (the estimate says the "
             f"error falls without them, one at a time), which together carry information; by "
             f"|ρ̂| it keeps {by['least |ρ̂| first']:.1f}%. Deleting half the inputs at once without "
             f"retraining is not the paper's one-unit-at-a-time procedure"]
    return dict(rows=rows, notes=notes, smoothed=smoothed, true=true, data=data,
                mean_image=xs.reshape(-1, 784).mean(axis=0))


def _figures(rpe: dict, mux: dict, digits: dict, cfg: Config, out_dir: Path) -> list[Path]:
    """Relevance while training and ρ̂ vs ρ; multiplexer failures; the digits' relevance maps."""
    fig = figure(10, 4)
    ax, ax2 = fig.subplots(1, 2)
    if rpe["split"]:
        net = rpe["split"][0]
        for column, style, error in ((0, "-", "linear"), (1, "--", "quadratic")):
            for unit, role in enumerate(net["role"]):
                ax.plot(net["path"][:, column, unit], style, color="C0" if role == "rule" else "C1",
                        label=f"{role} unit, {error} error")
        ax.set(xlabel="sweep", ylabel="ρ̂ (0.8/0.2 average)",
               title=f"rule+exception net {net['seed']}: relevance while training")
        ax.legend(fontsize=7)
    est, true = (flat([net["scatter"][i] for net in rpe["nets"]] or [np.zeros(0)]) for i in (0, 1))
    ax2.scatter(true, est, s=8, alpha=0.5)
    ax2.set(xlabel="true relevance ρ = E^l(α=0) − E^l(α=1)", ylabel="estimate ρ̂ (linear error)",
            title=f"all gates of {len(rpe['nets'])} converged nets")
    paths = [save_figure(fig, out_dir / "skeletonization_rule_plus_exception.png")]
    fig = figure(7, 4)
    ax, width, where = fig.subplots(), 0.8 / len(ROUTES), np.arange(len(cfg.mux_settings))
    for j, route in enumerate(ROUTES):
        rates = [100 * mux["counts"][lr, m, route] / cfg.mux_seeds for lr, m in cfg.mux_settings]
        ax.bar(where + j * width, rates, width, label=route)
    ax.set_xticks(where + 0.4 - width / 2, [f"lr {lr}, momentum {m}" for lr, m in cfg.mux_settings])
    ax.set(ylabel=f"failures (% of {cfg.mux_seeds} nets)",
           title=f"4-bit multiplexer: {cfg.mux_target} hidden from scratch vs {cfg.mux_hidden} trimmed")
    ax.legend(fontsize=8)
    paths.append(save_figure(fig, out_dir / "skeletonization_multiplexer.png"))
    fig = figure(10, 3.6)
    panels = ((digits["smoothed"], "ρ̂, 0.8/0.2 average"), (digits["true"], "true ρ"),
              (digits["mean_image"], "mean input"))
    for ax, (image, title) in zip(fig.subplots(1, 3), panels):
        limit, signed = np.abs(image).max() or 1.0, image.min() < 0
        shown = ax.imshow(image.reshape(28, 28), cmap="RdBu_r" if signed else "gray_r",
                          vmin=-limit if signed else 0, vmax=limit)
        ax.set(title=f"{digits['data']}: {title}", xticks=[], yticks=[])
        fig.colorbar(shown, ax=ax, shrink=0.8)
    return paths + [save_figure(fig, out_dir / "skeletonization_digits_input_relevance.png")]


if __name__ == "__main__":
    command_line(reproduce, __doc__)
