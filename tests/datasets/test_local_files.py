"""Files already in the data folder: found where documented, verified, never re-downloaded."""
import gzip
import hashlib

import numpy as np
import pytest

from minicompress.datasets.fetch import ensure_files
from minicompress.datasets.mnist import load_idx_dataset
from minicompress.datasets.registry import RemoteDataset, RemoteFile
from tests.datasets.idx_writer import idx_bytes

IMAGES = idx_bytes(np.full((2, 28, 28), 255, np.uint8))
LABELS = idx_bytes(np.array([4, 2], np.uint8))
OFFLINE = dict(download=False, progress=False)


def md5(data):
    return hashlib.md5(data).hexdigest()


def published(content, level=9):
    """A 'published' gz file and its RemoteFile entry (MD5 of gz and of content)."""
    gz = gzip.compress(content, compresslevel=level, mtime=0)
    return gz, md5(gz), md5(content)


def dataset():
    files = []
    for name, content in (("t10k-images-idx3-ubyte.gz", IMAGES),
                          ("t10k-labels-idx1-ubyte.gz", LABELS)):
        gz, gz_md5, content_md5 = published(content)
        files.append(RemoteFile(name, len(gz), gz_md5, content_md5))
    return RemoteDataset("fake", "Fake", ("http://unused.invalid/",), tuple(files),
                         tuple(files), tuple("0123456789"))


def place(folder, images=IMAGES, labels=LABELS, *, level=9, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content, level, mtime=0))
        else:
            (folder / name).write_bytes(content)


def test_published_files_in_the_dataset_folder(tmp_path):
    place(tmp_path / "fake")
    x, y = load_idx_dataset(dataset(), "test", data_dir=tmp_path, **OFFLINE)
    assert x.shape == (2, 1, 28, 28) and x.max() == 1.0
    np.testing.assert_array_equal(y, [4, 2])


def test_files_directly_in_the_data_folder_are_found(tmp_path):
    place(tmp_path)
    _, y = load_idx_dataset(dataset(), "test", data_dir=tmp_path, **OFFLINE)
    np.testing.assert_array_equal(y, [4, 2])


@pytest.mark.parametrize("copy", ["regzipped", "gunzipped"])
def test_same_content_in_another_container_is_accepted(tmp_path, copy):
    if copy == "regzipped":
        place(tmp_path / "fake", level=1)  # other gz bytes, same content
    else:
        place(tmp_path / "fake", gz=False)
    _, y = load_idx_dataset(dataset(), "test", data_dir=tmp_path, **OFFLINE)
    np.testing.assert_array_equal(y, [4, 2])


def test_checksum_mismatch_says_what_was_expected_and_what_to_do(tmp_path):
    other = idx_bytes(np.array([4, 3], np.uint8))
    place(tmp_path / "fake", labels=other)
    expected = dataset().test_files[1]
    with pytest.raises(ValueError) as caught:
        load_idx_dataset(dataset(), "test", data_dir=tmp_path, **OFFLINE)
    message = str(caught.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and expected.md5 in message
    assert expected.content_md5 in message and md5(other) in message
    assert "verify=False" in message and "Delete it" in message


def test_verify_false_reads_a_local_file_whatever_its_checksum(tmp_path):
    place(tmp_path / "fake", labels=idx_bytes(np.array([4, 3], np.uint8)))
    _, y = load_idx_dataset(dataset(), "test", data_dir=tmp_path, verify=False, **OFFLINE)
    np.testing.assert_array_equal(y, [4, 3])


def test_mismatched_images_and_labels_are_an_error(tmp_path):
    place(tmp_path / "fake", labels=idx_bytes(np.array([1, 2, 3], np.uint8)))
    with pytest.raises(ValueError, match="2 images but .* 3 labels"):
        load_idx_dataset(dataset(), "test", data_dir=tmp_path, verify=False, **OFFLINE)


def test_missing_files_are_listed_without_network(tmp_path):
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(LABELS))
    with pytest.raises(FileNotFoundError) as caught:
        ensure_files(dataset(), "test", data_dir=tmp_path, **OFFLINE)
    message = str(caught.value)
    assert "t10k-images-idx3-ubyte.gz" in message
    assert "t10k-labels-idx1-ubyte.gz" not in message  # that one is there
