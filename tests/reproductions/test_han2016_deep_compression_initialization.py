"""The centroid-initialization part of the Deep Compression reproduction: its claim on hand-made
rows (ties, NaN, missing widths and negative errors; the runs: test_han2016_deep_compression.py)."""
import numpy as np

from minicompress.reproductions import han2016_deep_compression_initialization as initialization

NET = "LeNet-300-100"


def sweep_rows(errors):
    """errors: {bits: (linear, random, density)}."""
    return [dict(table="initialization", network=NET, init=init, bits=bits, error_pct=e, error_before_pct=e)
            for bits, triple in errors.items() for init, e in zip(initialization.INITS, triple)]


def test_initialization_claim():
    good = {2: (5.0, 9.0, 6.0), 3: (3.0, 3.0, 3.1), 4: (2.0, 2.5, 2.2)}
    assert initialization.initialization_claim(sweep_rows(good)).holds  # a tie counts as >=
    assert not initialization.initialization_claim(sweep_rows({**good, 3: (3.2, 3.0, 3.1)})).holds
    assert not initialization.initialization_claim(sweep_rows({**good, 4: (np.nan, 2.5, 2.2)})).holds
    assert not initialization.initialization_claim(sweep_rows({**good, 4: (2.0, np.nan, 2.2)})).holds
    assert not initialization.initialization_claim(sweep_rows({2: good[2], 3: good[3]})).holds  # 4 bits missing
    assert initialization.initialization_claim(sweep_rows({**good, 8: (9.0, 1.0, 1.0)})).holds  # only 2-4 count
    assert initialization.initialization_claim(sweep_rows({b: (0.0, 0.0, 0.0) for b in (2, 3, 4)})).holds
    assert not initialization.initialization_claim(sweep_rows({b: (-1.0, -2.0, 0.0) for b in (2, 3, 4)})).holds
