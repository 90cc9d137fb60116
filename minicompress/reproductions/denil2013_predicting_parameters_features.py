"""Predicting the trained features, one part of
:mod:`minicompress.reproductions.denil2013_predicting_parameters` (that module's docstring says
what is reproduced, the deviations and what held; ``minicompress reproduce denil`` runs this part
with the others).

The full network's trained first layer W, and its learned change W − W0, are predicted from the
values at one random α (10% or 25% of each feature's 784) by kernel ridge dictionaries (SE kernels
at several ℓ, the empirical kernel), against the values at α alone and the truncated SVD of the
same storage: the relative error, and the test error of the network with the predicted layer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from minicompress.factorize import pixel_coordinates, random_indices, relative_error, truncated_svd
from minicompress.papers.denil2013_predicting_parameters import (
    atoms_for_fraction, kernel_ridge_dictionary, low_rank_for_fraction, predict_features, se_kernel)
from minicompress.report import Claim
from minicompress.reproductions.experiment import figure, save_figure


def feature_predictions(cfg, dense, W0: np.ndarray, rows: list, empirical: np.ndarray, rng, error) -> dict:
    """Predict the trained first layer W, and its change W − W0, from the values at one random α;
    a row per prediction (relative error; test error on 2,000 images with the predicted layer);
    returns the six features that moved most, and their predictions, for the figure."""
    layer, saved = dense[1], dense[1].weight.data.copy()
    W = saved.astype(np.float64)  # (o, i)
    grid = pixel_coordinates((int(np.sqrt(W.shape[1])),) * 2)
    kernels = {**{f"se_kernel l={l:g}": se_kernel(grid, grid, l) for l in cfg.prediction_length_scales},
               "empirical": empirical}
    shown = np.argsort(-np.linalg.norm(W - W0, axis=1))[:6]
    features = {"trained W": W[shown], "initial W0": W0[shown], "change W − W0": (W - W0)[shown]}
    for f in cfg.prediction_fractions:
        alpha = random_indices(W.shape[1], atoms_for_fraction(f, W.shape[1]), rng)
        dictionaries = {name: kernel_ridge_dictionary(K, alpha, cfg.prediction_ridge)
                        for name, K in kernels.items()}
        dictionaries["values at alpha"] = np.eye(W.shape[1])[:, alpha]  # zeros elsewhere
        for target, M, base in (("W", W, 0), ("W - W0", W - W0, W0)):
            estimates = {name: predict_features(M, U, alpha) for name, U in dictionaries.items()}
            left, right, _ = truncated_svd(M, low_rank_for_fraction(f, *M.shape))
            estimates["truncated SVD"] = left @ right.T  # same storage, the Eckart–Young optimum
            rel = {name: relative_error(M, M_hat) for name, M_hat in estimates.items()}
            for name, M_hat in estimates.items():
                layer.weight.data[...] = base + M_hat  # the network with the predicted layer
                rows.append(dict(experiment=f"reconstruct {target}", method=name, fraction=f,
                                 error=error(dense, 2_000), rel_error=rel[name]))
            best_se = min((n for n in rel if n.startswith("se_kernel")), key=rel.get)
            for name in ("values at alpha", best_se, "empirical") if target == "W - W0" else ():
                title = f"{name.replace('alpha', 'α')}, {f:.0%}\nrel. error {rel[name]:.2f}"
                features[title] = estimates[name][shown]
    layer.weight.data[...] = saved
    return features


# ----- claims: small pure functions of the rows ----------------------------------------------------
def claim_features_predicted(rows, target: str = "W") -> Claim:
    """Trained features (or their learned change) predicted from 25% of their values."""
    at_25 = [r for r in rows if r["experiment"] == f"reconstruct {target}" and np.isclose(r["fraction"], 0.25)]
    best = min([(float(r["rel_error"]), r["method"]) for r in at_25
                if r["method"].startswith(("se_kernel", "empirical")) and np.isfinite(r.get("rel_error", np.nan))],
               default=(np.nan, "none"))
    kept = next((float(r["rel_error"]) for r in at_25 if r["method"] == "values at alpha"), np.nan)
    what = "trained features W" if target == "W" else "the learned change W − W0 of the features"
    return Claim(f"denil.features.{'trained' if target == 'W' else 'change'}_from_25pct",
                 f"{what} predicted from 25% of their values by a kernel dictionary with relative "
                 f"error ≤ 0.5 (our reading of 'accurately')", target == "W",
                 bool(np.isfinite(best[0]) and best[0] <= 0.5),
                 f"best {best[1]}: {best[0]:.2f} (the values at α alone: {kept:.2f})",
                 "Abstract: 'given only a few weight values for each feature it is possible to "
                 "accurately predict the remaining values'; Fig. 1, without a number")


# ----- figures -----------------------------------------------------------------------------------
def feature_figure(features: dict, path: Path) -> Path:
    """A row per feature, a column per version (trained, initial, change, the change's
    predictions); tiles scaled to ±1 by the row's largest |W| (first two columns) or |W − W0|."""
    columns, n = list(features.values()), int(np.sqrt(next(iter(features.values())).shape[1]))
    tile = lambda j, i: np.pad(columns[j][i].reshape(n, n) / np.abs(columns[0 if j < 2 else 2][i]).max(),
                               1, constant_values=np.nan)  # noqa: E731
    mosaic = np.block([[tile(j, i) for j in range(len(columns))] for i in range(len(columns[0]))])
    fig = figure(1.1 * len(columns) + 0.4, 1.1 * len(columns[0]) + 0.9)
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks([j * (n + 2) + n / 2 for j in range(len(columns))], list(features), fontsize=6)
    ax.xaxis.tick_top()
    ax.set(yticks=[], title="First-layer features of the full network (28×28), and the learned "
                            "change predicted from a fraction of its values")
    ax.title.set_fontsize(8)
    return save_figure(fig, path)
