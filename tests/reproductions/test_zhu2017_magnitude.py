"""The library baseline: its pure functions, and the quick reproduction's qualitative claims."""
import numpy as np
import pytest

from minicompress import metrics, pruning
from minicompress.reproductions import zhu2017_magnitude as magnitude
from minicompress.models import lenet_300_100
from minicompress.papers.zhu2017_magnitude import prune_weights
from minicompress.reproductions.zhu2017_magnitude import Config, small_dense_hidden


def test_lenet_300_100_has_the_published_size():
    model = lenet_300_100(rng=0)
    assert metrics.count_params(model) == 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10  # 266,610
    assert model(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)


def test_small_dense_has_at_most_the_given_weights_and_is_the_largest_such():
    h1, h2 = small_dense_hidden(26_620)
    weights = 784 * h1 + h1 * h2 + h2 * 10
    assert (h1, h2) == (33, 11) and weights <= 26_620
    assert metrics.count_params(pruning.weights(lenet_300_100(rng=0, hidden=(h1, h2)))) == weights
    bigger = 784 * (h1 + 1) + (h1 + 1) * round((h1 + 1) / 3) + round((h1 + 1) / 3) * 10
    assert bigger > 26_620


@pytest.mark.parametrize("method", ["layer", "global", "random"])
def test_prune_weights_reaches_the_sparsity(method):
    model = lenet_300_100(rng=0)
    prune_weights(model, method, 1 - 1 / 8, rng=1)
    weights = pruning.weights(model)
    assert pruning.masked_fraction(weights) == pytest.approx(7 / 8, abs=1e-5)
    if method != "global":
        for w in weights:
            assert pruning.masked_fraction([w]) == pytest.approx(7 / 8, abs=1e-3)
    assert all(p.mask is None for p in model.parameters() if p.name.endswith("bias"))
    with pytest.raises(ValueError, match="method: expected one of"):
        prune_weights(model, "magnitude", 0.5)


def test_quick_reproduction_shows_the_qualitative_claims(tmp_path):
    report = magnitude.reproduce(quick=True, seed=0, out_dir=tmp_path, verbose=False)
    assert report.figures and report.figures[0].read_bytes()[:4] == b"\x89PNG"
    rows = {(r["experiment"], r["method"], r["compression"]): r for r in report.rows}
    dense = rows["dense", "LeNet-300-100", 1.0]["accuracy"]
    assert dense > 80  # percent; chance is 10
    for c in Config.quick().compressions:
        g, r = rows["one-shot", "global", float(c)], rows["one-shot", "random", float(c)]
        assert g["accuracy"] >= r["accuracy"] and g["finetuned"] >= r["finetuned"]
    hi = rows["one-shot", "global", 32.0]
    assert hi["finetuned"] > hi["accuracy"] + 5  # fine-tuning recovers accuracy
    assert rows["one-shot", "global", 16.0]["accuracy"] > rows["one-shot", "layer", 16.0]["accuracy"]
    shrunk = next(r for r in report.rows if r["method"] == "after surgery")
    masked = next(r for r in report.rows if r["method"] == "masked")
    assert shrunk["accuracy"] == pytest.approx(masked["accuracy"], abs=0.1)  # same outputs
    # 75% of the hidden units go: 784-75-25-10 has 784·75 + 75·25 + 25·10 = 60,925 MACs
    assert shrunk["flops_ratio"] == pytest.approx((784 * 300 + 300 * 100 + 100 * 10) / 60_925)
    claims = {c.key: c for c in report.claims}
    assert claims["magnitude.lenet.surgery_is_faster"].text.startswith("after surgery")
    assert "global" in report.table() and len(report.claims) == 6
