"""Optimal Brain Damage, the reproduction: each claim function on hand-made rows (zero,
negative and non-finite measurements included; Fig. 2's: test_lecun1989_obd_retraining.py), and
the quick run's headline claims."""
import math

import pytest

from minicompress.reproductions import lecun1989_obd as rep

from .test_lecun1989_obd_retraining import retrain

LEVELS = (0.1, 0.2, 0.3)


def one_shot(obd, magnitude, random, predicted=(1.0, 2.0, 3.0), actual=(1.0, 2.0, 3.0)):
    rows = []
    for k, f in enumerate(LEVELS):
        rows += [dict(method="OBD", deleted=f, objective_db=obd[k], predicted_increase=predicted[k],
                      actual_increase=actual[k]),
                 dict(method="magnitude", deleted=f, objective_db=magnitude[k]),
                 dict(method="random", deleted=f, objective_db=random[k])]
    return rows


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


def test_prediction_matches_with_a_non_finite_prediction_or_a_fall():
    rows = one_shot((0,) * 3, (0,) * 3, (0,) * 3, predicted=(1.0, math.nan, 3.0))
    assert not rep.prediction_matches(rows, "mlp").holds
    assert not rep.prediction_matches([], "mlp").holds
    # a predicted fall that equals a measured fall is no increase predicted: does not hold
    rows = one_shot((0,) * 3, (0,) * 3, (0,) * 3, predicted=(-1.0, 2.0, 3.0), actual=(-1.0, 2.0, 3.0))
    assert not rep.prediction_matches(rows, "mlp").holds


def test_claims_per_network_have_stable_keys():
    rows = [dict(net=net, experiment="one-shot", **r) for net in ("mlp", "cnn")
            for r in one_shot((-9, -8, -7), (-8, -7, -6), (0, 0, 0))]
    rows += [dict(net=net, experiment="retrained", **r) for net in ("mlp", "cnn")
             for r in retrain(0.9, 0.9, 0.9, 0.9, 0.9, 0.9)]
    keys = [c.key for c in rep.claims(rows)]
    assert keys == [f"obd.{net}.{what}" for net in ("mlp", "cnn") for what in
                    ("below_magnitude", "random_worst", "prediction_matches", "retraining_keeps_accuracy")]
    assert all(c.holds and c.headline for c in rep.claims(rows))
    assert [c.key for c in rep.claims([r for r in rows if r["net"] == "mlp"])] == keys[:4]


TINY = rep.Config(nets=("mlp", "cnn"), n_train=300, n_test=200, epochs=1, polish_steps=(3, 2),
                  fractions=(0.2, 0.6), retrain_epochs=1, retrain_polish=1)


@pytest.mark.parametrize("data", [None, "mnist_test_split"])
def test_a_tiny_run_of_both_networks(data, tmp_path, capsys):
    """The experiments' structure on a tiny run (both networks, every dataset the CLI names
    that is here): rows per level and method, finite Taylor terms, the figure, nothing printed."""
    mnist = "/work/shared/data/mnist"
    if data and not __import__("os").path.isdir(mnist):
        pytest.skip("the MNIST test set is not here")
    report = rep.reproduce(config=TINY, seed=1, data=data, data_dir=mnist if data else None,
                           out_dir=tmp_path, verbose=False)
    assert capsys.readouterr().out == ""
    assert report.data == (data or "synth_digits") and report.figures[0].is_file()
    shot = [r for r in report.rows if r["experiment"] == "one-shot"]
    assert len(shot) == 2 * 2 * 3 and len(report.rows) == len(shot) + 2 * 3
    dense = {r["net"]: r["objective"] for r in report.rows if r["experiment"] == "retrained" and r["deleted"] == 0}
    for r in shot:  # the increase is measured from the dense network's objective
        assert math.isclose(r["actual_increase"], r["objective"] - dense[r["net"]], rel_tol=1e-9, abs_tol=1e-12)
        if r["method"] == "OBD":
            assert all(math.isfinite(r[k]) for k in ("first_order", "predicted_increase", "quadratic"))
            assert r["predicted_increase"] >= 0  # LM h_kk ≥ 0
    assert len(report.claims) == 8


def test_the_networks_use_the_papers_units():
    from minicompress import nn
    mlp, cnn = rep.build("mlp", rep.Config(), 0), rep.build("cnn", rep.Config(), 0)
    assert [type(m).__name__ for m in mlp.layers] == ["Flatten", "Linear", "ScaledTanh", "Linear", "ScaledTanh"]
    assert sum(p.data.size for p in mlp.parameters()) == 8290 and sum(p.data.size for p in cnn.parameters()) == 2218
    assert isinstance(cnn.layers[1], nn.ScaledTanh) and isinstance(cnn.layers[-1], nn.ScaledTanh)
    assert isinstance(rep.build("mlp", rep.Config(units="tanh"), 0).layers[2], nn.Tanh)


def test_bad_configuration():
    with pytest.raises(ValueError, match="Config.units"):
        rep.build("mlp", rep.Config(units="relu"), 0)
    with pytest.raises(ValueError, match="expected a net"):
        rep.build("lenet", rep.Config(), 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_quick_reproduction_holds_its_headline_claims(seed, tmp_path):
    """The quick run (the MLP on synthetic digits) for two seeds: Fig. 1a, 1b and 2 hold."""
    report = rep.reproduce(quick=True, seed=seed, out_dir=tmp_path, verbose=False)
    headline = [c for c in report.claims if c.headline]
    assert len(headline) == 4 and all(c.holds for c in headline), [(c.key, c.measured) for c in headline]
    dense = [r for r in report.rows if r["experiment"] == "retrained" and r["deleted"] == 0][0]
    assert dense["test_accuracy"] > 0.84  # the full run's MLP: about 87%
