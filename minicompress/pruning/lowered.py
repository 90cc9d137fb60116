"""Convolutions and linear maps run as one GEMM with a *compressed* weight matrix: what structured
and unstructured sparsity buy at inference time (Wen et al. 2016 measure exactly this).

A convolution is W_mat (o, c·kh·kw) @ cols (c·kh·kw, oh·ow·n) on the im2col columns
(:mod:`minicompress.nn.im2col`); row (c, i, j) of ``cols`` is channel c shifted by kernel offset
(i, j). Structured sparsity deletes whole rows of W_mat (filters) and whole columns of W_mat
(filter shapes): the GEMM stays dense, only smaller, and the deleted rows of ``cols`` need not
even be built. Unstructured sparsity leaves the shapes alone and scatters zeros.

``ColumnConv2d``   a convolution that keeps only some columns (c, i, j) of W_mat: im2col builds
                   only those rows, then one dense GEMM (o, k′) @ (k′, oh·ow·n). The layer that
                   shape-wise SSL produces. Forward and backward.
``CSRConv2d``      a convolution whose W_mat is a ``scipy.sparse`` CSR matrix (full im2col, then
                   sparse × dense). Inference only.
``CSRLinear``      a Linear layer with a CSR weight matrix. Inference only.

Each layer reports its own multiply-accumulates (``macs``): one per stored weight (dense) or
per nonzero (CSR) per output position, the convention of :func:`minicompress.metrics.flops`.
``same_nonzeros`` builds the unstructured model to compare with; what each model buys is
measured by :func:`minicompress.metrics.latencies`.
"""
from __future__ import annotations

import copy

import numpy as np
import scipy.sparse

from minicompress import nn, pruning
from minicompress.nn.checks import check_grad_out, check_input, pair
from minicompress.nn.im2col import conv_output_size, im2col


class ColumnConv2d(nn.Module):
    """A convolution computed from a subset of the columns of its lowered weight matrix.

    Parameters
    ----------
    weight : (o, k′) array
        The kept columns of W.reshape(o, c·kh·kw).
    bias : (o,) array or None
    columns : (k′,) ints
        Which column of the full (c·kh·kw) lowered matrix each weight column is:
        column = c·kh·kw + i·kw + j for channel c and kernel offset (i, j).
    in_channels, kernel_size, stride, padding
        As for :class:`minicompress.nn.Conv2d`.

    Shapes: x (n, c, h, w) → y (n, o, oh, ow), as the full convolution with the other columns zero.
    """

    def __init__(self, weight, bias, columns, in_channels: int, kernel_size, stride=1, padding=0):
        super().__init__()
        weight = np.asarray(weight)
        kh, kw = pair(kernel_size, "ColumnConv2d", "kernel_size")
        self.kernel_size, self.in_channels = (kh, kw), int(in_channels)
        self.stride = pair(stride, "ColumnConv2d", "stride")
        self.padding = pair(padding, "ColumnConv2d", "padding", minimum=0)
        columns = np.asarray(columns)
        full = self.in_channels * kh * kw
        if weight.ndim != 2 or columns.shape != (weight.shape[1],) or weight.shape[1] == 0 or \
                not np.issubdtype(columns.dtype, np.integer) or columns.min() < 0 or \
                columns.max() >= full or len(np.unique(columns)) != columns.size:
            raise ValueError(f"ColumnConv2d: expected weight (o, k') and k' >= 1 distinct column "
                             f"indices in [0, {full - 1}], got weight {weight.shape} and columns "
                             f"{columns.shape}")
        order = np.lexsort((columns // (kh * kw), columns % (kh * kw)))  # grouped by kernel offset
        self.columns = columns[order]
        self.out_channels = weight.shape[0]
        self.weight = nn.Parameter(weight[:, order].copy(), "weight")
        self.bias = None if bias is None else nn.Parameter(np.array(bias), "bias")
        offsets = self.columns % (kh * kw)
        starts = np.flatnonzero(np.r_[True, offsets[1:] != offsets[:-1]])
        ends = np.r_[starts[1:], len(offsets)]
        # (kernel row, kernel col, rows of cols, channels): one strided copy per kernel offset
        self.groups = [(int(offsets[s]) // kw, int(offsets[s]) % kw, slice(int(s), int(e)),
                        self.columns[s:e] // (kh * kw)) for s, e in zip(starts, ends)]
        self.buffers = {}

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, columns=None) -> "ColumnConv2d":
        """The layer equal to ``conv`` (its effective weights, mask applied) with only ``columns``
        kept; default: the columns that hold a nonzero weight."""
        w = conv.weight.value().reshape(conv.out_channels, -1)  # (o, c·kh·kw)
        columns = np.flatnonzero(w.any(axis=0)) if columns is None else np.asarray(columns)
        if columns.size == 0:
            columns = np.array([0])  # an all-zero layer still needs one column
        bias = None if conv.bias is None else conv.bias.value()
        return cls(w[:, columns], bias, columns, conv.in_channels, conv.kernel_size, conv.stride,
                   conv.padding)

    def release_buffers(self) -> None:
        self.buffers.clear()

    def _buffer(self, key, shape, dtype) -> np.ndarray:
        """Scratch arrays reused between calls (fresh large arrays cost page faults)."""
        out = self.buffers.get(key)
        if out is None or out.shape != shape or out.dtype != dtype:
            out = self.buffers[key] = np.empty(shape, dtype)
        return out

    def _sizes(self, x_shape):
        n, _, h, w = x_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return n, conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, "nchw", {1: self.in_channels}, self.weight.data.dtype, finite=True)
        n, oh, ow = self._sizes(x.shape)
        (sh, sw), (ph, pw) = self.stride, self.padding
        h, w = x.shape[2:]
        xp = self._buffer("x_padded", (self.in_channels, h + 2 * ph, w + 2 * pw, n), x.dtype)
        if ph or pw:  # zero the border only: the interior is overwritten next
            xp[:, :ph], xp[:, h + ph:], xp[:, :, :pw], xp[:, :, w + pw:] = 0, 0, 0, 0
        xp[:, ph:ph + h, pw:pw + w] = x.transpose(1, 2, 3, 0)  # (c, h + 2ph, w + 2pw, n)
        cols = self._buffer("cols", (len(self.columns), oh, ow, n), x.dtype)
        for i, j, rows, channels in self.groups:
            window = xp[:, i:i + sh * oh:sh, j:j + sw * ow:sw]  # (c, oh, ow, n), a view
            np.take(window, channels, axis=0, out=cols[rows], mode="clip")  # no temporary
        cols = cols.reshape(len(self.columns), -1)  # (k′, oh·ow·n)
        self.cache["x_shape"], self.cache["cols"] = x.shape, cols
        y = self.weight.value() @ cols  # (o, oh·ow·n): the dense, smaller GEMM
        if self.bias is not None:
            y += self.bias.value()[:, None]
        return np.ascontiguousarray(y.reshape(self.out_channels, oh, ow, n).transpose(3, 0, 1, 2))

    def _g_columns(self, g_out):
        n, oh, ow = self._sizes(self.cached("x_shape"))
        check_grad_out(self, g_out, (n, self.out_channels, oh, ow))
        return np.ascontiguousarray(g_out.transpose(1, 2, 3, 0)).reshape(self.out_channels, -1)

    def grad_params(self, g_out: np.ndarray) -> None:
        """∂E/∂W = g · colsᵀ, ∂E/∂b = Σ g (over images and pixels)."""
        g = self._g_columns(g_out)
        self.weight.add_grad(g @ self.cached("cols").T)
        if self.bias is not None:
            self.bias.add_grad(g.sum(axis=1))

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        """∂E/∂x: Wᵀ g, each kept row added back into the window it was copied from."""
        x_shape = self.cached("x_shape")
        n, oh, ow = self._sizes(x_shape)
        (sh, sw), (ph, pw) = self.stride, self.padding
        dcols = (self.weight.value().T @ self._g_columns(g_out)).reshape(-1, oh, ow, n)
        gp = np.zeros((self.in_channels, x_shape[2] + 2 * ph, x_shape[3] + 2 * pw, n), dcols.dtype)
        for i, j, rows, channels in self.groups:  # channels are distinct within a group
            gp[channels, i:i + sh * oh:sh, j:j + sw * ow:sw] += dcols[rows]
        return gp[:, ph:ph + x_shape[2], pw:pw + x_shape[3]].transpose(3, 0, 1, 2).copy()

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        """o·k′·oh·ow per example: only the kept columns are multiplied."""
        w = self.weight.value()
        return (int(np.count_nonzero(w)) if nonzero else w.size) * int(np.prod(output_shape[1:]))

    def extra_repr(self) -> str:
        full = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        return (f"{self.in_channels} -> {self.out_channels}, kernel={self.kernel_size}, "
                f"{len(self.columns)} of {full} columns")


class CSRConv2d(nn.Module):
    """A convolution with its lowered weight matrix in CSR form: y = W_csr @ im2col(x) + b.
    Inference only (unstructured sparsity's speed, measured)."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        self.kernel_size, self.stride, self.padding = conv.kernel_size, conv.stride, conv.padding
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.weight = scipy.sparse.csr_matrix(conv.weight.value().reshape(conv.out_channels, -1))
        self.bias = None if conv.bias is None else conv.bias.value().copy()
        self.buffers = {}

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, "nchw", {1: self.in_channels}, self.weight.dtype)
        n, _, h, w = x.shape
        oh = conv_output_size(h, self.kernel_size[0], self.stride[0], self.padding[0])
        ow = conv_output_size(w, self.kernel_size[1], self.stride[1], self.padding[1])
        cols = im2col(x, self.kernel_size, self.stride, self.padding, buffers=self.buffers)
        y = self.weight @ cols  # sparse (o, k) × dense (k, oh·ow·n)
        if self.bias is not None:
            y += self.bias[:, None]
        return np.ascontiguousarray(y.reshape(self.out_channels, oh, ow, n).transpose(3, 0, 1, 2))

    def grad_params(self, g_out):
        raise NotImplementedError(f"{self.describe()} is for inference only")

    def grad_input(self, g_out):
        raise NotImplementedError(f"{self.describe()} is for inference only")

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        """nnz(W)·oh·ow per example: a sparse product multiplies only the stored entries."""
        return self.weight.nnz * int(np.prod(output_shape[1:]))

    def extra_repr(self) -> str:
        return f"{self.in_channels} -> {self.out_channels}, kernel={self.kernel_size}, nnz={self.weight.nnz}"


class CSRLinear(nn.Module):
    """y = x Wᵀ + b with W in CSR form, computed as (W_csr @ xᵀ)ᵀ. Inference only."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight = scipy.sparse.csr_matrix(linear.weight.value())
        self.bias = None if linear.bias is None else linear.bias.value().copy()

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_input(self, x, "ni", {1: self.in_features}, self.weight.dtype)
        y = (self.weight @ x.T).T  # (n, o)
        return y + self.bias if self.bias is not None else np.ascontiguousarray(y)

    def grad_params(self, g_out):
        raise NotImplementedError(f"{self.describe()} is for inference only")

    def grad_input(self, g_out):
        raise NotImplementedError(f"{self.describe()} is for inference only")

    def macs(self, output_shape: tuple, nonzero: bool = False) -> int:
        """nnz(W) per example."""
        return self.weight.nnz

    def extra_repr(self) -> str:
        return f"{self.in_features} -> {self.out_features}, nnz={self.weight.nnz}"


def to_csr(model: nn.Sequential) -> nn.Sequential:
    """The same network with every Conv2d and Linear replaced by its CSR form (effective weights)."""
    swap = {nn.Conv2d: CSRConv2d, nn.Linear: CSRLinear}
    return nn.Sequential(*(swap[type(m)](m) if type(m) in swap else m for m in model.layers))


def same_nonzeros(dense: nn.Sequential, like: nn.Sequential, layers) -> nn.Sequential:
    """A copy of ``dense`` magnitude-pruned, layer by layer (``layers``: indices), to as many
    nonzero weights as ``like``'s matching layer holds (unstructured sparsity at equal nonzeros)."""
    model = copy.deepcopy(dense.clear())
    for index in layers:
        w = model[index].weight
        pruning.prune(w, int(w.data.size - np.count_nonzero(like[index].weight.value())))
    return model
