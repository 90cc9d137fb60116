"""Mishra, Latorre, Pool, Stosic, Stosic, Venkatesh, Yu & Micikevicius (2021), "Accelerating
Sparse Deep Neural Networks", arXiv:2104.08378 (NVIDIA's 2:4 structured sparsity on Ampere).

The idea. Unstructured sparsity saves little time on hardware built for dense math; a fixed,
fine-grained pattern can. In 2:4 sparsity every group of 4 consecutive weights along the
reduction (input) dimension of a matrix multiply holds at most 2 nonzeros. The sparse tensor
cores then read only the 2 stored values of each group plus a 2-bit index (metadata) saying
where each came from, and select the matching 2 of the 4 activations: half the multiplies, up to
2× math throughput, on any layer whose reduction dimension is a multiple of 4.

The pattern (Sec. 2–3, in our notation). For a Linear weight W of shape (out, in), write
W[o, 4g : 4g+4] for group g of row o. The 2:4 constraint is

    ‖W[o, 4g : 4g+4]‖₀ ≤ 2   for every o, g,

and for a Conv2d weight (out, c_in, kh, kw) the groups run along c_in at each (out, kh, kw)
(the reduction dimension of its implicit GEMM). The general N:M pattern keeps N of every M.
Storage of a float weight with s entries: s/2 values + s/2 two-bit indices, i.e. 8.5 of every
16 bytes in float32 (17/32), 4.5 of every 8 in float16 (9/16).

The recipe (Sec. 4, "the workflow"):

    1. train the dense network as usual;
    2. prune once: in each group keep the 2 weights of largest magnitude |w| (ties here go to
       the lower index), for every eligible layer;
    3. retrain with the mask fixed, repeating the original training schedule (same
       optimizer, learning-rate schedule and number of epochs).

The paper reports that the 2:4 networks so retrained match the dense accuracy across image
classification, detection, segmentation, translation and language models (its Table 1), with
the first convolution (3 input channels) and layers whose sizes do not fit left dense.

This file: the eligibility rule, the one-shot pruning of a model, and the model's bytes in the
N:M format. The masks and the format are :mod:`minicompress.pruning.nm`.
"""
from __future__ import annotations

import numpy as np

from minicompress import nn, pruning
from minicompress.pruning.nm import nm_compress, nm_prune


def eligible(model: nn.Module, m: int) -> tuple[list, list]:
    """The weights of Linear and Conv2d layers whose reduction dimension (``in``, ``c_in``,
    axis 1) is a multiple of ``m``, and the names of those that are not (left dense).

    Returns
    -------
    (list of (name, Parameter), list of str)
    """
    ok, dense = [], []
    for name, p in model.named_parameters():
        if name.split(".")[-1] != "weight" or p.data.ndim not in (2, 4):
            continue
        if p.shape[1] % m == 0:
            ok.append((name, p))
        else:
            dense.append(name)
    return ok, dense


def prune_nm(model: nn.Module, n: int = 2, m: int = 4) -> list[str]:
    """Step 2 of the recipe: the N:M magnitude mask on every eligible weight of ``model`` (in
    place); returns the names of the weights left dense."""
    ok, dense = eligible(model, m)
    for _, p in ok:
        nm_prune(p, n, m)
    return dense


def model_bytes(model: nn.Module, n: int = 2, m: int = 4) -> dict:
    """Bytes of ``model``'s parameters dense, and with every eligible weight stored in the N:M
    format (values + ⌈log₂ M⌉-bit indices, :func:`~minicompress.pruning.nm_compress`) and the
    rest (biases, ineligible weights) dense. The eligible weights must be N:M sparse (their
    effective values ``data · mask`` are stored).

    Returns
    -------
    dict with ``dense`` (all parameters, dense), ``nm`` (the N:M model), ``nm_weights`` and
    ``dense_weights`` (the eligible weights alone, in the format and dense).
    """
    ok, _ = eligible(model, m)
    names = {name for name, _ in ok}
    compressed = {name: nm_compress(p.value(), n, m).nbytes for name, p in ok}
    dense = sum(p.data.nbytes for p in model.parameters())
    rest = sum(p.data.nbytes for name, p in model.named_parameters() if name not in names)
    return dict(dense=int(dense), nm=int(rest + sum(compressed.values())),
                nm_weights=int(sum(compressed.values())),
                dense_weights=int(sum(p.data.nbytes for _, p in ok)))


def sparsity_per_weight(model: nn.Module) -> dict[str, float]:
    """Masked fraction of each weight of ``model`` (0 where there is no mask): what the
    unstructured baseline must match, layer by layer."""
    return {name: pruning.masked_fraction([p]) for name, p in model.named_parameters()
            if name.split(".")[-1] == "weight"}


def is_nm_model(model: nn.Module, n: int = 2, m: int = 4) -> bool:
    """Are all eligible weights of ``model`` N:M sparse (their effective values)?"""
    ok, _ = eligible(model, m)
    return all(pruning.is_nm_sparse(np.asarray(p.value()), n, m) for _, p in ok)
