"""Wen et al. SSL, the reproduction: each claim function on hand-made rows (including zero,
negative and non-finite measurements), the terms of a variant, and the quick run's headline
claims for two seeds. Measured speeds are checked for being computed and finite, never for
holding: they depend on the machine and its load."""
import numpy as np
import pytest

from minicompress.models import CONV1, CONV2, lenet5
from minicompress.reproductions import wen2016_ssl as w

NAN = float("nan")


def rows(base=98.0, ssl=97.9, conv2_x=6.0, fast=2.5, slow=0.8, difference=5e-6, reference=None, name="λ=1"):
    """Rows as :func:`w.table` makes them, with the numbers the claims read."""
    out = [dict(model="dense baseline", accuracy=base, ms=20.0)]
    if reference is not None:
        out.append(dict(model="dense, trained as long", accuracy=reference))
    out += [dict(model=f"SSL {name}", accuracy=ssl, baseline_minus_ssl=base - ssl, conv1_macs_x=2.0,
                 conv2_macs_x=conv2_x, conv_macs_x=4.0, macs_x=3.0, speedup=fast, conv1_x=1.5, conv2_x=3.0,
                 fc1_x=1.2, max_output_difference=difference),
            dict(model=f"  unstructured CSR, same nnz as {name}", accuracy=97.0, macs_x=3.0, speedup=slow)]
    return out


def outcome(table, name="λ=1"):
    return {c.key.split(".", 2)[2]: c for c in w.claims_of(table, name)}


def test_claims_on_hand_made_rows():
    claims = outcome(rows())
    assert all(c.holds for c in claims.values())
    assert [k for k, c in claims.items() if c.headline] == ["accuracy_and_conv2", "twice_unstructured_speedup"]
    assert "vs_trained_as_long" not in claims
    assert outcome(rows(reference=98.05))["vs_trained_as_long"].holds  # 0.15 points below
    assert not outcome(rows(reference=98.2))["vs_trained_as_long"].holds


@pytest.mark.parametrize("change, broken", [
    (dict(ssl=97.75), ["accuracy_and_conv2"]), (dict(conv2_x=3.9), ["accuracy_and_conv2"]),
    (dict(fast=2.5, slow=1.3), ["twice_unstructured_speedup", "csr_not_faster"]),
    (dict(fast=1.9, slow=0.96), ["twice_unstructured_speedup", "network_speedup_2x"]),
    (dict(fast=1.9), ["network_speedup_2x"]), (dict(difference=2e-4), ["surgery_exact"])])
def test_each_threshold_breaks_its_claim(change, broken):
    claims = outcome(rows(**change))
    assert [k for k, c in claims.items() if not c.holds] == broken


def test_thresholds_are_inclusive_and_gains_count():
    claims = outcome(rows(ssl=97.8, conv2_x=4.0, fast=2.0, slow=1.0))  # exactly at every threshold
    assert all(c.holds for c in claims.values())
    assert outcome(rows(ssl=99.0))["accuracy_and_conv2"].holds  # SSL more accurate than the baseline


@pytest.mark.parametrize("bad", [NAN, float("inf"), -float("inf")])
def test_non_finite_measurements_never_hold_and_never_raise(bad):
    claims = outcome(rows(ssl=bad, conv2_x=bad, fast=bad, slow=bad, difference=bad, reference=bad))
    assert not any(c.holds for c in claims.values())
    assert not outcome(rows(base=bad))["accuracy_and_conv2"].holds


def test_zero_and_negative_measurements_are_judged_not_crashed():
    claims = outcome(rows(conv2_x=0.0, fast=0.0, slow=0.0, difference=0.0, ssl=98.0))
    assert not claims["accuracy_and_conv2"].holds and claims["surgery_exact"].holds
    # a speed ratio of zero or below is a broken measurement: no speed claim holds on it
    for bad in (0.0, -1.0):
        judged = outcome(rows(fast=bad, slow=bad))
        assert not any(judged[k].holds for k in ("twice_unstructured_speedup", "network_speedup_2x", "csr_not_faster"))
        judged = outcome(rows(slow=bad))  # 2.5 >= 2·bad and bad <= 1, yet neither holds
        assert not judged["twice_unstructured_speedup"].holds and not judged["csr_not_faster"].holds


def test_a_variant_puts_no_channel_group_on_conv1():
    model = lenet5(0)
    terms = w.terms_for(model, {"filter": 0.1, "channel": 0.2, "shape": 0.3})
    placed = sorted((t.param is model[CONV2].weight, t.kind, t.strength) for t in terms)
    assert placed == [(False, "filter", 0.1), (False, "shape", 0.3),
                      (True, "channel", 0.2), (True, "filter", 0.1), (True, "shape", 0.3)]
    assert all(t.param is model[CONV1].weight for t in terms if not t.param is model[CONV2].weight)


def check_quick_run(seed, tmp_path):
    report = w.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert report.figures and report.figures[0].read_bytes()[:4] == b"\x89PNG"
    assert report.data == "synth_digits"
    (name,) = w.Config.quick().variants
    claims = {c.key: c for c in report.claims}
    accuracy = claims[f"ssl.{name}.accuracy_and_conv2"]  # 9 of 10 quick seeds on synthetic digits (not 8)
    assert accuracy.headline and accuracy.holds, accuracy.measured
    speed = claims[f"ssl.{name}.twice_unstructured_speedup"]  # measured: computed, never asserted to hold
    assert speed.headline and "SSL" in speed.measured and "CSR" in speed.measured
    assert claims[f"ssl.{name}.surgery_exact"].holds
    table = {r["model"]: r for r in report.rows}
    assert table["dense baseline"]["accuracy"] > 90  # percent; chance is 10
    for row in table.values():  # timings: computed and finite, never asserted to hold
        assert "speedup" not in row or (np.isfinite(row["speedup"]) and row["speedup"] > 0)


def test_quick_run_headline_claims(tmp_path):
    check_quick_run(2, tmp_path)


@pytest.mark.slow
def test_quick_run_headline_claims_seed_0(tmp_path):
    check_quick_run(0, tmp_path)
