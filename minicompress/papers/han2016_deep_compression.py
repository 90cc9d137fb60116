"""Deep Compression: pruning, trained weight sharing and Huffman coding.

S. Han, H. Mao, W. J. Dally, "Deep Compression: Compressing Deep Neural Networks with Pruning,
Trained Quantization and Huffman Coding", ICLR 2016, arXiv:1510.00149. Its first stage is
S. Han, J. Pool, J. Tran, W. J. Dally, "Learning both Weights and Connections for Efficient
Neural Networks", NIPS 2015, arXiv:1506.02626.

The idea: the three families of the survey multiply. Pruning keeps about a tenth of the
connections; sharing leaves each kept weight a few bits of index into a small codebook; Huffman
coding then spends fewer bits on the frequent indices and gaps. LeNet-300-100 goes from 1070 KB
to 27 KB (40×) and LeNet-5 from 1720 KB to 44 KB (39×) with no loss of accuracy (Table 1).

Stage 1, pruning (Han et al. 2015; Deep Compression §2). Train; delete every connection whose
|w| is below a per-layer threshold; retrain the rest with the deleted ones held at zero; repeat.
Here a layer l is pruned to a kept fraction κ_l (the paper's Tables 2-3), reached geometrically
over R rounds, κ_l^{r/R} after round r. The kept positions are stored by their relative index
(§2, Fig. 2): each one's distance to the previous one in b bits, with fillers for longer gaps
(:mod:`minicompress.storage.sparse`).

Stage 2, trained quantization (§3). The kept weights W of a layer are clustered into k shared
values by k-means (Eq. 2),

    argmin_C Σ_{i=1}^{k} Σ_{w ∈ c_i} |w − c_i|²,

initialized linearly on [min W, max W] (Forgy and density-based initializations are worse,
§3.2, Fig. 4). The codebook is then fine-tuned: all weights of cluster k share C_k, so (Eq. 3)

    ∂L/∂C_k = Σ_{i,j} ∂L/∂W_ij · 1(I_ij = k),

with the cluster indices I and the pruning masks fixed
(:class:`minicompress.quant.sharing.SharedWeights`). Storage: n weights of b bits become n
indices of log₂k bits and k centroids of b bits (Eq. 1),

    r = n·b / (n·log₂k + k·b).

Stage 3, Huffman coding (§4) of the cluster indices and of the relative index: "saves 20%−30%
of network storage" (:mod:`minicompress.storage.huffman`). The bits are real:
:func:`minicompress.storage.save_compressed` writes them and ``os.path.getsize`` counts them.

Deviations: a filler of the relative index carries no weight index (the paper stores a zero
weight for it); the kept fractions are the paper's instead of thresholds of quality·std.
"""
from __future__ import annotations

import numpy as np

from minicompress import pruning
from minicompress.nn import Conv2d, Linear, Sequential
from minicompress.quant.sharing import SharedWeights


def compression_rate(n: int, k: int, b: int = 32) -> float:
    """Eq. 1: r = n·b / (n·log₂k + k·b), n weights of b bits shared through k centroids."""
    if n < 1 or k < 1 or b < 1:
        raise ValueError(f"compression_rate: n, k and b must be >= 1, got n={n}, k={k}, b={b}")
    return n * b / (n * np.log2(k) + k * b)


def sparse_shared_bits(entries: int, fillers: int, k: int, index_bits: int, b: int = 32) -> int:
    """Bits of a pruned and shared layer in fixed width: every entry has ⌈log₂k⌉ bits of
    cluster index and ``index_bits`` of relative index, every filler ``index_bits``; plus the
    codebook, k·b."""
    code_bits = max(1, int(np.ceil(np.log2(k))))
    return entries * (code_bits + index_bits) + fillers * index_bits + k * b


def weight_layers(model: Sequential) -> list[int]:
    """Positions of the Linear and Conv2d layers of ``model`` (what Deep Compression compresses)."""
    return [i for i, layer in enumerate(model) if isinstance(layer, (Linear, Conv2d, SharedWeights))]


def kept_after_round(kept, round_: int, rounds: int) -> list[float]:
    """The kept fraction of each layer after pruning round ``round_`` of ``rounds``: κ^{r/R}."""
    if not 1 <= round_ <= rounds:
        raise ValueError(f"round_: expected 1 … {rounds}, got {round_}")
    return [float(k) ** (round_ / rounds) for k in kept]


def prune_to(model: Sequential, kept) -> None:
    """Magnitude-prune each weight layer to its kept fraction (masks only grow: connections
    pruned earlier stay pruned). ``kept`` is aligned with :func:`weight_layers`."""
    layers = weight_layers(model)
    if len(kept) != len(layers):
        raise ValueError(f"kept: expected {len(layers)} fractions (one per weight layer), got {len(kept)}")
    for i, fraction in zip(layers, kept):
        if not 0 < fraction <= 1:
            raise ValueError(f"kept: fractions must be in (0, 1], got {fraction!r} for layer {i}")
        w = model[i].weight
        still = w.data.size - pruning.n_masked(w)
        pruning.prune(w, max(still - round(fraction * w.data.size), 0))


def share_weights(model: Sequential, bits, *, init: str = "linear", rng=None) -> Sequential:
    """A new Sequential in which every weight layer is a :class:`SharedWeights` with 2^bits
    clusters of its kept weights (``bits`` aligned with :func:`weight_layers`). The layers of
    ``model`` are reused: copy the model first to keep it."""
    layers = weight_layers(model)
    if len(bits) != len(layers):
        raise ValueError(f"bits: expected {len(layers)} widths (one per weight layer), got {len(bits)}")
    new = list(model)
    for i, b in zip(layers, bits):
        new[i] = SharedWeights.from_layer(model[i], 2 ** int(b), init=init, rng=rng)
    return Sequential(*new)


def layer_storage(info: dict, names) -> list[dict]:
    """The paper's per-layer table (Tables 2-3) from two files' headers, and a total row.

    Parameters
    ----------
    info : dict
        ``{"fixed": inspect_compressed(P+Q file), "huffman": inspect_compressed(P+Q+H file)}``.
    names : list of str
        A name per weight layer ("ip1", "conv1", ...), in order.

    Returns
    -------
    list of dict, one per weight layer, then "total": weights, kept (%), bits per kept weight of
    cluster codes ("weight bits") and of relative index (fillers included, "index bits"), in
    fixed width and Huffman-coded; the Huffman saving (%) on those two streams (Huffman tables
    counted); the bytes in the Huffman file (codebook, tables and bias included; the total is
    the file) and the rate (%) of the float32 weights and biases they replace.
    """
    rows, by_name = [], {r["name"]: r for r in info["huffman"]["tensors"]}
    fixed = [r for r in info["fixed"]["tensors"] if r["encoding"] == "shared"]
    coded = [r for r in info["huffman"]["tensors"] if r["encoding"] == "shared"]
    for name, f, h in zip(names, fixed, coded):
        bias = by_name.get(h["name"].rsplit(".", 1)[0] + ".bias")
        size = {"fixed": dict(f["streams"]), "huffman": dict(h["streams"])}
        size["huffman"]["bias"] = sum(s for _, s in bias["streams"]) if bias else 0
        rows.append(dict(layer=name, weights=int(np.prod(h["shape"])), entries=h["entries"],
                         biases=int(np.prod(bias["shape"])) if bias else 0, **{
                             f"{kind}_{stream}": size[kind].get(stream, 0) for kind in size
                             for stream in ("codes", "gaps", "codes_lengths", "gaps_lengths")},
                         bytes=sum(size["huffman"].values())))
    total = {key: sum(r[key] for r in rows) for key in rows[0] if key != "layer"}
    total.update(layer="total", bytes=info["huffman"]["file_bytes"])
    return [_bits(row) for row in rows + [total]]


def _bits(r: dict) -> dict:
    """Bits per kept weight, Huffman saving and rate of one row of byte counts."""
    n, fixed = r["entries"], 8 * (r["fixed_codes"] + r["fixed_gaps"])
    coded = 8 * sum(r[f"huffman_{s}"] for s in ("codes", "gaps", "codes_lengths", "gaps_lengths"))
    return dict(layer=r["layer"], weights=r["weights"], kept_pct=100 * n / r["weights"],
                weight_bits=8 * r["fixed_codes"] / n, weight_bits_huffman=8 * r["huffman_codes"] / n,
                index_bits=8 * r["fixed_gaps"] / n, index_bits_huffman=8 * r["huffman_gaps"] / n,
                huffman_saving_pct=100 * (1 - coded / fixed), bytes=r["bytes"],
                rate_pct=100 * r["bytes"] / (4 * (r["weights"] + r["biases"])))
