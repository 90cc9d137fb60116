"""Shared fixtures. Every test draws its randomness from an explicit, seeded generator."""
import os

# One BLAS thread unless the caller says otherwise: on a shared or busy 2-core machine,
# multithreaded OpenBLAS spins against the other processes and runs many times slower. Set
# here, before NumPy is first imported, so the tutorials run in subprocesses inherit it too.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
