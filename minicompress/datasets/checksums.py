"""MD5 checksums of data files, and the rule for accepting a file as the published one.

A file is accepted when the MD5 of its bytes is the published MD5, or, for a gzip file or an
already decompressed file, when the MD5 of its *content* is the known MD5 of the published
file's decompressed content. The second rule accepts a file that was re-gzipped (same digits,
different compressed bytes) or gunzipped by hand. MD5 is used because it is what the dataset
authors publish; it guards against corruption and mix-ups, not against an attacker.
"""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def is_gzip(path) -> bool:
    """True if the file starts with the gzip magic bytes 1f 8b (whatever its name)."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def md5_of_stream(stream) -> str:
    """Hex MD5 of everything left in a binary stream, read in 1 MiB chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def file_md5(path) -> str:
    """Hex MD5 of a file's bytes."""
    with open(path, "rb") as f:
        return md5_of_stream(f)


def content_md5(path) -> str:
    """Hex MD5 of a file's content: decompressed if it is gzip, its bytes otherwise.

    Raises
    ------
    ValueError
        If the file claims to be gzip but its stream is corrupt or truncated.
    """
    if not is_gzip(path):
        return file_md5(path)
    try:
        with gzip.open(path, "rb") as f:
            return md5_of_stream(f)
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: corrupt or truncated gzip stream ({err})") from err


def matches(path, md5, content=None) -> bool:
    """Does the file at ``path`` match the published ``md5`` or the content MD5 ``content``?

    Parameters
    ----------
    path : str or os.PathLike
        The file to check.
    md5 : str
        MD5 of the file as published (for example of the ``.gz`` download).
    content : str or None
        MD5 of the published file's decompressed content, if known.
    """
    if file_md5(path) == md5:
        return True
    if content is None:
        return False
    try:
        return content_md5(Path(path)) == content
    except ValueError:
        return False
