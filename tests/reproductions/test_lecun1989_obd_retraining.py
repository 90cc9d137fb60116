"""Fig. 2 of the OBD reproduction, deletion with retraining: its claim and ``deletable`` on
hand-made rows (zero and non-finite accuracies; the runs: test_lecun1989_obd.py), and the
deletion schedule on a tiny network."""
import math
from types import SimpleNamespace

import numpy as np

from minicompress.models import obd_mlp
from minicompress.papers.lecun1989_obd import SquaredError, saliencies
from minicompress.reproductions import lecun1989_obd_retraining as rep


def retrain(*accuracies):
    return [dict(deleted=round(0.1 * k, 1), test_accuracy=a) for k, a in enumerate(accuracies)]


def test_deletable_takes_the_unbroken_run_from_the_first_level():
    assert rep.deletable(retrain(0.90, 0.90, 0.897, 0.91, 0.80, 0.90)) == 0.3  # 0.3 points down at 20% passes
    assert rep.deletable(retrain(0.90, 0.89, 0.90, 0.90, 0.90)) == 0.0         # the first level fails
    assert rep.deletable(retrain(0.90, 0.90, 0.80, 0.90, 0.90, 0.90, 0.90)) == 0.1  # not the highest passing
    assert rep.deletable(retrain(0.90, 0.90, math.nan, 0.90)) == 0.1
    assert math.isnan(rep.deletable(retrain(math.nan, 0.9)))
    assert math.isnan(rep.deletable([]))
    assert rep.deletable(retrain(0.0, 0.0, 0.0)) == 0.2  # a zero dense accuracy is a number like any other


def test_retraining_keeps_accuracy():
    assert rep.retraining_keeps_accuracy(retrain(0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5), "mlp").holds
    assert not rep.retraining_keeps_accuracy(retrain(0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.9), "mlp").holds  # 40%
    claim = rep.retraining_keeps_accuracy(retrain(0.9, 0.9, 0.9, 0.8, 0.9, 0.9, 0.9), "mlp")
    assert not claim.holds and "up to 20%" in claim.measured
    assert not rep.retraining_keeps_accuracy(retrain(math.nan, 0.9, 0.9, 0.9, 0.9, 0.9), "mlp").holds
    assert not rep.retraining_keeps_accuracy([], "mlp").holds


def test_with_retraining_deletes_10_percent_more_each_time_on_a_copy():
    """Each level holds round(P·f) deleted parameters in all (earlier deletions counted), retrain
    sees every level in turn, and the caller's network keeps its parameters and no mask."""
    rng = np.random.default_rng(0)
    model = obd_mlp(rng, hidden=4, dtype=np.float64)
    x, t = rng.normal(size=(20, 1, 14, 14)), np.tanh(rng.normal(size=(20, 10)))
    before = [p.data.copy() for p in model.parameters()]
    deleted = lambda m: sum(int((p.mask == 0).sum()) for p in m.parameters() if p.mask is not None)  # noqa: E731
    seen, masks = [], []
    config = SimpleNamespace(fractions=(0.1, 0.3, 0.6), curvature="lecun")
    rows = rep.with_retraining(model, SquaredError(), x, t, config, "mlp",
                               lambda m, k, label: (seen.append((k, label, deleted(m))),
                                                    masks.append([p.mask.copy() for p in m.parameters()])),
                               lambda m: dict(n_deleted=deleted(m)))
    total = sum(p.data.size for p in model.parameters())
    levels = [(f, round(total * f)) for f in config.fractions]
    assert [(r["deleted"], r["n_deleted"]) for r in rows] == [(0.0, 0), *levels]
    assert seen == [(k, f"mlp, {f:.0%} deleted, retrained", n) for k, (f, n) in enumerate(levels, start=1)]
    assert all(p.mask is None and np.array_equal(p.data, b) for p, b in zip(model.parameters(), before))
    first = np.concatenate([m.ravel() == 0 for m in masks[0]])  # by OBD's saliency, not by |w|
    lowest = np.argsort(np.concatenate([s.ravel() for s in saliencies(model, SquaredError(), x, t, "lecun")]))
    assert set(np.flatnonzero(first)) == set(lowest[:levels[0][1]])
