"""Denil et al. 2013, the experiments: the quick reproduction's headline claims, and each claim
function on hand-made rows (the feature prediction's: test_denil2013_predicting_parameters_features.py)."""
from pathlib import Path

import numpy as np
import pytest

from minicompress import metrics
from minicompress.models import equal_count_width, mlp
from minicompress.reproductions import denil2013_predicting_parameters as denil

from .test_denil2013_predicting_parameters_features import predicted


def test_reproduce_checks_its_config_before_training(tmp_path):
    with pytest.raises(ValueError, match="unknown kind 'dct'; expected one of se_kernel, empirical, "
                                         "random_gaussian, identity_subset, learned"):
        denil.reproduce(config=denil.Config(trained=(("se_kernel", 0.1), ("dct", 0.1))),
                        out_dir=tmp_path)
    with pytest.raises(ValueError, match=r"fraction: expected a number in \(0, 1\], got 0"):
        denil.reproduce(config=denil.Config(baselines=(0.1, 0)), out_dir=tmp_path)


def test_equal_count_width_is_the_widest_within_budget():
    count = lambda h: metrics.count_params(mlp((784, h, 500, 10), rng=0))  # noqa: E731
    budget = count(500) - 784 * 500 + 500 * 78  # the factorized net at 10%
    h = equal_count_width(budget)
    assert count(h) <= budget < count(h + 1)
    with pytest.raises(ValueError, match="below the smallest MLP 784-1-500-10"):
        equal_count_width(100)


@pytest.mark.parametrize("data, seed", [
    ("synth_digits", 1),
    pytest.param("synth_digits", 0, marks=pytest.mark.slow),
    pytest.param("mnist_test_split", 2, marks=pytest.mark.slow)])
def test_quick_reproduction_holds_its_headline_claims(data, seed, tmp_path):
    data_dir = "/work/shared/data/mnist" if data == "mnist_test_split" else None
    if data_dir and not Path(data_dir).is_dir():
        pytest.skip("the MNIST test files are not on this machine")
    report = denil.reproduce(quick=True, seed=seed, data=data, data_dir=data_dir, out_dir=tmp_path,
                             verbose=False)
    assert len(report.figures) == 2 and all(f.read_bytes()[:4] == b"\x89PNG" for f in report.figures)
    claims = {c.key: c for c in report.claims}
    assert claims["denil.mlp.se25_within_full"].holds, claims["denil.mlp.se25_within_full"].measured
    assert claims["denil.mlp.se10_beats_random"].holds, claims["denil.mlp.se10_beats_random"].measured
    full = next(r["error"] for r in report.rows if r["experiment"] == "full network")
    assert full < (9 if data == "synth_digits" else 6)  # trained: 7.5% and 4.3% in the quick runs
    # the documented exception: trained features are not predicted accurately (see the docstring)
    features = claims["denil.features.trained_from_25pct"]
    assert features.headline and not features.holds


# ----- each claim function on hand-made rows ---------------------------------------------------------
def trained(method, fraction, error):
    return dict(experiment="trained", method=method, fraction=fraction, error=error)


def full(error):
    return dict(experiment="full network", method="dense 784-500-500-10", fraction=1.0, error=error)


@pytest.mark.parametrize("se, reference, holds", [
    (5.0, 4.6, True), (5.0, 4.5, True), (5.25, 4.5, False), (3.0, 4.6, True),  # 0.5 itself holds
    (0.0, 0.0, True), (-1.0, 0.0, True), (np.nan, 4.6, False), (5.0, np.nan, False),
    (np.inf, 4.6, False), (5.0, -np.inf, False)])
def test_claim_within_full(se, reference, holds):
    claim = denil.claim_within_full([full(reference), trained("se_kernel", 0.25, se)])
    assert claim.key == "denil.mlp.se25_within_full" and claim.headline and claim.holds is holds
    assert "0.5 points" in claim.text
    five = denil.claim_within_full([full(reference), trained("se_kernel", 0.05, se)], 0.05, False)
    assert five.key == "denil.mlp.se5_within_full" and not five.headline and five.holds is holds


def test_claim_within_full_without_its_rows_does_not_hold():
    assert not denil.claim_within_full([full(4.0)]).holds
    assert not denil.claim_within_full([trained("se_kernel", 0.25, 4.0)]).holds
    assert not denil.claim_within_full([full(4.0), trained("se_kernel", 0.25, "n/a")]).holds


@pytest.mark.parametrize("other, se, holds", [
    (8.0, 6.0, True), (6.0, 6.0, False), (5.0, 6.0, False), (0.0, 0.0, False), (0.1, 0.0, True),
    (-1.0, -2.0, True), (np.nan, 6.0, False), (8.0, np.nan, False), (np.inf, 6.0, False)])
def test_claim_beats(other, se, holds):
    rows = [trained("se_kernel", 0.1, se), trained("random_gaussian", 0.1, other),
            trained("random_gaussian", 0.25, 100.0)]  # another fraction: ignored
    claim = denil.claim_beats(rows)
    assert claim.key == "denil.mlp.se10_beats_random" and claim.headline
    assert claim.holds is holds
    rows = [trained("se_kernel", 0.1, se), trained("learned", 0.1, other)]
    low_rank = denil.claim_beats(rows, "learned", headline=False)
    assert low_rank.key == "denil.mlp.se10_beats_low_rank" and low_rank.holds is holds


def test_claims_lists_only_what_was_measured():
    assert denil.claims([full(4.0)]) == []
    rows = [full(4.0), trained("se_kernel", 0.1, 4.0), trained("se_kernel", 0.25, 4.0),
            trained("random_gaussian", 0.1, 6.0)]
    assert [c.key for c in denil.claims(rows)] == ["denil.mlp.se25_within_full",
                                                   "denil.mlp.se10_beats_random"]
    rows += [trained("se_kernel", 0.05, 4.0), trained("learned", 0.1, 5.0),
             predicted("W", "values at alpha", 0.86), predicted("W - W0", "values at alpha", 0.85)]
    assert [c.key for c in denil.claims(rows)] == [
        "denil.mlp.se25_within_full", "denil.mlp.se10_beats_random",
        "denil.features.trained_from_25pct", "denil.features.change_from_25pct",
        "denil.mlp.se5_within_full", "denil.mlp.se10_beats_low_rank"]
    assert [c.headline for c in denil.claims(rows)] == [True, True, True, False, False, False]
