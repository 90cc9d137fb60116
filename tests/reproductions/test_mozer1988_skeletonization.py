"""Skeletonization, the reproduction: the quick run's headline claims for two seeds, the claim
functions on hand-made rows (including zero, negative, NaN and missing measurements; the digits
part's: test_mozer1988_skeletonization_digits.py)."""
import math

import pytest

from minicompress.reproductions import mozer1988_skeletonization as mozer
from minicompress.reproductions.experiment import row

from .test_mozer1988_skeletonization_digits import digits_rows

SETTINGS = ((0.5, 0.0), (0.25, 0.9))


def made_rows(first=95.0, early=1.0, late=0.05, rho=0.6, failures=(6, 1, 1, 15), **digits):
    """The rule-plus-exception and multiplexer rows, and the digits' (``digits``: see ``digits_rows``)."""
    rows = [row("rule+exception", method, mozer.FIRST, first, n=20) for method in mozer.ESTIMATES.values()]
    rows += [row("rule+exception", "ρ̂ quadratic / ρ̂ linear", f"mean |ρ̂| ratio {when}", value)
             for when, value in (("after sweep 1", early), ("at convergence", late))]
    rows.append(row("rule+exception", "ρ̂ linear vs ρ", "Spearman over each net's 6 gates", rho))
    for lr, momentum in SETTINGS:
        rows += [row(f"multiplexer lr {lr} mom {momentum}", method, "failures (nets)", value, n=20)
                 for method, value in zip(("4 hidden from scratch", "8 -> 4 by relevance", "8 -> 4 by magnitude",
                                           "8 -> 4 by random"), failures)]
    return rows + digits_rows(**digits)


def verdicts(rows, data="synth_digits", routes=mozer.ROUTES):
    return {c.key: c.holds for c in mozer.claims(rows, SETTINGS, data, routes)}


def test_claims_hold_on_rows_that_show_them():
    held = verdicts(made_rows())
    assert all(held.values()) and len(held) == 3 + 2 * len(SETTINGS) + 2
    headline = [c.key for c in mozer.claims(made_rows(), SETTINGS, "synth_digits") if c.headline]
    assert headline == ["skeletonization.rpe.rule_above_exception", "skeletonization.rpe.quadratic_fades",
                        "skeletonization.mux.fewer_failures", "skeletonization.digits.critical_inputs"]


@pytest.mark.parametrize("change, key", [
    (dict(first=89.9), "rpe.rule_above_exception"),  # the paper's ≥ 90%
    (dict(first=math.nan), "rpe.rule_above_exception"),
    (dict(late=0.25), "rpe.quadratic_fades"),  # a fall of exactly 4× is not more
    (dict(early=0.0, late=0.0), "rpe.quadratic_fades"),
    (dict(early=-1.0, late=-1.0), "rpe.quadratic_fades"),
    (dict(late=math.nan), "rpe.quadratic_fades"),
    (dict(rho=math.nan), "rpe.spearman"),
    (dict(failures=(3, 3, 1, 15)), "mux.fewer_failures"),  # a tie is not fewer
    (dict(failures=(0, 0, 0, 0)), "mux.fewer_failures"),
    (dict(failures=(3, -1, 1, 15)), "mux.fewer_failures"),
    (dict(failures=(6, math.nan, 1, 15)), "mux.fewer_failures"),
    (dict(failures=(6, 1, 1, 1)), "mux.random_fails_more"),
])
def test_claims_fail_where_the_numbers_do_not_show_them(change, key):
    held = verdicts(made_rows(**change))
    assert not held[f"skeletonization.{key}"]


def test_routes_not_run_have_no_claims():
    held = verdicts(made_rows(), routes=mozer.ROUTES[:3])
    assert all(held.values()) and not any("random_fails_more" in key for key in held)


def test_claims_cope_with_missing_rows():
    claims = mozer.claims([], SETTINGS, "synth_digits")
    assert claims and not any(c.holds for c in claims)


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_quick_reproduction_holds_its_headline_claims(tmp_path, capsys, seed):
    report = mozer.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert capsys.readouterr() == ("", "")  # verbose=False prints nothing
    assert len(report.figures) == 3 and all(f.read_bytes()[:4] == b"\x89PNG" for f in report.figures)
    assert report.data == "synth_digits" and report.notes
    headline = {c.key: c for c in report.claims if c.headline}
    assert len(headline) == 4
    failed = [f"{c.text}: {c.measured}" for c in headline.values() if not c.holds]
    assert not failed, failed


def test_an_unknown_dataset_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="unknown image dataset 'digits'"):
        mozer.reproduce(quick=True, data="digits", out_dir=tmp_path, verbose=False)
