"""Fixtures shared by the reproductions' tests: the machines' real digits, and a stand-in loader."""
from pathlib import Path

import numpy as np
import pytest

MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"  # the machines' copy


@pytest.fixture
def mnist_dir():
    """The real MNIST test files (../shared/data/mnist); skips the test where they are absent."""
    if not (MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no real MNIST test set in {MNIST}")
    return MNIST


@pytest.fixture
def fake_loader(monkeypatch):
    """Replaces datasets.load_train_test by 300 / 100 random images; returns the list of the
    dataset names it was asked for."""
    seen = []

    def fake(data, **kwargs):
        seen.append(data)
        rng = np.random.default_rng(0)
        return ((rng.random((300, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 300)),
                (rng.random((100, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 100)))

    monkeypatch.setattr("minicompress.datasets.load_train_test", fake)
    return seen
