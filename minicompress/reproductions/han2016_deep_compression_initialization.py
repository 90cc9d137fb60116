"""The centroid initialization (Fig. 8, Figs. 4-5), one part of
:mod:`minicompress.reproductions.han2016_deep_compression` (that module's docstring says what is
reproduced, the deviations and what held; ``minicompress reproduce deep-compression`` runs this
part with the others).

The pruned LeNet-300-100 is weight-shared at b bits in every layer with linear, random and
density-based initial centroids (:data:`minicompress.quant.sharing.INITS`), its test error
measured before and after fine-tuning the centroids; the figures show the sweep, and a layer's
weights with the centroids of each initialization.
"""
from __future__ import annotations

import copy

import numpy as np

from minicompress import nn
from minicompress.papers.han2016_deep_compression import share_weights
from minicompress.quant.sharing import INITS, initial_centroids
from minicompress.report import Claim
from minicompress.reproductions.experiment import figure, finite, save_figure, say, train_lenet
from minicompress.train import evaluate


def initialization_sweep(pruned, cfg, rng, train_set, test_set, verbose) -> list[dict]:
    """Fig. 8: error after sharing every layer at b bits with each initialization, before and
    after fine-tuning the centroids."""
    rows, loss = [], nn.SoftmaxCrossEntropy()
    for init in INITS:
        for bits in cfg.sweep_bits:
            say("deep-compression", verbose, f"LeNet-300-100: {init} initialization, {bits} bits")
            model = share_weights(copy.deepcopy(pruned.clear()), [bits] * 3, init=init, rng=rng)
            before = 100 * (1 - evaluate(model, loss, *test_set)["accuracy"])
            train_lenet(model, train_set, cfg, rng, epochs=cfg.sweep_epochs, lr=cfg.share_lr, verbose=False)
            rows.append(dict(table="initialization", network="LeNet-300-100", init=init, bits=bits,
                             error_before_pct=before, error_pct=100 * (1 - evaluate(model, loss, *test_set)["accuracy"])))
    return rows


# ----- claims: pure functions of the rows ------------------------------------------------------------
def initialization_claim(rows) -> Claim:
    err = {(r["init"], r["bits"]): r["error_pct"] for r in rows if r.get("table") == "initialization"}
    bits = [b for b in (2, 3, 4) if all((init, b) in err for init in INITS)]
    ok = [finite(*(err[i, b] for i in INITS)) and err["linear", b] <= min(err["random", b], err["density", b])
          for b in bits]
    return Claim("deep_compression.initialization.linear_best",
                 "linear initialization gives a test error <= random's and density-based's at 2, 3 and 4 bits "
                 "per weight (LeNet-300-100, after fine-tuning the centroids)", True, len(bits) == 3 and all(ok),
                 "; ".join(f"{b} bits: " + ", ".join(f"{i} {err[i, b]:.2f}%" for i in INITS) for b in bits),
                 "Fig. 8 (AlexNet): linear is best at every width except 3 bits")


# ----- figures ---------------------------------------------------------------------------------------
def sweep_figure(sweep, pruned_error: float, out_dir):
    """Fig. 8: test accuracy against bits per weight for each initialization, before and after
    fine-tuning the centroids; the pruned float32 net as a line."""
    fig = figure(6, 4)
    ax = fig.subplots()
    for init, colour in zip(INITS, ("C0", "C1", "C2")):
        points = sorted((r["bits"], r["error_before_pct"], r["error_pct"]) for r in sweep if r["init"] == init)
        bits, before, after = (np.array(v) for v in zip(*points))
        ax.plot(bits, 100 - after, "o-", color=colour, label=f"{init}, centroids fine-tuned")
        ax.plot(bits, 100 - before, "x--", color=colour, alpha=0.6, label=f"{init}, k-means only")
    ax.axhline(100 - pruned_error, color="k", lw=0.8, label="pruned, float32")
    ax.set(xlabel="bits per weight (every layer)", ylabel="test accuracy (%)",
           title="LeNet-300-100: centroid initialization (Fig. 8)")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir / "deep_compression_initialization.png")


def weights_figure(run, out_dir, layer: int = 1, bits: int = 4):
    """Figs. 4-5: the kept weights of ip1, the three initializations' centroids at ``bits`` bits,
    and the k-means centroids before and after fine-tuning (``run``: what ``compress`` returns)."""
    w = run["pruned_model"][layer].weight
    kept = w.data[w.mask != 0]
    fig = figure(7, 4)
    ax = fig.subplots()
    counts, _, _ = ax.hist(kept, bins=120, color="0.7", label="kept weights of ip1 (pruned)")
    top = counts.max()
    for j, init in enumerate(INITS):
        c = initial_centroids(kept, 2 ** bits, init, rng=0)
        ax.plot(c, np.full(c.size, top * (1.05 + 0.07 * j)), "|", ms=10, label=f"{init} init ({2 ** bits})")
    for j, c in enumerate((run["kmeans_centroids"][0], run["shared"][layer].codebook.data)):
        ax.plot(c, np.full(c.size, -top * (0.05 + 0.07 * j)), "^v"[j], ms=4,
                label=("k-means centroids (linear init)", "after fine-tuning")[j] + f" ({c.size})")
    ax.set(xlabel="weight", ylabel="count", title="LeNet-300-100 ip1: weights and centroids (Figs. 4-5)")
    ax.legend(fontsize=7, loc="upper right")
    return save_figure(fig, out_dir / "deep_compression_weights.png")
