"""Fixtures for the dataset tests: IDX files made on the spot, and the shared real data."""
import gzip
from pathlib import Path

import numpy as np
import pytest

from tests.datasets.idx_writer import idx_bytes

# The machines' copy of real data (MNIST test set, reconstructed MNIST training set) lies in
# ../shared/data beside the repository; tests that need it skip when it is absent.
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture
def shared_data():
    """The shared data folder; skips the test when the MNIST test files are not there."""
    if not (SHARED_DATA / "mnist" / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no real MNIST test set in {SHARED_DATA.resolve() / 'mnist'}")
    return SHARED_DATA.resolve()


@pytest.fixture
def write_idx(tmp_path):
    """write_idx(name, array, gz=True, type_code=0x08) -> Path of a new IDX file in tmp_path."""
    def write(name, array, gz=True, type_code=0x08):
        data = idx_bytes(np.asarray(array), type_code)
        path = tmp_path / name
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
        return path
    return write
