"""The structured run of :mod:`minicompress.reproductions.zhu2017_magnitude` (that module's
docstring says what is reproduced, the deviations and what held; ``minicompress reproduce
magnitude`` runs this part with the rest).

A copy of the dense model loses ``structured_fraction`` of each hidden layer's units by their
weights' L2 norm (PyTorch's ``ln_structured``), is fine-tuned, then shrunk by surgery; both the
masked and the shrunk model are timed on one batch in the same run, and the claim is that the
shrunk one keeps the outputs and runs faster (a mask alone saves no time).
"""
from __future__ import annotations

import numpy as np

from minicompress import metrics, nn, pruning
from minicompress.report import Claim
from minicompress.reproductions.experiment import finite, say


def structured(cfg, model, train, test, x_test, verbose: bool) -> list[dict]:
    """The two rows (masked, after surgery) of the structured run on ``model`` (modified):
    ``train(model, epochs, lr)`` fine-tunes, ``test(model)`` is the test accuracy in %, the first
    ``cfg.latency_batch`` images of ``x_test`` are the timed batch."""
    say("magnitude", verbose, f"structured: {cfg.structured_fraction:.0%} of the hidden units, then surgery")
    for layer in model.layers[1:-1]:
        if isinstance(layer, nn.Linear):
            pruning.ln_structured(layer.weight, cfg.structured_fraction, n=2, dim=0)
    train(model, cfg.finetune_epochs, cfg.lr / 10)
    small, _ = pruning.shrink(model)
    x = x_test[:cfg.latency_batch]
    masked_s = metrics.latency(model, x, repeats=cfg.latency_repeats)
    small_s = metrics.latency(small, x, repeats=cfg.latency_repeats)
    c = metrics.count_params(model) / metrics.count_params(small)  # parameters, masked / shrunk
    flops = metrics.flops(model, (1, 28, 28))["dense"] / metrics.flops(small, (1, 28, 28))["dense"]
    return [dict(experiment="structured", method="masked", compression=c, accuracy=test(model),
                 ms=1e3 * masked_s),
            dict(experiment="structured", method="after surgery", compression=c, accuracy=test(small),
                 ms=1e3 * small_s, speedup=masked_s / small_s, flops_ratio=flops,
                 max_output_difference=float(np.abs(model(x) - small(x)).max()))]


def surgery_is_faster(rows, cfg) -> Claim:
    r = next(r for r in rows if r["experiment"] == "structured" and r["method"] == "after surgery")
    speed, diff = r["speedup"], r["max_output_difference"]
    return Claim("magnitude.lenet.surgery_is_faster",
                 "after surgery the structured-pruned model keeps its outputs (max difference < 1e-4) "
                 "and runs faster than the masked model", False,
                 finite(speed, diff) and speed > 1 and diff < 1e-4,
                 f"measured {speed:.2f}x faster (FLOPs ratio {r['flops_ratio']:.2f}x, batch "
                 f"{cfg.latency_batch}); max |difference| {diff:.1e}",
                 "a mask alone saves no time (Blalock et al. 2020: report measured speedups)")
