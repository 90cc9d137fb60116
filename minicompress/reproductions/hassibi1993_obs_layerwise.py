"""Layer-wise OBS (OBC), part (c) of :mod:`minicompress.reproductions.hassibi1993_obs` (that
module's docstring says what is reproduced, the deviations and what held; ``minicompress reproduce
obs`` runs this part with the others).

LeNet-300-100 (and LeNet-5) trained with SGD; every weight layer's rows pruned to 50–95% by OBS on
the dense net's layer inputs X (H = 2XᵀX + λI), no retraining, against layer-wise magnitude
pruning at the same sparsity.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import nn, pruning
from minicompress.models import lenet5, lenet_300_100
from minicompress.nn.im2col import im2col
from minicompress.papers import hassibi1993_obs as obs
from minicompress.report import Claim
from minicompress.reproductions.experiment import finite, say, train_lenet
from minicompress.train import evaluate


def layerwise(cfg, train_set, test_set, seed: int, verbose: bool) -> list[dict]:
    """Every weight layer pruned by layer-wise OBS or by magnitude, no retraining."""
    (x, y), (x_test, y_test) = train_set, test_set
    nets = {f"LeNet-{'-'.join(map(str, cfg.lenet_hidden))}": lambda r: lenet_300_100(r, hidden=cfg.lenet_hidden),
            **({"LeNet-5": lenet5} if cfg.lenet5 else {})}
    rows, loss = [], nn.SoftmaxCrossEntropy()
    for name, build in nets.items():
        rng = np.random.default_rng([seed, 9])
        model = train_lenet(build(rng), (x, y), cfg, rng, epochs=cfg.lenet_epochs, lr=0.05, verbose=False)
        paths, h = {}, x[:cfg.n_calibration]
        for i, layer in enumerate(model.layers):  # each weight layer, on its inputs in the dense net
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                X, W = _layer_inputs(layer, h), layer.weight.data.reshape(len(layer.weight.data), -1)
                lam = cfg.layer_damping * 2 * float(np.einsum("nd,nd->", X, X, dtype=np.float64)) / X.shape[1]
                say("obs", verbose, f"{name}: layer-wise OBS on {W.shape[0]} × {W.shape[1]}, X {X.shape}")
                paths[i] = obs.layerwise_path(W, X, cfg.sparsities, damping=lam)
            h = layer(h)
        dense = evaluate(model, loss, x_test, y_test)["accuracy"]
        for j, sparsity in enumerate(cfg.sparsities):
            for method in ("OBS", "magnitude"):
                pruned = copy.deepcopy(model)
                for i in paths:
                    weight = pruned.layers[i].weight
                    if method == "magnitude":
                        pruning.prune(weight, sparsity)
                    else:
                        W_new, mask = paths[i][j]
                        weight.data, weight.mask = W_new.reshape(weight.shape), mask.reshape(weight.shape)
                rows.append(dict(experiment=f"layer-wise {name}", method=method, deleted=sparsity,
                                 test_accuracy=evaluate(pruned, loss, x_test, y_test)["accuracy"],
                                 dense_accuracy=dense))
    return rows


def _layer_inputs(layer, h) -> np.ndarray:
    """X (n', d) of a weight layer: the rows its weight rows multiply (conv: im2col windows)."""
    if isinstance(layer, nn.Linear):
        return h.reshape(len(h), -1)
    return im2col(h, layer.kernel_size, layer.stride, layer.padding).T  # (oh·ow·n, c·kh·kw)


# ----- claims: small pure functions of the rows ----------------------------------------------------
def layerwise_claim(rows) -> Claim:
    nets = sorted({r["experiment"] for r in rows if r["experiment"].startswith("layer-wise")})
    get = {(r["experiment"], r["method"], r["deleted"]): r["test_accuracy"]
           for r in rows if r["experiment"] in nets}
    pairs = [(n, s, get.get((n, "OBS", s), np.nan), get.get((n, "magnitude", s), np.nan))
             for n in nets for s in sorted({k[2] for k in get if k[0] == n})]
    holds = bool(pairs) and all(finite(a, b) and (a > b if s >= 0.9 else a >= b - 0.005)
                                for _, s, a, b in pairs)
    return Claim("obs.layerwise.beats_magnitude", "Layer-wise OBS (OBC) without retraining: test accuracy above "
                 "layer-wise magnitude pruning's at 90% and 95% sparsity, and not more than 0.5 points below it "
                 "at 50–75%, on each network", True, holds,
                 "; ".join(f"{n[11:]} {s:.0%}: {100 * a:.1f}% vs {100 * b:.1f}%" for n, s, a, b in pairs),
                 "Dong et al. 2017, Frantar & Alistarh 2022: layer-wise OBS beats magnitude without retraining")


# ----- the figure's panel ----------------------------------------------------------------------------
def layerwise_panel(ax, rows) -> None:
    """Test accuracy against sparsity, layer-wise OBS and magnitude, per network."""
    for name in sorted({r["experiment"] for r in rows if r["experiment"].startswith("layer-wise")}):
        for m, style in (("OBS", "-"), ("magnitude", "--")):
            pts = [r for r in rows if r["experiment"] == name and r["method"] == m]
            ax.plot([100 * r["deleted"] for r in pts], [100 * r["test_accuracy"] for r in pts], "o" + style,
                    label=f"{name[11:]}, {m}")
