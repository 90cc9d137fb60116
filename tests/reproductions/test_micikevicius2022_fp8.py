"""FP8 reproduction: the claim functions on hand-made rows (holding, failing, zero, negative,
NaN), and the quick run's headline claim for two seeds (slow)."""
import numpy as np
import pytest

from minicompress.reproductions import micikevicius2022_fp8 as fp8


def table(fp8_err=10.0, fp32=10.2, bf16=10.1, zeroed=(7.0, 0.01), lrs=(0.05,)):
    at = {}
    for lr in lrs:
        at["fp32", lr] = dict(test_error=fp32, errors_zeroed=0.0)
        at["bf16 mixed", lr] = dict(test_error=bf16, errors_zeroed=0.0)
        at[fp8.FP8, lr] = dict(test_error=fp8_err, errors_zeroed=zeroed[1])
        at[fp8.UNSCALED, lr] = dict(test_error=fp8_err, errors_zeroed=zeroed[0])
    return at


def test_matching_claim_needs_both_references_within_half_a_point():
    assert fp8.fp8_matches(table(), (0.05,)).holds
    assert fp8.fp8_matches(table(fp8_err=10.6), (0.05,)).holds  # 0.5 above bf16: within
    assert not fp8.fp8_matches(table(fp8_err=10.7), (0.05,)).holds
    assert not fp8.fp8_matches(table(fp8_err=10.65, fp32=10.0, bf16=10.5), (0.05,)).holds  # fp32 only
    assert fp8.fp8_matches(table(fp8_err=0.0, fp32=0.0, bf16=0.0), (0.05,)).holds
    assert fp8.fp8_matches(table(fp8_err=-1.0), (0.05,)).holds
    assert not fp8.fp8_matches(table(fp8_err=np.nan), (0.05,)).holds
    assert not fp8.fp8_matches(table(bf16=np.inf), (0.05,)).holds
    assert fp8.fp8_matches(table(lrs=(0.05, 0.01)), (0.05, 0.01)).headline


def test_scaling_claim_compares_underflow():
    assert fp8.scaling_keeps_gradients(table(), (0.05,)).holds
    assert not fp8.scaling_keeps_gradients(table(zeroed=(0.0, 0.0)), (0.05,)).holds  # no difference
    assert not fp8.scaling_keeps_gradients(table(zeroed=(0.01, 7.0)), (0.05,)).holds
    assert not fp8.scaling_keeps_gradients(table(zeroed=(np.nan, 0.0)), (0.05,)).holds
    assert not fp8.scaling_keeps_gradients(table(), (0.05,)).headline


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 4])
def test_quick_run_holds_its_headline_claim(seed, tmp_path):
    report = fp8.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert all(c.holds for c in report.claims if c.headline)
    assert all(r["test_error"] < 30 for r in report.rows if r["recipe"] == "fp32")  # it learned
