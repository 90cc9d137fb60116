"""The feature-prediction part of the Denil reproduction: its claim on hand-made rows (NaN and
missing measurements; the runs: test_denil2013_predicting_parameters.py), and the network with
a predicted layer."""
from types import SimpleNamespace

import numpy as np
import pytest

from minicompress.models import mlp
from minicompress.reproductions import denil2013_predicting_parameters_features as features


def predicted(target, method, rel_error, fraction=0.25):
    return dict(experiment=f"reconstruct {target}", method=method, fraction=fraction, error=50.0,
                rel_error=rel_error)


@pytest.mark.parametrize("errors, holds", [
    ((0.7, 0.9, 0.86), False), ((0.5, 0.9, 0.86), True), ((0.9, 0.3, 0.86), True),
    ((0.0, 0.9, 0.86), True), ((np.nan, 0.9, 0.86), False), ((np.nan, np.nan, 0.1), False),
    ((np.nan, 0.4, 0.86), True)])
def test_claim_features_predicted_takes_the_best_kernel_only(errors, holds):
    se, empirical, kept = errors
    rows = [predicted("W", "se_kernel l=1", se), predicted("W", "empirical", empirical),
            predicted("W", "values at alpha", kept), predicted("W", "truncated SVD", 0.01),
            predicted("W", "se_kernel l=1", 0.01, fraction=0.1)]  # SVD and 10%: not counted
    claim = features.claim_features_predicted(rows)
    assert claim.key == "denil.features.trained_from_25pct" and claim.headline
    assert claim.holds is holds
    change = features.claim_features_predicted([{**r, "experiment": "reconstruct W - W0"} for r in rows],
                                            "W - W0")
    assert change.key == "denil.features.change_from_25pct" and not change.headline
    assert change.holds is holds
    assert not features.claim_features_predicted([]).holds


def test_the_network_with_a_predicted_layer_adds_the_change_to_w0_and_is_restored():
    """With every value kept (fraction 1) 'values at α' predicts W and W − W0 exactly, so the
    network evaluated with either prediction has the trained layer itself (at 50% last: the
    layer is predicted inexactly just before it is restored)."""
    cfg = SimpleNamespace(prediction_length_scales=(1.0,), prediction_fractions=(1.0, 0.5), prediction_ridge=0.1)
    dense = mlp((784, 6, 4, 10), rng=0)
    W0 = dense[1].weight.data.astype(np.float64)
    dense[1].weight.data[...] += np.random.default_rng(1).normal(0, 0.1, W0.shape).astype(np.float32)
    trained = dense[1].weight.data.copy()
    seen = lambda m, n: float(np.abs(m[1].weight.data - trained).max())  # noqa: E731 (0: the trained layer)
    rows = []
    shown = features.feature_predictions(cfg, dense, W0, rows, np.eye(784), np.random.default_rng(2), seen)
    exact = {r["experiment"]: r["error"] for r in rows if r["method"] == "values at alpha" and r["fraction"] == 1}
    assert exact == {"reconstruct W": pytest.approx(0, abs=1e-6), "reconstruct W - W0": pytest.approx(0, abs=1e-6)}
    assert all(r["rel_error"] == pytest.approx(0, abs=1e-6) for r in rows
               if r["method"] == "values at alpha" and r["fraction"] == 1)
    assert np.array_equal(dense[1].weight.data, trained)  # restored
    assert shown["change W − W0"].shape == (6, 784)
