"""The eigenvalue density of :mod:`minicompress.reproductions.yao2020_hessian_spectrum`
(PyHessian Fig. 3-4; that module's docstring says what is reproduced, the deviations and what
held; ``minicompress reproduce spectrum`` runs this part with the rest).

Stochastic Lanczos quadrature one probe at a time, so that the spread of the probes gives a
standard error of the measure's first moment; the bulk edge b (the 99% quantile of |λ|) and the
number of the top eigenvalues standing ≥ 10 b; the three claims on them (a bulk plus outliers,
about C outliers, SLQ against Hutchinson) and the density figure at init and trained.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn import curvature as cv
from minicompress.report import Claim
from minicompress.reproductions.experiment import field, figure, finite, save_figure

CLASSES, SEPARATION, BULK_MASS, CONFIDENCE = 10, 10.0, 0.99, 0.999  # SEPARATION: "≫", tenfold
NAMES = {"lenet300": "LeNet-300-100", "lenet5": "LeNet-5"}  # as the claims say them


def slq_density(model, loss, x, y, cfg, rng, size: int, top=None) -> tuple[dict, tuple]:
    """({bulk_edge, slq_trace, trace_se, trace_df[, outliers]}, (nodes, weights)) of the Hessian
    of ``loss`` on (x, y): ``cfg.n_probes`` SLQ runs of ``cfg.n_lanczos`` steps, one probe each.
    ``size`` is P (the probes run over every entry, masked or not); ``top``, the top 2C + 1
    eigenvalues if the outliers are to be counted."""
    runs = [cv.spectral_density(model, loss, x, y, n_lanczos=cfg.n_lanczos, n_probes=1, rng=rng)
            for _ in range(cfg.n_probes)]
    nodes = np.concatenate([n for n, _ in runs])
    weights = np.concatenate([w for _, w in runs]) / cfg.n_probes
    per_probe = np.array([size * float(n @ w) for n, w in runs])  # = zᵀHz, z Rademacher
    edge = cv.bulk_edge(nodes, weights, BULK_MASS)
    numbers = dict(bulk_edge=edge, slq_trace=float(per_probe.mean()),
                   trace_se=float(per_probe.std(ddof=1) * np.sqrt(1 / cfg.n_probes + 1 / cfg.trace_probes))
                   if cfg.n_probes > 1 else np.nan, trace_df=cfg.n_probes - 1)
    if top is not None:  # of the top 2C + 1 eigenvalues, how many stand ≥ SEPARATION × the bulk edge
        numbers["outliers"] = int(np.sum(top >= SEPARATION * edge))
    return numbers, (nodes, weights)


# ----- the claims: pure functions of the rows -----------------------------------------------------
def at(rows, net: str, state: str, key: str) -> float:
    """``key`` of the whole net's row of (net, state); NaN if there is none (a claim on it fails)."""
    return field(rows, key, net=net, state=state, layer="all")


def outliers_after_training(rows, net: str) -> Claim:
    top, edge = at(rows, net, "dense", "top_eigenvalue"), at(rows, net, "dense", "bulk_edge")
    init_top, init_edge = at(rows, net, "init", "top_eigenvalue"), at(rows, net, "init", "bulk_edge")
    ok = finite(top, edge) and edge >= 0 and top >= SEPARATION * edge and top > 0
    return Claim(f"spectrum.{net}.outliers_after_training",
                 f"{NAMES.get(net, net)}: after training the density is a bulk near 0 plus outliers: "
                 f"λ_max ≥ {SEPARATION:g} × the "
                 f"edge of the bulk ({BULK_MASS:.0%} of the spectral mass)", True, ok,
                 f"trained: λ_max {top:.4g}, bulk edge {edge:.3g} (ratio {top / edge if edge else np.inf:.3g}); "
                 f"at init: {init_top:.4g}, {init_edge:.3g}",
                 "Sagun et al. 2017/2018; Ghorbani et al. 2019, §3: a bulk near zero and outliers "
                 "separated from it; PyHessian Fig. 3-4")


def outliers_about_classes(rows, net: str, classes: int = CLASSES) -> Claim:
    count = at(rows, net, "dense", "outliers")
    ok = finite(count) and classes / 2 <= count <= 2 * classes
    return Claim(f"spectrum.{net}.outliers_about_classes",
                 f"{NAMES.get(net, net)}: the number of outliers (eigenvalues ≥ {SEPARATION:g} × the bulk edge, "
                 f"of the top {2 * classes + 1}) "
                 f"is on the order of the number of classes: between {classes / 2:g} and {2 * classes}", False, ok,
                 f"{count:g} of the top {2 * classes + 1} eigenvalues, {classes} classes",
                 "Papyan 2019; Sagun et al. 2018: about C outliers for C classes")


def slq_matches_hutchinson(rows, net: str, confidence: float = CONFIDENCE) -> Claim:
    from scipy.stats import t  # imported here: scipy.stats takes a while to import
    pairs = [(s, *(at(rows, net, s, k) for k in ("slq_trace", "trace", "trace_se", "trace_df")))
             for s in ("init", "dense")]
    bound = {s: t.ppf((1 + confidence) / 2, df) * se if finite(se, df) and df >= 1 else np.nan
             for s, _, _, se, df in pairs}
    ok = all(finite(a, b, bound[s]) and abs(a - b) <= bound[s] for s, a, b, _, _ in pairs)
    return Claim(f"spectrum.{net}.slq_matches_hutchinson",
                 f"{NAMES.get(net, net)}: P × the SLQ density's first moment equals the Hutchinson trace within the {confidence:.1%} "
                 f"Student-t bound of their standard error (df = SLQ probes − 1), at init and trained", False, ok,
                 "; ".join(f"{s}: SLQ {a:.4g}, Hutchinson {b:.4g} (se {se:.2g}, bound {bound[s]:.3g})"
                           for s, a, b, se, _ in pairs),
                 "SLQ (Golub & Meurant; Ghorbani et al. 2019): ∫ t dμ = Tr(H)/P in expectation")


def density_figure(densities: dict, path):
    """{net: {"init": (nodes, weights), "dense": (nodes, weights)}}: one panel per net, the
    Gaussian-smoothed SLQ density on a log scale (σ = 1% of the nodes' range), as PyHessian plots."""
    fig = figure(5 * len(densities), 3.6)
    axes = np.atleast_1d(fig.subplots(1, len(densities)))
    for ax, (net, by_state) in zip(axes, densities.items()):
        for state, style in (("init", "C0--"), ("dense", "C3-")):
            nodes, weights = by_state[state]
            grid = np.linspace(nodes.min() - 0.05 * np.ptp(nodes), nodes.max() + 0.05 * np.ptp(nodes), 2000)
            ax.semilogy(grid, cv.smoothed_density(nodes, weights, grid) + 1e-8, style,
                        label="initialization" if state == "init" else "trained")
        ax.set(title=f"{net}: SLQ eigenvalue density", xlabel="eigenvalue of H", ylabel="density (log)")
        ax.legend()
    return save_figure(fig, path)
