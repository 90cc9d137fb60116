"""Max and average pooling over kh×kw windows, NCHW, no padding (windows that do not fit are
dropped, as PyTorch's floor mode does).

Index conventions: n batch, c channel, (r, s) output pixel, (i, j) offset inside the window.
Both kernels loop over the kh·kw window offsets only: offset (i, j) of every window at once is
the strided slice ``x[:, :, i::sh, j::sw]``. ``max_pool_loop`` / ``max_pool_backward_loop`` are
the readable definitions the tests compare against.
"""
from __future__ import annotations

import numpy as np

from minicompress.nn.checks import check_grad_out, check_input, pair
from minicompress.nn.im2col import conv_output_size
from minicompress.nn.module import Module


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, name, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, name, "stride")

    def output_shape(self, x_shape: tuple) -> tuple:
        n, c, h, w = x_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return n, c, conv_output_size(h, kh, sh, 0), conv_output_size(w, kw, sw, 0)

    def windows(self, x: np.ndarray):
        """For each offset (i, j), row-major: the slice of x it picks from every window (on the
        last two axes, so leading axes such as the columns of the GGN pass come along)."""
        _, _, oh, ow = self.output_shape(x.shape[-4:])
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        for i in range(kh):
            for j in range(kw):
                yield ..., slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw)

    def _check(self, x: np.ndarray) -> None:
        check_input(self, x, "nchw")
        if min(self.output_shape(x.shape)[2:]) < 1:
            raise ValueError(f"{self.describe()}: window {self.kernel_size} does not fit an "
                             f"input of size {x.shape[2:]}")

    def config(self) -> dict:
        return dict(kernel_size=list(self.kernel_size), stride=list(self.stride))

    def extra_repr(self) -> str:
        stride = "" if self.stride == self.kernel_size else f", stride={self.stride}"
        return f"kernel={self.kernel_size}{stride}"


class MaxPool2d(_Pool2d):
    """y[n, c, r, s] = max over the window of x; the gradient flows to the window's maximum.

    Ties go to the first maximum in row-major window order (as in PyTorch), so exactly one
    input receives each output's gradient.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        windows = self.windows(x)
        y = x[next(windows)].copy()
        for window in windows:
            np.maximum(y, x[window], out=y)
        self.cache["x"], self.cache["y"] = x, y
        self.cache.pop("argmax", None)
        self.cache.pop("winner_index", None)
        return y

    def argmax_masks(self) -> list[np.ndarray]:
        """One boolean array of y's shape per window offset: True where that offset holds the
        (first) maximum. Computed once per forward, on first use."""
        if "argmax" not in self.cache:
            x, y = self.cached("x"), self.cached("y")
            unclaimed = np.ones(y.shape, bool)
            masks = []
            for window in self.windows(x):
                hit = (x[window] == y) & unclaimed
                unclaimed &= ~hit
                masks.append(hit)
            self.cache["argmax"] = masks
        return self.cache["argmax"]

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        check_grad_out(self, g_out, self.cached("y").shape)
        return self.route(g_out)

    def route(self, g: np.ndarray) -> np.ndarray:
        """Send every entry of g (..., n, c, oh, ow) to its window's maximum: the layer's
        Jacobian transposed, a 0/1 matrix, so it also carries h (0² = 0, 1² = 1) and R{g}."""
        x = self.cached("x")
        if all(st >= k for st, k in zip(self.stride, self.kernel_size)):
            return self._route_disjoint(g, x.shape)
        g_in = np.zeros(g.shape[:-4] + x.shape, g.dtype)
        for window, hit in zip(self.windows(x), self.argmax_masks()):
            g_in[window] += g * hit
        return g_in

    def _route_disjoint(self, g: np.ndarray, x_shape: tuple) -> np.ndarray:
        """Windows that do not overlap send each input at most one entry of g: one scatter to
        the winners' flat indices instead of kh·kw strided passes (the GGN pass routes C
        columns of g at once)."""
        if "winner_index" not in self.cache:  # (n·c·oh·ow,), once per forward
            kw, (sh, sw), (h, w) = self.kernel_size[1], self.stride, x_shape[2:]
            nc, oh, ow = int(np.prod(g.shape[-4:-2])), g.shape[-2], g.shape[-1]
            corner = (np.arange(nc)[:, None, None] * (h * w) + (np.arange(oh) * (sh * w))[:, None]
                      + np.arange(ow) * sw)  # flat index of each window's top-left input
            index = corner.reshape(g.shape[-4:])
            for k, hit in enumerate(self.argmax_masks()):
                if k:
                    index += hit * ((k // kw) * w + k % kw)  # the winner's offset in its window
            self.cache["winner_index"] = index.ravel()
        lead = g.shape[:-4]
        g_in = np.zeros((int(np.prod(lead)), int(np.prod(x_shape))), g.dtype)
        g_in[:, self.cache["winner_index"]] = g.reshape(len(g_in), -1)
        return g_in.reshape(lead + tuple(x_shape))

    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        return (None if g_out is None else self.route(g_out)), self.route(h_out)

    def backward_ggn(self, s_out, need_input=True):
        return self.route(s_out)

    def forward_r(self, rx, v):
        """R{y} = R{x} at each window's maximum."""
        if rx is None:
            return None
        x = self.cached("x")
        return sum(rx[window] * hit for window, hit in zip(self.windows(x), self.argmax_masks()))

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        return self.route(g_out), self.route(rg_out)


class AvgPool2d(_Pool2d):
    """y[n, c, r, s] = mean of the window; each input gets g / (kh·kw) from every window."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._check(x)
        windows = self.windows(x)
        y = x[next(windows)].copy()
        for window in windows:
            y += x[window]
        y *= 1.0 / (self.kernel_size[0] * self.kernel_size[1])
        self.cache["x_shape"], self.cache["y_shape"] = x.shape, y.shape
        return y

    def grad_input(self, g_out: np.ndarray) -> np.ndarray:
        check_grad_out(self, g_out, self.cached("y_shape"))
        return self.spread(g_out)

    def spread(self, g: np.ndarray, weight: float | None = None) -> np.ndarray:
        """Each window's input pixels get ``weight`` (default 1/(kh·kw)) times its entry of g
        (..., n, c, oh, ow): the transposed Jacobian."""
        area = self.kernel_size[0] * self.kernel_size[1]
        share = g * (1.0 / area if weight is None else weight)
        g_in = np.zeros(g.shape[:-4] + self.cached("x_shape"), g.dtype)
        for window in self.windows(g_in):
            g_in[window] += share
        return g_in

    def backward_diag(self, g_out, h_out, gauss_newton, need_input=True):
        """h spreads with the *squared* Jacobian entries, (1/(kh·kw))²."""
        area = self.kernel_size[0] * self.kernel_size[1]
        return (None if g_out is None else self.spread(g_out)), self.spread(h_out, 1.0 / area ** 2)

    def backward_ggn(self, s_out, need_input=True):
        return self.spread(s_out)

    def forward_r(self, rx, v):
        """The layer is linear: R{y} = avgpool(R{x})."""
        if rx is None:
            return None
        windows = self.windows(rx)
        ry = rx[next(windows)].copy()
        for window in windows:
            ry += rx[window]
        return ry * (1.0 / (self.kernel_size[0] * self.kernel_size[1]))

    def backward_r(self, g_out, rg_out, hv, need_input=True):
        return self.spread(g_out), self.spread(rg_out)


def max_pool_loop(x: np.ndarray, kernel: tuple, stride: tuple):
    """Readable reference: (y, argmax) with argmax the flat in-window index of the first max."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = conv_output_size(h, kh, sh, 0), conv_output_size(w, kw, sw, 0)
    y = np.zeros((n, c, oh, ow), x.dtype)
    argmax = np.zeros((n, c, oh, ow), np.int64)
    for b in range(n):
        for ch in range(c):
            for r in range(oh):
                for s in range(ow):
                    window = x[b, ch, r * sh:r * sh + kh, s * sw:s * sw + kw]
                    argmax[b, ch, r, s] = np.argmax(window)  # first maximum
                    y[b, ch, r, s] = window.max()
    return y, argmax


def max_pool_backward_loop(g_out: np.ndarray, argmax: np.ndarray, x_shape: tuple,
                           kernel: tuple, stride: tuple) -> np.ndarray:
    """Readable reference: send each output's gradient to its window's argmax."""
    (_, kw), (sh, sw) = kernel, stride
    g_in = np.zeros(x_shape, g_out.dtype)
    for b, ch, r, s in np.ndindex(*g_out.shape):
        i, j = divmod(int(argmax[b, ch, r, s]), kw)
        g_in[b, ch, r * sh + i, s * sw + j] += g_out[b, ch, r, s]
    return g_in
