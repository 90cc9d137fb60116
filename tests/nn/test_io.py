"""save/load: round trip, atomic writes, and clear errors for corrupt or mismatching files."""
import json
import os

import numpy as np
import pytest

from minicompress import nn
from minicompress.files import atomic_write

from .settings import small_cnn


def test_round_trip_rebuilds_the_model(tmp_path, rng):
    model = small_cnn(rng, activation=nn.ScaledTanh, pool=nn.AvgPool2d, dtype=np.float32)
    model[0].weight.mask = rng.random((3, 1, 3, 3)) > 0.3
    path = nn.save(model, tmp_path / "m.npz")
    loaded = nn.load(path)
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded(x), model(x))
    np.testing.assert_array_equal(loaded[0].weight.mask, model[0].weight.mask)
    assert loaded[0].weight.data.dtype == np.float32
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert json.loads(str(archive["__meta__"]))["architecture"]["type"] == "Sequential"


def test_load_into_a_custom_model(tmp_path, rng):
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 2, rng=0)

        def forward(self, x):
            return self.body(x)

    model = Custom()
    path = nn.save(model, tmp_path / "custom.npz")
    with pytest.raises(ValueError, match="build the model yourself"):
        nn.load(path)
    other = Custom()
    other.body.weight.data[...] = 0
    nn.load(path, other)
    np.testing.assert_array_equal(other.body.weight.data, model.body.weight.data)


def test_mismatching_model(tmp_path, rng):
    path = nn.save(nn.Sequential(nn.Linear(3, 2, rng=0)), tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"does not fit.*0.weight.*\(4, 3\).*\(2, 3\)"):
        nn.load(path, nn.Sequential(nn.Linear(3, 4, rng=0)))
    with pytest.raises(ValueError, match="missing.*unexpected"):
        nn.load(path, nn.Sequential(nn.ReLU(), nn.Linear(3, 2, rng=0)))


def test_corrupt_truncated_and_foreign_files(tmp_path, rng):
    path = nn.save(small_cnn(rng), tmp_path / "m.npz")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        nn.load(truncated)
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF  # inside an array: the zip CRC catches it
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupt or truncated|not a minicompress"):
        nn.load(corrupt)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, w=np.zeros(3))
    with pytest.raises(ValueError, match="not a minicompress model file"):
        nn.load(foreign)
    with pytest.raises(FileNotFoundError, match="no model file"):
        nn.load(tmp_path / "absent.npz")


def test_write_is_atomic(tmp_path):
    """A failure half-way through writing leaves the old file intact and no temporary file."""
    path = tmp_path / "file.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write(b"partial new content")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file.bin"]
