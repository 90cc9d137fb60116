"""Gupta et al. 2015's reproduction: the claim functions on hand-made rows (zero, negative and
non-finite measurements included), every dataset name through the shared loader, and the quick
run's headline claims for seeds other than 0."""
from dataclasses import replace

import numpy as np
import pytest

from minicompress.reproductions import experiment
from minicompress.reproductions import gupta2015_limited_precision as gupta

NAN = float("nan")




def rows(float32=5.0, sr=(5.1, 5.2, 5.3), rn=(60.0, 8.0, 5.5), lost=(99.0, 80.0, 30.0)):
    out = {"float32": dict(test_error=float32, lost_updates=0.0)}
    for fl, s, r, l in zip((8, 10, 14), sr, rn, lost):
        out[f"SR <{16 - fl},{fl}>"] = dict(test_error=s, lost_updates=l - 5, act_saturated=0.1)
        out[f"RN <{16 - fl},{fl}>"] = dict(test_error=r, lost_updates=l, act_saturated=0.1)
    return out


def test_sr_within_float32_uses_the_papers_threshold_and_counts_better_as_within():
    assert gupta.sr_within_float32(rows(), 14, 16, "mlp").holds  # +0.30: on the threshold
    assert not gupta.sr_within_float32(rows(sr=(5.1, 5.2, 5.31)), 14, 16, "mlp").holds
    assert gupta.sr_within_float32(rows(sr=(5.1, 5.2, 1.0)), 14, 16, "mlp").holds  # better
    assert gupta.sr_within_float32(rows(float32=0.0, sr=(0.0, 0.0, 0.0)), 14, 16, "mlp").holds  # zero
    for bad in (NAN, float("inf")):
        assert not gupta.sr_within_float32(rows(sr=(5.1, 5.2, bad)), 14, 16, "mlp").holds
        assert not gupta.sr_within_float32(rows(float32=bad), 8, 16, "mlp").holds
    claim = gupta.sr_within_float32(rows(), 8, 16, "cnn")
    assert claim.key == "gupta.cnn.sr_fl8_within_float32" and claim.headline and "<8,8>" in claim.text


def test_rn_worst_at_the_smallest_fl():
    assert gupta.rn_worst_at_smallest_fl(rows(), (8, 10, 14), 16, "mlp").holds
    assert not gupta.rn_worst_at_smallest_fl(rows(rn=(6.0, 8.0, 5.5)), (8, 10, 14), 16, "mlp").holds
    # worst RN, but the RN − SR gap is larger elsewhere
    assert not gupta.rn_worst_at_smallest_fl(rows(sr=(9.9, 1.0, 5.0), rn=(10.0, 9.0, 5.5)), (8, 10, 14), 16,
                                             "mlp").holds
    assert not gupta.rn_worst_at_smallest_fl(rows(rn=(NAN, 8.0, 5.5)), (8, 10, 14), 16, "mlp").holds
    assert gupta.rn_worst_at_smallest_fl(rows(sr=(0, 0, 0), rn=(0, 0, 0)), (8, 10, 14), 16, "mlp").holds


def test_lost_updates_must_not_fall_as_fl_shrinks():
    assert gupta.lost_updates_grow_as_fl_shrinks(rows(), (8, 10, 14), 16, "mlp").holds
    assert gupta.lost_updates_grow_as_fl_shrinks(rows(lost=(0, 0, 0)), (8, 10, 14), 16, "mlp").holds
    assert not gupta.lost_updates_grow_as_fl_shrinks(rows(lost=(80, 90, 30)), (8, 10, 14), 16, "mlp").holds
    assert not gupta.lost_updates_grow_as_fl_shrinks(rows(lost=(NAN, 80, 30)), (8, 10, 14), 16, "mlp").holds
    assert not gupta.lost_updates_grow_as_fl_shrinks(rows(lost=(float("inf"), 80, 30)), (8, 10, 14), 16,
                                                     "mlp").holds
    assert not gupta.lost_updates_grow_as_fl_shrinks(rows(lost=(NAN, 80, 30)), (8,), 16, "mlp").holds


def test_claims_cover_each_fl_and_each_network():
    cfg = replace(gupta.Config(), cnn_frac_bits=(8, 14))
    table = [dict(model="mlp", format=f, **r) for f, r in rows().items()]
    table += [dict(model="cnn", format=f, **r) for f, r in rows().items() if "<6,10>" not in f]
    keys = [c.key for c in gupta.claims(table, cfg)]
    assert keys == ["gupta.mlp.sr_fl8_within_float32", "gupta.mlp.sr_fl10_within_float32",
                    "gupta.mlp.sr_fl14_within_float32", "gupta.mlp.rn_worst_at_smallest_fl",
                    "gupta.mlp.rn_loses_more_updates_at_small_fl", "gupta.cnn.sr_fl8_within_float32",
                    "gupta.cnn.sr_fl14_within_float32", "gupta.cnn.rn_worst_at_smallest_fl",
                    "gupta.cnn.rn_loses_more_updates_at_small_fl"]


def tiny():
    return replace(gupta.Config.quick(), n_train=300, n_test=100, hidden=(8,), epochs=1, frac_bits=(8,))


@pytest.mark.parametrize("name", experiment.DATASETS)
def test_every_documented_dataset_name_goes_through_the_shared_loader(name, fake_loader, tmp_path):
    report = gupta.reproduce(data=name, config=tiny(), out_dir=tmp_path, verbose=False)
    assert fake_loader == [name] and report.data == name


def test_mnist_test_split_runs_for_real(mnist_dir, tmp_path):
    report = gupta.reproduce(data="mnist_test_split", data_dir=mnist_dir, config=tiny(), out_dir=tmp_path,
                             verbose=False)
    assert report.data == "mnist_test_split" and all(np.isfinite(r["test_error"]) for r in report.rows)


def check_quick_run(seed, tmp_path):
    report = gupta.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    table = {r["format"]: r for r in report.rows}
    assert list(table) == ["float32", "RN <8,8>", "SR <8,8>", "RN <6,10>", "SR <6,10>", "RN <2,14>", "SR <2,14>"]
    assert table["float32"]["test_error"] < 20  # trained: chance is 90
    held = {c.key: c.holds for c in report.claims if c.headline}
    for key in ("gupta.mlp.sr_fl14_within_float32", "gupta.mlp.rn_worst_at_smallest_fl",
                "gupta.mlp.rn_loses_more_updates_at_small_fl"):
        assert held[key], [c for c in report.claims if c.key == key]
    assert table["RN <8,8>"]["lost_updates"] > 95  # the stall: almost every update lost


def test_quick_run_seed_3(tmp_path):
    check_quick_run(3, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 7])
def test_quick_run_other_seeds(seed, tmp_path):
    check_quick_run(seed, tmp_path)
