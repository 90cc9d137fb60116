"""Download one file from a list of mirrors: progress on stderr, checksum, atomic rename.

The file is streamed into a temporary file beside its destination while its MD5 is computed.
It becomes the real file only if the whole body arrived (as many bytes as the server announced)
and its MD5 is the published one; otherwise the temporary file is deleted and the next mirror is
tried. So a partial or corrupt download is never left behind as a cached file. Only the
standard library's ``urllib`` is used.
"""
from __future__ import annotations

import hashlib
import http.client
import sys
import time
import urllib.request
from pathlib import Path

from minicompress.files import atomic_write

_CHUNK = 1 << 16


class DownloadError(OSError):
    """No mirror delivered the complete file with the published checksum."""


class Progress:
    """A one-line byte counter on a text stream, redrawn at most every ``interval`` seconds.

    Parameters
    ----------
    label : str
        What is being downloaded (shown at the start of the line).
    total : int or None
        Expected number of bytes, if the server said so.
    stream : text stream, optional
        Where to draw; defaults to ``sys.stderr`` (stdout stays clean for results).
    interval : float
        Minimum seconds between redraws, so a fast download does not flood the terminal.
    """

    def __init__(self, label, total, stream=None, interval=0.25):
        self.label, self.total, self.interval = label, total, interval
        self.stream = sys.stderr if stream is None else stream
        self._last_draw = float("-inf")

    def update(self, done: int, *, force: bool = False) -> None:
        """Redraw the line for ``done`` bytes received (if ``interval`` has passed)."""
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        line = f"\r{self.label}: {done / 1e6:.1f}"
        if self.total:
            line += f" / {self.total / 1e6:.1f} MB ({100 * done // self.total}%)"
        else:
            line += " MB"
        self.stream.write(line)
        self.stream.flush()

    def close(self, done: int) -> None:
        """Draw the final count and end the line."""
        self.update(done, force=True)
        self.stream.write("\n")
        self.stream.flush()


def download(urls, dest, *, md5, progress=True, timeout=30.0) -> Path:
    """Download ``dest`` from the first URL in ``urls`` that delivers a file with the right MD5.

    Parameters
    ----------
    urls : sequence of str
        Full URLs of the same file, tried in order (mirrors).
    dest : str or os.PathLike
        Where the verified file is placed. Its folder is created if needed.
    md5 : str
        Published MD5 of the file.
    progress : bool
        Show a byte counter on stderr.
    timeout : float
        Seconds to wait for a server before giving up on that mirror.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DownloadError
        If every mirror failed; the message lists each URL and why it failed.
    """
    dest = Path(dest)
    failures = []
    for url in urls:
        try:
            with atomic_write(dest) as tmp:
                digest = _stream_to_file(url, tmp, progress=progress, timeout=timeout,
                                         label=dest.name)
                if digest != md5:  # raising here deletes the temporary file
                    raise DownloadError(f"checksum mismatch: MD5 {digest}, expected {md5}")
            return dest
        except (OSError, http.client.HTTPException, ValueError) as err:
            # URLError, HTTPError, timeouts and DownloadError are all OSErrors; a malformed URL
            # is a ValueError. Either way, try the next mirror.
            failures.append(f"{url}: {err}")
    raise DownloadError(f"could not download {dest.name}: " + "; ".join(failures))


def _stream_to_file(url, out, *, progress, timeout, label) -> str:
    """Copy the body at ``url`` into the binary file ``out``; return its MD5 (hex).

    Raises DownloadError if fewer or more bytes arrive than the server announced.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        announced = response.headers.get("Content-Length")
        total = int(announced) if announced is not None else None
        meter = Progress(label, total) if progress else None
        received = 0
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            if meter:
                meter.update(received)
        if meter:
            meter.close(received)
    if total is not None and received != total:
        raise DownloadError(f"incomplete: received {received} of {total} bytes")
    return digest.hexdigest()
