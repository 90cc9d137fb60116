"""Synthetic digits: shapes, balance, determinism, disjoint splits, caching, fonts."""
import hashlib
import time

import numpy as np
import pytest

from minicompress.datasets import glyphs, load, synth_digits
from minicompress.datasets.synth_digits import SynthDigitsConfig, cache_path


def image_hashes(x):
    return {hashlib.sha256(image.tobytes()).hexdigest() for image in x}


def test_shapes_types_and_range(tmp_path):
    x, y = load("synth_digits", n=200, data_dir=tmp_path)
    assert x.shape == (200, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    assert x.min() == 0 and x.max() == 1  # uint8 grey levels / 255, with full-ink strokes


@pytest.mark.parametrize("n", [300, 1003])
def test_classes_are_balanced(tmp_path, n):
    _, y = load("synth_digits", n=n, data_dir=tmp_path)
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_same_seed_same_bytes_other_seed_other_images(tmp_path):
    a = load("synth_digits", n=100, seed=3, data_dir=tmp_path / "a")
    b = load("synth_digits", n=100, seed=3, data_dir=tmp_path / "b")  # generated again
    c = load("synth_digits", n=100, seed=4, data_dir=tmp_path / "a")
    assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
    assert not image_hashes(a[0]) & image_hashes(c[0])


def test_train_and_test_share_no_image(tmp_path):
    x_train, _ = load("synth_digits", "train", n=1000, data_dir=tmp_path)
    x_test, _ = load("synth_digits", "test", n=500, data_dir=tmp_path)
    train, test = image_hashes(x_train), image_hashes(x_test)
    assert len(train) == 1000 and len(test) == 500  # no duplicates within a split either
    assert not train & test


def test_digits_are_centred_like_mnist(tmp_path):
    x, _ = load("synth_digits", n=500, data_dir=tmp_path)
    ink = x[:, 0]
    rows = np.arange(28)
    centre_row = (ink.sum(axis=2) * rows).sum(axis=1) / ink.sum(axis=(1, 2))
    centre_col = (ink.sum(axis=1) * rows).sum(axis=1) / ink.sum(axis=(1, 2))
    assert abs(centre_row.mean() - 14) < 0.3 and abs(centre_col.mean() - 14) < 0.3
    frame = np.concatenate([ink[:, 0], ink[:, -1], ink[:, :, 0], ink[:, :, -1]], axis=1)
    assert (frame > 0.5).any(axis=1).mean() < 0.1  # few digits touch the edge (MNIST: 1%)


def test_cache_is_written_once_and_read_back(tmp_path, monkeypatch):
    x, y = load("synth_digits", n=50, data_dir=tmp_path)
    path = cache_path("train", 50, 0, tmp_path)
    assert path.is_file() and synth_digits.cache_key() in path.name
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left

    def no_generation(*args, **kwargs):
        raise AssertionError("the cache should have been read")

    monkeypatch.setattr(synth_digits, "generate", no_generation)
    x2, y2 = load("synth_digits", n=50, data_dir=tmp_path)
    assert x2.tobytes() == x.tobytes() and y2.tobytes() == y.tobytes()


def test_unreadable_cache_is_regenerated(tmp_path):
    x, _ = load("synth_digits", n=20, data_dir=tmp_path)
    cache_path("train", 20, 0, tmp_path).write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="unreadable cache"):
        x2, _ = load("synth_digits", n=20, data_dir=tmp_path)
    assert x2.tobytes() == x.tobytes()


def test_cache_key_follows_the_generator():
    assert synth_digits.cache_key() == synth_digits.cache_key(SynthDigitsConfig())
    assert synth_digits.cache_key() != synth_digits.cache_key(SynthDigitsConfig(noise_std=0.1))


def test_fonts_draw_real_digits():
    names, masks = glyphs.digit_fonts()
    assert list(names) == sorted(names) and len(names) >= 20
    assert "DejaVuSans.ttf" in names and "cmr10.ttf" in names
    assert "cmsy10.ttf" not in names  # ten distinct glyphs, but symbols, not digits
    assert not any(name.startswith(("STIXSiz", "STIXNonUni", "LastResort")) for name in names)
    assert masks.shape == (len(names), 10, 64, 64) and not masks.flags.writeable


@pytest.mark.parametrize("n", [0, -5, 2.5, True])
def test_bad_sizes_are_rejected(tmp_path, n):
    with pytest.raises(ValueError, match="n: expected a positive int"):
        load("synth_digits", n=n, data_dir=tmp_path)


@pytest.mark.slow
def test_full_training_set_in_under_a_minute(tmp_path):
    start = time.perf_counter()
    x, y = load("synth_digits", "train", data_dir=tmp_path)
    assert time.perf_counter() - start < 60
    assert x.shape == (60_000, 1, 28, 28) and np.bincount(y).tolist() == [6000] * 10
