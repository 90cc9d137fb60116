"""Exercise of tutorial 09 (Deep Compression): k-means weight sharing in one dimension, Lloyd's
algorithm from the linear initialisation (Han et al. 2016, Sec. 3, Eq. 2)."""
from __future__ import annotations

import numpy as np

from minicompress.course.checking import Case, random_cases
from minicompress.course.exercise import Exercise
from minicompress.papers import han2016_deep_compression as deep
from minicompress.quant import sharing


def kmeans_share(w, k):
    """The library's kmeans with init="linear" (labels in w's shape)."""
    return sharing.kmeans(w, k, init="linear")


def kmeans_cases():
    edge = [Case("edge: two clear clusters", dict(w=np.array([0.0, 1.0, 2.0, 3.0]), k=2)),
            Case("edge: a value half way between two centroids goes to the lower",
                 dict(w=np.array([0.0, 1.0, 2.0]), k=2)),
            Case("edge: an empty cluster keeps its centroid", dict(w=np.array([0.0, 0.0, 0.0, 10.0]), k=3)),
            Case("edge: k = 1", dict(w=np.array([[1.0, -3.0], [2.0, 4.0]]), k=1)),
            Case("edge: several rounds until nothing moves",
                 dict(w=np.array([0.0, 0.0, 0.0, 9.0, 10.0, 11.0, 20.0]), k=2))]
    return edge + random_cases(lambda r: dict(w=np.concatenate([r.normal(c, 0.3, size=int(r.integers(2, 9)))
                                                                for c in r.uniform(-2, 2, size=3)]),
                                              k=int(r.integers(2, 5))))


def compression_rate(n, k, b):
    """The library's Eq. 1."""
    return deep.compression_rate(n, k, b)


def rate_cases():
    edge = [Case("edge: k = 1 (log₂k = 0: only the one centroid is stored)", dict(n=1000, k=1, b=32)),
            Case("edge: k = 2 centroids, 1 bit per index", dict(n=4, k=2, b=32)),
            Case("edge: a k that is not a power of two (log₂k, not rounded)", dict(n=100, k=5, b=8)),
            Case("edge: Han et al.'s example, 4 × 4 weights and 4 centroids: 3.2×", dict(n=16, k=4, b=32))]
    return edge + random_cases(lambda r: dict(n=int(r.integers(1, 10 ** 6)), k=int(2 ** r.integers(0, 9)),
                                              b=int(r.choice([8, 16, 32]))))


EXERCISES = [
    Exercise(
        name="kmeans_share", tutorial="09_deep_compression",
        title="Weight sharing: k-means on a layer's weights (Lloyd's algorithm in 1-D)",
        statement="""
Implement kmeans_share(w, k) -> (centroids, labels) (Han et al. 2016, Eq. 2: minimise
Σ_k Σ_{w ∈ c_k} |w − C_k|²):

    init:    C = k values evenly spaced on [min w, max w] (np.linspace)
    repeat:  labels = index of the nearest centroid of every w (ties: the lower centroid)
             C_k = mean of the w labelled k (an empty cluster keeps its C_k)
    until the labels no longer change (at most 300 rounds)

The labels returned are those of the last assignment, the centroids those of the last update.
w : any shape, floats; k ≥ 1. centroids : (k,) float64; labels : int array of w's shape.
""",
        stub='''
import numpy as np

def kmeans_share(w, k):
    """w (any shape), k >= 1 -> (centroids (k,), labels (w.shape) ints in [0, k))."""
    raise NotImplementedError
''',
        hint="Assign with np.argmin(np.abs(w[..., None] − C), axis=-1): argmin takes the first "
             "minimum, the lower centroid while C is sorted. np.bincount(labels, weights=w) sums "
             "each cluster.",
        reference=kmeans_share, cases=kmeans_cases, outputs=("centroids", "labels"), rtol=1e-9, atol=1e-12),
    Exercise(
        name="compression_rate", tutorial="09_deep_compression",
        title="The compression rate of weight sharing (Han et al. 2016, Eq. 1)",
        statement="""
Implement compression_rate(n, k, b) -> r, the compression rate of n weights of b bits each
shared through k centroids (Han et al. 2016, Eq. 1): each weight keeps a log₂k-bit index, and
the k centroids are stored once at b bits,

    r = n·b / (n·log₂k + k·b)

n, k, b ints ≥ 1; r a float (log₂k exactly, not rounded up to whole bits).
""",
        stub='''
import numpy as np

def compression_rate(n, k, b):
    """n weights of b bits, k shared values -> the compression rate (a float)."""
    raise NotImplementedError
''',
        hint="Count the bits before (n·b) and after (an index per weight, plus the codebook).",
        reference=compression_rate, cases=rate_cases, outputs=("r",), rtol=1e-12, atol=0.0),
]
