"""The IDX reader on files made in the test: valid ones, and each kind of damage."""
import gzip

import numpy as np
import pytest

from minicompress.datasets.idx import read_idx


@pytest.mark.parametrize("gz", [True, False])
def test_reads_images_and_labels_gzip_or_raw(write_idx, rng, gz):
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    got_images = read_idx(write_idx("img", images, gz=gz), ndim=3, dtype=np.uint8)
    got_labels = read_idx(write_idx("lab", labels, gz=gz), ndim=1, dtype=np.uint8)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert got_images.dtype == np.uint8 and got_images.flags.writeable


def test_gzip_is_detected_by_content_not_name(write_idx, tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    gz_named_raw = write_idx("labels.gz", labels, gz=False)
    raw_named_gz = write_idx("labels", labels, gz=True)
    np.testing.assert_array_equal(read_idx(gz_named_raw), labels)
    np.testing.assert_array_equal(read_idx(raw_named_gz), labels)


@pytest.mark.parametrize("dtype, code", [(">i2", 0x0B), (">i4", 0x0C), (">f4", 0x0D),
                                         (">f8", 0x0E), ("i1", 0x09)])
def test_other_element_types_come_back_in_native_byte_order(write_idx, dtype, code):
    values = np.arange(-6, 6).reshape(3, 4).astype(dtype)
    got = read_idx(write_idx("v", values, type_code=code))
    np.testing.assert_array_equal(got, values)
    assert got.dtype.isnative


def test_wrong_magic_number(write_idx):
    path = write_idx("bad", np.zeros((2, 2), np.uint8), gz=False)
    path.write_bytes(b"\x12\x34" + path.read_bytes()[2:])
    with pytest.raises(ValueError, match="not an IDX file.*0x12340802"):
        read_idx(path)


def test_unknown_type_code(write_idx):
    path = write_idx("bad", np.zeros(3, np.uint8), type_code=0x07, gz=False)
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_wrong_number_of_dimensions_or_type_is_named(write_idx):
    path = write_idx("labels", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="1 dimensions.*expected 3"):
        read_idx(path, ndim=3)
    wide = write_idx("wide", np.zeros(4, ">i4"), type_code=0x0C)
    with pytest.raises(ValueError, match="int32.*expected uint8"):
        read_idx(wide, dtype=np.uint8)


@pytest.mark.parametrize("cut", [1, 100])
def test_truncated_payload(write_idx, cut):
    path = write_idx("img", np.ones((3, 28, 28), np.uint8), gz=False)
    path.write_bytes(path.read_bytes()[:-cut])
    with pytest.raises(ValueError, match="truncated.*exactly 2368 bytes"):
        read_idx(path)


def test_payload_too_long(write_idx):
    path = write_idx("img", np.ones((3, 28, 28), np.uint8))
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()) + b"\x00"))
    with pytest.raises(ValueError, match="too long: 2369 bytes"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 5]))  # 3 sizes announced, 1 present
    with pytest.raises(ValueError, match="truncated header"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="too short"):
        read_idx(path)


def test_truncated_gzip_stream(write_idx):
    path = write_idx("img", np.ones((3, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="corrupt or truncated gzip"):
        read_idx(path)
