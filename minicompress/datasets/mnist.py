"""MNIST and Fashion-MNIST: two IDX files per split (images, labels), read by our own reader.

Both datasets have the same layout: 60,000 training and 10,000 test images of 28x28 grey
levels (uint8, 0 = background), and labels 0-9. They are returned as float32 images in [0, 1]
of shape (n, 1, 28, 28) and int64 labels of shape (n,).
"""
from __future__ import annotations

import numpy as np

from minicompress.datasets.fetch import ensure_files
from minicompress.datasets.idx import read_idx
from minicompress.datasets.pixels import to_unit_interval


def load_idx_dataset(dataset, split, **where):
    """Load one split of an IDX dataset (MNIST or Fashion-MNIST).

    Parameters
    ----------
    dataset : RemoteDataset
        ``registry.MNIST`` or ``registry.FASHION_MNIST``.
    split : {"train", "test"}
    **where
        ``data_dir``, ``download``, ``verify``, ``mirrors``, ``progress``: see
        :func:`minicompress.datasets.fetch.ensure_files`.

    Returns
    -------
    x : np.ndarray, float32, (n, 1, 28, 28)
        Grey levels divided by 255.
    y : np.ndarray, int64, (n,)
        Class indices 0-9.
    """
    images_path, labels_path = ensure_files(dataset, split, **where)  # (images, labels)
    images = read_idx(images_path, ndim=3, dtype=np.uint8)  # (n, 28, 28)
    labels = read_idx(labels_path, ndim=1, dtype=np.uint8)  # (n,)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{images_path}: images of {images.shape[1]}x{images.shape[2]} "
                         f"pixels, expected 28x28 for {dataset.title}")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} has {len(images)} images but {labels_path} has "
                         f"{len(labels)} labels: the two files belong to different sets")
    if labels.size and labels.max() >= len(dataset.classes):
        raise ValueError(f"{labels_path}: label {labels.max()} found, expected 0-"
                         f"{len(dataset.classes) - 1}")
    return to_unit_interval(images[:, None]), labels.astype(np.int64)  # x: (n, 1, 28, 28)
