"""Skeletonization (Mozer & Smolensky 1988): relevance of rule and exception units, the linear
error at convergence, trimming the multiplexer net, and the critical inputs of digits.

The method is in :mod:`minicompress.papers.mozer1988_skeletonization`. Experiments: (1)
rule-plus-exception (y = AB ∨ ¬A¬B¬C¬D), many 4-2-1 sigmoid nets trained to criterion: in those
whose hidden units split into a "rule" and an "exception" unit, is the rule unit more relevant
(ρ̂ with the linear error, the true ρ, ρ̂ with the quadratic error), and how does the
quadratic-error ρ̂ fade at convergence? (2) The 4-bit multiplexer: 4 hidden units from scratch
vs 8 trimmed one at a time to 4 (retrained to criterion after each removal) by relevance, by
outgoing |w|, at random: how many nets never reach the criterion
(:mod:`.mozer1988_skeletonization_multiplexer`). (3) Input relevance of a 784-100-10 ReLU net on
digits (ours, after the paper's input-unit demos): gating off the most relevant pixels vs a
random set, no retraining (:mod:`.mozer1988_skeletonization_digits`).

Deviations. The paper's learning rate, momentum, initial weights and criterion are not known:
full-batch gradient descent on Σ(t − o)² (our lr 0.25 is the PDP books' 0.5 on ½Σ(t − o)²),
U(−0.5, 0.5) initial weights, every output within 0.1 of its target. A hidden unit's role: its
activations thresholded at 0.5 take their minority value on exactly the 4 patterns A = B = 1
(rule) or on exactly 0000 (exception). Only the first hidden layer is trimmed; input units are
scored, not removed. The multiplexer's advantage depends on the setting (large with plain
gradient descent, small with heavy momentum): the full run reports three. The digits net is
trained with cross-entropy: :mod:`.mozer1988_skeletonization_digits` says how.

Quick run: the full run's 10,000 digits and 5 of its 10 epochs (90% against 92%);
rule-plus-exception nets are trained first without tracking relevance (which does not change
training) and tracked only if they converge, so 48 nets fit the budget; the multiplexer runs the
headline setting without the random route.

Exception. "Rule unit above exception unit in ≥ 90% of the nets" is a rate over ~25 nets per
quick seed. In about 1 net of 20 the exception unit has the opposite polarity (active on the
15 other patterns, inhibiting the output there), so removing it breaks 10 patterns (ρ ≈ 10
against 3.9 for the rule unit), and ρ̂ agrees with ρ. Over quick seeds 0-9 the rule unit came
first in 95.5% of 242 nets, but in seed 4 in 17 of 19 (89%) and in seed 5 in 21 of 26 (81%).

Results: the reference full run in ``minicompress/results``. Run ``minicompress reproduce
skeletonization [--quick] [--seeds 0-9] [--data ...]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from minicompress.datasets import load
from minicompress.models import sigmoid_mlp
from minicompress.papers.mozer1988_skeletonization import ERRORS, RelevanceTracker, true_relevance
from minicompress.pruning.gates import gate
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import (command_line, figure, flat, iqr, load_data, mean, median, pct,
                                                   row, save_figure, say, spearman, std, train_to_criterion,
                                                   value_of)
from minicompress.reproductions.mozer1988_skeletonization_digits import (  # (3), the digits' input relevance
    digits_claims, digits_experiment, digits_figure)
from minicompress.reproductions.mozer1988_skeletonization_multiplexer import (  # (2), the multiplexer
    ROUTES, multiplexer, multiplexer_claims, multiplexer_figure)
FIRST = "% of nets: rule unit above exception unit"
ESTIMATES = {"linear": "ρ̂, linear error", "true": "ρ, true (linear error)", "quadratic": "ρ̂, quadratic error"}


@dataclass(frozen=True)
class Config:
    """Settings of the three experiments (the paper gives few: see Deviations)."""

    init_scale: float = 0.5  # weights and biases drawn from U(−0.5, 0.5)
    margin: float = 0.1  # criterion: every output within 0.1 of its 0/1 target
    decay: float = 0.8  # relevance average: ρ̂ ← 0.8 ρ̂ + 0.2 (−∂E^l/∂α)   [M&S: averaging]
    rpe_seeds: int = 100  # rule-plus-exception, 4-2-1 sigmoid nets
    rpe_lr: float = 0.25  # on Σ(t − o)²: 0.5 on the ½Σ(t − o)² of the PDP books
    rpe_momentum: float = 0.9
    rpe_max_epochs: int = 3000
    mux_seeds: int = 50  # 4-bit multiplexer: 4 hidden from scratch vs 8 trimmed to 4
    mux_settings: tuple = ((0.5, 0.0), (0.25, 0.5), (0.125, 0.9))  # (lr on Σ(t − o)², momentum)
    mux_max_epochs: int = 5000  # per training stage (initial training, each retraining)
    mux_hidden: int = 8
    mux_target: int = 4
    mux_routes: tuple = ROUTES  # 4 from scratch; 8 trimmed by relevance, by outgoing |w|, at random
    n_train: int = 10_000  # input relevance on digits, 784-hidden-10 ReLU
    n_test: int = 2_000
    digits_hidden: int = 100
    digits_epochs: int = 10
    digits_batch_size: int = 64
    digits_lr: float = 0.05  # SGD, momentum 0.9, softmax cross-entropy
    digits_relevance_subset: int = 500  # training images the relevance is measured on ...
    digits_relevance_every: int = 10  # ... every 10 steps (each costs a pass over them)
    digits_removed: tuple = (0.5, 0.75, 0.9)  # fractions of input pixels gated off

    @classmethod
    def quick(cls) -> "Config":
        return cls(rpe_seeds=48, rpe_max_epochs=500, mux_seeds=20, mux_settings=((0.5, 0.0),), mux_max_epochs=2000,
                   mux_routes=ROUTES[:3], digits_epochs=5, digits_relevance_subset=200)


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, out_dir=None, data_dir=None,
              verify: bool = True, config: Config | None = None, verbose: bool = True) -> Report:
    """The three experiments; table, figures, claims. ``data``: the digits' image set (any name
    :func:`~minicompress.reproductions.experiment.load_data` knows, e.g. "mnist_test_split")."""
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("skeletonization", cfg, data, out_dir, data_dir, verify)
    parts = [_rule_plus_exception(cfg, seed, verbose), multiplexer(cfg, seed, verbose),
             digits_experiment(cfg, seed, data, train_set, test_set, verbose)]
    rows = [r for part in parts for r in part["rows"]]
    figures = [_figure(parts[0], out_dir), multiplexer_figure(parts[1], cfg, out_dir),
               digits_figure(parts[2], out_dir)]
    report = Report(f"Skeletonization (Mozer & Smolensky 1988), seed {seed}{' (quick)' if quick else ''}",
                    rows, figures, [n for part in parts for n in part["notes"]],
                    claims(rows, cfg.mux_settings, data, cfg.mux_routes), data)
    if verbose:
        print(report.table())
    return report


def _rule_plus_exception(cfg: Config, seed: int, verbose: bool) -> dict:
    """Many 4-2-1 nets trained to criterion; relevance of the rule and the exception unit."""
    x, y = load("rule_plus_exception")
    target = y[:, None].astype(np.float32)
    roles = {frozenset(np.flatnonzero(x[:, 0] * x[:, 1])): "rule", frozenset([0]): "exception"}
    say("skeletonization", verbose, f"rule-plus-exception: {cfg.rpe_seeds} nets 4-2-1, each trained to criterion")
    nets = []
    train = partial(train_to_criterion, x=x, target=target, lr=cfg.rpe_lr, momentum=cfg.rpe_momentum,
                    margin=cfg.margin, max_epochs=cfg.rpe_max_epochs)
    for k in range(cfg.rpe_seeds):
        net = lambda: gate(sigmoid_mlp((4, 2, 1), init_scale=cfg.init_scale, rng=np.random.default_rng([seed, k])))  # noqa: E731
        if not train(net())[1]:  # tracking relevance does not change training: track only the nets that converge
            continue
        model, path = net(), []  # path: hidden units' (linear ρ̂, quadratic ρ̂) after every sweep
        trackers = [RelevanceTracker(model, x, target, error, cfg.decay) for error in ERRORS]

        def after_sweep(step, trackers=trackers, path=path):
            for tracker in trackers:
                tracker()
            path.append([tracker.relevance[1] for tracker in trackers])
        if not train(model, on_step=after_sweep)[1]:
            raise RuntimeError(f"skeletonization: rule-plus-exception net {k} converged only without tracking")
        model(x)
        active = model.layers[2].cache["y"] > 0.5  # (16 patterns, 2 units)
        # a unit's role: the patterns on which it takes its minority value
        role = [roles.get(frozenset(np.flatnonzero(a != (a.sum() > 8)))) for a in active.T]
        (linear, quadratic), rho = (t.relevance for t in trackers), true_relevance(model, x, target)
        scatter = (flat(linear), flat(rho))
        nets.append(dict(seed=k, role=role, path=np.array(path), linear=linear[1], quadratic=quadratic[1],
                         true=rho[1], spearman=spearman(*scatter), scatter=scatter))
    split = [net for net in nets if sorted(map(str, net["role"])) == ["exception", "rule"]]
    add, rows, n = partial(row, "rule+exception"), [], len(split)
    for key, method in ESTIMATES.items():
        rule, exception = (np.array([net[key][net["role"].index(r)] for net in split]) for r in ("rule", "exception"))
        ratio = rule / np.abs(exception)
        rows += [add(method, FIRST, pct(rule > exception), n=n),
                 add(method, "ρ(rule) / |ρ(exception)|, median (IQR)", median(ratio), iqr(ratio), n),
                 add(method, "mean |ρ| of the 2 hidden units at convergence", mean(np.abs(np.r_[rule, exception])), n=n)]
    # quadratic / linear size of ρ̂ after the first sweep and at convergence: the fading
    fade = np.array([[np.abs(net["path"][i, 1]).mean() / np.abs(net["path"][i, 0]).mean() for i in (0, -1)]
                     for net in split]).reshape(-1, 2)
    rows += [add("ρ̂ quadratic / ρ̂ linear", f"mean |ρ̂| ratio {when}", mean(f), std(f), n)
             for when, f in (("after sweep 1", fade[:, 0]), ("at convergence", fade[:, 1]))]
    rhos = [net["spearman"] for net in nets]
    rows.append(add("ρ̂ linear vs ρ", "Spearman over each net's 6 gates", mean(rhos), std(rhos), len(nets)))
    notes = [f"rule-plus-exception: {len(nets)} of {cfg.rpe_seeds} nets reached the criterion (lr {cfg.rpe_lr} on "
             f"Σ(t − o)², momentum {cfg.rpe_momentum}, at most {cfg.rpe_max_epochs} sweeps); {n} have a rule and "
             f"an exception unit; spread = IQR or std over nets"]
    return dict(rows=rows, notes=notes, nets=nets, split=split)


# ----- claims: pure functions of the rows ----------------------------------------------------------
def claims(rows: list[dict], mux_settings, data: str, routes=ROUTES) -> list[Claim]:
    """The paper's claims and our contrasts, checked on the rows of one run (``mux_settings``: the
    multiplexer's (lr, momentum), the first one the headline's; ``data``: the digits' name;
    ``routes``: the multiplexer routes that were run)."""
    rpe = partial(value_of, rows, "rule+exception")
    first, true, quadratic = (rpe(method, FIRST) for method in ESTIMATES.values())
    early, late = (rpe("ρ̂ quadratic / ρ̂ linear", f"mean |ρ̂| ratio {w}") for w in ("after sweep 1", "at convergence"))
    rho = rpe("ρ̂ linear vs ρ", "Spearman over each net's 6 gates")
    out = [Claim("skeletonization.rpe.rule_above_exception", "ρ̂ (linear error) ranks the rule unit above the "
                 "exception unit in ≥ 90% of the nets that split into the two", True, first >= 90,
                 f"{first:.0f}% of {rpe(ESTIMATES['linear'], FIRST, key='n')} nets (true ρ {true:.0f}%, "
                 f"quadratic-error ρ̂ {quadratic:.0f}%)",
                 "rule unit far more relevant than exception unit; no number given"),
           Claim("skeletonization.rpe.quadratic_fades", "quadratic-error ρ̂ fades at convergence, linear-error ρ̂ "
                 "does not: |ρ̂ quadratic| / |ρ̂ linear| falls ≥ 4× from the first sweep to convergence", True,
                 0 <= late < early / 4, f"{early:.2f} after sweep 1, {late:.3f} at convergence",
                 "the quadratic error's gradient vanishes near the targets: the reason for the linear error"),
           Claim("skeletonization.rpe.spearman", "Spearman(ρ̂, ρ) over each converged net's 6 gates, mean > 0.5",
                 False, rho > 0.5, f"{rho:.2f}")]
    return out + multiplexer_claims(rows, mux_settings, routes) + digits_claims(rows, data)


def _figure(rpe: dict, out_dir: Path) -> Path:
    """Relevance while training and ρ̂ vs ρ."""
    fig = figure(10, 4)
    ax, ax2 = fig.subplots(1, 2)
    for net in rpe["split"][:1]:  # one net's ρ̂ while training, both errors
        for column, style, error in ((0, "-", "linear"), (1, "--", "quadratic")):
            for unit, role in enumerate(net["role"]):
                ax.plot(net["path"][:, column, unit], style, color="C0" if role == "rule" else "C1",
                        label=f"{role} unit, {error} error")
        ax.set(xlabel="sweep", ylabel="ρ̂ (0.8/0.2 average)", title=f"rule+exception net {net['seed']}")
        ax.legend(fontsize=7)
    est, true = (flat([net["scatter"][i] for net in rpe["nets"]] or [np.zeros(0)]) for i in (0, 1))
    ax2.scatter(true, est, s=8, alpha=0.5)
    ax2.set(xlabel="true relevance ρ = E^l(α=0) − E^l(α=1)", ylabel="estimate ρ̂ (linear error)",
            title=f"all gates of {len(rpe['nets'])} converged nets")
    return save_figure(fig, out_dir / "skeletonization_rule_plus_exception.png")


if __name__ == "__main__":
    command_line(reproduce, __doc__)
