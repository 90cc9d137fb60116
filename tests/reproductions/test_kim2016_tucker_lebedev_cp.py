"""Lebedev et al.'s operating point in the Tucker reproduction: its claims and the point itself
on hand-made rows (the runs: tests/reproductions/test_kim2016_tucker.py)."""
import numpy as np

from minicompress.reproductions import kim2016_tucker_lebedev_cp as lebedev

from .test_kim2016_tucker import NAN, rows


def test_cp_finetuning_claims():
    """Both are judged at Lebedev's point (scale 0.5 here: the smallest reduction ≥ 8.5× among
    fine-tuned CP rows), not at the VBMF ranks."""
    assert lebedev.claim_cp_within_one_point(rows(control=2.0, small_cp=(4.0, 3.0))).holds
    assert not lebedev.claim_cp_within_one_point(rows(control=2.0, small_cp=(4.0, 3.01))).holds
    assert lebedev.claim_cp_within_one_point(rows(control=2.0, small_cp=(2.5, 2.5))).holds
    assert not lebedev.claim_cp_within_one_point(rows(small_reduction=8.4)).holds
    assert lebedev.claim_cp_within_one_point(rows(small_reduction=8.5)).holds
    assert lebedev.claim_cp_within_one_point(rows(cp=(NAN, NAN))).holds  # scale 1 is not used
    assert not lebedev.claim_cp_within_one_point(rows(small_cp=(2.0, NAN))).holds
    assert lebedev.claim_cp_within_one_point(rows(control=0.0, small_cp=(0.5, 0.0))).holds
    assert lebedev.claim_cp_within_one_point(rows(control=-1.0, small_cp=(0.5, -0.5))).holds
    assert not lebedev.claim_cp_within_one_point([]).holds
    assert lebedev.claim_cp_finetuning_recovers(rows(small_cp=(4.0, 3.99))).holds
    assert not lebedev.claim_cp_finetuning_recovers(rows(small_cp=(2.5, 2.5))).holds
    assert not lebedev.claim_cp_finetuning_recovers(rows(small_cp=(NAN, 2.0))).holds
    assert not lebedev.claim_cp_finetuning_recovers(rows(small_reduction=8.4)).holds
    assert lebedev.claim_cp_finetuning_recovers(rows(small_cp=(0.0, -1.0))).holds
    assert not lebedev.claim_cp_finetuning_recovers([]).holds
    assert lebedev.claim_cp_needs_finetuning_more(rows(small_tucker=(3, 2.5), small_cp=(4, 2.6))).holds
    assert not lebedev.claim_cp_needs_finetuning_more(rows(small_tucker=(3, 2.0), small_cp=(4, 3.0))).holds
    assert not lebedev.claim_cp_needs_finetuning_more(rows(small_tucker=(0, 0), small_cp=(0, 0))).holds
    assert lebedev.claim_cp_needs_finetuning_more(rows(small_tucker=(0, 0.5), small_cp=(0, 0))).holds
    assert not lebedev.claim_cp_needs_finetuning_more(rows(small_cp=(4, NAN))).holds
    assert not lebedev.claim_cp_needs_finetuning_more([]).holds


def test_lebedev_point_is_the_smallest_reduction_at_least_8_5():
    r = rows(small_reduction=9.0)  # scale 0.5 at 9×, scale 1 at 6×, scale 2 at 2×
    assert lebedev.lebedev_point(r) == 0.5
    r.append(dict(method="cp", scale=0.25, macs_reduction=30.0, finetuned=NAN))
    assert lebedev.lebedev_point(r) == 0.5
    r.append(dict(method="cp", scale=0.6, macs_reduction=8.6, finetuned=NAN))
    assert lebedev.lebedev_point(r) == 0.6 and lebedev.lebedev_point(r, finetuned=True) == 0.5
    assert np.isnan(lebedev.lebedev_point(rows(small_reduction=8.0)))
    assert np.isnan(lebedev.lebedev_point([]))
