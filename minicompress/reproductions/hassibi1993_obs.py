"""Optimal Brain Surgeon: OBD's sequel keeps the Hessian's cross terms and moves the other weights.

B. Hassibi, D. G. Stork, "Second order derivatives for network pruning: Optimal Brain
Surgeon", NIPS 5 (1992), 1993; the method is in :mod:`minicompress.papers.hassibi1993_obs`.

Reproduced: (a) the toy demonstrations, XOR and MONK's problems 1–3 (nets trained by
backpropagation with weight decay, BPWD): :mod:`.hassibi1993_obs_toy_problems` says how. (b) OBD's
networks (14×14 centered digits, tanh outputs, ±1 targets, near a minimum): OBS, OBD, magnitude
one-shot at 10–90% deleted; OBS uses one Gauss–Newton H from all ``obd_n_train`` digits,
λ = ``damping`` × mean diag H, and downdates. (c) Layer-wise OBS (OBC) on LeNet-300-100 and
LeNet-5: rows pruned to 50–95% on the dense net's layer inputs (H = 2XᵀX + λI), no retraining,
against layer-wise magnitude pruning (:mod:`.hassibi1993_obs_layerwise`).

Paper's numbers: 76%, 62%, 90% fewer weights than BPWD on MONK-1, 2, 3 (Table 1 as we read it,
not re-checked against the PDF: 58 → 14 weights, 17-3-1; 39 → 15 and 39 → 4, 17-2-1).

Deviations: our own BPWD nets (full batch; MONK-3's larger weight decay keeps its flipped labels
unlearned); random MONK training sets, not the fixed files; pruning stops at the first deletion
that lowers the training accuracy, no retraining; digits, not NETtalk; (b) trains on
``obd_n_train`` digits only, H being formed from all of them (H from a quarter of them: OBS
worse than OBD from 20% up, seed 0). Quick: MLP 196-10-10 on 1,000 digits, LeNet 784-100-50-10,
no CNN, no LeNet-5, so that the dense inverse Hessian stays cheap.

Held (quick runs, seeds 0–9, synthetic digits | ``mnist_test_split``; each run's claims give its
numbers), and why not always:

- XOR, only OBS never deletes a needed weight: 8/10 | 8/10 (magnitude made no mistake in 2 seeds).
- MONK, OBS removes more than OBD and magnitude: 6/10 | 6/10 (ties on MONK-1 or 3); the paper's
  fraction − 10 points, MONK-1/2/3: 3/10/1 (OBS 50–71%, 54%, 38–90%; 17-2-1 needs about 17 of
  its 39 weights for MONK-2's rule).
- OBD's MLP, OBS's objective below OBD's at 30–90%: 2/10 | 0/10 (below from 30–40% to 70%,
  behind at 90%: its moves leave the quadratic region, where plain zeroing is safer).
- OBD's MLP, predicted/actual in 0.7–1.3 up to 30%: 5/10 | 1/10 (real digits: the actual
  increases at 10–20% are tiny, OBD deletes blank border pixels first, and the ratios scatter).
- Layer-wise OBS beats magnitude: 7/10 | 10/10 (at 50% magnitude sometimes *improves* the weak
  quick LeNet, 3 seeds).

Full size, MNIST (training images reconstructed), seed 0: OBS below OBD at every level 30–90%
(MLP and CNN), predicted/actual 0.2–0.5 (the Gauss–Newton H drops the residual curvature, not
small away from a minimum); LeNet-5 at 95% loses to magnitude (83.0 vs 87.1%): equal sparsity
per row leaves one weight per conv1 filter (OBC's allocation across rows is not implemented).

Run: ``minicompress reproduce obs [--quick] [--data mnist_test_split --data-dir DIR]``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from minicompress import nn
from minicompress.models import obd_cnn, obd_mlp
from minicompress.nn.per_example import gauss_newton
from minicompress.papers import hassibi1993_obs as obs
from minicompress.pruning.masks import flat_parameters as flat, with_parameters as with_weights
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import (command_line, figure, finite, load_data, obd_regime,
                                                   save_figure, say, train_near_minimum)
from minicompress.reproductions.hassibi1993_obs_layerwise import (  # part (c), layer-wise OBS
    layerwise, layerwise_claim, layerwise_panel)
from minicompress.reproductions.hassibi1993_obs_toy_problems import (  # part (a), the toy problems
    METHODS, monk_claims, monk_panel, monk_pruning, obd_saliency, xor, xor_claim)
from minicompress.train import evaluate


@dataclass(frozen=True)
class Config:
    """The settings; the paper gives those of the toy problems only in part (see Deviations)."""

    alpha: float = 1e-4               # H₀ = αI of the outer-product recursion (toy nets)
    xor_nets: int = 20
    xor_margin: float = 0.3           # train until every output is within this of its target
    xor_retrain_epochs: int = 1000
    monk_hidden: tuple = (3, 2, 2)
    monk_decay: tuple = (0.01, 0.01, 0.1)
    monk_epochs: int = 2000           # full-batch SGD, lr 0.05, momentum 0.9, on Σ(t − o)²
    n_train: int = 9_000
    n_test: int = 2_000
    hidden: int = 40                  # OBD's MLP 196-40-10 ...
    channels: int = 8                 # ... and CNN (conv 8@5×5, avg-pool 2, fc 200→10); 0: no CNN
    epochs: int = 40
    polish_steps: int = 1000
    obd_n_train: int = 2_000          # their training digits, all of which make the Gauss–Newton H
    damping: float = 1e-2             # λ / mean diag H
    fractions: tuple = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    lenet_hidden: tuple = (300, 100)
    lenet5: bool = True
    lenet_epochs: int = 10            # SGD, momentum 0.9, lr 0.05, batch 64 (Caffe's solver)
    batch_size: int = 64
    weight_decay: float = 5e-4
    n_calibration: int = 2_000        # training images whose layer inputs give X (more than 784)
    layer_damping: float = 1e-2
    sparsities: tuple = (0.5, 0.75, 0.9, 0.95)

    @classmethod
    def quick(cls) -> "Config":
        return cls(xor_nets=12, monk_epochs=1000, n_train=2_000, n_test=1_000, hidden=10, channels=0,
                   epochs=30, obd_n_train=1_000, lenet_hidden=(100, 50), lenet5=False,
                   n_calibration=1_000)


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, data_dir=None, verify: bool = True,
              out_dir=None, verbose: bool = True, config: Config | None = None) -> Report:
    """(a) XOR and MONK's problems, (b) OBD's networks, (c) layer-wise OBS; the Report."""
    cfg = config or (Config.quick() if quick else Config())
    data, out_dir, train_set, test_set = load_data("obs", cfg, data, out_dir, data_dir, verify)
    rows = []
    for part in (lambda: xor(cfg, seed, verbose), lambda: monk_pruning(cfg, seed, verbose),
                 lambda: obd_networks(cfg, train_set, test_set, seed, verbose),
                 lambda: layerwise(cfg, train_set, test_set, seed, verbose)):
        start = time.perf_counter()
        rows += part()
        say("obs", verbose, f"  ({time.perf_counter() - start:.1f} s)")
    report = Report(f"Optimal Brain Surgeon (Hassibi & Stork 1993): {data}, seed {seed}"
                    f"{' (quick)' if quick else ''}", rows=rows, claims=claims(rows), data=data,
                    notes=[f"(b) OBD MLP 196-{cfg.hidden}-10 on {cfg.obd_n_train} training digits, Gauss–"
                           f"Newton H from all of them, λ = {cfg.damping} × mean diag H; (c) calibration on "
                           f"{cfg.n_calibration} training images, λ = {cfg.layer_damping} × mean diag 2XᵀX"])
    report.figures.append(_figure(rows, out_dir / "obs.png"))
    if verbose:
        print(report.table())
    return report


# ----- (b) OBD's networks -------------------------------------------------------------------------
def obd_networks(cfg: Config, train_set, test_set, seed: int, verbose: bool) -> list[dict]:
    """OBS vs OBD vs magnitude, one-shot, on OBD's MLP (and CNN)."""
    (x, y) = train_set[0][:cfg.obd_n_train], train_set[1][:cfg.obd_n_train]
    (x, t, _), (x_test, t_test, _) = obd_regime((x, y), test_set)
    loss, rows = nn.MSELoss(), []
    for kind in ("mlp", "cnn") if cfg.channels else ("mlp",):
        rng = np.random.default_rng([seed, 7])
        model = obd_mlp(rng, hidden=cfg.hidden) if kind == "mlp" else obd_cnn(rng, channels=cfg.channels)
        norm = train_near_minimum(model, loss, x, t, epochs=cfg.epochs, polish_steps=cfg.polish_steps,
                                  seed=seed)
        G = gauss_newton(model, loss, x, t)  # float32 products (BLAS speed), summed in float64
        model = model.astype(np.float64)
        x64, t64, xt64, tt64 = (a.astype(np.float64) for a in (x, t, x_test, t_test))
        base, w = loss(model(x64), t64), flat(model)
        say("obs", verbose, f"OBD {kind}: {w.size} parameters, objective {base:.4f}, gradient {norm:.1e}")
        h_inv = obs.inverse(G, cfg.damping * float(np.mean(np.diagonal(G))))
        del G
        saliency = obd_saliency(model, loss, x64, t64)
        current, predicted, done = w, 0.0, 0
        for fraction in cfg.fractions:
            k = round(fraction * w.size)
            current, h_inv, increase = obs.prune(current, h_inv, k - done)
            predicted, done = predicted + increase, k
            for method in METHODS:
                if method == "OBS":
                    weights, guess = current, predicted
                else:
                    order = np.argsort(saliency if method == "OBD" else np.abs(w), kind="stable")[:k]
                    weights = np.where(np.isin(np.arange(w.size), order), 0.0, w)
                    guess = float(saliency[order].sum()) if method == "OBD" else np.nan
                pruned = with_weights(model, weights, weights == 0)
                value = loss(pruned(x64), t64)
                rows.append(dict(experiment=f"OBD {kind}", method=method, deleted=fraction, objective=value,
                                 test_accuracy=evaluate(pruned, loss, xt64, tt64)["accuracy"],
                                 predicted=guess, actual=value - base))
    return rows


# ----- claims: small pure functions of the rows ----------------------------------------------------
def claims(rows: list[dict]) -> list[Claim]:
    cnn = obd_claims(rows, "OBD cnn", headline=False) if any(r["experiment"] == "OBD cnn" for r in rows) else []
    return [xor_claim(rows), *monk_claims(rows), *obd_claims(rows, "OBD mlp", headline=True), *cnn,
            layerwise_claim(rows)]



def obd_claims(rows, experiment: str, headline: bool) -> list[Claim]:
    get = {(r["method"], r["deleted"]): r for r in rows if r["experiment"] == experiment}
    levels = sorted({d for _, d in get})
    high, low = [d for d in levels if d >= 0.3 - 1e-9], [d for d in levels if d <= 0.3 + 1e-9]
    value = lambda m, d, key: get.get((m, d), {}).get(key, np.nan)  # noqa: E731
    below = [d for d in high if finite(value("OBS", d, "objective"), value("OBD", d, "objective"))
             and value("OBS", d, "objective") < value("OBD", d, "objective")]
    ratios = {m: [p / a if finite(p, a) and a > 0 else np.nan
                  for p, a in ((value(m, d, "predicted"), value(m, d, "actual")) for d in low)]
              for m in ("OBS", "OBD")}
    within = bool(low) and all(finite(q) and 0.7 <= q <= 1.3 for q in ratios["OBS"])
    better = bool(low) and all(finite(a, b) and a > 0 and b > 0 and abs(np.log(a)) < abs(np.log(b))
                               for a, b in zip(ratios["OBS"], ratios["OBD"]))
    net = experiment.split()[-1]
    text = lambda qs: ", ".join("nan" if not finite(q) else f"{q:.2f}" for q in qs)  # noqa: E731
    return [Claim(f"obs.{net}.below_obd", f"OBD's {net}: OBS's training objective is below OBD's at every "
                  f"deletion level from 30% to {100 * max(levels, default=0):.0f}% (one-shot, no retraining)",
                  headline, bool(high) and len(below) == len(high),
                  f"below at {len(below)} of {len(high)} levels: " + ", ".join(f"{d:.0%}" for d in below),
                  "the issue's target (OBS keeps the cross terms OBD drops)"),
            Claim(f"obs.{net}.prediction", f"OBD's {net}: OBS's predicted increase Σ L_q over the actual increase "
                  f"of the objective is within 0.7–1.3 at every level up to 30% deleted", headline, within,
                  "predicted/actual at " + ", ".join(f"{d:.0%}" for d in low) + ": " + text(ratios["OBS"])
                  + " (OBD's ½Σh w²: " + text(ratios["OBD"]) + ")",
                  "the issue's target; OBD reports agreement up to ≈30% deleted (its Fig. 1b)"),
            Claim(f"obs.{net}.predicts_better_than_obd", f"OBD's {net}: OBS's predicted/actual is closer to 1 "
                  f"than OBD's at every level up to 30%", False, better, text(ratios["OBS"]) + " vs " + text(ratios["OBD"]),
                  "the issue: OBS should predict far better than OBD")]


def _figure(rows, path):
    """Objective and predicted vs actual on OBD's MLP; layer-wise accuracy; MONK fractions."""
    fig = figure(16, 4)
    axes = fig.subplots(1, 4)
    colors = dict(zip(METHODS, ("C0", "C1", "C2")))
    pick = lambda exp, m: [r for r in rows if r["experiment"] == exp and r["method"] == m]  # noqa: E731
    for m in METHODS:
        pts = pick("OBD mlp", m)
        axes[0].plot([100 * r["deleted"] for r in pts], [10 * np.log10(r["objective"]) for r in pts], "o-",
                     color=colors[m], label=m)
        if m != "magnitude":
            axes[1].loglog([r["actual"] for r in pts], [r["predicted"] for r in pts], "o", color=colors[m], label=m)
    positive = [r["actual"] for r in rows if r["experiment"] == "OBD mlp" and r["actual"] > 0] or [1e-6, 1.0]
    axes[1].loglog([min(positive), max(positive)], [min(positive), max(positive)], "k:", label="predicted = actual")
    layerwise_panel(axes[2], rows)
    monk_panel(axes[3], rows, colors)
    for ax, title, xlabel, ylabel in zip(axes, ("OBD's MLP, one-shot", "increase of the objective",
                                                "layer-wise, no retraining", "MONK's problems"),
                                         ("% of parameters deleted", "actual", "sparsity %", ""),
                                         ("training objective (dB)", "predicted", "test accuracy %",
                                          "% of weights removed")):
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend(fontsize=7)
    axes[3].set(xticks=np.arange(3) + 0.3, xticklabels=["MONK-1", "MONK-2", "MONK-3"])
    return save_figure(fig, path)


if __name__ == "__main__":
    command_line(reproduce, __doc__)
