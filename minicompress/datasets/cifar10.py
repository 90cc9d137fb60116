"""CIFAR-10 from its *binary* distribution, read straight from the tarball.

``cifar-10-binary.tar.gz`` holds six files of fixed-length records: ``data_batch_1.bin`` to
``data_batch_5.bin`` (training, 10,000 records each) and ``test_batch.bin``. A record is one
label byte (0-9) followed by 3072 pixel bytes: the 1024 red values of the 32x32 image row by
row, then the 1024 green, then the 1024 blue, which is exactly NCHW order. The pickled "python
version" of CIFAR-10 is never used: unpickling a downloaded file can run arbitrary code.
"""
from __future__ import annotations

import tarfile
import zlib

import numpy as np

from minicompress.datasets.fetch import ensure_files
from minicompress.datasets.pixels import to_unit_interval
from minicompress.datasets.registry import CIFAR10

RECORD_BYTES = 1 + 3 * 32 * 32
MEMBERS = {
    "train": tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("cifar-10-batches-bin/test_batch.bin",),
}


def parse_records(data: bytes, *, source="<bytes>"):
    """Split CIFAR-10 binary records into images and labels.

    Returns
    -------
    images : np.ndarray, uint8, (n, 3, 32, 32)
    labels : np.ndarray, uint8, (n,)

    Raises
    ------
    ValueError
        If the length is not a whole number of 3073-byte records, or a label is not 0-9.
    """
    if len(data) % RECORD_BYTES:
        raise ValueError(f"{source}: {len(data)} bytes is not a whole number of "
                         f"{RECORD_BYTES}-byte records (truncated or not a CIFAR-10 batch)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    if labels.size and labels.max() > 9:
        raise ValueError(f"{source}: label {labels.max()} found, expected 0-9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).copy()  # (n, channel, row, column)
    return images, labels


def read_tarball(path, split):
    """Read one split from a CIFAR-10 binary tarball (gzip-compressed or plain tar).

    Returns ``(images, labels)`` as :func:`parse_records`, the split's batches concatenated in
    their published order.
    """
    wanted = MEMBERS[split]
    found = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:  # one pass: a .tar.gz cannot seek backwards cheaply
                if member.name in wanted and member.isfile():
                    found[member.name] = tar.extractfile(member).read()
                    if len(found) == len(wanted):
                        break
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: not a readable tar archive ({err})") from err
    absent = [name for name in wanted if name not in found]
    if absent:
        raise ValueError(f"{path}: the archive has no {', '.join(absent)}; "
                         "is it cifar-10-binary.tar.gz (not the python or matlab version)?")
    parts = [parse_records(found[name], source=f"{path}:{name}") for name in wanted]
    return (np.concatenate([images for images, _ in parts]),
            np.concatenate([labels for _, labels in parts]))


def load_cifar10(split, **where):
    """Load one split of CIFAR-10.

    Parameters
    ----------
    split : {"train", "test"}
    **where
        ``data_dir``, ``download``, ``verify``, ``mirrors``, ``progress``: see
        :func:`minicompress.datasets.fetch.ensure_files`.

    Returns
    -------
    x : np.ndarray, float32, (n, 3, 32, 32)
        RGB values divided by 255 (50,000 training or 10,000 test images).
    y : np.ndarray, int64, (n,)
        Class indices 0-9 (names in ``registry.CIFAR10.classes``).
    """
    (tarball,) = ensure_files(CIFAR10, split, **where)
    images, labels = read_tarball(tarball, split)
    return to_unit_interval(images), labels.astype(np.int64)
