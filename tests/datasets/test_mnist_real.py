"""The real MNIST files on our machines (../shared/data); skipped where they are absent."""
import numpy as np
import pytest

from minicompress.datasets import load, train_test_split

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_test_set(shared_data):
    x, y = load("mnist", "test", data_dir=shared_data / "mnist", download=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == 1
    assert y.dtype == np.int64 and np.bincount(y).tolist() == MNIST_TEST_COUNTS


def test_the_shared_folder_also_works_as_the_data_folder(shared_data):
    _, y = load("mnist", "test", data_dir=shared_data, download=False, n=100)
    assert y.shape == (100,)


def test_offline_split_of_the_test_set(shared_data):
    x, y = load("mnist", "test", data_dir=shared_data / "mnist", download=False)
    (x_train, y_train), (x_test, y_test) = train_test_split(x, y, test_size=2000, rng=0)
    assert len(x_train) == 8000 and len(x_test) == 2000
    shares = np.bincount(y_test) / 2000
    np.testing.assert_allclose(shares, np.array(MNIST_TEST_COUNTS) / 10000, atol=1e-3)


def test_reconstructed_training_set_needs_verify_false(shared_data):
    folder = shared_data / "mnist-train-reconstructed"
    if not (folder / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no reconstructed MNIST training set in {folder}")
    with pytest.raises(ValueError, match="not the published MNIST file train-images"):
        load("mnist", "train", data_dir=folder, download=False)
    x, y = load("mnist", "train", data_dir=folder, download=False, verify=False)
    assert x.shape == (60000, 1, 28, 28)
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                       5949]


@pytest.mark.parametrize("kwargs, text", [
    (dict(n_train=0), "n_train: expected a positive int number of examples, got 0"),
    (dict(n_train=-5), "n_train: expected a positive int .* got -5"),  # slicing would drop 5
    (dict(n_test=1.5), "n_test: expected a positive int .* got 1.5"),
    (dict(n_train=9000), "n_train: 9000 requested, but mnist_test_split has 8000 examples"),
    (dict(n_test=2001), "n_test: 2001 requested, but mnist_test_split has 2000 examples"),
])
def test_bad_sizes_of_the_offline_split_are_refused(shared_data, kwargs, text):
    from minicompress.datasets import load_train_test
    with pytest.raises(ValueError, match=text):
        load_train_test("mnist_test_split", data_dir=shared_data / "mnist", **kwargs)
