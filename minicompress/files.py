"""Writing files so that nothing is lost: the new content appears all at once or not at all."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file beside ``path``; on success, fsync it and rename it over ``path``.

    If the block raises, the temporary file is removed and ``path`` is left as it was, so a
    crash or an interrupted download never leaves a half-written file under the real name.

    >>> with atomic_write("model.npz") as f:   # doctest: +SKIP
    ...     np.savez(f, **arrays)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates files private to the user; these are ordinary files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
