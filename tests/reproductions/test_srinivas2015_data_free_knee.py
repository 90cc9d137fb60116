"""Where the data-free stop falls (the knee part of the Srinivas & Babu reproduction): the stop on
a hand-made merge sequence, the knee's row by hand, its claim directly (threshold, NaN). The claim
through claims_of: tests/reproductions/test_srinivas2015_data_free.py."""
from types import SimpleNamespace

import numpy as np

from minicompress.papers.srinivas2015_data_free import knee
from minicompress.reproductions import srinivas2015_data_free_knee as part

NAN = float("nan")


def test_the_stop_is_the_knee_of_the_merges_saliencies():
    saliencies = [0.1, 0.1, 0.2, 0.2, 0.3, 5.0, 40.0, 90.0]
    asked = []
    stop = part.data_free_stop([SimpleNamespace(saliency=s) for s in saliencies],
                               lambda k: asked.append(k) or 90.0 - k)
    np.testing.assert_array_equal(stop["saliency"], saliencies)
    assert stop["knee"] == knee(saliencies) and asked == [stop["knee"]] and 1 <= stop["knee"] < len(saliencies)
    assert stop["knee_accuracy"] == 90.0 - stop["knee"]


def test_knee_row_by_hand():
    run = dict(knee=100, n=500, dense=95.0, knee_accuracy=93.5)
    row = part.knee_row("mlp", run, lambda r, fraction: 0.5 * fraction)
    assert row == dict(network="mlp", method=part.KNEE, knee_neurons=20.0, knee_params=10.0, knee_drop=1.5)


def test_knee_claim():
    row = lambda drop: dict(knee_neurons=60.0, knee_drop=drop)  # noqa: E731
    claim = part.knee_claim(row(1.0), "mlp", "data-free.mlp", 1.0)  # exactly at the tolerance
    assert claim.holds and not claim.headline and claim.key == "data-free.mlp.knee_within_tolerance"
    assert part.knee_claim(row(-3.0), "mlp", "k", 1.0).holds  # above dense
    assert not part.knee_claim(row(1.01), "mlp", "k", 1.0).holds
    assert not part.knee_claim(row(NAN), "mlp", "k", 1.0).holds
    assert part.knee_claim(row(1.5), "mlp", "k", 2.0).holds  # the tolerance is the argument's
