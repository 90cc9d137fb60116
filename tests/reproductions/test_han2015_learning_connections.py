"""The generalization reproduction: the paired interval on hand-made numbers, the claims on
hand-made rows (zero, negative, NaN), a tiny run, and (slow) the quick run for two seeds."""
import math

import numpy as np
import pytest

from minicompress.reproductions import find
from minicompress.reproductions import han2015_learning_connections as gen
from minicompress.reproductions.experiment import paired_interval
from minicompress.reproductions.han2015_learning_connections import (Config, pruning_improves_generalization,
                                                                     pruning_keeps_accuracy)


def test_paired_interval_by_hand():
    # differences 1, 2, 3: mean 2, s = 1, t(0.975, 2 df) = 4.302653 (tables)
    mean, low, high = paired_interval([11, 12, 13], [10, 10, 10])
    assert mean == 2 and low == pytest.approx(2 - 4.302653 / math.sqrt(3), abs=1e-6)
    assert high == pytest.approx(2 + 4.302653 / math.sqrt(3), abs=1e-6)
    # five pairs: t(0.975, 4) = 2.776445; t(0.95, 4) = 2.131847
    d = np.array([0.5, -0.2, 0.3, 0.1, 0.4])
    s = math.sqrt(sum((x - d.mean()) ** 2 for x in d) / 4)
    for confidence, t in ((0.95, 2.776445), (0.90, 2.131847)):
        mean, low, high = paired_interval(d, np.zeros(5), confidence)
        assert mean == pytest.approx(0.22)
        assert (low, high) == pytest.approx((0.22 - t * s / math.sqrt(5), 0.22 + t * s / math.sqrt(5)), abs=1e-6)
    assert paired_interval([1, 2], [1, 2]) == (0.0, 0.0, 0.0)  # no spread, no width
    assert paired_interval([2.0, 1.0], [1.0, 2.0])[1] < 0 < paired_interval([2.0, 1.0], [1.0, 2.0])[2]


def test_paired_interval_nan_and_bad_input():
    assert all(math.isnan(v) for v in paired_interval([1.0], [0.0]))  # one pair: no interval
    assert all(math.isnan(v) for v in paired_interval([1.0, np.nan, 2.0], [0, 0, 0]))
    assert all(math.isnan(v) for v in paired_interval([1.0, np.inf], [0, 0]))
    with pytest.raises(ValueError, match="paired_interval"):
        paired_interval([1, 2, 3], [1, 2, 3], confidence=1.5)
    with pytest.raises(ValueError):
        paired_interval([1, 2, 3], [1, 2])


def rows(diffs, dense=80.0, sparsity=70.0):
    out = [dict(replicate=i, dense=dense, pruned=dense + d, difference=d, sparsity=sparsity)
           for i, d in enumerate(diffs)]
    mean, low, high = paired_interval([r["pruned"] for r in out], [r["dense"] for r in out])
    out.append(dict(replicate="all", dense=dense, pruned=dense + mean, difference=mean, low=low, high=high,
                    sparsity=sparsity))
    return out


CFG = Config.quick()


def test_the_claim_needs_the_whole_interval_above_zero():
    assert pruning_improves_generalization(rows([0.5, 0.6, 0.7, 0.4, 0.5]), CFG).holds
    assert not pruning_improves_generalization(rows([0.5, -0.6, 0.7, 0.4, 0.5]), CFG).holds  # mean > 0, CI not
    assert not pruning_improves_generalization(rows([-0.5, -0.6, -0.7, -0.4, -0.5]), CFG).holds
    assert not pruning_improves_generalization(rows([0.0] * 5), CFG).holds  # zero is not above zero
    assert not pruning_improves_generalization(rows([1.0, np.nan, 1.0]), CFG).holds
    assert not pruning_improves_generalization(rows([1.0]), CFG).holds  # one pair: no interval
    assert not pruning_improves_generalization([], CFG).holds
    claim = pruning_improves_generalization(rows([0.5, 0.6, 0.7]), CFG)
    assert claim.headline and "95% paired interval" in claim.text and "3 pairs" in claim.measured


def test_keeps_accuracy_contrast():
    assert pruning_keeps_accuracy(rows([-0.5, -0.6, -0.4]), CFG).holds
    assert not pruning_keeps_accuracy(rows([-1.5, -1.6, -1.4]), CFG).holds
    assert not pruning_keeps_accuracy(rows([np.inf, 0.0]), CFG).holds
    assert not pruning_keeps_accuracy(rows([0.0, 0.0]), CFG).headline


def test_registered():
    assert find("generalization").module == "han2015_learning_connections"


def test_a_tiny_run_pairs_the_arms(tmp_path):
    cfg = Config(n_train=400, n_test=200, train_images=100, replicates=2, epochs=2, rounds=2, retrain_epochs=1)
    report = gen.reproduce(config=cfg, seed=4, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    pairs, summary = report.rows[:-1], report.rows[-1]
    assert [r["replicate"] for r in pairs] == [0, 1] and summary["replicate"] == "all"
    assert all(r["difference"] == pytest.approx(r["pruned"] - r["dense"]) for r in pairs)
    assert summary["difference"] == pytest.approx(np.mean([r["difference"] for r in pairs]))
    assert all(40 < r["sparsity"] < 95 for r in pairs)  # two rounds of q = 0.85
    assert all(r["epochs"] == "4/4" for r in pairs)  # 2 + 2 x 1 epochs for either arm
    again = gen.reproduce(config=cfg, seed=4, out_dir=tmp_path, verbose=False)
    assert again.rows == report.rows  # same seed, same bits


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_quick_run_reports_an_interval(seed, tmp_path):
    report = gen.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    summary = report.rows[-1]
    # 500 synthetic training images: the dense nets reach about 70% (chance is 10%)
    assert summary["dense"] > 60 and summary["low"] <= summary["difference"] <= summary["high"]
    claim = next(c for c in report.claims if c.headline)
    assert claim.holds == (summary["low"] > 0)  # reported either way: the outcome is the measurement
