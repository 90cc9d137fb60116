"""Metrics on a 2-layer MLP and a 1-conv CNN, computed by hand."""
import numpy as np
import pytest

from minicompress import metrics, nn, pruning


def mlp():
    """Linear(4, 3) - ReLU - Linear(3, 2): 12 + 3 + 6 + 2 = 23 parameters, 12 + 6 = 18 MACs."""
    model = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
    for p in model.parameters():
        p.data[:] = 1.0
    return model


def test_counts_on_a_two_layer_mlp():
    model = mlp()
    assert metrics.count_params(model) == 23 and metrics.count_nonzero(model) == 23
    model[0].weight.mask = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]])  # 6 of 12 masked
    model[2].bias.data[0] = 0.0  # an exact zero counts as a zero too
    assert metrics.count_nonzero(model) == 23 - 7
    assert metrics.sparsity(model) == pytest.approx(7 / 23)
    assert metrics.compression_ratio(model) == pytest.approx(23 / 16)
    assert metrics.compression_ratio(model[0].weight) == pytest.approx(2.0)
    f = metrics.flops(model, (4,))
    assert (f["dense"], f["nonzero"]) == (18, 6 + 6)
    assert f["layers"] == [dict(name="0", kind="Linear", dense=12, nonzero=6),
                           dict(name="2", kind="Linear", dense=6, nonzero=6)]
    assert metrics.storage_bits(model) == 23 * 32  # float32
    assert metrics.storage_bits(model, value_bits=8, index_bits=4) == 16 * 12


def test_flops_of_a_one_conv_cnn():
    # Conv2d(2, 3, 3, stride 2, padding 1) on 2x9x9: output 3x5x5, 3·2·3·3 = 54 weights x 25
    model = nn.Sequential(nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=0), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 2 * 2, 5, rng=1))
    f = metrics.flops(model, (2, 9, 9))
    assert f["layers"][0]["dense"] == 54 * 25 and f["layers"][1]["dense"] == 12 * 5
    model[0].weight.mask = np.zeros((3, 2, 3, 3))
    model[0].weight.mask[0] = 1  # one filter of 18 weights left
    f = metrics.flops(model, (2, 9, 9))
    assert f["nonzero"] == 18 * 25 + 60 and f["dense"] == 54 * 25 + 60
    assert metrics.count_params(model) == 54 + 3 + 60 + 5


def test_summary_lists_every_layer_and_the_totals():
    model = mlp()
    pruning.prune(model[0].weight, 6)
    text = metrics.summary(model, (4,))
    lines = text.splitlines()
    assert "23 parameters" in lines[0] and "theoretical speedup 1.50x" in lines[0]
    assert len(lines) == 2 + 3 + 1  # title, header, 3 layers, total
    assert lines[-1].split()[:4] == ["total", "23", "17", "26.1%"]
    assert "Linear(4 -> 3)" in lines[2] and "40.0%" in lines[2]  # 6 of 12 + 3 entries


def test_latency_is_a_positive_median():
    model = mlp()
    assert 0 < metrics.latency(model, np.ones((8, 4), np.float32), repeats=3, warmup=1) < 1.0


def test_every_layer_reports_its_own_macs():
    from minicompress.factorize import FactorizedLinear
    from minicompress.pruning.lowered import ColumnConv2d, to_csr
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((2, 16, 3))  # G = 2 groups, i = 16 inputs, k = 3 atoms
    model = nn.Sequential(nn.Flatten(), FactorizedLinear(basis, 6, rng=rng), nn.ReLU(), nn.Linear(6, 2, rng=rng))
    f = metrics.flops(model, (16,))
    assert [(r["kind"], r["dense"]) for r in f["layers"]] == [("FactorizedLinear", 2 * 16 * 3 + 6 * 3),
                                                              ("Linear", 12)]
    conv = nn.Conv2d(2, 4, 3, rng=rng, dtype=np.float64)
    conv.weight.data[:, 0] = 0  # the first input channel's 9 columns are dead
    columns = ColumnConv2d.from_conv(conv)
    assert columns.macs((4, 3, 3)) == 4 * 9 * 9 == conv.macs((4, 3, 3), nonzero=True)
    assert conv.macs((4, 3, 3)) == 4 * 18 * 9
    sparse = to_csr(nn.Sequential(conv))
    assert metrics.flops(sparse, (2, 5, 5))["dense"] == np.count_nonzero(conv.weight.data) * 9
