"""Weight sharing: k-means on a layer's weights, and the layer that computes with the codebook.

Each kept weight of a layer is replaced by the nearest of k shared values (its cluster's
centroid), so the layer stores a codebook C (k,) and, per weight, an index of log₂k bits:

    W_ij = C[I_ij] where the connection is kept, 0 where it was pruned (I_ij = −1).

The centroids minimise the within-cluster sum of squares, argmin_C Σ_k Σ_{w ∈ c_k} |w − C_k|²
(Han et al. 2016, Eq. 2), by Lloyd's algorithm in one dimension: assign every weight to its
nearest centroid (a ``searchsorted`` on the midpoints between sorted centroids), move every
centroid to the mean of its members, repeat until no assignment changes. Neither step can
increase the objective. An empty cluster keeps its centroid.

Initialisations (Han et al. 2016, §3.1 and Fig. 4):
    "linear"   k values evenly spaced on [min w, max w];
    "random"   k of the weights drawn without replacement (Forgy);
    "density"  the quantiles of the weights at the centres of k equal slices of the CDF,
               (i + ½)/k, i = 0 … k − 1.

:class:`SharedWeights` runs a Linear or Conv2d with W = C[I]. Its trainable parameters are the
centroids and the bias; the indices (and so the pruning mask) stay fixed. Every weight in
cluster k is the same number C_k, so (Eq. 3)

    ∂L/∂C_k = Σ_ij ∂L/∂W_ij · 1(I_ij = k),

the sum of the gradients of the cluster's members.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn.conv import Conv2d
from minicompress.nn.linear import Linear
from minicompress.nn.module import Module
from minicompress.nn.parameter import Parameter
from minicompress.rng import as_rng

INITS = ("linear", "random", "density")


def initial_centroids(w, k: int, init: str = "linear", rng=None) -> np.ndarray:
    """k starting centroids (float64, sorted) for the 1-D values ``w`` (see the module docs)."""
    w = _values(w, "initial_centroids")
    k = _clusters(k)
    if init == "linear":
        return np.linspace(w.min(), w.max(), k)
    if init == "random":
        return np.sort(as_rng(rng).choice(w, size=k, replace=w.size < k))
    if init == "density":
        return np.quantile(w, (np.arange(k) + 0.5) / k)
    raise ValueError(f"init: expected one of {INITS}, got {init!r}")


def assign(w, centroids) -> np.ndarray:
    """Index of the nearest centroid of every value (ties to the lower centroid)."""
    order = np.argsort(centroids, kind="stable")
    c = np.asarray(centroids, np.float64)[order]
    return order[np.searchsorted((c[1:] + c[:-1]) / 2, w, side="left")]


def kmeans(w, k: int, *, init: str = "linear", rng=None, max_iter: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's algorithm on 1-D values.

    Parameters
    ----------
    w : array_like, any shape
        The values to cluster (e.g. a layer's kept weights), finite.
    k : int
        Number of clusters (the codebook's size), ≥ 1.
    init : {"linear", "random", "density"}
    rng : np.random.Generator, int or None
        For ``init="random"`` only.
    max_iter : int
        Upper bound on the assignment/update rounds (it usually stops far earlier).

    Returns
    -------
    centroids : (k,) float64
    assignments : int64 array of w's shape, in [0, k)
    """
    shape = np.shape(w)
    w = _values(w, "kmeans")
    centroids = initial_centroids(w, k, init, rng)
    labels = assign(w, centroids)
    for _ in range(max_iter):
        centroids = update(w, labels, centroids)
        new = assign(w, centroids)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids, labels.reshape(shape)


def update(w, labels, centroids) -> np.ndarray:
    """Each centroid moved to the mean of its members (an empty cluster stays where it is)."""
    k = len(centroids)
    count = np.bincount(labels, minlength=k)
    total = np.bincount(labels, weights=w, minlength=k)
    return np.where(count > 0, total / np.maximum(count, 1), centroids)


def quantization_error(w, centroids, labels) -> float:
    """Σ (w − C[label])², the objective k-means decreases."""
    return float(((np.asarray(w, np.float64) - np.asarray(centroids)[labels]) ** 2).sum())


class SharedWeights(Module):
    """A Linear or Conv2d whose weight is W = C[I] (0 where I = −1), C trained, I fixed.

    Parameters
    ----------
    layer : Linear or Conv2d
        Does the arithmetic; its bias stays a trainable float parameter of this layer. Its own
        weight array becomes a scratch copy of the decoded W (not a parameter of the model).
    codebook : (k,) floats
        The shared values C (cast to the layer's dtype).
    index : int array of the layer's weight shape
        I: the cluster of every weight in [0, k), or −1 for a pruned connection.

    ``parameters()`` are ``codebook`` and ``bias``. The index is not in ``state_dict()``: save
    the layer with :func:`minicompress.storage.save_compressed`, copy it with ``copy.deepcopy``.
    Only first-order passes are implemented (no curvature rules).
    """

    def __init__(self, layer, codebook, index):
        super().__init__()
        if not isinstance(layer, (Linear, Conv2d)):
            raise TypeError(f"SharedWeights: layer must be a Linear or Conv2d, got {type(layer).__name__}")
        codebook = np.asarray(codebook)
        if codebook.ndim != 1 or codebook.size == 0 or not np.all(np.isfinite(codebook)):
            raise ValueError(f"SharedWeights: codebook must be a non-empty 1-D array of finite "
                             f"values, got shape {codebook.shape}")
        self.codebook = Parameter(codebook.astype(layer.weight.data.dtype), "codebook")
        self.bias = layer.bias
        self.layer = layer
        layer.weight.mask = None
        self.index = index

    @property
    def index(self) -> np.ndarray:
        """I (the weight's shape, int64): each weight's cluster, −1 where pruned."""
        return self._index

    @index.setter
    def index(self, index) -> None:
        index = np.asarray(index)
        shape = self.layer.weight.shape
        if index.shape != shape or not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"SharedWeights: index must be an int array of shape {shape} "
                             f"(the weight's), got {index.dtype} array of shape {index.shape}")
        if index.size and (index.min() < -1 or index.max() >= self.k):
            raise ValueError(f"SharedWeights: index values must be in [-1, {self.k - 1}], "
                             f"got [{index.min()}, {index.max()}]")
        self._index = index.astype(np.int64)
        # the kept connections (flat positions) and their clusters: the only entries that move
        self._kept = np.flatnonzero(self._index >= 0)
        self._labels = self._index.reshape(-1)[self._kept]
        self.layer.weight.data = self.weight()

    @classmethod
    def from_layer(cls, layer, k: int, *, init: str = "linear", rng=None) -> "SharedWeights":
        """Cluster the kept weights of ``layer`` (mask 1, or nonzero without a mask) into k."""
        w = layer.weight.value()
        kept = layer.weight.mask != 0 if layer.weight.mask is not None else w != 0
        index = np.full(w.shape, -1, np.int64)
        codebook = np.zeros(k)
        if kept.any():
            codebook, index[kept] = kmeans(w[kept], k, init=init, rng=rng)
        return cls(layer, codebook, index)

    @property
    def k(self) -> int:
        return self.codebook.data.size

    def weight(self) -> np.ndarray:
        """The decoded W = C[I], 0 at pruned connections (weight's shape and dtype)."""
        w = np.zeros(self._index.shape, self.codebook.data.dtype)
        w.reshape(-1)[self._kept] = self.codebook.data[self._labels]
        return w

    def forward(self, x: np.ndarray) -> np.ndarray:
        w = self.layer.weight  # holds the decoded W: its pruned entries stay 0
        if w.data.dtype != self.codebook.data.dtype:  # model.astype() converted the codebook
            w.data, w.grad = self.weight(), np.zeros(w.shape, self.codebook.data.dtype)
        w.data.reshape(-1)[self._kept] = self.codebook.data[self._labels]
        return self.layer.forward(x)

    def grad_params(self, g_out: np.ndarray) -> None:
        """∂L/∂b as the wrapped layer's; ∂L/∂C_k = Σ_{I_ij = k} ∂L/∂W_ij (Eq. 3)."""
        w = self.layer.weight
        w.grad.fill(0)
        self.layer.grad_params(g_out)  # ∂L/∂W into w.grad, ∂L/∂b into bias.grad
        members = w.grad.reshape(-1)[self._kept]  # pruned connections have no centroid
        sums = np.bincount(self._labels, weights=members, minlength=self.k)
        self.codebook.add_grad(sums.astype(self.codebook.data.dtype))

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        return self.layer.grad_input(g_out)

    def named_children(self):
        return iter(())  # the wrapped layer's weight is not a parameter of the model

    def release_buffers(self) -> None:
        self.layer.clear()

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        self.layer.weight.data = self.weight()
        return self.layer.macs(output_shape, nonzero)

    def extra_repr(self) -> str:
        return (f"{type(self.layer).__name__}({self.layer.extra_repr()}), k={self.k}, "
                f"{self._kept.size}/{self._index.size} kept")


def _values(w, who: str) -> np.ndarray:
    w = np.asarray(w, np.float64).ravel()
    if w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError(f"{who}: w must hold at least one value, all finite (got {w.size} values)")
    return w


def _clusters(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k: expected a positive int number of clusters, got {k!r}")
    return int(k)
