"""The one entry point: names, splits, sizes, the data folder, and their error messages."""
import numpy as np
import pytest

from minicompress.datasets import NAMES, data_folder, load


def test_every_name_in_the_design_is_there():
    for name in ("synth_digits", "mnist", "fashion_mnist", "cifar10",
                 "rule_plus_exception", "multiplexer", "karnin_2d"):
        assert name in NAMES


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'; expected one of: "
                                         "synth_digits, mnist, fashion_mnist"):
        load("mnsit")


def test_unknown_split():
    with pytest.raises(ValueError, match="unknown split 'validation'; expected one of: "
                                         "train, test"):
        load("karnin_2d", "validation")


@pytest.mark.parametrize("seed", [-1, 1.5, None])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed: expected a non-negative int"):
        load("karnin_2d", seed=seed)


def test_data_folder_argument_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINICOMPRESS_DATA", raising=False)
    assert data_folder() == tmp_path / "data"
    monkeypatch.setenv("MINICOMPRESS_DATA", str(tmp_path / "env"))
    assert data_folder() == tmp_path / "env"
    assert data_folder(tmp_path / "arg") == tmp_path / "arg"
    assert data_folder("relative") == tmp_path / "relative"


def test_environment_variable_is_used_by_load(tmp_path, monkeypatch):
    monkeypatch.setenv("MINICOMPRESS_DATA", str(tmp_path))
    load("synth_digits", n=10)
    assert len(list((tmp_path / "synth_digits").glob("*.npz"))) == 1


def test_n_takes_the_first_examples_of_a_real_split(shared_data):
    x, y = load("mnist", "test", data_dir=shared_data / "mnist", n=30)
    full_x, full_y = load("mnist", "test", data_dir=shared_data / "mnist")
    np.testing.assert_array_equal(x, full_x[:30])
    np.testing.assert_array_equal(y, full_y[:30])
    with pytest.raises(ValueError, match="n: 10001 requested, but the mnist test split "
                                         "has 10000"):
        load("mnist", "test", data_dir=shared_data / "mnist", n=10001)


def test_load_train_test_synthetic_and_real_split(tmp_path):
    from minicompress.datasets import load_train_test
    (x, y), (xt, yt) = load_train_test("synth_digits", n_train=300, n_test=100, seed=1,
                                       data_dir=tmp_path)
    assert x.shape == (300, 1, 28, 28) and xt.shape == (100, 1, 28, 28)
    with pytest.raises(ValueError, match="unknown image dataset"):
        load_train_test("multiplexer")


def test_load_train_test_mnist_test_split():
    from pathlib import Path

    from minicompress.datasets import load_train_test
    folder = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
    if not folder.is_dir():
        pytest.skip(f"no real MNIST test set in {folder}")
    (x, y), (xt, yt) = load_train_test("mnist_test_split", data_dir=folder, seed=0)
    assert len(x) == 8000 and len(xt) == 2000
    assert not (set(map(bytes, x[:500].reshape(500, -1))) & set(map(bytes, xt.reshape(2000, -1))))
    assert np.bincount(yt).min() >= 170  # stratified: about 200 per class
