"""Optimal Brain Damage, the reproduction: each claim function on hand-made rows (zero,
negative and non-finite measurements included), and the quick run's headline claims."""
import math

import numpy as np
import pytest

from minicompress.reproductions import lecun1989_obd as rep

LEVELS = (0.1, 0.2, 0.3)


def one_shot(obd, magnitude, random, predicted=(1.0, 2.0, 3.0), actual=(1.0, 2.0, 3.0)):
    rows = []
    for k, f in enumerate(LEVELS):
        rows += [dict(method="OBD", deleted=f, objective_db=obd[k], predicted_increase=predicted[k],
                      actual_increase=actual[k]),
                 dict(method="magnitude", deleted=f, objective_db=magnitude[k]),
                 dict(method="random", deleted=f, objective_db=random[k])]
    return rows


def retrain(*accuracies):
    return [dict(deleted=round(0.1 * k, 1), test_accuracy=a) for k, a in enumerate(accuracies)]


def test_below_magnitude_needs_every_level():
    assert rep.below_magnitude(one_shot((-9, -8, -7), (-9, -7, -6), (0, 0, 0)), "mlp").holds  # ties count
    claim = rep.below_magnitude(one_shot((-9, -8, -5), (-9, -7, -6), (0, 0, 0)), "mlp")
    assert not claim.holds and "2 of 3 levels" in claim.measured and claim.headline
    assert not rep.below_magnitude(one_shot((-9, math.nan, -7), (-9, -7, -6), (0, 0, 0)), "mlp").holds
    assert not rep.below_magnitude([], "mlp").holds


def test_random_worst_compares_with_obd_and_magnitude():
    assert rep.random_worst(one_shot((-9, -8, -7), (-8, -7, -6), (-1, -1, -1)), "mlp").holds
    # worse than magnitude at every level, but better than OBD at 30%: does not hold
    claim = rep.random_worst(one_shot((-9, -8, 0), (-8, -7, -6), (-1, -1, -1)), "mlp")
    assert not claim.holds and "2 of 3" in claim.measured
    assert not rep.random_worst(one_shot((-9, -8, -7), (-8, -7, -6), (-1, -1, math.inf)), "mlp").holds
    assert not rep.random_worst(one_shot((-9, -8, -7), (-8, -7, -6), (-1, -7, -1)), "mlp").holds  # tie


@pytest.mark.parametrize("actual, holds", [
    ((1.0, 2.0, 3.0), True),            # exact
    ((1.2, 2.4, 3.5), True),            # predicted/actual 0.83, 0.83, 0.86
    ((1.0, 2.0, 4.0), False),           # 0.75 at 30%
    ((0.0, 2.0, 3.0), False),           # no measured increase: nothing to predict, no ZeroDivisionError
    ((-1.0, 2.0, 3.0), False),          # the objective fell
    ((math.nan, 2.0, 3.0), False),
    ((math.inf, 2.0, 3.0), False)])
def test_prediction_matches(actual, holds):
    claim = rep.prediction_matches(one_shot((0,) * 3, (0,) * 3, (0,) * 3, actual=actual), "cnn")
    assert claim.holds is holds and claim.key == "obd.cnn.prediction_matches"


def test_prediction_matches_with_a_non_finite_prediction():
    rows = one_shot((0,) * 3, (0,) * 3, (0,) * 3, predicted=(1.0, math.nan, 3.0))
    assert not rep.prediction_matches(rows, "mlp").holds
    assert not rep.prediction_matches([], "mlp").holds


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
    claim = rep.retraining_keeps_accuracy(retrain(0.9, 0.9, 0.9, 0.8, 0.9, 0.9, 0.9), "mlp")
    assert not claim.holds and "up to 20%" in claim.measured
    assert not rep.retraining_keeps_accuracy(retrain(math.nan, 0.9, 0.9, 0.9, 0.9, 0.9), "mlp").holds
    assert not rep.retraining_keeps_accuracy([], "mlp").holds
