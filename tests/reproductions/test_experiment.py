"""The experiment helpers every reproduction shares."""
from types import SimpleNamespace

import numpy as np

from minicompress.reproductions.experiment import field, finite, load_data, obd_regime


def test_load_data_gives_a_quick_config_all_the_real_digits_there_are(mnist_dir, tmp_path):
    """Quick configs of 10,000 training images (magnitude, Denil) on the real digits offline,
    which hold 8,000 / 2,000: all of them, not an error that stops `reproduce all`."""
    cfg = SimpleNamespace(n_train=10_000, n_test=5_000)
    data, out, (x, y), (x_test, y_test) = load_data("t", cfg, "mnist_test_split", tmp_path / "o", mnist_dir, True)
    assert data == "mnist_test_split" and out.is_dir()
    assert x.shape == (8_000, 1, 28, 28) and len(y) == 8_000 and len(y_test) == 2_000
    small = SimpleNamespace(n_train=500, n_test=300)
    _, _, (x, _), (x_test, _) = load_data("t", small, "mnist_test_split", tmp_path / "o", mnist_dir, True)
    assert len(x) == 500 and len(x_test) == 300


def test_load_data_gives_synthetic_digits_as_many_as_asked(tmp_path):
    cfg = SimpleNamespace(n_train=120, n_test=50)
    _, _, (x, _), (x_test, _) = load_data("t", cfg, None, tmp_path / "o", tmp_path / "data", True)
    assert len(x) == 120 and len(x_test) == 50


def test_finite_fails_on_nan_inf_and_missing_values():
    assert finite(1, 2.5, np.float32(3), np.int64(4)) and finite()
    for bad in (float("nan"), float("inf"), -np.inf, None, "1.0"):
        assert not finite(1.0, bad)


def test_obd_regime_unit_variance_scales_both_sets_by_the_training_pixels():
    rng = np.random.default_rng(0)
    x, x_test = rng.random((20, 1, 28, 28)), rng.random((5, 1, 28, 28))
    y, y_test = np.arange(20) % 10, np.arange(5)
    (c, t, _), (c_test, _, _) = obd_regime((x, y), (x_test, y_test))
    (u, _, _), (u_test, _, _) = obd_regime((x, y), (x_test, y_test), unit_variance=True)
    assert c.shape == (20, 1, 14, 14) and np.allclose(c.mean(axis=0), 0) and abs(u.std() - 1) < 1e-9
    assert np.allclose(u_test * c.std(), c_test) and set(np.unique(t)) == {-1.0, 1.0}


def test_field_is_the_first_matching_rows_number_else_nan():
    rows = [dict(method="a", scale=1.0, error=2), dict(method="b", scale=1.0, error=3.5),
            dict(method="b", scale=2.0, error="n/a"), dict(method="b", scale=0.5)]
    assert field(rows, "error", method="b") == 3.5 and field(rows, "error", method="b", scale=1.0) == 3.5
    assert isinstance(field(rows, "error", method="a"), float) and field(rows, "error", method="a") == 2
    assert np.isnan(field(rows, "error", method="b", scale=2.0))  # not a number
    assert np.isnan(field(rows, "error", method="b", scale=0.5))  # no such key
    assert np.isnan(field(rows, "error", method="c")) and np.isnan(field([], "error"))
    assert np.isnan(field([dict(scale=np.nan, error=1)], "error", scale=np.nan))  # NaN equals nothing
