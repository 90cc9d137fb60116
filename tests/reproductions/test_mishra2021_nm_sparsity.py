"""The N:M reproduction: its claim functions on hand-made rows, a tiny run of the whole pipeline,
and (slow) the quick run's headline claims for two seeds."""
import numpy as np
import pytest

from minicompress.reproductions import find
from minicompress.reproductions import mishra2021_nm_sparsity as nm
from minicompress.reproductions.mishra2021_nm_sparsity import (Config, close_to_unstructured,
                                                               retraining_recovers, two_four_bytes,
                                                               two_four_matches_dense)

NAME = "LeNet-300-100"


def rows(dense=95.0, longer=95.2, one_shot=90.0, retrained=95.0, unstructured=95.3, ratio=17 / 32):
    return [dict(net=NAME, method="dense", pattern="", one_shot=dense, bytes=1000.0),
            dict(net=NAME, method="dense, trained as long", pattern="", one_shot=longer, bytes=1000.0),
            dict(net=NAME, method="2:4", pattern="2:4", one_shot=one_shot, retrained=retrained,
                 bytes=560.0, weight_bytes_ratio=ratio),
            dict(net=NAME, method="unstructured", pattern="2:4", one_shot=94.0, retrained=unstructured)]


def test_matches_dense_uses_the_dense_net_trained_as_long_and_the_paper_threshold():
    assert two_four_matches_dense(rows(retrained=94.8), NAME, "mlp").holds       # 0.4 below
    assert not two_four_matches_dense(rows(retrained=94.6), NAME, "mlp").holds   # 0.6 below
    assert not two_four_matches_dense(rows(dense=90.0, longer=96.0), NAME, "mlp").holds
    claim = two_four_matches_dense(rows(), NAME, "mlp")
    assert claim.headline and claim.key == "nm.mlp.two_four_matches_dense" and "0.5 points" in claim.text


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_claims_do_not_hold_on_non_finite_measurements(bad):
    assert not two_four_matches_dense(rows(retrained=bad), NAME, "mlp").holds
    assert not two_four_matches_dense(rows(longer=bad), NAME, "mlp").holds
    assert not retraining_recovers(rows(retrained=bad), NAME, "mlp").holds
    assert not close_to_unstructured(rows(unstructured=bad), NAME, "mlp").holds
    assert not two_four_bytes(rows(ratio=bad), NAME, "mlp").holds


def test_claims_on_zero_negative_and_missing_rows():
    assert two_four_matches_dense(rows(dense=0.0, longer=0.0, retrained=0.0), NAME, "mlp").holds
    assert not two_four_matches_dense(rows(retrained=-1.0), NAME, "mlp").holds
    assert not retraining_recovers(rows(one_shot=0.0, retrained=-5.0), NAME, "mlp").holds
    assert retraining_recovers(rows(one_shot=0.0, retrained=0.0), NAME, "mlp").holds
    assert not two_four_bytes(rows(ratio=0.0), NAME, "mlp").holds
    assert not two_four_bytes(rows(ratio=-17 / 32), NAME, "mlp").holds
    for claim in (two_four_matches_dense, retraining_recovers, close_to_unstructured, two_four_bytes):
        assert not claim([], NAME, "mlp").holds  # nothing measured: no claim
        assert not claim(rows(), "LeNet-5", "lenet5").holds  # rows of another net


def test_close_to_unstructured_and_bytes():
    assert close_to_unstructured(rows(retrained=95.0, unstructured=95.5), NAME, "mlp").holds
    assert not close_to_unstructured(rows(retrained=95.0, unstructured=95.6), NAME, "mlp").holds
    assert two_four_bytes(rows(), NAME, "mlp").holds
    assert not two_four_bytes(rows(ratio=0.5), NAME, "mlp").holds
    assert not any(c.headline for c in (retraining_recovers(rows(), NAME, "mlp"),
                                        close_to_unstructured(rows(), NAME, "mlp"),
                                        two_four_bytes(rows(), NAME, "mlp")))


def test_registered():
    assert find("nm").module == "mishra2021_nm_sparsity"


def test_a_tiny_run_of_the_whole_pipeline(tmp_path):
    cfg = Config(n_train=400, n_test=200, lenet5_images=200, epochs={"mlp": 1, "lenet5": 1},
                 retrain_epochs={"mlp": 1, "lenet5": 1}, decay_last=0, patterns=((2, 4),))
    report = nm.reproduce(config=cfg, seed=3, out_dir=tmp_path, verbose=False)
    assert report.figures[0].read_bytes()[:4] == b"\x89PNG"
    assert len(report.claims) == 8 and sum(c.headline for c in report.claims) == 2
    by = {(r["net"], r["method"]): r for r in report.rows}
    assert by[NAME, "2:4"]["sparsity"] == 0.5 and by[NAME, "2:4"]["bytes"] == 567_315
    assert by["LeNet-5", "2:4"]["left_dense"] == "0.weight"
    assert by[NAME, "unstructured"]["sparsity"] == 0.5
    assert {c.key for c in report.claims if c.key.endswith("two_four_bytes")} == \
        {"nm.mlp.two_four_bytes", "nm.lenet5.two_four_bytes"}
    assert all(c.holds for c in report.claims if c.key.endswith("two_four_bytes"))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_quick_run_recovers_most_of_the_dense_accuracy(seed, tmp_path):
    # the headline (within 0.5 points of dense) does not hold in every seed: see the module
    # docstring (2-3 of 5 seeds); what holds in every seed of the sweeps is checked here
    report = nm.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    by = {(r["net"], r["method"]): r for r in report.rows}
    for net in (NAME, "LeNet-5"):
        dense = by[net, "dense, trained as long"]["one_shot"]
        two_four = by[net, "2:4"]
        assert by[net, "dense"]["one_shot"] > 90
        assert two_four["one_shot"] < two_four["retrained"] and dense - two_four["retrained"] < 1.5
        assert by[net, "1:4"]["retrained"] > 90
    claims = {c.key: c for c in report.claims}
    for key in ("mlp", "lenet5"):
        name = NAME if key == "mlp" else "LeNet-5"
        gap = by[name, "dense, trained as long"]["one_shot"] - by[name, "2:4"]["retrained"]
        assert claims[f"nm.{key}.two_four_matches_dense"].holds == (gap <= 0.5)
        assert claims[f"nm.{key}.two_four_bytes"].holds
