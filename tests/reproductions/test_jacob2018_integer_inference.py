"""Jacob et al. 2018 reproduction: each claim function on hand-made rows (holding, failing, zero,
negative, NaN), and the quick run's headline claims for two seeds (slow)."""
import numpy as np
import pytest

from minicompress.reproductions import jacob2018_integer_inference as int8

NET = "lenet_300_100"


def rows(fp=98.0, ptq8=97.8, ft=98.2, ptq3=90.0, qat3=97.0, exact=(True, True)):
    out = [dict(network=NET, scheme="float32", accuracy=fp, kbytes=1000.0),
           dict(network=NET, scheme="PTQ int8 per-channel minmax", accuracy=ptq8, exact=exact[0]),
           dict(network=NET, scheme="float32 fine-tuned", accuracy=ft),
           dict(network=NET, scheme="PTQ 3-bit weights per-tensor minmax", accuracy=ptq3, exact=exact[1]),
           dict(network=NET, scheme="QAT 3-bit weights per-tensor", accuracy=qat3, exact=exact[1])]
    return out


def test_ptq_claim_uses_half_a_point():
    assert int8.ptq_int8_close(rows(), NET).holds
    assert int8.ptq_int8_close(rows(ptq8=97.5), NET).holds  # exactly 0.5 below
    assert not int8.ptq_int8_close(rows(ptq8=97.4), NET).holds
    assert int8.ptq_int8_close(rows(ptq8=99.0), NET).holds  # better than float is within
    for bad in (np.nan, np.inf):
        assert not int8.ptq_int8_close(rows(ptq8=bad), NET).holds
    assert not int8.ptq_int8_close(rows(fp=np.nan), NET).holds
    assert int8.ptq_int8_close(rows(fp=0.0, ptq8=0.0), NET).holds
    claim = int8.ptq_int8_close(rows(), NET)
    assert claim.headline and claim.key == "int8.lenet_300_100.ptq_per_channel_close"


def test_qat_claim_needs_a_loss_and_most_of_it_back():
    assert int8.qat_recovers(rows(), NET, 3).holds  # 7 of 8.2 points back
    assert not int8.qat_recovers(rows(qat3=93.0), NET, 3).holds  # 3 of 8.2
    assert int8.qat_recovers(rows(ft=98.0, qat3=94.0), NET, 3).holds  # exactly half
    assert not int8.qat_recovers(rows(ptq3=98.2, qat3=98.5), NET, 3).holds  # no loss to recover
    assert not int8.qat_recovers(rows(ptq3=99.0, qat3=99.0), NET, 3).holds  # negative loss
    assert not int8.qat_recovers(rows(qat3=np.nan), NET, 3).holds
    assert not int8.qat_recovers(rows(), NET, 4).holds  # no 4-bit rows: NaN, does not hold
    assert int8.qat_recovers(rows(ft=0.0, ptq3=-10.0, qat3=0.0), NET, 3).holds  # any finite numbers


def test_exactness_claim_needs_every_model_exact():
    assert int8.integer_exact(rows(), NET).holds
    assert not int8.integer_exact(rows(exact=(True, False)), NET).holds
    assert not int8.integer_exact([r for r in rows() if "exact" not in r], NET).holds  # none checked
    assert not int8.integer_exact(rows(exact=(np.nan, True)), NET).holds


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 3])
def test_quick_run_holds_its_headline_claims(seed, tmp_path):
    report = int8.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    failed = [c.key for c in report.claims if c.headline and not c.holds]
    assert not failed, failed
    float_rows = [r for r in report.rows if r["scheme"] == "float32"]
    assert all(r["accuracy"] > 85 for r in float_rows)  # trained: chance is 10%
