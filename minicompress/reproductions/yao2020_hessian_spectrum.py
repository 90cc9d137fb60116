"""Reproduction: the Hessian's spectrum of LeNet-300-100 and LeNet-5, PyHessian's pictures (Yao,
Gholami, Keutzer & Mahoney, "PyHessian: Neural Networks Through the Lens of the Hessian", IEEE
BigData 2020), at initialization, after training, and after magnitude pruning.

Reproduction only: the method is the engine's (:mod:`minicompress.nn.spectrum`,
:mod:`minicompress.nn.stochastic_trace`, re-exported from :mod:`minicompress.nn.curvature`):
Lanczos for the top eigenvalue λ_max, Hutchinson for Tr(H) (in total and per layer, from the same
probes), stochastic Lanczos quadrature (SLQ) for the eigenvalue density. H is the Hessian of the
mean cross-entropy on ``curvature_images`` training images (weight decay not included). For each
net: "init" (as drawn), "dense" (trained ``epochs + finetune_epochs``), "pruned" (trained
``epochs``, 90% of the weights deleted by one global magnitude ranking, pruning.global_prune, then
fine-tuned ``finetune_epochs`` with the mask fixed: the dense arm is its equal-budget reference).
Masked entries are zero rows and columns of H, so the pruned net's λ_max and Tr(H) are those of H
restricted to the remaining entries; avg_trace = Tr(H)/(number of remaining entries), HAWQ-V2's
"average trace", compares nets of different sizes.

Claims (thresholds fixed from the papers' words before running; C = 10 classes):
  - outliers_after_training (headline; Sagun et al. 2017/2018, Ghorbani et al. ICML 2019,
    PyHessian Fig. 3-4): after training the density is a bulk near 0 plus outliers: λ_max ≥ 10 ×
    the bulk edge b ("≫" read as an order of magnitude), b = the 99% quantile of |λ| under the SLQ
    measure (the bulk holds all but a few eigenvalues).
  - outliers_about_classes (Papyan 2019; Sagun et al. 2018): of the top 2C + 1 eigenvalues
    (Lanczos), the number ≥ 10 b is on the order of C: C/2 ≤ count ≤ 2C.
  - training_sharpens (Cohen et al. ICLR 2021, progressive sharpening; Ghorbani et al.: large
    eigenvalues appear early in training): λ_max trained > λ_max at initialization.
  - slq_matches_hutchinson (sanity): P·Σ w θ, the SLQ measure's first moment (itself a Hutchinson
    estimate), is within t_{0.9995, df} standard errors of the Hutchinson trace, at init and
    trained; the standard error comes from the spread of the SLQ probes (df = probes − 1). A first
    bound of 5 standard errors failed once in 16 quick runs: with 3 probes the estimated se is
    itself noisy (P(|t₂| > 5) ≈ 4%), so the bound now accounts for that.
  - dense_flatter_than_pruned.{top_eigenvalue, avg_trace} (the issue's question, no paper's
    claim; direction as measured). Caveat: at the same weights, H restricted to the remaining
    entries is a principal submatrix of H, so by interlacing its λ_max can only be smaller:
    λ_max favours the pruned net by construction; the average trace does not.

Outcome (quick runs, seeds 0–4 synth_digits, 0–2 mnist_test_split; dense accuracy 84–90% and
92–94%): outliers_after_training held 16 of 16 (8 seeds × 2 nets), training_sharpens 16 of 16
(λ_max ×3.4 to ×23 from initialization), slq_matches_hutchinson 16 of 16; outliers_about_classes
0 of 8 (LeNet-300-100): all of the top 21 eigenvalues stand ≥ 10 b, decaying smoothly from λ_max
with no gap after the C-th. Pruned vs dense: the pruned nets had the smaller λ_max in 16 of 16
(see the caveat), the dense nets the smaller average trace in 16 of 16 (4-10× smaller): which
net is "flatter" depends on the measure. Weakness of the headline threshold: on n images H's rank
is far below P (the GGN part has rank ≤ n(C − 1)), so ≥ 98% of the SLQ mass sits at ≈ 0 and b,
the 99% quantile, lands where that null space ends; it moves by orders of magnitude with
n_lanczos, and λ_max/b was ≥ 10 at initialization too in 9 of 16: the claim holds, but the
criterion does not separate trained from initial spectra (a gap-based one would; not tried).
Full configuration, seed 0, synth_digits (16 min on one thread): the same outcomes (dense 93.8%
and 97.5%), except that LeNet-300-100's dense net had the smaller λ_max (2.26 vs 2.32).

The density (SLQ, its bulk edge and outliers, the three claims on it, the figure) is computed in
:mod:`.yao2020_hessian_spectrum_density`.

Deviations: PyHessian studies ResNets on CIFAR-10 (batch-norm on/off); here the survey's two
LeNets on digits, trained briefly by SGD with momentum (a few epochs; quick LeNet-5 curvature on
128 images for time). The density is plotted as PyHessian does (Gaussian-smoothed SLQ, log
scale), σ = 1% of the nodes' range.

Run: ``minicompress reproduce spectrum [--quick] [--seeds 0-4] [--data mnist_test_split --data-dir
DIR]`` or ``python -m minicompress.reproductions.yao2020_hessian_spectrum --quick``.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np

from minicompress import models, nn, pruning
from minicompress.nn import curvature as cv
from minicompress.report import Claim, Report
from minicompress.reproductions.experiment import command_line, finite, load_data, say, train_lenet
from minicompress.reproductions.yao2020_hessian_spectrum_density import (  # the SLQ density part
    CLASSES, NAMES, at, density_figure, outliers_about_classes, outliers_after_training, slq_density,
    slq_matches_hutchinson)
from minicompress.train import evaluate

BUILDERS = {"lenet300": models.lenet_300_100, "lenet5": models.lenet5}


@dataclass(frozen=True)
class Config:
    """Defaults: both LeNets on 8,000 training images, curvature on 1,000 of them."""

    n_train: int = 8_000
    n_test: int = 2_000
    nets: tuple = ("lenet300", "lenet5")
    epochs: tuple = (10, 4)  # per net, before pruning
    finetune_epochs: tuple = (3, 1)  # per net, after pruning (and for the dense arm)
    lrs: tuple = (0.05, 0.02)  # SGD, momentum 0.9 (Caffe's LeNet solver)
    batch_size: int = 64
    weight_decay: float = 5e-4
    sparsity: float = 0.9  # fraction of the weights deleted (biases are kept)
    curvature_images: tuple = (1_000, 1_000)  # per net
    n_lanczos: int = 40  # SLQ steps per probe
    n_probes: int = 4  # SLQ probes
    trace_probes: int = 40  # Hutchinson hvps
    tol: float = 1e-2  # Lanczos: every Ritz pair's residual ≤ tol·‖H‖
    max_iter: int = 80
    count_outliers: tuple = ("lenet300", "lenet5")  # the nets whose top 2C + 1 eigenvalues are found

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_train=4_000, n_test=1_000, epochs=(10, 2), finetune_epochs=(2, 1),
                   curvature_images=(500, 96), n_lanczos=16, n_probes=3, trace_probes=10,
                   count_outliers=("lenet300",))  # LeNet-5's would take ~8 s more


def reproduce(*, quick: bool = False, seed: int = 0, data: str | None = None, data_dir=None,
              verify: bool = True, out_dir=None, verbose: bool = True, config: Config | None = None) -> Report:
    """Each net at init, dense and pruned: the spectrum's numbers, the figure, the claims."""
    cfg = config or (Config.quick() if quick else Config())
    _check(cfg)
    data, out_dir, train, test = load_data("spectrum", cfg, data, out_dir, data_dir, verify)
    rows, densities = [], {}
    for i, net in enumerate(cfg.nets):
        net_rows, densities[net] = _net(net, i, cfg, seed, train, test, verbose)
        rows += net_rows
    notes = [f"{data}: {len(train[1])} training and {len(test[1])} test images, seed {seed}; H of the mean "
             f"cross-entropy on {', '.join(f'{n} {k}' for n, k in zip(cfg.nets, cfg.curvature_images))} "
             f"training images; SLQ {cfg.n_probes} probes × {cfg.n_lanczos} steps, Hutchinson "
             f"{cfg.trace_probes} probes; pruned: {cfg.sparsity:.0%} of the weights by global magnitude"]
    report = Report(f"The Hessian's spectrum (PyHessian, Yao et al. 2020) on {data}, seed {seed}", rows,
                    notes=notes, claims=claims(rows, cfg), data=data)
    report.figures.append(density_figure(densities, out_dir / "spectrum_density.png"))
    if verbose:
        print(report.table())
    return report


def _check(cfg: Config) -> None:
    if any(n not in BUILDERS for n in (*cfg.nets, *cfg.count_outliers)):
        raise ValueError(f"spectrum: unknown nets in {cfg.nets}, {cfg.count_outliers}; expected some of {sorted(BUILDERS)}")
    for field in ("epochs", "finetune_epochs", "lrs", "curvature_images"):
        if len(getattr(cfg, field)) != len(cfg.nets):
            raise ValueError(f"spectrum: Config.{field} needs one value per net {cfg.nets}, got {getattr(cfg, field)}")
    if cfg.count_outliers and cfg.max_iter < 2 * CLASSES + 1:
        raise ValueError(f"spectrum: counting outliers needs the top {2 * CLASSES + 1} eigenvalues: "
                         f"max_iter must be at least that, got {cfg.max_iter}")


def _net(net: str, i: int, cfg: Config, seed: int, train, test, verbose: bool):
    init_rng, pick, probes = (np.random.default_rng([seed, i, k]) for k in range(3))
    model = BUILDERS[net](rng=init_rng)
    subset = pick.choice(len(train[1]), min(cfg.curvature_images[i], len(train[1])), replace=False)
    curvature = (train[0][subset], train[1][subset])
    accuracy = lambda m: 100 * evaluate(m, nn.SoftmaxCrossEntropy(), *test, batch_size=500)["accuracy"]  # noqa: E731
    fit = lambda m, epochs, part: train_lenet(m, train, cfg, np.random.default_rng([seed, i, 10 + part]),  # noqa: E731
                                              epochs=epochs, lr=cfg.lrs[i], verbose=False)
    start = time.perf_counter()
    measured = {"init": (copy.deepcopy(model), _measure(model, curvature, cfg, probes, True, False))}
    fit(model, cfg.epochs[i], 0)
    pruned = copy.deepcopy(model)
    pruning.global_prune(pruning.weights(pruned), cfg.sparsity)
    fit(model, cfg.finetune_epochs[i], 1)  # the dense arm: the same budget
    fit(pruned, cfg.finetune_epochs[i], 1)  # the same batches, mask fixed
    measured["dense"] = (model, _measure(model, curvature, cfg, probes, True, True, net in cfg.count_outliers))
    measured["pruned"] = (pruned, _measure(pruned, curvature, cfg, probes, False, True))
    rows = []
    for state in ("init", "dense", "pruned"):
        m, (whole, layers, density) = measured[state]
        rows.append(dict(net=net, state=state, layer="all", accuracy=accuracy(m), **whole))
        rows += [dict(net=net, state=state, layer=name, **values) for name, values in layers.items()]
        say("spectrum", verbose, f"{net} {state}: λ_max {whole['top_eigenvalue']:.4g}, Tr(H) "
                                 f"{whole['trace']:.4g} ({time.perf_counter() - start:.0f} s)")
    return rows, {s: measured[s][1][2] for s in ("init", "dense")}


def _measure(model, curvature, cfg: Config, rng, density: bool, per_layer: bool, count: bool = False):
    """(numbers of the whole net, {layer: numbers}, (nodes, weights) or None) for ``model``."""
    loss, (x, y) = nn.SoftmaxCrossEntropy(), curvature
    params = model.parameters()
    kept = [p.data.size if p.mask is None else int(np.count_nonzero(p.mask)) for p in params]
    k = 2 * CLASSES + 1 if count else 1  # enough to count the outliers
    top, _, info = cv.top_eigenvalues(model, loss, x, y, k, tol=cfg.tol, max_iter=cfg.max_iter, rng=rng,
                                      return_info=True)
    traces = cv.trace(model, loss, x, y, n=cfg.trace_probes, rng=rng, per_layer=True)
    whole = dict(params=sum(kept), top_eigenvalue=float(top[0]), trace=float(sum(traces)),
                 avg_trace=float(sum(traces)) / sum(kept), top_hvps=info["hvps"])
    nodes_weights = None
    if density:  # P: the probes run over every entry, masked or not
        numbers, nodes_weights = slq_density(model, loss, x, y, cfg, rng, sum(p.data.size for p in params),
                                             top if k > 1 else None)
        whole.update(numbers)
    layers = {}
    if per_layer:
        for index, layer in enumerate(model):
            if not layer.parameters():
                continue
            value = cv.top_eigenvalues(model, loss, x, y, 1, tol=cfg.tol, max_iter=cfg.max_iter,
                                       rng=rng, params=layer)[0][0]
            ids = {id(p) for p in layer.parameters()}
            n = sum(c for p, c in zip(params, kept) if id(p) in ids)
            t = sum(t for p, t in zip(params, traces) if id(p) in ids)
            layers[f"{index} {type(layer).__name__}"] = dict(params=n, top_eigenvalue=float(value), trace=t,
                                                              avg_trace=t / n)
    return whole, layers, nodes_weights


# ----- the claims: pure functions of the rows -----------------------------------------------------
def claims(rows: list[dict], cfg: Config) -> list[Claim]:
    out = []
    for net in cfg.nets:
        out += [outliers_after_training(rows, net)]
        out += [outliers_about_classes(rows, net)] if net in cfg.count_outliers else []
        out += [training_sharpens(rows, net), slq_matches_hutchinson(rows, net),
                dense_flatter_than_pruned(rows, net, "top_eigenvalue"), dense_flatter_than_pruned(rows, net, "avg_trace")]
    return out


def training_sharpens(rows, net: str) -> Claim:
    init, dense = at(rows, net, "init", "top_eigenvalue"), at(rows, net, "dense", "top_eigenvalue")
    init_tr, dense_tr = at(rows, net, "init", "trace"), at(rows, net, "dense", "trace")
    return Claim(f"spectrum.{net}.training_sharpens", f"{NAMES.get(net, net)}: training raises the top eigenvalue "
                 "above its value at initialization", False, finite(init, dense) and dense > init,
                 f"λ_max {init:.4g} at init → {dense:.4g} trained; Tr(H) {init_tr:.4g} → {dense_tr:.4g}",
                 "Cohen et al. 2021: progressive sharpening (full-batch GD; weaker under SGD); "
                 "Ghorbani et al. 2019: large eigenvalues appear early in training")


def dense_flatter_than_pruned(rows, net: str, measure: str = "top_eigenvalue") -> Claim:
    """``measure`` "top_eigenvalue" (PyHessian's sharpness) or "avg_trace" (Tr(H)/n, HAWQ-V2's)."""
    dense, pruned = at(rows, net, "dense", measure), at(rows, net, "pruned", measure)
    what = {"top_eigenvalue": "λ_max", "avg_trace": "average trace Tr(H)/n over the remaining entries"}[measure]
    return Claim(f"spectrum.{net}.dense_flatter_than_pruned.{measure}",
                 f"{NAMES.get(net, net)}: the dense net sits in a flatter region than the pruned one, retrained as "
                 f"long: a smaller {what}",
                 False, finite(dense, pruned) and dense < pruned,
                 f"dense {dense:.4g}, pruned {pruned:.4g} ("
                 f"{'dense flatter' if dense < pruned else 'pruned flatter' if pruned < dense else 'no order'})",
                 "no paper's claim: the question of issue 19")


if __name__ == "__main__":
    command_line(reproduce, __doc__)
