"""One file per surveyed paper: the method, then ``reproduce(*, quick, seed, data, out_dir) -> Report``.

Run one with ``python -m minicompress.papers.<file> --quick``.
"""
