"""The data folder: where downloaded and generated datasets are kept between runs.

It is the ``data_dir`` argument if given, else the environment variable ``MINICOMPRESS_DATA``,
else ``./data`` (relative to the current directory). Each dataset has its own subfolder.
Files in it are written with :func:`minicompress.files.atomic_write`, so a crash, a full disk
or a broken download never leaves a partial file that would pass as cached.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MINICOMPRESS_DATA"
DEFAULT_DATA_DIR = "data"


def data_folder(data_dir=None) -> Path:
    """Return the data folder as an absolute path (it need not exist yet).

    Parameters
    ----------
    data_dir : str, os.PathLike or None
        An explicit folder. None means ``$MINICOMPRESS_DATA`` if set, else ``./data``.
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR
    return Path(data_dir).expanduser().absolute()
