"""Srinivas & Babu, the reproduction: the quick run's claims and table."""
import pytest

from minicompress import metrics
from minicompress.models import mlp
from minicompress.reproductions import srinivas2015_data_free as sb


def test_quick_reproduction_shows_the_qualitative_claims(tmp_path):
    report = sb.reproduce(quick=True, seed=0, out_dir=tmp_path, verbose=False)
    assert report.figures and report.figures[0].read_bytes()[:4] == b"\x89PNG"
    rows = {(r["network"], r["method"]): r for r in report.rows}
    for net in ("mlp", "lenet5"):
        dense = rows[net, "dense"]["acc50"]
        ours, plain = rows[net, "saliency + surgery"], rows[net, "saliency, no surgery"]
        assert dense > 85  # percent; chance is 10
        assert ours["acc50"] > rows[net, "random"]["acc50"]
        assert ours["mean_acc"] > max(plain["mean_acc"], rows[net, "random"]["mean_acc"])
        assert 0 < rows[net, "knee (data-free stop)"]["knee_neurons"] < 100
        # parameters removed = neurons removed × (fan-in + bias + fan-out), exactly
        per_neuron = {"mlp": 784 + 1 + 10, "lenet5": 800 + 1 + 10}[net]
        total = {"mlp": metrics.count_params(mlp((784, 500, 10))), "lenet5": 431_080}[net]
        assert ours["params_1pt"] == pytest.approx(ours["neurons_1pt"] * 500 * per_neuron / total)
