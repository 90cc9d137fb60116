"""CIFAR-10 binary records and tarballs, made in the test."""
import io
import tarfile

import numpy as np
import pytest

from minicompress.datasets import load
from minicompress.datasets.cifar10 import MEMBERS, RECORD_BYTES, parse_records, read_tarball


def records(labels, rng):
    """CIFAR-10 binary records for ``labels``, and the images they hold (n, 3, 32, 32)."""
    images = rng.integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    data = b"".join(bytes([label]) + image.tobytes() for label, image in zip(labels, images))
    return data, images


def write_tarball(path, batches, skip=()):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in batches.items():
            if name in skip:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def tarball(tmp_path, rng):
    """A small CIFAR-10 binary tarball: 3 records per training batch, 2 test records."""
    batches, truth = {}, {}
    for split, names in MEMBERS.items():
        for i, name in enumerate(names):
            labels = [(i + k) % 10 for k in range(2 if split == "test" else 3)]
            batches[name], images = records(labels, rng)
            truth.setdefault(split, []).append((images, labels))
    (tmp_path / "cifar10").mkdir()
    path = write_tarball(tmp_path / "cifar10" / "cifar-10-binary.tar.gz", batches)
    return path, batches, truth


def test_record_layout_is_label_then_red_green_blue_planes(rng):
    data, images = records([3, 9], rng)
    got_images, got_labels = parse_records(data)
    np.testing.assert_array_equal(got_labels, [3, 9])
    np.testing.assert_array_equal(got_images, images)
    first = np.frombuffer(data[1:RECORD_BYTES], np.uint8)
    np.testing.assert_array_equal(got_images[0, 1, 0, :5], first[1024:1029])  # green, row 0


def test_bad_records_are_rejected(rng):
    data, _ = records([1], rng)
    with pytest.raises(ValueError, match="not a whole number of 3073-byte records"):
        parse_records(data[:-1])
    with pytest.raises(ValueError, match="label 10 found"):
        parse_records(bytes([10]) + data[1:])


@pytest.mark.parametrize("split, n", [("train", 15), ("test", 2)])
def test_tarball_splits(tarball, split, n):
    path, _, truth = tarball
    images, labels = read_tarball(path, split)
    assert images.shape == (n, 3, 32, 32) and labels.shape == (n,)
    np.testing.assert_array_equal(images, np.concatenate([im for im, _ in truth[split]]))
    np.testing.assert_array_equal(labels, np.concatenate([lab for _, lab in truth[split]]))


def test_missing_member_and_not_a_tarball(tmp_path, tarball):
    _, batches, _ = tarball
    partial = write_tarball(tmp_path / "partial.tar.gz", batches, skip=MEMBERS["test"])
    with pytest.raises(ValueError, match="no cifar-10-batches-bin/test_batch.bin"):
        read_tarball(partial, "test")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball at all")
    with pytest.raises(ValueError, match="not a readable tar archive"):
        read_tarball(junk, "train")


def test_load_reads_the_tarball_from_the_data_folder(tmp_path, tarball):
    with pytest.raises(ValueError, match="not the published CIFAR-10"):
        load("cifar10", "test", data_dir=tmp_path, download=False)
    x, y = load("cifar10", "test", data_dir=tmp_path, download=False, verify=False)
    assert x.shape == (2, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0 <= x.min() and x.max() <= 1
