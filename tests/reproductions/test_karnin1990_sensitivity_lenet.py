"""Parts (2) and (3) of the Karnin reproduction, LeNet-300-100 and the overhead: their claim
functions on hand-made rows (including zero, negative, NaN and missing measurements); the runs:
tests/reproductions/test_karnin1990_sensitivity.py."""
import math

import pytest

from minicompress.reproductions import karnin1990_sensitivity_lenet as lenet
from minicompress.reproductions.experiment import row

AT = "test accuracy %, 90% of weights deleted"


def lenet_rows(lenet_acc=(65.0, 75.0, 10.0), lenet_rho=0.07, first=0.99, seconds=(0.10, 0.11), data="synth_digits"):
    experiment = f"{data} minibatch SGD"
    rows = [row(experiment, c, AT, a) for c, a in zip(lenet.CRITERIA, lenet_acc)]
    rows += [row(experiment, "dense", "test accuracy %", 80.0),
             row(experiment, "karnin", "Spearman with S, sampled weights", lenet_rho),
             row(experiment, "magnitude", "Spearman with S, sampled weights", 0.1),
             row(experiment, "−g·w_f", "Spearman with S (first-order term)", first),
             row(experiment, "S", "% of sampled weights with S < 0", 48.0)]
    rows += [row("overhead", k, "seconds per epoch, fastest", s) for k, s in zip(("SGD", "ShadowArray(SGD)"), seconds)]
    return rows + [row("overhead", "ShadowArray", "extra memory / parameter memory", 3.0)]


def verdicts(rows, data="synth_digits"):
    return {c.key: c.holds for c in lenet.lenet_claims(rows, data, 0.9)}


def test_claims_on_rows_that_show_them():
    held = verdicts(lenet_rows())
    assert {k for k, v in held.items() if not v} == {"karnin.lenet.at_least_magnitude", "karnin.lenet.spearman"}
    assert [c.key for c in lenet.lenet_claims(lenet_rows(), "synth_digits", 0.9) if c.headline] == [
        "karnin.overhead.negligible"]
    assert verdicts(lenet_rows(lenet_acc=(75.0, 75.0, 10.0), lenet_rho=0.7))["karnin.lenet.at_least_magnitude"]


@pytest.mark.parametrize("change, key", [
    (dict(lenet_acc=(10.0, 75.0, 10.0)), "lenet.beats_random"),
    (dict(lenet_acc=(math.nan, 75.0, 10.0)), "lenet.beats_random"),
    (dict(first=math.nan), "lenet.first_order"),
    (dict(seconds=(0.10, 0.126)), "overhead.negligible"),  # the 1.25×
    (dict(seconds=(0.0, 0.1)), "overhead.negligible"),
    (dict(seconds=(0.1, -0.1)), "overhead.negligible"),
    (dict(seconds=(0.1, math.nan)), "overhead.negligible"),
])
def test_claims_fail_where_the_numbers_do_not_show_them(change, key):
    assert not verdicts(lenet_rows(**change))[f"karnin.{key}"]


def test_the_full_batch_contrast_is_claimed_only_where_it_was_run():
    assert "karnin.lenet.full_batch_ranks_better" not in verdicts(lenet_rows())
    rank = "Spearman with S, sampled weights"
    for full, holds in ((0.3, True), (0.07, False), (math.nan, None)):
        held = verdicts(lenet_rows() + [row("synth_digits full-batch GD", "karnin", rank, full)])
        assert held.get("karnin.lenet.full_batch_ranks_better") is holds


def test_claims_cope_with_missing_rows():
    assert not any(c.holds for c in lenet.lenet_claims([], "synth_digits", 0.9))
    held = verdicts(lenet_rows(data="mnist"), "synth_digits")  # no LeNet rows for this data
    assert not any(v for k, v in held.items() if k.startswith("karnin.lenet"))
