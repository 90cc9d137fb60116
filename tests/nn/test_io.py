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
    with pytest.raises(ValueError, match=r"does not fit the model.*0.weight.*\(4, 3\).*\(2, 3\)"):
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
    with pytest.raises(ValueError, match=r"zip archive without a valid minicompress __meta__ "
                                         r"entry \(it holds \['w'\]\); expected a minicompress model file"):
        nn.load(foreign)
    with pytest.raises(FileNotFoundError, match="no model file"):
        nn.load(tmp_path / "absent.npz")


def write_pickle(path):
    import pickle
    path.write_bytes(pickle.dumps({"weight": [1.0, 2.0]}))


@pytest.mark.parametrize("name, write, kind", [
    ("model.pkl", write_pickle, "a Python pickle"),
    ("array.npy", lambda p: np.save(p, np.zeros(3)), r"a single NumPy array \(.npy\)"),
    ("notes.txt", lambda p: p.write_text("weights: 1, 2, 3"), "a text file"),
    ("empty.npz", lambda p: p.write_bytes(b""), "an empty file"),
    ("noise.bin", lambda p: p.write_bytes(bytes(range(129, 256))), "a binary file of an unknown kind"),
])
def test_a_file_that_is_not_a_model_is_named_for_what_it_is(tmp_path, name, write, kind):
    """Never NumPy's advice to pass allow_pickle=True: say what the file is and what was expected."""
    path = tmp_path / name
    write(path)
    with pytest.raises(ValueError, match=rf"load: .*{name} is {kind}, not a minicompress model file") as err:
        nn.load(path)
    assert "allow_pickle" not in str(err.value)


def test_archives_with_objects_or_a_bad_header_are_refused(tmp_path):
    objects = tmp_path / "objects.npz"
    np.savez(objects, w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="holds Python objects .* never loads") as err:
        nn.load(objects)
    assert "allow_pickle" not in str(err.value)
    header = dict(format="minicompress-model", version="1", keys=[], architecture=None)
    for bad in (dict(header), {k: v for k, v in header.items() if k != "version"}):
        path = tmp_path / "bad_header.npz"
        np.savez(path, __meta__=np.array(json.dumps(bad)))
        with pytest.raises(ValueError, match="without a valid minicompress __meta__"):
            nn.load(path)
    path = tmp_path / "unknown_layer.npz"
    header.update(version=1, architecture={"type": "Transformer"})
    np.savez(path, __meta__=np.array(json.dumps(header)))
    with pytest.raises(ValueError, match="architecture this minicompress cannot build .*Transformer"):
        nn.load(path)


def test_load_state_dict_refuses_non_finite_and_misshapen_arrays(rng):
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    good = model.state_dict()
    for key, value, match in (
            ("0.weight", np.full((2, 3), np.nan, np.float32), r"'0.weight' contains 6 NaN/inf"),
            ("0.bias", np.array([1.0, np.inf]), r"'0.bias' contains 1 NaN/inf .*index 1 \(inf\)"),
            ("0.weight", np.zeros((3, 2)), r"'0.weight' expected float32 array of shape \(2, 3\), got float64 array of shape \(3, 2\)"),
            ("0.weight", np.zeros((2, 3), np.int64), "got int64 array"),
            ("0.weight_mask", np.ones((3, 2)), r"'0.weight_mask' expected shape \(2, 3\), got \(3, 2\)"),
            ("0.weight_mask", np.full((2, 3), 0.5), r"a mask may only hold 0 and 1, got .*0.5 \(6 such"),
            ("0.weight_mask", np.full((2, 3), np.nan), r"a mask may only hold 0 and 1, got .*nan")):
        state = dict(good, **{key: value})
        with pytest.raises(ValueError, match=match):
            model.load_state_dict(state)
        assert all(np.array_equal(v, model.state_dict()[k]) for k, v in good.items())  # untouched
    with pytest.raises(TypeError, match="state must be a dict of arrays .*got list"):
        model.load_state_dict(list(good.values()))


def test_a_file_with_nan_weights_is_refused(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2, rng=0))
    model[0].weight.data[0, 1] = np.nan
    path = nn.save(model, tmp_path / "nan.npz")
    with pytest.raises(ValueError, match=r"does not fit the model: .*'0.weight' contains 1 NaN/inf"):
        nn.load(path)


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
