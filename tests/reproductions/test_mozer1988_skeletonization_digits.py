"""Part (3) of the skeletonization reproduction, input relevance on digits: its claim functions
on hand-made rows (NaN and missing measurements; the runs: test_mozer1988_skeletonization.py)."""
import math

import pytest

from minicompress.reproductions import mozer1988_skeletonization_digits as digits
from minicompress.reproductions.experiment import row


def digits_rows(most=20.0, random=60.0, least=75.0, data="synth_digits"):
    rows = [row(f"{data} input relevance", method, "test accuracy %, 50% of pixels gated off", value)
            for method, value in (("most ρ̂ first", most), ("random", random), ("least |ρ̂| first", least))]
    return rows + [row(f"{data} input relevance", "no pixel removed", "test accuracy %", 90.0)]


def verdicts(rows, data="synth_digits"):
    return {c.key: c.holds for c in digits.digits_claims(rows, data)}


def test_claims_hold_on_rows_that_show_them():
    assert verdicts(digits_rows()) == {"skeletonization.digits.critical_inputs": True,
                                       "skeletonization.digits.least_relevant_go_first": True}
    assert [c.headline for c in digits.digits_claims(digits_rows(), "synth_digits")] == [True, False]


@pytest.mark.parametrize("change, key", [
    (dict(most=60.0), "critical_inputs"),  # as low as random is not lower
    (dict(random=math.nan), "critical_inputs"),
    (dict(least=60.0), "least_relevant_go_first"),
    (dict(least=math.nan), "least_relevant_go_first"),
])
def test_claims_fail_where_the_numbers_do_not_show_them(change, key):
    assert not verdicts(digits_rows(**change))[f"skeletonization.digits.{key}"]


def test_claims_cope_with_missing_rows():
    assert not any(verdicts([]).values())
    assert not any(verdicts(digits_rows(data="mnist"), "synth_digits").values())  # no rows for this data
