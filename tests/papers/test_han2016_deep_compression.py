"""Deep Compression, the method: Eq. 1 by hand, the pruning schedule and its exact kept
fractions, weight sharing of every layer, the fixed-width arithmetic against a real file, and
the per-layer table from hand-made headers."""
import math

import numpy as np
import pytest

from minicompress import nn, pruning
from minicompress.models import lenet5, lenet_300_100
from minicompress.papers.han2016_deep_compression import (compression_rate, kept_after_round,
                                                          layer_storage, prune_to, share_weights,
                                                          sparse_shared_bits, weight_layers)
from minicompress.quant.sharing import SharedWeights
from minicompress.storage import inspect_compressed, save_compressed


def test_compression_rate_by_hand():
    # Eq. 1: r = n·b / (n·log2 k + k·b). The paper's Fig. 3: 16 weights, 4 clusters, 32 bits:
    # 16·32 / (16·2 + 4·32) = 512 / 160 = 3.2
    assert compression_rate(16, 4, 32) == pytest.approx(3.2)
    assert compression_rate(1000, 2, 8) == pytest.approx(8000 / (1000 + 16))
    assert compression_rate(10, 1, 32) == pytest.approx(320 / 32)  # log2 1 = 0: only the codebook
    with pytest.raises(ValueError, match="n, k and b"):
        compression_rate(0, 4)


def test_sparse_shared_bits_is_what_the_fixed_width_file_stores(tmp_path):
    layer = nn.Linear(200, 50, rng=0)
    pruning.prune(layer.weight, 0.92)
    model = nn.Sequential(nn.Flatten(), SharedWeights.from_layer(layer, 16))
    save_compressed(model, tmp_path / "m.mcz", huffman=False, index_bits=4)
    record = inspect_compressed(tmp_path / "m.mcz")["tensors"][0]
    streams = dict(record["streams"])
    fillers = record["symbols"] - record["entries"]
    bits = sparse_shared_bits(record["entries"], fillers, 16, 4)
    assert record["entries"] == 800  # 8% of 10,000
    # the file rounds each stream up to whole bytes
    stored = 8 * (streams["codes"] + streams["gaps"] + streams["codebook"])
    assert 0 <= stored - bits < 16
    assert bits == 800 * (4 + 4) + fillers * 4 + 16 * 32


def test_kept_after_round_is_geometric_and_ends_at_the_target():
    kept = kept_after_round([0.08, 0.5], 3, 3)
    assert kept == pytest.approx([0.08, 0.5])
    assert kept_after_round([0.08], 1, 2) == pytest.approx([math.sqrt(0.08)])
    with pytest.raises(ValueError, match="round_"):
        kept_after_round([0.1], 0, 3)


def test_prune_to_reaches_the_fractions_exactly_and_masks_only_grow():
    model = lenet5(rng=0)
    assert weight_layers(model) == [0, 3, 7, 9]
    targets = [0.66, 0.12, 0.08, 0.19]
    prune_to(model, kept_after_round(targets, 1, 2))
    first = [model[i].weight.mask.copy() for i in weight_layers(model)]
    for i in weight_layers(model):  # change the weights: the next round must not revive any
        model[i].weight.data = np.random.default_rng(i).normal(size=model[i].weight.shape).astype(np.float32)
    prune_to(model, targets)
    for i, target, before in zip(weight_layers(model), targets, first):
        w = model[i].weight
        assert np.count_nonzero(w.mask) == round(target * w.data.size)
        assert np.all(w.mask <= before)
    # the kept weights of a layer are its largest magnitudes among the survivors
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 300, rng=1))
    prune_to(model, [0.1])
    w = model[1].weight  # data keeps the pruned values
    assert np.abs(w.data[w.mask != 0]).min() >= np.abs(w.data[w.mask == 0]).max()
    with pytest.raises(ValueError, match="one per weight layer"):
        prune_to(model, [0.1, 0.2])
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        prune_to(model, [0.0])


def test_share_weights_replaces_every_weight_layer():
    model = lenet_300_100(rng=0)
    prune_to(model, [0.08, 0.09, 0.26])
    x = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    before = model(x)
    shared = share_weights(model, [6, 6, 4])
    assert [type(shared[i]).__name__ for i in weight_layers(shared)] == ["SharedWeights"] * 3
    assert [shared[i].k for i in weight_layers(shared)] == [64, 64, 16]
    np.testing.assert_allclose(shared(x), before, atol=0.05 * np.abs(before).max())
    with pytest.raises(ValueError, match="one per weight layer"):
        share_weights(model, [6])


def header(name, entries, shape, streams, code_bits=5, bias=None):
    records = [dict(name=name, encoding="shared", entries=entries, shape=shape, code_bits=code_bits,
                    streams=list(streams.items()))]
    if bias:
        records.append(dict(name=name.replace("weight", "bias"), encoding="dense", shape=[bias],
                            streams=[["values", 4 * bias]]))
    return records


def test_layer_storage_from_hand_made_headers():
    # one layer of 1000 weights, 100 kept: fixed 5-bit codes and 4-bit gaps over 120 symbols
    fixed = header("1.weight", 100, [10, 100], dict(codebook=128, gaps=60, codes=63), bias=10)
    coded = header("1.weight", 100, [10, 100], dict(codebook=128, gaps_lengths=16, gaps=40,
                                                     codes_lengths=32, codes=50), bias=10)
    info = dict(fixed=dict(tensors=fixed, file_bytes=500), huffman=dict(tensors=coded, file_bytes=400))
    layer, total = layer_storage(info, ["ip1"])
    assert layer["layer"] == "ip1" and total["layer"] == "total"
    assert layer["kept_pct"] == pytest.approx(10)
    assert layer["weight_bits"] == pytest.approx(8 * 63 / 100)
    assert layer["weight_bits_huffman"] == pytest.approx(4.0)
    assert layer["index_bits"] == pytest.approx(4.8) and layer["index_bits_huffman"] == pytest.approx(3.2)
    assert layer["huffman_saving_pct"] == pytest.approx(100 * (1 - (40 + 50 + 16 + 32) / (60 + 63)))
    assert layer["bytes"] == 128 + 16 + 40 + 32 + 50 + 40
    assert layer["rate_pct"] == pytest.approx(100 * layer["bytes"] / (4 * 1010))
    assert total["bytes"] == 400 and total["rate_pct"] == pytest.approx(100 * 400 / 4040)
